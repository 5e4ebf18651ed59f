"""`polku demo` against a running embedded Polku: the TEMPO 2020 pilot, loaded once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from services.cli import main
from services.demo import DemoError, load
from services.runtime import Embedded
from services.scenario import enrolment as scenario
from services.scenario.organisation import MEMBERS, PARTICIPANTS
from shared.auth import verify_token
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


def test_demo_loads_the_pilot_and_prints_the_roster_and_kirkpatrick(
    served: tuple[Embedded, str],
) -> None:
    runtime, url = served
    result = CliRunner().invoke(main, ["demo", "--url", url], env={"POLKU_JWT_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    token = next(
        line.split("=", 1)[1] for line in result.output.splitlines() if "export TOKEN=" in line
    )
    assert verify_token(SECRET, token).role == "coordinator"
    assert f"{len(MEMBERS)} synthetic people" in result.output
    for member in PARTICIPANTS:
        assert member.department in result.output
        assert member.full_name not in result.output  # the roster shows pseudonymous ids only
    assert runtime.tracking.readmodels.count("tr_participation") == len(PARTICIPANTS)
    assessment = runtime.services["assessment"].application
    assert assessment.head() > 0
    summary = result.output.split("Kirkpatrick summary of TEMPO 2020 pilot", 1)[1]
    for level in ("L1 Reaction", "L2 Learning", "L3 Behaviour", "L4 Results"):
        assert level in summary
    # 16 of the 20 tokens were answered: the response rate the scenario implies.
    assert "Response rate of the reaction survey: 80% (n=16)" in summary


def test_loading_the_demo_again_adds_nothing(served: tuple[Embedded, str]) -> None:
    runtime, url = served
    first = load(url, SECRET)
    heads = {name: s.application.head() for name, s in runtime.services.items()}
    again = load(url, SECRET)
    assert (first["loaded"], again["loaded"]) == (True, False)
    assert again["cohort_id"] == first["cohort_id"]
    assert again["roster"]["participants"] == first["roster"]["participants"]
    assert {name: s.application.head() for name, s in runtime.services.items()} == heads


def test_an_interrupted_load_is_refused_with_advice(served: tuple[Embedded, str]) -> None:
    _, url = served
    from services.demo import tokens
    from services.scenario.client import HttpCall

    call = HttpCall(url, tokens(SECRET))
    programme = call("POST", "/enrolment/programmes", scenario.PROGRAMME)
    call("POST", "/enrolment/cohorts", {"programme_id": programme["id"], **scenario.COHORT})
    with pytest.raises(DemoError, match="interrupted"):
        load(url, SECRET)
