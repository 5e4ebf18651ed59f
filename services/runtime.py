"""The composition root: builds every process shape of Polku from one :class:`Settings`.

Nothing here runs at import time. ``Embedded`` is the one-process default (all three services,
SQLite files, the projector following the in-process logs); with Kafka configured it also runs
a relay thread per write service and the projector consumes Kafka instead. The single-service
builders are what ``polku serve``, ``polku relay`` and ``polku project`` run in a deployment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from services.assessment import api as assessment_api
from services.assessment.application import AssessmentApplication
from services.assessment.integration import translate as assessment_translate
from services.assessment.integration import translate_restricted
from services.assessment.scope import CoachScope, ScopeFollower
from services.audit_routes import PERSONAL_READS
from services.enrolment import api as enrolment_api
from services.enrolment.application import EnrolmentApplication
from services.enrolment.integration import translate as enrolment_translate
from services.enrolment.keystore import SqlKeyStore, scrub
from services.enrolment.keystore_setup import migrate_legacy_keys
from services.enrolment.keywrap import LocalKeyWrapper
from services.tracking import api as tracking_api
from services.tracking.projector import Projector
from services.tracking.readmodels import ReadModels
from shared import kafka
from shared.audit import setup as audit_setup
from shared.audit import web as audit_web
from shared.audit.chain import chained_env
from shared.audit.ledger import Ledger
from shared.audit.setup import Audit
from shared.events import default_registry, restricted_registry
from shared.feeds import ElsewhereFeed, Feed, HttpFeed, KafkaFeed, OutboxFeed
from shared.identity import install_issuer, service_token
from shared.jobs import Jobs, JobStore
from shared.leader import FileLeaderLock, LeaderLock, PostgresLeaderLock, lock_key
from shared.outbox import Outbox
from shared.polling import start_worker
from shared.positions import RelayPositions
from shared.relay import Relay
from shared.settings import RESTRICTED_CHANNELS, WRITE_SERVICES, Settings, sqlite_file
from shared.sql import Database, schema_lock
from shared.web import idempotency, readiness
from shared.web.contract import CONTRACT
from shared.web.feed import install_restricted_feed
from shared.web.idempotency import IdempotencyStore
from shared.web.jobs import JOBS
from shared.web.mount import combine
from shared.web.security import MAX_LIFETIME_EXTENSION
from shared.web.validation import PLAUSIBLE_YEARS

log = logging.getLogger(__name__)

# Per write service: its application class, its domain → integration mapping, its app factory.
APPLICATIONS: dict[str, tuple[type[Any], Callable[[Any], Any], Any]] = {
    "enrolment": (EnrolmentApplication, enrolment_translate, enrolment_api.create_app),
    "assessment": (AssessmentApplication, assessment_translate, assessment_api.create_app),
}
# Per write service with a restricted channel: the full mapping only tracking may read.
RESTRICTED_TRANSLATIONS: dict[str, Callable[[Any], Any]] = {"assessment": translate_restricted}
assert set(RESTRICTED_TRANSLATIONS) == set(RESTRICTED_CHANNELS)


@dataclass
class WriteService:
    name: str
    application: Any
    outbox: Outbox
    database: Database
    adapters: dict[str, Any] = field(default_factory=dict)
    """What the application was given besides its store (the enrolment key store)."""
    scope: CoachScope | None = None
    """Assessment's coach scope: enrolment's coach assignments and enrolments, as events."""
    restricted: Outbox | None = None
    """The restricted channel over the same log (assessment): individual values, tracking only."""
    ledger: Ledger | None = None
    """The event log's audit ledger: chain verification and signed checkpoints."""
    audit: Audit | None = None
    """The ledgers (events, access log) and access log the API logs personal reads to."""

    @property
    def tracking_outbox(self) -> Outbox:
        """The channel the tracking projector reads: the restricted one where there is one."""
        return self.restricted or self.outbox

    def relay(self, settings: Settings, producer: Any | None = None) -> Relay:
        if producer is None:
            assert settings.kafka_bootstrap_servers, "a relay needs Kafka"
            producer = kafka.make_producer(
                settings.kafka_bootstrap_servers, **settings.kafka_security()
            )
        prefix = settings.kafka_topic_prefix
        return Relay(
            self.outbox,
            producer,
            RelayPositions(self.database, self.name),
            kafka.topic_of(self.name, prefix),
            batch_size=settings.relay_batch_size,
            restricted=None
            if self.restricted is None
            else (self.restricted, kafka.restricted_topic_of(self.name, prefix)),
            leader=relay_leader_lock(settings, self.name),
        )

    def close(self) -> None:
        try:
            self.application.close()
        finally:
            for adapter in self.adapters.values():
                adapter.close()
            self.database.close()


def relay_leader_lock(settings: Settings, service: str) -> LeaderLock:
    """The lock that lets one relay of ``service`` publish: PostgreSQL's or a file's."""
    url = settings.store_url(service)
    prefix = settings.kafka_topic_prefix
    name = f"relay {service}"
    if url.startswith("sqlite"):
        return FileLeaderLock(Path(f"{sqlite_file(url)}.relay-{prefix}.lock"), name)
    return PostgresLeaderLock(url, lock_key(service, prefix), name)


def build_write_service(settings: Settings, name: str) -> WriteService:
    if name not in APPLICATIONS:
        raise ValueError(f"unknown write service {name!r}; expected one of {WRITE_SERVICES}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app_class, translate, _ = APPLICATIONS[name]
    # secure_delete: erasure overwrites the idempotency answers that named the person here.
    database = Database(settings.store_url(name), secure_delete=True)
    adapters: dict[str, Any] = {}
    try:
        adapters = write_adapters(settings, name, database)
        with schema_lock(settings.store_url(name)):  # the library creates its tables here
            application = app_class(chained_env(settings.eventstore_env(name)), **adapters)
            chained = application.recorder.backfill_chain()  # a log from before chaining
        if chained:
            log.warning(
                "chained %d %s events stored before the hash chain existed; if this log had a "
                "chain, it was emptied: run polku audit verify against the checkpoints",
                chained,
                name,
            )
    except BaseException:
        for adapter in adapters.values():
            adapter.close()
        database.close()
        raise
    outbox = Outbox(name, application, translate, default_registry(settings.public_base_url))
    scope = CoachScope(database) if name == "assessment" else None
    restricted = None
    if name in RESTRICTED_TRANSLATIONS:
        restricted = Outbox(
            name,
            application,
            RESTRICTED_TRANSLATIONS[name],
            restricted_registry(settings.public_base_url),
        )
    publishers = audit_setup.publishers(settings)
    ledger = audit_setup.event_ledger(
        settings, name, audit_setup.chained_log(application), database, publishers
    )
    audit = audit_setup.service_audit(settings, name, database, ledger)
    return WriteService(
        name, application, outbox, database, adapters, scope, restricted, ledger, audit
    )


def write_adapters(settings: Settings, name: str, database: Database) -> dict[str, Any]:
    """What a write service's application gets besides its event store: for enrolment, the key
    store of personal-data keys, in a database of its own and wrapped under the master key.
    Keys an earlier version kept in the event database are moved there first."""
    if name != "enrolment":
        return {}
    if settings.keystore_database_url() == settings.store_url(name):
        log.warning(
            "the key store shares the event database (wrapped under the master key); give it "
            "a database and role of its own with POLKU_KEYSTORE_URL"
        )
    keys = Database(settings.keystore_database_url(), secure_delete=True)
    try:
        # The master key is made only for a new key store: one that holds keys already was
        # wrapped under a key that must be given back, never replaced.
        master = settings.resolved_master_key_file()
        wrapper = LocalKeyWrapper.from_file(master, create=not SqlKeyStore.holds_keys(keys))
        keystore = SqlKeyStore(keys, wrapper, owns_database=True)
    except BaseException:
        keys.close()
        raise
    try:
        migrate_legacy_keys(database, keystore)
    except BaseException:
        keystore.close()
        raise
    return {"keystore": keystore}


def write_service_app(settings: Settings, service: WriteService) -> Flask:
    create_app = APPLICATIONS[service.name][2]
    app: Flask = create_app(
        service.outbox, settings.resolved_jwt_secret(), probes=broker_probe(settings)
    )
    app.extensions[MAX_LIFETIME_EXTENSION] = settings.jwt_max_lifetime
    # Import jobs in the service's database: every worker process answers every job's poll.
    app.extensions[JOBS] = Jobs(store=JobStore(service.database, service.name))
    app.extensions[CONTRACT] = {
        "prefix": settings.kafka_topic_prefix,
        "servers": settings.kafka_bootstrap_servers,
        "partitions": settings.kafka_partitions,
    }
    app.config[PLAUSIBLE_YEARS] = settings.plausible_years
    install_issuer(app, settings, service.name)
    if service.scope is not None:
        app.extensions["polku.assessment.scope"] = service.scope
    if service.restricted is not None:
        install_restricted_feed(app, service.restricted, settings.restricted_readers)
    store = IdempotencyStore(service.database, service.name)
    idempotency.install(app, store)
    if service.audit is not None:
        audit_web.install(app, service.audit, PERSONAL_READS[service.name])
    keystore = service.adapters.get("keystore")
    if keystore is not None:

        def forget(person_id: Any) -> None:
            # Kept answers hold no personal fields, but they name the person, and their
            # fingerprints are hashes of what was sent: an erasure leaves neither behind
            # (their keys stay as tombstones, so a retry cannot register the person again).
            store.forget(str(person_id))
            scrub(service.database, (store.table,))

        service.application.on_erased(forget)
    return app


SCOPE_SOURCE = "enrolment"


def scope_follower(settings: Settings, service: WriteService) -> ScopeFollower | None:
    """What keeps a separately run assessment service's coach scope current: enrolment's events
    from Kafka, or over HTTP from ``POLKU_ENROLMENT_URL``. None when neither is configured:
    the scope then stays as stored, and a coach it does not know is refused everything."""
    assert service.scope is not None
    feed: Feed
    if settings.kafka_bootstrap_servers:
        security: dict[str, Any] = settings.kafka_security()
        kafka.ensure_topics(
            settings.kafka_bootstrap_servers,
            (SCOPE_SOURCE,),
            settings.kafka_topic_prefix,
            security,
            settings.kafka_partitions,
        )
        feed = KafkaFeed(
            settings.kafka_bootstrap_servers,
            f"{settings.kafka_topic_prefix}-assessment-scope",
            (SCOPE_SOURCE,),
            service.scope.positions,
            topic_prefix=settings.kafka_topic_prefix,
            **security,
        )
    elif SCOPE_SOURCE in settings.service_urls:
        token = service_token(settings, "assessment")
        feed = HttpFeed({SCOPE_SOURCE: settings.service_urls[SCOPE_SOURCE]}, token)
    else:
        return None
    return ScopeFollower(service.scope, feed, default_registry())


def broker_probe(settings: Settings) -> dict[str, Callable[[], object]]:
    if not settings.kafka_bootstrap_servers:
        return {}
    servers, security = settings.kafka_bootstrap_servers, settings.kafka_security()
    return {"kafka": lambda: kafka.ping(servers, security=security)}


@dataclass
class Tracking:
    readmodels: ReadModels
    projector: Projector
    feed: Feed

    def close(self) -> None:
        self.feed.close()
        self.readmodels.database.close()


def build_tracking(
    settings: Settings, feed: Feed | None = None, project: bool = True, **projector_args: Any
) -> Tracking:
    """The read models and a projector; ``project=False`` is a process serving the API only."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    readmodels = ReadModels(Database(settings.readmodel_url()))
    try:
        readmodels.create(rebuild=project)
        if feed is None:
            feed = remote_feed(settings, readmodels) if project else ElsewhereFeed(settings.feed)
    except BaseException:
        readmodels.database.close()
        raise
    # Tracking reads assessment's restricted channel: the full forms of its sensitive types.
    projector = Projector(readmodels, feed, restricted_registry(), **projector_args)
    return Tracking(readmodels, projector, feed)


def remote_feed(settings: Settings, readmodels: ReadModels) -> Feed:
    """The feed of a tracking process that does not share memory with the write services."""
    if settings.feed == "kafka":
        assert settings.kafka_bootstrap_servers
        security: dict[str, Any] = settings.kafka_security()
        kafka.ensure_topics(
            settings.kafka_bootstrap_servers,
            WRITE_SERVICES,
            settings.kafka_topic_prefix,
            security,
            settings.kafka_partitions,
        )
        # Assessment from its restricted topic, which only tracking's principal may read.
        return KafkaFeed(
            settings.kafka_bootstrap_servers,
            settings.kafka_group_id,
            WRITE_SERVICES,
            readmodels.positions,
            topic_prefix=settings.kafka_topic_prefix,
            restricted=RESTRICTED_CHANNELS,
            **security,
        )
    if settings.feed == "http":
        # Its own token's subject is the one the restricted feeds admit.
        token = service_token(settings, settings.restricted_readers[0])
        return HttpFeed(settings.service_urls, token, restricted=RESTRICTED_CHANNELS)
    raise ValueError("the embedded feed needs the write services in the same process")


def tracking_app(settings: Settings, tracking: Tracking) -> Flask:
    probes = readiness({"readmodels": tracking.readmodels.database.ping, **broker_probe(settings)})
    lag = projector_lag_check(tracking.readmodels, settings.ready_max_lag)

    def ready() -> dict[str, str]:
        checks = probes()
        if checks.get("readmodels") == "ok":
            checks["projector"] = lag()
        return checks

    app = tracking_api.create_app(
        tracking.readmodels, tracking.feed.kind, settings.resolved_jwt_secret(), ready
    )
    app.extensions[MAX_LIFETIME_EXTENSION] = settings.jwt_max_lifetime
    audit = audit_setup.service_audit(settings, "tracking", tracking.readmodels.database)
    audit_web.install(app, audit, PERSONAL_READS["tracking"])
    install_issuer(app, settings, "tracking")
    return app


def audit_workers(apps: list[Flask], settings: Settings, stop: threading.Event) -> list[Any]:
    """Background verification of every chained log the apps hold, signing checkpoints."""
    threads = []
    for app in apps:
        audit = app.extensions.get(audit_web.AUDIT_EXTENSION)
        for ledger in audit.ledgers if audit is not None else ():
            threads.append(
                start_worker(
                    f"audit-{ledger.name}", ledger.run_forever, stop, settings.audit_interval
                )
            )
    return threads


def projector_lag_check(readmodels: ReadModels, max_lag: int) -> Callable[[], str]:
    """ "ok" while no partition lags more than ``max_lag`` events behind its head (as the
    projecting process last recorded it), else which partitions lag and by how much."""

    def check() -> str:
        lagging = [
            f"{row['source']}[{row['partition']}] {row['lag']}"
            for row in readmodels.status()["sources"]
            if row["lag"] is not None and row["lag"] > max_lag
        ]
        if not lagging:
            return "ok"
        return f"lagging more than {max_lag} events (POLKU_READY_MAX_LAG): {', '.join(lagging)}"

    return check


@dataclass
class Embedded:
    """All three services in one process: what ``polku up`` and ``polku demo`` run."""

    settings: Settings
    services: dict[str, WriteService]
    tracking: Tracking
    wsgi: Any
    apps: dict[str, Flask]
    relays: dict[str, Relay] = field(default_factory=dict)
    scope: ScopeFollower | None = None
    """Feeds assessment's coach scope from enrolment's outbox (or Kafka)."""
    workspace: Database | None = None
    """The workspace's own database (its sessions)."""
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Starts the background threads: relays (Kafka mode) and the projector."""
        interval = self.settings.poll_interval
        for name, relay in self.relays.items():
            self.threads.append(
                start_worker(f"relay-{name}", relay.run_forever, self.stop, interval)
            )
        projector = self.tracking.projector
        self.threads.append(start_worker("projector", projector.run_forever, self.stop, interval))
        if self.scope is not None:
            self.threads.append(
                start_worker("coach-scope", self.scope.run_forever, self.stop, interval)
            )
        self.threads.extend(audit_workers(list(self.apps.values()), self.settings, self.stop))

    def close(self) -> None:
        self.stop.set()
        self.tracking.projector.wakeup.set()
        if self.scope is not None:
            self.scope.wakeup.set()
        for relay in self.relays.values():
            relay.wakeup.set()
        for thread in self.threads:
            thread.join(timeout=10)
        for relay in self.relays.values():
            relay.close()
        if self.scope is not None:
            self.scope.close()
        self.tracking.close()
        for service in self.services.values():
            service.close()
        if self.workspace is not None:
            self.workspace.close()


def build_embedded(settings: Settings) -> Embedded:
    services: dict[str, WriteService] = {}
    relays: dict[str, Relay] = {}
    try:
        for name in WRITE_SERVICES:
            services[name] = build_write_service(settings, name)
        if settings.feed == "kafka":
            assert settings.kafka_bootstrap_servers
            kafka.ensure_topics(
                settings.kafka_bootstrap_servers,
                WRITE_SERVICES,
                settings.kafka_topic_prefix,
                settings.kafka_security(),
                settings.kafka_partitions,
            )
            for name, service in services.items():
                relays[name] = service.relay(settings)
        feed: Feed | None = None
        if settings.feed == "embedded":
            feed = OutboxFeed({name: s.tracking_outbox for name, s in services.items()})
        tracking = build_tracking(settings, feed)
        scope = embedded_scope(settings, services)
    except BaseException:
        # Close what was built in this thread; left to the garbage collector, SQLite
        # connections would be closed from whichever thread happens to collect them.
        for relay in relays.values():
            relay.producer.close(timeout=1)
        for service in services.values():
            service.close()
        raise
    if settings.feed == "embedded":
        # A save wakes the projector at once, so freshness is not bound by the poll interval.
        for service in services.values():
            service.application.on_saved(tracking.projector.wakeup.set)
    services[SCOPE_SOURCE].application.on_saved(scope.wakeup.set)
    for name, relay in relays.items():
        services[name].application.on_saved(relay.wakeup.set)
    apps = {name: write_service_app(settings, s) for name, s in services.items()}
    # Read your writes: a coach assigned or a person enrolled a moment ago is in scope.
    apps["assessment"].extensions["polku.assessment.scope_catch_up"] = scope.drain
    apps["tracking"] = tracking_app(settings, tracking)
    workspace_db = Database(settings.store_url("workspace"))
    apps[WORKSPACE] = workspace_app(settings, apps["tracking"], workspace_db, embedded=True)
    checks = {name: app.extensions["polku.ready_check"] for name, app in apps.items()}
    wsgi = combine(apps, checks)
    return Embedded(settings, services, tracking, wsgi, apps, relays, scope, workspace_db)


def embedded_scope(settings: Settings, services: dict[str, WriteService]) -> ScopeFollower:
    """Assessment's coach scope in one process: fed from enrolment's outbox directly, even with
    Kafka configured, so the API can catch up before it answers a coach (read your writes)."""
    assessment = services["assessment"]
    assert assessment.scope is not None
    feed = OutboxFeed({SCOPE_SOURCE: services[SCOPE_SOURCE].outbox})
    return ScopeFollower(assessment.scope, feed, default_registry())


WORKSPACE = "app"
"""The workspace's path prefix (``/app``); its database is ``var/workspace.sqlite``."""


def workspace_app(settings: Settings, tracking: Any, database: Database, embedded: bool) -> Flask:
    """The HR workspace, reading ``tracking`` (a WSGI app serving ``/tracking``) in-process;
    its sessions live in ``database``. The development sign-in page only in embedded mode."""
    from services import workspace
    from services.workspace.sso import install_from_settings as workspace_sso
    from shared.web.sessions import Sessions, SqlSessionStore

    secret = settings.resolved_jwt_secret()
    sessions = Sessions(SqlSessionStore(database), secret)
    app = workspace.create_app(
        tracking,
        secret,
        sessions,
        dev_signin=embedded and settings.dev_signin,
        ready_check=readiness({"sessions": database.ping}),
    )
    app.extensions["polku.service"] = WORKSPACE
    workspace_sso(app, settings)
    return app
