"""The row hash as docs/audit.md defines it, spelt out field by field, against the fast
implementation (one struct for a 32-digit id, topics kept with their length), and the reader
that fetches verification's next batch while the current one is checked."""

from __future__ import annotations

import hashlib
import threading
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.audit.chain import row_hash
from shared.audit.verify import prefetched


def spelled(oid: uuid.UUID | str, version: int, topic: str, state: bytes) -> bytes:
    o = oid.hex.encode() if isinstance(oid, uuid.UUID) else oid.encode()
    name = topic.encode()
    return hashlib.sha256(
        len(o).to_bytes(8, "big")
        + o
        + (8).to_bytes(8, "big")
        + version.to_bytes(8, "big", signed=True)
        + len(name).to_bytes(8, "big")
        + name
        + len(state).to_bytes(8, "big")
        + state
    ).digest()


ids = st.one_of(st.uuids(), st.uuids().map(lambda u: u.hex), st.text(max_size=40))


@given(ids, st.integers(-(2**63), 2**63 - 1), st.text(max_size=80), st.binary(max_size=200))
def test_the_row_hash_is_the_documented_one(
    oid: uuid.UUID | str, version: int, topic: str, state: bytes
) -> None:
    assert row_hash(oid, version, topic, state) == spelled(oid, version, topic, state)


def rows_after(after: int, limit: int, last: int = 23) -> list[tuple[int]]:
    return [(p,) for p in range(after + 1, min(after + limit, last) + 1)]


def test_prefetched_batches_follow_one_another_to_the_end() -> None:
    batches = list(prefetched(rows_after, 0, 5))
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert [r[0] for b in batches for r in b] == list(range(1, 24))


def test_closing_early_stops_the_reader_and_errors_reach_the_caller() -> None:
    reads: list[int] = []

    def counted(after: int, limit: int) -> list[tuple[int]]:
        reads.append(after)
        return rows_after(after, limit, last=10_000)

    batches = prefetched(counted, 0, 5)
    assert next(batches)[0] == (1,)
    batches.close()
    assert not [t for t in threading.enumerate() if t.name == "polku-verify-read"]
    assert len(reads) <= 3  # the one taken, the one ready, at most one being offered

    def failing(after: int, limit: int) -> list[tuple[int]]:
        if after:
            raise OSError("the connection dropped")
        return rows_after(after, limit)

    with pytest.raises(OSError, match="dropped"):
        list(prefetched(failing, 0, 5))
