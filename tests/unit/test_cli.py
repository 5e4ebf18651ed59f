"""The polku command line: help everywhere, tokens that verify, usage errors that explain."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli import main
from shared.auth import verify_token

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("command", [[], *[[name] for name in COMMANDS]])
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    if command:
        described = main.commands[command[0]].help or ""
        assert described.strip(), f"`polku {command[0]}` has no help text"


def test_token_prints_a_token_the_services_accept(tmp_path: Path) -> None:
    secret = "s" * 40
    result = CliRunner().invoke(
        main, ["token", "--role", "auditor", "--sub", "aino"], env={"POLKU_JWT_SECRET": secret}
    )
    assert result.exit_code == 0, result.output
    principal = verify_token(secret, result.output.strip())
    assert (principal.role, principal.sub) == ("auditor", "aino")


def test_token_without_a_secret_uses_one_kept_in_the_data_dir(tmp_path: Path) -> None:
    env = {"POLKU_DATA_DIR": str(tmp_path)}
    first = CliRunner().invoke(main, ["token", "--role", "coach", "--sub", "c"], env=env)
    assert first.exit_code == 0, first.output
    secret = (tmp_path / "jwt.secret").read_text().strip()
    assert verify_token(secret, first.output.strip()).role == "coach"


def test_an_unknown_role_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["token", "--role", "king", "--sub", "x"])
    assert result.exit_code == 2
    assert "king" in result.output


def test_bad_settings_are_reported_by_name() -> None:
    result = CliRunner().invoke(
        main, ["token", "--role", "coach", "--sub", "x"], env={"POLKU_FEED": "carrier-pigeon"}
    )
    assert result.exit_code == 2
    assert "POLKU_FEED" in result.output


def test_relay_refuses_to_start_without_kafka(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["relay", "enrolment", "--once"], env={"POLKU_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "POLKU_KAFKA_BOOTSTRAP_SERVERS" in result.output


def test_settings_lists_every_variable() -> None:
    from shared.settings import VARIABLES

    result = CliRunner().invoke(main, ["settings"], env={"POLKU_JWT_SECRET": "hidden-value"})
    assert result.exit_code == 0
    for name in VARIABLES:
        assert name in result.output
    assert "hidden-value" not in result.output


def test_a_busy_port_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main, ["up", "--port", str(port)], env={"POLKU_DATA_DIR": str(tmp_path)}
        )
    assert result.exit_code == 1, result.output
    assert f"Port {port} is in use" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "enrolment", "--port", "0"],
        env={
            "POLKU_DATA_DIR": str(tmp_path),
            "POLKU_DATABASE_URL": "postgresql://polku@127.0.0.1:9/polku",
        },
    )
    assert result.exit_code == 1, result.output
    assert "the database is unreachable" in result.output
    assert "Traceback" not in result.output
    # The half-opened store is finalised here, not during some later test: it must not raise.
    del result
    gc.collect()


def test_token_refuses_a_lifetime_above_the_configured_maximum(tmp_path: Path) -> None:
    env = {"POLKU_DATA_DIR": str(tmp_path), "POLKU_JWT_MAX_LIFETIME": "7200"}
    refused = CliRunner().invoke(
        main, ["token", "--role", "coach", "--sub", "c", "--ttl-hours", "3"], env=env
    )
    assert refused.exit_code == 2
    assert "at most 2 h" in refused.output
    issued = CliRunner().invoke(
        main, ["token", "--role", "coach", "--sub", "c", "--ttl-hours", "2"], env=env
    )
    assert issued.exit_code == 0, issued.output
    secret = (tmp_path / "jwt.secret").read_text().strip()
    assert verify_token(secret, issued.output.strip(), dt.timedelta(hours=2)).sub == "c"
