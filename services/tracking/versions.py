"""Writing versioned facts: how a projection handler records, changes and ends a fact.

The rules are the temporal model's (:mod:`services.tracking.temporal`, ``docs/time.md``): a
fact's row holds from the event that wrote it; a change closes it at the changing event's time
and adds the next version; an end closes it. Every handler writes facts only through
:func:`insert` (or :func:`record`), :func:`revise` and :func:`retire`, so every fact table keeps
one current row per key and the same events always give the same rows.

A projector batch hands the handlers a :class:`Batched` cursor: :func:`record` leaves its insert
pending there, and a run of the same insert (a session's attendance, a results import) goes to
the database in one ``executemany`` just before any other statement runs, so the statements
run in the same order as one by one, and with the same effect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from services.tracking.changes import SCOPED, scoped
from services.tracking.schema import FACT_KEYS, FACTS, REENTERED
from services.tracking.temporal import CURRENT, recorded_at, utc_text
from shared.sql import Cursor

__all__ = [
    "Batched",
    "Change",
    "Touched",
    "Written",
    "columns",
    "insert",
    "record",
    "recorded_at",
    "retire",
    "revise",
    "utc_text",
]


@cache
def columns(table: str) -> tuple[str, ...]:
    """A fact table's columns without the two recorded-time ones, in layout order."""
    return tuple(_declared(table))


@cache
def _declared(table: str) -> dict[str, tuple[str, Any]]:
    """Each column but the two recorded-time ones, in layout order: its declared type and the
    value an insert that leaves it out stores (its ``DEFAULT`` literal, else NULL)."""
    for statement in FACTS:
        found = re.match(r"\s*CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)\s*$", statement, re.S)
        if found and found.group(1) == table:
            declared: dict[str, tuple[str, Any]] = {}
            for item in _items(found.group(2)):
                name, kind = item.split()[:2]
                if name not in ("PRIMARY", "recorded_from", "recorded_to"):
                    default = re.search(r"DEFAULT (-?\d+)", item)
                    declared[name] = (kind.upper(), int(default.group(1)) if default else None)
            return declared
    raise KeyError(table)


@cache
def _blank(table: str) -> dict[str, Any]:
    """A fact table's row before any value is given: each column's default, in layout order."""
    return {name: default for name, (_kind, default) in _declared(table).items()}


def _items(body: str) -> Iterator[str]:
    depth, start = 0, 0
    for i, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            yield body[start:i].strip()
            start = i + 1
    yield body[start:].strip()


@dataclass(frozen=True)
class _Statements:
    """A fact table's writing statements, made once: handlers run them for every event."""

    names: tuple[str, ...]
    add_version: str
    close: str
    reopen: str
    current: str


@cache
def _statements(table: str) -> _Statements:
    names = columns(table)
    key = " AND ".join(f"{name} = ?" for name in FACT_KEYS[table])
    listed = ", ".join(names)
    return _Statements(
        names=names,
        add_version=f"INSERT INTO {table} ({listed}, recorded_from)"
        f" VALUES ({', '.join('?' * (len(names) + 1))})",
        # One statement both finds the current row and closes it: most changes are later
        # than the row they change, and this is the rebuild's most frequent write.
        close=f"UPDATE {table} SET recorded_to = ? WHERE {key} AND {CURRENT}"
        f" AND recorded_from < ? RETURNING {listed}",
        reopen=f"UPDATE {table} SET recorded_to = NULL WHERE {key} AND recorded_to = ?",
        current=f"SELECT {listed} FROM {table} WHERE {key} AND {CURRENT}",
    )


@cache
def _insert(table: str, names: tuple[str, ...]) -> str:
    # A re-entered fact conflicts on the partial unique index of current rows
    # (schema.CURRENT_ROWS); a fact created once only on its primary key, which saves every
    # other table an index to maintain.
    target = f" ({', '.join(FACT_KEYS[table])}) WHERE {CURRENT}" if table in REENTERED else ""
    return (
        f"INSERT INTO {table} ({', '.join(names)}, recorded_from)"
        f" VALUES ({', '.join('?' * (len(names) + 1))}) ON CONFLICT{target} DO NOTHING"
    )


@cache
def _held_insert(table: str) -> str:
    """A fact as :class:`Batched` holds it: every column, and when it ended. A fact created
    once may meet its own row again (a duplicate delivery): the key keeps it out. A re-entered
    fact is held only when :class:`Written` knows its key was never written, so a conflict
    there would be a fault, and it fails the batch rather than lose the row."""
    names = ", ".join(columns(table))
    conflict = "" if table in REENTERED else " ON CONFLICT DO NOTHING"
    return (
        f"INSERT INTO {table} ({names}, recorded_from, recorded_to)"
        f" VALUES ({', '.join('?' * (len(columns(table)) + 2))}){conflict}"
    )


class Written:
    """The keys of re-entered facts (:data:`~.schema.REENTERED`) written into read models that
    began empty, as a rebuild's do: a filter of fixed size (2 MiB, whatever the number of keys)
    that never forgets a key written and rarely (about 1% at a million keys) cannot rule out
    one that never was.

    A key it rules out has no row at all, so the first event of it (an invitation, a session's
    first mark for someone) is certainly an insert: :class:`Batched` holds that row like a fact
    created once instead of asking the database. Every write of a re-entered key through
    :func:`record`, :func:`insert` and the held rows adds it; a write rolled back leaves it in,
    which only costs the statement the filter saved."""

    BITS = 1 << 24
    _MASK = BITS - 1

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS >> 3)

    def _spots(self, table: str, key: Sequence[Any]) -> tuple[int, int]:
        # Key values as text, so a UUID and its text are the same key, as in the database.
        found = hash((table, *map(str, key)))
        return found & self._MASK, (found >> 32) & self._MASK

    def add(self, table: str, key: Sequence[Any]) -> None:
        for spot in self._spots(table, key):
            self._bits[spot >> 3] |= 1 << (spot & 7)

    def never(self, table: str, key: Sequence[Any]) -> bool:
        """Whether no row of ``key`` was ever written (False: maybe one was)."""
        bits = self._bits
        return any(not bits[spot >> 3] & (1 << (spot & 7)) for spot in self._spots(table, key))


_AS_STORED = {"TEXT": (str,), "INTEGER": (int,), "BIGINT": (int,)}
"""The Python types both databases give back for a column of each declared type."""


def _as_stored(table: str, row: Sequence[Any]) -> bool:
    """Whether each value reads back as it is: text in a TEXT column, a number (not a bool)
    in an integer one, or NULL. Only then does a held row stand in for the stored one."""
    for value, (kind, _default) in zip(row, _declared(table).values(), strict=False):
        if value is not None and (type(value) not in _AS_STORED.get(kind, ())):
            return False
    return True


class Batched:
    """A cursor that holds back blind inserts and runs each statement's with ``executemany``.

    Only :meth:`defer` holds a statement back: an insert whose outcome nothing reads (``ON
    CONFLICT DO NOTHING`` into one table). Held inserts are grouped by statement, so the
    interleaved inserts of a batch (a person, their placement, the next person, ...) are one
    ``executemany`` per table. The groups run in the order they were first held. Only inserts
    into the same table could interact (the first of the same key wins), so a second statement
    shape for a table already held runs what is held first, and each table's inserts keep their
    order. Anything else run through the cursor (or :meth:`flush`, which the projector calls
    before it writes the journal) first runs all that is held, so no statement sees the
    database without the ones deferred before it.

    A fact created once (not :data:`~.schema.REENTERED`) is held whole (:meth:`hold`), and a
    :func:`revise` of it before the flush changes the held row rather than flushing and
    asking the database: a person's attributes follow their registration, a batch later or
    in the same one. Such a fact has no other row under its key (its own aggregate created
    it, once), so the held row is the current one the database would have found.
    """

    def __init__(self, cur: Cursor, written: Written | None = None) -> None:
        self.cur = cur
        self.written = written
        """Set when the read models began empty (a rebuild): see :class:`Written`."""
        self._held: dict[str, list[Sequence[Any]]] = {}
        self._shape: dict[str, str] = {}
        """The statement held for each table."""
        self.touched: set[str] = set()
        """The fact tables written through this cursor, and the cohorts of those counted per
        cohort too (:data:`~.changes.SCOPED`): their change counters go up."""
        self.people: dict[str, set[str | None]] = {}
        """Per table of :data:`PERSON_TABLES` written, whose rows were (None: someone's)."""
        self._rows: dict[tuple[str, tuple[Any, ...]], list[Any] | None] = {}
        """The current row held for each fact held (:meth:`hold`), by table and key: its
        columns' values, ``recorded_from`` and ``recorded_to`` (None: more than one was
        recorded, so only the database can say which holds)."""

    def hold(self, table: str, values: Mapping[str, Any], at: str, replacing: bool = False) -> None:
        """Defers the insert of a fact created once, or of a re-entered fact's first row when
        :meth:`fresh`, from ``at``, with every column (``replacing``: as the next version of the
        row held for its key)."""
        row = {**_blank(table), **values}
        params = [*row.values(), at, None]
        self.defer(_held_insert(table), params, table)
        key = (table, tuple(row[name] for name in FACT_KEYS[table]))
        self._rows[key] = params if replacing or key not in self._rows else None
        self.wrote(table, key[1])

    def fresh(self, table: str, key: Sequence[Any]) -> bool:
        """Whether a re-entered fact's ``key`` certainly has no row yet (see :class:`Written`)."""
        return self.written is not None and table in REENTERED and self.written.never(table, key)

    def wrote(self, table: str, key: Sequence[Any]) -> None:
        if self.written is not None and table in REENTERED:
            self.written.add(table, key)

    def held(self, table: str, key: Sequence[Any]) -> list[Any] | None:
        """The current row held for ``key`` (see :meth:`hold`), if it reads back as it is."""
        params = self._rows.get((table, tuple(key)))
        if params is None or not _as_stored(table, params):
            return None
        return params

    def defer(self, sql: str, params: Sequence[Any], table: str) -> None:
        held = self._shape.get(table)
        if held is not None and held != sql:
            self.flush()
        self._shape[table] = sql
        self._held.setdefault(sql, []).append(params)

    def flush(self) -> None:
        for sql, rows in self._held.items():
            self.cur.executemany(sql, rows)
        self._held.clear()
        self._shape.clear()
        self._rows.clear()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.flush()
        return self.cur.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        self.flush()
        return self.cur.executemany(sql, rows)

    def fetchone(self) -> Any:
        return self.cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self.cur.fetchall()

    @property
    def rowcount(self) -> int:
        return self.cur.rowcount


PERSON_TABLES = frozenset(["tr_people", "tr_placements", "tr_moves", "tr_participation"])
"""Tables whose writes note the person they are about (:mod:`~.changes` logs them), so that a
kept mobility computation can be brought up to date for those people alone."""


class Touched(set[str]):
    """The fact tables a projector transaction wrote, with whose rows of the person tables."""

    def __init__(self) -> None:
        super().__init__()
        self.people: dict[str, set[str | None]] = {}

    def merge(self, batched: Batched) -> None:
        self |= batched.touched
        for table, people in batched.people.items():
            self.people.setdefault(table, set()).update(people)


def _touch(cur: Cursor, table: str) -> None:
    if isinstance(cur, Batched):
        cur.touched.add(table)


def _note(cur: Cursor, table: str, row: Mapping[str, Any]) -> None:
    """Notes whose row of ``table`` a write changes (None when the row names no one: then
    anyone's). A revision notes the row it found: a write that finds none changes nothing."""
    if isinstance(cur, Batched) and table in PERSON_TABLES:
        person = row.get("person_id")
        cur.people.setdefault(table, set()).add(None if person is None else str(person))


def _touch_scope(cur: Cursor, table: str, row: Mapping[str, Any] | None) -> None:
    """Notes the cohort of a row written to a table counted per cohort."""
    column = SCOPED.get(table)
    if column is not None and row is not None and isinstance(cur, Batched) and row.get(column):
        cur.touched.add(scoped(table, str(row[column])))


def _key_row(table: str, key: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(FACT_KEYS[table], key, strict=True))


def record(cur: Cursor, table: str, values: Mapping[str, Any], at: str) -> None:
    """:func:`insert` when nothing reads whether the row was new: a :class:`Batched` cursor
    defers it, so a run of them is one ``executemany``."""
    if isinstance(cur, Batched):
        cur.touched.add(table)
        _note(cur, table, values)
        _touch_scope(cur, table, values)
        if table in REENTERED:
            cur.wrote(table, _key_of(table, values))
            cur.defer(_insert(table, tuple(values)), (*values.values(), at), table)
        else:
            cur.hold(table, values, at)
    else:
        insert(cur, table, values, at)


def insert(cur: Cursor, table: str, values: Mapping[str, Any], at: str) -> bool:
    """Records a new fact from ``at``, unless its key already holds one (then: False).

    For a fact created once (not in ``schema.REENTERED``), only a row of the same key and
    moment counts as held: its aggregate cannot create it twice.
    """
    _touch(cur, table)
    _note(cur, table, values)
    _touch_scope(cur, table, values)
    if isinstance(cur, Batched):
        cur.wrote(table, _key_of(table, values))
    cur.execute(_insert(table, tuple(values)), (*values.values(), at))
    return bool(cur.rowcount)


def _key_of(table: str, values: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(values[name] for name in FACT_KEYS[table])


Change = Callable[[dict[str, Any]], Mapping[str, Any]]
"""Given the current row (by column), the columns that change and their new values."""


def revise(
    cur: Cursor,
    table: str,
    key: Sequence[Any],
    change: Change,
    at: str,
    otherwise: Mapping[str, Any] | None = None,
) -> None:
    """Changes the current fact under ``key`` from ``at``: its row closes, a new one follows.

    With no current fact, ``otherwise`` (the whole row) is recorded if given; else nothing
    happens, as an update of a missing row does nothing. A change that changes nothing adds no
    version. A row recorded at ``at`` or later (an event of the same moment, or of a source
    whose events arrived out of their time order) is changed in place.
    """
    _touch(cur, table)
    _touch_scope(cur, table, _key_row(table, key))
    if isinstance(cur, Batched):
        held = cur.held(table, key)
        if held is not None:
            _revise_held(cur, table, held, change, at)
            return
        if (
            otherwise is not None
            and cur.fresh(table, key)  # certainly new: held, not asked
            and _key_of(table, otherwise) == tuple(key)
        ):
            _note(cur, table, otherwise)  # as insert() would (the table is touched above)
            _touch_scope(cur, table, otherwise)
            cur.hold(table, otherwise, at)  # which notes the key as written
            return
    # A fact that may be new (``otherwise``) is usually new: one insert settles it.
    if otherwise is not None and insert(cur, table, otherwise, at):
        return
    sql = _statements(table)
    cur.execute(sql.close, (at, *key, at))
    row = cur.fetchone()
    if row is not None:
        old = dict(zip(sql.names, row, strict=True))
        _note(cur, table, old)
        changes = change(old)
        _touch_scope(cur, table, old)
        _touch_scope(cur, table, changes)
        if all(old[name] == value for name, value in changes.items()):
            cur.execute(sql.reopen, (*key, at))
            return
        cur.execute(sql.add_version, (*{**old, **changes}.values(), at))
        return
    cur.execute(sql.current, tuple(key))
    row = cur.fetchone()
    if row is None:
        return
    old = dict(zip(sql.names, row, strict=True))
    _note(cur, table, old)
    changes = {name: value for name, value in change(old).items() if old[name] != value}
    _touch_scope(cur, table, old)
    _touch_scope(cur, table, changes)
    if changes:
        sets = ", ".join(f"{name} = ?" for name in changes)
        where = sql.current.split(" WHERE ", 1)[1]
        cur.execute(f"UPDATE {table} SET {sets} WHERE {where}", (*changes.values(), *key))


def _revise_held(cur: Batched, table: str, held: list[Any], change: Change, at: str) -> None:
    """:func:`revise` of a row :class:`Batched` holds: the same outcome as the statements,
    without running them (the held row is closed and the next version held after it, or it
    is changed in place)."""
    names = columns(table)
    old = dict(zip(names, held, strict=False))
    _note(cur, table, old)
    changes = change(old)
    _touch_scope(cur, table, old)
    if held[-2] < at:
        _touch_scope(cur, table, changes)
        if all(old[name] == value for name, value in changes.items()):
            return
        held[-1] = at
        cur.hold(table, {**old, **changes}, at, replacing=True)
        return
    changed = {name: value for name, value in changes.items() if old[name] != value}
    _touch_scope(cur, table, changed)
    for name, value in changed.items():
        held[names.index(name)] = value


def retire(cur: Cursor, table: str, key: Sequence[Any], at: str) -> None:
    """Ends the current fact under ``key`` at ``at`` (one recorded at ``at`` or later goes)."""
    _touch(cur, table)
    _note(cur, table, dict(zip(FACT_KEYS[table], key, strict=True)))
    _touch_scope(cur, table, _key_row(table, key))
    where = _statements(table).current.split(" WHERE ", 1)[1]
    cur.execute(f"DELETE FROM {table} WHERE {where} AND recorded_from >= ?", (*key, at))
    cur.execute(f"UPDATE {table} SET recorded_to = ? WHERE {where}", (at, *key))
