"""CSV imports from survey tools: assessment results and staff-survey results.

The mapping (JSON) says which column holds what. For results::

    {"columns": {"person": "Respondent", "wave": "Wave", "rater_group": "Group",
                 "rater": "Rater", "date": "Date",
                 "cohort": "Cohort", "follow_up_months": "Months", "wave_label": "Label"},
     "dimensions": {"Q1 Listens": "listening", "Q2 Shares": "sharing"},
     "people": {"anna@example.fi": "<pseudonymous person id>"},
     "defaults": {"wave": "baseline", "rater_group": "self", "date": "2020-02-14",
                  "cohort_id": "<cohort id>"}}

``person`` and the dimension columns are required; any other column may be left out when
``defaults`` gives its value (``rater`` defaults to the person for the self). ``people`` maps
the respondent identifiers the survey tool exports (e-mail, employee number) to pseudonymous
ids, so this service never needs the enrolment service; a respondent not in it is an unknown
person. Staff-survey mappings name ``year``, ``respondents`` and optionally ``organisation``,
``department``, ``unit`` columns, and ``indices`` columns; ``defaults`` may give the
organisation. The level is the finest unit named in the row.

Every row is checked before anything is written; any problem rejects the whole file. A row
already recorded with the same values counts as unchanged, so a re-import records nothing twice;
one recorded with different values is a duplicate (correct it instead). The staff-survey import
lives in :mod:`services.assessment.staff_survey_import`; both share
:mod:`services.assessment.import_mapping`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from services.assessment.application import AssessmentApplication
from services.assessment.application.results import RESULT_KINDS, check_rater
from services.assessment.domain import Meta
from services.assessment.domain.instruments import Instrument
from services.assessment.domain.results import Result, check_administered_on
from services.assessment.domain.waves import Wave
from services.assessment.import_mapping import (
    Cells,
    column_for,
    dimension_columns,
    load_instrument,
    person_ids,
    read_scores,
    require_columns,
    row_problems,
    save_all_or_none,
    section,
    whole_number,
)
from services.assessment.reference import KnownIds
from services.assessment.staff_survey_import import import_staff_survey
from shared.errors import PolkuError
from shared.imports import ImportRejected, ImportResult, Progress, RowProblem, Table, refuse

__all__ = ["import_results", "import_staff_survey"]

RESULT_COLUMNS = ("person", "wave", "rater_group", "rater", "date", "cohort")
RESULT_COLUMNS_OPTIONAL = ("follow_up_months", "wave_label")


def import_results(
    app: AssessmentApplication,
    table: Table,
    meta: Meta,
    *,
    instrument_id: Any,
    mapping: Mapping[str, Any],
    dry_run: bool = False,
    progress: Progress | None = None,
    known: KnownIds | None = None,
) -> ImportResult:
    """Imports one result per row (see the module for the mapping); all rows or none.

    With ``known`` (the reference of enrolment's people and cohorts), a row naming a person or
    cohort enrolment never registered is a problem of that row and column.
    """
    instrument = load_instrument(app, instrument_id, *RESULT_KINDS)
    columns = section(mapping, "columns")
    if "person" not in columns:
        raise refuse("the mapping's columns must name the person column")
    unknown = sorted(set(columns) - set(RESULT_COLUMNS) - set(RESULT_COLUMNS_OPTIONAL))
    if unknown:
        raise refuse(f"the mapping names unknown columns: {', '.join(unknown)}")
    require_columns(table, {v: k for k, v in columns.items()})
    dimensions = dimension_columns(table, mapping, "dimensions", instrument)
    people = person_ids(mapping)
    defaults = section(mapping, "defaults", required=False)
    cells = Cells(columns, defaults)
    result = ImportResult(rows=len(table.rows), dry_run=dry_run)
    pending: dict[uuid.UUID, tuple[int, Result]] = {}
    seen: dict[uuid.UUID, int] = {}
    strangers = _strangers(known, table, people, cells)
    for number, row in table.numbered():
        problems = _check_result_row(
            app, instrument, meta, number, row, people, cells, columns, dimensions, pending,
            seen, result,
        )  # fmt: skip
        result.problems += problems + _unknown_ids(
            number, row, people, cells, columns, strangers, problems
        )
        if progress:
            progress(1)
    if result.problems:
        raise ImportRejected(result)
    return save_all_or_none(
        app, instrument, meta, [r for _, r in pending.values()], result, progress
    )


def _strangers(
    known: KnownIds | None, table: Table, people: Mapping[str, uuid.UUID], cells: Cells
) -> tuple[set[str], set[str]]:
    """The mapped people and the rows' cohorts that enrolment never registered."""
    if known is None:
        return set(), set()
    cohorts: set[str] = set()
    for _number, row in table.numbered():
        text = cells.get(row, "cohort", "cohort_id")
        try:
            if text:
                cohorts.add(str(uuid.UUID(text)))
        except ValueError:
            continue  # reported as no cohort id by the row's own checks
    return known.unknown_people(str(p) for p in people.values()), known.unknown_cohorts(cohorts)


def _unknown_ids(
    number: int,
    row: dict[str, str],
    people: Mapping[str, uuid.UUID],
    cells: Cells,
    columns: Mapping[str, str],
    strangers: tuple[set[str], set[str]],
    found: list[RowProblem],
) -> list[RowProblem]:
    """A row's person or cohort that enrolment never registered, each named by its column."""
    unknown_people, unknown_cohorts = strangers
    problems: list[RowProblem] = []
    person_id = people.get(row.get(columns["person"], ""))
    if person_id is not None and str(person_id) in unknown_people:
        problems.append(
            RowProblem(
                number,
                columns["person"],
                f"person {person_id} (mapped from {row.get(columns['person'])!r}) is not "
                "registered in enrolment",
            )
        )
    text = cells.get(row, "cohort", "cohort_id")
    column = columns.get("cohort") or None
    if text and not any(p.column == column for p in found):
        try:
            cohort = str(uuid.UUID(text))
        except ValueError:
            cohort = ""
        if cohort in unknown_cohorts:
            problems.append(
                RowProblem(number, column, f"cohort {cohort} is not planned in enrolment")
            )
    return problems


def _check_result_row(
    app: AssessmentApplication,
    instrument: Instrument,
    meta: Meta,
    number: int,
    row: dict[str, str],
    people: Mapping[str, uuid.UUID],
    cells: Cells,
    columns: Mapping[str, str],
    dimensions: Mapping[str, str],
    pending: dict[uuid.UUID, tuple[int, Result]],
    seen: dict[uuid.UUID, int],
    result: ImportResult,
) -> list[RowProblem]:
    """Every problem of one row (each cell is checked on its own), or none and the row's
    result pending to be saved."""
    named = {
        "wave": columns.get("wave", ""),
        "follow_up_months": columns.get("follow_up_months", ""),
        "wave_label": columns.get("wave_label", ""),
        "rater_group": columns.get("rater_group", ""),
        "rater_id": columns.get("rater", ""),
        "administered_on": columns.get("date", ""),
        "cohort_id": columns.get("cohort", ""),
    }

    def column_of(field: str | None) -> str | None:
        return column_for(field, dimensions, named) or None

    problems: list[RowProblem] = []
    respondent = row.get(columns["person"], "")
    person_id = people.get(respondent)
    if person_id is None:
        problems.append(RowProblem(number, columns["person"], f"unknown person {respondent!r}"))
    scores = read_scores(row, dimensions, number, problems)
    unreadable = {p.column for p in problems}
    problems += [
        p
        for p in row_problems(number, column_of, instrument.score_problems(scores))
        if p.column not in unreadable  # a cell that is no number is reported once, above
    ]
    wave: Wave | None = None
    try:
        months = cells.get(row, "follow_up_months")
        wave = Wave.of(
            cells.get(row, "wave"),
            whole_number(months) if months else None,
            cells.get(row, "wave_label") or None,
        )
    except PolkuError as error:
        problems += row_problems(number, column_of, [error])
    date_text = cells.get(row, "date")
    administered_on: dt.date | None = None
    try:
        administered_on = dt.date.fromisoformat(date_text)
        check_administered_on(administered_on)
    except ValueError:
        problems.append(
            RowProblem(number, column_of("administered_on"), f"{date_text!r} is no date")
        )
    except PolkuError as error:
        problems += row_problems(number, column_of, [error])
    cohort_text = cells.get(row, "cohort", "cohort_id")
    cohort_id: uuid.UUID | None = None
    try:
        cohort_id = uuid.UUID(cohort_text) if cohort_text else None
    except ValueError:
        problems.append(
            RowProblem(number, column_of("cohort_id"), f"{cohort_text!r} is no cohort id")
        )
    rater_group = cells.get(row, "rater_group")
    try:
        if person_id is None:  # the self rule needs the person; the group can still be checked
            instrument.check_rater_group(rater_group)
        else:
            check_rater(instrument, person_id, rater_group, cells.get(row, "rater") or None)
    except PolkuError as error:
        problems += row_problems(number, column_of, [error])
    if problems or person_id is None or wave is None or administered_on is None:
        return problems
    result_id, rater_hash, checked = app.prepare_result(
        instrument, person_id, wave, rater_group, cells.get(row, "rater") or None, scores
    )
    if result_id in seen:
        return [RowProblem(number, None, f"duplicate of row {seen[result_id]}")]
    seen[result_id] = number
    existing: Result | None = app.existing(result_id, Result)
    if existing is not None and existing.same_answer(administered_on, checked):
        result.unchanged += 1
        return []
    if existing is not None and not existing.voided:
        return [
            RowProblem(
                number, None, f"duplicate: already recorded differently (correct {result_id})"
            )
        ]
    if existing is not None:
        existing.record_again(cohort_id, administered_on, checked, meta)
        pending[result_id] = (number, existing)
    else:
        pending[result_id] = (
            number,
            Result.record(
                person_id, instrument.id, cohort_id, wave, rater_group, rater_hash,
                administered_on, checked, meta,
            ),
        )  # fmt: skip
    return []
