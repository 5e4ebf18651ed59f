"""The ``on`` predicates: only a real day reaches the SQL, and every dated table is filtered."""

from __future__ import annotations

import sqlite3

import pytest

from services.tracking.effective import COLUMNS, bound
from services.tracking.schema import FACT_KEYS, SCHEMA
from services.tracking.temporal import EFFECTIVE, Timeframe


@pytest.mark.parametrize("day", ["2022-06-30'; DROP TABLE tr_people; --", "30.6.2022", ""])
def test_only_an_iso_day_is_accepted(day: str) -> None:
    with pytest.raises(ValueError, match="not a day"):
        Timeframe(None, day)


def test_the_bound_is_the_next_day_across_months_and_years() -> None:
    assert bound("2022-06-30") == "2022-07-01"
    assert bound("2020-02-28") == "2020-02-29"
    assert bound("2021-12-31") == "2022-01-01"


def test_every_dated_table_is_filtered_or_masked_by_the_day() -> None:
    frame = Timeframe(None, "2022-06-30")
    for table in EFFECTIVE:
        source = frame.source(table)
        marks = ("2022-07-01", "2022-06-30", "year <= 2022")
        assert source is not None and any(mark in source for mark in marks), table
    assert COLUMNS.keys() == FACT_KEYS.keys()


def test_each_on_query_runs_and_keeps_every_column() -> None:
    conn = sqlite3.connect(":memory:")
    for statement in SCHEMA:
        conn.execute(statement)
    frame = Timeframe("2023-01-01T00:00:00.000000+00:00", "2022-06-30")
    for table in FACT_KEYS:
        cursor = conn.execute(frame.rewrite(f"SELECT * FROM {table}"))
        assert [d[0] for d in cursor.description] == list(COLUMNS[table]), table
