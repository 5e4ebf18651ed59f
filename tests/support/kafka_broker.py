"""A real single-node Kafka 4.x broker (KRaft, combined mode) run from Maven jars, no Docker.

Owns the broker process the test suite starts when neither ``KAFKA_BOOTSTRAP_SERVERS`` nor a
Docker engine is available: its temp directory, ``server.properties``, storage format, ports,
start/readiness wait and stop. The jars come from ``infra/kafka/fetch-jars.sh`` (cached under
``.cache/kafka/<version>/``). Settings follow /work/shared/INFRA.md.

The broker authenticates every client with SASL/SCRAM-SHA-512 and authorizes it with the KRaft
``StandardAuthorizer`` (``allow.everyone.if.no.acl.found=false``), as production does. Its
principals (:data:`USERS`) are created when storage is formatted, so they and the ACLs the test
support creates survive a stop/start in the metadata log: ``admin`` is the super user, the
others get what ``tests/support/kafka_acls.py`` grants them.
"""

from __future__ import annotations

import atexit
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from tests.support.managed import Managed

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra" / "kafka"
FETCH_SCRIPT = INFRA_DIR / "fetch-jars.sh"
POM = INFRA_DIR / "pom.xml"
LOG4J_CONFIG = INFRA_DIR / "log4j2.properties"
MARKER_NAME = ".complete"

SASL_MECHANISM = "SCRAM-SHA-512"
USERS = {
    "admin": "admin-secret",
    "relay": "relay-secret",
    "tracking": "tracking-secret",
    "other": "other-secret",
}
"""Each principal and its password (no ``,``, ``]`` or ``=``: the StorageTool's delimiters)."""

LOG_TAIL_LINES = 60
PORT_ATTEMPTS = 3


class KafkaBrokerError(RuntimeError):
    """The local broker could not be prepared, started or stopped."""


class _PortTakenError(KafkaBrokerError):
    """Another process holds one of the broker's ports."""


def kafka_version() -> str:
    """The Kafka version to run: ``POLKU_KAFKA_VERSION`` or the pom's ``<kafka.version>``."""
    override = os.environ.get("POLKU_KAFKA_VERSION")
    if override:
        return override
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    if not match:
        raise KafkaBrokerError(f"no <kafka.version> in {POM}")
    return match.group(1).strip()


def ensure_jars(version: str | None = None) -> Path:
    """Return the folder of broker jars, running fetch-jars.sh first if the cache is incomplete."""
    version = version or kafka_version()
    jar_dir = REPO_ROOT / ".cache" / "kafka" / version
    if (jar_dir / MARKER_NAME).is_file():
        return jar_dir
    env = dict(os.environ, POLKU_KAFKA_VERSION=version)
    result = subprocess.run(
        ["bash", str(FETCH_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not (jar_dir / MARKER_NAME).is_file():
        # Maven's first [ERROR] line names the cause; the rest is boilerplate. Lines may start
        # with ANSI resets even with colour off, so search rather than match the prefix.
        errors = [
            line[line.index("[ERROR]") :]
            for line in result.stderr.splitlines()
            if "[ERROR]" in line and line.split("[ERROR]", 1)[1].strip()
        ]
        detail = errors[0] if errors else result.stderr[-3000:]
        raise KafkaBrokerError(
            f"{FETCH_SCRIPT} failed for Kafka {version} (exit {result.returncode}):\n{detail}"
        )
    return jar_dir


def free_loopback_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the OS picks it when binding to 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_cluster_id() -> str:
    """22 characters of url-safe base64 of a uuid4, unpadded, as the StorageTool expects."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        # One id in 64 starts with "-", which the StorageTool's parser takes for an option
        # ("-t: expected one argument"). Kafka's own Uuid.randomUuid() rejects those too.
        if not cluster_id.startswith("-"):
            return cluster_id


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise KafkaBrokerError("no `java` on PATH (Java 17+ is needed for the local Kafka broker)")
    return found


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no broker log)"
    return "\n".join(text.splitlines()[-lines:]) or "(broker log is empty)"


class KafkaBroker(Managed):
    """One KRaft broker+controller on loopback; restartable on the same ports and data dir.

    ``start()`` formats storage on first use only, so a ``stop()``/``start()`` cycle keeps every
    topic and message. ``close()`` stops the broker and deletes its directory.
    """

    def __init__(
        self,
        *,
        jar_dir: Path | None = None,
        workdir: Path | None = None,
        startup_timeout: float = 90.0,
        stop_timeout: float = 30.0,
        heap: str = "512m",
    ) -> None:
        self._jar_dir = jar_dir
        self._owns_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="polku-kafka-"))
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.heap = heap
        # Ports are chosen once so a restarted broker keeps the address clients already hold.
        self.port = free_loopback_port()
        self.controller_port = free_loopback_port()
        while self.controller_port == self.port:
            self.controller_port = free_loopback_port()
        self.cluster_id = new_cluster_id()
        self.data_dir = self.workdir / "data"
        self.properties_path = self.workdir / "server.properties"
        self.log_path = self.workdir / "broker.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._formatted = False
        self._ever_ready = False
        self._closed = False
        # Timings of the last start, for diagnostics and reports.
        self.format_seconds: float | None = None
        self.ready_seconds: float | None = None
        atexit.register(self.close)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client_config(self, user: str = "admin") -> dict[str, str]:
        """What a kafka-python client needs, besides the brokers, to connect as ``user``."""
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": SASL_MECHANISM,
            "sasl_plain_username": user,
            "sasl_plain_password": USERS[user],
        }

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    def start(self) -> KafkaBroker:
        """Start (or restart) the broker and block until it answers a metadata request."""
        if self._closed:
            raise KafkaBrokerError("this KafkaBroker was closed; create a new one")
        if self.running:
            return self
        if self._jar_dir is None:
            self._jar_dir = ensure_jars()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._start_once()
                self._ever_ready = True
                return self
            except _PortTakenError:
                # A port picked by binding to 0 is only free "a moment ago": another process on
                # the machine can take it before the JVM binds it.
                if attempt == PORT_ATTEMPTS:
                    raise
                if self._ever_ready:
                    # Clients and the stored voter set hold these ports: wait for them instead.
                    time.sleep(2.0)
                else:
                    self._pick_new_ports()
        raise AssertionError("unreachable")

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM the broker (a clean shutdown flushes its logs), SIGKILL after ``timeout``."""
        self._terminate(self.stop_timeout if timeout is None else timeout)

    def close(self) -> None:
        """Stop the broker and delete its directory (when this object created it)."""
        if self._closed:
            return
        self._closed = True
        self._terminate()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        atexit.unregister(self.close)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_path, lines)

    # -- internals ---------------------------------------------------------------------------

    def _java_cmd(self, main_class: str, *args: str) -> list[str]:
        assert self._jar_dir is not None
        return [
            _java(),
            "-Xms128m",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            # A list argument skips the shell, so Java itself expands the wildcard.
            "-cp",
            f"{self._jar_dir}/*",
            main_class,
            *args,
        ]

    def _start_once(self) -> None:
        if not self._ever_ready and not all(map(_port_free, (self.port, self.controller_port))):
            raise _PortTakenError(f"port {self.port} or {self.controller_port} already taken")
        if not self._formatted:
            self._write_properties()
            self._format_storage()
        began = time.monotonic()
        # Append, so a restart keeps the earlier run's log for diagnosis.
        with self.log_path.open("ab") as log:
            log.write(f"\n==== start {time.strftime('%H:%M:%S')} ====\n".encode())
            log.flush()
            log_offset = log.tell()
            self._process = subprocess.Popen(
                self._java_cmd("kafka.Kafka", str(self.properties_path)),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if _on_main_thread() else None,
            )
        try:
            self._wait_ready(began, log_offset)
        except BaseException:
            self._terminate()
            raise
        self.ready_seconds = time.monotonic() - began

    def _pick_new_ports(self) -> None:
        # The --standalone format stores the controller endpoint, so new ports need a new format.
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self._formatted = False
        self.cluster_id = new_cluster_id()
        self.port = free_loopback_port()
        self.controller_port = free_loopback_port()
        while self.controller_port == self.port:
            self.controller_port = free_loopback_port()

    def _write_properties(self) -> None:
        listeners = f"CLIENT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
        admin = USERS["admin"]
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": listeners,
            "advertised.listeners": listeners,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "CLIENT",
            "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
            # Clients and the broker itself: SCRAM, whose credentials live in the metadata log.
            "sasl.enabled.mechanisms": SASL_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
            "listener.name.client.sasl.enabled.mechanisms": SASL_MECHANISM,
            "listener.name.client.scram-sha-512.sasl.jaas.config": _jaas(
                "scram.ScramLoginModule", admin
            ),
            # The controller: PLAIN with a static user, so the broker registers as User:admin
            # (as ANONYMOUS it would be refused forever) before any SCRAM record is read.
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": _jaas(
                "plain.PlainLoginModule", admin, f' user_admin="{admin}"'
            ),
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": "User:admin",
            "allow.everyone.if.no.acl.found": "false",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            # The default of 2 makes every transaction fail on a single node.
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # The 128 MB default would be carved out of a 512 MB heap.
            "log.cleaner.dedupe.buffer.size": "16777216",
            # Topics are created by the admin or a principal allowed to: never by a metadata
            # request as a side effect.
            "auto.create.topics.enable": "false",
        }
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))

    def _format_storage(self) -> None:
        if (self.data_dir / "meta.properties").is_file():
            self._formatted = True
            return
        began = time.monotonic()
        result = subprocess.run(
            self._java_cmd(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                self.cluster_id,
                "-c",
                str(self.properties_path),
                "--standalone",
                *(
                    arg
                    for user, password in USERS.items()
                    for arg in (
                        "--add-scram",
                        f"{SASL_MECHANISM}=[name={user},password={password}]",
                    )
                ),
            ),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise KafkaBrokerError(
                f"kafka StorageTool format failed (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        self.format_seconds = time.monotonic() - began
        self._formatted = True

    def _wait_ready(self, began: float, log_offset: int) -> None:
        # Imported here so that importing this module never needs kafka-python.
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        deadline = began + self.startup_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            assert self._process is not None
            exited = self._process.poll() is not None
            # Checked while it runs too: the JVM lingers after a bind failure, and whoever
            # holds the port may accept our probe's connection and never answer it.
            if _mentions_bind_failure(self.log_path, log_offset):
                raise _PortTakenError(
                    f"Kafka broker could not bind 127.0.0.1:{self.port} or "
                    f":{self.controller_port}. Broker log tail:\n{self.log_tail()}"
                )
            if exited:
                raise KafkaBrokerError(
                    f"Kafka broker exited with code {self._process.returncode} during startup "
                    f"(workdir {self.workdir}). Broker log tail:\n{self.log_tail()}"
                )
            if not _port_open(self.port):
                time.sleep(0.2)
                continue
            remaining_ms = int(max(1.0, deadline - time.monotonic()) * 1000)
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id="polku-test-readiness",
                    bootstrap_timeout_ms=min(5000, remaining_ms),
                    request_timeout_ms=min(5000, remaining_ms),
                    **self.client_config("admin"),
                )
                try:
                    cluster = admin.describe_cluster()
                finally:
                    admin.close()
                # The listener can answer before the broker has registered and unfenced itself.
                if cluster.get("brokers"):
                    return
                last_error = KafkaBrokerError(f"metadata lists no brokers yet: {cluster}")
            except (KafkaError, OSError) as exc:
                last_error = exc
            time.sleep(0.3)
        raise KafkaBrokerError(
            f"Kafka broker at {self.bootstrap_servers} not ready after {self.startup_timeout:.0f}s "
            f"(last error: {last_error!r}; workdir {self.workdir}). "
            f"Broker log tail:\n{self.log_tail()}"
        )

    def _terminate(self, timeout: float | None = None) -> None:
        process = self._process
        if process is None:
            return
        timeout = self.stop_timeout if timeout is None else timeout
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._process = None


def _jaas(module: str, password: str, extra: str = "") -> str:
    return (
        f"org.apache.kafka.common.security.{module} required "
        f'username="admin" password="{password}"{extra};'
    )


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option the JVM's server sockets use, so TIME_WAIT leftovers don't count as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _mentions_bind_failure(log_path: Path, offset: int) -> bool:
    try:
        with log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    except OSError:
        return False
    return "Address already in use" in text or "BindException" in text


def _on_main_thread() -> bool:
    # PR_SET_PDEATHSIG fires when the creating *thread* exits, so only use it from the main one.
    return threading.current_thread() is threading.main_thread()


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM the broker if pytest dies without cleanup."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except Exception:  # best effort; atexit still covers normal exits
        pass
