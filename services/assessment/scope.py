"""Coach scope: which cohorts each coach coaches and who was ever enrolled in them; and the
reference of known people and cohorts (:mod:`services.assessment.reference`), from the same feed.

The assessment service learns this from enrolment's public integration events, never from
enrolment's code: ``CohortCoachAssigned`` (the coach by ``coach_ref``, a keyed hash of their
token subject) and ``ParticipantEnrolled``. The two tables live in the assessment service's own
database, and each batch stores its feed cursor in the same transaction as its rows, so a crash
replays at most what was not committed. Rows are only ever added, so a replayed event changes
nothing. A person stays in a cohort's scope once enrolled, withdrawn or not, as in tracking:
their results there remain their coach's to read.

:class:`ScopeFollower` pulls a :class:`~shared.feeds.Feed` of enrolment's events into the
tables: the in-process outbox in embedded mode, Kafka or the HTTP events endpoint otherwise.
In one process the API also catches up before it answers a coach (``drain`` on the in-process
outbox is one cheap read), so a coach assigned a moment ago is recognised at once.
A process that follows no feed knows no coach, so a coach is refused everything (never
granted everything).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from marshmallow import ValidationError

from services.assessment import reference
from shared.events import Envelope, Registry
from shared.events import enrolment as e
from shared.feeds import Feed, Key, Poll
from shared.polling import run_until_stopped
from shared.sql import Cursor, Database, schema_lock
from shared.text import printable

log = logging.getLogger("polku.assessment.scope")

SOURCE = "enrolment"
FOLLOWED = (e.COHORT_COACH_ASSIGNED, e.PARTICIPANT_ENROLLED, *reference.FOLLOWED)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS assessment_scope_coaches ("
    " cohort_id TEXT NOT NULL, coach_ref TEXT NOT NULL, PRIMARY KEY (cohort_id, coach_ref))",
    "CREATE TABLE IF NOT EXISTS assessment_scope_members ("
    " cohort_id TEXT NOT NULL, person_id TEXT NOT NULL, PRIMARY KEY (cohort_id, person_id))",
    "CREATE TABLE IF NOT EXISTS assessment_scope_positions ("
    " source TEXT NOT NULL, partition_no INTEGER NOT NULL, position BIGINT NOT NULL,"
    " PRIMARY KEY (source, partition_no))",
    "CREATE TABLE IF NOT EXISTS assessment_scope_dead_letters ("
    " source TEXT NOT NULL, partition_no INTEGER NOT NULL, offset_no BIGINT NOT NULL,"
    " error TEXT NOT NULL, PRIMARY KEY (source, partition_no, offset_no))",
)


class CoachScope:
    """The projection, and the two questions the API asks of it."""

    def __init__(self, database: Database) -> None:
        self.database = database
        with schema_lock(database.url), database.transaction() as cur:
            for statement in SCHEMA:
                cur.execute(statement)
            if reference.create(cur):
                # The feed's cursor has passed the events the new reference needs: read the
                # feed again from its start (every row is added idempotently).
                cur.execute("DELETE FROM assessment_scope_positions")

    def positions(self) -> dict[Key, int]:
        with self.database.transaction(write=False) as cur:
            cur.execute("SELECT source, partition_no, position FROM assessment_scope_positions")
            return {(r[0], int(r[1])): int(r[2]) for r in cur.fetchall()}

    def dead_letter_count(self) -> int:
        """Events set aside as breaking their contract (each is logged too)."""
        with self.database.transaction(write=False) as cur:
            cur.execute("SELECT COUNT(*) FROM assessment_scope_dead_letters")
            return int(cur.fetchone()[0])

    def cohorts_of(self, coach_ref: str) -> set[str]:
        """The cohorts the coach with this reference coaches."""
        with self.database.transaction(write=False) as cur:
            cur.execute(
                "SELECT cohort_id FROM assessment_scope_coaches WHERE coach_ref = ?", (coach_ref,)
            )
            return {str(row[0]) for row in cur.fetchall()}

    def members(self, cohorts: Iterable[str]) -> set[tuple[str, str]]:
        """(cohort, person) for everyone ever enrolled in one of ``cohorts``."""
        wanted = sorted(set(cohorts))
        if not wanted:
            return set()
        marks = ", ".join("?" for _ in wanted)
        with self.database.transaction(write=False) as cur:
            cur.execute(
                "SELECT cohort_id, person_id FROM assessment_scope_members"
                f" WHERE cohort_id IN ({marks})",
                wanted,
            )
            return {(str(r[0]), str(r[1])) for r in cur.fetchall()}

    def unknown_people(self, ids: Iterable[str]) -> set[str]:
        """The person ids enrolment has not (yet, as far as the feed has come) registered."""
        return reference.unknown_people(self.database, ids)

    def unknown_cohorts(self, ids: Iterable[str]) -> set[str]:
        """The cohort ids enrolment has not (yet, as far as the feed has come) planned."""
        return reference.unknown_cohorts(self.database, ids)

    def apply(self, poll: Poll, registry: Registry) -> int:
        """One batch and its cursors in one transaction; returns the events applied."""
        applied = 0
        with self.database.transaction() as cur:
            for delivery in poll.deliveries:
                envelope = delivery.envelope
                if envelope is None:
                    _dead_letter(
                        cur,
                        delivery.source,
                        delivery.partition,
                        delivery.offset,
                        delivery.error or "unreadable",
                    )
                    continue
                if envelope.type not in FOLLOWED:
                    continue
                if not delivery.trusted:
                    try:
                        registry.load(envelope.type, envelope.data)
                    except ValidationError as exc:
                        _dead_letter(
                            cur,
                            delivery.source,
                            delivery.partition,
                            delivery.offset,
                            f"{envelope.type}: {exc.messages}",
                        )
                        continue
                _apply_one(cur, envelope)
                applied += 1
            for (source, partition), position in poll.cursors.items():
                cur.execute(
                    "INSERT INTO assessment_scope_positions (source, partition_no, position)"
                    " VALUES (?, ?, ?) ON CONFLICT (source, partition_no)"
                    " DO UPDATE SET position = excluded.position",
                    (source, partition, position),
                )
        return applied


def _apply_one(cur: Cursor, envelope: Envelope) -> None:
    data = envelope.data
    if envelope.type in reference.FOLLOWED:
        reference.apply_one(cur, envelope)
    elif envelope.type == e.COHORT_COACH_ASSIGNED:
        cur.execute(
            "INSERT INTO assessment_scope_coaches (cohort_id, coach_ref) VALUES (?, ?)"
            " ON CONFLICT (cohort_id, coach_ref) DO NOTHING",
            (str(data["cohort_id"]), str(data["coach_ref"])),
        )
    else:
        cur.execute(
            "INSERT INTO assessment_scope_members (cohort_id, person_id) VALUES (?, ?)"
            " ON CONFLICT (cohort_id, person_id) DO NOTHING",
            (str(data["cohort_id"]), str(data["person_id"])),
        )


def _dead_letter(cur: Cursor, source: str, partition: int, offset: int, error: str) -> None:
    """Parks an event the scope cannot read, visibly: it is logged and kept with its reason."""
    error = printable(error)[:2000]
    cur.execute(
        "INSERT INTO assessment_scope_dead_letters (source, partition_no, offset_no, error)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (source, partition_no, offset_no) DO NOTHING",
        (source, partition, offset, error),
    )
    log.error("coach scope: dead-lettered %s/%d@%d: %s", source, partition, offset, error)


class ScopeFollower:
    """Keeps a :class:`CoachScope` up with a feed of enrolment's events."""

    def __init__(self, scope: CoachScope, feed: Feed, registry: Registry) -> None:
        self.scope, self.feed, self.registry = scope, feed, registry
        self.wakeup = threading.Event()
        # The thread and, in one process, requests catching up may step at once.
        self._lock = threading.Lock()

    def run_once(self) -> int | None:
        """Applies one batch, then acknowledges it; None when the feed had nothing new."""
        with self._lock:
            poll = self.feed.poll(self.scope.positions(), 1000)
            if poll.empty:
                return None
            applied = self.scope.apply(poll, self.registry)
            self.feed.commit(poll)
            return applied

    def drain(self) -> int:
        """Applies batches until a poll comes back empty (tests, and start-up)."""
        total = 0
        while (applied := self.run_once()) is not None:
            total += applied
        return total

    def run_forever(self, stop: threading.Event, poll_interval: float = 0.2) -> None:
        def step() -> bool:
            applied = self.run_once()
            return applied is None and not self.feed.waits_for_events

        run_until_stopped(step, stop, self.wakeup, poll_interval, self._failed)

    def _failed(self, exc: Exception, retry_in: float) -> None:
        log.warning("coach scope: %s; retrying in %.1fs", exc, retry_in)

    def close(self) -> None:
        self.feed.close()
