"""Pytest plugin that owns how tests get a real Kafka broker and a real PostgreSQL server.

Each service is resolved once per session, lazily (only when a test asks for it), in this order:

1. an explicit address: ``KAFKA_BOOTSTRAP_SERVERS`` / ``POLKU_TEST_POSTGRES_URL``;
2. testcontainers, when a Docker engine answers ``ping()``;
3. a local process: :class:`~tests.support.kafka_broker.KafkaBroker` (Maven jars) and
   :class:`~tests.support.postgres_server.PostgresServer` (initdb + pg_ctl);
4. otherwise skip with the reason, or **fail** when ``CI`` is set: CI must never silently skip.

Fixtures: ``kafka_bootstrap_servers``, ``kafka_principals`` (per-principal client settings:
the local broker runs SASL/SCRAM with ACLs, see ``kafka_acls.py``), ``kafka_broker`` (the
local broker, for stop/start tests), ``postgres_url``, ``fresh_postgres_url`` (an empty
database per test), ``owned_postgres_url`` (an empty database per test with a login role of
its own, as a key store's).
"""

from __future__ import annotations

import functools
import os
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

from tests.support.kafka_acls import Principals
from tests.support.kafka_broker import USERS, KafkaBroker
from tests.support.postgres_server import (
    PostgresServer,
    create_owned_database,
    drop_owned_database,
    scratch_database,
)

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
POSTGRES_ENV = "POLKU_TEST_POSTGRES_URL"
# cp-kafka 8.1 ships Apache Kafka 4.1; testcontainers' KafkaContainer needs a Confluent image.
KAFKA_IMAGE = os.environ.get("POLKU_TEST_KAFKA_IMAGE", "confluentinc/cp-kafka:8.1.0")
POSTGRES_IMAGE = os.environ.get("POLKU_TEST_POSTGRES_IMAGE", "postgres:15")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skip locally, fail in CI, so a broken CI setup cannot pass by skipping everything."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@functools.cache
def docker_available() -> bool:
    try:
        import docker

        return bool(docker.from_env(timeout=3).ping())
    except Exception:  # any failure means "no usable engine"
        return False


def _import_testcontainer(name: str, cls: str) -> Any:
    try:
        module = __import__(f"testcontainers.community.{name}", fromlist=[cls])
    except ImportError:
        with warnings.catch_warnings():
            # The pre-4.15 path still works but warns that it moved.
            warnings.simplefilter("ignore", DeprecationWarning)
            module = __import__(f"testcontainers.{name}", fromlist=[cls])
    return getattr(module, cls)


@dataclass
class KafkaService:
    bootstrap_servers: str
    source: str
    broker: KafkaBroker | None = None

    @property
    def principals(self) -> Principals:
        # Only the local broker is known to run SASL with ACLs; others are used as they come.
        configs = {u: self.broker.client_config(u) for u in USERS} if self.broker else {}
        return Principals(self.bootstrap_servers, configs)


@dataclass
class PostgresService:
    url: str
    source: str
    server: PostgresServer | None = None


# The local broker, so the runtest hook below can restart it after a test that stopped it.
_local_broker: KafkaBroker | None = None


@pytest.fixture(scope="session")
def polku_kafka_service() -> Iterator[KafkaService]:
    global _local_broker
    explicit = os.environ.get(KAFKA_ENV, "").strip()
    if explicit:
        yield KafkaService(explicit, f"${KAFKA_ENV}")
        return
    if docker_available():
        kafka_container = _import_testcontainer("kafka", "KafkaContainer")
        container = kafka_container(KAFKA_IMAGE).with_kraft()
        container.start(timeout=120)
        try:
            yield KafkaService(container.get_bootstrap_server(), f"testcontainers {KAFKA_IMAGE}")
        finally:
            container.stop()
        return
    broker = KafkaBroker()
    try:
        broker.start()
    except Exception as exc:  # turned into a skip, or a failure in CI
        broker.close()
        unavailable(f"no Kafka: no {KAFKA_ENV}, no Docker engine, local broker failed: {exc}")
    _local_broker = broker
    service = KafkaService(broker.bootstrap_servers, "local KafkaBroker", broker)
    try:
        # The default prefix's topics and ACLs, as an operator would set them up.
        service.principals.grant("polku", "polku-tracking", "polku-other")
    except Exception:
        _local_broker = None
        broker.close()
        raise
    try:
        yield service
    finally:
        _local_broker = None
        broker.close()


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(polku_kafka_service: KafkaService) -> str:
    return polku_kafka_service.bootstrap_servers


@pytest.fixture(scope="session")
def kafka_principals(polku_kafka_service: KafkaService) -> Principals:
    return polku_kafka_service.principals


@pytest.fixture(scope="session")
def kafka_broker(polku_kafka_service: KafkaService) -> KafkaBroker:
    """The local broker object, for tests that stop and restart Kafka.

    A test that stops it should start it again; if it does not, the broker is restarted after
    that test so later tests still have Kafka.
    """
    if polku_kafka_service.broker is None:
        unavailable(
            f"test needs the local KafkaBroker to stop/start it, but Kafka came from "
            f"{polku_kafka_service.source}"
        )
    return polku_kafka_service.broker


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    broker = _local_broker
    uses_broker = "kafka_broker" in getattr(item, "fixturenames", ())
    if broker is not None and uses_broker and not broker.running:
        broker.start()


@pytest.fixture(scope="session")
def polku_postgres_service() -> Iterator[PostgresService]:
    explicit = os.environ.get(POSTGRES_ENV, "").strip()
    if explicit:
        yield PostgresService(explicit, f"${POSTGRES_ENV}")
        return
    if docker_available():
        postgres_container = _import_testcontainer("postgres", "PostgresContainer")
        container = postgres_container(POSTGRES_IMAGE, driver=None)
        container.start()
        try:
            yield PostgresService(
                container.get_connection_url(driver=None), f"testcontainers {POSTGRES_IMAGE}"
            )
        finally:
            container.stop()
        return
    try:
        server = PostgresServer()
    except Exception as exc:  # turned into a skip, or a failure in CI
        unavailable(f"no PostgreSQL: no {POSTGRES_ENV}, no Docker engine, no local server: {exc}")
    try:
        server.start()
    except Exception as exc:  # turned into a skip, or a failure in CI
        server.close()
        unavailable(f"no PostgreSQL: no {POSTGRES_ENV}, no Docker engine, local server: {exc}")
    try:
        yield PostgresService(server.url, "local PostgresServer", server)
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_url(polku_postgres_service: PostgresService) -> str:
    return polku_postgres_service.url


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """URL of a new, empty database on the session's server, dropped after the test."""
    with scratch_database(postgres_url) as url:
        yield url


@pytest.fixture
def owned_postgres_url(postgres_url: str) -> Iterator[str]:
    """URL of a new database with its own role and password (a key store's), dropped after."""
    name = f"k_{uuid.uuid4().hex[:16]}"
    url = create_owned_database(postgres_url, name, uuid.uuid4().hex)
    try:
        yield url
    finally:
        drop_owned_database(postgres_url, name)
