"""A real Keycloak (dev mode, embedded H2) run from the Maven Central distribution, no Docker.

Owns the Keycloak process the test suite starts: the cached distribution
(``infra/keycloak/fetch.sh`` into ``.cache/keycloak/<version>/``), a throwaway copy of its
``data/`` folder, the realms imported at start (``infra/keycloak/polku-realm.json`` and the
test-only ``elsewhere`` realm, another issuer), free loopback ports, the readiness wait, the
stop, and the few admin and token calls tests need (a token per user or client, key rotation).

Keycloak 26 needs Java 21 or later; :func:`java_home` picks one under ``/usr/lib/jvm`` when
``JAVA_HOME`` does not name one.
"""

from __future__ import annotations

import atexit
import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.managed import Managed
from tests.support.postgres_server import free_loopback_port

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra" / "keycloak"
FETCH_SCRIPT = INFRA_DIR / "fetch.sh"
REALMS = {
    "polku": INFRA_DIR / "polku-realm.json",
    "elsewhere": Path(__file__).with_name("keycloak-realm-elsewhere.json"),
}
ADMIN = ("admin", "admin-dev-pass")
LOG_TAIL_LINES = 60
MIN_JAVA = 21


class KeycloakError(RuntimeError):
    """Keycloak could not be fetched, started, stopped or asked."""


def keycloak_version() -> str:
    return os.environ.get("POLKU_KEYCLOAK_VERSION") or (INFRA_DIR / "VERSION").read_text().strip()


def ensure_distribution(version: str | None = None) -> Path:
    """The unpacked distribution, running fetch.sh first when the cache is incomplete."""
    version = version or keycloak_version()
    home = REPO_ROOT / ".cache" / "keycloak" / version
    if (home / ".complete").is_file():
        return home
    result = subprocess.run(
        ["bash", str(FETCH_SCRIPT)],
        env=dict(os.environ, POLKU_KEYCLOAK_VERSION=version),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise KeycloakError(f"fetch.sh failed: {result.stderr[-2000:]}")
    return Path(result.stdout.strip())


def _java_major(java_home: Path) -> int:
    release = java_home / "release"
    try:
        for line in release.read_text().splitlines():
            if line.startswith("JAVA_VERSION="):
                return int(line.split("=", 1)[1].strip('"').split(".")[0])
    except (OSError, ValueError):
        pass
    return 0


def java_home() -> Path:
    """``JAVA_HOME`` when it is Java 21+, else the newest such JDK under /usr/lib/jvm."""
    configured = os.environ.get("JAVA_HOME")
    if configured and _java_major(Path(configured)) >= MIN_JAVA:
        return Path(configured)
    found = sorted(
        (Path(p) for p in glob.glob("/usr/lib/jvm/*") if not Path(p).is_symlink()),
        key=_java_major,
        reverse=True,
    )
    if found and _java_major(found[0]) >= MIN_JAVA:
        return found[0]
    raise KeycloakError(f"Keycloak needs Java {MIN_JAVA}+; none in JAVA_HOME or /usr/lib/jvm")


def _server_home(distribution: Path, server_home: Path) -> None:
    """A Keycloak home of its own: the distribution stays read-only and shared, and this
    server's database, imports and augmented build live in its own copies."""
    server_home.mkdir(parents=True)
    # kc.sh finds its home from its own real path, so bin/ is copied, not linked.
    shutil.copytree(distribution / "bin", server_home / "bin")
    for name in ("conf", "providers", "themes", "version.txt"):
        if (distribution / name).exists():
            (server_home / name).symlink_to(distribution / name)
    # The 150 MB of jars are shared; the augmented build (lib/quarkus, 3 MB) is not.
    lib = server_home / "lib"
    lib.mkdir()
    for entry in (distribution / "lib").iterdir():
        if entry.name == "lib":
            (lib / "lib").symlink_to(entry)
        elif entry.is_dir():
            shutil.copytree(entry, lib / entry.name)
        else:
            shutil.copy2(entry, lib / entry.name)
    imports = server_home / "data" / "import"
    imports.mkdir(parents=True)
    for realm, path in REALMS.items():
        shutil.copy(path, imports / f"{realm}-realm.json")


def template_key(distribution: Path, java: Path) -> str:
    digest = hashlib.sha256(f"{distribution.name}|{_java_major(java)}".encode())
    for path in REALMS.values():
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def primed_root() -> Path:
    """Where primed servers are kept: a user-level cache (``POLKU_KEYCLOAK_CACHE``, else
    ``$XDG_CACHE_HOME/polku/keycloak`` or ``~/.cache/polku/keycloak``), so that fresh clones on
    one machine (CI) prime once. The name holds a hash of everything priming depends on."""
    explicit = os.environ.get("POLKU_KEYCLOAK_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "polku" / "keycloak"


def ensure_template(distribution: Path, java: Path) -> Path:
    """A primed server, made once per distribution, JDK and realm files: Quarkus' augmented
    build and an H2 database with the realms imported. Starting from it skips the build, the
    schema creation and the import, the bulk of a first start (see docs/signing-in.md)."""
    template = primed_root() / f"{distribution.name}-primed-{template_key(distribution, java)}"
    if (template / ".complete").is_file():
        return template
    template.parent.mkdir(parents=True, exist_ok=True)
    with open(template.parent / f".lock-{template.name}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (template / ".complete").is_file():
            return template
        began = time.monotonic()
        server = KeycloakServer()
        try:
            home = server.workdir / "keycloak"
            _server_home(distribution, home)
            server._launch(home, import_realms=True)
            server.stop()  # a clean stop, so the H2 files are complete
            scratch = Path(tempfile.mkdtemp(prefix=".primed-", dir=template.parent))
            shutil.copytree(home / "lib" / "quarkus", scratch / "quarkus")
            shutil.copytree(home / "data" / "h2", scratch / "h2")
            (scratch / ".complete").write_text(f"primed_seconds {time.monotonic() - began:.1f}\n")
            shutil.rmtree(template, ignore_errors=True)
            scratch.rename(template)
        finally:
            server.close()
    return template


class KeycloakServer(Managed):
    """One Keycloak on 127.0.0.1:<free port>, its issuer URL pinned to that address."""

    def __init__(self, startup_timeout: float = 300.0, url: str | None = None) -> None:
        """``url``: a Keycloak already running with these realms, used and never stopped."""
        self.url = url
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None
        if url is not None:
            return
        self.home = ensure_distribution()
        self.java_home = java_home()
        self.startup_timeout = startup_timeout
        self.workdir = Path(tempfile.mkdtemp(prefix="polku-keycloak-"))
        self.log_path = self.workdir / "keycloak.log"
        self.port = free_loopback_port()
        self.management_port = free_loopback_port()
        atexit.register(self.close)

    @property
    def base_url(self) -> str:
        return self.url or f"http://127.0.0.1:{self.port}"

    def issuer(self, realm: str = "polku") -> str:
        return f"{self.base_url}/realms/{realm}"

    def start(self) -> KeycloakServer:
        """Start in dev mode from the primed template; wait until both realms answer."""
        if self.process is not None or self.url is not None:
            return self
        began = time.monotonic()
        template = ensure_template(self.home, self.java_home)
        server_home = self.workdir / "keycloak"
        _server_home(self.home, server_home)
        shutil.rmtree(server_home / "lib" / "quarkus")
        shutil.copytree(template / "quarkus", server_home / "lib" / "quarkus")
        shutil.copytree(template / "h2", server_home / "data" / "h2")
        self._launch(server_home, import_realms=False)
        self.start_seconds = time.monotonic() - began
        return self

    def _launch(self, server_home: Path, import_realms: bool) -> None:
        env = dict(
            os.environ,
            JAVA_HOME=str(self.java_home),
            KC_BOOTSTRAP_ADMIN_USERNAME=ADMIN[0],
            KC_BOOTSTRAP_ADMIN_PASSWORD=ADMIN[1],
            # A bounded heap: the machine is shared, and dev mode runs well in this.
            JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m",
            # The C1 compiler only: a short-lived test server starts faster on few cores.
            JAVA_OPTS_APPEND="-XX:TieredStopAtLevel=1",
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(server_home / "bin" / "kc.sh"),
                    "start-dev",
                    "--http-host=127.0.0.1",
                    f"--http-port={self.port}",
                    f"--http-management-port={self.management_port}",
                    f"--hostname={self.base_url}",
                    *(["--import-realm"] if import_realms else []),
                ],
                cwd=server_home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                tail = self.log_tail()
                self.close()
                raise KeycloakError(f"Keycloak exited at start:\n{tail}")
            try:
                self.get_json(f"{self.issuer('elsewhere')}/.well-known/openid-configuration")
                self.get_json(f"{self.issuer()}/.well-known/openid-configuration")
                return
            except KeycloakError:
                if time.monotonic() > deadline:
                    tail = self.log_tail()
                    self.close()
                    raise KeycloakError(
                        f"Keycloak did not answer in {self.startup_timeout:g} s:\n{tail}"
                    ) from None
                time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM to the JVM (kc.sh execs java); SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        if self.url is None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # Calls --------------------------------------------------------------------------------

    def get_json(self, url: str, token: str | None = None) -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._call(urllib.request.Request(url, headers=headers))

    def _call(self, request: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise KeycloakError(
                f"{request.get_method()} {request.full_url}: {exc.code} "
                f"{exc.read()[:500].decode(errors='replace')}"
            ) from None
        except (OSError, ValueError) as exc:
            raise KeycloakError(f"{request.full_url}: {exc}") from None
        return json.loads(body) if body else None

    def _post(self, url: str, form: dict[str, str] | None = None, **kw: Any) -> Any:
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            content = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(kw.get("json")).encode()
            content = "application/json"
        headers = {"Content-Type": content, "Accept": "application/json"}
        if kw.get("token"):
            headers["Authorization"] = f"Bearer {kw['token']}"
        method = kw.get("method", "POST")
        return self._call(urllib.request.Request(url, data=data, headers=headers, method=method))

    def token_endpoint(self, realm: str = "polku") -> str:
        return f"{self.issuer(realm)}/protocol/openid-connect/token"

    def password_token(self, username: str, password: str, client_id: str = "polku-web") -> str:
        """An access token for a user (the password grant: tests only, no browser)."""
        answer = self._post(
            self.token_endpoint(),
            form={
                "grant_type": "password",
                "client_id": client_id,
                "username": username,
                "password": password,
                "scope": "openid",
            },
        )
        return str(answer["access_token"])

    def client_token(self, client_id: str, secret: str, realm: str = "polku") -> str:
        answer = self._post(
            self.token_endpoint(realm),
            form={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        return str(answer["access_token"])

    def admin_token(self) -> str:
        """The master realm's admin token, reused for half a minute (it lives a minute):
        the admin's password is hashed at full strength, which is slow on a busy machine."""
        cached = getattr(self, "_admin", None)
        if cached is not None and time.monotonic() - cached[1] < 30:
            return str(cached[0])
        answer = self._post(
            f"{self.issuer('master')}/protocol/openid-connect/token",
            form={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": ADMIN[0],
                "password": ADMIN[1],
            },
        )
        self._admin = (str(answer["access_token"]), time.monotonic())
        return self._admin[0]

    def rotate_key(self, name: str, priority: int, algorithm: str = "RS256") -> None:
        """Adds a generated signing key above the current ones: new tokens carry its kid."""
        token = self.admin_token()
        realm = self.get_json(f"{self.base_url}/admin/realms/polku", token)
        provider = "rsa-generated" if algorithm.startswith("RS") else "ecdsa-generated"
        config: dict[str, list[str]] = {
            "priority": [str(priority)],
            "enabled": ["true"],
            "active": ["true"],
            "algorithm": [algorithm],
        }
        if provider == "ecdsa-generated":
            config["ecdsaEllipticCurveKey"] = ["P-256"]
        else:
            config["keySize"] = ["2048"]
        self._post(
            f"{self.base_url}/admin/realms/polku/components",
            json={
                "name": name,
                "providerId": provider,
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm["id"],
                "config": config,
            },
            token=token,
        )

    def set_user_attribute(self, username: str, name: str, value: str) -> None:
        token = self.admin_token()
        users = self.get_json(
            f"{self.base_url}/admin/realms/polku/users?exact=true&username={username}", token
        )
        user = users[0]
        attributes = dict(user.get("attributes") or {})
        attributes[name] = [value]
        self._post(
            f"{self.base_url}/admin/realms/polku/users/{user['id']}",
            json={**user, "attributes": attributes},
            token=token,
            method="PUT",
        )


if __name__ == "__main__":
    # scripts/bootstrap.sh test: fetch and prime once, so a test session starts in seconds.
    began = time.monotonic()
    primed = ensure_template(ensure_distribution(), java_home())
    print(f"{primed} ({time.monotonic() - began:.1f}s)")
