"""The production serving stack in process: its settings, the relay-lag gauge, the 429 docs,
and the refusal of several worker processes for a process with background work."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from services import served
from services.cli import main
from shared.auth import issue_token
from shared.imports import ImportResult
from shared.positions import RelayPositions
from shared.rate_limits import DEFAULT_RATE_LIMITS
from shared.settings import Settings, SettingsError
from shared.sql import Database
from shared.web.jobs import JOBS
from tests.api.helpers import SECRET, build

METRICS_PORT = 9999


def test_rate_limits_are_read_per_role_with_a_default() -> None:
    assert Settings.from_env({}).rate_limits == DEFAULT_RATE_LIMITS
    assert Settings.from_env({"POLKU_RATE_LIMITS": "off"}).rate_limits == {}
    limits = Settings.from_env({"POLKU_RATE_LIMITS": "coach=10/minute; service=1000/hour"})
    assert limits.rate_limits == {
        "coach": "10/minute",
        "service": "1000/hour",
        "default": DEFAULT_RATE_LIMITS["default"],
    }


@pytest.mark.parametrize(
    ("raw", "named"),
    [("root=5/minute", "'root=5/minute'"), ("coach=often", "'often'"), ("coach", "'coach'")],
)
def test_a_bad_rate_limit_names_the_setting_and_the_entry(raw: str, named: str) -> None:
    with pytest.raises(SettingsError, match="POLKU_RATE_LIMITS") as refused:
        Settings.from_env({"POLKU_RATE_LIMITS": raw})
    assert named in str(refused.value)


def test_server_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            "POLKU_WORKERS": "2",
            "POLKU_THREADS": "16",
            "POLKU_TIMEOUT": "60",
            "POLKU_READ_TIMEOUT": "2.5",
            "POLKU_MAX_BODY_BYTES": "4096",
            "POLKU_MAX_CONNECTIONS": "50",
            "POLKU_METRICS_PORT": "9100",
            "POLKU_READY_MAX_LAG": "100",
        }
    )
    assert (settings.workers, settings.threads, settings.timeout) == (2, 16, 60)
    assert (settings.read_timeout, settings.max_body_bytes) == (2.5, 4096)
    assert (settings.max_connections, settings.metrics_port, settings.ready_max_lag) == (
        50,
        9100,
        100,
    )
    with pytest.raises(SettingsError, match="POLKU_METRICS_PORT"):
        Settings.from_env({"POLKU_METRICS_PORT": "70000"})
    with pytest.raises(SettingsError, match="POLKU_READ_TIMEOUT"):
        Settings.from_env({"POLKU_READ_TIMEOUT": "0"})


def test_relay_lag_is_read_from_the_services_database_at_each_scrape(tmp_path: Path) -> None:
    # The relay runs elsewhere; nothing here contacts Kafka.
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret=SECRET,
        kafka_bootstrap_servers="127.0.0.1:9",
        metrics_port=METRICS_PORT,
    )
    built = served.build(settings, "enrolment", projector=False, start=False)
    try:
        client = Client(built.wsgi)
        admin = {"Authorization": f"Bearer {issue_token(SECRET, 'admin', 'hr_admin')}"}
        for name in ("A", "B"):
            created = client.post(
                "/enrolment/programmes", json={"name": name, "organisation": "TEM"}, headers=admin
            )
            assert created.status_code == 201, created.get_json()

        def scrape() -> str:
            response = client.get("/metrics", base_url=f"http://localhost:{METRICS_PORT}")
            assert response.status_code == 200
            return response.get_data(as_text=True)

        lag = 'polku_relay_lag_events{service="enrolment"} '
        assert lag + "2.0" in scrape()
        assert client.get("/metrics").status_code == 404  # the API's port serves no metrics

        database = Database(f"sqlite:///{tmp_path / 'enrolment.sqlite'}")
        RelayPositions(database, "enrolment").put("kafka", 1)
        database.close()
        assert lag + "1.0" in scrape()
    finally:
        built.close()


def test_every_guarded_operation_documents_the_429(tmp_path: Path) -> None:
    runtime = build(tmp_path)
    try:
        client = Client(runtime.wsgi)
        missing = []
        for service in ("enrolment", "assessment", "tracking"):
            document = client.get(f"/{service}/openapi.json").get_json()
            for path, item in document["paths"].items():
                for method, operation in item.items():
                    if "x-roles" in operation and "429" not in operation["responses"]:
                        missing.append(f"{method.upper()} {path}")
        assert not missing, missing
    finally:
        runtime.close()


def test_several_workers_are_refused_for_a_process_running_the_projector(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "tracking", "--port", "0"],
        env={
            "POLKU_DATA_DIR": str(tmp_path),
            "POLKU_JWT_SECRET": SECRET,
            "POLKU_FEED": "http",
            "POLKU_ENROLMENT_URL": "http://127.0.0.1:9",
            "POLKU_WORKERS": "3",
        },
    )
    assert result.exit_code == 2, result.output
    assert "POLKU_WORKERS=3" in result.output and "the projector" in result.output
    assert "Traceback" not in result.output
    assert served.background_work(Settings(), "tracking", projector=False) is None
    assert served.background_work(Settings(), "enrolment", projector=True) is None


def test_the_rate_limit_is_counted_before_the_body_is_read(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET, rate_limits={"default": "2/minute"})
    built = served.build(settings, "enrolment", projector=False, start=False)
    try:
        client = Client(built.wsgi)
        admin = {"Authorization": f"Bearer {issue_token(SECRET, 'flood', 'hr_admin')}"}
        statuses = [
            client.post(
                "/enrolment/programmes", data="not json", content_type="text/plain", headers=admin
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [415, 415, 429]
    finally:
        built.close()


def test_a_busy_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main,
            ["serve", "enrolment", "--host", "127.0.0.1", "--port", str(port)],
            env={"POLKU_DATA_DIR": str(tmp_path), "POLKU_JWT_SECRET": SECRET},
        )
    assert result.exit_code == 1, result.output
    assert f"Port {port} is in use" in result.output
    assert "Traceback" not in result.output


def test_assessment_reports_its_coach_scope_dead_letters(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET, metrics_port=METRICS_PORT)
    built = served.build(settings, "assessment", projector=False, start=False)
    try:
        response = Client(built.wsgi).get("/metrics", base_url=f"http://localhost:{METRICS_PORT}")
        assert "polku_coach_scope_dead_letters 0.0" in response.get_data(as_text=True)
        assert 'polku_outbox_head{service="assessment"} 0.0' in response.get_data(as_text=True)
    finally:
        built.close()


def test_metrics_on_the_apis_own_port_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "enrolment", "--port", "8123"],
        env={"POLKU_DATA_DIR": str(tmp_path), "POLKU_METRICS_PORT": "8123"},
    )
    assert result.exit_code == 2, result.output
    assert "POLKU_METRICS_PORT=8123" in result.output


def test_metrics_count_the_import_jobs_of_a_write_service(tmp_path: Path) -> None:
    runtime = build(tmp_path / "data")
    try:
        app = runtime.apps["enrolment"]
        release = threading.Event()

        def held(progress: object) -> ImportResult:
            release.wait(10)
            return ImportResult(rows=1, recorded=1)

        assert served._import_jobs(app) == {}
        job = app.extensions[JOBS].start("people", "hr_admin:me", 1, held)
        assert served._import_jobs(app) == {"running": 1}
        release.set()
        # The job's thread finishes the job in memory, then stores it: wait for the store.
        for _ in range(1000):
            if served._import_jobs(app) != {"running": 1}:
                break
            threading.Event().wait(0.01)
        assert job.state == "succeeded"
        assert served._import_jobs(app) == {"succeeded": 1}
    finally:
        runtime.close()
