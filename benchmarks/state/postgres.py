"""Where the PostgreSQL runs get their databases: a server given by URL, or one started here.

Resolved as the other benchmarks resolve Kafka: ``--postgres URL`` (a server whose user may
``CREATE DATABASE``), else ``POLKU_TEST_POSTGRES_URL``, else a throwaway local server from the
PostgreSQL binaries (:class:`tests.support.postgres_server.PostgresServer`), else the
PostgreSQL runs are skipped with the reason. Every size gets a fresh database, dropped after
unless ``--keep``: then a server started here keeps its cluster in the run's directory
(:class:`benchmarks.state.kept.KeptServer`) for ``--reuse``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.state.kept import CLUSTER, KeptServer
from tests.support.postgres_server import (
    PostgresServer,
    PostgresServerError,
    create_database,
    drop_database,
)

ENVIRONMENT = "POLKU_TEST_POSTGRES_URL"


class Databases:
    """Fresh databases on one server; ``skipped`` says why there is none."""

    def __init__(self, server_url: str | None, skipped: str | None = None) -> None:
        self.server_url = server_url
        self.skipped = skipped
        self.created: list[str] = []

    @contextlib.contextmanager
    def fresh(self, keep: bool = False) -> Iterator[str]:
        assert self.server_url is not None
        name = f"polku_state_{uuid.uuid4().hex[:10]}"
        url = create_database(self.server_url, name)
        try:
            yield url
        finally:
            if not keep:
                with contextlib.suppress(Exception):
                    drop_database(self.server_url, name)


@contextlib.contextmanager
def postgres(
    explicit: str | None, skip: bool, say: Any = print, keep_in: Path | None = None
) -> Iterator[Databases]:
    """``keep_in``: the run's directory, where a server started here keeps its cluster."""
    if skip:
        yield Databases(None, "skipped (--skip-postgres)")
        return
    given = explicit or os.environ.get(ENVIRONMENT)
    if given:
        yield Databases(given)
        return
    try:
        server = (KeptServer(keep_in / CLUSTER) if keep_in else PostgresServer()).start()
    except (PostgresServerError, OSError) as error:
        yield Databases(None, f"no PostgreSQL: {error}".splitlines()[0])
        return
    say(f"started a local PostgreSQL on port {server.port} in {server.workdir}")
    try:
        yield Databases(server.url_for("postgres"))
    finally:
        server.close()
