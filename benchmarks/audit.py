"""The audit layer's costs, as ratios in one run (``python -m benchmarks.audit``):

- **chaining on the command path**: ``POST /enrolment/people`` through the embedded WSGI app
  with the chained recorder (the product) against the same runtime with the plain recorder;
  also raw ``Application.save`` chained against plain. Target: at most 10% fewer commands/s.
- **verification rate**: ``verify`` over a filled log against a raw read-and-hash of the same
  rows (a plain ``SELECT`` of the stored rows + one SHA-256 of each). Target: at least 50%.
- **access log on a tracking view**: p95 of ``GET /tracking/people/<id>/timeline`` with the
  access log against the same runtime without it. Target: p95 within 10%.

All on SQLite files; the figures print as a table (``--json FILE`` writes them too).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from eventsourcing.sqlite import SQLiteApplicationRecorder

from benchmarks.run import new_person, percentile, person_body
from services.enrolment.application import EnrolmentApplication
from services.runtime import Embedded, build_embedded
from shared.audit.access import Filters
from shared.audit.chain import ChainedSQLiteApplicationRecorder, chained_env
from shared.audit.verify import Events, verify
from shared.settings import Settings
from tests.support.slice import SECRET, Http


class UnchainedSQLite(ChainedSQLiteApplicationRecorder):
    """The chained recorder with its chaining left out: the baseline's store, same tables."""

    def _insert_events(self, c: Any, stored_events: Any, **kwargs: Any) -> Any:
        return SQLiteApplicationRecorder._insert_events(self, c, stored_events, **kwargs)


def unchained_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "APPLICATION_RECORDER_TOPIC": "benchmarks.audit:UnchainedSQLite"}


def _rate(count: int, action: Callable[[], Any]) -> float:
    began = time.perf_counter()
    action()
    return count / (time.perf_counter() - began)


@contextmanager
def _runtime(data_dir: Path, chained: bool = True, access: bool = True) -> Iterator[Embedded]:
    patches = []
    if not chained:
        patches.append(mock.patch("services.runtime.chained_env", unchained_env))
    if not access:
        patches.append(mock.patch("services.runtime.audit_web.install", lambda *a, **k: None))
    for p in patches:
        p.start()
    try:
        runtime = build_embedded(Settings(data_dir=data_dir, jwt_secret=SECRET))
    finally:
        for p in patches:
            p.stop()
    try:
        yield runtime
    finally:
        runtime.close()


def command_path(work: Path, commands: int, rounds: int = 10) -> dict[str, Any]:
    """Chained against plain, in short rounds whose order alternates (chained first in one,
    plain first in the next), so a burst of load or a slow disk flush hits both alike; the
    ratio is of the totals. CPU seconds are reported beside the wall clock's."""
    serial = iter(range(10**9))
    with _runtime(work / "chained") as chained, _runtime(work / "plain", chained=False) as plain:
        sides = {"chained": Http(chained.wsgi), "plain": Http(plain.wsgi)}
        seconds = dict.fromkeys(sides, 0.0)
        cpu = dict.fromkeys(sides, 0.0)
        for http in sides.values():
            for _ in range(50):
                http.post("/enrolment/people", person_body(next(serial)))
        per_round = max(1, commands // rounds)
        for turn in range(rounds):
            for name in sorted(sides, reverse=turn % 2 == 1):
                http = sides[name]
                began, began_cpu = time.perf_counter(), time.process_time()
                for _ in range(per_round):
                    http.post("/enrolment/people", person_body(next(serial)))
                seconds[name] += time.perf_counter() - began
                cpu[name] += time.process_time() - began_cpu
        recorder = plain.services["enrolment"].application.recorder
        assert type(recorder).__name__ == "UnchainedSQLite", type(recorder)

    http_ratio = seconds["plain"] / seconds["chained"]
    apps = {}
    for name, wrap in (("chained", chained_env), ("plain", unchained_env)):
        settings = Settings(data_dir=work / f"raw-{name}")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        apps[name] = EnrolmentApplication(wrap(settings.eventstore_env("enrolment")))
    saved = dict.fromkeys(apps, 0.0)
    try:
        for turn in range(rounds):  # interleaved, alternating, so load drift hits both alike
            for name in sorted(apps, reverse=turn % 2 == 1):
                app = apps[name]
                began = time.perf_counter()
                for _ in range(per_round):
                    app.save(new_person(next(serial)))
                saved[name] += time.perf_counter() - began
    finally:
        for app in apps.values():
            app.close()
    raw = {name: per_round * rounds / seconds for name, seconds in saved.items()}
    return {
        "commands": per_round * rounds,
        "http_chained_per_s": per_round * rounds / seconds["chained"],
        "http_plain_per_s": per_round * rounds / seconds["plain"],
        "http_ratio": http_ratio,
        "http_cpu_ratio": cpu["plain"] / cpu["chained"],
        "save_chained_per_s": raw["chained"],
        "save_plain_per_s": raw["plain"],
        "save_ratio": raw["chained"] / raw["plain"],
        "target": "ratio >= 0.90",
    }


def verification(work: Path, events: int) -> dict[str, Any]:
    settings = Settings(data_dir=work / "verify")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = EnrolmentApplication(chained_env(settings.eventstore_env("enrolment")))
    try:
        batch = 500
        for start in range(0, events, batch):
            app.save(*(new_person(n) for n in range(start, min(events, start + batch))))
        recorder = app.recorder

        def raw() -> int:
            """The same rows read straight from the table, each hashed once."""
            after, hashed = 0, 0
            while True:
                with recorder.datastore.transaction(commit=False) as c:
                    c.execute(
                        "SELECT rowid, originator_id, originator_version, topic, state FROM "
                        "stored_events WHERE rowid > ? ORDER BY rowid LIMIT 5000",
                        (after,),
                    )
                    rows = c.fetchall()
                if not rows:
                    return hashed
                for r in rows:
                    hashlib.sha256(r[1].encode() + r[3].encode() + r[4]).digest()
                    hashed += 1
                after = rows[-1][0]

        raw()  # warm the file cache for both
        report: dict[str, Any] = {}

        def verified() -> None:
            report["r"] = verify("enrolment", Events(recorder), [], {}, require_checkpoint=False)

        rates: dict[str, list[float]] = {"raw": [], "verify": []}
        for _ in range(3):  # interleaved; the median of each
            rates["raw"].append(_rate(events, raw))
            rates["verify"].append(_rate(events, verified))
        raw_rate, verify_rate = (sorted(rates[k])[1] for k in ("raw", "verify"))
        assert report["r"].ok and report["r"].events == events, report["r"].line()
    finally:
        app.close()
    return {
        "events": events,
        "verify_per_s": verify_rate,
        "raw_read_and_hash_per_s": raw_rate,
        "ratio": verify_rate / raw_rate,
        "target": "ratio >= 0.50",
    }


def access_cost(work: Path, samples: int) -> dict[str, Any]:
    """Both runtimes side by side, requests alternating, so load drift hits both alike."""
    with (
        _runtime(work / "access-with") as logged,
        _runtime(work / "access-without", access=False) as plain,
    ):
        paths = {}
        for name, runtime in (("with", logged), ("without", plain)):
            http = Http(runtime.wsgi)
            person = http.post("/enrolment/people", person_body(1))["id"]
            runtime.tracking.projector.drain()
            paths[name] = (http, f"/tracking/people/{person}/timeline")
        times: dict[str, list[float]] = {"with": [], "without": []}
        for i in range(samples + 20):
            for name, (http, path) in paths.items():
                began = time.perf_counter()
                http.get(path)
                if i >= 20:
                    times[name].append(time.perf_counter() - began)
        entries = (
            logged.apps["tracking"]
            .extensions["polku.audit"]
            .access.query(Filters(), 0, samples + 100)
        )
        assert len(entries) == samples + 20, len(entries)
    p95 = {name: percentile(found, 95) * 1000 for name, found in times.items()}
    return {
        "samples": samples,
        "p95_with_ms": p95["with"],
        "p95_without_ms": p95["without"],
        "ratio": p95["with"] / p95["without"],
        "target": "ratio <= 1.10",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=1500)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="polku-audit-bench-") as tmp:
        work = Path(tmp)
        results = {
            "chaining on the command path": command_path(work, args.commands),
            "verification rate": verification(work, args.events),
            "access log on a tracking view": access_cost(work, args.samples),
        }
    for name, figures in results.items():
        print(f"{name}:")
        for key, value in figures.items():
            shown = f"{value:,.3f}" if isinstance(value, float) else value
            print(f"  {key:28} {shown}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
