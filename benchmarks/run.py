"""Measures Polku against the targets in DESIGN.md ("Targets"), each as a ratio to a baseline
measured in the same run on the same store or broker.

Sections:

1. Command path: ``POST /enrolment/people`` through the embedded WSGI app vs raw
   ``Application.save`` of equivalent Person aggregates (target: at least 50%).
2. Relay: ``Relay.drain()`` vs a raw kafka-python producer sending the same bytes (at least 70%).
3. Rebuild: ``Projector.drain()`` over ``OutboxFeed`` into a fresh SQLite read model vs raw
   read-and-decode of the same log (at least 30%, and at least 20,000 events/s).
4. Freshness: command to visible in the tracking roster, embedded (p95 under 100 ms) and
   through Kafka (p95 under 1 s).
5. and 6. The read side on the TEMPO pilot (:mod:`benchmarks.queries`): the rebuild rate of
   both services' pilot logs, and each tracking view's latency (a cohort's report under 100 ms).

The verdicts are informational: the exit code is 0 unless something crashes. Run
``python -m benchmarks.run --help`` for the options.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import logging
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.cohorts import Cohort
from services.enrolment.domain.people import Person
from services.enrolment.domain.programmes import Programme
from services.runtime import WriteService, build_embedded, build_tracking, build_write_service
from shared import kafka
from shared.feeds import OutboxFeed
from shared.settings import Settings
from shared.web.pagination import MAX_LIMIT
from tests.support.slice import SECRET, Http

COHORT_SIZE = 50
"""Enrolments per cohort in the pre-filled log (a cohort aggregate grows one event per place)."""

SAVE_CHUNK = 100
"""Aggregates per ``save`` while pre-filling a log (pre-filling is not what is measured)."""


# Results -------------------------------------------------------------------------------------


@dataclass
class Result:
    """One measured target. ``status`` is PASS, BELOW or SKIP (informational only)."""

    section: str
    metric: str
    unit: str
    figure: float | None = None
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    target: str = ""
    status: str = "SKIP"
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def skipped(cls, section: str, metric: str, unit: str, target: str, why: str) -> Result:
        return cls(section, metric, unit, target=target, status="SKIP", details={"skipped": why})


def ratio_result(
    section: str,
    metric: str,
    figure: float,
    baseline: float,
    baseline_name: str,
    target_ratio: float,
    details: dict[str, Any] | None = None,
) -> Result:
    ratio = figure / baseline
    return Result(
        section,
        metric,
        "events/s",
        figure=figure,
        baseline=baseline,
        baseline_name=baseline_name,
        ratio=ratio,
        target=f"ratio >= {target_ratio:.0%}",
        status="PASS" if ratio >= target_ratio else "BELOW",
        details={"target_ratio": target_ratio, **(details or {})},
    )


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation), so p95 is an observed sample."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def say(message: str) -> None:
    print(message, flush=True)


# Shared helpers ------------------------------------------------------------------------------


def bench_meta() -> dict[str, str]:
    return {
        "actor_sub": "benchmark",
        "actor_role": "coordinator",
        "correlation_id": str(uuid.uuid4()),
    }


def person_body(n: int) -> dict[str, str]:
    """The body of ``POST /enrolment/people``; also the fields of an equivalent Person."""
    return {
        "full_name": f"Benchmark Person {n}",
        "email": f"bench.{n}@example.invalid",
        "employee_number": f"B-{n:07d}",
        "organisation": "TEM",
        "department": f"Department {n % 7}",
        "unit": f"Unit {n % 31}",
    }


SEALED = "aesgcm1." + "A" * 160
"""A stand-in for sealed personal fields, as long as real ones: the raw baseline saves the
event without the key-store write and the encryption that the command path includes."""


def new_person(n: int) -> Person:
    b = person_body(n)
    return Person.register(
        uuid.uuid4(), SEALED, b["organisation"], b["department"], b["unit"], bench_meta()
    )


def fill_log(application: EnrolmentApplication, events: int) -> int:
    """Writes about ``events`` enrolment events (people, cohorts, enrolments); returns the head.

    The mix is what tracking projects: one programme, then per cohort one ``Planned`` and for
    each place a ``Registered`` person and a ``ParticipantEnrolled``.
    """
    meta = bench_meta()
    programme = Programme("Benchmark", "TEM", "", [], meta)
    pending: list[Any] = [programme]
    written = 1
    n = 0
    while written < events:
        cohort = Cohort.plan(
            programme.id,
            f"Cohort {n}",
            COHORT_SIZE,
            dt.date(2024, 1, 1),
            dt.date(2024, 6, 30),
            meta,
        )
        written += 1
        for _ in range(COHORT_SIZE):
            if written + 2 > events:
                break
            person = new_person(n)
            n += 1
            cohort.enrol(person.id, meta)
            pending.append(person)
            written += 2
        pending.append(cohort)
        if len(pending) >= SAVE_CHUNK:
            application.save(*pending)
            pending = []
    if pending:
        application.save(*pending)
    return application.head()


def prepare_log(workdir: Path, events: int) -> WriteService:
    """An enrolment write service (its own SQLite file) pre-filled with about ``events``."""
    service = build_write_service(Settings(data_dir=workdir / "log"), "enrolment")
    fill_log(service.application, events)
    return service


def read_and_decode(application: Any, batch: int = 1000) -> int:
    """The raw rate limit of a reader: every notification read and decoded, nothing else."""
    after = 0
    decoded = 0
    while True:
        notifications = application.notifications_after(after, batch)
        if not notifications:
            return decoded
        for notification in notifications:
            application.mapper.to_domain_event(notification)
            decoded += 1
        after = notifications[-1].id


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = action()
    return time.perf_counter() - began, value


# 1. Command path -----------------------------------------------------------------------------


def bench_command_path(workdir: Path, commands: int, warmup: int = 50, rounds: int = 6) -> Result:
    """HTTP command to committed event vs raw ``Application.save``, interleaved in rounds.

    The HTTP side is the embedded runtime's combined WSGI app (not started: no background
    threads compete), driven by werkzeug's test client; the raw side is an application on a
    fresh SQLite file of its own. Each side writes one Person per command.
    """
    runtime = build_embedded(Settings(data_dir=workdir / "command-http", jwt_secret=SECRET))
    raw_settings = Settings(data_dir=workdir / "command-raw")
    raw_settings.data_dir.mkdir(parents=True, exist_ok=True)
    raw = EnrolmentApplication(raw_settings.eventstore_env("enrolment"))
    try:
        http = Http(runtime.wsgi)
        serial = iter(range(10**9))

        def http_commands(count: int) -> None:
            for _ in range(count):
                http.post("/enrolment/people", person_body(next(serial)))

        def raw_saves(count: int) -> None:
            for _ in range(count):
                raw.save(new_person(next(serial)))

        http_commands(warmup)
        raw_saves(warmup)
        per_round = max(1, commands // rounds)
        http_seconds = raw_seconds = http_cpu = raw_cpu = 0.0
        for turn in range(rounds):  # the order alternates, so a burst of load hits both alike
            for side in ("raw", "http") if turn % 2 == 0 else ("http", "raw"):
                began_cpu = time.process_time()
                if side == "raw":
                    raw_seconds += timed(lambda: raw_saves(per_round))[0]
                    raw_cpu += time.process_time() - began_cpu
                else:
                    http_seconds += timed(lambda: http_commands(per_round))[0]
                    http_cpu += time.process_time() - began_cpu
        total = per_round * rounds
        http_app = runtime.services["enrolment"].application
        committed = http_app.head()
        assert committed == warmup + total, (committed, warmup + total)
        assert raw.head() == warmup + total, (raw.head(), warmup + total)
        return ratio_result(
            "command path",
            "HTTP command -> committed event",
            total / http_seconds,
            total / raw_seconds,
            "raw Application.save",
            0.50,
            {
                "commands": total,
                "rounds": rounds,
                "store": "SQLite file (WAL)",
                "cpu_ratio": raw_cpu / http_cpu,
            },
        )
    finally:
        runtime.close()
        raw.close()


# 2. Relay ------------------------------------------------------------------------------------


def bench_relay(
    service: WriteService,
    bootstrap: str,
    rounds: int = 2,
    warmup: int = 200,
    security: dict[str, Any] | None = None,
) -> Result:
    """``Relay.drain()`` over the pre-filled log vs raw producer sends of the same bytes.

    Both producers get the project's producer configuration (``shared.kafka.make_producer``:
    acks=all, idempotent, linger 5 ms, 256 KiB batches), and topics with the same partitions,
    on the same broker. A kafka-python-defaults producer (acks=all, idempotent) is reported too.
    """
    from kafka import KafkaProducer

    prefix = f"bench{uuid.uuid4().hex[:10]}"
    raw_prefix = f"{prefix}-raw"
    security = security or {}
    settings = Settings(kafka_bootstrap_servers=bootstrap, kafka_topic_prefix=prefix)
    kafka.ensure_topics(bootstrap, ("enrolment",), prefix, security)
    kafka.ensure_topics(bootstrap, ("enrolment",), raw_prefix, security)
    relay_topic = kafka.topic_of("enrolment", prefix)
    raw_topic = kafka.topic_of("enrolment", raw_prefix)

    # The exact records the relay will send: same keys, values and headers.
    messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
    after = 0
    while True:
        batch = service.outbox.read(after, 1000)
        if batch.last_position == after:
            break
        for envelope in batch.envelopes:
            messages.append(
                (envelope.subject.encode(), envelope.to_json(), kafka.STRUCTURED_HEADERS)
            )
        after = batch.last_position
    events = len(messages)
    sizes = sorted(len(m[1]) for m in messages)

    def send_all(producer: Any, topic: str, items: Sequence[tuple[bytes, bytes, Any]]) -> None:
        for key, value, headers in items:
            producer.send(topic, key=key, value=value, headers=headers)
        producer.flush()

    relay_producer = kafka.make_producer(bootstrap, client_id="polku-bench-relay", **security)
    raw_producer = kafka.make_producer(bootstrap, client_id="polku-bench-raw", **security)
    default_producer = KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        **security,
        acks="all",
        enable_idempotence=True,
        client_id="polku-bench-defaults",
    )
    try:
        # Warm up: metadata, connections, producer ids, JIT-free but cache-warm code paths.
        send_all(relay_producer, relay_topic, messages[:warmup])
        send_all(raw_producer, raw_topic, messages[:warmup])
        send_all(default_producer, raw_topic, messages[:warmup])
        relay_rates: list[float] = []
        raw_rates: list[float] = []
        default_rates: list[float] = []
        for _ in range(rounds):
            seconds, _ = timed(lambda: send_all(raw_producer, raw_topic, messages))
            raw_rates.append(events / seconds)
            relay = service.relay(settings, relay_producer)
            relay.positions.put(relay.name, 0)  # republish the whole log each round
            seconds, published = timed(relay.drain)
            assert published == events, (published, events)
            relay_rates.append(events / seconds)
            seconds, _ = timed(lambda: send_all(default_producer, raw_topic, messages))
            default_rates.append(events / seconds)
        return ratio_result(
            "relay",
            "Relay.drain() publish rate",
            max(relay_rates),
            max(raw_rates),
            "raw kafka-python producer",
            0.70,
            {
                "events": events,
                "rounds": rounds,
                "relay_batch_size": settings.relay_batch_size,
                "value_bytes_median": sizes[len(sizes) // 2] if sizes else 0,
                "relay_rates": relay_rates,
                "raw_rates": raw_rates,
                "raw_kafka_python_defaults_rate": max(default_rates),
            },
        )
    finally:
        for producer in (relay_producer, raw_producer, default_producer):
            producer.close(timeout=5)


# 3. Rebuild ----------------------------------------------------------------------------------


def bench_rebuild(service: WriteService, workdir: Path, rounds: int = 2) -> list[Result]:
    """``Projector.drain()`` into a fresh SQLite read model vs raw read-and-decode of the log."""
    outbox = service.outbox
    application = service.application
    events = application.head()

    # Warm up both paths (imports, statement caches, the registry) on a throwaway read model.
    read_and_decode(application)
    warm = build_tracking(Settings(data_dir=workdir / "rebuild-warmup"), OutboxFeed({"x": outbox}))
    try:
        warm.projector.run_once()
    finally:
        warm.close()

    projector_rates: list[float] = []
    raw_rates: list[float] = []
    batches = 0
    for n in range(rounds):
        seconds, decoded = timed(lambda: read_and_decode(application))
        assert decoded == events, (decoded, events)
        raw_rates.append(decoded / seconds)
        tracking = build_tracking(
            Settings(data_dir=workdir / f"rebuild-{n}"), OutboxFeed({"enrolment": outbox})
        )
        try:
            seconds, applied = timed(functools.partial(tracking.projector.drain, timeout=600))
            assert applied == events, (applied, events)
            assert tracking.projector.stats.dead_lettered == 0
            projector_rates.append(applied / seconds)
            batches = tracking.projector.stats.batches
        finally:
            tracking.close()
    figure = max(projector_rates)
    details = {
        "events": events,
        "rounds": rounds,
        "projector_batches": batches,
        "projector_rates": projector_rates,
        "raw_rates": raw_rates,
    }
    relative = ratio_result(
        "rebuild",
        "Projector.drain() over OutboxFeed",
        figure,
        max(raw_rates),
        "raw read + decode",
        0.30,
        details,
    )
    absolute = Result(
        "rebuild",
        "rebuild rate, absolute (SQLite)",
        "events/s",
        figure=figure,
        target=">= 20,000 events/s",
        status="PASS" if figure >= 20_000 else "BELOW",
        details={"target_events_per_s": 20_000, "cpus": os.cpu_count()},
    )
    return [relative, absolute]


# 4. Freshness --------------------------------------------------------------------------------


def roster_ids(http: Http, roster_path: str) -> set[str]:
    """Everyone on the roster, page by page (empty while tracking does not know the cohort)."""
    ids: set[str] = set()
    after: int | None = 0
    while after is not None:
        response = http.call("GET", f"{roster_path}?after={after}&limit={MAX_LIMIT}")
        if response.status_code != 200:
            return ids
        page = response.get_json()
        ids.update(p["person_id"] for p in page["participants"])
        after = page["next_after"]
    return ids


def measure_freshness(
    settings: Settings, samples: int, warmup: int, first_timeout: float, max_gap: float
) -> list[float]:
    """Seconds from sending ``POST .../enrolments`` to the person being on the roster.

    The people are registered first (untimed), so each sample is one lone command. Before
    each, the client idles for a random gap of up to ``max_gap`` seconds: commands arrive at
    independent moments, not just as the projector finishes the previous one (which would
    always catch it mid long-poll and flatter the Kafka figure).
    """
    runtime = build_embedded(settings)
    try:
        runtime.start()
        http = Http(runtime.wsgi)
        programme = http.post("/enrolment/programmes", {"name": "Fresh", "organisation": "TEM"})
        cohort = http.post(
            "/enrolment/cohorts",
            {
                "programme_id": programme["id"],
                "name": "Freshness",
                "capacity": samples + warmup + 10,
                "start_date": "2024-01-01",
                "end_date": "2024-06-30",
            },
        )
        roster_path = f"/tracking/cohorts/{cohort['id']}/roster"
        enrol_path = f"/enrolment/cohorts/{cohort['id']}/enrolments"
        people = [
            http.post("/enrolment/people", person_body(n))["id"] for n in range(warmup + samples)
        ]

        def visible(person_id: str, timeout: float) -> float:
            began = time.perf_counter()
            http.post(enrol_path, {"person_id": person_id})
            deadline = began + timeout
            while True:
                if person_id in roster_ids(http, roster_path):
                    return time.perf_counter() - began
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{person_id} not on the roster after {timeout}s")
                time.sleep(0.001)

        gaps = random.Random(20240101)
        latencies: list[float] = []
        for n, person_id in enumerate(people):
            # The first waits for the consumer group to form (Kafka) and the backlog of people.
            latency = visible(person_id, first_timeout if n == 0 else 30.0)
            if n >= warmup:
                latencies.append(latency)
            time.sleep(gaps.uniform(0, max_gap))
        return latencies
    finally:
        runtime.close()


def freshness_result(
    metric: str, latencies: list[float], p95_target_ms: float, **extra: Any
) -> Result:
    ms = [s * 1000 for s in latencies]
    p95 = percentile(ms, 95)
    return Result(
        "freshness",
        metric,
        "ms p95",
        figure=p95,
        target=f"p95 < {p95_target_ms:.0f} ms",
        status="PASS" if p95 < p95_target_ms else "BELOW",
        details={
            "samples": len(ms),
            "p50_ms": percentile(ms, 50),
            "p95_ms": p95,
            "max_ms": max(ms),
            "target_p95_ms": p95_target_ms,
            **extra,
        },
    )


def bench_freshness_embedded(
    workdir: Path, samples: int, poll_interval: float, warmup: int = 5
) -> Result:
    settings = Settings(
        data_dir=workdir / "fresh-embedded", jwt_secret=SECRET, poll_interval=poll_interval
    )
    latencies = measure_freshness(settings, samples, warmup, first_timeout=30.0, max_gap=0.05)
    return freshness_result(
        "command -> roster, embedded",
        latencies,
        100,
        max_gap_s=0.05,
        poll_interval_s=poll_interval,
    )


def bench_freshness_kafka(
    workdir: Path,
    samples: int,
    bootstrap: str,
    poll_interval: float,
    warmup: int = 5,
    credentials: dict[str, Any] | None = None,
) -> Result:
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        data_dir=workdir / "fresh-kafka",
        jwt_secret=SECRET,
        kafka_bootstrap_servers=bootstrap,
        kafka_topic_prefix=f"bench{tag}",
        kafka_group_id=f"bench-tracking-{tag}",
        feed="kafka",
        poll_interval=poll_interval,
        **(credentials or {}),
    )
    latencies = measure_freshness(settings, samples, warmup, first_timeout=90.0, max_gap=0.5)
    return freshness_result(
        "command -> roster, through Kafka",
        latencies,
        1000,
        max_gap_s=0.5,
        poll_interval_s=poll_interval,
    )


# Kafka resolution ----------------------------------------------------------------------------


@contextlib.contextmanager
def kafka_broker(explicit: str | None, skip: bool) -> Iterator[tuple[str | None, str, Any]]:
    """Yields (bootstrap servers or None, where they came from / why Kafka is skipped, and the
    local broker, whose admin principal the benchmarks connect as, or None)."""
    if skip:
        yield None, "skipped (--skip-kafka)", None
        return
    if explicit:
        yield explicit, f"--kafka {explicit}", None
        return
    from_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if from_env:
        yield from_env, f"KAFKA_BOOTSTRAP_SERVERS={from_env}", None
        return
    try:
        from tests.support.kafka_broker import KafkaBroker

        say("starting a local Kafka broker (tests.support.kafka_broker) ...")
        broker = KafkaBroker()
        began = time.perf_counter()
        broker.start()
    except Exception as exc:
        yield None, f"no broker: {exc.__class__.__name__}: {str(exc).splitlines()[0][:200]}", None
        return
    try:
        say(f"  local broker at {broker.bootstrap_servers} ({time.perf_counter() - began:.1f}s)")
        yield broker.bootstrap_servers, f"local broker {broker.bootstrap_servers}", broker
    finally:
        broker.close()


# Reporting -----------------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit.startswith("ms"):
        return f"{value:,.1f} ms"
    return f"{value:,.0f}/s"


def table(results: Sequence[Result]) -> str:
    header = ("Section", "Metric", "Figure", "Baseline", "Ratio", "Target", "Status")
    rows = [header]
    for r in results:
        figure = fmt(r.figure, r.unit)
        if r.section in ("freshness", "queries") and r.details.get("p50_ms") is not None:
            figure = f"p50 {r.details['p50_ms']:.1f} / p95 {r.figure:.1f} ms"
        rows.append(
            (
                r.section,
                r.metric,
                figure,
                fmt(r.baseline, r.unit) if r.baseline is not None else "-",
                f"{r.ratio:.0%}" if r.ratio is not None else "-",
                r.target,
                r.status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe(result: Result) -> str:
    if result.status == "SKIP":
        return f"  SKIP  {result.section}: {result.metric}: {result.details.get('skipped', '')}"
    if result.ratio is not None:
        return (
            f"  {result.status:5} {result.section}: {result.metric}: "
            f"{fmt(result.figure, result.unit)} vs "
            f"{result.baseline_name} {fmt(result.baseline, result.unit)} = {result.ratio:.0%} "
            f"({result.target})"
        )
    return (
        f"  {result.status:5} {result.section}: {result.metric}: {fmt(result.figure, result.unit)}"
    )


# Entry point ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    events: int
    commands: int
    samples_embedded: int
    samples_kafka: int
    rounds: int


def plan_for(args: argparse.Namespace) -> Plan:
    if args.quick:
        default = Plan(events=3_000, commands=300, samples_embedded=20, samples_kafka=10, rounds=1)
    else:
        default = Plan(
            events=20_000, commands=2_000, samples_embedded=200, samples_kafka=60, rounds=2
        )
    return Plan(
        events=args.events or default.events,
        commands=args.commands or default.commands,
        samples_embedded=args.samples or default.samples_embedded,
        samples_kafka=args.samples or default.samples_kafka,
        rounds=default.rounds,
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=(
            "Measure Polku against the DESIGN.md targets. Each figure is compared with a baseline "
            "measured in the same run on the same store or broker; PASS/BELOW is informational "
            "and the exit code is 0 unless something crashes."
        ),
        epilog=(
            "Kafka: --kafka, else $KAFKA_BOOTSTRAP_SERVERS, else a local broker started from the "
            "cached jars (tests.support.kafka_broker), else the Kafka sections are skipped."
        ),
    )
    p.add_argument(
        "--events",
        type=int,
        metavar="N",
        help="events in the pre-filled log for the relay and rebuild (default 20000, quick 3000)",
    )
    p.add_argument(
        "--commands",
        type=int,
        metavar="N",
        help="commands per side for the command path (default 2000, quick 300)",
    )
    p.add_argument(
        "--samples",
        type=int,
        metavar="N",
        help="freshness samples per mode (default 200 embedded / 60 Kafka; quick 20 / 10)",
    )
    p.add_argument("--kafka", metavar="BOOTSTRAP", help="Kafka bootstrap servers (host:port,...)")
    p.add_argument("--skip-kafka", action="store_true", help="skip the relay and Kafka freshness")
    p.add_argument("--quick", action="store_true", help="small sizes: finishes in about 30 s")
    p.add_argument(
        "--poll-interval",
        type=float,
        default=Settings().poll_interval,
        metavar="S",
        help="the runtime's poll interval for the freshness runs (default: the Settings default)",
    )
    p.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    plan = plan_for(args)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)
    workdir = Path(tempfile.mkdtemp(prefix="polku-bench-"))
    results: list[Result] = []
    started = time.perf_counter()
    say(f"Polku benchmarks: {plan} in {workdir}")
    try:
        say("1. command path ...")
        results.append(bench_command_path(workdir, plan.commands, rounds=6))
        say(describe(results[-1]))

        say("7. cohort commands ...")
        from benchmarks.cohorts import bench_cohort_commands

        results.append(bench_cohort_commands(workdir, plan.commands))
        say(describe(results[-1]))

        say(f"   pre-filling an enrolment log with {plan.events} events ...")
        fill_seconds, service = timed(lambda: prepare_log(workdir, plan.events))
        say(f"   {service.application.head()} events in {fill_seconds:.1f}s")
        try:
            say("3. rebuild ...")
            results.extend(bench_rebuild(service, workdir, rounds=plan.rounds))
            for r in results[-2:]:
                say(describe(r))

            say("8. the HTTP event feed ...")
            from benchmarks.feed import bench_feed

            results.append(bench_feed(service, workdir, rounds=plan.rounds))
            say(describe(results[-1]))

            say("5. and 6. the pilot: rebuild and view latencies ...")
            from benchmarks.queries import bench_pilot

            pilot_results = bench_pilot(workdir, plan.samples_embedded // 4 or 5)
            results.extend(pilot_results)
            for r in pilot_results:
                say(describe(r))

            say("4. freshness, embedded ...")
            results.append(
                bench_freshness_embedded(workdir, plan.samples_embedded, args.poll_interval)
            )
            say(describe(results[-1]))

            with kafka_broker(args.kafka, args.skip_kafka) as (bootstrap, where, local):
                # The local broker runs SASL with ACLs: connect as its admin (relay and projector).
                security = local.client_config("admin") if local else {}
                credentials = (
                    {
                        "kafka_security_protocol": security["security_protocol"],
                        "kafka_username": security["sasl_plain_username"],
                        "kafka_password": security["sasl_plain_password"],
                    }
                    if security
                    else {}
                )
                say(f"Kafka: {where}")
                if bootstrap is None:
                    results.append(
                        Result.skipped(
                            "relay", "Relay.drain() publish rate", "events/s", "ratio >= 70%", where
                        )
                    )
                    results.append(
                        Result.skipped(
                            "freshness",
                            "command -> roster, through Kafka",
                            "ms p95",
                            "p95 < 1000 ms",
                            where,
                        )
                    )
                else:
                    say("2. relay ...")
                    results.append(
                        bench_relay(service, bootstrap, rounds=plan.rounds, security=security)
                    )
                    say(describe(results[-1]))
                    say("4. freshness, through Kafka ...")
                    results.append(
                        bench_freshness_kafka(
                            workdir,
                            plan.samples_kafka,
                            bootstrap,
                            args.poll_interval,
                            credentials=credentials,
                        )
                    )
                    say(describe(results[-1]))
        finally:
            service.close()
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    order = {"command path": 0, "relay": 1, "rebuild": 2, "freshness": 3, "queries": 4}
    results.sort(key=lambda r: order.get(r.section, 9))
    elapsed = time.perf_counter() - started
    say("")
    say(table(results))
    say(
        f"\n{elapsed:.0f}s on {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; verdicts are informational."
    )
    if args.json:
        payload = {
            "when": dt.datetime.now(dt.UTC).isoformat(),
            "python": sys.version,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "plan": asdict(plan),
            "seconds": elapsed,
            "results": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2))
        say(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
