"""``polku serve`` as a real process under gunicorn: slow clients, body limit, 429s, metrics.

Every request goes to a server the test started on 127.0.0.1, with short limits set through
the environment (read timeout 1 s, four threads, a 2,000-byte body limit, five requests a minute
for coordinators). Loops are bounded and every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.tracking.readmodels import ReadModels, store_cursor
from shared.auth import issue_token
from shared.sql import Database
from tests.support.slice import SECRET, wait_for

POLKU = [sys.executable, "-m", "services.cli"]
REPO = Path(__file__).resolve().parents[2]
COORDINATOR_LIMIT = 5
HALF_OPEN = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, process: subprocess.Popen[bytes], port: int, metrics_port: int, log: Path):
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        self.log = log

    def call(
        self, method: str, path: str, token: str | None = None, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            path if path.startswith("http") else self.base + path,
            data=body,
            method=method,
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def up(self) -> bool:
        try:
            return self.call("GET", "/healthz")[0] == 200
        except OSError:
            return False


@contextlib.contextmanager
def serve(tmp_path: Path, args: list[str], env: dict[str, str]) -> Iterator[Served]:
    port, metrics_port = free_port(), free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [*POLKU, "serve", *args, "--host", "127.0.0.1", "--port", str(port)],
        env={
            **os.environ,
            "POLKU_DATA_DIR": str(tmp_path / "var"),
            "POLKU_MASTER_KEY_FILE": str(tmp_path / "master.key"),
            "POLKU_JWT_SECRET": SECRET,
            "POLKU_METRICS_PORT": str(metrics_port),
            "POLKU_READ_TIMEOUT": "1",
            "POLKU_THREADS": "4",
            **env,
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    served = Served(process, port, metrics_port, log)
    try:
        wait_for(lambda: served.up() or process.poll() is not None, 60, "polku serve to listen")
        assert process.poll() is None, log.read_text()
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def enrolment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(
        tmp_path_factory.mktemp("serve-enrolment"),
        ["enrolment"],
        {
            "POLKU_MAX_BODY_BYTES": "2000",
            "POLKU_RATE_LIMITS": f"default=1000/minute;coordinator={COORDINATOR_LIMIT}/minute",
        },
    ) as served:
        yield served


def token(role: str, sub: str) -> str:
    return issue_token(SECRET, sub, role)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (at most 30 s of silence)."""
    sock.settimeout(30)
    received = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return received
        received += chunk


def test_half_open_posts_are_dropped_while_a_normal_request_is_served(enrolment: Served) -> None:
    head = (
        "POST /enrolment/programmes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token('hr_admin', 'slow')}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    held = []
    try:
        for _ in range(HALF_OPEN):
            sock = socket.create_connection(("127.0.0.1", enrolment.port), timeout=10)
            sock.sendall(head)  # and never the body
            held.append(sock)

        status, _, body = enrolment.call(
            "POST",
            "/enrolment/programmes",
            token("hr_admin", "normal"),
            json.dumps({"name": "Served", "organisation": "TEM"}).encode(),
        )
        assert status == 201, body

        answers = [read_until_closed(sock) for sock in held]  # returns only once closed
    finally:
        for sock in held:
            sock.close()
    # Each stalled request was answered 408 and its connection closed, none was let through.
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers
    assert all(b"application/problem+json" in answer for answer in answers)
    assert enrolment.up()


def test_a_body_over_the_limit_is_a_413_problem(enrolment: Served) -> None:
    admin = token("hr_admin", "big")
    big = json.dumps({"name": "x" * 3000, "organisation": "TEM"}).encode()
    status, headers, body = enrolment.call("POST", "/enrolment/programmes", admin, big)
    assert status == 413
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 413 and "2000 bytes" in problem["detail"]

    small = json.dumps({"name": "Small", "organisation": "TEM"}).encode()
    assert enrolment.call("POST", "/enrolment/programmes", admin, small)[0] == 201


def test_a_burst_beyond_the_rate_limit_is_429_with_retry_after(enrolment: Served) -> None:
    coordinator = token("coordinator", "bursty")
    statuses = []
    refused: tuple[dict[str, str], bytes] | None = None
    for _ in range(COORDINATOR_LIMIT + 3):
        status, headers, body = enrolment.call("GET", "/enrolment/programmes", coordinator)
        statuses.append(status)
        if status == 429 and refused is None:
            refused = (headers, body)
    assert statuses == [200] * COORDINATOR_LIMIT + [429] * 3
    assert refused is not None
    headers, body = refused
    assert int(headers["Retry-After"]) > 0
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["type"].endswith("/too-many-requests")
    # Limits are per caller: another coordinator, and a role with a higher limit, go on.
    assert enrolment.call("GET", "/enrolment/programmes", token("coordinator", "calm"))[0] == 200
    assert enrolment.call("GET", "/enrolment/programmes", token("hr_admin", "bursty"))[0] == 200


def test_metrics_are_served_on_their_own_port_only(enrolment: Served) -> None:
    admin = token("hr_admin", "metrics")
    assert enrolment.call("GET", "/enrolment/programmes", admin)[0] == 200
    assert enrolment.call("GET", "/metrics")[0] == 404  # not on the public port

    status, headers, body = enrolment.call("GET", enrolment.metrics)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert (
        'polku_http_requests_total{method="GET",route="/enrolment/programmes",'
        'service="enrolment",status="200"}'
    ) in text
    assert 'polku_http_request_duration_seconds_bucket{le="0.005",method="GET"' in text
    head = _sample(text, 'polku_outbox_head{service="enrolment"}')
    assert head is not None and head >= 1  # the programmes registered above
    assert "# TYPE polku_import_jobs gauge" in text


def _sample(text: str, series: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


@pytest.fixture
def tracking_store(tmp_path: Path) -> Iterator[ReadModels]:
    (tmp_path / "var").mkdir()
    models = ReadModels(Database(f"sqlite:///{tmp_path / 'var' / 'tracking.sqlite'}"))
    models.create(rebuild=True)
    yield models
    models.database.close()


def test_tracking_is_not_ready_while_the_projector_lags_beyond_the_limit(
    tmp_path: Path, tracking_store: ReadModels
) -> None:
    # What a projecting process records: the feed's head, and how far it has projected.
    tracking_store.record_heads({("enrolment", 0): 50})
    with tracking_store.database.transaction() as cur:
        store_cursor(cur, ("enrolment", 0), 30, 30, 30)
    with serve(tmp_path, ["tracking", "--no-projector"], {"POLKU_READY_MAX_LAG": "10"}) as served:
        status, _, body = served.call("GET", "/readyz")
        assert status == 503
        checks: dict[str, Any] = json.loads(body)["checks"]
        assert "enrolment[0] 20" in checks["projector"]

        metrics = served.call("GET", served.metrics)[2].decode()
        lag = _sample(metrics, 'polku_projector_lag_events{partition="0",source="enrolment"}')
        assert lag == 20
        assert "# TYPE polku_dead_letters gauge" in metrics

        with tracking_store.database.transaction() as cur:
            store_cursor(cur, ("enrolment", 0), 45, 45, 15)  # within 10 of the head
        status, _, body = served.call("GET", "/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"]["projector"] == "ok"


def test_all_three_services_in_one_process_project_what_they_record(tmp_path: Path) -> None:
    with serve(tmp_path, ["all"], {}) as served:
        assert served.call("GET", "/readyz")[0] == 200
        programme = json.dumps({"name": "All", "organisation": "TEM"}).encode()
        status, _, body = served.call(
            "POST", "/enrolment/programmes", token("hr_admin", "all"), programme
        )
        assert status == 201, body

        def projected() -> bool:
            metrics = served.call("GET", served.metrics)[2].decode()
            position = 'polku_projector_position{partition="0",source="enrolment"}'
            return _sample(metrics, position) == _sample(
                metrics, 'polku_outbox_head{service="enrolment"}'
            )

        # The projector thread runs in the worker process: the event reaches the views.
        wait_for(projected, 60, "the projector to apply the programme")
        metrics = served.call("GET", served.metrics)[2].decode()
        assert 'polku_outbox_head{service="assessment"}' in metrics
        assert 'route="/healthz"' in metrics
