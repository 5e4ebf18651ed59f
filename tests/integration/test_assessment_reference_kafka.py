"""Assessment's reference of known people and cohorts, learnt over real Kafka: a separately run
assessment service follows enrolment's topic with the coach scope's consumer."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

from services.runtime import build_write_service, scope_follower
from shared import kafka
from shared.feeds import KafkaFeed
from shared.settings import Settings
from tests.support.kafka_acls import Principals

META = {"actor_sub": "test", "actor_role": "hr_admin", "correlation_id": "c"}
WAIT = 60.0
"""Seconds to wait for the consumer group to form and deliver (a bound, never a speed claim)."""


def test_a_separate_assessment_learns_people_and_cohorts_from_kafka(
    tmp_path: Path, kafka_principals: Principals
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        kafka_bootstrap_servers=kafka_principals.bootstrap_servers,
        **kafka_principals.settings("admin"),
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}",
        feed="kafka",
    )
    assert settings.kafka_bootstrap_servers
    kafka.ensure_topics(
        settings.kafka_bootstrap_servers,
        ("enrolment",),
        settings.kafka_topic_prefix,
        settings.kafka_security(),
    )
    enrolment = build_write_service(settings, "enrolment")
    assessment = build_write_service(settings, "assessment")
    follower = None
    try:
        app = enrolment.application
        programme = app.define_programme("P", "TEM", META).id
        cohort = app.plan_cohort(
            programme, "C", 5, dt.date(2020, 2, 1), dt.date(2020, 6, 30), META
        ).id
        fields = {"full_name": "A", "email": "a@example.invalid", "employee_number": "E-1"}
        placement = {"organisation": "TEM", "department": "D", "unit": "U"}
        person = app.register_person({**fields, **placement}, META).id
        relay = enrolment.relay(settings)
        try:
            relay.drain()
        finally:
            relay.close()
        assert assessment.scope is not None
        ids = [str(person)]
        assert assessment.scope.unknown_people(ids) == set(ids)
        follower = scope_follower(settings, assessment)
        assert follower is not None and isinstance(follower.feed, KafkaFeed)
        deadline = time.monotonic() + WAIT
        while assessment.scope.unknown_people(ids) and time.monotonic() < deadline:
            follower.run_once()
        assert assessment.scope.unknown_people(ids) == set()
        assert assessment.scope.unknown_cohorts([str(cohort)]) == set()
    finally:
        if follower is not None:
            follower.close()
        assessment.close()
        enrolment.close()
