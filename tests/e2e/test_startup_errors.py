"""A broker that is down when Polku starts gets one clear line, within seconds."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from services.cli import main


def test_up_with_an_unreachable_kafka_says_so_and_how_to_run_without_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["up", "--port", "0"],
        env={"POLKU_DATA_DIR": str(tmp_path), "POLKU_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"},
    )
    assert result.exit_code == 1, result.output
    assert "Kafka at 127.0.0.1:9 is unreachable" in result.output
    assert "unset POLKU_KAFKA_BOOTSTRAP_SERVERS" in result.output
    assert "Traceback" not in result.output
