"""Kept stores: what ``--keep`` leaves behind, and ``--reuse DIR`` times again.

Each size's directory (``sqlite-N`` or ``pg-N`` under the run's data directory) gets a
``stores.json`` once its read model is rebuilt: the database, the size, the seed, the
PostgreSQL database's name and what the views are asked about (the cohort, its programme,
the person). With ``--keep`` a PostgreSQL server started by the benchmark keeps its cluster in
``DIR/postgres`` and is only stopped at the end, so ``--reuse DIR`` can start it again (on a
new free port) and time the views with newer code, without loading or rebuilding again.

What a re-timing cannot undo: the "after a new event" figures register a person per view,
so each re-timing adds a few dozen events to the kept stores (and projects them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.state.plan import ViewPlan
from tests.support.postgres_server import PostgresServer, PostgresServerError, with_dbname

MANIFEST = "stores.json"
CLUSTER = "postgres"


def write_manifest(
    workdir: Path, database: str, people: int, seed: int, url: str | None, plan: ViewPlan
) -> None:
    """Records what ``--reuse`` needs to time this size's views again."""
    entry = {
        "database": database,
        "people": people,
        "seed": seed,
        "database_name": urlsplit(url).path.lstrip("/") if url else None,
        "view_plan": dataclasses.asdict(plan),
    }
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MANIFEST).write_text(json.dumps(entry, indent=2))


@dataclasses.dataclass(frozen=True)
class Kept:
    """One kept size: its directory and its manifest."""

    workdir: Path
    database: str
    people: int
    seed: int
    database_name: str | None
    view_plan: ViewPlan

    def url(self, server_url: str) -> str:
        assert self.database_name is not None
        return with_dbname(server_url, self.database_name)


def kept_sizes(directory: Path) -> list[Kept]:
    """Every size kept under ``directory`` whose rebuild finished, SQLite first, smallest first."""
    found = []
    for manifest in sorted(directory.glob(f"*/{MANIFEST}")):
        entry: dict[str, Any] = json.loads(manifest.read_text())
        found.append(
            Kept(
                manifest.parent,
                entry["database"],
                int(entry["people"]),
                int(entry["seed"]),
                entry.get("database_name"),
                ViewPlan(**entry["view_plan"]),
            )
        )
    return sorted(found, key=lambda k: (k.database != "sqlite", k.people))


class KeptServer(PostgresServer):
    """A local server whose cluster lives in ``directory``: created there on first use,
    started again from there later; :meth:`close` stops it and keeps the files."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        temporary = self.workdir
        directory.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            os.chown(directory, self._user.pw_uid, self._user.pw_gid)
        self.workdir = directory
        self.data_dir = directory / "data"
        self.log_path = directory / "server.log"
        temporary.rmdir()
        if (self.data_dir / "PG_VERSION").exists():
            self._initialised = True
            # The port it had may be taken now; the last setting in the file wins.
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.write(f"port = {self.port}\n")

    def close(self) -> None:
        self.stop()


@contextlib.contextmanager
def kept_server(directory: Path, say: Any = print) -> Iterator[str | None]:
    """The URL of the ``postgres`` database of the cluster kept in ``directory``, started for
    the duration; None (and a line saying why) when there is none or it will not start."""
    cluster = directory / CLUSTER
    if not (cluster / "data" / "PG_VERSION").exists():
        say(f"no PostgreSQL cluster kept in {cluster}")
        yield None
        return
    try:
        server = KeptServer(cluster).start()
    except (PostgresServerError, OSError) as error:
        say(f"the kept PostgreSQL would not start: {error}".splitlines()[0])
        yield None
        return
    say(f"started the kept PostgreSQL in {cluster} on port {server.port}")
    try:
        yield server.url_for("postgres")
    finally:
        server.close()


def traversable(directory: Path) -> None:
    """Lets a server running as another account (root drops to ``postgres``) reach a cluster
    kept inside ``directory``, which ``mkdtemp`` made private."""
    directory.chmod(0o755)
