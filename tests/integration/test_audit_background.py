"""The long-lived process verifies its logs in the background: ``/<service>/audit/status``
shows the last verified position, checkpoints follow the chain, and tampering shows up there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from werkzeug.test import Client

from services.runtime import build_embedded
from shared.settings import Settings
from tests.api.helpers import SECRET, Api
from tests.support.slice import wait_for
from tests.support.tamper import Store


def test_background_verification_reports_the_verified_position_and_tampering(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", jwt_secret=SECRET, audit_interval=0.05)
    embedded = build_embedded(settings)
    embedded.start()
    try:
        api = Api(embedded, Client(embedded.wsgi))
        api.programme("TEMPO")
        api.programme("SECOND")
        head = api.enrolment.head()

        def status(outcome: str, at_least: int) -> dict[str, Any] | None:
            logs = api.get("/enrolment/audit/status", role="auditor").get_json()["logs"]
            mine = next((s for s in logs if s["log"] == "enrolment"), None)
            ok = (
                mine
                and mine["outcome"] == outcome
                and (mine["position"] or mine["verified_to"]) >= at_least
            )
            return mine if ok else None

        verified = wait_for(lambda: status("ok", head), 30, "the log verified up to its head")
        assert verified["verified_to"] == head and verified["last_checkpoint"] == head

        store = Store(settings.store_url("enrolment"), api.enrolment.recorder)
        store.set_state(1, b'"name":"TEMPO"', b'"name":"FORGE"')
        ledger = embedded.services["enrolment"].ledger
        assert ledger is not None
        ledger.full_every = 1  # every pass verifies the whole log (an old row was edited)
        found = wait_for(lambda: status("changed", 1), 30, "the tampering reported")
        assert found["position"] == 1
    finally:
        embedded.close()
