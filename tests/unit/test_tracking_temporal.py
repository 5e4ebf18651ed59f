"""The temporal module alone: how facts get versions, and how a question picks its rows."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.tracking.schema import SCHEMA
from services.tracking.temporal import Timeframe, utc_text
from services.tracking.versions import insert, retire, revise
from shared.sql import Cursor

T1, T2, T3 = (utc_text(dt.datetime(2024, 3, day, 9, tzinfo=dt.UTC)) for day in (1, 2, 3))
SURVEY = {"survey_id": "s", "instrument_id": "i", "cohort_id": "c", "issued": 10}
"""A re-entered fact (its tokens are issued again and again): schema.REENTERED."""


@pytest.fixture
def cur() -> Iterator[Cursor]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in SCHEMA:
        conn.execute(statement)
    yield conn.cursor()
    conn.close()


def rows(cur: Cursor) -> list[tuple[int, str, str | None]]:
    cur.execute(
        "SELECT issued, recorded_from, recorded_to FROM tr_reaction_surveys ORDER BY recorded_from"
    )
    return [tuple(row) for row in cur.fetchall()]


def issued(cur: Cursor, frame: Timeframe) -> list[int]:
    view = frame.over(cur)
    view.execute("SELECT s.issued FROM tr_reaction_surveys s WHERE s.cohort_id = ?", ("c",))
    return [row[0] for row in view.fetchall()]


def test_a_change_closes_the_row_and_inserts_the_next_version(cur: Cursor) -> None:
    assert insert(cur, "tr_reaction_surveys", SURVEY, T1)
    assert not insert(cur, "tr_reaction_surveys", {**SURVEY, "issued": 3}, T2)  # one current
    revise(cur, "tr_reaction_surveys", ("s",), lambda old: {"issued": old["issued"] + 5}, T2)
    revise(cur, "tr_reaction_surveys", ("s",), lambda _: {"issued": 15}, T3)  # changes nothing
    assert rows(cur) == [(10, T1, T2), (15, T2, None)]
    assert issued(cur, Timeframe()) == [15]
    assert issued(cur, Timeframe(T1)) == issued(cur, Timeframe(utc_text(
        dt.datetime.fromisoformat(T2) - dt.timedelta(microseconds=1)))) == [10]  # fmt: skip
    assert issued(cur, Timeframe(T2)) == [15]
    before = dt.datetime.fromisoformat(T1) - dt.timedelta(days=1)
    assert issued(cur, Timeframe.of(before)) == []


def test_a_fact_created_once_keeps_out_only_the_same_delivery(cur: Cursor) -> None:
    group = {"group_id": "g", "cohort_id": "c", "name": "Pilots"}
    assert insert(cur, "tr_groups", group, T1)
    assert not insert(cur, "tr_groups", group, T1)


def test_a_change_of_the_same_moment_is_made_in_place(cur: Cursor) -> None:
    insert(cur, "tr_reaction_surveys", SURVEY, T1)
    revise(cur, "tr_reaction_surveys", ("s",), lambda _: {"issued": 12}, T1)
    assert rows(cur) == [(12, T1, None)]


def test_a_missing_fact_is_recorded_only_when_told_how(cur: Cursor) -> None:
    revise(cur, "tr_reaction_surveys", ("s",), lambda _: {"issued": 1}, T1)
    assert rows(cur) == []
    revise(cur, "tr_reaction_surveys", ("s",), lambda _: {"issued": 1}, T1, otherwise=SURVEY)
    assert rows(cur) == [(10, T1, None)]


def test_a_retired_fact_is_gone_from_then_on_and_may_come_back(cur: Cursor) -> None:
    insert(cur, "tr_reaction_surveys", SURVEY, T1)
    retire(cur, "tr_reaction_surveys", ("s",), T2)
    assert issued(cur, Timeframe()) == [] and issued(cur, Timeframe(T1)) == [10]
    insert(cur, "tr_reaction_surveys", SURVEY, T3)
    assert rows(cur) == [(10, T1, T2), (10, T3, None)]
    retire(
        cur, "tr_reaction_surveys", ("s",), T3
    )  # at the moment it was recorded: no empty interval
    assert rows(cur) == [(10, T1, T2)]


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


@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-3, minutes=-30))]),
    ),
    st.booleans(),
)
def test_a_moment_is_written_in_one_sortable_width(moment: dt.datetime, whole: bool) -> None:
    """What ``isoformat(timespec="microseconds")`` gives in UTC: a zero fraction written out."""
    if whole:
        moment = moment.replace(microsecond=0)
    expected = moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
    assert utc_text.__wrapped__(moment) == expected
    assert len(expected) == 32
