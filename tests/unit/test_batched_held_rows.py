"""A revise of a fact the batch still holds changes the held row: the same rows as the
statements give, without running them (services/tracking/versions.py, ``Batched``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from services.tracking.schema import SCHEMA
from services.tracking.versions import Batched, record, revise

Writes = Callable[[Any], None]


def rows(write: Writes, batched: bool) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    cur: Any = conn.cursor()
    held = Batched(cur) if batched else cur
    write(held)
    if batched:
        held.flush()
    found = conn.execute("SELECT * FROM tr_people ORDER BY person_id, recorded_from").fetchall()
    conn.close()
    return found


def person(cur: Any, person_id: str, at: str, **values: Any) -> None:
    row = {"person_id": person_id, "organisation": "o", "department": "d", "unit": "u"}
    record(cur, "tr_people", {**row, "registered_at": at, **values}, at)


def attributes(cur: Any, person_id: Any, at: str, role: Any) -> None:
    revise(cur, "tr_people", (person_id,), lambda _old: {"role": role}, at)


T1, T2, T3 = "2020-01-01T00:00:01", "2020-01-01T00:00:02", "2020-01-01T00:00:03"

CASES: dict[str, Writes] = {
    "a later change closes the held row": lambda c: (
        person(c, "p", T1),
        attributes(c, "p", T2, "a"),
    ),
    "two later changes": lambda c: (
        person(c, "p", T1),
        attributes(c, "p", T2, "a"),
        attributes(c, "p", T3, "b"),
    ),
    "a change of the same moment is made in place": lambda c: (
        person(c, "p", T2),
        attributes(c, "p", T2, "a"),
    ),
    "an earlier change is made in place": lambda c: (
        person(c, "p", T2),
        attributes(c, "p", T1, "a"),
    ),
    "a change that changes nothing adds no version": lambda c: (
        person(c, "p", T1, role="a"),
        attributes(c, "p", T2, "a"),
    ),
    "a key recorded twice is left to the database": lambda c: (
        person(c, "p", T1),
        person(c, "p", T2),
        attributes(c, "p", T3, "a"),
    ),
    "a key recorded twice at one moment keeps the first": lambda c: (
        person(c, "p", T1, role="first"),
        person(c, "p", T1, role="second"),
        attributes(c, "p", T2, "a"),
    ),
    "a value that reads back otherwise is left to the database": lambda c: (
        person(c, "p", T1, role=7),  # TEXT affinity: the database gives back "7"
        attributes(c, "p", T2, "7"),
    ),
    "someone else's key is not touched": lambda c: (
        person(c, "p", T1),
        person(c, "q", T1),
        attributes(c, "q", T2, "a"),
    ),
    "an unknown key changes nothing": lambda c: (person(c, "p", T1), attributes(c, "x", T2, "a")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_revising_a_held_row_gives_the_rows_the_statements_give(case: str) -> None:
    assert rows(CASES[case], batched=True) == rows(CASES[case], batched=False)


def test_the_held_row_is_used_without_a_statement() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    cur = Batched(conn.cursor())
    person(cur, "p", T1)
    attributes(cur, "p", T2, "a")
    assert statements == []  # nothing ran: the change was made to what is held
    cur.flush()
    # One executemany: a row per version (the first closed where the second begins).
    assert [s.split(" (")[0] for s in statements] == ["INSERT INTO tr_people"] * 2
    conn.close()
