"""Assessment's reference of known people and cohorts: learnt from enrolment's events through
the coach scope's feed, cursor and transaction, and filled from the feed's start when new."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

from click.testing import CliRunner
from werkzeug.serving import make_server
from werkzeug.test import Client

from services.assessment import reference
from services.cli import main
from services.runtime import build_embedded, build_write_service, scope_follower
from shared.events import default_registry
from shared.events import enrolment as e
from shared.settings import Settings
from tests.api.helpers import SECRET, Api
from tests.unit.assessment_builders import behaviour
from tests.unit.test_assessment_scope import batch, envelope, scope_in

PERSON, COHORT, PROGRAMME = (str(uuid.uuid4()) for _ in range(3))
PLACEMENT = {"organisation": "TEM", "department": "Innovation", "unit": "Digital"}
PLANNED = {
    "cohort_id": COHORT,
    "programme_id": PROGRAMME,
    "name": "C",
    "capacity": 5,
    "start_date": "2020-03-01",
    "end_date": "2020-11-30",
}


def test_people_and_cohorts_are_known_once_enrolment_published_them(tmp_path: Path) -> None:
    scope = scope_in(tmp_path)
    stranger = str(uuid.uuid4())
    assert scope.unknown_people([PERSON]) == {PERSON}
    poll = batch(
        envelope(1, e.PERSON_REGISTERED, {"person_id": PERSON, **PLACEMENT}),
        envelope(2, e.COHORT_PLANNED, PLANNED),
    )
    assert scope.apply(poll, default_registry()) == 2
    assert scope.apply(poll, default_registry()) == 2  # a redelivery adds nothing twice
    assert scope.unknown_people([PERSON, stranger]) == {stranger}
    assert scope.unknown_cohorts([COHORT, stranger, PERSON]) == {stranger, PERSON}
    assert scope.unknown_people([]) == set()


def test_a_store_from_before_the_reference_reads_the_feed_again(tmp_path: Path) -> None:
    scope = scope_in(tmp_path)
    scope.apply(batch(envelope(4, e.PERSON_REGISTERED, {"person_id": PERSON, **PLACEMENT})),
                default_registry())  # fmt: skip
    assert scope.positions() == {("enrolment", 0): 4}
    with scope.database.transaction() as cur:  # as the store was before the reference existed
        cur.execute(f"DROP TABLE {reference.PEOPLE}")
        cur.execute(f"DROP TABLE {reference.COHORTS}")
    again = scope_in(tmp_path)
    assert again.positions() == {}  # so the feed is read from its start
    assert again.unknown_people([PERSON]) == {PERSON}
    assert scope_in(tmp_path).positions() == {}  # opening it again resets nothing more


def test_a_separate_assessment_process_learns_them_over_http(tmp_path: Path) -> None:
    enrolment = build_embedded(Settings(data_dir=tmp_path / "enrolment", jwt_secret=SECRET))
    server = make_server("127.0.0.1", 0, enrolment.wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = Settings(
        data_dir=tmp_path / "assessment",
        jwt_secret=SECRET,
        service_urls={"enrolment": f"http://127.0.0.1:{server.server_port}"},
    )
    assessment = build_write_service(settings, "assessment")
    try:
        api = Api(enrolment, Client(enrolment.wsgi))
        cohort, person = api.cohort(), api.person()
        assert assessment.scope is not None
        assert assessment.scope.unknown_people([person]) == {person}  # not caught up yet
        follower = scope_follower(settings, assessment)
        assert follower is not None
        follower.drain()
        assert assessment.scope.unknown_people([person]) == set()
        assert assessment.scope.unknown_cohorts([cohort]) == set()
    finally:
        server.shutdown()
        assessment.close()
        enrolment.close()


def test_the_cli_import_names_the_rows_of_people_enrolment_never_registered(
    tmp_path: Path,
) -> None:
    """``polku import results`` checks ids as the HTTP import does, catching the reference up
    from enrolment's store in the same data directory first."""
    data = tmp_path / "var"
    runtime = build_embedded(Settings(data_dir=data, jwt_secret=SECRET))
    try:
        api = Api(runtime, Client(runtime.wsgi))
        made = api.created(
            "/assessment/instruments", {"name": "S", "kind": "self_assessment", **behaviour()}
        )
        known = api.person()
    finally:
        runtime.close()
    stranger = str(uuid.uuid4())
    csv = tmp_path / "results.csv"
    csv.write_text("Respondent,Q1,Q2,Q3\nknown,3,4,2\nstranger,3,4,2\n")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "columns": {"person": "Respondent"},
                "dimensions": {"Q1": "listening", "Q2": "sharing", "Q3": "blaming"},
                "people": {"known": known, "stranger": stranger},
                "defaults": {"wave": "baseline", "rater_group": "self", "date": "2020-02-14"},
            }
        )
    )
    env = {
        "POLKU_DATA_DIR": str(data),
        "POLKU_JWT_SECRET": SECRET,
        "POLKU_MASTER_KEY_FILE": str(tmp_path / "var.master-key"),
    }
    args = ["import", "results", str(csv), "--instrument", made["id"], "--mapping", str(mapping)]
    refused = CliRunner().invoke(main, args, env=env)
    assert refused.exit_code == 1, refused.output
    assert f"row 3, Respondent: person {stranger}" in refused.output
    assert "row 2" not in refused.output  # the person enrolment registered is fine
