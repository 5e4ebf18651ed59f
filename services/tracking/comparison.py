"""Comparing two sets of read models table by table: what ``polku replay`` reports.

Only the tables a rebuild produces from the logs alone (:data:`VIEW_TABLES`) are compared;
the bookkeeping tables are each process's own. Rows are compared as normalised tuples, so a
SQLite and a PostgreSQL database holding the same facts compare equal, and differences are
named by primary key only: a report never prints a row.

Both tables are read in primary-key order, :data:`BATCH` rows a fetch, and merged as they come
(a merge join), so memory does not grow with the tables. Text keys are ordered by their bytes on
both databases (SQLite's ``BINARY``, PostgreSQL's ``"C"`` collation), which is also Python's
order of ``str``, so the two streams agree on which key comes first.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from services.tracking.schema import SCHEMA, VIEW_TABLES, check_layout
from shared.feeds import Key
from shared.sql import Cursor, Database, batches, dialect_of

BATCH = 1000
"""Rows per fetch when comparing or swapping a table: the most either holds of it at once."""

EXAMPLES = 5
"""Example keys shown per kind of difference."""

IGNORED: dict[str, frozenset[str]] = {}
"""Columns that say when a database applied an event, not what the event was (none now)."""

Value = int | str | None
Row = tuple[Value, ...]


@dataclass(frozen=True)
class Layout:
    """A view table's compared columns, and the columns of its primary key."""

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    numbers: frozenset[str] = frozenset()
    """Columns declared INTEGER or BIGINT: ordered as numbers, the others as bytes."""

    @property
    def select(self) -> str:
        return f"SELECT {', '.join(self.columns)} FROM {self.table}"

    def in_key_order(self, dialect: str, columns: tuple[str, ...] | None = None) -> str:
        """The select of ``columns`` (default: the compared ones) in primary-key order."""
        collate = ' COLLATE "C"' if dialect == "postgresql" else ""
        order = ", ".join(name if name in self.numbers else f"{name}{collate}" for name in self.key)
        return f"SELECT {', '.join(columns or self.columns)} FROM {self.table} ORDER BY {order}"


def layouts() -> list[Layout]:
    """Every view table's layout, read from the schema's own statements."""
    found = []
    for statement in SCHEMA:
        match = re.match(r"\s*CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)\s*$", statement, re.S)
        if match is None or match.group(1) not in VIEW_TABLES:
            continue
        table = match.group(1)
        columns: list[str] = []
        numbers: set[str] = set()
        key: tuple[str, ...] = ()
        for item in _top_level_items(match.group(2)):
            if item.upper().startswith("PRIMARY KEY"):
                key = tuple(name.strip() for name in item[item.index("(") + 1 : -1].split(","))
                continue
            name, kind = item.split()[:2]
            if kind.upper() in ("INTEGER", "BIGINT"):
                numbers.add(name)
            if name not in IGNORED.get(table, ()):
                columns.append(name)
            if "PRIMARY KEY" in item.upper():
                key = (name,)
        found.append(Layout(table, tuple(columns), key, frozenset(numbers)))
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


def _rows(cur: Cursor, layout: Layout, batch: int) -> Iterator[tuple[Row, Row]]:
    """The table's rows as (primary key, row), in key order, ``batch`` rows a fetch.

    The merge join is only right if the database's order is Python's: a key out of order
    stops the comparison rather than report rows as missing that are not.
    """
    positions = [layout.columns.index(name) for name in layout.key]
    last: Row | None = None
    for rows in batches(cur, layout.in_key_order(dialect_of(cur)), batch):
        for raw in rows:
            row = tuple(normalised(value) for value in raw)
            key = tuple(row[i] for i in positions)
            if last is not None and not last < key:
                raise ValueError(f"{layout.table}: the database did not return keys in order")
            last = key
            yield key, row


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


def compare_table(live: Cursor, rebuilt: Cursor, layout: Layout, batch: int = BATCH) -> TableDiff:
    """A merge join of the two tables in key order: one batch of each is held at a time."""
    diff = TableDiff(layout.table, 0, 0)
    examples: dict[str, list[tuple[str, Row]]] = {}

    def note(kind: str, key: Row) -> None:
        # The first EXAMPLES keys in the order of their text: a few kept, however many differ.
        kept = examples.setdefault(kind, [])
        bisect.insort(kept, (str(key), key))
        del kept[EXAMPLES:]

    theirs, ours = _rows(live, layout, batch), _rows(rebuilt, layout, batch)
    their, our = next(theirs, None), next(ours, None)
    while their is not None or our is not None:
        if their is not None and (our is None or their[0] < our[0]):
            diff.live_rows += 1
            diff.extra_in_live += 1
            note("extra in live", their[0])
            their = next(theirs, None)
        elif our is not None and (their is None or our[0] < their[0]):
            diff.rebuilt_rows += 1
            diff.missing_in_live += 1
            note("missing in live", our[0])
            our = next(ours, None)
        else:
            assert their is not None and our is not None
            diff.live_rows += 1
            diff.rebuilt_rows += 1
            if their[1] != our[1]:
                diff.changed += 1
                note("changed", our[0])
            their, our = next(theirs, None), next(ours, None)
    for kind in ("missing in live", "extra in live", "changed"):
        if kind in examples:
            diff.examples[kind] = [key for _, key in examples[kind]]
    return diff


def compare_tables(live: Cursor, rebuilt: Cursor, batch: int = BATCH) -> list[TableDiff]:
    """Every view table of ``live`` against the same table of ``rebuilt``."""
    return [compare_table(live, rebuilt, layout, batch) for layout in layouts()]


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


def compare(live: Database, rebuilt: Database, batch: int = BATCH) -> Comparison:
    """The live read models against a rebuild, each read at one consistent moment."""
    with consistent(live) as theirs, consistent(rebuilt) as ours:
        check_layout(theirs)
        tables = compare_tables(theirs, ours, batch)
        return Comparison(tables, positions(theirs), positions(ours))
