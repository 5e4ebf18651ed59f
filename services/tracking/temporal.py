"""The temporal read model: how tracking's fact rows carry time, and how a question picks them.

**Recorded time** (transaction time, ``as_of=``). Every fact row carries the interval in which
tracking held it: ``recorded_from`` (inclusive) to ``recorded_to`` (exclusive; NULL while it
still holds). Both come from the envelope time of the event that wrote the row, never from the
clock of the projector that applied it, so a rebuild from the logs gives identical tables. A
change to a fact closes its row's interval at the event's time and inserts the new version from
then on; nothing is updated in place, except a row written by an event of the very same moment,
whose interval would otherwise be empty. The journal (``tr_applied_events``) is history by
nature: an event counts from its ``time``.

**Effective time** (valid time, ``on=``): the dates the facts themselves carry, listed per
table in :data:`EFFECTIVE`. ``on`` D asks for the world at the end of day D: a fact dated after
D is left out, a stage or an end dated after D is not reached yet, and a fact whose only date is
the day it was recorded (a reaction response) counts if recorded by the end of D. It is one more
predicate of :class:`Timeframe` per table (:mod:`services.tracking.effective`), so it reaches
every view the same way ``as_of`` does, and the two combine: what was known at T about D.

**Reading.** A view never names time. It reads through :func:`reading` (or
:meth:`Timeframe.over` on a cursor it has), which puts every fact table it names behind the
timeframe's predicate: live, ``recorded_to IS NULL``; ``as_of`` T, ``recorded_from <= T AND
(recorded_to IS NULL OR recorded_to > T)``. Both are plain ``WHERE`` clauses over an inline
subquery, which SQLite and PostgreSQL merge into the view's own query, so the view's indexes
still apply and memory does not grow with the log.

**Writing.** Handlers change facts only through :mod:`services.tracking.versions`, which
closes and adds rows by these rules and keeps one current row per key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from services.tracking import effective
from services.tracking.schema import FACT_KEYS, JOURNAL_TIME
from shared.events import Envelope
from shared.sql import Cursor, Database

CURRENT = "recorded_to IS NULL"
"""A row that still holds: what every live question reads."""

EFFECTIVE: dict[str, tuple[str, ...]] = {
    "tr_placements": ("effective_date",),
    "tr_moves": ("start_date", "end_date"),
    "tr_cohorts": ("start_date", "end_date"),
    "tr_participation": ("invited_on", "accepted_on", "enrolled_at", "withdrawn_on"),
    "tr_sessions": ("starts_at", "ends_at"),
    "tr_results": ("administered_on",),
    "tr_profiles": ("administered_on",),
    "tr_staff_survey": ("year",),
    "tr_reaction_surveys": ("recorded_from",),
    "tr_reaction_responses": ("recorded_from",),
}
"""Where a fact says when it held in the world: what a valid-time (``on=``) filter reads.

Reaction surveys and responses carry no date but the day they were given, which is the day they
were recorded. Every other fact table (people, instruments, groups, coaches) holds whatever the
date: a definition or an attribute, not an event in the world."""

_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
_TABLE_REF = re.compile(r"\b(FROM|JOIN)\s+(tr_\w+)\b", re.IGNORECASE)
_NEXT_WORD = re.compile(r"\s+(?:AS\s+)?(\w+)", re.IGNORECASE)
_KEYWORDS = frozenset(
    {"where", "join", "left", "right", "inner", "outer", "cross", "on", "group", "order",
     "limit", "union", "having", "using", "natural", "except", "intersect", "window", "offset"}
)  # fmt: skip


@lru_cache(maxsize=4096)  # an event's time is formatted for its facts and for the journal
def utc_text(moment: dt.datetime) -> str:
    """A moment as sortable text: UTC, microseconds, always the same width."""
    if moment.tzinfo is not dt.UTC:  # events are stamped in UTC: converting is the rare case
        moment = moment.astimezone(dt.UTC)
    # isoformat() without arguments takes half the time of isoformat(timespec=...), which a
    # rebuild pays once per event; it leaves out a zero fraction, put back here.
    text = moment.isoformat()
    return text if moment.microsecond else f"{text[:19]}.000000{text[19:]}"


def recorded_at(env: Envelope) -> str:
    """When tracking records an event's facts: its envelope time, as sortable UTC text."""
    return utc_text(env.time)


def day_start(day: dt.date) -> str:
    """The start of ``day`` (UTC) in the form recorded times are stored in."""
    return utc_text(dt.datetime.combine(day, dt.time(0), dt.UTC))


def recorded_before(alias: str, day: dt.date) -> str:
    """A predicate: the row was recorded before ``day`` began (for rules that count by day)."""
    return f"{alias}.recorded_from < '{day_start(day)}'"


def day_end(day: dt.date) -> str:
    """The last moment of ``day`` (UTC) in the form recorded times are stored in."""
    return utc_text(dt.datetime.combine(day, dt.time.max, dt.UTC))


@dataclass(frozen=True)
class Timeframe:
    """Which rows a question sees: live or recorded as of a moment, and live or on a day."""

    as_of: str | None = None
    on: str | None = None
    """An ISO date: the world at the end of that day, by the facts' own dates."""

    @classmethod
    def of(cls, as_of: dt.datetime | None, on: dt.date | None = None) -> Timeframe:
        return cls(
            None if as_of is None else utc_text(as_of), None if on is None else on.isoformat()
        )

    def __post_init__(self) -> None:
        # The moment is written into the SQL text (it is the same for every table of a
        # query, and parameters would have to be threaded through each view's own): only
        # the one form utc_text makes is accepted, so nothing else can reach the SQL.
        if self.as_of is not None and not _MOMENT.fullmatch(self.as_of):
            raise ValueError(f"not a recorded moment: {self.as_of!r}")
        if self.on is not None and not _DAY.fullmatch(self.on):
            raise ValueError(f"not a day: {self.on!r}")

    def predicate(self, table: str) -> str | None:
        """The rows of ``table`` this timeframe sees; None for a table that is not temporal."""
        if table == JOURNAL_TIME[0]:
            return None if self.as_of is None else f"{JOURNAL_TIME[1]} <= '{self.as_of}'"
        if table not in FACT_KEYS:
            return None
        recorded = self.recorded(table)
        if self.on is None:
            return recorded
        return effective.predicate(table, self, recorded)

    def recorded(self, table: str, moment: str | None = None) -> str:
        """The rows of ``table`` recorded as of ``moment`` (default: ``as_of``), or live."""
        moment = moment or self.as_of
        if moment is None:
            return CURRENT
        return f"recorded_from <= '{moment}' AND (recorded_to IS NULL OR recorded_to > '{moment}')"

    def source(self, table: str) -> str | None:
        """What stands for ``table`` in a query: a subquery, or None to leave it as it is."""
        where = self.predicate(table)
        if where is None:
            return None
        dated = self.on is not None and table in FACT_KEYS
        columns = effective.columns(table, self) if dated else "*"
        return f"(SELECT {columns} FROM {table} WHERE {where})"

    def rewrite(self, sql: str) -> str:
        """``sql`` with every temporal table it reads replaced by its rows in this timeframe."""
        return _rewrite(self, sql)

    def over(self, cur: Cursor) -> Cursor:
        return TemporalCursor(cur, self)


@lru_cache(maxsize=4096)
def _rewrite(frame: Timeframe, sql: str) -> str:
    # Only reads are rewritten; a view's cursor never writes, and tables it writes elsewhere
    # (the release ledger) are bookkeeping, not facts.
    if sql.split(None, 1)[0].upper() not in ("SELECT", "WITH"):
        return sql

    def replace(match: re.Match[str]) -> str:
        keyword, table = match.group(1), match.group(2)
        source = frame.source(table)
        if source is None:
            return match.group(0)
        following = _NEXT_WORD.match(sql, match.end())
        aliased = following is not None and following.group(1).lower() not in _KEYWORDS
        alias = "" if aliased else f" AS {table}"
        return f"{keyword} {source}{alias}"

    return _TABLE_REF.sub(replace, sql)


class TemporalCursor:
    """A read cursor whose queries see the fact tables as of its timeframe."""

    def __init__(self, cur: Cursor, frame: Timeframe) -> None:
        self._cur = cur
        self.frame = frame

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(self.frame.rewrite(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cur.executemany(self.frame.rewrite(sql), rows)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


@contextmanager
def reading(
    database: Database, as_of: dt.datetime | None = None, on: dt.date | None = None
) -> Iterator[Cursor]:
    """A read-only cursor on the read models, live or as of a moment, and on a day."""
    with database.transaction(write=False) as cur:
        yield Timeframe.of(as_of, on).over(cur)
