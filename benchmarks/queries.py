"""The tracking read side on the TEMPO 2020 pilot: rebuild rate and view latencies.

5. Pilot rebuild: ``Projector.drain()`` of both services' pilot logs (every event type the
   views use) into a fresh SQLite read model, against raw read-and-decode of the same logs.
6. Views: each cohort view's latency through the WSGI stack (p50/p95 of repeated requests),
   against the cohort roster measured in the same run as the baseline of the stack itself;
   the target is a cohort's longitudinal report under 100 ms. ``as_of`` is measured twice, the
   first request and repeated ones: it is a ``WHERE`` clause on the temporal read models
   (``docs/time.md``), so both should cost what a live request costs. ``on`` (a day, by the
   facts' effective dates) is measured the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from pathlib import Path

from werkzeug.test import Client

from benchmarks.run import Result, percentile, ratio_result, read_and_decode, timed
from services.runtime import build_embedded, build_tracking
from shared.auth import issue_token
from shared.feeds import OutboxFeed
from shared.settings import Settings
from tests.support.pilot import load_pilot
from tests.support.slice import SECRET

VIEWS = (
    "roster",
    "funnel",
    "growth",
    "reaction",
    "staff-survey",
    "mobility",
    "network",
    "kirkpatrick",
)
TARGET_MS = 100.0


def bench_pilot(workdir: Path, samples: int) -> list[Result]:
    runtime = build_embedded(Settings(data_dir=workdir / "pilot", jwt_secret=SECRET))
    try:
        pilot = load_pilot(runtime, SECRET)
        runtime.tracking.projector.drain()
        results = [_rebuild(runtime.services, workdir)]
        client = Client(runtime.wsgi)
        headers = {"Authorization": f"Bearer {issue_token(SECRET, 'bench', 'hr_admin')}"}

        def latency(path: str, **query: str) -> float:
            began = time.perf_counter()
            response = client.get(path, query_string=query, headers=headers)
            elapsed = (time.perf_counter() - began) * 1000
            assert response.status_code == 200, response.get_data(as_text=True)
            return elapsed

        base = f"/tracking/cohorts/{pilot.cohort_id}"
        measured = {}
        for view in VIEWS:
            latency(f"{base}/{view}")  # warm-up
            measured[view] = [latency(f"{base}/{view}") for _ in range(samples)]
        person = f"/tracking/people/{pilot.person('P02')}"
        for view in ("timeline", "growth"):
            measured[f"person {view}"] = [latency(f"{person}/{view}") for _ in range(samples)]
        moment = dt.datetime.now(dt.UTC).isoformat()
        measured["kirkpatrick as_of (first)"] = [latency(f"{base}/kirkpatrick", as_of=moment)]
        measured["kirkpatrick as_of (again)"] = [
            latency(f"{base}/kirkpatrick", as_of=moment) for _ in range(samples)
        ]
        # ``on``: the world on a day by effective dates, one more WHERE clause per table.
        day = "2022-06-30"
        measured["kirkpatrick on (first)"] = [latency(f"{base}/kirkpatrick", on=day)]
        measured["kirkpatrick on (again)"] = [
            latency(f"{base}/kirkpatrick", on=day) for _ in range(samples)
        ]
        measured["funnel on"] = [latency(f"{base}/funnel", on=day) for _ in range(samples)]
        measured["mobility on"] = [latency(f"{base}/mobility", on=day) for _ in range(samples)]
        baseline = percentile(measured["roster"], 95)
        for name, values in measured.items():
            if name == "roster":
                continue
            p95 = percentile(values, 95)
            results.append(
                Result(
                    "queries",
                    f"{name} (pilot)",
                    "ms p95",
                    figure=p95,
                    baseline=baseline,
                    baseline_name="roster p95",
                    ratio=p95 / baseline,
                    target=f"p95 < {TARGET_MS:.0f} ms",
                    status="PASS" if p95 < TARGET_MS else "BELOW",
                    details={"p50_ms": percentile(values, 50), "samples": len(values)},
                )
            )
        return results
    finally:
        runtime.close()


def _rebuild(services: dict[str, object], workdir: Path) -> Result:
    outboxes = {name: s.tracking_outbox for name, s in services.items()}  # type: ignore[attr-defined]
    applications = [s.application for s in services.values()]  # type: ignore[attr-defined]
    raw_seconds = 0.0
    events = 0
    for application in applications:
        seconds, decoded = timed(functools.partial(read_and_decode, application))
        raw_seconds += seconds
        events += decoded
    tracking = build_tracking(Settings(data_dir=workdir / "pilot-rebuild"), OutboxFeed(outboxes))
    try:
        seconds, applied = timed(functools.partial(tracking.projector.drain, timeout=600))
    finally:
        tracking.close()
    # Some domain events are internal bookkeeping and publish nothing: rates, not counts.
    return ratio_result(
        "rebuild",
        "pilot logs, every view's events",
        applied / seconds,
        events / raw_seconds,
        "raw read + decode",
        0.30,
        {"events": applied, "domain_events": events},
    )
