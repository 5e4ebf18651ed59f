"""The Kafka adapter: topic names, producer and consumer settings, the structured-mode headers.

Envelopes travel in CloudEvents structured mode: the value is the JSON event, the key is the
subject (so one aggregate's events stay in one partition, in order), and a ``content-type``
header says so.

Every client made here takes the process's ``security`` settings (SASL protocol, mechanism,
principal and password, from :meth:`Settings.kafka_security`): with the broker's ACLs they are
what keeps the restricted topic to tracking's principal.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.cluster import collect_hosts
from kafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from kafka.net import KafkaNetClient, NetworkSelector

from shared.events.envelope import STRUCTURED_CONTENT_TYPE
from shared.settings import RESTRICTED_CHANNELS

log = logging.getLogger("polku.kafka")

TOPIC_PARTITIONS = 6
"""Partitions of a new topic unless ``POLKU_KAFKA_PARTITIONS`` says otherwise: a consumer group
spreads them over at most that many projectors."""

TOPIC_CONFIGS = {"retention.ms": "-1", "retention.bytes": "-1"}
"""The topics are the log the projector rebuilds the read models from: nothing may expire."""


def topic_of(service: str, prefix: str = "polku") -> str:
    return f"{prefix}.{service}.events"


def restricted_topic_of(service: str, prefix: str = "polku") -> str:
    """The topic of a service's restricted channel, which only tracking's principal may read."""
    return f"{prefix}.{service}.restricted"


def topics_of(services: tuple[str, ...], prefix: str = "polku") -> list[str]:
    """Every topic of ``services``: each public one, and the restricted ones where they exist."""
    return [topic_of(s, prefix) for s in services] + [
        restricted_topic_of(s, prefix) for s in services if s in RESTRICTED_CHANNELS
    ]


def make_producer(bootstrap_servers: str, **overrides: Any) -> KafkaProducer:
    """Idempotent, acks=all, batched: the relay sends a batch and flushes once."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers.split(","),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "compression_type": None,
        "max_in_flight_requests_per_connection": 5,
        "request_timeout_ms": 10_000,
        "delivery_timeout_ms": 30_000,
        "max_block_ms": 10_000,
        # After an outage, reconnect within seconds rather than the default 30 s backoff.
        "reconnect_backoff_max_ms": 2_000,
        "client_id": "polku-relay",
    }
    config.update(overrides)
    return KafkaProducer(**config)


def make_consumer(bootstrap_servers: str, group_id: str, **overrides: Any) -> KafkaConsumer:
    """Offsets are committed by hand, after the read models have committed."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers.split(","),
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "max_poll_records": 1000,
        # A member that joined before a topic's metadata arrived notices it within seconds.
        "metadata_max_age_ms": 10_000,
        "reconnect_backoff_max_ms": 2_000,
        "client_id": "polku-projector",
    }
    config.update(overrides)
    return KafkaConsumer(**config)


def finish_cut_short_join(consumer: KafkaConsumer) -> bool:
    """Keeps a group join that a poll's timeout cut short from being forgotten; True if one was.

    kafka-python 3.0.12 drives JoinGroup and SyncGroup in a task that outlives a ``poll`` whose
    timeout expires mid-join, and the next ``poll`` awaits it again, but only while the
    coordinator still says it must rejoin. When the rejoin came from a metadata change (the
    first assignment made before the topic's metadata arrived), the leader's own assignment
    clears that reason during the join: the next ``poll`` then skips the join loop, the task's
    outcome is never applied, no partition is fetched again and heartbeats stay off until the
    broker drops the member. A projector sat there for minutes with records waiting. Marking
    the rejoin as needed again while such a task exists makes the next ``poll`` finish the
    join (or, if the task has ended, join once more). Without these internals (another
    kafka-python), this does nothing.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    if getattr(coordinator, "_join_task", None) is None or coordinator.need_rejoin():  # type: ignore[union-attr]
        return False
    coordinator.rejoin_needed = True  # type: ignore[union-attr]
    return True


def ensure_topics(
    bootstrap_servers: str,
    services: tuple[str, ...],
    prefix: str = "polku",
    security: Mapping[str, Any] | None = None,
    partitions: int = TOPIC_PARTITIONS,
) -> None:
    """Creates the services' topics with ``partitions`` partitions, to scale projectors out.

    They are created with unlimited retention (:data:`TOPIC_CONFIGS`): when its read models are
    empty the projector replays a topic from its beginning, so an expired event would be a
    hole in every rebuilt view. Topics that already exist are not altered (that is an
    operator's decision), but a finite retention is logged as a warning.
    """
    admin = _closed_on_failure(
        KafkaAdminClient,
        bootstrap_servers=bootstrap_servers.split(","),
        client_id="polku",
        bootstrap_timeout_ms=10_000,  # fail at start-up in seconds, not half a minute
        **(security or {}),
    )
    try:
        topics = topics_of(services, prefix)
        existing = set(admin.list_topics())
        wanted = {
            topic: {
                "num_partitions": partitions,
                "replication_factor": 1,
                "configs": dict(TOPIC_CONFIGS),
            }
            for topic in topics
            if topic not in existing
        }
        created = set()
        if wanted:
            try:
                # Until a new topic is in the broker's metadata, a DescribeConfigs for it fails
                # (and kafka-python answers that with no configs at all), so wait for it.
                admin.create_topics(wanted, wait_for_metadata=True)
                created = set(wanted)
            except TopicAlreadyExistsError:
                pass  # another process won the race: check what it created like the rest
        _warn_about_finite_retention(admin, [t for t in topics if t not in created])
    finally:
        admin.close()


def topic_retention(
    admin: KafkaAdminClient, topics: list[str], wait_s: float = 10.0
) -> dict[str, dict[str, int]]:
    """``{topic: {"retention.ms": n, "retention.bytes": n}}``, the effective values (-1: none).

    kafka-python 3 drops a resource's error code from a DescribeConfigs answer and returns no
    configs for it instead, which is what a topic created a moment ago gets until the broker
    knows it. Such topics are asked again for up to ``wait_s`` seconds; one still unknown then
    maps to ``{}``.
    """
    retention: dict[str, dict[str, int]] = {}
    pending = list(topics)
    deadline = time.monotonic() + wait_s
    while pending:
        resources = [
            ConfigResource(ConfigResourceType.TOPIC, topic, list(TOPIC_CONFIGS))
            for topic in pending
        ]
        described = admin.describe_configs(resources, config_filter="all").get("topic", {})
        for topic in pending:
            retention[topic] = {
                key: int(entry["value"])
                for key, entry in described.get(topic, {}).items()
                if key in TOPIC_CONFIGS and entry.get("value") is not None
            }
        pending = [topic for topic in pending if not retention[topic]]
        if pending and time.monotonic() >= deadline:
            break
        if pending:
            time.sleep(0.2)
    return {topic: retention[topic] for topic in topics}


def _warn_about_finite_retention(admin: KafkaAdminClient, topics: list[str]) -> None:
    try:
        retention = topic_retention(admin, topics)
    except (KafkaError, KeyError, ValueError) as exc:  # a check, never a reason not to start
        log.warning("could not check the retention of %s: %s", ", ".join(topics), exc)
        return
    for topic, values in retention.items():
        finite = {key: value for key, value in values.items() if value >= 0}
        if finite:
            settings = ", ".join(f"{key}={value}" for key, value in sorted(finite.items()))
            log.warning(
                "Kafka topic %s has a finite retention (%s): events older than that are deleted "
                "and a projector rebuilding its read models from the topic would miss them; "
                "set %s on it (kafka-configs.sh --alter --entity-type topics --entity-name %s "
                "--add-config %s)",
                topic,
                settings,
                " and ".join(f"{key}=-1" for key in sorted(finite)),
                topic,
                ",".join(f"{key}=-1" for key in sorted(finite)),
            )


def _closed_on_failure(client_class: Callable[..., Any], **config: Any) -> Any:
    """Builds a kafka-python client whose constructor may fail without leaking its IO thread.

    A KafkaAdminClient (or KafkaConsumer) starts its network thread and sockets before it
    bootstraps; when the bootstrap fails, the half-built client is never returned, so nobody
    could close them. The network client it creates is captured here and closed on failure.
    """
    created: list[KafkaNetClient] = []

    def network_client(**configs: Any) -> KafkaNetClient:
        client = KafkaNetClient(**configs)
        created.append(client)
        return client

    try:
        return client_class(kafka_client=network_client, **config)
    except BaseException:
        for client in created:
            with contextlib.suppress(Exception):
                client.close()
        raise


STRUCTURED_HEADERS = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]
"""Every record is a structured-mode CloudEvent; the headers never vary."""


PROBE_CACHE_SECONDS = 2.0
"""How long a probe's answer stands: a flood of /readyz calls opens one connection per period."""

_clock: Callable[[], float] = time.monotonic
_probe_lock = threading.Lock()
_probe_results: dict[str, tuple[float, Exception | None]] = {}


def ping(
    bootstrap_servers: str, timeout_ms: int = 2000, security: Mapping[str, Any] | None = None
) -> None:
    """Raises unless a broker answers a metadata request within the timeout.

    The answer (success or the error) is cached for :data:`PROBE_CACHE_SECONDS` per set of
    brokers; concurrent callers wait for the one probe under way rather than start their own.
    """
    key = f"{(security or {}).get('sasl_plain_username', '')}@{bootstrap_servers}"
    with _probe_lock:
        cached = _probe_results.get(key)
        if cached is None or _clock() - cached[0] >= PROBE_CACHE_SECONDS:
            error: Exception | None = None
            try:
                probe(bootstrap_servers, timeout_ms, security)
            except Exception as exc:
                error = exc
            cached = _probe_results[key] = (_clock(), error)
    if cached[1] is not None:
        # A copy per caller: re-raising one shared instance would grow its traceback forever.
        raise _fresh(cached[1]) from cached[1]


def probe(
    bootstrap_servers: str, timeout_ms: int = 2000, security: Mapping[str, Any] | None = None
) -> None:
    """One uncached metadata round trip; whatever happens, no thread or socket outlives it.

    First a plain TCP connection, closed at once: a broker that is down is found without
    kafka-python, whose failed connection attempts leave their sockets to the garbage
    collector. Then a bare network client, driven on the calling thread (no IO thread is
    started), bootstraps from the brokers (ApiVersions, Metadata) and is closed in ``finally``.
    """
    _accepts_connections(bootstrap_servers, timeout_ms)
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers.split(","),
        "client_id": "polku-ping",
        "request_timeout_ms": max(timeout_ms, 1000) + 500,
        "socket_connection_setup_timeout_ms": timeout_ms,
        "reconnect_backoff_max_ms": 1000,
        **(security or {}),
    }
    net = NetworkSelector(**config)  # its wake-up socket pair is closed even if the rest fails
    try:
        client = KafkaNetClient(net=net, **config)
        try:
            client.check_version(timeout_ms=timeout_ms)
        finally:
            client.close()
    finally:
        net.close()


def _accepts_connections(bootstrap_servers: str, timeout_ms: int) -> None:
    """Returns once one of the brokers accepts a TCP connection; raises if none does in time."""
    deadline = time.monotonic() + timeout_ms / 1000
    failures = []
    for host, port, _family in collect_hosts(bootstrap_servers, randomize=False):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            failures.append(f"{host}:{port}: not tried within {timeout_ms} ms")
            continue
        try:
            with socket.create_connection((host, port), timeout=remaining):
                return
        except OSError as exc:
            failures.append(f"{host}:{port}: {exc}")
    raise KafkaConnectionError(f"no broker accepts connections ({'; '.join(failures)})")


def _fresh(error: Exception) -> Exception:
    try:
        return copy.copy(error)
    except Exception:  # an exception class that cannot be rebuilt from its args
        return ConnectionError(str(error))


def forget_probes() -> None:
    """Drops the cached probe answers (tests, or a caller that must know now)."""
    with _probe_lock:
        _probe_results.clear()
