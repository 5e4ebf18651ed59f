"""7. Cohort commands: an invite into a cohort of 300 people, against a raw save of its event.

A cohort command loads the cohort, checks its rules and saves one event. Its cost should not
grow with the cohort's history (DESIGN.md, "Targets": the command path, cohort commands
included, at least 50% of a raw save of the same events). The figure is HTTP invites
(``POST /enrolment/cohorts/<id>/invitations``) through the embedded runtime's WSGI app into a
cohort that already holds :data:`COHORT_PEOPLE` invitations; the baseline is
``Application.save`` of the same ``ParticipantInvited`` events on a fresh SQLite file, from a
cohort kept in memory (no load). Both sides run interleaved in rounds, as the command path does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from benchmarks.run import SEALED, Result, bench_meta, person_body, ratio_result, timed
from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.cohorts import Cohort
from services.enrolment.domain.people import Person
from services.enrolment.domain.programmes import Programme
from services.runtime import build_embedded
from shared.settings import Settings
from tests.support.slice import SECRET, Http

COHORT_PEOPLE = 300


def open_cohort(application: EnrolmentApplication, invited: list[uuid.UUID]) -> Cohort:
    """A programme and an open cohort holding ``invited``, saved at once (not measured)."""
    meta = bench_meta()
    programme = Programme("Benchmark", "TEM", "", [], meta)
    cohort = Cohort.plan(
        programme.id, "Cohort 300", 10_000, dt.date(2024, 1, 1), dt.date(2024, 6, 30), meta
    )
    cohort.open(meta, dt.date(2023, 12, 1))
    for person_id in invited:
        cohort.invite(person_id, meta, dt.date(2023, 12, 2))
    application.save(programme, cohort)
    return cohort


def people(application: EnrolmentApplication, count: int) -> list[uuid.UUID]:
    """Registered people (the invite checks that the person exists), saved at once."""
    registered = []
    for n in range(count):
        b = person_body(n)
        registered.append(
            Person.register(
                uuid.uuid4(), SEALED, b["organisation"], b["department"], b["unit"], bench_meta()
            )
        )
    application.save(*registered)
    return [p.id for p in registered]


def bench_cohort_commands(workdir: Path, commands: int, rounds: int = 4) -> Result:
    runtime = build_embedded(Settings(data_dir=workdir / "cohort-http", jwt_secret=SECRET))
    raw_settings = Settings(data_dir=workdir / "cohort-raw")
    raw_settings.data_dir.mkdir(parents=True, exist_ok=True)
    raw = EnrolmentApplication(raw_settings.eventstore_env("enrolment"))
    try:
        app = runtime.services["enrolment"].application
        per_round = max(1, commands // rounds)
        total = per_round * rounds
        everyone = people(app, COHORT_PEOPLE + total + 1)
        cohort_id = open_cohort(app, everyone[:COHORT_PEOPLE]).id
        http = Http(runtime.wsgi)
        raw_cohort = open_cohort(raw, [uuid.uuid4() for _ in range(COHORT_PEOPLE)])
        newcomers = iter(everyone[COHORT_PEOPLE:])
        path = f"/enrolment/cohorts/{cohort_id}/invitations"

        def http_invites(count: int) -> None:
            for _ in range(count):
                http.post(path, {"person_id": str(next(newcomers))})

        def raw_invites(count: int) -> None:
            meta = bench_meta()
            for _ in range(count):
                raw_cohort.invite(uuid.uuid4(), meta)
                raw.save(raw_cohort)

        http_invites(1)  # warm-up: statement caches, the first snapshot read
        raw_invites(1)
        http_seconds = raw_seconds = 0.0
        for turn in range(rounds):  # the order alternates, so a burst of load hits both alike
            if turn % 2 == 0:
                raw_seconds += timed(lambda: raw_invites(per_round))[0]
            http_seconds += timed(lambda: http_invites(per_round))[0]
            if turn % 2 == 1:
                raw_seconds += timed(lambda: raw_invites(per_round))[0]
        return ratio_result(
            "command path",
            f"HTTP invite into a cohort of {COHORT_PEOPLE}",
            total / http_seconds,
            total / raw_seconds,
            "raw Application.save of the invite",
            0.50,
            {
                "commands": total,
                "rounds": rounds,
                "ms_per_invite": 1000 * http_seconds / total,
                "store": "SQLite file (WAL)",
            },
        )
    finally:
        runtime.close()
        raw.close()
