"""Comparing two sets of read models table by table: what ``polku replay`` reports.

Only the tables a rebuild produces from the logs alone (:data:`VIEW_TABLES`) are compared;
the bookkeeping tables are each process's own. Rows are compared as normalised tuples, so a
SQLite and a PostgreSQL database holding the same facts compare equal, and differences are
named by primary key only: a report never prints a row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from services.tracking.schema import SCHEMA, VIEW_TABLES, check_layout
from shared.feeds import Key
from shared.sql import Cursor, Database

EXAMPLES = 5
"""Example keys shown per kind of difference."""

IGNORED = {"tr_applied_events": frozenset({"applied_at"})}
"""Columns that say when a database applied an event, not what the event was."""

Value = int | str | None
Row = tuple[Value, ...]


@dataclass(frozen=True)
class Layout:
    """A view table's compared columns, and the columns of its primary key."""

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def select(self) -> str:
        return f"SELECT {', '.join(self.columns)} FROM {self.table}"


def layouts() -> list[Layout]:
    """Every view table's layout, read from the schema's own statements."""
    found = []
    for statement in SCHEMA:
        match = re.match(r"\s*CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)\s*$", statement, re.S)
        if match is None or match.group(1) not in VIEW_TABLES:
            continue
        table = match.group(1)
        columns: list[str] = []
        key: tuple[str, ...] = ()
        for item in _top_level_items(match.group(2)):
            if item.upper().startswith("PRIMARY KEY"):
                key = tuple(name.strip() for name in item[item.index("(") + 1 : -1].split(","))
                continue
            name = item.split()[0]
            if name not in IGNORED.get(table, ()):
                columns.append(name)
            if "PRIMARY KEY" in item.upper():
                key = (name,)
        found.append(Layout(table, tuple(columns), key))
    return found


def _top_level_items(body: str) -> Iterator[str]:
    """The comma-separated items of a CREATE TABLE body, ignoring commas inside parentheses."""
    depth, start = 0, 0
    for index, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            yield " ".join(body[start:index].split())
            start = index + 1
    yield " ".join(body[start:].split())


def normalised(value: Any) -> Value:
    """Ints stay ints (PostgreSQL's BIGINT and SQLite's INTEGER alike), the rest is text."""
    if value is None or isinstance(value, int):
        return int(value) if isinstance(value, bool) else value
    return str(value)


def _rows(cur: Cursor, layout: Layout) -> dict[Row, Row]:
    """The table's rows by primary key; a table without one is keyed by the whole row."""
    positions = [layout.columns.index(name) for name in layout.key]
    cur.execute(layout.select)
    rows = {}
    for raw in cur.fetchall():
        row = tuple(normalised(value) for value in raw)
        rows[tuple(row[i] for i in positions) if positions else row] = row
    return rows


@dataclass
class TableDiff:
    """How one table differs: counts, and up to :data:`EXAMPLES` primary keys of each kind."""

    table: str
    live_rows: int
    rebuilt_rows: int
    missing_in_live: int = 0
    extra_in_live: int = 0
    changed: int = 0
    examples: dict[str, list[Row]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return not (self.missing_in_live or self.extra_in_live or self.changed)


def compare_table(live: Cursor, rebuilt: Cursor, layout: Layout) -> TableDiff:
    theirs, ours = _rows(live, layout), _rows(rebuilt, layout)
    missing = [key for key in ours if key not in theirs]
    extra = [key for key in theirs if key not in ours]
    changed = [key for key, row in ours.items() if key in theirs and theirs[key] != row]
    diff = TableDiff(layout.table, len(theirs), len(ours), len(missing), len(extra), len(changed))
    for kind, keys in (
        ("missing in live", missing),
        ("extra in live", extra),
        ("changed", changed),
    ):
        if keys and layout.key:  # a keyless table's key would be the whole row
            diff.examples[kind] = sorted(keys, key=str)[:EXAMPLES]
    return diff


def compare_tables(live: Cursor, rebuilt: Cursor) -> list[TableDiff]:
    """Every view table of ``live`` against the same table of ``rebuilt``."""
    return [compare_table(live, rebuilt, layout) for layout in layouts()]


def positions(cur: Cursor) -> dict[Key, int]:
    cur.execute("SELECT source, partition_no, position FROM tr_positions")
    return {(r[0], int(r[1])): int(r[2]) for r in cur.fetchall()}


@contextmanager
def consistent(database: Database) -> Iterator[Cursor]:
    """A read transaction that sees one moment throughout, on SQLite and PostgreSQL alike."""
    with database.transaction(write=False) as cur:
        if database.dialect == "postgresql":
            # READ COMMITTED would let a projector's commit land between two tables' reads.
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield cur


@dataclass
class Comparison:
    tables: list[TableDiff]
    live_positions: dict[Key, int]
    rebuilt_positions: dict[Key, int]

    @property
    def identical(self) -> bool:
        return all(diff.identical for diff in self.tables)

    @property
    def differing(self) -> list[TableDiff]:
        return [diff for diff in self.tables if not diff.identical]

    @property
    def positions_differ(self) -> bool:
        return self.live_positions != self.rebuilt_positions

    def lines(self) -> list[str]:
        """The report, for people: every table's counts, then example keys of each difference."""
        width = max(len(diff.table) for diff in self.tables)
        lines = [
            f"{'table':<{width}}  {'live':>8}  {'rebuilt':>8}  {'missing':>8}  {'extra':>8}"
            f"  {'changed':>8}"
        ]
        for d in self.tables:
            lines.append(
                f"{d.table:<{width}}  {d.live_rows:>8}  {d.rebuilt_rows:>8}"
                f"  {d.missing_in_live:>8}  {d.extra_in_live:>8}  {d.changed:>8}"
            )
        for d in self.differing:
            for kind, keys in d.examples.items():
                shown = ", ".join("/".join(str(part) for part in key) for key in keys)
                lines.append(f"{d.table} {kind}: {shown}")
        if self.positions_differ:
            lines.append(
                "note: the live positions differ from the rebuild's"
                f" ({_positions_text(self.live_positions, self.rebuilt_positions)}): events"
                " arrived meanwhile or the live projector lags, so differences may be lag"
            )
        if self.identical:
            rows = sum(d.rebuilt_rows for d in self.tables)
            lines.append(f"identical: all {len(self.tables)} view tables match ({rows} rows)")
        else:
            names = ", ".join(d.table for d in self.differing)
            lines.append(f"DIFFERENT: {len(self.differing)} of {len(self.tables)} tables ({names})")
        return lines


def _positions_text(live: dict[Key, int], rebuilt: dict[Key, int]) -> str:
    keys = sorted(set(live) | set(rebuilt))
    return ", ".join(
        f"{source}/{partition}: live {live.get((source, partition), '-')},"
        f" rebuilt {rebuilt.get((source, partition), '-')}"
        for source, partition in keys
        if live.get((source, partition)) != rebuilt.get((source, partition))
    )


def compare(live: Database, rebuilt: Database) -> Comparison:
    """The live read models against a rebuild, each read at one consistent moment."""
    with consistent(live) as theirs, consistent(rebuilt) as ours:
        check_layout(theirs)
        tables = compare_tables(theirs, ours)
        return Comparison(tables, positions(theirs), positions(ours))
