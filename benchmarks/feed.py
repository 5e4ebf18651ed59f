"""The HTTP event feed's rate: ``GET /enrolment/events`` paged to the head, vs a raw log read.

A pull subscriber's view: every page (``limit=1000``) requested through the service's WSGI app
with a service token and its JSON decoded, following ``next_after`` until it is null. The
baseline reads and decodes the same log's notifications directly (``read_and_decode``).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.run import Result, ratio_result, read_and_decode, timed
from services.runtime import WriteService, write_service_app
from shared.auth import issue_token
from shared.settings import Settings
from tests.support.slice import SECRET


def read_feed(client: object, token: str, limit: int = 1000) -> int:
    """Every event of the feed, page by page; returns how many."""
    headers = {"Authorization": f"Bearer {token}"}
    after, read = 0, 0
    while True:
        response = client.get(f"/enrolment/events?after={after}&limit={limit}", headers=headers)  # type: ignore[attr-defined]
        page = json.loads(response.get_data())
        read += len(page["events"])
        if page["next_after"] is None:
            return read
        after = page["next_after"]


def bench_feed(service: WriteService, workdir: Path, rounds: int = 2) -> Result:
    settings = Settings(data_dir=workdir / "feed", jwt_secret=SECRET)
    client = write_service_app(settings, service).test_client()
    token = issue_token(SECRET, "benchmark", "service")
    expected = len(service.outbox.read(0, 10**9).envelopes)
    read_feed(client, token)  # warm up: imports, statement caches
    feed_rates, raw_rates = [], []
    for _ in range(rounds):
        seconds, read = timed(lambda: read_feed(client, token))
        assert read == expected, (read, expected)
        feed_rates.append(read / seconds)
        seconds, decoded = timed(lambda: read_and_decode(service.application))
        raw_rates.append(decoded / seconds)
    return ratio_result(
        "feed",
        "GET /<service>/events to the head (limit 1000)",
        max(feed_rates),
        max(raw_rates),
        "raw read + decode",
        0.30,
        {"events": expected, "feed_rates": feed_rates, "raw_rates": raw_rates},
    )
