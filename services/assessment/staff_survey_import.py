"""CSV imports of staff-survey results: one organisation, department or unit per row.

The mapping names ``year``, ``respondents`` and optionally ``organisation``, ``department``,
``unit`` columns, and ``indices`` columns; ``defaults`` may give the organisation. The level is
the finest unit named in the row. A group below the instrument's minimum rejects the file: such a
result is never stored. A row already recorded with the same values counts as unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from services.assessment.application import AssessmentApplication
from services.assessment.domain import Meta
from services.assessment.domain.instruments import Instrument
from services.assessment.domain.staff_survey import (
    StaffSurveyResult,
    check_group_size,
    check_org_unit,
    check_year,
)
from services.assessment.import_mapping import (
    Cells,
    check_cell,
    column_for,
    dimension_columns,
    load_instrument,
    read_scores,
    require_columns,
    row_problems,
    save_all_or_none,
    section,
    whole_number,
)
from shared.imports import ImportRejected, ImportResult, Progress, RowProblem, Table, refuse

STAFF_COLUMNS = ("year", "respondents", "organisation", "department", "unit")


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
    instrument = load_instrument(app, instrument_id, "staff_survey")
    columns = section(mapping, "columns")
    for required in ("year", "respondents"):
        if required not in columns:
            raise refuse(f"the mapping's columns must name the {required} column")
    unknown = sorted(set(columns) - set(STAFF_COLUMNS))
    if unknown:
        raise refuse(f"the mapping names unknown columns: {', '.join(unknown)}")
    require_columns(table, {v: k for k, v in columns.items()})
    index_columns = dimension_columns(table, mapping, "indices", instrument)
    cells = Cells(columns, section(mapping, "defaults", required=False))
    result = ImportResult(rows=len(table.rows), dry_run=dry_run)
    pending: list[StaffSurveyResult] = []
    seen: dict[uuid.UUID, int] = {}
    named = {"year": columns["year"], "respondents": columns["respondents"]}
    for key in ("organisation", "department", "unit", "level"):
        named[key] = columns.get(key if key != "level" else "unit", "")

    def column_of(field: str | None) -> str | None:
        return column_for(field, index_columns, named) or None

    for number, row in table.numbered():
        problems: list[RowProblem] = []
        indices = read_scores(row, index_columns, number, problems)
        unreadable = {p.column for p in problems}
        problems += [
            p
            for p in row_problems(number, column_of, instrument.score_problems(indices, "indices"))
            if p.column not in unreadable
        ]
        year_text, count_text = row[columns["year"]], row[columns["respondents"]]
        year, respondents = whole_number(year_text), whole_number(count_text)
        if year is None:
            problems.append(RowProblem(number, columns["year"], f"{year_text!r} is no year"))
        else:
            problems += check_cell(number, column_of, check_year, year)
        if respondents is None:
            problems.append(
                RowProblem(number, columns["respondents"], f"{count_text!r} is no count")
            )
        else:
            problems += check_cell(
                number, column_of, check_group_size, respondents, instrument.min_group_size
            )
        organisation = cells.get(row, "organisation")
        department = cells.get(row, "department") or None
        unit = cells.get(row, "unit") or None
        level = "unit" if unit else "department" if department else "organisation"
        if not organisation:
            problems.append(RowProblem(number, columns.get("organisation"), "no organisation"))
        problems += check_cell(number, column_of, check_org_unit, level, department, unit)
        if not problems and year is not None and respondents is not None:
            result_id, checked = app.prepare_staff_result(
                instrument, year, level, organisation, department, unit, respondents, indices
            )
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
    return save_all_or_none(app, instrument, meta, list(pending), result, progress)


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
