"""Assessment's coach scope: a small projection of enrolment's events, applied exactly once in
effect, its cursor stored with its rows, and an unreadable event parked, never skipped silently."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.test import Client

from services.assessment.scope import CoachScope
from services.runtime import build_embedded, build_write_service, scope_follower
from shared.auth import subject_reference
from shared.events import Envelope, default_registry
from shared.events import enrolment as e
from shared.feeds import Delivery, HttpFeed, OutboxFeed, Poll
from shared.settings import Settings
from shared.sql import Database
from tests.api.helpers import SECRET, Api

COHORT, OTHER = str(uuid.uuid4()), str(uuid.uuid4())
PERSON = str(uuid.uuid4())
A, B, NOBODY = (subject_reference("s" * 32, name) for name in ("alice", "bob", "nobody"))


def envelope(position: int, type_: str, data: dict[str, Any]) -> Envelope:
    return Envelope(
        id=f"e-{position}",
        source="/polku/enrolment",
        type=type_,
        subject=data.get("cohort_id", "x"),
        time=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        dataschema=default_registry()[type_].dataschema,
        aggregateversion=position,
        position=position,
        actor="hr_admin:test",
        correlationid="c",
        causationid=None,
        data=data,
    )


def batch(*envelopes: Envelope, trusted: bool = False) -> Poll:
    deliveries = [Delivery("enrolment", 0, env.position, env, trusted=trusted) for env in envelopes]
    return Poll(deliveries, {("enrolment", 0): max(env.position for env in envelopes)})


def scope_in(tmp_path: Path) -> CoachScope:
    return CoachScope(Database(f"sqlite:///{tmp_path / 'assessment.sqlite'}"))


def test_coaches_and_members_come_from_enrolments_events(tmp_path: Path) -> None:
    scope = scope_in(tmp_path)
    enrolled_at = "2020-03-01T00:00:00+00:00"
    poll = batch(
        envelope(1, e.COHORT_COACH_ASSIGNED, {"cohort_id": COHORT, "coach_ref": A}),
        envelope(2, e.PARTICIPANT_ENROLLED, {"cohort_id": COHORT, "person_id": PERSON,
                                             "enrolled_at": enrolled_at}),
        envelope(3, e.COHORT_COACH_ASSIGNED, {"cohort_id": OTHER, "coach_ref": B}),
    )  # fmt: skip
    assert scope.apply(poll, default_registry()) == 3
    assert scope.cohorts_of(A) == {COHORT}
    assert scope.cohorts_of(NOBODY) == set()
    assert scope.members({COHORT}) == {(COHORT, PERSON)}
    assert scope.members({OTHER}) == set()
    assert scope.positions() == {("enrolment", 0): 3}
    # A redelivered batch changes nothing.
    assert scope.apply(poll, default_registry()) == 3
    assert scope.members({COHORT}) == {(COHORT, PERSON)}


def test_an_event_breaking_the_contract_is_parked_and_the_rest_applied(tmp_path: Path) -> None:
    scope = scope_in(tmp_path)
    poll = batch(
        envelope(1, e.COHORT_COACH_ASSIGNED, {"cohort_id": "not-a-uuid", "coach_ref": B}),
        envelope(2, e.COHORT_COACH_ASSIGNED, {"cohort_id": COHORT, "coach_ref": A}),
    )
    assert scope.apply(poll, default_registry()) == 1
    assert scope.cohorts_of(B) == set() and scope.cohorts_of(A) == {COHORT}
    with scope.database.transaction(write=False) as cur:
        cur.execute("SELECT offset_no, error FROM assessment_scope_dead_letters")
        parked = cur.fetchall()
    assert [row[0] for row in parked] == [1] and "cohort_id" in parked[0][1]


def test_other_event_types_only_move_the_cursor(tmp_path: Path) -> None:
    scope = scope_in(tmp_path)
    planned = envelope(7, e.PROGRAMME_RETIRED, {"programme_id": COHORT, "on": "2020-01-01"})
    assert scope.apply(batch(planned), default_registry()) == 0
    assert scope.positions() == {("enrolment", 0): 7}


def test_the_embedded_runtime_feeds_the_scope_from_enrolments_outbox(tmp_path: Path) -> None:

    runtime = build_embedded(Settings(data_dir=tmp_path, jwt_secret="s" * 32))
    try:
        assert runtime.scope is not None
        assert isinstance(runtime.scope.feed, OutboxFeed)
        assert set(runtime.scope.feed.outboxes) == {"enrolment"}
        assert runtime.apps["assessment"].extensions["polku.assessment.scope"] is (
            runtime.services["assessment"].scope
        )
    finally:
        runtime.close()


def test_a_separate_assessment_process_follows_enrolment_over_http(tmp_path: Path) -> None:
    """``polku serve assessment`` with POLKU_ENROLMENT_URL: the scope is read from
    ``GET /enrolment/events`` with the process's own renewing service token."""
    enrolment = build_embedded(Settings(data_dir=tmp_path / "enrolment", jwt_secret=SECRET))
    server = make_server("127.0.0.1", 0, enrolment.wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = Settings(
        data_dir=tmp_path / "assessment",
        jwt_secret=SECRET,
        service_urls={"enrolment": f"http://127.0.0.1:{server.server_port}"},
    )
    assessment = build_write_service(settings, "assessment")
    try:
        cohort, person = Api(enrolment, Client(enrolment.wsgi)).coached(coach="dana")
        follower = scope_follower(settings, assessment)
        assert follower is not None and isinstance(follower.feed, HttpFeed)
        assert follower.drain() >= 2
        assert assessment.scope is not None
        assert assessment.scope.cohorts_of(subject_reference(SECRET, "dana")) == {cohort}
        assert assessment.scope.members({cohort}) == {(cohort, person)}
    finally:
        server.shutdown()
        assessment.close()
        enrolment.close()


def test_without_kafka_or_an_enrolment_url_nothing_feeds_the_scope(tmp_path: Path) -> None:

    settings = Settings(data_dir=tmp_path, jwt_secret="s" * 32)
    assessment = build_write_service(settings, "assessment")
    try:
        assert scope_follower(settings, assessment) is None
    finally:
        assessment.close()
