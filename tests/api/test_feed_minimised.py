"""The HTTP feeds carry no individual answers; only tracking's token reads the restricted feed.

Planted scores and comments (tests/support/planted.py) are looked for in every page of every
feed, read with a token of every role; tracking's views still show what they aggregate.
"""

from __future__ import annotations

import io
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server
from werkzeug.test import Client

from services.cli import main
from services.runtime import Embedded, build_embedded, build_tracking, tracking_app
from shared import feeds
from shared.auth import ROLES, issue_token
from shared.settings import Settings
from tests.api.helpers import SECRET, Api, assert_problem, bearer
from tests.support import planted as scene
from tests.support.planted import Planted

PUBLIC_FEEDS = ("/enrolment/events", "/assessment/events")
RESTRICTED_FEED = "/assessment/restricted/events"
# Every role, a service token of a subject that is not tracking's among them.
READERS = [(role, "alice") for role in ROLES] + [("service", "enrolment-exporter")]


def caller(client: Client) -> scene.Call:
    def call(method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.get_json())
        return response.get_json()

    return call


@pytest.fixture
def planted(api: Api) -> Planted:
    found = scene.plant(caller(api.client), SECRET)
    api.embedded.tracking.projector.drain()
    return found


def every_page(api: Api, path: str, role: str, sub: str) -> Iterator[bytes]:
    """The raw bytes of every page of a feed, or fails if the token is refused."""
    after = 0
    while True:
        response = api.get(f"{path}?after={after}&limit=7", role=role, sub=sub)
        assert response.status_code == 200, response.get_data(as_text=True)
        yield response.get_data()
        page = response.get_json()
        if page["next_after"] is None:  # the page reached the head
            return
        after = page["next_after"]


@pytest.mark.parametrize(("role", "sub"), READERS)
def test_no_feed_page_carries_a_planted_value_for_any_role(
    api: Api, planted: Planted, role: str, sub: str
) -> None:
    pages = 0
    for path in PUBLIC_FEEDS:
        probe = api.get(f"{path}?limit=1", role=role, sub=sub)
        if probe.status_code == 403:
            assert_problem(probe, 403)
            continue
        for raw in every_page(api, path, role, sub):
            pages += 1
            assert planted.found_in(raw) == [], (path, role)
    assert role not in ("service", "auditor", "hr_admin") or pages > 2
    refused = assert_problem(api.get(RESTRICTED_FEED, role=role, sub=sub), 403)
    assert planted.found_in(str(refused).encode()) == []


def test_the_restricted_feed_gives_tracking_every_planted_value(api: Api, planted: Planted) -> None:
    """The other tests' search is able to fail: here it finds all it looks for."""
    raw = b"".join(every_page(api, RESTRICTED_FEED, "service", "tracking"))
    assert sorted(planted.found_in(raw)) == sorted([*planted.comments, *map(str, planted.scores)])


def test_both_feeds_list_the_same_events_at_the_same_positions(api: Api, planted: Planted) -> None:
    def listing(path: str, sub: str) -> list[tuple[str, str, int]]:
        page = api.get(f"{path}?limit=1000", role="service", sub=sub).get_json()
        return [(e["id"], e["type"], e["position"]) for e in page["events"]]

    public = listing("/assessment/events", "tracking")
    assert public == listing(RESTRICTED_FEED, "tracking")
    assert len(public) > len(planted.scores) // 2


def test_tracking_still_aggregates_the_planted_values(api: Api, planted: Planted) -> None:
    growth = api.get(f"/tracking/cohorts/{planted.cohort_id}/growth", "coordinator").get_json()
    (instrument,) = growth["instruments"]
    cells = {(c["dimension"], c["rater_group"], c["wave"]): c for c in instrument["cells"]}
    for dimension, mean in zip(("clarity", "focus"), scene.self_means(), strict=True):
        cell = cells[(dimension, "self", "baseline")]
        assert cell["n"]["value"] == len(scene.SELF_SCORES)
        assert cell["mean"]["value"] == pytest.approx(mean, abs=1e-4)
    assert ("clarity", "peer", "baseline") not in cells or cells[("clarity", "peer", "baseline")][
        "mean"
    ]["value"] is None  # two peers: below every minimum
    reaction = api.get(f"/tracking/cohorts/{planted.cohort_id}/reaction", "coordinator")
    (survey,) = reaction.get_json()["instruments"]
    items = {i["key"]: i for i in survey["items"]}
    for key, mean in zip(("overall", "pace"), scene.reaction_means(), strict=True):
        assert items[key]["mean"]["value"] == pytest.approx(mean, abs=1e-4)
    (comments,) = survey["comments"]
    assert sorted(comments["texts"]) == sorted(planted.comments)


@pytest.mark.parametrize(
    ("role", "sub"), [("hr_admin", "tracking"), ("auditor", "tracking"), ("service", "Tracking")]
)
def test_only_a_service_token_of_tracking_reads_the_restricted_feed(
    api: Api, role: str, sub: str
) -> None:
    body = assert_problem(api.get(RESTRICTED_FEED, role=role, sub=sub), 403)
    assert "service" in body["detail"] or "tracking" in body["detail"]
    assert api.get(RESTRICTED_FEED, role="service", sub="tracking").status_code == 200


def test_the_restricted_feed_refuses_no_token_and_bad_arguments(api: Api) -> None:
    assert_problem(api.client.get(RESTRICTED_FEED), 401)
    tracking = bearer("service", "tracking")
    assert_problem(api.client.get(f"{RESTRICTED_FEED}?limit=0", headers=tracking), 422, {"limit"})
    assert_problem(api.client.get(f"{RESTRICTED_FEED}?after=-1", headers=tracking), 422, {"after"})


def test_the_readers_are_a_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET, restricted_readers=("projector-2",))
    runtime: Embedded = build_embedded(settings)
    try:
        client = Client(runtime.wsgi)

        def status(sub: str) -> int:
            token = issue_token(SECRET, sub, "service")
            headers = {"Authorization": f"Bearer {token}"}
            return client.get(RESTRICTED_FEED, headers=headers).status_code

        assert (status("projector-2"), status("tracking")) == (200, 403)
    finally:
        runtime.close()


def test_tracking_over_http_reads_the_restricted_feed_and_builds_the_same_views(
    api: Api, planted: Planted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``POLKU_FEED=http`` as the tracking process builds it, its requests served in process."""
    asked: list[str] = []

    def urlopen(request: Any, timeout: float) -> io.BytesIO:
        url = urllib.parse.urlsplit(request.full_url)
        asked.append(url.path)
        headers = {"Authorization": request.get_header("Authorization")}
        response = api.client.get(f"{url.path}?{url.query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return io.BytesIO(response.get_data())

    monkeypatch.setattr(feeds.urllib.request, "urlopen", urlopen)
    base = "http://write-services.invalid"
    settings = Settings(
        data_dir=tmp_path / "over-http",
        jwt_secret=SECRET,
        feed="http",
        service_urls={"enrolment": base, "assessment": base},
    )
    tracking = build_tracking(settings)  # signs its own token, as subject "tracking"
    try:
        tracking.projector.drain()
        over_http = Client(tracking_app(settings, tracking))
        for view in ("growth", "reaction", "roster"):
            path = f"/tracking/cohorts/{planted.cohort_id}/{view}"
            got = over_http.get(path, headers=bearer("coordinator")).get_data()
            assert got == api.get(path, "coordinator").get_data(), view
    finally:
        tracking.close()
    assert set(asked) == {"/enrolment/events", RESTRICTED_FEED}


def test_a_projector_whose_token_is_not_a_reader_stops_with_one_clear_line(
    api: Api, tmp_path: Path
) -> None:
    server = make_server("127.0.0.1", 0, api.embedded.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = CliRunner().invoke(
            main,
            ["project", "--once"],
            env={
                "POLKU_DATA_DIR": str(tmp_path / "projector"),
                "POLKU_JWT_SECRET": SECRET,
                "POLKU_FEED": "http",
                "POLKU_ASSESSMENT_URL": f"http://127.0.0.1:{server.server_port}",
                "POLKU_SERVICE_TOKEN": issue_token(SECRET, "enrolment-exporter", "service"),
            },
        )
    finally:
        server.shutdown()
        thread.join()
    assert result.exit_code == 1, result.output
    assert "403" in result.output and "POLKU_RESTRICTED_READERS" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
