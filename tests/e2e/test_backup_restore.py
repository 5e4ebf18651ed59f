"""The backup and restore the README's Operations section describes, run for real.

The TEMPO 2020 pilot is loaded into PostgreSQL event stores and projected; ``pg_dump`` dumps the
event database, ``pg_restore`` restores it into a fresh database, and a new tracking store is
rebuilt from the restored logs alone. Every view table must equal the original's.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from services.runtime import build_embedded
from services.tracking.comparison import compare
from shared.settings import Settings
from shared.sql import Database
from tests.support.pilot import load_pilot
from tests.support.postgres_server import create_database, drop_database, find_bindir
from tests.support.slice import SECRET


def pg_tool(name: str) -> str:
    try:
        local = find_bindir() / name
    except Exception:  # no local server binaries: look on PATH
        local = None
    if local is not None and local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.postgres
def test_a_restored_dump_rebuilds_identical_views(
    tmp_path: Path, postgres_url: str, fresh_postgres_url: str
) -> None:
    original = Settings(
        data_dir=tmp_path / "original",
        database_url=fresh_postgres_url,
        tracking_database_url=f"sqlite:///{tmp_path / 'original-tracking.sqlite'}",
        master_key_file=tmp_path / "master.key",
        jwt_secret=SECRET,
    )
    runtime = build_embedded(original)
    try:
        load_pilot(runtime, SECRET)
        runtime.tracking.projector.drain()
    finally:
        runtime.close()

    dump = tmp_path / "events.dump"
    run([pg_tool("pg_dump"), "--format=custom", f"--file={dump}", f"--dbname={fresh_postgres_url}"])
    name = f"restored_{uuid.uuid4().hex[:12]}"
    restored_url = create_database(postgres_url, name)
    try:
        run([pg_tool("pg_restore"), "--no-owner", f"--dbname={restored_url}", str(dump)])
        restored = original.with_changes(
            data_dir=tmp_path / "restored",
            database_url=restored_url,
            tracking_database_url=f"sqlite:///{tmp_path / 'restored-tracking.sqlite'}",
        )
        runtime = build_embedded(restored)
        try:
            runtime.tracking.projector.drain()
        finally:
            runtime.close()
    finally:
        drop_database(postgres_url, name)

    before = Database(original.readmodel_url())
    after = Database(restored.readmodel_url())
    try:
        comparison = compare(before, after)
        assert comparison.identical, "\n".join(comparison.lines())
        rows = sum(diff.live_rows for diff in comparison.tables)
        assert rows > 100  # the pilot's views, not two empty stores
    finally:
        before.close()
        after.close()
