"""Import jobs: a large import run on a thread of its own, with progress a client can poll.

A :class:`Jobs` registry belongs to one write service's web app. :meth:`Jobs.start` runs an
import function on a daemon thread and answers at once with the job; the job counts the rows
the import reports through its :data:`~shared.imports.Progress` callback (``rows_checked`` as
every row is checked, then ``rows_done`` as rows are written or found written). It ends
``succeeded`` with the import's result, or ``failed`` with every row's problem (an
:class:`~shared.imports.ImportRejected`: nothing was written) or the error that stopped it.

Jobs live in the memory of the process that runs them: a restart forgets them (an import cut
short by a restart is safe to run again, see docs/imports.md). The registry keeps the most
recent :data:`KEEP` jobs.
"""

from __future__ import annotations

import datetime as dt
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

log = logging.getLogger(__name__)

KEEP = 100
"""Finished jobs kept for polling; the oldest finished one goes first."""

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


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


class Jobs:
    """The import jobs of one process, newest last."""

    def __init__(self, keep: int = KEEP) -> None:
        self._jobs: OrderedDict[UUID, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def start(
        self, kind: str, owner: str, rows: int, run: Callable[[Progress], ImportResult]
    ) -> Job:
        """Runs ``run(progress)`` on a thread of its own; returns the job, running."""
        job = Job(uuid.uuid4(), kind, owner, rows)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_oldest_finished()
        thread = threading.Thread(
            target=self._run, args=(job, run), name=f"import-{job.id}", daemon=True
        )
        thread.start()
        return job

    def get(self, job_id: UUID) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def by_state(self) -> dict[str, int]:
        """How many jobs this process keeps in each state (a gauge for metrics)."""
        with self._lock:
            return dict(Counter(job.state for job in self._jobs.values()))

    def running(self) -> int:
        """How many jobs are running now (a gauge for metrics)."""
        with self._lock:
            return sum(1 for job in self._jobs.values() if job.state == RUNNING)

    @staticmethod
    def _run(job: Job, run: Callable[[Progress], ImportResult]) -> None:
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
