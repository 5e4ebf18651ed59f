"""`polku demo` against a running embedded Polku prints a token and the projected roster."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from services.cli import main
from services.demo import PEOPLE, load
from services.runtime import Embedded
from shared.auth import issue_token, verify_token
from shared.settings import Settings
from tests.support.slice import SECRET


@pytest.fixture
def served(
    embedded_settings: Settings, start: Callable[[Settings], Embedded]
) -> Iterator[tuple[Embedded, str]]:
    """An embedded runtime answering real HTTP, as ``polku up`` would."""
    runtime = start(embedded_settings)
    server = make_server("127.0.0.1", 0, runtime.wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield runtime, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_demo_loads_the_example_and_prints_the_roster(served: tuple[Embedded, str]) -> None:
    runtime, url = served
    result = CliRunner().invoke(main, ["demo", "--url", url], env={"POLKU_JWT_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    token = next(
        line.split("=", 1)[1] for line in result.output.splitlines() if "export TOKEN=" in line
    )
    assert verify_token(SECRET, token).role == "coordinator"
    for _, department, _ in PEOPLE:
        assert department in result.output
    assert "Synthetic Expert" not in result.output  # the roster shows pseudonymous ids only
    with runtime.tracking.readmodels.database.transaction() as cur:
        cur.execute("SELECT COUNT(*) FROM tr_enrolments")
        assert cur.fetchone()[0] == len(PEOPLE)


def test_loading_the_demo_again_duplicates_nothing(served: tuple[Embedded, str]) -> None:
    runtime, url = served
    token = issue_token(SECRET, "demo-loader", "hr_admin")
    first = load(url, token)
    again = load(url, token)
    assert again["cohort_id"] == first["cohort_id"]
    assert again["roster"]["participants"] == first["roster"]["participants"]
    enrolment = runtime.services["enrolment"].application
    counts = {
        kind: len(enrolment.list(kind, 0, 50).items) for kind in ("programmes", "cohorts", "people")
    }
    assert counts == {"programmes": 1, "cohorts": 1, "people": len(PEOPLE)}


def test_a_load_cut_off_after_registering_someone_is_completed_without_a_twin(
    served: tuple[Embedded, str],
) -> None:
    runtime, url = served
    enrolment = runtime.services["enrolment"].application
    name, department, unit = PEOPLE[0]
    orphan = enrolment.register_person(  # what the interrupted load managed to do
        {
            "full_name": name,
            "email": "synthetic.expert1@example.invalid",
            "employee_number": "DEMO-0001",
            "organisation": "Ministry of Economic Affairs and Employment",
            "department": department,
            "unit": unit,
        },
        {"actor_sub": "demo-loader", "actor_role": "hr_admin", "correlation_id": "c"},
    )
    result = load(url, issue_token(SECRET, "demo-loader", "hr_admin"))
    ids = [p["person_id"] for p in result["roster"]["participants"]]
    assert str(orphan.id) in ids and len(ids) == len(PEOPLE)
    assert len(enrolment.list("people", 0, 50).items) == len(PEOPLE)


def test_demo_against_nothing_is_a_clear_error() -> None:
    result = CliRunner().invoke(
        main, ["demo", "--url", "http://127.0.0.1:9"], env={"POLKU_JWT_SECRET": SECRET}
    )
    assert result.exit_code == 1
    assert "could not load the demo into http://127.0.0.1:9" in result.output
