"""``polku replay`` reads in bounded batches: no fetch from a view table returns more rows than
the batch size, however large the tables, and the report is what it was.

The fixtures (the pilot, projected, and its rebuild) are :mod:`test_tracking_replay`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from services.runtime import Embedded
from services.tracking.comparison import EXAMPLES, Layout, compare, compare_table
from services.tracking.replay import Rebuild, swap
from services.tracking.schema import VIEW_TABLES
from shared.sql import Database
from tests.unit.test_tracking_replay import (  # noqa: F401 (fixtures)
    corrupt,
    data_dir,
    pilot_data,
    rebuild,
    runtime,
)

BATCH = 7
VIEW_SELECT = re.compile(r"\bFROM (" + "|".join(VIEW_TABLES) + r")\b")


class Counting:
    """A cursor that records how many rows each fetch from a view table returned."""

    def __init__(self, cursor: Any, fetched: list[int]) -> None:
        self._cursor = cursor
        self._fetched = fetched
        self._view = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._view = sql.lstrip().upper().startswith("SELECT") and bool(VIEW_SELECT.search(sql))
        return self._cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(sql, rows)

    def fetchone(self) -> Any:
        return self._count(self._cursor.fetchone(), one=True)

    def fetchall(self) -> list[Any]:
        return list(self._count(self._cursor.fetchall()))

    def fetchmany(self, size: int) -> list[Any]:
        return list(self._count(self._cursor.fetchmany(size)))

    def _count(self, rows: Any, one: bool = False) -> Any:
        if self._view:
            self._fetched.append(int(rows is not None) if one else len(rows))
        return rows

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


def counted(monkeypatch: pytest.MonkeyPatch, database: Database, fetched: list[int]) -> None:
    """Every transaction of ``database`` hands out a :class:`Counting` cursor."""
    original = database.transaction

    @contextmanager
    def transaction(*, write: bool = True) -> Iterator[Any]:
        with original(write=write) as cur:
            yield Counting(cur, fetched)

    monkeypatch.setattr(database, "transaction", transaction)


def test_compare_and_swap_fetch_at_most_a_batch_and_report_the_same(
    runtime: Embedded,  # noqa: F811 (the imported fixture)
    rebuild: Rebuild,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live, rebuilt = runtime.tracking.readmodels.database, rebuild.readmodels.database
    corrupt(runtime)
    whole = compare(live, rebuilt, batch=10**9)  # one fetch per table: the old way's reads

    fetched: list[int] = []
    counted(monkeypatch, live, fetched)
    counted(monkeypatch, rebuilt, fetched)
    streamed = compare(live, rebuilt, batch=BATCH)
    assert streamed.lines() == whole.lines()
    assert streamed.tables == whole.tables
    assert max(fetched) == BATCH  # full batches were read, and none larger
    rows = sum(d.live_rows + d.rebuilt_rows for d in whole.tables)
    assert sum(fetched) == rows > 20 * BATCH  # every row was read, in many fetches

    fetched.clear()
    swapped = swap(live, rebuild, insert_batch=BATCH)
    assert max(fetched) == BATCH
    assert sum(fetched) == sum(d.rebuilt_rows for d in whole.tables)
    assert sum(inserted for _, inserted in swapped.tables.values()) == sum(fetched)
    monkeypatch.undo()
    assert compare(live, rebuilt).identical


def test_a_streamed_report_names_the_first_keys_of_many_differences(
    runtime: Embedded,  # noqa: F811 (the imported fixture)
    rebuild: Rebuild,  # noqa: F811
) -> None:
    live, rebuilt = runtime.tracking.readmodels.database, rebuild.readmodels.database
    with live.transaction() as cur:
        cur.execute("SELECT session_id, person_id, recorded_from FROM tr_attendance")
        keys = [tuple(row) for row in cur.fetchall()]
        lost = keys[3 : 3 + 3 * EXAMPLES]  # not the first keys, in no particular order
        cur.executemany(
            "DELETE FROM tr_attendance WHERE session_id = ? AND person_id = ?"
            " AND recorded_from = ?",
            lost,
        )
        # A row the rebuild does not have, whose key sorts before every real one.
        cur.execute("SELECT * FROM tr_attendance LIMIT 1")
        names = [column[0] for column in cur.description]
        extra = dict(zip(names, cur.fetchone(), strict=True)) | {"session_id": "!"}
        marks = ", ".join("?" * len(extra))
        cur.execute(
            f"INSERT INTO tr_attendance ({', '.join(extra)}) VALUES ({marks})", [*extra.values()]
        )

    comparison = compare(live, rebuilt, batch=BATCH)
    (attendance,) = comparison.differing
    assert attendance.missing_in_live == len(lost)
    assert attendance.extra_in_live == 1
    assert attendance.examples["missing in live"] == sorted(lost, key=str)[:EXAMPLES]
    assert attendance.examples["extra in live"][0][0] == "!"
    assert attendance.live_rows == len(keys) - len(lost) + 1
    assert attendance.rebuilt_rows == len(keys)


class Rows:
    """A cursor over fixed rows, handed out ``size`` at a time."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.left = list(self.rows)

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        taken, self.left = self.left[:size], self.left[size:]
        return taken


def test_keys_out_of_order_stop_the_comparison_instead_of_misreporting() -> None:
    layout = Layout("tr_programmes", ("programme_id", "name", "recorded_from"), ("programme_id",))
    ordered = [("a", "x", "t"), ("b", "y", "t"), ("c", "z", "t")]
    same = compare_table(Rows(ordered), Rows(ordered), layout, batch=2)  # type: ignore[arg-type]
    assert same.identical and same.live_rows == same.rebuilt_rows == 3
    shuffled = Rows([ordered[0], ordered[2], ordered[1]])
    with pytest.raises(ValueError, match=r"tr_programmes: .* not return keys in order"):
        compare_table(Rows(ordered), shuffled, layout, batch=2)  # type: ignore[arg-type]
