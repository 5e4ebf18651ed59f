"""Bulk imports from CSV exports: read the table, check every row, then write all or nothing.

A service's import function takes a :class:`Table` and returns an :class:`ImportResult`. It
checks every row before it writes anything; if any row is wrong it raises
:class:`ImportRejected`, whose problems name each row and column, and nothing is written.
Rows already recorded by an earlier run count as ``unchanged``, so importing the same file twice
records nothing twice. The CLI and the HTTP endpoints only read the file and report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shared.errors import RuleViolation
from shared.text import NoControlCharacters

Progress = Callable[[int], None]
"""Called with the number of rows just handled, so a caller can advance a progress bar: twice per
row in all, once as each row is checked and once as it is written (or found written before)."""

MAX_ROWS = 200_000
FIRST_ROW = 2
"""Row numbers are those a spreadsheet shows: the header is row 1."""


class RowProblem(NamedTuple):
    row: int
    """The spreadsheet row number (the header is row 1); 0 for the file as a whole."""
    column: str | None
    message: str

    def as_error(self) -> dict[str, Any]:
        where = f"row {self.row}" if self.row else "file"
        return {
            "location": "csv",
            "field": f"{where}: {self.column}" if self.column else where,
            "message": self.message,
        }


@dataclass
class ImportResult:
    rows: int
    recorded: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "recorded": self.recorded,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "problems": [p._asdict() for p in self.problems],
        }


class ImportRejected(RuleViolation):
    """At least one row is wrong, so nothing was written (422 listing every problem)."""

    def __init__(self, result: ImportResult) -> None:
        count = len(result.problems)
        rows = len({p.row for p in result.problems if p.row})
        if rows:
            where = f"{count} problem{'s' * (count != 1)} in {rows} row{'s' * (rows != 1)}"
        else:  # the file as a whole: say what is wrong with it
            where = "; ".join(p.message for p in result.problems)
        super().__init__(
            f"nothing was imported: {where}", errors=[p.as_error() for p in result.problems]
        )
        self.result = result


class ImportInterrupted(Exception):
    """The store failed after part of an import was written (an infrastructure failure, not
    bad input): ``saved`` rows are recorded, the rest not; the same file again records the rest."""

    def __init__(self, saved: int, rows: int) -> None:
        super().__init__(
            f"the store failed after {saved} of {rows} new rows were saved; import the same "
            "file again to record the rest (the rows saved count as unchanged)"
        )
        self.saved = saved
        self.rows = rows


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    """Each row's cells by column, stripped of surrounding blanks; blank rows are left out."""
    numbers: list[int]
    """Each row's number as a spreadsheet shows it (the header is row 1)."""

    def numbered(self) -> list[tuple[int, dict[str, str]]]:
        return list(zip(self.numbers, self.rows, strict=True))


def refuse(message: str, column: str | None = None, row: int = 0) -> ImportRejected:
    """A rejection for a problem with the file as a whole (no rows read, a missing column)."""
    return ImportRejected(ImportResult(rows=0, problems=[RowProblem(row, column, message)]))


def read_table(text: str, required: tuple[str, ...] = ()) -> Table:
    """Parses CSV as survey tools and spreadsheets export it: comma or semicolon separated,
    with or without a byte-order mark, one header row.

    ``required`` columns must all be present; the file as a whole is refused otherwise.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise refuse("the file is empty; expected a header row and at least one data row")
    found = NoControlCharacters.FREE_TEXT.search(text)
    if found is not None:
        raise refuse(
            f"the file holds a control character (U+{ord(found.group()):04X}); "
            "is it really a CSV text export?"
        )
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        lines = list(reader)
    except csv.Error as exc:
        raise refuse(f"the file is not valid CSV: {exc}") from None
    header = tuple(cell.strip() for cell in lines[0])
    if not any(header):
        raise refuse("the first row must name the columns")
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        raise refuse(f"column names repeat: {', '.join(duplicates)}")
    missing = [name for name in required if name not in header]
    if missing:
        raise refuse(f"missing column{'s' * (len(missing) > 1)}: {', '.join(missing)}")
    body = [
        (number, line)
        for number, line in enumerate(lines[1:], start=FIRST_ROW)
        if any(cell.strip() for cell in line)
    ]
    if not body:
        raise refuse("the file has a header but no data rows")
    if len(body) > MAX_ROWS:
        raise refuse(f"the file has {len(body)} rows; at most {MAX_ROWS} are imported at once")
    rows = []
    problems = []
    for number, line in body:
        if len(line) != len(header):
            problems.append(
                RowProblem(number, None, f"{len(line)} cells, but the header has {len(header)}")
            )
        rows.append({name: cell.strip() for name, cell in zip(header, line, strict=False)})
    if problems:
        raise ImportRejected(ImportResult(rows=len(body), problems=problems))
    return Table(header, rows, [number for number, _ in body])
