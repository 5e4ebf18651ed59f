"""The workspace's pages over HTTP (no browser): sign-in rules, refusals, the cohort list and
its API, and the Finnish CSV; the browser tests are in tests/e2e/test_workspace_browser.py."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from werkzeug.test import Client

from services import workspace
from services.scenario.enrolment import COACH
from shared.web.sessions import MemorySessionStore, Sessions
from tests.api.helpers import SECRET
from tests.support.pilot import Pilot


@pytest.fixture(scope="module")
def app_client(pilot: Pilot) -> Client:
    """A workspace with the development sign-in over the pilot's tracking API."""
    app = workspace.create_app(
        pilot.runtime.apps["tracking"],
        SECRET,
        Sessions(MemorySessionStore(), SECRET),
        dev_signin=True,
    )
    return Client(app)


def csrf(client: Client, path: str = "/app/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def sign_in(client: Client, role: str, subject: str = "", person_id: str = "") -> Client:
    fresh = Client(client.application)
    token = csrf(fresh)
    response = fresh.post(
        "/app/dev/sign-in",
        data={"csrf_token": token, "role": role, "subject": subject, "person_id": person_id},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return fresh


def test_the_development_sign_in_exists_only_when_turned_on(pilot: Pilot) -> None:
    # The pilot's own runtime was built without POLKU_DEV_SIGNIN.
    assert pilot.client.get("/app/dev/sign-in").status_code == 404
    assert pilot.client.post("/app/dev/sign-in", data={"role": "hr_admin"}).status_code in (
        403,
        404,
    )
    assert "No sign-in method" in pilot.client.get("/app/sign-in").get_data(as_text=True)


def test_sign_in_refuses_a_bad_role_and_leaves_no_session(app_client: Client) -> None:
    client = Client(app_client.application)
    token = csrf(client)
    response = client.post("/app/dev/sign-in", data={"csrf_token": token, "role": "root"})
    assert response.status_code == 400
    assert "Choose one of the roles" in response.get_data(as_text=True)
    assert client.get("/app/").status_code == 303  # still sent to sign in


def test_sign_in_goes_only_to_pages_of_the_workspace(app_client: Client) -> None:
    client = Client(app_client.application)
    token = csrf(client)
    for target in ("https://evil.example/app/", "//evil.example/app", "/tracking/status"):
        response = client.post(
            "/app/dev/sign-in", data={"csrf_token": token, "role": "hr_admin", "next": target}
        )
        assert response.headers["Location"] == "/app/", target
        token = csrf(client, "/app/")


def test_forms_without_the_csrf_token_are_refused(app_client: Client) -> None:
    client = sign_in(app_client, "hr_admin")
    assert client.post("/app/language", data={"lang": "fi"}).status_code == 403
    assert client.post("/app/sign-out").status_code == 403
    assert client.get("/app/").status_code == 200  # still signed in


def test_a_bad_as_of_or_an_unknown_cohort_is_a_clear_4xx(app_client: Client, pilot: Pilot) -> None:
    client = sign_in(app_client, "coordinator")
    response = client.get(f"/app/cohorts/{pilot.cohort_id}?as_of=yesterday")
    assert response.status_code == 400
    assert "as_of must be a day" in response.get_data(as_text=True)
    assert client.get(f"/app/cohorts/{pilot.cohort_id}?as_of=2020-02-30").status_code == 400
    assert client.get("/app/cohorts/not-a-uuid").status_code == 404
    unknown = client.get("/app/cohorts/00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    assert "not known to tracking" in unknown.get_data(as_text=True)


def test_a_coach_sees_only_the_cohorts_they_coach(app_client: Client, pilot: Pilot) -> None:
    own = sign_in(app_client, "coach", subject=COACH)
    assert pilot.loaded.cohort_id in own.get("/app/").get_data(as_text=True)
    assert own.get(f"/app/cohorts/{pilot.cohort_id}").status_code == 200
    other = sign_in(app_client, "coach", subject="another-coach")
    assert pilot.loaded.cohort_id not in other.get("/app/").get_data(as_text=True)
    assert other.get(f"/app/cohorts/{pilot.cohort_id}").status_code == 404
    assert other.get(f"/app/cohorts/{pilot.cohort_id}/export.xlsx").status_code == 404


def test_the_finnish_csv_uses_semicolons_decimal_commas_and_a_bom(
    app_client: Client, pilot: Pilot
) -> None:
    client = sign_in(app_client, "hr_admin")
    response = client.get(
        f"/app/cohorts/{pilot.cohort_id}/export.csv", headers={"Accept-Language": "fi"}
    )
    assert response.status_code == 200
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Taulukko", "Taso", "Tunnusluku"]
    funnel = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel")
    completion = next(r for r in rows if r[:2] == ["Suppilo", "Suoritusaste"])
    assert completion[2] == str(funnel["rates"]["completion"]["value"]).replace(".", ",")


def listed(pilot: Pilot, role: str = "hr_admin", **query: Any) -> list[str]:
    return [c["name"] for c in pilot.json("/tracking/cohorts", role, **query)["cohorts"]]


def test_the_cohort_list_filters_by_text_programme_year_status_and_funding(pilot: Pilot) -> None:
    name = "TEMPO 2020 pilot"
    everything = pilot.json("/tracking/cohorts")
    row = next(c for c in everything["cohorts"] if c["name"] == name)
    roster = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/roster", limit=500)
    assert row["size"] == sum(p["status"] != "withdrawn" for p in roster["participants"])
    assert 2020 in everything["years"] and row["funding_source"] in everything["funding_sources"]
    assert name in listed(pilot, q="tempo 2020")
    assert name not in listed(pilot, q="nothing like it")
    assert name in listed(pilot, year=2020) and name not in listed(pilot, year=2019)
    assert name in listed(pilot, status="completed") and name not in listed(pilot, status="open")
    assert name in listed(pilot, funding_source=row["funding_source"])
    assert name not in listed(pilot, funding_source="Elsewhere")
    assert name in listed(pilot, programme_id=row["programme_id"])
    stranger = pilot.get("/tracking/cohorts", "coach", sub="someone-else").get_json()
    assert stranger["cohorts"] == [] and stranger["count"] == 0
    assert name in listed(pilot, "coach")  # the scenario's coach coaches it


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "done"}, "status"),
        ({"year": "20x0"}, "year"),
        ({"programme_id": "x"}, "programme_id"),
    ],
)
def test_the_cohort_list_names_a_bad_filter(
    pilot: Pilot, query: dict[str, str], field: str
) -> None:
    response = pilot.get("/tracking/cohorts", **query)
    assert response.status_code == 422
    assert field in response.get_data(as_text=True)


def test_a_view_as_csv_for_finnish_excel_with_every_headline_figure(pilot: Pilot) -> None:
    path = f"/tracking/cohorts/{pilot.cohort_id}/funnel"
    funnel = pilot.json(path)
    response = pilot.get(path, format="csv", csv_dialect="fi", csv_tables="all")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    main, _, figures = raw.decode("utf-8-sig").partition("\r\n\r\n")
    sessions = list(csv.DictReader(io.StringIO(main), delimiter=";"))
    assert [s["title"] for s in sessions] == [s["title"] for s in funnel["attendance"]["sessions"]]
    rows = {r["figure"]: r for r in csv.DictReader(io.StringIO(figures), delimiter=";")}
    completion = rows["rates.completion"]
    assert completion["value"] == str(funnel["rates"]["completion"]["value"]).replace(".", ",")
    assert rows["stages.invited"]["value"] == str(funnel["stages"]["invited"]["value"])
    overall = rows["attendance.overall"]
    assert float(overall["value"].replace(",", ".")) == funnel["attendance"]["overall"]["value"]
    # Today's CSV is unchanged without the options: the main table only, with commas.
    plain = pilot.get(path, format="csv").get_data(as_text=True)
    assert not plain.startswith("\ufeff") and "\r\n\r\n" not in plain


def test_the_csv_options_are_checked(pilot: Pilot) -> None:
    path = f"/tracking/cohorts/{pilot.cohort_id}/network"
    for query in ({"csv_dialect": "excel"}, {"csv_tables": "some"}):
        response = pilot.get(path, format="csv", **query)
        assert response.status_code == 422
        assert next(iter(query)) in response.get_data(as_text=True)
    network = pilot.json(path)
    hidden = next(g for g in network["groups"] if g["members"]["suppressed"])
    text = pilot.get(path, format="csv", csv_tables="all").get_data(as_text=True)
    figures = text.partition("\r\n\r\n")[2]
    row = next(
        r
        for r in csv.DictReader(io.StringIO(figures))
        if r["figure"] == f"groups[{hidden['name']}].members"
    )
    assert (row["value"], row["suppressed"]) == ("", "True")
