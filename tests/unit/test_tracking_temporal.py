"""The temporal module alone: how facts get versions, and how a question picks its rows."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator

import pytest

from services.tracking.schema import SCHEMA
from services.tracking.temporal import Timeframe, insert, retire, revise, utc_text
from shared.sql import Cursor

T1, T2, T3 = (utc_text(dt.datetime(2024, 3, day, 9, tzinfo=dt.UTC)) for day in (1, 2, 3))
GROUP = {"group_id": "g", "cohort_id": "c", "name": "Pilots"}


@pytest.fixture
def cur() -> Iterator[Cursor]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    yield conn.cursor()
    conn.close()


def rows(cur: Cursor) -> list[tuple[str, str, str | None]]:
    cur.execute("SELECT name, recorded_from, recorded_to FROM tr_groups ORDER BY recorded_from")
    return [tuple(row) for row in cur.fetchall()]


def names(cur: Cursor, frame: Timeframe) -> list[str]:
    view = frame.over(cur)
    view.execute("SELECT g.name FROM tr_groups g WHERE g.cohort_id = ?", ("c",))
    return [row[0] for row in view.fetchall()]


def test_a_change_closes_the_row_and_inserts_the_next_version(cur: Cursor) -> None:
    assert insert(cur, "tr_groups", GROUP, T1)
    assert not insert(cur, "tr_groups", {**GROUP, "name": "again"}, T2)  # one current per key
    revise(cur, "tr_groups", ("g",), lambda old: {"name": old["name"] + "!"}, T2)
    revise(cur, "tr_groups", ("g",), lambda _: {"name": "Pilots!"}, T3)  # changes nothing
    assert rows(cur) == [("Pilots", T1, T2), ("Pilots!", T2, None)]
    assert names(cur, Timeframe()) == ["Pilots!"]
    assert names(cur, Timeframe(T1)) == names(cur, Timeframe(utc_text(
        dt.datetime.fromisoformat(T2) - dt.timedelta(microseconds=1)))) == ["Pilots"]  # fmt: skip
    assert names(cur, Timeframe(T2)) == ["Pilots!"]
    before = dt.datetime.fromisoformat(T1) - dt.timedelta(days=1)
    assert names(cur, Timeframe.of(before)) == []


def test_a_change_of_the_same_moment_is_made_in_place(cur: Cursor) -> None:
    insert(cur, "tr_groups", GROUP, T1)
    revise(cur, "tr_groups", ("g",), lambda _: {"name": "Renamed"}, T1)
    assert rows(cur) == [("Renamed", T1, None)]


def test_a_missing_fact_is_recorded_only_when_told_how(cur: Cursor) -> None:
    revise(cur, "tr_groups", ("g",), lambda _: {"name": "x"}, T1)
    assert rows(cur) == []
    revise(cur, "tr_groups", ("g",), lambda _: {"name": "x"}, T1, otherwise=GROUP)
    assert rows(cur) == [("Pilots", T1, None)]


def test_a_retired_fact_is_gone_from_then_on_and_may_come_back(cur: Cursor) -> None:
    insert(cur, "tr_groups", GROUP, T1)
    retire(cur, "tr_groups", ("g",), T2)
    assert names(cur, Timeframe()) == [] and names(cur, Timeframe(T1)) == ["Pilots"]
    insert(cur, "tr_groups", GROUP, T3)
    assert rows(cur) == [("Pilots", T1, T2), ("Pilots", T3, None)]
    retire(cur, "tr_groups", ("g",), T3)  # at the moment it was recorded: no empty interval
    assert rows(cur) == [("Pilots", T1, T2)]


def test_every_fact_table_a_query_names_is_filtered_and_nothing_else() -> None:
    frame = Timeframe(T1)
    sql = frame.rewrite(
        "SELECT s.x, tr_people.y FROM tr_sessions s JOIN tr_people ON 1 = 1"
        " LEFT JOIN tr_releases r ON 1 = 1 JOIN tr_applied_events a ON 1 = 1"
        " WHERE s.cohort_id IN (SELECT cohort_id FROM tr_cohorts WHERE name = ?)"
    )
    assert sql.count("recorded_to IS NULL OR recorded_to >") == 3
    assert ") s JOIN" in sql and ") AS tr_people ON" in sql and ") AS tr_cohorts WHERE" in sql
    assert "JOIN tr_releases r" in sql  # bookkeeping is not temporal
    assert f"tr_applied_events WHERE time <= '{T1}') a" in sql
    live = Timeframe().rewrite("SELECT 1 FROM tr_sessions WHERE cohort_id = ?")
    assert live == (
        "SELECT 1 FROM (SELECT * FROM tr_sessions WHERE recorded_to IS NULL) AS tr_sessions"
        " WHERE cohort_id = ?"
    )
    assert Timeframe().rewrite("DELETE FROM tr_sessions") == "DELETE FROM tr_sessions"


@pytest.mark.parametrize("moment", ["2024-03-01", "2024-03-01T09:00:00+00:00", "x' OR '1'='1"])
def test_only_a_moment_in_the_recorded_form_reaches_the_sql(moment: str) -> None:
    with pytest.raises(ValueError, match="not a recorded moment"):
        Timeframe(moment)
