"""``polku replay`` verifies the event logs first, and refuses ``--swap`` when one does not
verify: a rebuild from forged events must never become the official read models."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from werkzeug.test import Client

from services.cli import main
from shared.settings import Settings
from tests.api.helpers import SECRET, Api, build
from tests.support.tamper import Store


def test_swap_is_refused_when_a_chain_does_not_verify(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runtime = build(data_dir)
    try:
        api = Api(runtime, Client(runtime.wsgi))
        api.programme("TEMPO")
        runtime.tracking.projector.drain()
        recorder = runtime.services["enrolment"].application.recorder
        store = Store(runtime.settings.store_url("enrolment"), recorder)
        head = runtime.services["enrolment"].application.head()
    finally:
        runtime.close()
    settings = Settings(data_dir=data_dir)
    env = {
        "POLKU_DATA_DIR": str(data_dir),
        "POLKU_JWT_SECRET": SECRET,
        "POLKU_MASTER_KEY_FILE": str(settings.resolved_master_key_file()),
        "POLKU_AUDIT_KEY_FILE": str(settings.resolved_audit_key_file()),
    }
    clean = CliRunner().invoke(main, ["replay", "--swap"], env=env)
    assert clean.exit_code == 0, clean.output
    assert "verified: enrolment: " in clean.output

    store.set_state(head, b'"name":"TEMPO"', b'"name":"FORGED"')
    refused = CliRunner().invoke(main, ["replay", "--swap"], env=env)
    assert refused.exit_code == 4, refused.output
    assert f"enrolment: changed at position {head}" in refused.output
    assert "swap refused" in refused.stderr
    warned = CliRunner().invoke(main, ["replay"], env=env)
    assert warned.exit_code in (0, 1), warned.output
    assert "do not verify" in warned.stderr
