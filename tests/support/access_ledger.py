"""An access log's ledger for tests: signed into files of the test's own directory."""

from __future__ import annotations

from pathlib import Path

from shared.audit.access import AccessLog
from shared.audit.checkpoints import CheckpointFile, Signer
from shared.audit.ledger import Ledger


def access_ledger(log: AccessLog, directory: Path) -> Ledger:
    return Ledger(
        f"{log.service}.access",
        log.source,
        Signer.from_file(directory / "key"),
        CheckpointFile(directory / "checkpoints.jsonl"),
    )
