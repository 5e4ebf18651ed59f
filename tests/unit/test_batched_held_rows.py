"""A revise of a fact the batch still holds changes the held row: the same rows as the
statements give, without running them (services/tracking/versions.py, ``Batched``)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.tracking.schema import SCHEMA
from services.tracking.versions import Batched, Written, record, retire, revise

Writes = Callable[[Any], None]


def empty_read_models() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    return conn


def rows(write: Writes, batched: bool) -> list[tuple[Any, ...]]:
    conn = empty_read_models()
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
    conn = empty_read_models()
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


# Re-entered facts (a session's marks) in read models that began empty: the first mark of a
# key that ``Written`` rules out is held, not asked of the database. Any sequence of marks,
# ends and flushes gives the rows the statements give.

KEYS = [("s1", "p"), ("s1", "q"), ("s2", "p")]
MOMENTS = [T1, T2, T3]


def mark(cur: Any, key: tuple[str, str], at: str, status: str) -> None:
    first = {"session_id": key[0], "person_id": key[1], "cohort_id": "c", "status": status}
    revise(
        cur,
        "tr_attendance",
        key,
        lambda old: {"status": status, "corrections": int(old["corrections"]) + 1},
        at,
        otherwise={**first, "corrections": 0},
    )


def attendance(steps: list[tuple[str, int, int, str]], written: Written | None) -> list[Any]:
    conn = empty_read_models()
    plain: Any = conn.cursor()
    cur = Batched(plain, written) if written is not None else plain
    try:
        for step, key, moment, status in steps:
            if step == "mark":
                mark(cur, KEYS[key], MOMENTS[moment], status)
            elif step == "end":
                retire(cur, "tr_attendance", KEYS[key], MOMENTS[moment])
            elif written is not None:
                cur.flush()
        if written is not None:
            cur.flush()
    except sqlite3.IntegrityError as error:  # a mark at the very moment of an ended row
        conn.close()
        return [str(error)]  # the projector then applies the batch event by event
    found = conn.execute(
        "SELECT * FROM tr_attendance ORDER BY session_id, person_id, recorded_from"
    ).fetchall()
    conn.close()
    return found


STEPS = st.lists(
    st.tuples(
        st.sampled_from(["mark", "mark", "mark", "end", "flush"]),
        st.integers(0, len(KEYS) - 1),
        st.integers(0, len(MOMENTS) - 1),
        st.sampled_from(["present", "absent"]),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_a_first_mark_held_gives_the_rows_the_statements_give(
    steps: list[tuple[str, int, int, str]],
) -> None:
    assert attendance(steps, Written()) == attendance(steps, None)


def test_a_first_mark_is_held_and_a_later_one_asks_the_database() -> None:
    conn = empty_read_models()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    cur = Batched(conn.cursor(), Written())
    mark(cur, KEYS[0], T1, "present")
    mark(cur, KEYS[0], T2, "absent")  # the held row is closed, the next version held
    assert statements == []
    cur.flush()
    assert [s.split(" (")[0] for s in statements] == ["INSERT INTO tr_attendance"] * 2
    statements.clear()
    mark(cur, KEYS[0], T3, "present")  # written before: only the database knows its row now
    assert statements and statements[0].startswith("INSERT INTO tr_attendance")
    assert "ON CONFLICT" in statements[0]
    conn.close()


def test_written_never_forgets_a_key_and_reads_ids_as_text() -> None:
    written = Written()
    ids = [str(uuid.UUID(int=i)) for i in range(5000)]
    assert all(written.never("tr_attendance", (i, "p")) for i in ids)
    for i in ids[:2500]:
        written.add("tr_attendance", (uuid.UUID(i), "p"))
    assert not any(written.never("tr_attendance", (i, "p")) for i in ids[:2500])
    ruled_out = sum(written.never("tr_attendance", (i, "p")) for i in ids[2500:])
    assert ruled_out > 2400  # rarely unsure about a key never written
    assert written.never("tr_participation", (ids[0], "p"))  # per table


def test_a_first_row_under_another_key_than_the_one_revised_is_left_to_the_database() -> None:
    """A handler's ``otherwise`` names its own key; one that named another would be a fault,
    and it must give what the statements give (not a held row the filter knows nothing of)."""

    def odd(cur: Any) -> None:
        first = {"session_id": "s1", "person_id": "q", "cohort_id": "c", "status": "present"}
        for at in (T1, T2):
            revise(cur, "tr_attendance", ("s1", "p"), lambda _: {"status": "absent"}, at, first)
        mark(cur, ("s1", "q"), T3, "absent")

    def run(written: Written | None) -> list[Any]:
        conn = empty_read_models()
        cur: Any = Batched(conn.cursor(), written) if written else conn.cursor()
        odd(cur)
        if written:
            cur.flush()
        found = conn.execute("SELECT * FROM tr_attendance ORDER BY 1, 2, 7").fetchall()
        conn.close()
        return found

    assert run(Written()) == run(None)
