"""Import jobs: a large import run on a thread of its own, with progress a client can poll.

A :class:`Jobs` registry belongs to one write service's web app. :meth:`Jobs.start` runs an
import function on a daemon thread and answers at once with the job; the job counts the rows
the import reports through its :data:`~shared.imports.Progress` callback (``rows_checked`` as
every row is checked, then ``rows_done`` as rows are written or found written). It ends
``succeeded`` with the import's result, or ``failed`` with every row's problem (an
:class:`~shared.imports.ImportRejected`: nothing was written) or the error that stopped it.

With a :class:`JobStore` (every write service's app has one, in the service's own database), a
job is also written to a table there: at its start, about every :data:`FLUSH_SECONDS` while it
runs (by one flusher thread per process), and at its end. So every worker process of a service
(``polku serve`` with ``POLKU_WORKERS`` > 1) answers ``GET .../imports/{id}`` for a job that
another worker runs, and the metrics count the jobs of all of them. A running job whose process
stopped (a restart, a crash) stops being flushed; once its last flush is :data:`STALE_SECONDS`
old it reads as failed, interrupted. An import cut short that way is safe to run again (see
docs/imports.md). The store keeps the most recent :data:`KEEP` finished jobs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from shared.errors import PolkuError
from shared.imports import ImportInterrupted, ImportRejected, ImportResult, Progress
from shared.sql import Database, schema_lock

log = logging.getLogger(__name__)

KEEP = 100
"""Finished jobs kept for polling; the oldest finished one goes first."""

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"

FLUSH_SECONDS = 1.0
"""How often a process writes its running jobs' progress to the store."""
STALE_SECONDS = 60.0
"""A running job not flushed for this long belongs to a process that stopped: it reads as failed."""
INTERRUPTED = (
    "the process running this import stopped before it finished (a restart or a crash); "
    "running the same file again is safe: rows already written are found and left as they are"
)


@dataclass
class Job:
    """One import as a client polls it; changed only by its own thread, under ``lock``."""

    id: UUID
    kind: str
    owner: str
    """The token subject that started it: only its owner (or an hr_admin) may read it."""
    rows_total: int
    rows_checked: int = 0
    rows_done: int = 0
    """Rows written, or found written by an earlier run."""
    ticks: int = 0
    state: str = RUNNING
    result: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, rows: int) -> None:
        # An import reports every row once checked, all of them first, then once written.
        with self.lock:
            self.ticks += rows
            self.rows_checked = min(self.rows_total, self.ticks)
            self.rows_done = min(self.rows_total, max(0, self.ticks - self.rows_total))

    def finish(self, state: str, **outcome: Any) -> None:
        with self.lock:
            self.state = state
            self.finished_at = dt.datetime.now(dt.UTC)
            for name, value in outcome.items():
                setattr(self, name, value)
            if state == SUCCEEDED:
                self.rows_checked = self.rows_done = self.rows_total

    def view(self) -> dict[str, Any]:
        with self.lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "state": self.state,
                "rows_total": self.rows_total,
                "rows_checked": self.rows_checked,
                "rows_done": self.rows_done,
                "result": self.result,
                "errors": list(self.errors),
                "message": self.message,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
            }


class JobStore:
    """Import jobs in a table of the service's own database, shared by its worker processes."""

    COLUMNS = (
        "id, kind, owner, state, rows_total, rows_checked, rows_done, result, errors, message,"
        " started_at, finished_at, flushed_at"
    )

    def __init__(
        self, database: Database, service: str, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.database = database
        self.table = f"{service}_import_jobs"
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        with schema_lock(database.url), database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                " id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT NOT NULL,"
                " state TEXT NOT NULL, rows_total BIGINT NOT NULL, rows_checked BIGINT NOT NULL,"
                " rows_done BIGINT NOT NULL, result TEXT, errors TEXT, message TEXT,"
                " started_at TEXT NOT NULL, finished_at TEXT, flushed_at TEXT NOT NULL)"
            )

    def put(self, jobs: list[Job]) -> None:
        """Writes each job as it stands now (inserted or replaced), in one transaction."""
        now = self.clock().isoformat()
        rows = [self._row(job, now) for job in jobs]
        if not rows:
            return
        with self.database.transaction() as cur:
            cur.executemany(
                f"INSERT INTO {self.table} ({self.COLUMNS}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " state = excluded.state, rows_checked = excluded.rows_checked,"
                " rows_done = excluded.rows_done, result = excluded.result,"
                " errors = excluded.errors, message = excluded.message,"
                " finished_at = excluded.finished_at, flushed_at = excluded.flushed_at"
                # A finished job's row is final: a flush racing the end cannot undo it.
                f" WHERE {self.table}.state = '{RUNNING}'",
                rows,
            )

    def forget_beyond(self, keep: int) -> None:
        """Deletes the oldest finished jobs beyond the newest ``keep`` finished ones."""
        with self.database.transaction() as cur:
            cur.execute(
                f"SELECT id FROM {self.table} WHERE state <> ? ORDER BY started_at DESC, id",
                (RUNNING,),
            )
            old = [(row[0],) for row in cur.fetchall()[keep:]]
            if old:
                cur.executemany(f"DELETE FROM {self.table} WHERE id = ?", old)

    def get(self, job_id: UUID) -> Job | None:
        with self.database.transaction(write=False) as cur:
            cur.execute(f"SELECT {self.COLUMNS} FROM {self.table} WHERE id = ?", (str(job_id),))
            row = cur.fetchone()
        return None if row is None else self._job(row)

    def by_state(self) -> dict[str, int]:
        """Jobs kept in each state, over every process (a stale running job counts as failed)."""
        with self.database.transaction(write=False) as cur:
            cur.execute(f"SELECT {self.COLUMNS} FROM {self.table} WHERE state = ?", (RUNNING,))
            running = [self._job(row) for row in cur.fetchall()]
            cur.execute(
                f"SELECT state, COUNT(*) FROM {self.table} WHERE state <> ? GROUP BY state",
                (RUNNING,),
            )
            counts = Counter({str(state): int(n) for state, n in cur.fetchall()})
        counts.update(job.state for job in running)
        return dict(counts)

    @staticmethod
    def _row(job: Job, now: str) -> tuple[Any, ...]:
        with job.lock:
            return (
                str(job.id),
                job.kind,
                job.owner,
                job.state,
                job.rows_total,
                job.rows_checked,
                job.rows_done,
                None if job.result is None else json.dumps(job.result),
                json.dumps(job.errors),
                job.message,
                job.started_at.isoformat(),
                None if job.finished_at is None else job.finished_at.isoformat(),
                now,
            )

    def _job(self, row: Any) -> Job:
        (job_id, kind, owner, state, total, checked, done, result, errors, message) = row[:10]
        started, finished, flushed = row[10:]
        job = Job(
            UUID(str(job_id)),
            str(kind),
            str(owner),
            int(total),
            rows_checked=int(checked),
            rows_done=int(done),
            state=str(state),
            result=None if result is None else json.loads(result),
            errors=json.loads(errors) if errors else [],
            message=message,
            started_at=dt.datetime.fromisoformat(str(started)),
            finished_at=None if finished is None else dt.datetime.fromisoformat(str(finished)),
        )
        last = dt.datetime.fromisoformat(str(flushed))
        if job.state == RUNNING and (self.clock() - last).total_seconds() > STALE_SECONDS:
            job.state, job.message, job.finished_at = FAILED, INTERRUPTED, last
        return job


class Jobs:
    """The import jobs this process runs, newest last, and (with a store) everyone's."""

    def __init__(
        self, keep: int = KEEP, store: JobStore | None = None, flush_seconds: float = FLUSH_SECONDS
    ) -> None:
        self._jobs: OrderedDict[UUID, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep
        self.store = store
        self._flush_seconds = flush_seconds
        self._flusher: threading.Thread | None = None

    def start(
        self, kind: str, owner: str, rows: int, run: Callable[[Progress], ImportResult]
    ) -> Job:
        """Runs ``run(progress)`` on a thread of its own; returns the job, running."""
        job = Job(uuid.uuid4(), kind, owner, rows)
        if self.store is not None:
            self.store.put([job])  # before the 202: any worker can answer the poll that follows
        with self._lock:
            self._jobs[job.id] = job
            self._forget_oldest_finished()
            self._start_flusher()
        thread = threading.Thread(
            target=self._run, args=(job, run), name=f"import-{job.id}", daemon=True
        )
        thread.start()
        return job

    def get(self, job_id: UUID) -> Job | None:
        """The job as this process runs it, else as the store has it (another worker's)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None and self.store is not None:
            job = self.store.get(job_id)
        return job

    def by_state(self) -> dict[str, int]:
        """How many jobs are kept in each state (a gauge for metrics): every worker's, with a
        store; this process's otherwise."""
        if self.store is not None:
            return self.store.by_state()
        with self._lock:
            return dict(Counter(job.state for job in self._jobs.values()))

    def running(self) -> int:
        """How many jobs are running now (a gauge for metrics)."""
        with self._lock:
            return sum(1 for job in self._jobs.values() if job.state == RUNNING)

    def _start_flusher(self) -> None:
        if self.store is None or (self._flusher is not None and self._flusher.is_alive()):
            return
        self._flusher = threading.Thread(target=self._flush, name="import-jobs-flush", daemon=True)
        self._flusher.start()

    def _flush(self) -> None:
        """Writes the running jobs' progress to the store until none runs, then ends."""
        assert self.store is not None
        stop = threading.Event()
        while True:
            with self._lock:
                running = [job for job in self._jobs.values() if job.state == RUNNING]
                if not running:
                    self._flusher = None
                    return
            if self.store.database.closed:  # the service is shutting down: nothing to write to
                with self._lock:
                    self._flusher = None
                return
            try:
                self.store.put(running)
            except Exception:  # the store is down: progress waits, the import goes on
                log.exception("import jobs: progress could not be written")
            stop.wait(self._flush_seconds)

    def _run(self, job: Job, run: Callable[[Progress], ImportResult]) -> None:
        self._execute(job, run)
        if self.store is not None and not self.store.database.closed:
            try:
                self.store.put([job])
                self.store.forget_beyond(self._keep)
            except Exception:
                log.exception("import job %s: its outcome could not be written", job.id)

    @staticmethod
    def _execute(job: Job, run: Callable[[Progress], ImportResult]) -> None:
        try:
            result = run(job.advance)
        except ImportRejected as rejected:
            job.finish(FAILED, message=rejected.message, errors=list(rejected.errors or []))
        except ImportInterrupted as interrupted:
            log.exception("import job %s interrupted", job.id)
            job.finish(FAILED, message=str(interrupted))
        except PolkuError as refused:
            job.finish(FAILED, message=refused.message, errors=list(refused.errors or []))
        except Exception:  # a job's thread has no caller to raise to: record it, visibly
            log.exception("import job %s failed", job.id)
            job.finish(FAILED, message="the import stopped on an unexpected error; see the log")
        else:
            job.finish(SUCCEEDED, result=result.as_dict())

    def _forget_oldest_finished(self) -> None:
        finished = [i for i, job in self._jobs.items() if job.state != RUNNING]
        for job_id in finished[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[job_id]
