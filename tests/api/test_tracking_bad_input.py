"""Bad input to every tracking GET endpoint: a 4xx problem naming it, never a 500.

The endpoints and their parameters are read from the OpenAPI document, so an endpoint added
later is covered as soon as its blueprint is registered: each path id gets malformed and
unknown ids, each query parameter the bad values its documented type calls for. Runs on the
session pilot, read-only: every request here is refused before a view could write anything.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

import pytest
from werkzeug.test import TestResponse

from services.tracking.api import create_app
from shared.auth import issue_token
from tests.api.helpers import PROBLEM, SECRET, assert_problem
from tests.support.pilot import Pilot

LONG = 10_000


def _document() -> dict[str, Any]:
    """The tracking OpenAPI document, for parametrizing; building the app opens no database."""
    app = create_app(None, "none", SECRET, dict)  # type: ignore[arg-type]
    return app.extensions["polku.api"].spec.to_dict()  # type: ignore[no-any-return]


DOCUMENT = _document()
ENDPOINTS = {
    path: [*item.get("parameters", []), *item["get"].get("parameters", [])]
    for path, item in DOCUMENT["paths"].items()
    if "get" in item
}
QUERIED = [path for path, params in ENDPOINTS.items() if any(p["in"] == "query" for p in params)]
PAGED = [path for path, params in ENDPOINTS.items() if "after" in {p["name"] for p in params}]
NAMED = [path for path in ENDPOINTS if "{" in path]


class Bad(NamedTuple):
    label: str
    value: str
    malformed: bool = True
    """True: refused with a 422 naming the parameter. False: well formed but unknown or
    unanswerable (an unknown id, a moment before anything was recorded): any 4xx will do."""


def bad_values(schema: dict[str, Any]) -> list[Bad]:
    """The bad values a query parameter of this documented type must refuse."""
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if schema.get("format") == "date-time":
        return [
            Bad("year-1", "0001-01-01T00:00:00+00:00", malformed=False),
            Bad("before-year-1-in-utc", "0001-01-01T00:00:00+14:00"),
            Bad("year-9999", "9999-12-31T23:59:59+14:00"),
            Bad("after-year-9999-in-utc", "9999-12-31T23:59:59-14:00"),
            Bad("month-13", "2020-13-01T00:00:00+00:00"),
            Bad("no-offset", "2020-06-01T00:00:00"),
            Bad("date-only-no-such-day", "2020-02-30"),
            Bad("date-only-future", "9999-12-31"),
            Bad("empty", ""),
            Bad("huge", "2020-06-01T00:00:00+00:00" * (LONG // 25)),
            Bad("nul-after", "2020-06-01T00:00:00+00:00\x00"),
        ]
    if schema.get("format") == "uuid":
        return [
            Bad("word", "not-a-uuid"),
            Bad("empty", ""),
            Bad("huge", "0" * LONG),
            Bad("nul-after", f"{uuid.uuid4()}\x00"),
            Bad("unknown", str(uuid.uuid4()), malformed=False),
        ]
    if "enum" in schema:
        valid = str(schema["enum"][0])
        return [
            Bad("unlisted", "nonsense"),
            Bad("empty", ""),
            Bad("upper-case", valid.upper()),
            Bad("bidi", "\u202e" + valid),
            Bad("nul-after", valid + "\x00"),
            Bad("huge", valid + "x" * LONG),
        ]
    if "integer" in kinds:
        values = [
            Bad("word", "abc"),
            Bad("empty", ""),
            Bad("fraction", "1.5"),
            Bad("exponent", "1e3"),
            Bad("hex", "0x10"),
            Bad("negative", "-1"),
            Bad("too-many-digits", "9" * 5000),
            Bad("huge", str(10**30)),
        ]
        if "minimum" in schema:
            values.append(Bad("below-minimum", str(schema["minimum"] - 1)))
        if "maximum" in schema:
            values.append(Bad("above-maximum", str(schema["maximum"] + 1)))
        return values
    if "string" in kinds:
        return [
            Bad("empty", ""),
            Bad("nul", "Sales\x00"),
            Bad("control", "Sa\x01les"),
            Bad("delete", "Sales\x7f"),
            Bad("next-line", "Sales\u0085"),
            Bad("bidi-override", "\u202eselaS"),
            Bad("bidi-isolate", "Sales\u2066"),
            Bad("huge", "x" * LONG),
        ]
    raise AssertionError(f"no bad values known for a parameter of schema {schema}")


class Case(NamedTuple):
    path: str
    parameter: str
    bad: Bad


def cases() -> list[Any]:
    return [
        pytest.param(Case(path, p["name"], bad), id=f"{path}?{p['name']}={bad.label}")
        for path, parameters in ENDPOINTS.items()
        for p in parameters
        if p["in"] == "query"
        for bad in bad_values(p["schema"])
    ]


def admitted(path: str) -> list[str]:
    """The roles the document says may use the endpoint (its ``x-roles``)."""
    return list(DOCUMENT["paths"][path]["get"]["x-roles"])


def real_ids(pilot: Pilot) -> dict[str, str]:
    """An id the pilot knows for each path parameter the tracking API takes."""
    return {
        "cohort_id": pilot.cohort_id,
        "person_id": pilot.person("P03"),
        "programme_id": pilot.loaded.programme_id,
    }


def url(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no pilot id for a parameter of {path}: extend real_ids()"
    return path


def get(
    pilot: Pilot, path: str, query: dict[str, Any], role: str = "hr_admin", sub: str = "bad-input"
) -> TestResponse:
    """Like ``Pilot.get``, but any query parameter name goes (mobility takes ``role``)."""
    token = issue_token(pilot.secret, sub, role)
    return pilot.client.get(path, query_string=query, headers={"Authorization": f"Bearer {token}"})


def test_the_document_lists_what_the_pilot_serves(pilot: Pilot) -> None:
    served = pilot.client.get("/tracking/openapi.json").get_json()
    # The runtime adds the audit routes every service serves (shared/audit/web.py).
    runtime_only = {p for p in served["paths"] if p.startswith("/tracking/audit/")}
    assert set(served["paths"]) - runtime_only == set(DOCUMENT["paths"]) - runtime_only
    assert {"/tracking/audit/status", "/tracking/audit/access"} <= runtime_only
    assert len(ENDPOINTS) >= 12


@pytest.mark.parametrize("case", cases())
@pytest.mark.parametrize("role", ["hr_admin", "auditor"])
def test_a_bad_query_value_is_refused_naming_it(pilot: Pilot, case: Case, role: str) -> None:
    response = get(pilot, url(case.path, real_ids(pilot)), {case.parameter: case.bad.value}, role)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:1000]
    assert response.headers["Content-Type"] == PROBLEM
    if case.bad.malformed:
        assert_problem(response, 422, {case.parameter})


@pytest.mark.parametrize("path", NAMED)
@pytest.mark.parametrize(
    "bad",
    [
        "not-a-uuid",
        "1",
        "0" * 36,
        "00000000-0000-0000-0000-000000000000",
        "{unknown}",
        "{unknown}0",
        "{unknown}%00",
        "%E2%80%AE{unknown}",
        "x" * LONG,
    ],
    ids=["word", "digit", "36-zeros", "nil", "unknown", "too-long", "nul", "bidi", "huge"],
)
def test_a_malformed_or_unknown_id_in_the_path_is_a_404(pilot: Pilot, path: str, bad: str) -> None:
    value = bad.replace("{unknown}", str(uuid.uuid4()))
    ids = {name: value for name in ("cohort_id", "person_id", "programme_id")}
    assert_problem(get(pilot, url(path, ids), {}), 404)


@pytest.mark.parametrize("path", QUERIED)
@pytest.mark.parametrize("role", ["hr_admin", "coach", "participant"])
def test_every_bad_query_value_at_once_is_named_together(
    pilot: Pilot, path: str, role: str
) -> None:
    """Every malformed argument is named in one answer, before any access rule is applied."""
    query = {
        p["name"]: next(bad.value for bad in bad_values(p["schema"]) if bad.malformed)
        for p in ENDPOINTS[path]
        if p["in"] == "query"
    }
    response = get(pilot, url(path, real_ids(pilot)), query, role)
    if role not in admitted(path):
        assert_problem(response, 403)
    else:
        assert_problem(response, 422, set(query))


@pytest.mark.parametrize("path", PAGED)
def test_the_last_page_the_cursor_allows_is_empty(pilot: Pilot, path: str) -> None:
    (after,) = [p for p in ENDPOINTS[path] if p["name"] == "after"]
    query = {"after": after["schema"]["maximum"], "limit": 500}
    response = get(pilot, url(path, real_ids(pilot)), query)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["next_after"] is None
    facets = {"funding_sources", "years"}  # the cohort list's filter values, not the page
    listed = [v for k, v in body.items() if isinstance(v, list) and k not in facets]
    assert listed and all(items == [] for items in listed), body


def test_the_auditors_bad_queries_are_logged_as_refused(pilot: Pilot) -> None:
    """The query log keeps what an auditor sent, even control characters and 10,000 bytes."""
    sub = f"auditor-{uuid.uuid4()}"
    path = url("/tracking/cohorts/{cohort_id}/mobility", real_ids(pilot))
    sent = {"department": "Sales\x00", "role": "\u202eselaS", "profession": "x" * LONG}
    for name, value in sent.items():
        assert_problem(get(pilot, path, {name: value}, "auditor", sub), 422, {name})
    count = pilot.json("/tracking/audit/queries", "hr_admin", limit=1)["count"]
    tail = pilot.json("/tracking/audit/queries", "hr_admin", after=max(count - 50, 0), limit=50)
    mine = [item for item in tail["items"] if item["subject"] == sub]
    assert [(item["path"], item["status"]) for item in mine] == [(path, 422)] * len(sent)
    assert all(0 < len(item["query"]) <= 2000 for item in mine)
