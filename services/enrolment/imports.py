"""The people import: registering people from an HR register extract, all rows or none.

Columns (case-insensitive, with a few aliases such as "Name", "E-mail", "Employee number"):
full_name, email, employee_number, organisation, department, unit, and optionally role,
profession_category, education_level. Every row is checked against the same rules as a single
registration; rows whose employee number is registered already (found by its blind index) count
as unchanged, so a re-run registers no one twice.

Every row is checked, and every new row's employee number reserved in the key store, before the
first person is saved; then the people are saved in chunks of :data:`CHUNK_ROWS`, so that a large
import never holds the registration lock or the store for long. A file of up to one chunk is one
atomic save. What "nothing half-written" means for larger files is in docs/imports.md.
"""

from __future__ import annotations

import re
import time
from typing import Any
from uuid import UUID

from services.enrolment.application.people import PeopleCommands, Planned
from services.enrolment.domain import Meta
from services.enrolment.domain.people import ATTRIBUTES, check_text
from services.enrolment.keystore import normalised
from services.enrolment.personal import PERSONAL_CHECKS
from shared.errors import PolkuError
from shared.imports import (
    ImportInterrupted,
    ImportRejected,
    ImportResult,
    Progress,
    RowProblem,
    Table,
)

CHUNK_ROWS = 1000
"""People per save: one short transaction, and one short hold of the registration lock."""
SAVES_PER_SECOND = 200
"""A floor on the rate people are saved at, used only to date reservations made ahead."""

REQUIRED = ("full_name", "email", "employee_number", "organisation", "department", "unit")
COLUMNS = (*REQUIRED, *ATTRIBUTES)
ALIASES = {
    "name": "full_name",
    "fullname": "full_name",
    "email": "email",
    "emailaddress": "email",
    "employeenumber": "employee_number",
    "employeeno": "employee_number",
    "employeeid": "employee_number",
    "organization": "organisation",
    "profession": "profession_category",
    "education": "education_level",
}
_SEPARATORS = re.compile(r"[\s_\-.]+")


def column_of(header: str) -> str | None:
    """The column a header names: ``"E-mail"`` is ``email``; None if it names none."""
    key = _SEPARATORS.sub("", header.casefold())
    for column in COLUMNS:
        if key == column.replace("_", ""):
            return column
    return ALIASES.get(key)


def _columns(table: Table) -> dict[str, str]:
    """Header -> column, or the whole file refused naming what is unknown, repeated or missing."""
    problems: list[RowProblem] = []
    mapping: dict[str, str] = {}
    for header in table.columns:
        column = column_of(header)
        if column is None:
            problems.append(RowProblem(0, header, f"unknown column; expected {', '.join(COLUMNS)}"))
        elif column in mapping.values():
            problems.append(RowProblem(0, header, f"a second column for {column}"))
        else:
            mapping[header] = column
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        problems.append(RowProblem(0, None, f"missing column(s): {', '.join(missing)}"))
    if problems:
        raise ImportRejected(ImportResult(rows=len(table.rows), problems=problems))
    return mapping


def _check_row(row: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for name, check in PERSONAL_CHECKS.items():
        try:
            check(row.get(name))
        except PolkuError as problem:
            found.append((name, problem.message))
    for name in COLUMNS[3:]:
        try:
            check_text(name, row.get(name), required=name in REQUIRED)
        except PolkuError as problem:
            found.append((name, problem.message))
    return found


def import_people(
    app: PeopleCommands,
    table: Table,
    meta: Meta,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    chunk_rows: int | None = None,
) -> ImportResult:
    """Registers every person in ``table`` not registered yet, or raises ImportRejected."""
    tick = progress or (lambda _: None)
    mapping = _columns(table)
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[RowProblem] = []
    first_of: dict[str, int] = {}
    for number, cells in table.numbered():
        row = {mapping[h]: (cell or None) for h, cell in cells.items() if h in mapping}
        problems += [RowProblem(number, column, message) for column, message in _check_row(row)]
        number_cell = row.get("employee_number")
        if number_cell:
            key = normalised(number_cell)
            if key in first_of:
                problems.append(
                    RowProblem(
                        number,
                        "employee_number",
                        f"the employee number repeats row {first_of[key]}",
                    )
                )
            else:
                first_of[key] = number
        rows.append((number, row))
        tick(1)
    result = ImportResult(rows=len(rows), problems=problems, dry_run=dry_run)
    if problems:
        raise ImportRejected(result)
    lookups = [app.personal_data.lookup(row["employee_number"]) for _, row in rows]
    registered = app.registered_numbers(lookups)
    new = [row for (_, row), lookup in zip(rows, lookups, strict=True) if lookup not in registered]
    result.unchanged = len(rows) - len(new)
    tick(result.unchanged)
    if new and not dry_run:
        _register_in_chunks(app, new, meta, chunk_rows or CHUNK_ROWS, tick)
    result.recorded = len(new)
    if dry_run:
        tick(len(new))
    return result


def _register_in_chunks(
    app: PeopleCommands,
    rows: list[dict[str, Any]],
    meta: Meta,
    chunk_rows: int,
    tick: Progress,
) -> None:
    """Reserves every row's employee number, then saves the people a chunk at a time.

    Each reservation and each save is short, so other registrations (which need the same
    registration lock and the same store) go between the chunks instead of waiting for the
    whole import. A number that someone registers meanwhile refuses the import before anything
    is saved. A failing store after some chunks (a full disk, a lost database) leaves those
    chunks saved: the reservations of the rest are given back, and running the same file again
    registers exactly the rest (see docs/imports.md).
    """
    planned = app.plan_registrations(rows)
    chunks = [planned[at : at + chunk_rows] for at in range(0, len(planned), chunk_rows)]
    reserved: list[list[Planned]] = []
    start = time.time()
    try:
        for index, chunk in enumerate(chunks):
            # Dated when its save is due, so no one takes it for a crash's leftover meanwhile.
            due = start + index * chunk_rows / SAVES_PER_SECOND
            app.reserve_numbers([p.entry for p in chunk], added_at=due)
            reserved.append(chunk)
    except BaseException:
        app.personal_data.keys.forget(_ids(reserved))
        raise
    for index, chunk in enumerate(chunks):
        try:
            # Sealed only now: until its save, a chunk is ids and keys, not people and events.
            app.save_all(*app.registrations(chunk, meta).people)
        except BaseException as failure:
            app.personal_data.keys.forget(_ids(chunks[index:]))
            saved = index * chunk_rows
            raise ImportInterrupted(saved, len(rows)) from failure
        tick(len(chunk))


def _ids(chunks: list[list[Planned]]) -> list[UUID]:
    return [p.entry.person_id for chunk in chunks for p in chunk]
