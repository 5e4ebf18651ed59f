"""What both survey-tool imports share: reading the mapping, the cells of a row, and saving.

Problems with the file as a whole (an unknown instrument, a mapping that does not fit) refuse it
in one problem; problems with a cell become that row's problems, named by CSV column.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from services.assessment.application import AssessmentApplication
from services.assessment.domain import Meta
from services.assessment.domain.instruments import Instrument
from shared.errors import NotFoundError, PolkuError
from shared.imports import ImportResult, Progress, RowProblem, Table, refuse

ColumnOf = Callable[[str | None], str | None]


def section(mapping: Mapping[str, Any], name: str, required: bool = True) -> dict[str, str]:
    section = mapping.get(name)
    if section is None and not required:
        return {}
    if not isinstance(section, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in section.items()
    ):
        raise refuse(f"the mapping's {name!r} must be an object of text to text")
    return section


def load_instrument(app: AssessmentApplication, instrument_id: Any, *kinds: str) -> Instrument:
    """The instrument, or a refusal of the whole file in one line (never a traceback)."""
    try:
        instrument = app.instrument(uuid.UUID(str(instrument_id)), field="instrument_id")
    except ValueError:
        raise refuse(f"{instrument_id!r} is not an instrument id") from None
    except NotFoundError:
        raise refuse(f"there is no instrument {instrument_id}") from None
    try:
        instrument.check_kind(*kinds)
        instrument.check_not_retired()
    except PolkuError as error:
        raise refuse(error.message) from None
    return instrument


def person_ids(mapping: Mapping[str, Any]) -> dict[str, uuid.UUID]:
    people = section(mapping, "people")
    ids: dict[str, uuid.UUID] = {}
    for respondent, person in people.items():
        try:
            ids[respondent] = uuid.UUID(person)
        except ValueError:
            raise refuse(
                f"the mapping's people give {person!r} for {respondent!r}: not a person id"
            ) from None
    return ids


def whole_number(text: str) -> int | None:
    """A whole number written in ASCII digits, else None (``int`` takes ``'²'`` badly)."""
    return int(text) if text.isascii() and text.isdigit() else None


def row_problems(number: int, column_of: ColumnOf, errors: list[Any]) -> list[RowProblem]:
    return [RowProblem(number, column_of(e.field), e.message) for e in errors]


def dimension_columns(
    table: Table, mapping: Mapping[str, Any], name: str, instrument: Instrument
) -> dict[str, str]:
    columns = section(mapping, name)
    if not columns:
        raise refuse(f"the mapping's {name!r} names no columns")
    unknown = sorted(set(columns.values()) - set(instrument.dimension_keys))
    if unknown:
        raise refuse(f"the instrument has no {name} {', '.join(unknown)}")
    require_columns(table, columns)
    return columns


def require_columns(table: Table, columns: Mapping[str, str]) -> None:
    missing = sorted(c for c in columns if c not in table.columns)
    if missing:
        raise refuse(f"the file has no column {', '.join(missing)}", column=missing[0])


def read_number(text: str) -> float | int:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def read_scores(
    row: dict[str, str], columns: Mapping[str, str], number: int, problems: list[RowProblem]
) -> dict[str, float]:
    scores: dict[str, float] = {}
    for column, key in columns.items():
        cell = row.get(column, "")
        if not cell:
            continue  # the instrument decides whether a missing answer is allowed
        try:
            scores[key] = read_number(cell)
        except ValueError:
            problems.append(RowProblem(number, column, f"{cell!r} is not a number"))
    return scores


def column_for(field: str | None, columns: Mapping[str, str], named: Mapping[str, str]) -> str:
    """The CSV column behind a domain error's field (``scores.listening`` -> its column)."""
    if field and "." in field:
        key = field.split(".", 1)[1]
        for column, dimension in columns.items():
            if dimension == key:
                return column
    return named.get(field or "", field or "")


class Cells:
    """A row's values by meaning: its column's cell, else the mapping's default."""

    def __init__(self, columns: Mapping[str, str], defaults: Mapping[str, str]) -> None:
        self.columns, self.defaults = columns, defaults

    def get(self, row: dict[str, str], name: str, default_key: str | None = None) -> str:
        column = self.columns.get(name)
        if column and row.get(column):
            return row[column]
        return self.defaults.get(default_key or name, "")


def save_all_or_none(
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


def check_cell(number: int, column_of: ColumnOf, check: Any, *args: Any) -> list[RowProblem]:
    """The problem a domain check raises for one row, if any."""
    try:
        check(*args)
    except PolkuError as error:
        return row_problems(number, column_of, [error])
    return []
