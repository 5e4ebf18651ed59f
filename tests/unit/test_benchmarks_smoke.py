"""The benchmark runs and reports sane structures; it asserts no timings (see its output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import run


def assert_ratio_result(result: run.Result) -> None:
    assert result.figure is not None and result.figure > 0
    assert result.baseline is not None and result.baseline > 0
    assert result.ratio == pytest.approx(result.figure / result.baseline)
    assert result.status in ("PASS", "BELOW")
    assert result.unit == "events/s"


def test_command_path_section(tmp_path: Path) -> None:
    result = run.bench_command_path(tmp_path, commands=20, warmup=3, rounds=2)
    assert result.section == "command path"
    assert_ratio_result(result)
    assert result.details["commands"] == 20


def test_rebuild_section(tmp_path: Path) -> None:
    service = run.prepare_log(tmp_path, 150)
    try:
        events = service.application.head()
        assert 140 <= events <= 150
        relative, absolute = run.bench_rebuild(service, tmp_path, rounds=1)
    finally:
        service.close()
    assert_ratio_result(relative)
    assert relative.details["events"] == events
    assert absolute.figure == relative.figure
    assert absolute.status in ("PASS", "BELOW")


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert run.percentile(samples, 50) == 50.0
    assert run.percentile(samples, 95) == 95.0
    assert run.percentile([3.0], 95) == 3.0


def test_main_without_kafka_writes_json_and_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    argv = ["--quick", "--skip-kafka", "--events", "120", "--commands", "6", "--samples", "2"]
    assert run.main([*argv, "--json", str(out)]) == 0
    results = json.loads(out.read_text())["results"]
    by_status = {(r["section"], r["metric"]): r["status"] for r in results}
    assert by_status[("relay", "Relay.drain() publish rate")] == "SKIP"
    assert by_status[("freshness", "command -> roster, through Kafka")] == "SKIP"
    embedded = next(r for r in results if r["metric"] == "command -> roster, embedded")
    assert 0 < embedded["details"]["p50_ms"] <= embedded["details"]["p95_ms"]
    assert "Status" in capsys.readouterr().out
