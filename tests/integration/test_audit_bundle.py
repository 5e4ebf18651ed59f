"""``polku audit export`` writes a bundle that ``polku audit verify --bundle`` checks offline:
intact it verifies, an edited row is named by position, a re-signed manifest is refused, and it
holds no personal field in clear."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from werkzeug.test import Client

from services.cli import main
from shared.audit.bundle import MANIFEST, SIGNATURE
from shared.audit.checkpoints import Signer
from shared.audit.verify import EXIT_CODES, Kind
from shared.settings import Settings
from tests.api.helpers import SECRET, Api, build


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    root = tmp_path_factory.mktemp("bundle")
    data_dir = root / "data"
    runtime = build(data_dir)
    try:
        api = Api(runtime, Client(runtime.wsgi))
        person = api.person(full_name="Aino Salainen", email="aino.salainen@example.fi")
        assert (
            api.get(f"/enrolment/people/{person}", headers={"X-Purpose": "audit"}).status_code
            == 200
        )
        runtime.tracking.projector.drain()
        assert api.get(f"/tracking/people/{person}/timeline").status_code == 200
    finally:
        runtime.close()
    settings = Settings(data_dir=data_dir)
    env = {
        "POLKU_DATA_DIR": str(data_dir),
        "POLKU_JWT_SECRET": SECRET,
        "POLKU_MASTER_KEY_FILE": str(settings.resolved_master_key_file()),
        "POLKU_AUDIT_KEY_FILE": str(settings.resolved_audit_key_file()),
    }
    out = root / "bundle"
    result = CliRunner().invoke(
        main, ["audit", "export", "--from", "2000-01-01", "--to", "2100-01-01", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    yield out, env


def check(bundle: Path, env: dict[str, str], *extra: str) -> Result:
    key = Path(env["POLKU_AUDIT_KEY_FILE"] + ".pub")
    return CliRunner().invoke(
        main, ["audit", "verify", "--bundle", str(bundle), "--public-key", str(key), *extra]
    )


def test_an_intact_bundle_verifies_offline(exported: tuple[Path, dict[str, str]]) -> None:
    bundle, env = exported
    manifest = json.loads((bundle / MANIFEST).read_text())
    assert {log["name"] for log in manifest["logs"]} >= {
        "enrolment",
        "enrolment.access",
        "tracking.access",
    }
    result = check(bundle, env)
    assert result.exit_code == 0, result.output
    assert "enrolment: ok" in result.output and "tracking.access: ok" in result.output


def test_the_bundle_holds_no_personal_field_in_clear(exported: tuple[Path, dict[str, str]]) -> None:
    bundle, _ = exported
    texts = [p.read_text() for p in bundle.rglob("*") if p.is_file()]
    states = [
        base64.b64decode(json.loads(line)["state"])
        for line in (bundle / "logs" / "enrolment.jsonl").read_text().splitlines()[1:]
    ]
    assert states
    assert not any(b"Salainen" in s or b"aino.salainen" in s for s in states)
    assert not any("Salainen" in t for t in texts)


def test_an_edited_row_is_named_by_position(
    exported: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    original, env = exported
    bundle = tmp_path / "copy"
    shutil.copytree(original, bundle)
    path = bundle / "logs" / "enrolment.jsonl"
    lines = path.read_text().splitlines()
    row = json.loads(lines[1])
    state = base64.b64decode(row["state"]).replace(b'"actor_sub":"alice"', b'"actor_sub":"eve"')
    assert state != base64.b64decode(row["state"])
    lines[1] = json.dumps({**row, "state": base64.b64encode(state).decode()})
    path.write_text("\n".join(lines) + "\n")
    result = check(bundle, env)
    assert result.exit_code == EXIT_CODES[Kind.CHANGED], result.output
    assert f"enrolment: changed at position {row['position']}" in result.output
    assert "logs/enrolment.jsonl is not the file the manifest signed" in result.output


def test_a_manifest_signed_by_another_key_is_refused(
    exported: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    original, env = exported
    bundle = tmp_path / "copy"
    shutil.copytree(original, bundle)
    forger = Signer.from_file(tmp_path / "forger.key")
    body = (bundle / MANIFEST).read_bytes()
    (bundle / SIGNATURE).write_text(forger.sign_bytes(body).hex())
    result = check(bundle, env)
    assert result.exit_code == EXIT_CODES[Kind.BAD_SIGNATURE], result.output
