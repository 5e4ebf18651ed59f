"""The assessment service on SQLite and on a real PostgreSQL: uniqueness, key store, races."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.assessment.application import AssessmentApplication
from services.assessment.domain.reactions import TokenAlreadyUsed, UnknownToken
from services.assessment.domain.results import DuplicateResult, Result
from services.assessment.domain.waves import Wave
from services.runtime import WriteService, build_write_service
from shared.errors import ConflictError
from shared.settings import Settings
from tests.unit.assessment_builders import behaviour, indices, reaction, staff

META = {"actor_sub": "t", "actor_role": "coordinator", "correlation_id": "c"}
SCORES = {"listening": 3, "sharing": 4, "blaming": 2}
FEB = dt.date(2020, 2, 14)


@pytest.fixture(params=["sqlite", "postgres"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WriteService]:
    url = request.getfixturevalue("fresh_postgres_url") if request.param == "postgres" else None
    built = build_write_service(Settings(data_dir=tmp_path, database_url=url), "assessment")
    yield built
    built.close()


def test_results_are_unique_per_slot_and_reload(service: WriteService) -> None:
    app: AssessmentApplication = service.application
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), META)
    person = uuid.uuid4()
    result = app.record_result(
        person, instrument.id, Wave.of("post"), "peer", "r", FEB, SCORES, META
    )
    with pytest.raises(DuplicateResult):
        app.record_result(person, instrument.id, Wave.of("post"), "peer", "r", FEB, SCORES, META)
    app.correct_result(result.id, {**SCORES, "sharing": 5}, None, "typo", META)
    assert app.result(result.id).scores["sharing"] == 5
    assert app.result(result.id, version=1).scores["sharing"] == 4
    assert app.instrument(instrument.id).in_use


def test_a_second_record_of_a_slot_racing_the_first_is_a_conflict(service: WriteService) -> None:
    app: AssessmentApplication = service.application
    instrument = app.define_instrument("360", "behaviour_assessment", behaviour(), META)
    person, wave = uuid.uuid4(), Wave.of("baseline")
    rater_hash = app.rater_hash(person, "r")
    racer = Result.record(person, instrument.id, None, wave, "peer", rater_hash, FEB, SCORES, META)
    app.record_result(person, instrument.id, wave, "peer", "r", FEB, SCORES, META)
    head = app.head()
    with pytest.raises(ConflictError):
        app.save_all(racer)
    assert app.head() == head


def test_the_key_store_checks_tokens_on_either_database(service: WriteService) -> None:
    app: AssessmentApplication = service.application
    instrument = app.define_instrument("Reaction", "reaction_survey", reaction(), META)
    survey, tokens = app.issue_tokens(instrument.id, uuid.uuid4(), 2, META)
    app.submit_reaction(survey.id, tokens[0], {"overall": 5, "virtual": 4}, {})
    with pytest.raises(TokenAlreadyUsed):
        app.submit_reaction(survey.id, tokens[0], {"overall": 5, "virtual": 4}, {})
    with pytest.raises(UnknownToken):
        app.submit_reaction(survey.id, "nope", {"overall": 5, "virtual": 4}, {})
    rater = app.rater_hash(uuid.uuid4(), "x")
    again = AssessmentApplication(dict(app.env.items()))
    try:
        assert again.keys.secret("rater") == app.keys.secret("rater")
        assert again.response_count(survey.id) == 1
        assert len(rater) == 64
    finally:
        again.close()


def test_staff_results_list_by_year(service: WriteService) -> None:
    app: AssessmentApplication = service.application
    instrument = app.define_instrument("Staff", "staff_survey", staff(), META)
    for year in (2019, 2020):
        app.record_staff_result(
            instrument.id, year, "organisation", "TEM", None, None, 300, indices(), META
        )
    assert [r.year for r in app.staff_results(0, 10, year=2020).items] == [2020]


def test_the_rater_secret_is_read_from_the_store_once(
    service: WriteService, monkeypatch: pytest.MonkeyPatch
) -> None:
    app: AssessmentApplication = service.application
    person = uuid.uuid4()
    first = app.rater_hash(person, "rater-1")
    opened: list[bool] = []
    transaction = app.keys.database.transaction

    def counted(*, write: bool = True) -> Any:
        opened.append(write)
        return transaction(write=write)

    monkeypatch.setattr(app.keys.database, "transaction", counted)
    assert app.rater_hash(person, "rater-1") == first
    assert app.rater_hash(person, "rater-2") != first
    assert opened == []
    monkeypatch.undo()
    again = AssessmentApplication(dict(app.env.items()))
    try:
        assert again.rater_hash(person, "rater-1") == first
    finally:
        again.close()
