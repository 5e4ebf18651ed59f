"""The checkpoint file is read incrementally: each read parses only the whole lines appended
since the last, and reads from the start again when the file was replaced, shrank, or a
fresh read is asked for."""

from __future__ import annotations

import os
from pathlib import Path

from shared.audit.checkpoints import CheckpointFile, Signer


def test_each_read_parses_only_what_was_appended(tmp_path: Path) -> None:
    signer = Signer.from_file(tmp_path / "key")
    path = tmp_path / "checkpoints.jsonl"
    writer, reader = CheckpointFile(path), CheckpointFile(path)
    assert reader.read("a") == []
    for position in (1, 2, 3):
        writer.append(signer.sign("a", position, bytes(32)))
    writer.append(signer.sign("b", 1, bytes(32)))
    assert [c.position for c in reader.read("a")] == [1, 2, 3]
    assert reader.lines_read == 4

    writer.append(signer.sign("a", 4, bytes(32)))
    assert [c.position for c in reader.read("a")] == [1, 2, 3, 4]
    assert [c.log for c in reader.read()] == ["a", "a", "a", "b", "a"]
    assert reader.lines_read == 5  # the new line only, twice asked

    with path.open("a") as file:  # a line being written: not read until it is whole
        file.write('{"log": "a", "posi')
    assert len(reader.read("a")) == 4
    with path.open("a") as file:
        file.write('tion": 5}\n')  # malformed once whole: kept out, as before
    assert len(reader.read("a")) == 4 and reader.lines_read == 6

    assert len(reader.read("a", fresh=True)) == 4
    assert reader.lines_read == 12  # the whole file again


def test_a_replaced_or_shortened_file_is_read_from_its_start(tmp_path: Path) -> None:
    signer = Signer.from_file(tmp_path / "key")
    path = tmp_path / "checkpoints.jsonl"
    writer, reader = CheckpointFile(path), CheckpointFile(path)
    for position in (1, 2, 3):
        writer.append(signer.sign("a", position, bytes(32)))
    assert len(reader.read("a")) == 3

    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1]))  # shrank in place
    assert [c.position for c in reader.read("a")] == [1]

    replacement = tmp_path / "other.jsonl"
    replacement.write_text("".join(lines[1:]) + "".join(lines[1:]))
    os.replace(replacement, path)  # another file, longer than the one read
    assert [c.position for c in reader.read("a")] == [2, 3, 2, 3]

    path.unlink()
    assert reader.read("a") == []
