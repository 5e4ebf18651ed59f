"""The composition root: what each kind of process builds, and what it leaves alone."""

from __future__ import annotations

import threading
from pathlib import Path

from services.runtime import build_tracking, tracking_app
from shared.settings import Settings
from tests.api.helpers import SECRET, bearer


def test_a_tracking_api_without_projector_never_touches_kafka(tmp_path: Path) -> None:
    """`polku serve tracking --no-projector` must start (and answer) while Kafka is down."""
    settings = Settings(
        data_dir=tmp_path,
        feed="kafka",
        kafka_bootstrap_servers="127.0.0.1:9",  # nothing listens here
        jwt_secret=SECRET,
    )
    threads_before = threading.active_count()
    tracking = build_tracking(settings, project=False)
    try:
        assert tracking.feed.kind == "kafka"
        assert tracking.projector.run_once() is None  # it consumes nothing itself
        assert threading.active_count() == threads_before  # no Kafka client thread
        client = tracking_app(settings, tracking).test_client()
        status = client.get("/tracking/status", headers=bearer("hr_admin"))
        assert status.status_code == 200
        assert status.get_json()["feed"] == "kafka"
    finally:
        tracking.close()
