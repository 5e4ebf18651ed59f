"""Builds the audit pieces of a process from :class:`~shared.settings.Settings`: the signer,
the checkpoint file, the Kafka publisher, and a ledger per chained log. Called by the
composition root (:mod:`services.runtime`) and the ``polku audit`` commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.audit.access import AccessLog
from shared.audit.chain import ChainedLog
from shared.audit.checkpoints import CheckpointFile, KafkaCheckpoints, Signer
from shared.audit.ledger import Ledger, Publisher, StatusStore
from shared.audit.verify import Events
from shared.settings import Settings, sqlite_file
from shared.sql import Database


def signer(settings: Settings) -> Signer:
    return Signer.from_file(settings.resolved_audit_key_file(), create=True)


def checkpoint_file(settings: Settings) -> CheckpointFile:
    return CheckpointFile(settings.resolved_checkpoint_file())


def kafka_checkpoints(settings: Settings) -> KafkaCheckpoints | None:
    if not settings.kafka_bootstrap_servers:
        return None
    return KafkaCheckpoints(
        settings.kafka_bootstrap_servers, settings.kafka_topic_prefix, settings.kafka_security()
    )


def publishers(settings: Settings) -> tuple[Publisher, ...]:
    """Where checkpoints go besides the file: Kafka's checkpoint topic, when configured."""
    remote = kafka_checkpoints(settings)
    return (remote,) if remote is not None else ()


def event_ledger(
    settings: Settings,
    name: str,
    log: ChainedLog,
    database: Database | None,
    publishers: tuple[Publisher, ...] = (),
) -> Ledger:
    """The ledger of a write service's event log."""
    return Ledger(
        name,
        lambda: Events(log),
        signer(settings),
        checkpoint_file(settings),
        StatusStore(database) if database is not None else None,
        publishers,
    )


def chained_log(application: Any) -> ChainedLog:
    recorder = application.recorder
    if not hasattr(recorder, "select_chain"):
        raise TypeError(f"{type(recorder).__name__} keeps no hash chain")
    return recorder  # type: ignore[no-any-return]


@dataclass
class Audit:
    """A service's audit parts: its ledgers (events first, then access), the status of their
    verification, and its access log."""

    service: str
    ledgers: list[Ledger]
    status: StatusStore
    access: AccessLog
    corrected: int = 0
    """Reads whose entry, begun from the view's result, differed from the answer sent (each
    then has a second entry recording the answer sent; :mod:`shared.audit.web`)."""


def service_audit(
    settings: Settings, service: str, database: Database, events: Ledger | None = None
) -> Audit:
    """The access log and its ledger for ``service``, beside the event log's ledger (if any)."""
    access = AccessLog(database, service)
    status = events.status if events is not None and events.status else StatusStore(database)
    ledger = Ledger(
        f"{service}.access",
        access.source,
        events.signer if events is not None else signer(settings),
        checkpoint_file(settings),
        status,
        events.publishers if events is not None else (),
    )
    return Audit(service, [*([events] if events else []), ledger], status, access)


@contextmanager
def opened_log(settings: Settings, service: str) -> Iterator[ChainedLog]:
    """A write service's chained event log alone, without its application or key store (what
    verification and export need), closed on exit."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    from shared.audit.chain import chained_env
    from shared.sql import schema_lock

    url = settings.store_url(service)
    if url.startswith("sqlite") and not Path(sqlite_file(url)).exists():
        raise FileNotFoundError(f"no {service} event store at {url}")
    env = Environment(service, chained_env(settings.eventstore_env(service)))
    with schema_lock(url):
        factory: Any = InfrastructureFactory.construct(env)
        recorder = factory.application_recorder()
    try:
        recorder.backfill_chain()
        yield recorder
    finally:
        factory.close()
