"""Secret files are created once and whole: of many starting together, one makes the file,
and no reader ever sees it empty or half written."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from services.enrolment.keywrap import LocalKeyWrapper
from shared.secret_files import create_once


def race(path: Path, starters: int) -> tuple[list[bool], list[str]]:
    """``starters`` threads at once: each creates ``path`` with its own content, then reads it."""
    start = threading.Barrier(starters)
    made: list[bool] = []
    seen: list[str] = []

    def starter(n: int) -> None:
        start.wait()
        made.append(create_once(path, f"{n:064d}\n"))
        seen.append(path.read_text())

    threads = [threading.Thread(target=starter, args=(n,)) for n in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return made, seen


def test_many_at_once_make_one_whole_file_and_leave_no_candidates(tmp_path: Path) -> None:
    for round_ in range(20):
        path = tmp_path / f"round-{round_}" / "master.key"
        made, seen = race(path, 8)
        assert made.count(True) == 1
        assert len(set(seen)) == 1 and len(seen[0]) == 65  # the winner's, whole, for everyone
        assert os.listdir(path.parent) == ["master.key"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_master_keys_read_while_another_starts_are_whole(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    path = tmp_path / "keys" / "master.key"
    start = threading.Barrier(6)

    def starter() -> None:
        start.wait()
        try:
            LocalKeyWrapper.from_file(path, create=True)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=starter) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
