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
one recorded with different values is a duplicate (correct it instead).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from services.assessment.application import AssessmentApplication
from services.assessment.domain import Meta
from services.assessment.domain.instruments import Instrument
from services.assessment.domain.results import Result, check_administered_on
from services.assessment.domain.staff_survey import StaffSurveyResult
from services.assessment.domain.waves import Wave
from shared.errors import PolkuError
from shared.imports import ImportRejected, ImportResult, Progress, RowProblem, Table, refuse

RESULT_COLUMNS = ("person", "wave", "rater_group", "rater", "date", "cohort")
RESULT_COLUMNS_OPTIONAL = ("follow_up_months", "wave_label")
STAFF_COLUMNS = ("year", "respondents", "organisation", "department", "unit")


def _section(mapping: Mapping[str, Any], name: str, required: bool = True) -> dict[str, str]:
    section = mapping.get(name)
    if section is None and not required:
        return {}
    if not isinstance(section, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in section.items()
    ):
        raise refuse(f"the mapping's {name!r} must be an object of text to text")
    return section


def _load_instrument(app: AssessmentApplication, instrument_id: Any) -> Instrument:
    try:
        return app.instrument(uuid.UUID(str(instrument_id)), field="instrument_id")
    except ValueError:
        raise refuse(f"{instrument_id!r} is not an instrument id") from None


def _dimension_columns(
    table: Table, mapping: Mapping[str, Any], section: str, instrument: Instrument
) -> dict[str, str]:
    columns = _section(mapping, section)
    if not columns:
        raise refuse(f"the mapping's {section!r} names no columns")
    unknown = sorted(set(columns.values()) - set(instrument.dimension_keys))
    if unknown:
        raise refuse(f"the instrument has no {section} {', '.join(unknown)}")
    _require_columns(table, columns)
    return columns


def _require_columns(table: Table, columns: Mapping[str, str]) -> None:
    missing = sorted(c for c in columns if c not in table.columns)
    if missing:
        raise refuse(f"the file has no column {', '.join(missing)}", column=missing[0])


def _number(text: str) -> float | int:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def _scores(
    row: dict[str, str], columns: Mapping[str, str], number: int, problems: list[RowProblem]
) -> dict[str, float]:
    scores: dict[str, float] = {}
    for column, key in columns.items():
        cell = row.get(column, "")
        if not cell:
            continue  # the instrument decides whether a missing answer is allowed
        try:
            scores[key] = _number(cell)
        except ValueError:
            problems.append(RowProblem(number, column, f"{cell!r} is not a number"))
    return scores


def _column_of(field: str | None, columns: Mapping[str, str], named: Mapping[str, str]) -> str:
    """The CSV column behind a domain error's field (``scores.listening`` -> its column)."""
    if field and "." in field:
        key = field.split(".", 1)[1]
        for column, dimension in columns.items():
            if dimension == key:
                return column
    return named.get(field or "", field or "")


class _Cells:
    """A row's values by meaning: its column's cell, else the mapping's default."""

    def __init__(self, columns: Mapping[str, str], defaults: Mapping[str, str]) -> None:
        self.columns, self.defaults = columns, defaults

    def get(self, row: dict[str, str], name: str, default_key: str | None = None) -> str:
        column = self.columns.get(name)
        if column and row.get(column):
            return row[column]
        return self.defaults.get(default_key or name, "")


def import_results(
    app: AssessmentApplication,
    table: Table,
    meta: Meta,
    *,
    instrument_id: Any,
    mapping: Mapping[str, Any],
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Imports one result per row (see the module for the mapping); all rows or none."""
    instrument = _load_instrument(app, instrument_id)
    columns = _section(mapping, "columns")
    if "person" not in columns:
        raise refuse("the mapping's columns must name the person column")
    unknown = sorted(set(columns) - set(RESULT_COLUMNS) - set(RESULT_COLUMNS_OPTIONAL))
    if unknown:
        raise refuse(f"the mapping names unknown columns: {', '.join(unknown)}")
    _require_columns(table, {v: k for k, v in columns.items()})
    dimensions = _dimension_columns(table, mapping, "dimensions", instrument)
    people = _section(mapping, "people")
    defaults = _section(mapping, "defaults", required=False)
    cells = _Cells(columns, defaults)
    result = ImportResult(rows=len(table.rows), dry_run=dry_run)
    pending: dict[uuid.UUID, tuple[int, Result]] = {}
    seen: dict[uuid.UUID, int] = {}
    for number, row in table.numbered():
        problems: list[RowProblem] = []
        respondent = row.get(columns["person"], "")
        person = people.get(respondent)
        if person is None:
            problems.append(RowProblem(number, columns["person"], f"unknown person {respondent!r}"))
        scores = _scores(row, dimensions, number, problems)
        if person is not None and not problems:
            problems += _check_result_row(
                app, instrument, meta, number, row, uuid.UUID(person), scores,
                cells, columns, dimensions, pending, seen, result,
            )  # fmt: skip
        result.problems += problems
        if progress:
            progress(1)
    if result.problems:
        raise ImportRejected(result)
    return _save(app, instrument, meta, [r for _, r in pending.values()], result, progress)


def _check_result_row(
    app: AssessmentApplication,
    instrument: Instrument,
    meta: Meta,
    number: int,
    row: dict[str, str],
    person_id: uuid.UUID,
    scores: dict[str, float],
    cells: _Cells,
    columns: Mapping[str, str],
    dimensions: Mapping[str, str],
    pending: dict[uuid.UUID, tuple[int, Result]],
    seen: dict[uuid.UUID, int],
    result: ImportResult,
) -> list[RowProblem]:
    named = {
        "wave": columns.get("wave", ""),
        "follow_up_months": columns.get("follow_up_months", ""),
        "wave_label": columns.get("wave_label", ""),
        "rater_group": columns.get("rater_group", ""),
        "rater_id": columns.get("rater", ""),
        "administered_on": columns.get("date", ""),
        "cohort_id": columns.get("cohort", ""),
    }
    try:
        months = cells.get(row, "follow_up_months")
        wave = Wave.of(
            cells.get(row, "wave"),
            int(months) if months.isdigit() else None,
            cells.get(row, "wave_label") or None,
        )
        date_text = cells.get(row, "date")
        try:
            administered_on = dt.date.fromisoformat(date_text)
        except ValueError:
            return [RowProblem(number, named["administered_on"], f"{date_text!r} is no date")]
        check_administered_on(administered_on)
        cohort_text = cells.get(row, "cohort", "cohort_id")
        try:
            cohort_id = uuid.UUID(cohort_text) if cohort_text else None
        except ValueError:
            return [RowProblem(number, named["cohort_id"], f"{cohort_text!r} is no cohort id")]
        rater_group = cells.get(row, "rater_group")
        result_id, rater_hash, checked = app.prepare_result(
            instrument, person_id, wave, rater_group, cells.get(row, "rater") or None, scores
        )
    except PolkuError as error:
        column = _column_of(error.field, dimensions, named)
        return [RowProblem(number, column or None, error.message)]
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


def _save(
    app: AssessmentApplication,
    instrument: Instrument,
    meta: Meta,
    aggregates: list[Any],
    result: ImportResult,
    progress: Progress | None,
) -> ImportResult:
    result.recorded = len(aggregates)
    if not result.dry_run and aggregates:
        instrument.put_in_use(meta)
        app.save_all(*aggregates, instrument)  # one transaction: all rows or none
    if progress:
        progress(result.rows)
    return result


def import_staff_survey(
    app: AssessmentApplication,
    table: Table,
    meta: Meta,
    *,
    instrument_id: Any,
    mapping: Mapping[str, Any],
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Imports one staff-survey result per row (see the module); all rows or none."""
    instrument = _load_instrument(app, instrument_id)
    columns = _section(mapping, "columns")
    for required in ("year", "respondents"):
        if required not in columns:
            raise refuse(f"the mapping's columns must name the {required} column")
    unknown = sorted(set(columns) - set(STAFF_COLUMNS))
    if unknown:
        raise refuse(f"the mapping names unknown columns: {', '.join(unknown)}")
    _require_columns(table, {v: k for k, v in columns.items()})
    index_columns = _dimension_columns(table, mapping, "indices", instrument)
    cells = _Cells(columns, _section(mapping, "defaults", required=False))
    result = ImportResult(rows=len(table.rows), dry_run=dry_run)
    pending: list[StaffSurveyResult] = []
    seen: dict[uuid.UUID, int] = {}
    named = {"year": columns["year"], "respondents": columns["respondents"]}
    for key in ("organisation", "department", "unit", "level"):
        named[key] = columns.get(key if key != "level" else "unit", "")
    for number, row in table.numbered():
        problems: list[RowProblem] = []
        indices = _scores(row, index_columns, number, problems)
        year_text, count_text = row[columns["year"]], row[columns["respondents"]]
        if not year_text.isdigit():
            problems.append(RowProblem(number, columns["year"], f"{year_text!r} is no year"))
        if not count_text.isdigit():
            problems.append(
                RowProblem(number, columns["respondents"], f"{count_text!r} is no count")
            )
        organisation = cells.get(row, "organisation")
        department = cells.get(row, "department") or None
        unit = cells.get(row, "unit") or None
        if not organisation:
            problems.append(RowProblem(number, columns.get("organisation"), "no organisation"))
        if not problems:
            level = "unit" if unit else "department" if department else "organisation"
            year, respondents = int(year_text), int(count_text)
            try:
                result_id, checked = app.prepare_staff_result(
                    instrument, year, level, organisation, department, unit, respondents, indices
                )
            except PolkuError as error:
                column = _column_of(error.field, index_columns, named)
                problems.append(RowProblem(number, column or None, error.message))
            else:
                problems += _check_staff_row(
                    app, instrument, meta, number, result_id, checked,
                    (year, level, organisation, department, unit, respondents),
                    pending, seen, result,
                )  # fmt: skip
        result.problems += problems
        if progress:
            progress(1)
    if result.problems:
        raise ImportRejected(result)
    return _save(app, instrument, meta, list(pending), result, progress)


def _check_staff_row(
    app: AssessmentApplication,
    instrument: Instrument,
    meta: Meta,
    number: int,
    result_id: uuid.UUID,
    indices: dict[str, float],
    where: tuple[int, str, str, str | None, str | None, int],
    pending: list[StaffSurveyResult],
    seen: dict[uuid.UUID, int],
    result: ImportResult,
) -> list[RowProblem]:
    year, level, organisation, department, unit, respondents = where
    if result_id in seen:
        return [RowProblem(number, None, f"duplicate of row {seen[result_id]}")]
    seen[result_id] = number
    existing: StaffSurveyResult | None = app.existing(result_id, StaffSurveyResult)
    if existing is not None:
        if existing.same_values(respondents, indices):
            result.unchanged += 1
            return []
        return [
            RowProblem(
                number, None, f"duplicate: already recorded differently (correct {result_id})"
            )
        ]
    pending.append(
        StaffSurveyResult.record(
            instrument.id, year, level, organisation, department, unit, respondents,
            instrument.min_group_size, indices, meta,
        )
    )  # fmt: skip
    return []
