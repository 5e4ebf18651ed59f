"""A real, throwaway PostgreSQL server (initdb + pg_ctl) in a temp directory, no Docker.

Owns the local PostgreSQL process the test suite starts when neither ``POLKU_TEST_POSTGRES_URL``
nor a Docker engine is available: finding the server binaries, running them as an unprivileged
user when we are root (initdb refuses root), the loopback port, trust auth, and per-test
databases via ``create_database()``.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.managed import Managed

DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
DEFAULT_DBNAME = "polku"
SUPERUSER = "postgres"
LOG_TAIL_LINES = 40


class PostgresServerError(RuntimeError):
    """The local PostgreSQL server could not be found, initialised, started or stopped."""


def find_bindir() -> Path:
    """Directory holding initdb/pg_ctl: PG 15's Debian path, ``pg_config --bindir``, then PATH."""
    candidates: list[Path] = []
    override = os.environ.get("POLKU_TEST_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    candidates.append(DEFAULT_BINDIR)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    initdb = shutil.which("initdb")
    if initdb:
        # PATH entries are often symlinks into the real bindir; pg_ctl must come from the same one.
        candidates.append(Path(initdb).resolve().parent)
    candidates.extend(Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PostgresServerError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"{', '.join(str(c) for c in candidates) or '(no candidates)'}"
    )


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account to run the server as, or None when we are not root and can run it directly."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("POLKU_TEST_PG_OS_USER"), "postgres", "nobody"):
        if not name:
            continue
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresServerError(
        "running as root, and neither a 'postgres' nor a 'nobody' account exists to run initdb "
        "(initdb refuses to run as root); create one or set POLKU_TEST_PG_OS_USER"
    )


def _world_traversable(path: Path) -> bool:
    """Can any user reach ``path``? Matters because the server runs as another account."""
    for part in [path, *path.parents]:
        try:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


class PostgresServer(Managed):
    """One PostgreSQL cluster on 127.0.0.1:<free port> with trust auth and a ``polku`` database."""

    def __init__(
        self,
        *,
        dbname: str = DEFAULT_DBNAME,
        bindir: Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.bindir = bindir or find_bindir()
        self.dbname = dbname
        self.startup_timeout = startup_timeout
        self._user = _unprivileged_user()
        base = Path(tempfile.gettempdir())
        if self._user is not None and not _world_traversable(base):
            # A root-only TMPDIR would hide the data dir from the server's own account.
            base = Path("/tmp")
        self.workdir = Path(tempfile.mkdtemp(prefix="polku-pg-", dir=base))
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "server.log"
        self.port = free_loopback_port()
        self._initialised = False
        self._started = False
        self._closed = False
        self.start_seconds: float | None = None
        if self._user is not None:
            os.chown(self.workdir, self._user.pw_uid, self._user.pw_gid)
        atexit.register(self.close)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def start(self) -> PostgresServer:
        """initdb on first use, then start the server and wait until it accepts connections."""
        if self._closed:
            raise PostgresServerError("this PostgresServer was closed; create a new one")
        if self._started:
            return self
        began = time.monotonic()
        if not self._initialised:
            self._initdb()
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                str(int(self.startup_timeout)),
                "start",
            ],
            what="pg_ctl start",
            timeout=self.startup_timeout + 15,
        )
        self._started = True
        if not self._database_exists(self.dbname):
            self.create_database(self.dbname)
        self.start_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Fast shutdown (rolls back open transactions); immediate mode if that hangs."""
        if not self._started:
            return
        pg_ctl = str(self.bindir / "pg_ctl")
        try:
            self._run(
                [pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30", "stop"],
                what="pg_ctl stop",
                timeout=45,
            )
        except PostgresServerError:
            self._run(
                [pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
                what="pg_ctl stop -m immediate",
                timeout=30,
                check=False,
            )
        self._started = False

    def close(self) -> None:
        """Stop the server and delete its directory."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stop()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
            atexit.unregister(self.close)

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        return create_database(self.url_for("postgres"), name)

    def drop_database(self, name: str) -> None:
        drop_database(self.url_for("postgres"), name)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_path, lines)

    # -- internals ---------------------------------------------------------------------------

    def _database_exists(self, name: str) -> bool:
        import psycopg

        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None

    def _initdb(self) -> None:
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                # Skips only initdb's final sync of a throwaway cluster; the server keeps fsync on.
                "--no-sync",
            ],
            what="initdb",
            timeout=120,
        )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# polku test server\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                # The default socket dir (/var/run/postgresql) may not exist or be writable.
                f"unix_socket_directories = '{self.workdir}'\n"
                "max_connections = 200\n"
            )
        self._initialised = True

    def _run(
        self, cmd: list[str], *, what: str, timeout: float, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, LC_ALL="C", LANG="C")
        user = self._user
        if user is not None:
            env.update(HOME=str(self.workdir), USER=user.pw_name, LOGNAME=user.pw_name)
        try:
            result = subprocess.run(
                cmd,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                # subprocess drops root itself: no su/runuser, so no shell quoting of paths.
                user=None if user is None else user.pw_uid,
                group=None if user is None else user.pw_gid,
                extra_groups=None if user is None else [],
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresServerError(
                f"{what} timed out after {timeout:.0f}s. Server log tail:\n{self.log_tail()}"
            ) from exc
        if check and result.returncode != 0:
            raise PostgresServerError(
                f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-3000:]}\n"
                f"{result.stdout.strip()[-2000:]}\nServer log tail:\n{self.log_tail()}"
            )
        return result


def create_database(server_url: str, name: str) -> str:
    """Create an empty database on the server behind ``server_url``; return the new one's URL.

    Works for any server (env URL, testcontainers, local) whose user may CREATE DATABASE.
    """
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_dbname(server_url, name)


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server (a random ``t_...`` name), dropped on exit."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = create_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop a database, disconnecting its sessions first (PostgreSQL 13+)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create_owned_database(server_url: str, name: str, password: str) -> str:
    """A new database owned by a new login role of the same name, which only it (and
    superusers) may connect to; returns its URL with the role's own credentials."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    with psycopg.connect(server_url, autocommit=True) as conn:
        role = sql.Identifier(name)
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password))
        )
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(role, role))
        conn.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(role))
    info = conninfo_to_dict(server_url)
    where = f"{info.get('host') or '127.0.0.1'}:{info.get('port') or 5432}"
    return f"postgresql://{name}:{password}@{where}/{name}"


def drop_owned_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    drop_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def with_dbname(url: str, dbname: str) -> str:
    """``url`` (URL or key=value conninfo) pointing at database ``dbname`` instead."""
    from urllib.parse import urlsplit, urlunsplit

    from psycopg.conninfo import make_conninfo

    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        # Keep the URL form, which callers and other libraries parse; swap only the path.
        return urlunsplit(parts._replace(path=f"/{dbname}"))
    return make_conninfo(url, dbname=dbname)
