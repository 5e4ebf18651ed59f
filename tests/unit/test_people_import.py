"""The people import: all rows or none, a report naming each bad row, no one registered twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from services.cli import main
from services.enrolment.application import EnrolmentApplication
from services.enrolment.imports import column_of, import_people
from services.enrolment.keystore import KeyEntry
from services.enrolment.keystore_setup import InMemoryKeyStore
from services.enrolment.personal import new_key
from services.runtime import build_write_service
from shared.errors import ConcurrentChange
from shared.imports import ImportRejected, RowProblem, read_table
from shared.settings import Settings
from tests.unit.factories import meta

HEADER = (
    "full_name,email,employee_number,organisation,department,unit,"
    "role,profession_category,education_level"
)
GOOD = "\n".join(
    [
        HEADER,
        "Anna Aalto,anna@example.fi,E-1,TEM,Innovation,Digital,expert,lawyer,master",
        "Bo Berg,bo@example.fi,E-2,TEM,Enterprises,Growth,expert,,",
        '"Öberg, Åsa",asa@example.fi,E-3,TEM,Innovation,Data,manager,economist,doctorate',
    ]
)


@pytest.fixture
def app(settings: Settings) -> Iterator[EnrolmentApplication]:
    application = EnrolmentApplication(
        settings.eventstore_env("enrolment"), keystore=InMemoryKeyStore()
    )
    yield application
    application.close()


def numbers(app: EnrolmentApplication) -> list[str | None]:
    return [r.employee_number for r in app.people(0, 100)[0]]


def test_a_good_file_registers_everyone_in_one_save(app: EnrolmentApplication) -> None:
    ticks: list[int] = []
    result = import_people(app, read_table(GOOD), meta(), progress=ticks.append)
    assert (result.rows, result.recorded, result.unchanged, result.problems) == (3, 3, 0, [])
    assert numbers(app) == ["E-1", "E-2", "E-3"]
    people = {r.employee_number: r for r in app.people(0, 100)[0]}
    assert people["E-3"].full_name == "Öberg, Åsa"
    assert (people["E-1"].person.role, people["E-2"].person.profession_category) == ("expert", None)
    assert sum(ticks) == 2 * 3  # each row checked, then written


def test_a_rerun_registers_no_one_twice(app: EnrolmentApplication) -> None:
    import_people(app, read_table(GOOD), meta())
    head = app.head()
    more = GOOD + "\nCid Cole,cid@example.fi,e-4,TEM,Innovation,Digital,expert,,"
    again = import_people(app, read_table(more), meta())
    assert (again.recorded, again.unchanged) == (1, 3)
    assert numbers(app) == ["E-1", "E-2", "E-3", "e-4"]
    assert import_people(app, read_table(more), meta()).recorded == 0
    assert app.head() > head


def test_a_dry_run_counts_and_writes_nothing(app: EnrolmentApplication) -> None:
    result = import_people(app, read_table(GOOD), meta(), dry_run=True)
    assert (result.recorded, result.dry_run) == (3, True)
    assert app.head() == 0


def test_header_aliases_are_understood() -> None:
    assert [column_of(h) for h in ("Name", "E-mail", "Employee number", "ORGANIZATION", "x")] == [
        "full_name",
        "email",
        "employee_number",
        "organisation",
        None,
    ]


def test_aliased_headers_import(app: EnrolmentApplication) -> None:
    text = "Name;E-mail;Employee number;Organisation;Department;Unit\nA A;a@example.fi;E-9;TEM;D;U"
    assert import_people(app, read_table(text), meta()).recorded == 1


BROKEN = [
    ("Anna,anna@example.fi,E-1,TEM,D,U,,,", None),
    (",b@example.fi,E-2,TEM,D,U,,,", ("full_name", "is required")),
    ("Bo,not-an-address,E-3,TEM,D,U,,,", ("email", "e-mail")),
    ("Cid,c@example.fi,,TEM,D,U,,,", ("employee_number", "is required")),
    ("Dan,d@example.fi,E-1,TEM,D,U,,,", ("employee_number", "repeats row 2")),
    ("Eve,e@example.fi,E-5,,D,U,,,", ("organisation", "is required")),
    ("Fay,f@example.fi,E-6,TEM,D,U,ex\tpert,,", ("role", "control characters")),
    (f"Gus,g@example.fi,E-7,TEM,{'D' * 201},U,,,", ("department", "longer than 200")),
    (f"{'H' * 201},h@example.fi,E-8,TEM,D,U,,,", ("full_name", "longer than 200")),
]


def test_every_broken_row_is_reported_and_nothing_is_written(app: EnrolmentApplication) -> None:
    text = "\n".join([HEADER, *(line for line, _ in BROKEN)])
    with pytest.raises(ImportRejected) as rejected:
        import_people(app, read_table(text), meta())
    problems = rejected.value.result.problems
    expected = [(row, want) for row, (_, want) in enumerate(BROKEN, start=2) if want]
    assert len(problems) == len(expected)
    for problem, (row, (column, words)) in zip(problems, expected, strict=True):
        assert (problem.row, problem.column) == (row, column)
        assert words in problem.message
    assert app.head() == 0
    assert rejected.value.errors and rejected.value.errors[0]["field"] == "row 3: full_name"


def test_a_row_with_several_problems_lists_each(app: EnrolmentApplication) -> None:
    text = HEADER + "\n,bad,,TEM,D,U,,,"
    with pytest.raises(ImportRejected) as rejected:
        import_people(app, read_table(text), meta())
    assert {p.column for p in rejected.value.result.problems} == {
        "full_name",
        "email",
        "employee_number",
    }


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (
            "full_name,email,employee_number,organisation,department",
            RowProblem(0, None, "missing column(s): unit"),
        ),
        ("full_name,email,employee_number,organisation,department,unit,shoe_size", None),
        ("Name,full_name,email,employee_number,organisation,department,unit", None),
    ],
)
def test_unknown_repeated_or_missing_columns_refuse_the_file(
    app: EnrolmentApplication, header: str, problem: RowProblem | None
) -> None:
    cells = len(header.split(","))
    text = header + "\n" + ",".join(["x@example.fi"] * cells)
    with pytest.raises(ImportRejected) as rejected:
        import_people(app, read_table(text), meta())
    problems = rejected.value.result.problems
    assert problems and all(p.row == 0 for p in problems)
    if problem:
        assert problem in problems
    assert app.head() == 0


def test_a_number_registered_meanwhile_fails_the_whole_import(app: EnrolmentApplication) -> None:
    """Just before the import stores its keys, another process stores a key for one of the
    numbers (its registration still in flight): the import is refused as a concurrent change
    to retry, and nothing of it is stored."""
    keys = app.personal_data.keys
    original = keys.add

    def racing(entries: list[KeyEntry], **options: Any) -> None:
        original([KeyEntry(uuid.uuid4(), new_key(), keys.blind("E-2"))])
        original(entries, **options)

    keys.add = racing  # type: ignore[method-assign]
    with pytest.raises(ConcurrentChange, match="being registered right now"):
        import_people(app, read_table(GOOD), meta())
    assert app.head() == 0
    assert keys.find([keys.blind("E-1"), keys.blind("E-3")]) == {}


def test_the_cli_imports_people_and_reports_row_problems(tmp_path: Path) -> None:
    (tmp_path / "good.csv").write_text(GOOD)
    (tmp_path / "bad.csv").write_text(GOOD + "\nNo Mail,,E-9,TEM,D,U,,,")
    env = {
        "POLKU_DATA_DIR": str(tmp_path / "var"),
        "POLKU_MASTER_KEY_FILE": str(tmp_path / "master.key"),
    }
    bad = CliRunner().invoke(main, ["import", "people", str(tmp_path / "bad.csv")], env=env)
    assert bad.exit_code == 1 and "row 5, email: email is required" in bad.output
    dry = CliRunner().invoke(
        main, ["import", "people", str(tmp_path / "good.csv"), "--dry-run"], env=env
    )
    assert dry.exit_code == 0 and "would record 3" in dry.output
    good = CliRunner().invoke(main, ["import", "people", str(tmp_path / "good.csv")], env=env)
    assert good.exit_code == 0, good.output
    assert "recorded 3, already present 0" in good.output
    again = CliRunner().invoke(main, ["import", "people", str(tmp_path / "good.csv")], env=env)
    assert "recorded 0, already present 3" in again.output
    service = build_write_service(Settings.from_env(env), "enrolment")
    try:  # the keys went to the key store, under the master key: the names read back
        assert sorted(r.full_name or "" for r in service.application.people(0, 10)[0]) == [
            "Anna Aalto",
            "Bo Berg",
            "Öberg, Åsa",
        ]
    finally:
        service.close()
