"""Effective time (``on=``): which facts held in the world at the end of a day, as SQL.

A :class:`~services.tracking.temporal.Timeframe` with ``on`` D puts every fact table behind the
predicate and the column list made here, on top of its recorded-time predicate. D's end is
written as the next day's date ``B``, and a date or moment column holds by D when it sorts
before ``B`` (``'2022-06-30T10:00:00+03:00' < '2022-07-01'``), so dates and moments alike are
compared as the text the facts carry, by the date written in them.

Per table (the columns are :data:`services.tracking.temporal.EFFECTIVE`'s):

- **placements**: those effective by D; the placement on D is still the latest of them.
- **career moves**: those started by D; an end dated after D is not reached yet (NULL).
- **participation**: a person's row once any stage is dated by D; each stage dated after D
  is NULL, and the status is that of the row's latest version (recorded by ``as_of``) whose
  stages are all dated by D: the status the person had reached on D.
- **cohorts**: every cohort, whatever D (a cohort is planned, not dated); the status (and its
  date) is that of the latest version whose status is dated by D (``planned`` before any).
- **programmes**: a retirement dated after D is not reached yet.
- **sessions**: those starting by D; **attendance**: the marks of those sessions.
- **results and style profiles**: those administered by D; **staff survey**: years up to D's.
- **reaction surveys and responses**: as recorded by the end of D (their only date).
- everything else (people, instruments, groups, coaches) whatever D.

Only the date text of a valid :class:`Timeframe` reaches the SQL (it is checked there).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from services.tracking.schema import FACT_KEYS, FACTS

if TYPE_CHECKING:
    from services.tracking.temporal import Timeframe

STAGES = (
    ("completed_on", "completed"),
    ("withdrawn_on", "withdrawn"),
    ("enrolled_at", "enrolled"),
    ("left_waitlist_on", "left_waitlist"),
    ("waitlisted_on", "waitlisted"),
    ("declined_on", "declined"),
    ("accepted_on", "accepted"),
    ("invited_on", "invited"),
)
"""A participation's dated stages (column, the status it marks): each is masked after D."""

RECORDED_DAILY = ("tr_reaction_surveys", "tr_reaction_responses")
"""Facts dated only by the day they were recorded."""


def bound(on: str) -> str:
    """The day after ``on``: a date or moment sorting before it falls on or before ``on``."""
    return (dt.date.fromisoformat(on) + dt.timedelta(days=1)).isoformat()


def predicate(table: str, frame: Timeframe, recorded: str) -> str:
    """The rows of ``table`` that held at the end of ``frame.on``, as ``frame`` records them."""
    assert frame.on is not None
    b = bound(frame.on)
    if table in RECORDED_DAILY:
        moment = _day_end(frame.on)
        if frame.as_of is not None:
            moment = min(moment, frame.as_of)
        return frame.recorded(table, moment)
    if table == "tr_placements":
        return f"{recorded} AND effective_date < '{b}'"
    if table == "tr_moves":
        return f"{recorded} AND start_date < '{b}'"
    if table == "tr_participation":
        reached = " OR ".join(f"{column} < '{b}'" for column, _ in STAGES)
        return f"{recorded} AND ({reached})"
    if table == "tr_sessions":
        return f"{recorded} AND starts_at < '{b}'"
    if table == "tr_attendance":
        # By the session's key, so a cohort's attendance reads only its own sessions.
        held = re.sub(r"\b(recorded_\w+)\b", r"s.\1", frame.recorded("tr_sessions"))
        return (
            f"{recorded} AND EXISTS (SELECT 1 FROM tr_sessions s"
            f" WHERE s.session_id = tr_attendance.session_id AND {held} AND s.starts_at < '{b}')"
        )
    if table in ("tr_results", "tr_profiles"):
        return f"{recorded} AND administered_on < '{b}'"
    if table == "tr_staff_survey":
        return f"{recorded} AND year <= {int(frame.on[:4])}"
    return recorded


def columns(table: str, frame: Timeframe) -> str:
    """The select list of ``table`` on ``frame.on``: its columns, those dated after it masked."""
    assert frame.on is not None
    b = bound(frame.on)
    masked = dict.fromkeys(COLUMNS[table], "")
    if table == "tr_moves":
        masked["end_date"] = _until("end_date", b)
    elif table == "tr_programmes":
        masked["retired_on"] = _until("retired_on", b)
    elif table == "tr_participation":
        for column, _ in STAGES:
            masked[column] = _until(column, b)
        masked["enrolled_position"] = (
            f"CASE WHEN enrolled_at < '{b}' THEN enrolled_position END AS enrolled_position"
        )
        dated = " AND ".join(f"({column} IS NULL OR {column} < '{b}')" for column, _ in STAGES)
        masked["status"] = _as_then(table, "status", dated, frame)
    elif table == "tr_cohorts":
        dated = f"(status_on IS NULL OR status_on < '{b}')"
        masked["status"] = _as_then(table, "status", dated, frame)
        masked["status_on"] = _as_then(table, "status_on", dated, frame)
    if all(not expression for expression in masked.values()):
        return "*"
    return ", ".join(expression or column for column, expression in masked.items())


def _until(column: str, b: str) -> str:
    return f"CASE WHEN {column} < '{b}' THEN {column} END AS {column}"


def _as_then(table: str, column: str, dated: str, frame: Timeframe) -> str:
    """``column`` of the fact's latest version recorded (by ``as_of``) whose dates all fall by
    D: the status the fact had then, which its older versions keep (a stage reached twice
    keeps only its last date in the current one)."""
    key = " AND ".join(f"v.{k} = {table}.{k}" for k in FACT_KEYS[table])
    recorded = "" if frame.as_of is None else f" AND v.recorded_from <= '{frame.as_of}'"
    version_dated = re.sub(r"\b(\w+_on|enrolled_at)\b", r"v.\1", dated)
    return (
        f"(SELECT v.{column} FROM {table} v WHERE {key}{recorded} AND {version_dated}"
        f" ORDER BY v.recorded_from DESC LIMIT 1) AS {column}"
    )


def _day_end(on: str) -> str:
    end = dt.datetime.combine(dt.date.fromisoformat(on), dt.time.max, dt.UTC)
    return end.isoformat(timespec="microseconds")


@lru_cache(maxsize=1)
def _columns() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for statement in FACTS:
        table = re.match(r"\s*CREATE TABLE IF NOT EXISTS (\w+)", statement)
        if table is None:
            continue
        body = statement[statement.index("(") + 1 :]
        found[table.group(1)] = tuple(
            re.findall(r"(?:^|,)\s*(\w+)\s+(?:TEXT|INTEGER|BIGINT)\b", body)
        )
    return found


COLUMNS = _columns()
"""Every fact table's columns, in the order the schema creates them."""
