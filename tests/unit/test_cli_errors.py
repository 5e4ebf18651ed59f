"""Start-up errors of the polku command are one clear line; `polku settings` shows no secret."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from services.cli import main

SECRET = "s" * 40


def assert_one_clear_line(result: Result, exit_code: int, *texts: str) -> None:
    """Click's own error exit, not an exception the runner caught (which also exits with 1)."""
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for text in texts:
        assert text in errors[0], result.output


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"POLKU_DATA_DIR": str(tmp_path / "var"), "POLKU_JWT_SECRET": SECRET}


# A malformed SQLite URL ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["project", "--once"], ["up", "--port", "0"]])
def test_a_sqlite_url_with_two_slashes_shows_the_accepted_forms(
    env: dict[str, str], command: list[str]
) -> None:
    result = CliRunner().invoke(
        main,
        command,
        env={
            **env,
            "POLKU_TRACKING_DATABASE_URL": "sqlite://tracking.db",
            "POLKU_FEED": "http",
            "POLKU_ENROLMENT_URL": "http://127.0.0.1:9",
        },
    )
    assert_one_clear_line(
        result,
        2,
        "POLKU_TRACKING_DATABASE_URL",
        "sqlite:///relative/path or sqlite:////absolute/path",
        "sqlite://tracking.db",
    )


# The http feed ----------------------------------------------------------------------------------


def test_an_http_feed_whose_source_refuses_connections_is_one_clear_line(
    env: dict[str, str],
) -> None:
    result = CliRunner().invoke(
        main,
        ["project", "--once"],
        env={**env, "POLKU_FEED": "http", "POLKU_ENROLMENT_URL": "http://127.0.0.1:9"},
    )
    assert_one_clear_line(
        result, 1, "unreachable", "Connection refused", "POLKU_ENROLMENT_URL", "127.0.0.1:9"
    )


def test_the_unreachable_source_is_named_without_its_password(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main,
        ["project", "--once"],
        env={**env, "POLKU_FEED": "http", "POLKU_ENROLMENT_URL": "http://u:hunter2@127.0.0.1:9"},
    )
    assert_one_clear_line(result, 1, "unreachable", "http://u:***@127.0.0.1:9")
    assert "hunter2" not in result.output


class Refusing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_service() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_http_feed_source_that_refuses_the_token_is_one_clear_line(
    env: dict[str, str], refusing_service: str
) -> None:
    result = CliRunner().invoke(
        main,
        ["project", "--once"],
        env={**env, "POLKU_FEED": "http", "POLKU_ENROLMENT_URL": refusing_service},
    )
    assert_one_clear_line(result, 1, refusing_service, "401", "POLKU_SERVICE_TOKEN")


def test_an_http_feed_without_source_urls_is_refused_rather_than_applying_nothing(
    env: dict[str, str],
) -> None:
    result = CliRunner().invoke(main, ["project", "--once"], env={**env, "POLKU_FEED": "http"})
    assert_one_clear_line(result, 2, "POLKU_FEED=http", "POLKU_ENROLMENT_URL")
    assert "applied" not in result.output


def test_a_source_url_without_a_scheme_is_refused(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main,
        ["project", "--once"],
        env={**env, "POLKU_FEED": "http", "POLKU_ENROLMENT_URL": "127.0.0.1:8000"},
    )
    assert_one_clear_line(result, 2, "POLKU_ENROLMENT_URL", "http://")


# polku token ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sub", ["", "   "])
def test_a_token_for_an_empty_subject_is_a_usage_error(env: dict[str, str], sub: str) -> None:
    result = CliRunner().invoke(main, ["token", "--role", "coach", "--sub", sub], env=env)
    assert_one_clear_line(result, 2, "--sub", "must not be empty")


# polku settings ------------------------------------------------------------------------------


def test_settings_masks_the_password_of_a_database_url() -> None:
    result = CliRunner().invoke(
        main, ["settings"], env={"POLKU_DATABASE_URL": "postgresql://polku:hunter2@db:5432/polku"}
    )
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    # What is not secret stays readable: it is what an operator checks.
    assert "POLKU_DATABASE_URL=postgresql://polku:***@db:5432/polku" in result.output


def test_settings_masks_passwords_in_every_url_and_in_query_parameters() -> None:
    result = CliRunner().invoke(
        main,
        ["settings"],
        env={
            "POLKU_TRACKING_DATABASE_URL": "postgresql://u@db/views?password=hunter3&sslmode=require",
            "POLKU_ENROLMENT_URL": "https://feed:hunter4@enrolment:8443",
        },
    )
    assert result.exit_code == 0, result.output
    for secret in ("hunter3", "hunter4"):
        assert secret not in result.output
    assert "postgresql://u@db/views?password=***&sslmode=require" in result.output
    assert "https://feed:***@enrolment:8443" in result.output


def test_settings_hides_secrets_by_name_and_leaves_other_values_alone() -> None:
    result = CliRunner().invoke(
        main,
        ["settings"],
        env={
            "POLKU_JWT_SECRET": "jwt-secret-value",
            "POLKU_SERVICE_TOKEN": "service-token-value",
            "POLKU_TRACKING_DATABASE_URL": "sqlite:///var/tracking.sqlite",
            "POLKU_KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092",
        },
    )
    assert result.exit_code == 0, result.output
    assert "jwt-secret-value" not in result.output
    assert "service-token-value" not in result.output
    assert "POLKU_JWT_SECRET=(set)" in result.output
    assert "POLKU_SERVICE_TOKEN=(set)" in result.output
    assert "POLKU_TRACKING_DATABASE_URL=sqlite:///var/tracking.sqlite" in result.output
    assert "POLKU_KAFKA_BOOTSTRAP_SERVERS=k1:9092,k2:9092" in result.output
