"""CSV imports of results and staff-survey results: good files, each kind of broken file,
all-or-nothing, re-imports that record nothing twice, dry runs, and the CLI."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from services.assessment.application import AssessmentApplication
from services.assessment.imports import import_results, import_staff_survey
from services.cli import main
from services.enrolment.application import EnrolmentApplication
from shared.imports import ImportRejected, read_table
from shared.settings import Settings
from tests.unit.assessment_builders import behaviour, staff
from tests.unit.factories import meta

PEOPLE = {f"p{n}@example.invalid": str(uuid.uuid4()) for n in range(3)}
HEADER = "Respondent,Group,Rater,Q1,Q2,Q3\n"
GOOD = HEADER + "".join(
    f"{email},{group},{rater},3,4,2\n"
    for email in PEOPLE
    for group, rater in (("self", ""), ("peer", "r1@example.invalid"), ("peer", "r2@x"))
)
MAPPING: dict[str, Any] = {
    "columns": {"person": "Respondent", "rater_group": "Group", "rater": "Rater"},
    "dimensions": {"Q1": "listening", "Q2": "sharing", "Q3": "blaming"},
    "people": PEOPLE,
    "defaults": {"wave": "baseline", "date": "2020-02-14"},
}
STAFF = (
    "Year;Department;Unit;N;Competence;Wellbeing;Own;Community;Leadership\n"
    "2020;;;380;3,60;3,70;3,80;3,65;3,40\n"
    "2020;Energy Department;;40;3,5;3,6;3,7;3,6;3,3\n"
    "2020;Energy Department;Energy Markets Unit;12;3,4;3,5;3,6;3,5;3,2\n"
)
STAFF_MAPPING: dict[str, Any] = {
    "columns": {"year": "Year", "department": "Department", "unit": "Unit", "respondents": "N"},
    "indices": {
        "Competence": "competence_learning_renewal",
        "Wellbeing": "wellbeing_at_work",
        "Own": "own_work",
        "Community": "work_community",
        "Leadership": "leadership",
    },
    "defaults": {"organisation": "TEM"},
}


@pytest.fixture
def app(settings: Settings) -> Iterator[AssessmentApplication]:
    application = AssessmentApplication(settings.eventstore_env("assessment"))
    yield application
    application.close()


@pytest.fixture
def instrument_id(app: AssessmentApplication) -> uuid.UUID:
    return app.define_instrument("360", "behaviour_assessment", behaviour(), meta()).id


@pytest.fixture
def staff_id(app: AssessmentApplication) -> uuid.UUID:
    return app.define_instrument("Staff", "staff_survey", staff(), meta()).id


def run(app: AssessmentApplication, text: str, instrument_id: uuid.UUID, **kw: Any) -> Any:
    return import_results(
        app,
        read_table(text),
        meta(),
        instrument_id=instrument_id,
        mapping=kw.pop("mapping", MAPPING),
        **kw,
    )


def test_a_good_file_imports_every_row_once(
    app: AssessmentApplication, instrument_id: uuid.UUID
) -> None:
    ticks: list[int] = []
    result = run(app, GOOD, instrument_id, progress=ticks.append)
    assert (result.rows, result.recorded, result.unchanged) == (9, 9, 0)
    assert sum(ticks) == 18  # every row checked, then written
    person = uuid.UUID(next(iter(PEOPLE.values())))
    assert len(app.results(0, 50, person_id=person).items) == 3
    assert app.instrument(instrument_id).in_use
    head = app.head()
    again = run(app, GOOD, instrument_id)
    assert (again.recorded, again.unchanged) == (0, 9)
    assert app.head() == head


def test_a_dry_run_writes_nothing(app: AssessmentApplication, instrument_id: uuid.UUID) -> None:
    head = app.head()
    result = run(app, GOOD, instrument_id, dry_run=True)
    assert result.dry_run and result.recorded == 9
    assert app.head() == head


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("p0@example.invalid,self,,3,9,2", "Q2", "not on the scale"),
        ("stranger@example.invalid,self,,3,4,2", "Respondent", "unknown person"),
        ("p0@example.invalid,peer,r1@example.invalid,3,4,2", None, "duplicate of row 3"),
        ("p0@example.invalid,peer,,3,4,2", "Rater", "names its rater"),
        ("p0@example.invalid,boss,m,3,4,2", "Group", "rater_group"),
        ("p0@example.invalid,self,,3,x,2", "Q2", "not a number"),
        ("p0@example.invalid,self,,3,,2", "Q2", "missing"),
    ],
)
def test_a_broken_row_rejects_the_whole_file(
    app: AssessmentApplication, instrument_id: uuid.UUID, line: str, column: str | None, words: str
) -> None:
    head = app.head()
    text = (
        HEADER
        + "p1@example.invalid,self,,3,4,2\np0@example.invalid,peer,r1@example.invalid,3,4,2\n"
        + line
        + "\n"
    )
    with pytest.raises(ImportRejected) as caught:
        run(app, text, instrument_id)
    problems = caught.value.result.problems
    assert [(p.row, p.column) for p in problems] == [(4, column)]
    assert words in problems[0].message
    assert app.head() == head


def test_already_recorded_with_other_values_is_a_duplicate(
    app: AssessmentApplication, instrument_id: uuid.UUID
) -> None:
    run(app, GOOD, instrument_id)
    head = app.head()
    changed = GOOD.replace("3,4,2\n", "4,4,2\n", 1)
    with pytest.raises(ImportRejected) as caught:
        run(app, changed, instrument_id)
    assert "already recorded differently" in caught.value.result.problems[0].message
    assert app.head() == head


def test_a_bad_mapping_refuses_the_file(
    app: AssessmentApplication, instrument_id: uuid.UUID
) -> None:
    for mapping in (
        {**MAPPING, "dimensions": {"Q1": "charm"}},
        {**MAPPING, "columns": {"rater_group": "Group"}},
        {**MAPPING, "dimensions": {"Q9": "listening"}},
        {**MAPPING, "people": ["not", "an", "object"]},
    ):
        with pytest.raises(ImportRejected):
            run(app, GOOD, instrument_id, mapping=mapping)


def test_staff_survey_import_and_reimport(app: AssessmentApplication, staff_id: uuid.UUID) -> None:
    result = import_staff_survey(
        app, read_table(STAFF), meta(), instrument_id=staff_id, mapping=STAFF_MAPPING
    )
    assert result.recorded == 3
    levels = sorted(r.level for r in app.staff_results(0, 10).items)
    assert levels == ["department", "organisation", "unit"]
    unit = next(r for r in app.staff_results(0, 10, level="unit").items)
    assert unit.indices["competence_learning_renewal"] == 3.4
    again = import_staff_survey(
        app, read_table(STAFF), meta(), instrument_id=staff_id, mapping=STAFF_MAPPING
    )
    assert (again.recorded, again.unchanged) == (0, 3)


def test_a_staff_group_below_the_minimum_rejects_the_file(
    app: AssessmentApplication, staff_id: uuid.UUID
) -> None:
    head = app.head()
    text = STAFF + "2020;Energy Department;Climate and Energy Policy Unit;4;3;3;3;3;3\n"
    with pytest.raises(ImportRejected) as caught:
        import_staff_survey(
            app, read_table(text), meta(), instrument_id=staff_id, mapping=STAFF_MAPPING
        )
    (problem,) = caught.value.result.problems
    assert (problem.row, problem.column) == (5, "N") and "minimum" in problem.message
    assert app.head() == head


def person_fields(n: int) -> dict[str, str]:
    return {
        "full_name": f"P {n}",
        "email": f"p{n}@example.invalid",
        "employee_number": f"E-{n}",
        "organisation": "TEM",
        "department": "D",
        "unit": "U",
    }


def test_the_cli_imports_results_and_reports_row_problems(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    app = AssessmentApplication(settings.eventstore_env("assessment"))
    instrument_id = app.define_instrument("360", "behaviour_assessment", behaviour(), meta()).id
    app.close()
    enrolment = EnrolmentApplication(settings.eventstore_env("enrolment"))
    people = {  # registered in enrolment: an id it never registered is a problem of its row
        email: str(enrolment.register_person(person_fields(n), meta()).id)
        for n, email in enumerate(PEOPLE)
    }
    enrolment.close()
    (tmp_path / "good.csv").write_text(GOOD)
    (tmp_path / "bad.csv").write_text(GOOD + "stranger@x,self,,3,4,2\n")
    (tmp_path / "map.json").write_text(json.dumps({**MAPPING, "people": people}))
    env = {"POLKU_DATA_DIR": str(tmp_path)}
    args = ["--instrument", str(instrument_id), "--mapping", str(tmp_path / "map.json")]
    bad = CliRunner().invoke(main, ["import", "results", str(tmp_path / "bad.csv"), *args], env=env)
    assert bad.exit_code == 1 and "row 11" in bad.output and "unknown person" in bad.output
    good = CliRunner().invoke(
        main, ["import", "results", str(tmp_path / "good.csv"), *args], env=env
    )
    assert good.exit_code == 0, good.output
    assert "recorded 9" in good.output
    again = CliRunner().invoke(
        main, ["import", "results", str(tmp_path / "good.csv"), *args], env=env
    )
    assert "recorded 0, already present 9" in again.output


def test_every_problem_of_a_row_is_reported_not_only_the_first(
    app: AssessmentApplication, instrument_id: uuid.UUID
) -> None:
    head = app.head()
    mapping = {**MAPPING, "columns": {**MAPPING["columns"], "date": "Date", "cohort": "Cohort"}}
    text = (
        "Respondent,Group,Rater,Q1,Q2,Q3,Date,Cohort\n"
        "stranger@example.invalid,boss,,9,x,,2020-02-30,not-a-cohort\n"
        "p0@example.invalid,peer,,0,3.5,2,2090-01-01,\n"
    )
    with pytest.raises(ImportRejected) as caught:
        run(app, text, instrument_id, mapping=mapping)
    found = {(p.row, p.column) for p in caught.value.result.problems}
    assert found == {
        (2, "Respondent"),  # unknown person
        (2, "Q1"),  # off the scale
        (2, "Q2"),  # not a number
        (2, "Q3"),  # missing
        (2, "Date"),  # no such day
        (2, "Cohort"),  # not an id
        (2, "Group"),  # no such rater group
        (3, "Q1"),  # below the scale
        (3, "Q2"),  # off the step
        (3, "Date"),  # in the future
        (3, "Rater"),  # a peer names its rater
    }
    assert len(caught.value.result.problems) == len(found)  # each once
    assert app.head() == head


def test_every_problem_of_a_staff_row_is_reported(
    app: AssessmentApplication, staff_id: uuid.UUID
) -> None:
    text = STAFF + "1890;Energy Department;Some Unit;4;9;3;3;3;\n2020;;;²;3;3;3;3;3\n"
    with pytest.raises(ImportRejected) as caught:
        import_staff_survey(
            app, read_table(text), meta(), instrument_id=staff_id, mapping=STAFF_MAPPING
        )
    found = {(p.row, p.column) for p in caught.value.result.problems}
    assert found == {
        (5, "Year"),  # out of range
        (5, "N"),  # below the minimum group size
        (5, "Competence"),  # off the scale
        (5, "Leadership"),  # missing
        (6, "N"),  # '²' is a digit to Python, but no count
    }
    assert not app.staff_results(0, 10).items


def test_a_mapping_whose_people_are_not_ids_refuses_the_file(
    app: AssessmentApplication, instrument_id: uuid.UUID
) -> None:
    mapping = {**MAPPING, "people": {**PEOPLE, "p0@example.invalid": "Anna Aalto"}}
    with pytest.raises(ImportRejected) as caught:
        run(app, GOOD, instrument_id, mapping=mapping)
    (problem,) = caught.value.result.problems
    assert problem.row == 0 and "not a person id" in problem.message


def test_an_unknown_or_unsuitable_instrument_refuses_the_file_in_one_problem(
    app: AssessmentApplication, staff_id: uuid.UUID
) -> None:
    for instrument, words in ((uuid.uuid4(), "no instrument"), (staff_id, "staff_survey")):
        with pytest.raises(ImportRejected) as caught:
            run(app, GOOD, instrument)
        (problem,) = caught.value.result.problems
        assert problem.row == 0 and words in problem.message


def test_the_cli_reports_an_unknown_instrument_or_bad_mapping_in_one_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "good.csv").write_text(GOOD)
    (tmp_path / "map.json").write_text(json.dumps(MAPPING))
    (tmp_path / "broken.json").write_text('{"columns": ')
    env = {"POLKU_DATA_DIR": str(tmp_path)}
    for command, mapping, words in (
        ("results", "map.json", f"there is no instrument {uuid.UUID(int=7)}"),
        ("staff-survey", "map.json", f"there is no instrument {uuid.UUID(int=7)}"),
        ("results", "broken.json", "broken.json is not JSON"),
    ):
        args = [str(tmp_path / "good.csv"), "--instrument", str(uuid.UUID(int=7))]
        result = CliRunner().invoke(
            main, ["import", command, *args, "--mapping", str(tmp_path / mapping)], env=env
        )
        assert result.exit_code == 1, result.output
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), result.exception
        assert "Traceback" not in result.output
        lines = [line for line in result.output.splitlines() if not line.startswith("importing")]
        assert any(words in line for line in lines), result.output
        assert len(lines) <= 2, result.output  # the problem, then the verdict
