"""A log's audit ledger: verify its chain, sign checkpoints, publish them, record the outcome.

One :class:`Ledger` per chained log (each write service's event log, each service's access
log). :meth:`Ledger.run_once` is the background verification that long-lived processes run
every ``POLKU_AUDIT_INTERVAL`` seconds: it verifies what was appended since the last pass,
and, when the chain verifies and has grown, signs a checkpoint at the verified position and
publishes it. The outcome goes into ``polku_audit_status`` (served by ``/<service>/audit/status``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit.checkpoints import Checkpoint, CheckpointFile, Signer
from shared.audit.verify import Report, verify
from shared.sql import Database, schema_lock

log = logging.getLogger("polku.audit")

STATUS_TABLE = "polku_audit_status"


class Publisher(Protocol):
    def publish(self, checkpoint: Checkpoint) -> None: ...


class StatusStore:
    """The last verification outcome per log, in the service's own database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        with schema_lock(database.url), database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {STATUS_TABLE} (log TEXT PRIMARY KEY, "
                "verified_to BIGINT NOT NULL, outcome TEXT NOT NULL, position BIGINT, "
                "detail TEXT NOT NULL, checked_at TEXT NOT NULL, checkpoint BIGINT)"
            )

    def record(self, report: Report, checkpoint: int | None) -> None:
        with self.database.transaction() as cur:
            cur.execute(
                f"INSERT INTO {STATUS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (log) DO "
                "UPDATE SET verified_to = excluded.verified_to, outcome = excluded.outcome, "
                "position = excluded.position, detail = excluded.detail, "
                "checked_at = excluded.checked_at, checkpoint = excluded.checkpoint",
                (
                    report.log,
                    report.verified_to,
                    report.kind.value,
                    report.position,
                    report.detail,
                    dt.datetime.now(dt.UTC).isoformat(),
                    checkpoint,
                ),
            )

    def all(self) -> list[dict[str, Any]]:
        with self.database.transaction(write=False) as cur:
            cur.execute(
                f"SELECT log, verified_to, outcome, position, detail, checked_at, checkpoint "
                f"FROM {STATUS_TABLE} ORDER BY log"
            )
            return [
                {
                    "log": r[0],
                    "verified_to": r[1],
                    "outcome": r[2],
                    "position": r[3],
                    "detail": r[4],
                    "checked_at": r[5],
                    "last_checkpoint": r[6],
                }
                for r in cur.fetchall()
            ]


@dataclass
class Ledger:
    name: str
    """The log's name in checkpoints: ``enrolment``, ``assessment``, ``<service>.access``."""
    source: Callable[[], Any]
    """Makes the verification source (:class:`~shared.audit.verify.Events` or the like)."""
    signer: Signer
    store: CheckpointFile
    status: StatusStore | None = None
    publishers: Sequence[Publisher] = ()
    checkpoint_every: int = 1
    """Sign a checkpoint once the verified chain has grown by this many positions."""
    extra_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    full_every: int = 60
    """Every this many passes verifies the whole log again (the others only what was added),
    so an edit of an old row is found too."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _verified: Report | None = None
    _passes: int = 0

    @property
    def keys(self) -> dict[str, Ed25519PublicKey]:
        return {self.signer.key_id: self.signer.public, **self.extra_keys}

    def checkpoints(self, fresh: bool = False) -> list[Checkpoint]:
        """This log's checkpoints in the file: only the lines added since the last call are
        read, unless ``fresh`` (the whole file)."""
        return self.store.read(self.name, fresh=fresh)

    def verify(self, start: int = 0) -> Report:
        return verify(self.name, self.source(), self.checkpoints(fresh=True), self.keys, start)

    def run_once(self) -> Report:
        """Verifies (the whole log the first time and every :attr:`full_every` passes, else
        from the last verified position) and signs a checkpoint when the chain verified and
        grew enough."""
        with self._lock:
            self._passes += 1
            full = self._verified is None or self._passes % self.full_every == 0
            start = 0 if full or self._verified is None else self._verified.verified_to
            checkpoints = self.checkpoints(fresh=full)
            report = verify(
                self.name, self.source(), checkpoints, self.keys, start, require_checkpoint=False
            )
            if start and report.ok and not report.events:
                report.verified_to, report.last_link = start, self._verified.last_link  # type: ignore[union-attr]
            last = max((c.position for c in checkpoints), default=0)
            if report.ok:
                self._verified = report
                if report.verified_to and report.verified_to - last >= self.checkpoint_every:
                    self.checkpoint(report)
                    last = report.verified_to
            else:
                self._verified = None
                log.error("audit: %s", report.line())
            if self.status is not None:
                self.status.record(report, last or None)
            return report

    def checkpoint(self, report: Report | None = None) -> Checkpoint | None:
        """Signs and publishes a checkpoint at the verified head (verifying first if not
        given a report); None when there is nothing to anchor or the chain does not verify."""
        if report is None:
            report = verify(
                self.name, self.source(), self.checkpoints(), self.keys, require_checkpoint=False
            )
        if not report.ok or not report.verified_to:
            return None
        signed = self.signer.sign(self.name, report.verified_to, report.last_link)
        self.store.append(signed)
        for publisher in self.publishers:
            try:
                publisher.publish(signed)
            except Exception:  # the file holds it; the broker gets the next one
                log.warning("audit: could not publish a checkpoint of %s", self.name, exc_info=True)
        return signed

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # a store that is down: say so, try again next interval
                log.warning("audit: verifying %s failed", self.name, exc_info=True)
            stop.wait(interval)
