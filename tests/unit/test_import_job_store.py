"""Import jobs kept in the service's database: every worker process answers every job's poll."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.imports import ImportRejected, ImportResult, Progress, RowProblem
from shared.jobs import FAILED, INTERRUPTED, RUNNING, STALE_SECONDS, SUCCEEDED, Jobs, JobStore
from shared.sql import Database


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres":
        url = request.getfixturevalue("fresh_postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'enrolment.sqlite'}"
    db = Database(url)
    yield db
    db.close()


def wait_until(check: object, seconds: float = 20.0) -> None:
    pause = threading.Event()
    for _ in range(int(seconds / 0.02)):
        if check():  # type: ignore[operator]
            return
        pause.wait(0.02)
    raise AssertionError("the condition never held")


def test_another_worker_sees_a_running_job_advance_and_then_its_result(database: Database) -> None:
    worker_a = Jobs(store=JobStore(database, "enrolment"), flush_seconds=0.02)
    worker_b = Jobs(store=JobStore(database, "enrolment"))
    halfway, release = threading.Event(), threading.Event()

    def run(progress: Progress) -> ImportResult:
        progress(10)  # all ten rows checked
        progress(4)  # four written
        halfway.set()
        release.wait(20)
        return ImportResult(rows=10, recorded=10)

    job = worker_a.start("people", "hr_admin:a", 10, run)
    assert halfway.wait(20)

    def b_sees_progress() -> bool:
        seen = worker_b.get(job.id)
        return seen is not None and seen.rows_done == 4

    wait_until(b_sees_progress)
    seen = worker_b.get(job.id)
    assert seen is not None
    assert (seen.state, seen.owner, seen.kind, seen.rows_checked) == (
        RUNNING,
        "hr_admin:a",
        "people",
        10,
    )
    assert worker_b.by_state() == {RUNNING: 1}

    release.set()
    wait_until(lambda: (j := worker_b.get(job.id)) is not None and j.state != RUNNING)
    done = worker_b.get(job.id)
    assert done is not None and done.state == SUCCEEDED
    assert done.result == ImportResult(rows=10, recorded=10).as_dict()
    assert (done.rows_done, done.finished_at is not None) == (10, True)
    assert worker_b.by_state() == {SUCCEEDED: 1}


def test_a_rejected_import_is_failed_with_every_problem_for_every_worker(
    database: Database,
) -> None:
    worker_a = Jobs(store=JobStore(database, "enrolment"))
    worker_b = Jobs(store=JobStore(database, "enrolment"))
    problem = RowProblem(3, "email", "not an e-mail address")

    def run(progress: Progress) -> ImportResult:
        raise ImportRejected(ImportResult(rows=2000, problems=[problem]))

    job = worker_a.start("people", "hr_admin:a", 2000, run)
    wait_until(lambda: (j := worker_b.get(job.id)) is not None and j.state == FAILED)
    failed = worker_b.get(job.id)
    assert failed is not None
    assert failed.errors == [problem.as_error()]
    assert failed.message == "nothing was imported: 1 problem in 1 row"


def test_a_job_whose_process_stopped_reads_as_interrupted_once_stale(database: Database) -> None:
    now = [dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)]
    store = JobStore(database, "enrolment", clock=lambda: now[0])
    stuck = threading.Event()
    worker_a = Jobs(store=store, flush_seconds=3600)

    def run(progress: Progress) -> ImportResult:
        stuck.wait(30)
        return ImportResult(rows=5000)

    job = worker_a.start("people", "hr_admin:a", 5000, run)
    reader = JobStore(database, "enrolment", clock=lambda: now[0])

    seen = reader.get(job.id)
    assert seen is not None and seen.state == RUNNING

    now[0] += dt.timedelta(
        seconds=STALE_SECONDS + 1
    )  # nobody flushed it since: its process is gone
    seen = reader.get(job.id)
    assert seen is not None
    assert (seen.state, seen.message) == (FAILED, INTERRUPTED)
    assert reader.by_state() == {FAILED: 1}
    stuck.set()
    wait_until(lambda: (j := reader.get(job.id)) is not None and j.result is not None)


def test_a_flush_racing_the_end_never_turns_a_finished_job_back_to_running(
    database: Database,
) -> None:
    store = JobStore(database, "enrolment")
    job = Jobs(store=store).start("people", "hr_admin:a", 1, lambda p: ImportResult(rows=1))
    wait_until(lambda: (j := store.get(job.id)) is not None and j.state == SUCCEEDED)
    job.state = RUNNING  # a stale in-memory snapshot, as a flush taken just before the end had
    store.put([job])
    stored = store.get(job.id)
    assert stored is not None and stored.state == SUCCEEDED


def test_only_the_newest_finished_jobs_are_kept(database: Database) -> None:
    store = JobStore(database, "enrolment")
    jobs = Jobs(keep=2, store=store)
    started = []
    for n in range(4):
        job = jobs.start("people", "hr_admin:a", 1, lambda p, n=n: ImportResult(rows=n))  # type: ignore[misc]
        wait_until(lambda job=job: (j := store.get(job.id)) is not None and j.state == SUCCEEDED)  # type: ignore[misc]
        started.append(job.id)

    def kept() -> list[object]:
        return [job_id for job_id in started if store.get(job_id) is not None]

    # The last job's clean-up runs on its thread just after its outcome is written.
    wait_until(lambda: len(kept()) == 2)
    assert kept() == started[-2:]
