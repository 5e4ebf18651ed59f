"""The benchmark runs and reports sane structures; it asserts no timings (see its output)."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from benchmarks import run
from benchmarks.state.__main__ import main as state_main
from benchmarks.state.kept import kept_sizes


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


def test_state_scale_at_two_tiny_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where --keep leaves the stores
    out = tmp_path / "state.json"
    argv = ["--people", "100", "--people", "200", "--skip-postgres", "--samples", "2", "--keep"]
    assert state_main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    sqlite = [r for r in report["runs"] if r["database"] == "sqlite"]
    assert [r["people"] for r in sqlite] == [100, 200]
    assert all(r["skipped"] for r in report["runs"] if r["database"] == "postgresql")
    for size in sqlite:
        figures = {f["name"]: f for f in size["figures"]}
        assert size["events"] > size["people"]
        assert figures["load"]["value"] > 0
        rebuild = figures["rebuild"]
        assert rebuild["ratio"] == pytest.approx(rebuild["value"] / rebuild["baseline"])
        assert rebuild["details"]["events"] > 0
        replayed = figures["rebuild (polku replay), per CPU s"]
        assert replayed["details"]["events"] == rebuild["details"]["events"]
        assert replayed["ratio"] == pytest.approx(replayed["value"] / replayed["baseline"])
        for view in ("cohort funnel", "cohort kirkpatrick", "programme kirkpatrick"):
            live, as_of = figures[f"{view} p95"], figures[f"{view} as_of p95"]
            assert 0 < live["details"]["p50_ms"] <= live["value"]
            assert live["baseline_name"] == "hand-written SQL p95" and live["baseline"] > 0
            assert as_of["baseline"] == live["value"]
        assert figures["first as_of answer"]["value"] > 0
        assert figures["store size: tracking"]["value"] > 0
        assert not any(name.startswith("organisation docs") for name in figures)
    printed = capsys.readouterr().out
    assert "growth (sqlite" in printed and "100 -> 200" in printed
    assert "cohort funnel p50" in printed
    kept = re.search(r"data in (\S+)", printed)
    assert kept is not None
    assert_kept_stores_are_timed_again(Path(kept.group(1)), sqlite[0], tmp_path, capsys)


def assert_kept_stores_are_timed_again(
    kept: Path, first: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--reuse DIR`` over what ``--keep`` left: the views timed again, nothing loaded."""
    assert [(k.database, k.people) for k in kept_sizes(kept)] == [("sqlite", 100), ("sqlite", 200)]
    out = tmp_path / "again.json"
    argv = ["--reuse", str(kept), "--people", "100", "--samples", "2", "--json", str(out)]
    assert state_main(argv) == 0
    [run] = json.loads(out.read_text())["runs"]
    figures = {f["name"]: f for f in run["figures"]}
    assert (run["database"], run["people"]) == ("sqlite", 100)
    assert "load" not in figures and not any(name.startswith("rebuild") for name in figures)
    # The first run's "after a new event" figures registered a person per view: the kept
    # log holds them, and nothing was loaded again.
    assert run["events"] > first["events"]
    assert figures["cohort funnel p95"]["value"] > 0
    assert figures["programme kirkpatrick as_of p95"]["value"] > 0
    assert f"kept in {kept / 'sqlite-100'}" in capsys.readouterr().out


def test_reuse_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        state_main(["--reuse", str(tmp_path / "missing")])
    assert exit_.value.code == 2
