"""The read models' layout: every tracking table, and the version that guards it.

The tables are disposable: they are a function of the event logs. When their layout changes,
``SCHEMA_VERSION`` goes up, and a database holding an older layout is dropped and rebuilt from
the logs by the projector, which then starts again from position 0.

They hold pseudonymous ids and non-identifying attributes only. Dates are ISO text; scores,
definitions and comments are JSON text, read back by the views.
"""

from __future__ import annotations

import re

from shared.sql import Cursor

SCHEMA_VERSION = 6
"""Raise it whenever a statement below changes: 3 added the journal and every view's facts, 4
made the facts temporal (:mod:`services.tracking.temporal`) and indexed what views filter by,
5 cut the journal to the columns that are read, 6 moved each event's actor into the journal
and keeps whose events they are in key order on SQLite (:data:`KEY_ONLY`)."""

BOOKKEEPING = [
    """CREATE TABLE IF NOT EXISTS tr_positions (
        source TEXT NOT NULL, partition_no INTEGER NOT NULL, position BIGINT NOT NULL,
        last_event_position BIGINT, events_applied BIGINT NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL, PRIMARY KEY (source, partition_no))""",
    """CREATE TABLE IF NOT EXISTS tr_feed_state (
        source TEXT NOT NULL, partition_no INTEGER NOT NULL, head BIGINT,
        checked_at TEXT NOT NULL, PRIMARY KEY (source, partition_no))""",
    """CREATE TABLE IF NOT EXISTS tr_errors (
        source TEXT PRIMARY KEY, error TEXT NOT NULL, recorded_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tr_dead_letters (
        source TEXT NOT NULL, partition_no INTEGER NOT NULL, offset_no BIGINT NOT NULL,
        event_id TEXT, type TEXT, error TEXT NOT NULL, payload TEXT, recorded_at TEXT NOT NULL,
        PRIMARY KEY (source, partition_no, offset_no))""",
    """CREATE TABLE IF NOT EXISTS tr_query_log (
        id TEXT NOT NULL, at TEXT NOT NULL, subject TEXT NOT NULL, role TEXT NOT NULL,
        method TEXT NOT NULL, path TEXT NOT NULL, query TEXT NOT NULL, status INTEGER NOT NULL,
        PRIMARY KEY (id))""",
    # The release ledger (views/ledger.py): every population a figure was shown over, for
    # all callers. ``population`` is the SHA-256 of ``members`` (sorted JSON).
    """CREATE TABLE IF NOT EXISTS tr_releases (
        family TEXT NOT NULL, measure TEXT NOT NULL, population TEXT NOT NULL,
        members TEXT NOT NULL, size INTEGER NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (family, measure, population))""",
    # Change counters (changes.py): one per fact table, raised in the transaction that
    # changes it, so kept computations give way only to changes of the tables they read.
    """CREATE TABLE IF NOT EXISTS tr_changes (
        name TEXT PRIMARY KEY, version BIGINT NOT NULL)""",
    # Whose rows each raise of a person table's counter changed (changes.py), so a kept
    # mobility computation catches up on those people alone. NULL: anyone's.
    """CREATE TABLE IF NOT EXISTS tr_change_people (
        name TEXT NOT NULL, version BIGINT NOT NULL, person_id TEXT)""",
    """CREATE INDEX IF NOT EXISTS tr_change_people_by_version
        ON tr_change_people (name, version)""",
]
"""The projector's and the API's own state: not a function of the logs, never compared."""

JOURNAL = [
    # Every applied event, in its JSON form: the ledger that makes duplicates harmless, and
    # the participant timeline's history. ``time`` is the envelope's, normalised to UTC: an
    # event counts as recorded from then (the journal's own recorded time). ``actor`` is who
    # recorded it (the envelope's, role:subject), for the timeline's ``recorded_by``, shown
    # only to the roles that may see actors. Only what the ledger, the timeline and the
    # handlers read: it is written for every event.
    """CREATE TABLE IF NOT EXISTS tr_applied_events (
        event_id TEXT PRIMARY KEY, source TEXT NOT NULL, type TEXT NOT NULL,
        position BIGINT NOT NULL, time TEXT NOT NULL, data TEXT NOT NULL,
        actor TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tr_event_people (
        person_id TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (person_id, event_id))""",
]

KEY_ONLY = frozenset(["tr_event_people"])
"""Tables that are their primary key and nothing else: on SQLite they are ``WITHOUT ROWID``,
one B-tree in key order rather than a table and an index of the same columns, so each row is
written once (a rebuild writes one per person an event is about)."""

# Every fact table is temporal (services/tracking/temporal.py): ``recorded_from`` and
# ``recorded_to`` bound when tracking held the row, and its key carries ``recorded_from``, as
# one fact has a row per version.
FACTS = [
    """CREATE TABLE IF NOT EXISTS tr_people (
        person_id TEXT NOT NULL, organisation TEXT NOT NULL, department TEXT NOT NULL,
        unit TEXT NOT NULL, role TEXT, profession TEXT, education TEXT,
        registered_at TEXT NOT NULL, erased INTEGER NOT NULL DEFAULT 0,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (person_id, recorded_from))""",
    # One row per placement from its effective date; registration's placement is dated
    # EARLIEST. "Placement on D" is the row with the latest date <= D (then latest position).
    """CREATE TABLE IF NOT EXISTS tr_placements (
        person_id TEXT NOT NULL, effective_date TEXT NOT NULL, position BIGINT NOT NULL,
        organisation TEXT NOT NULL, department TEXT, unit TEXT, move_id TEXT,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (person_id, effective_date, position, recorded_from))""",
    """CREATE TABLE IF NOT EXISTS tr_moves (
        move_id TEXT NOT NULL, person_id TEXT NOT NULL, kind TEXT NOT NULL,
        organisation TEXT NOT NULL, department TEXT, unit TEXT, scope TEXT NOT NULL,
        start_date TEXT NOT NULL, planned_end_date TEXT, end_date TEXT,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (move_id, recorded_from))""",
    "CREATE INDEX IF NOT EXISTS tr_moves_by_person ON tr_moves (person_id, start_date)",
    # Coaches by a keyed hash of their token subject: tracking compares, never learns, who.
    """CREATE TABLE IF NOT EXISTS tr_cohort_coaches (
        cohort_id TEXT NOT NULL, coach_ref TEXT NOT NULL,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (cohort_id, coach_ref, recorded_from))""",
    """CREATE TABLE IF NOT EXISTS tr_programmes (
        programme_id TEXT NOT NULL, name TEXT NOT NULL, organisation TEXT NOT NULL,
        retired_on TEXT,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (programme_id, recorded_from))""",
    """CREATE TABLE IF NOT EXISTS tr_cohorts (
        cohort_id TEXT NOT NULL, programme_id TEXT NOT NULL, name TEXT NOT NULL,
        capacity INTEGER NOT NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL,
        funding_source TEXT, status TEXT NOT NULL, status_on TEXT,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (cohort_id, recorded_from))""",
    # One row per person and cohort. The *_on columns say whether (and when) a stage was ever
    # reached; ``status`` is where the person is now.
    """CREATE TABLE IF NOT EXISTS tr_participation (
        cohort_id TEXT NOT NULL, person_id TEXT NOT NULL, status TEXT NOT NULL,
        invited_on TEXT, accepted_on TEXT, declined_on TEXT, waitlisted_on TEXT,
        enrolled_at TEXT, enrolled_position BIGINT, left_waitlist_on TEXT, withdrawn_on TEXT,
        completed_on TEXT,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (cohort_id, person_id, recorded_from))""",
    """CREATE INDEX IF NOT EXISTS tr_participation_by_enrolment
        ON tr_participation (cohort_id, enrolled_position)""",
    "CREATE INDEX IF NOT EXISTS tr_participation_by_person ON tr_participation (person_id)",
    """CREATE TABLE IF NOT EXISTS tr_sessions (
        session_id TEXT NOT NULL, cohort_id TEXT NOT NULL, title TEXT NOT NULL,
        module TEXT, starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, delivery TEXT NOT NULL,
        original_delivery TEXT NOT NULL, status TEXT NOT NULL,
        reschedules INTEGER NOT NULL DEFAULT 0, delivery_changes INTEGER NOT NULL DEFAULT 0,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (session_id, recorded_from))""",
    "CREATE INDEX IF NOT EXISTS tr_sessions_by_cohort ON tr_sessions (cohort_id)",
    """CREATE TABLE IF NOT EXISTS tr_attendance (
        session_id TEXT NOT NULL, person_id TEXT NOT NULL, cohort_id TEXT NOT NULL,
        status TEXT NOT NULL, minutes INTEGER, corrections INTEGER NOT NULL DEFAULT 0,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (session_id, person_id, recorded_from))""",
    "CREATE INDEX IF NOT EXISTS tr_attendance_by_cohort ON tr_attendance (cohort_id)",
    """CREATE TABLE IF NOT EXISTS tr_groups (
        group_id TEXT NOT NULL, cohort_id TEXT NOT NULL, name TEXT NOT NULL,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (group_id, recorded_from))""",
    "CREATE INDEX IF NOT EXISTS tr_groups_by_cohort ON tr_groups (cohort_id)",
    """CREATE TABLE IF NOT EXISTS tr_group_members (
        group_id TEXT NOT NULL, cohort_id TEXT NOT NULL, person_id TEXT NOT NULL,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (group_id, person_id, recorded_from))""",
    # ``definition`` holds the dimensions, scale, privacy, minimums and questions as JSON.
    """CREATE TABLE IF NOT EXISTS tr_instruments (
        instrument_id TEXT NOT NULL, family_id TEXT NOT NULL, name TEXT NOT NULL,
        kind TEXT NOT NULL, definition TEXT NOT NULL, retired INTEGER NOT NULL DEFAULT 0,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (instrument_id, recorded_from))""",
    """CREATE TABLE IF NOT EXISTS tr_results (
        result_id TEXT NOT NULL, person_id TEXT NOT NULL, cohort_id TEXT,
        instrument_id TEXT NOT NULL, wave TEXT NOT NULL, follow_up_months INTEGER,
        wave_label TEXT, rater_group TEXT NOT NULL, administered_on TEXT NOT NULL,
        scores TEXT NOT NULL, corrections INTEGER NOT NULL DEFAULT 0,
        voided INTEGER NOT NULL DEFAULT 0,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (result_id, recorded_from))""",
    "CREATE INDEX IF NOT EXISTS tr_results_by_cohort ON tr_results (cohort_id, instrument_id)",
    "CREATE INDEX IF NOT EXISTS tr_results_by_person ON tr_results (person_id)",
    """CREATE TABLE IF NOT EXISTS tr_profiles (
        profile_id TEXT NOT NULL, person_id TEXT NOT NULL, cohort_id TEXT,
        instrument_id TEXT NOT NULL, wave TEXT NOT NULL, follow_up_months INTEGER,
        wave_label TEXT, administered_on TEXT NOT NULL, primary_style TEXT NOT NULL,
        secondary_style TEXT, scores TEXT NOT NULL, corrections INTEGER NOT NULL DEFAULT 0,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (profile_id, recorded_from))""",
    """CREATE TABLE IF NOT EXISTS tr_reaction_surveys (
        survey_id TEXT NOT NULL, instrument_id TEXT NOT NULL, cohort_id TEXT NOT NULL,
        issued INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (survey_id, recorded_from))""",
    """CREATE TABLE IF NOT EXISTS tr_reaction_responses (
        event_id TEXT NOT NULL, survey_id TEXT NOT NULL, instrument_id TEXT NOT NULL,
        cohort_id TEXT NOT NULL, answers TEXT NOT NULL, comments TEXT NOT NULL,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (event_id, recorded_from))""",
    """CREATE INDEX IF NOT EXISTS tr_reaction_responses_by_cohort
        ON tr_reaction_responses (cohort_id)""",
    """CREATE INDEX IF NOT EXISTS tr_reaction_responses_by_survey
        ON tr_reaction_responses (survey_id)""",
    """CREATE INDEX IF NOT EXISTS tr_reaction_surveys_by_cohort
        ON tr_reaction_surveys (cohort_id)""",
    """CREATE TABLE IF NOT EXISTS tr_staff_survey (
        result_id TEXT NOT NULL, instrument_id TEXT NOT NULL, year INTEGER NOT NULL,
        level TEXT NOT NULL, organisation TEXT NOT NULL, department TEXT, unit TEXT,
        respondents INTEGER NOT NULL, indices TEXT NOT NULL,
        corrections INTEGER NOT NULL DEFAULT 0,
        recorded_from TEXT NOT NULL, recorded_to TEXT,
        PRIMARY KEY (result_id, recorded_from))""",
]

FACT_KEYS: dict[str, tuple[str, ...]] = {
    "tr_people": ("person_id",),
    "tr_placements": ("person_id", "effective_date", "position"),
    "tr_moves": ("move_id",),
    "tr_cohort_coaches": ("cohort_id", "coach_ref"),
    "tr_programmes": ("programme_id",),
    "tr_cohorts": ("cohort_id",),
    "tr_participation": ("cohort_id", "person_id"),
    "tr_sessions": ("session_id",),
    "tr_attendance": ("session_id", "person_id"),
    "tr_groups": ("group_id",),
    "tr_group_members": ("group_id", "person_id"),
    "tr_instruments": ("instrument_id",),
    "tr_results": ("result_id",),
    "tr_profiles": ("profile_id",),
    "tr_reaction_surveys": ("survey_id",),
    "tr_reaction_responses": ("event_id",),
    "tr_staff_survey": ("result_id",),
}
"""Every fact table, by the columns that name one fact: at most one row per key is current."""

JOURNAL_TIME = ("tr_applied_events", "time")
"""The journal, and the column from which each of its events counts as recorded."""

REENTERED = (
    "tr_participation",
    "tr_attendance",
    "tr_reaction_surveys",
    "tr_cohort_coaches",
    "tr_group_members",
)
"""Fact tables whose key is written again while its row holds: an upsert (a stage, a mark, more
tokens) or a re-entry (a coach, a member). Every other fact is created once, by the first event
of its own aggregate, so its primary key alone keeps a duplicate delivery out."""

CURRENT_ROWS = [
    f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_current ON {table} ({', '.join(FACT_KEYS[table])})"
    " WHERE recorded_to IS NULL"
    for table in REENTERED
]
"""One current row per re-entered fact, enforced: the projector's inserts into these tables
conflict on it (``ON CONFLICT ... DO NOTHING``), where the key already holds a row."""

SCHEMA = [*BOOKKEEPING, *JOURNAL, *FACTS, *CURRENT_ROWS]


def statements(dialect: str) -> list[str]:
    """:data:`SCHEMA` as run on ``dialect``: on SQLite, the :data:`KEY_ONLY` tables without
    a rowid (PostgreSQL has no such clause, nor needs one)."""
    if dialect != "sqlite":
        return list(SCHEMA)
    return [
        f"{statement} WITHOUT ROWID" if KEY_ONLY.intersection(_tables([statement])) else statement
        for statement in SCHEMA
    ]


def _tables(statements: list[str]) -> tuple[str, ...]:
    return tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", " ".join(statements)))


TABLES = (*_tables(SCHEMA), "tr_enrolments", "tr_populations", "tr_event_actors")
"""Every table to drop when the layout changes, including those earlier layouts had."""
VIEW_TABLES = _tables([*JOURNAL, *FACTS])
"""What a rebuild produces from the logs alone, so what ``polku replay`` compares and swaps."""

EARLIEST = "0001-01-01"
"""The effective date of the placement a person was registered with."""


class LayoutBehind(RuntimeError):
    """The read models hold an older layout, and this process may not rebuild them."""


class LayoutChanged(RuntimeError):
    """A newer release rebuilt the read models; this (older) projector must not write to them."""


def check_layout(cur: Cursor) -> None:
    """Raises :class:`LayoutChanged` unless the tables are the layout this code writes."""
    cur.execute("SELECT version FROM tr_schema")
    row = cur.fetchone()
    if row is None or int(row[0]) != SCHEMA_VERSION:
        found = None if row is None else int(row[0])
        raise LayoutChanged(
            f"the read models are now at layout {found}, this projector writes layout"
            f" {SCHEMA_VERSION}: it stops applying events; run the matching release"
        )
