"""The access log: every read of personal data is logged with who, what, whose, when, outcome
and purpose; auditors and hr_admin query it (JSON and CSV), a participant their own; it is
chained and verified like the event logs; a read whose entry cannot be written is refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from services.runtime import Embedded
from shared.audit.checkpoints import Checkpoint, public_key_from_hex, signature_valid
from shared.audit.verify import Kind
from shared.audit.web import AUDIT_EXTENSION
from tests.api.helpers import Api, assert_problem, bearer, build


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    embedded = build(Path(tmp_path_factory.mktemp("access")))
    yield embedded
    embedded.close()


@pytest.fixture(scope="module")
def api(runtime: Embedded) -> Api:
    return Api(runtime, Client(runtime.wsgi))


@pytest.fixture(scope="module")
def people(api: Api) -> tuple[str, str]:
    first, second = api.person(full_name="Aino Aalto"), api.person(full_name="Eero Ek")
    api.embedded.tracking.projector.drain()
    return first, second


def access(api: Api, service: str, **query: str) -> dict:
    response = api.get(
        f"/{service}/audit/access", role="auditor", sub="auditor-1", query_string=query
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_read_of_a_person_is_logged_with_who_whose_and_why(
    api: Api, people: tuple[str, str]
) -> None:
    first, _ = people
    read = api.get(
        f"/enrolment/people/{first}", role="hr_admin", sub="hr-9", headers={"X-Purpose": "case 42"}
    )
    assert read.status_code == 200
    entries = access(api, "enrolment", person=first, actor="hr_admin:hr-9")["entries"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["operation"] == "GET /enrolment/people/{person_id}"
    assert (entry["role"], entry["subject"], entry["purpose"]) == ("hr_admin", "hr-9", "case 42")
    assert (entry["person_ids"], entry["outcome"], entry["service"]) == ([first], 200, "enrolment")


def test_a_head_request_for_a_person_is_logged_as_one(api: Api, people: tuple[str, str]) -> None:
    """A HEAD runs the GET's view and tells whether the person exists: it is a read too."""
    first, _ = people
    read = api.client.head(f"/enrolment/people/{first}", headers=bearer("hr_admin", "hr-head"))
    assert read.status_code == 200 and read.get_data() == b""
    (entry,) = access(api, "enrolment", actor="hr_admin:hr-head")["entries"]
    assert entry["operation"] == "HEAD /enrolment/people/{person_id}"
    assert (entry["person_ids"], entry["outcome"]) == ([first], 200)


def test_a_purpose_with_a_control_character_is_refused_and_nothing_leaves(
    api: Api, people: tuple[str, str]
) -> None:
    first, _ = people
    for purpose in ("case\x0042", "line one\x1fline two", "bell\x07"):
        read = api.get(
            f"/enrolment/people/{first}",
            role="hr_admin",
            sub="hr-ctl",
            headers={"X-Purpose": purpose},
        )
        body = assert_problem(read, 400, {"X-Purpose"})
        assert first not in str({k: v for k, v in body.items() if k != "instance"})
    assert access(api, "enrolment", actor="hr_admin:hr-ctl")["entries"] == []
    fine = api.get(
        f"/enrolment/people/{first}", role="hr_admin", sub="hr-ctl", headers={"X-Purpose": "a\tb"}
    )
    assert fine.status_code == 200  # a tab is text
    assert access(api, "enrolment", actor="hr_admin:hr-ctl")["entries"][0]["purpose"] == "a\tb"


def test_a_purpose_longer_than_documented_is_refused_not_cut(
    api: Api, people: tuple[str, str]
) -> None:
    """The OpenAPI document says at most 200 characters: a longer purpose is a 400 naming the
    header, as a control character is, and nothing is logged or leaves."""
    first, _ = people
    read = api.get(f"/enrolment/people/{first}", sub="hr-long", headers={"X-Purpose": "x" * 201})
    body = assert_problem(read, 400, {"X-Purpose"})
    assert "200" in body["detail"] and first not in str(body.get("errors"))
    assert access(api, "enrolment", actor="hr_admin:hr-long")["entries"] == []
    fine = api.get(f"/enrolment/people/{first}", sub="hr-long", headers={"X-Purpose": "y" * 200})
    assert fine.status_code == 200
    assert access(api, "enrolment", actor="hr_admin:hr-long")["entries"][0]["purpose"] == "y" * 200


def test_a_list_logs_every_person_it_shows_and_writes_are_not_reads(
    api: Api, people: tuple[str, str]
) -> None:
    listed = api.get("/enrolment/people", role="coordinator", sub="co-1")
    assert listed.status_code == 200
    entry = access(api, "enrolment", actor="co-1", operation="GET /enrolment/people")["entries"][-1]
    assert set(people) <= set(entry["person_ids"])
    programmes = access(api, "enrolment", operation="programmes")["entries"]
    assert programmes == []  # programme reads hold no personal data; the posts were writes


def test_a_refused_read_is_logged_with_its_outcome(api: Api, people: tuple[str, str]) -> None:
    first, second = people
    refused = api.get(f"/enrolment/people/{second}", role="participant", sub=first)
    assert refused.status_code == 404
    entry = access(api, "enrolment", actor=f"participant:{first}")["entries"][-1]
    assert (entry["outcome"], entry["person_ids"]) == (404, [second])


def test_tracking_and_assessment_reads_are_logged(api: Api, people: tuple[str, str]) -> None:
    first, _ = people
    assert api.get(f"/tracking/people/{first}/timeline", sub="hr-2").status_code == 200
    entry = access(api, "tracking", actor="hr-2")["entries"][-1]
    assert entry["operation"] == "GET /tracking/people/{person_id}/timeline"
    assert entry["person_ids"] == [first]
    assert api.get("/assessment/results", role="auditor", sub="aud-3").status_code == 200
    assert access(api, "assessment", actor="aud-3")["entries"][-1]["outcome"] == 200


def test_filters_pages_and_csv(api: Api, people: tuple[str, str]) -> None:
    first, _ = people
    for _ in range(3):
        api.get(f"/enrolment/people/{first}/enrolments", sub="pager")
    page = access(api, "enrolment", actor="pager", limit="2")
    assert len(page["entries"]) == 2 and page["next_after"] == page["entries"][-1]["position"]
    rest = access(api, "enrolment", actor="pager", after=str(page["next_after"]))
    assert len(rest["entries"]) == 1 and rest["next_after"] is None
    stamp = page["entries"][1]["at"]
    assert len(access(api, "enrolment", actor="pager", **{"from": stamp})["entries"]) == 2
    assert len(access(api, "enrolment", actor="pager", to=stamp)["entries"]) == 1
    response = api.get(
        "/enrolment/audit/access", role="hr_admin", query_string={"actor": "pager", "format": "csv"}
    )
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["person_ids"] for r in rows] == [first] * 3


def test_the_operation_filter_matches_its_text_literally(api: Api, people: tuple[str, str]) -> None:
    """``%`` and ``_`` are characters to find, not SQL wildcards matching every entry."""
    api.get(f"/enrolment/people/{people[0]}", sub="literal")
    for literal in ("people/{person_id}", "_id"):
        assert access(api, "enrolment", actor="literal", operation=literal)["entries"]
    for wildcard in ("%", "GET_/enrolment", "people/{person%}", "person!_id"):
        assert access(api, "enrolment", actor="literal", operation=wildcard)["entries"] == []


def test_the_period_is_compared_as_time_whatever_its_offset(
    api: Api, people: tuple[str, str]
) -> None:
    """``at`` is kept in UTC; a bound given at another offset names the same instant."""
    api.get(f"/enrolment/people/{people[0]}", sub="offset")
    hour = dt.timedelta(hours=1)
    moment = dt.datetime.now(dt.UTC)
    helsinki, new_york = dt.timezone(2 * hour), dt.timezone(-5 * hour)
    for since, until in (
        ((moment - hour).astimezone(helsinki), (moment + hour).astimezone(new_york)),
        ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"),  # past UTC's years
    ):
        bounds = {"from": str(since).replace(" ", "T"), "to": str(until).replace(" ", "T")}
        assert len(access(api, "enrolment", actor="offset", **bounds)["entries"]) == 1, bounds
    later = (moment + hour).astimezone(helsinki).isoformat()
    assert access(api, "enrolment", actor="offset", **{"from": later})["entries"] == []


def test_bad_filters_are_named(api: Api) -> None:
    for query, field in (
        ({"person": "nope"}, "person"),
        ({"from": "yesterday"}, "from"),
        ({"format": "xml"}, "format"),
        ({"limit": "0"}, "limit"),
        # PostgreSQL's text cannot hold a NUL: compared in SQL, it was a 500 there.
        ({"actor": "hr_admin:a\x00b"}, "actor"),
        ({"role": "hr\x00admin"}, "role"),
        ({"operation": "GET\x1f/enrolment"}, "operation"),
    ):
        response = api.get("/enrolment/audit/access", role="auditor", query_string=query)
        assert_problem(response, 422, {field})


def test_a_cursor_past_any_position_is_a_422_not_a_500(api: Api) -> None:
    """The log's positions are 64-bit integers: a larger cursor cannot be bound in SQL."""
    for path in ("/enrolment/audit/access", "/tracking/audit/checkpoints"):
        for after in (str(2**63), str(10**30)):
            response = api.get(path, role="auditor", query_string={"after": after})
            assert_problem(response, 422, {"after"})
        last = api.get(path, role="auditor", query_string={"after": str(2**63 - 1)})
        assert last.status_code == 200
    spec = api.get("/enrolment/openapi.json").get_json()
    for path in ("/enrolment/audit/access", "/enrolment/audit/checkpoints"):
        after = next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "after")
        assert after["schema"]["maximum"] == 2**63 - 1


def test_a_participant_gets_their_own_access_history_only(
    api: Api, people: tuple[str, str]
) -> None:
    first, second = people
    api.get(f"/enrolment/people/{second}", sub="hr-x")
    own = api.get("/enrolment/audit/access", role="participant", sub=first).get_json()["entries"]
    assert own and all(first in e["person_ids"] for e in own)
    other = api.get(
        "/enrolment/audit/access", role="participant", sub=first, query_string={"person": second}
    )
    assert_problem(other, 404)
    assert api.get("/enrolment/audit/access", role="coach").status_code == 403


def test_the_access_log_is_chained_and_tampering_is_caught(
    api: Api, people: tuple[str, str]
) -> None:
    api.get(f"/enrolment/people/{people[0]}", sub="chain")
    audit = api.embedded.apps["enrolment"].extensions[AUDIT_EXTENSION]
    ledger = next(ledger for ledger in audit.ledgers if ledger.name == "enrolment.access")
    assert ledger.checkpoint() is not None
    assert ledger.verify().kind is Kind.OK
    target = access(api, "enrolment", actor="chain")["entries"][-1]["position"]
    with audit.access.database.transaction() as cur:
        cur.execute(
            f"UPDATE {audit.access.table} SET subject = 'someone-else' WHERE position = ?",
            (target,),
        )
    report = ledger.verify()
    assert (report.kind, report.position) == (Kind.CHANGED, target), report.line()
    with audit.access.database.transaction() as cur:
        cur.execute(f"DELETE FROM {audit.access.table} WHERE position = ?", (target,))
    report = ledger.verify()
    assert (report.kind, report.position) == (Kind.MISSING, target), report.line()


def test_status_and_checkpoints_are_served(api: Api, people: tuple[str, str]) -> None:
    audit = api.embedded.apps["assessment"].extensions[AUDIT_EXTENSION]
    for ledger in audit.ledgers:
        ledger.run_once()
    status = api.get("/assessment/audit/status", role="auditor").get_json()["logs"]
    assert {s["log"] for s in status} == {"assessment", "assessment.access"}
    assessment = next(s for s in status if s["log"] == "assessment")
    assert assessment["outcome"] == "ok"
    assert assessment["verified_to"] == api.assessment.head()
    page = api.get("/assessment/audit/checkpoints", role="service", sub="mirror").get_json()
    key = public_key_from_hex(page["public_key"])
    signed = [Checkpoint.from_dict(c) for c in page["checkpoints"]]
    assert signed and all(signature_valid(c, {page["key_id"]: key}) for c in signed)
    assert api.get("/assessment/audit/status", role="coordinator").status_code == 403


def test_a_read_is_refused_when_its_entry_cannot_be_written(tmp_path: Path) -> None:
    embedded = build(tmp_path)
    try:
        api = Api(embedded, Client(embedded.wsgi))
        person = api.person(full_name="Kaisa Kivi")
        audit = embedded.apps["enrolment"].extensions[AUDIT_EXTENSION]
        with audit.access.database.transaction() as cur:
            cur.execute(f"DROP TABLE {audit.access.table}")
        response = api.get(f"/enrolment/people/{person}")
        assert_problem(response, 503)
        assert "Kaisa" not in response.get_data(as_text=True)
    finally:
        embedded.close()


def test_a_utf8_purpose_is_logged_as_written_and_counted_in_characters(
    api: Api, people: tuple[str, str]
) -> None:
    """WSGI gives header bytes as Latin-1 text: a Finnish purpose must not become mojibake, and
    200 characters of it (400 bytes) are within the documented limit."""
    first, _ = people
    for purpose in ("henkilöstöraportti §7", "ä" * 200):
        sent = purpose.encode().decode("latin-1")  # the header's bytes, as a client sends them
        read = api.get(f"/enrolment/people/{first}", sub="hr-utf8", headers={"X-Purpose": sent})
        assert read.status_code == 200, read.get_json()
    logged = access(api, "enrolment", actor="hr_admin:hr-utf8")["entries"]
    assert [e["purpose"] for e in logged] == ["henkilöstöraportti §7", "ä" * 200]
    too_long = ("ä" * 201).encode().decode("latin-1")
    read = api.get(f"/enrolment/people/{first}", sub="hr-utf8", headers={"X-Purpose": too_long})
    assert_problem(read, 400, {"X-Purpose"})
    c1 = "\u0085".encode().decode("latin-1")  # NEL, a control character once read as UTF-8
    read = api.get(f"/enrolment/people/{first}", sub="hr-utf8", headers={"X-Purpose": c1})
    assert_problem(read, 400, {"X-Purpose"})
    latin = "caf\xe9"  # not UTF-8: kept as Latin-1 read it
    read = api.get(f"/enrolment/people/{first}", sub="hr-utf8", headers={"X-Purpose": latin})
    assert read.status_code == 200
    assert access(api, "enrolment", actor="hr_admin:hr-utf8")["entries"][-1]["purpose"] == "café"
