"""Checkpoints are published to ``<prefix>.audit.checkpoints`` on a real (SASL, ACL) broker, and
anchor a log even when the checkpoint file is gone: a rewritten, re-chained log is caught from
Kafka's copy alone."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from services.cli_audit import verify_live
from services.runtime import build_write_service
from shared.audit.checkpoints import KafkaCheckpoints
from shared.audit.verify import Kind
from shared.settings import Settings
from tests.support.kafka_acls import Principals
from tests.support.tamper import Store

META = {"actor_sub": "t", "actor_role": "coordinator", "correlation_id": "c"}

pytestmark = pytest.mark.kafka


def test_checkpoints_on_kafka_catch_a_rewrite_when_the_file_is_gone(
    kafka_principals: Principals, tmp_path: Path
) -> None:
    prefix = f"audit{uuid.uuid4().hex[:8]}"
    kafka_principals.grant(prefix, f"{prefix}-tracking", f"{prefix}-other")
    servers = kafka_principals.bootstrap_servers

    def settings(user: str) -> Settings:
        return Settings(
            data_dir=tmp_path / "data",
            kafka_bootstrap_servers=servers,
            kafka_topic_prefix=prefix,
            **kafka_principals.settings(user),
        )

    writer = settings("relay")  # the write services connect as the relay principal
    service = build_write_service(writer, "enrolment")
    try:
        assert service.ledger is not None
        for name in ("ONE", "TWO"):
            service.application.define_programme(name, "TEM", META)
        first = service.ledger.checkpoint()
        service.application.define_programme("THREE", "TEM", META)
        last = service.ledger.checkpoint()
        store = Store(writer.store_url("enrolment"), service.application.recorder)
    finally:
        service.close()
        for publisher in service.ledger.publishers if service.ledger else ():
            publisher.close()  # type: ignore[attr-defined]

    reader = KafkaCheckpoints(servers, prefix, kafka_principals.security("other"))
    assert reader.read("enrolment") == [first, last]

    writer.resolved_checkpoint_file().unlink()  # the local copy is lost (or rewritten)
    store.set_state(2, b'"name":"TWO"', b'"name":"XXX"')
    store.rechain()
    (report,) = verify_live(settings("other"), ("enrolment",))
    assert (report.kind, report.since, report.position) == (Kind.REWRITTEN, 1, 2), report.line()
