"""Secret files (master key, audit signing key, token secret) created once, whole.

Several processes (or threads) starting together may each find the file missing. Each writes
its own candidate to a private temporary file beside it, synced, and links it into place: the
link fails if the file exists, so exactly one candidate wins, and a reader never sees the
file before its content is complete (an exclusive create followed by a write left a moment
in which it was empty, and a racing reader failed on it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def create_once(path: Path, content: str) -> bool:
    """Puts ``content`` at ``path`` (0600) unless a file is there; True if this call made it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(candidate, path)
        except FileExistsError:  # another process made it first
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(candidate)
