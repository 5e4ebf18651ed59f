"""p50/p95 of every tracking view at one size, live and ``as_of``, through the WSGI stack.

The views are found in the tracking app's URL map, so a view added later is measured without
changing this module: every GET rule under ``/tracking/cohorts/<id>/``,
``/tracking/people/<id>/`` and ``/tracking/programmes/<id>/``, and as organisation views every
rule under ``/tracking/`` with no argument but the operational ones (status, audit, the API
docs). Each is asked for one cohort (from the middle of the period), its programme, one of its
completers, and the organisation, with a hr_admin token: first live, then ``as_of`` a moment
after the load. The first ``as_of`` request of the run is reported on its own (it may build
what later ones reuse), with the growth of resident memory it caused.

Beside each view with an equivalent, :mod:`benchmarks.state.baseline` times hand-written SQL
over flat, indexed copies of the read model's tables in the same database: the ratio is how
many times the view's p95 is the floor's.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.test import Client

from benchmarks.state.baseline import BASELINES, copy_flat, state_funnel
from benchmarks.state.figures import Figure, SizeRun, percentile, rss_mb
from benchmarks.state.plan import ViewPlan
from services.runtime import Embedded
from shared.auth import issue_token
from tests.support.slice import SECRET

OPERATIONAL = ("status", "audit", "docs", "openapi.json", "swagger-ui", "redoc")
PAUSE_MS = 5.0
"""A collection at least this long is reported with the sample it fell in."""


class Pauses:
    """The garbage collector's pauses (generation, ms) from a ``gc.callbacks`` hook, so that a
    slow sample can be told apart: the collector's, or the query's."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, float]] = []
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seen.append((info["generation"], (time.perf_counter() - self._began) * 1000))

    def since(self, mark: int) -> list[list[float]]:
        return [[g, round(ms, 1)] for g, ms in self.seen[mark:] if ms >= PAUSE_MS]


BASELINE_SAMPLES = 50
"""Hand-written SQL takes well under a millisecond: enough samples that one collector pause
does not become the p95."""
SCOPES = {"cohort_id": "cohort", "programme_id": "programme", "person_id": "person"}


def tracking_views(runtime: Embedded) -> list[tuple[str, str]]:
    """(scope, rule) of every GET view of tracking, in a stable order."""
    found = []
    for rule in runtime.apps["tracking"].url_map.iter_rules():
        path = rule.rule
        if "GET" not in (rule.methods or ()) or not path.startswith("/tracking/"):
            continue
        arguments = set(rule.arguments)
        if not arguments:
            if path.removeprefix("/tracking/").split("/")[0] in OPERATIONAL:
                continue
            found.append(("organisation", path))
        elif len(arguments) == 1 and next(iter(arguments)) in SCOPES:
            found.append((SCOPES[next(iter(arguments))], path))
    return sorted(found)


def measure_views(
    run: SizeRun, runtime: Embedded, plan: ViewPlan, samples: int, say: Any = print
) -> None:
    client = Client(runtime.wsgi)
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 'bench-state', 'hr_admin')}"}
    pauses = Pauses()
    gc.callbacks.append(pauses)
    try:
        _measure_views(run, runtime, plan, samples, say, client, headers, pauses)
    finally:
        gc.callbacks.remove(pauses)


def _measure_views(
    run: SizeRun,
    runtime: Embedded,
    plan: ViewPlan,
    samples: int,
    say: Any,
    client: Client,
    headers: dict[str, str],
    pauses: Pauses,
) -> None:
    slow: list[Any] = []

    def latency(path: str, **query: str) -> float:
        mark = len(pauses.seen)
        began = time.perf_counter()
        response = client.get(path, query_string=query, headers=headers)
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} {query}: {response.status_code} {response.text}")
        slow[:] = [round(elapsed, 1), pauses.since(mark)]
        return elapsed

    def sample(path: str, count: int, **query: str) -> tuple[list[float], list[Any]]:
        """``count`` timings, and each with the collector's pauses in it (gen, ms)."""
        timings, seen = [], []
        for _ in range(count):
            timings.append(latency(path, **query))
            seen.append(list(slow))
        return timings, seen

    ids = {
        "cohort_id": plan.cohort_id,
        "programme_id": plan.programme_id,
        "person_id": plan.person_id,
    }
    views = tracking_views(runtime)
    database = runtime.tracking.readmodels.database
    copy_flat(database)
    state = _timings(database, state_funnel, plan, max(samples, BASELINE_SAMPLES))
    run.add(
        Figure(
            "state-wide funnel, hand-written SQL p95",
            "ms",
            percentile(state, 95),
            details={"p50_ms": percentile(state, 50), "samples": len(state)},
        )
    )
    time.sleep(0.01)  # the moment must be strictly after the last event's time
    moment = dt.datetime.now(dt.UTC).isoformat()
    first_as_of = True
    for scope, rule in views:
        path = _path(rule, ids)
        name = f"{scope} {rule.rsplit('/', 1)[-1]}"
        count = samples if scope in ("cohort", "person") else max(2, samples // 3)
        latency(path)  # warm-up
        live, live_samples = sample(path, count)
        baseline = _baseline(database, name, plan, count)
        details: dict[str, Any] = {
            "p50_ms": percentile(live, 50),
            "samples": len(live),
            "path": rule,
            "baseline_p50_ms": percentile(baseline, 50) if baseline else None,
            "samples_ms": live_samples,
        }
        if scope == "programme":
            details["cohorts"] = plan.cohorts_in_programme
        run.add(
            Figure(
                f"{name} p95",
                "ms",
                percentile(live, 95),
                percentile(baseline, 95) if baseline else None,
                "hand-written SQL p95" if baseline else None,
                details,
            )
        )
        if first_as_of:
            before = rss_mb()
            first = latency(path, as_of=moment)
            after = rss_mb()
            grew = after - before if before is not None and after is not None else None
            run.add(Figure("first as_of answer", "ms", first, details={"view": name}))
            if grew is not None:
                run.add(Figure("first as_of answer, resident memory growth", "MB", grew))
            first_as_of = False
        else:
            latency(path, as_of=moment)  # warm-up
        timed, timed_samples = sample(path, count, as_of=moment)
        run.add(
            Figure(
                f"{name} as_of p95",
                "ms",
                percentile(timed, 95),
                percentile(live, 95),
                "live p95",
                {
                    "p50_ms": percentile(timed, 50),
                    "samples": len(timed),
                    "samples_ms": timed_samples,
                },
            )
        )
        say(
            f"  {name:<28} p50 {details['p50_ms']:9.1f} ms  p95 {percentile(live, 95):9.1f} ms"
            f"  as_of p95 {percentile(timed, 95):9.1f} ms"
        )
    _first_after(
        run, runtime, client, headers, views, ids, say,
        _new_person, "a new event", "a person registered, then projected",
    )  # fmt: skip
    _first_after(
        run, runtime, client, headers, views, ids, say,
        _new_result(runtime, ids), "a new result", "a peer's post result recorded, then projected",
    )  # fmt: skip


NEW_PERSON = {
    "full_name": "Benchmark Newcomer",
    "email": "newcomer@example.fi",
    "organisation": "TEM",
    "department": "Newcomers",
    "unit": "Arrivals",
}


def _new_person(number: int) -> tuple[str, dict[str, Any]]:
    """A person registered (new placements and attributes: the comparison groups of mobility
    change). What a view keeps between requests gives way only to changes of the tables it
    read, so the answer after it is computed afresh where they changed, kept where not."""
    employee_number = f"BENCH-NEW-{number:04d}-{uuid.uuid4().hex[:8]}"
    return "/enrolment/people", {**NEW_PERSON, "employee_number": employee_number}


def _new_result(
    runtime: Embedded, ids: dict[str, str]
) -> Callable[[int], tuple[str, dict[str, Any]]]:
    """One more peer rates the cohort's person after the programme (a growth fact of one
    cohort: the growth of its programme and of the organisation, and their Kirkpatrick
    summaries, change)."""
    database = runtime.tracking.readmodels.database
    with database.transaction(write=False) as cur:
        cur.execute(
            "SELECT instrument_id, definition FROM tr_instruments"
            " WHERE kind = 'behaviour_assessment' AND recorded_to IS NULL ORDER BY instrument_id"
        )
        instrument_id, definition = cur.fetchone()
    keys = [d["key"] for d in json.loads(definition)["dimensions"]]

    def result(number: int) -> tuple[str, dict[str, Any]]:
        return "/assessment/results", {
            "person_id": ids["person_id"],
            "instrument_id": instrument_id,
            "cohort_id": ids["cohort_id"],
            "wave": "post",
            "rater_group": "peer",
            "rater_id": f"bench-peer-{number}-{uuid.uuid4().hex[:8]}",
            "administered_on": dt.date.today().isoformat(),
            "scores": {key: 3 + number % 3 for key in keys},
        }

    return result


def _first_after(
    run: SizeRun,
    runtime: Embedded,
    client: Client,
    headers: dict[str, str],
    views: list[tuple[str, str]],
    ids: dict[str, str],
    say: Any,
    write: Callable[[int], tuple[str, dict[str, Any]]],
    after: str,
    event: str,
) -> None:
    """For each view: ``write(number)``'s command posted, projected, then one timed request."""
    for number, (scope, rule) in enumerate(views):
        name = f"{scope} {rule.rsplit('/', 1)[-1]}"
        path, body = write(number)
        response = client.post(path, json=body, headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        runtime.tracking.projector.drain()
        began = time.perf_counter()
        answer = client.get(_path(rule, ids), headers=headers)
        elapsed = (time.perf_counter() - began) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"GET {rule}: {answer.status_code} {answer.text}")
        details = {"event": event, "path": rule}
        run.add(Figure(f"{name} after {after}", "ms", elapsed, details=details))
        say(f"  {name:<28} first after {after} {elapsed:9.1f} ms")


def _path(rule: str, ids: dict[str, str]) -> str:
    for argument, value in ids.items():
        rule = rule.replace(f"<uuid:{argument}>", value)
    return rule


def _baseline(database: Any, name: str, plan: ViewPlan, count: int) -> list[float] | None:
    query = BASELINES.get(name)
    return None if query is None else _timings(database, query, plan, max(count, BASELINE_SAMPLES))


def _timings(
    database: Any, query: Callable[[Any, ViewPlan], object], plan: ViewPlan, count: int
) -> list[float]:
    timings = []
    for n in range(count + 1):
        began = time.perf_counter()
        with database.transaction(write=False) as cur:
            query(cur, plan)
        if n:  # the first is a warm-up
            timings.append((time.perf_counter() - began) * 1000)
    return timings
