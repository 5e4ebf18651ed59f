"""``polku replay`` on SQLite: a rebuild of the TEMPO pilot equals the live read models, a
corrupted live row is named by table and key, and ``--swap`` repairs it, but only when the live
positions match the rebuild's.

The pilot is loaded and projected once per module; each test works on its own copy of the data.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli import main
from services.runtime import Embedded
from services.tracking.comparison import compare, layouts, normalised
from services.tracking.replay import (
    REPLAY_FILE,
    Rebuild,
    SwapRefused,
    fresh_readmodels,
    swap,
)
from services.tracking.schema import VIEW_TABLES
from services.tracking.views.ledger import Releases, load
from shared.feeds import OutboxFeed
from tests.api.helpers import SECRET, build
from tests.support.pilot import load_pilot


@pytest.fixture(scope="module")
def pilot_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pilot")
    runtime = build(folder)
    try:
        load_pilot(runtime, SECRET)
        runtime.tracking.projector.drain()
    finally:
        runtime.close()
    return folder


@pytest.fixture
def data_dir(pilot_data: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(pilot_data, copy)
    # The master key lives apart from the data, beside the folder: a restore brings both.
    shutil.copy(master_key_beside(pilot_data), master_key_beside(copy))
    return copy


def master_key_beside(data_dir: Path) -> Path:
    return data_dir.with_name(f"{data_dir.name}.master-key")


@pytest.fixture
def runtime(data_dir: Path) -> Iterator[Embedded]:
    built = build(data_dir)
    yield built
    built.close()


@pytest.fixture
def rebuild(runtime: Embedded, tmp_path: Path) -> Iterator[Rebuild]:
    feed = OutboxFeed({name: s.tracking_outbox for name, s in runtime.services.items()})
    built = Rebuild(fresh_readmodels(tmp_path / "rebuilt.sqlite"), feed, batch_size=200)
    built.catch_up()
    yield built
    built.readmodels.database.close()


def corrupt(runtime: Embedded) -> tuple[tuple[str, str, str], tuple[str, str]]:
    """Marks one attendance absent that was not, and loses one career move.

    Keys are the rows' primary keys, which carry the recorded time of the row's version.
    """
    with runtime.tracking.readmodels.database.transaction() as cur:
        cur.execute(
            "SELECT session_id, person_id, recorded_from FROM tr_attendance"
            " WHERE status <> 'absent' ORDER BY session_id, person_id LIMIT 1"
        )
        attendance = tuple(cur.fetchone())
        cur.execute(
            "UPDATE tr_attendance SET status = 'absent' WHERE session_id = ? AND person_id = ?"
            " AND recorded_from = ?",
            attendance,
        )
        cur.execute(  # a move recorded once and never ended: one row, one version
            "SELECT move_id, MIN(recorded_from) FROM tr_moves GROUP BY move_id"
            " HAVING COUNT(*) = 1 ORDER BY move_id LIMIT 1"
        )
        move = tuple(cur.fetchone())
        cur.execute("DELETE FROM tr_moves WHERE move_id = ? AND recorded_from = ?", move)
    return (attendance[0], attendance[1], attendance[2]), (move[0], move[1])


def test_a_rebuild_of_the_pilot_equals_the_live_read_models(
    runtime: Embedded, rebuild: Rebuild
) -> None:
    live = runtime.tracking.readmodels
    comparison = compare(live.database, rebuild.readmodels.database)
    assert comparison.identical, "\n".join(comparison.lines())
    assert not comparison.positions_differ
    assert rebuild.events == live.count("tr_applied_events") > 800
    rows = {d.table: d.rebuilt_rows for d in comparison.tables}
    assert set(rows) == set(VIEW_TABLES)
    assert rows["tr_attendance"] > 100 and rows["tr_moves"] > 0 and rows["tr_results"] > 100
    assert comparison.lines()[-1].startswith("identical: all")
    # Read models that began empty: first writes of re-entered keys were held, not asked.
    assert rebuild.projector.written is not None
    again = Rebuild(rebuild.readmodels, rebuild.feed)  # the same models, no longer empty
    assert again.projector.written is None


def test_corrupted_rows_are_named_by_table_and_key_and_a_swap_repairs_them(
    runtime: Embedded, rebuild: Rebuild
) -> None:
    live = runtime.tracking.readmodels
    attendance, move = corrupt(runtime)

    comparison = compare(live.database, rebuild.readmodels.database)
    assert not comparison.identical
    by_table = {d.table: d for d in comparison.differing}
    assert set(by_table) == {"tr_attendance", "tr_moves"}
    assert by_table["tr_attendance"].changed == 1
    assert by_table["tr_attendance"].examples == {"changed": [attendance]}
    assert by_table["tr_moves"].missing_in_live == 1
    assert by_table["tr_moves"].examples == {"missing in live": [move]}
    report = "\n".join(comparison.lines())
    assert f"tr_moves missing in live: {'/'.join(move)}" in report
    assert f"tr_attendance changed: {'/'.join(attendance)}" in report
    assert "'absent'" not in report and "present" not in report  # keys only, never rows

    swapped = swap(live.database, rebuild)
    assert swapped.attempts == 1
    assert swapped.tables["tr_moves"] == (
        by_table["tr_moves"].live_rows,
        by_table["tr_moves"].rebuilt_rows,
    )
    assert compare(live.database, rebuild.readmodels.database).identical


def test_a_swap_leaves_the_bookkeeping_tables_alone(runtime: Embedded, rebuild: Rebuild) -> None:
    live = runtime.tracking.readmodels
    corrupt(runtime)
    live.record_error("enrolment", "an error the operator should still see")
    positions = live.positions()
    released = Releases()
    assert released.admit("growth:i", ["d|self|baseline"], [f"p{n}" for n in range(5)], 5) is None
    with live.database.transaction() as cur:
        released.record(cur)

    swap(live.database, rebuild)

    assert live.positions() == positions
    assert live.status()["errors"]["enrolment"]["error"].startswith("an error")
    # The release ledger is not derived from the logs: a swap keeps what was released.
    with live.database.transaction(write=False) as cur:
        assert [m for m, _ in load(cur, "growth:i")] == ["d|self|baseline"]
    assert "tr_releases" not in VIEW_TABLES


def test_a_swap_catches_the_rebuild_up_with_events_that_arrived_meanwhile(
    runtime: Embedded, rebuild: Rebuild
) -> None:
    live = runtime.tracking.readmodels
    corrupt(runtime)
    runtime.services["enrolment"].application.define_programme("Later", "TEM", {})
    runtime.tracking.projector.drain()  # the live projector has it; the rebuild has not yet

    swapped = swap(live.database, rebuild, wait=0)

    assert swapped.attempts == 2
    comparison = compare(live.database, rebuild.readmodels.database)
    assert comparison.identical and not comparison.positions_differ
    assert live.count("tr_programmes") == 2


def test_a_swap_is_refused_while_the_live_projector_lags(
    runtime: Embedded, rebuild: Rebuild
) -> None:
    live = runtime.tracking.readmodels
    _, move = corrupt(runtime)
    runtime.services["enrolment"].application.define_programme("Later", "TEM", {})
    rebuild.catch_up()  # the rebuild has the new event; the live projector is not running

    with pytest.raises(SwapRefused, match="did not match"):
        swap(live.database, rebuild, attempts=2, wait=0)

    with live.database.transaction(write=False) as cur:
        cur.execute("SELECT COUNT(*) FROM tr_moves WHERE move_id = ?", (move[0],))
        assert cur.fetchone()[0] == 0  # left as it was
    comparison = compare(live.database, rebuild.readmodels.database)
    assert comparison.positions_differ
    assert "differences may be lag" in "\n".join(comparison.lines())


def test_every_view_table_is_compared_by_its_primary_key() -> None:
    found = {layout.table: layout for layout in layouts()}
    assert set(found) == set(VIEW_TABLES)
    assert all(layout.key for layout in found.values())
    assert found["tr_attendance"].key == ("session_id", "person_id", "recorded_from")
    assert {"recorded_from", "recorded_to"} <= set(found["tr_attendance"].columns)
    assert found["tr_applied_events"].key == ("event_id",)
    assert "applied_at" not in found["tr_applied_events"].columns
    assert [normalised(v) for v in (7, True, None, "x", 2.5)] == [7, 1, None, "x", "2.5"]


def invoke(data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "POLKU_DATA_DIR": str(data_dir),
        "POLKU_JWT_SECRET": SECRET,
        "POLKU_MASTER_KEY_FILE": str(master_key_beside(data_dir)),
    }
    result = CliRunner().invoke(main, ["replay", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_exits_0_when_identical_1_when_not_and_swap_repairs(
    runtime: Embedded, data_dir: Path
) -> None:
    code, out, err = invoke(data_dir)
    assert code == 0, out + err
    assert "replaying" in err  # the progress bar is on stderr
    assert "events/s" in out and "identical: all" in out
    assert (data_dir / REPLAY_FILE).exists()

    attendance, move = corrupt(runtime)
    code, out, _ = invoke(data_dir)
    assert code == 1, out
    assert f"tr_moves missing in live: {'/'.join(move)}" in out
    assert "DIFFERENT: 2 of" in out

    code, out, _ = invoke(data_dir, "--swap", "--batch-size", "50")
    assert code == 0, out
    assert "swapped:" in out and "tr_moves: 17 rows deleted, 18 inserted" in out
    after = out[out.index("after the swap:") :]
    assert "identical: all" in after and "DIFFERENT" not in after
    with runtime.tracking.readmodels.database.transaction(write=False) as cur:
        cur.execute("SELECT COUNT(*) FROM tr_moves WHERE move_id = ?", (move[0],))
        assert cur.fetchone()[0] == 1
        cur.execute(
            "SELECT status FROM tr_attendance WHERE session_id = ? AND person_id = ?"
            " AND recorded_from = ?",
            attendance,
        )
        assert cur.fetchone()[0] != "absent"


def test_the_cli_refuses_to_rebuild_into_the_live_file(data_dir: Path) -> None:
    code, _, err = invoke(data_dir, "--into", str(data_dir / "tracking.sqlite"))
    assert code == 2
    assert "live read models" in err
    assert (data_dir / "tracking.sqlite").stat().st_size > 0


def test_the_cli_exits_3_when_there_is_nothing_to_compare(tmp_path: Path) -> None:
    code, _, err = invoke(tmp_path / "empty")
    assert code == 3
    assert "no live read models" in err


def test_the_help_explains_swap_and_the_exit_status() -> None:
    result = CliRunner().invoke(main, ["replay", "--help"])
    assert result.exit_code == 0
    for words in ("--swap", "--into", "--batch-size", "Exit status", "may then be lag"):
        assert words in result.output


def test_the_pilot_projected_a_few_events_at_a_time_while_loading_equals_a_rebuild(
    tmp_path: Path,
) -> None:
    """The TEMPO scenario: after every save the live projector applies at most three
    notifications per log, so it trails the load in small batches; a rebuild in one go agrees."""
    runtime = build(tmp_path / "live")
    try:
        projector = runtime.tracking.projector
        projector.batch_size = projector.catch_up_batch_size = 3
        during_load: list[int | None] = []
        for service in runtime.services.values():
            service.application.on_saved(lambda: during_load.append(projector.run_once()))
        load_pilot(runtime, SECRET)
        projector.drain()

        batches = [n for n in during_load if n]
        assert len(batches) > 200 and max(batches) <= 6
        feed = OutboxFeed({name: s.tracking_outbox for name, s in runtime.services.items()})
        rebuild = Rebuild(fresh_readmodels(tmp_path / "rebuilt.sqlite"), feed)
        progress: list[tuple[int, int]] = []
        heads = sum(s.application.head() for s in runtime.services.values())
        try:
            rebuild.catch_up(lambda done, total: progress.append((done, total)))
            comparison = compare(runtime.tracking.readmodels.database, rebuild.readmodels.database)
        finally:
            rebuild.readmodels.database.close()
    finally:
        runtime.close()
    assert comparison.identical, "\n".join(comparison.lines())
    assert not comparison.positions_differ
    assert projector.stats.duplicates == 0 and projector.stats.dead_lettered == 0
    assert progress[-1] == (heads, heads)  # the bar ends full, in log positions
