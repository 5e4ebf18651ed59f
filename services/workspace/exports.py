"""The cohort's downloads: the workbook, the CSV for Finnish Excel, the charts and the report.

- **XLSX**: one sheet per view's headline table (:mod:`.tables`), labels not keys, numbers and
  dates as real cells with formats, a suppressed cell as the text "< 5".
- **CSV, Finnish Excel dialect**: every headline table in one file, ``;`` between fields,
  decimal commas, UTF-8 with a byte-order mark, CRLF line ends; a table's name heads its rows.
- **Charts**: a zip of every chart as SVG and PNG, rendered on the server from the same
  Vega-Lite specifications the page draws.
- **PDF**: the report template (the charts as PNG, the tables), printed by WeasyPrint; SVG
  charts made it several times slower.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.workspace import charts, dashboard, i18n, tables
from services.workspace.access import READERS, as_of, signed_in
from services.workspace.pages import _id, names
from services.workspace.tables import Hidden, Table, kind_of

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetml.document"
FORMATS = {"int": "#,##0", "number": "0.00", "percent": "0.0%", "date": "yyyy-mm-dd"}
REPORT_SCALE = 1.25
"""PNG scale of the report's charts: sharp enough on A4, and small enough to print fast."""
SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def _file_name(board: dashboard.Dashboard, suffix: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(board.header.get("name", "cohort"))).strip("-")
    moment = as_of().moment
    stamp = (moment or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d")
    return f"{name or 'cohort'}-{stamp}.{suffix}"


def _download(data: bytes | str, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def workbook(board: dashboard.Dashboard) -> bytes:
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables.headline(board):
        title = SHEET_NAME.sub(" ", table.title)[:31]
        while title in used:
            title = title[:28] + f" {len(used)}"
        used.add(title)
        sheet = book.create_sheet(title)
        sheet.append([column.title for column in table.columns])
        for header in sheet[1]:
            header.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_value(table, i, v) for i, v in enumerate(row)])
            for i, value in enumerate(row):
                kind, plain = kind_of(table, i, value)
                if plain is not None and not isinstance(plain, Hidden) and kind in FORMATS:
                    sheet.cell(sheet.max_row, i + 1).number_format = FORMATS[kind]
        for i, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(12, len(column.title) + 2)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(table: Table, index: int, value: Any) -> Any:
    _kind, plain = kind_of(table, index, value)
    if isinstance(plain, Hidden):
        return str(plain)
    if isinstance(plain, str) and plain[:1] in ("=", "+", "-", "@"):
        return "'" + plain  # never a formula
    return plain


def finnish_csv(board: dashboard.Dashboard) -> bytes:
    """Every headline table in one CSV for Excel in Finnish: ``;``, ``,`` decimals, BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for table in tables.headline(board):
        writer.writerow([_("Table"), *(column.title for column in table.columns)])
        for row in table.rows:
            writer.writerow([table.title, *(_csv_value(table, i, v) for i, v in enumerate(row))])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(table: Table, index: int, value: Any) -> str:
    kind, plain = kind_of(table, index, value)
    if plain is None:
        return ""
    if isinstance(plain, Hidden):
        return str(plain)
    if isinstance(plain, dt.date):
        return plain.isoformat()
    if isinstance(plain, bool):
        return str(plain)
    if isinstance(plain, int) and kind != "percent":
        return str(plain)
    if isinstance(plain, int | float):
        digits = 4 if kind == "percent" else 2 if kind == "number" else 6
        text = f"{Decimal(str(plain)):.{digits}f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")
    text = str(plain)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export_text(table: Table, index: int, value: Any) -> str:
    """A cell as the report prints it, in the page's language."""
    kind, plain = kind_of(table, index, value)
    if plain is None:
        return "\N{EN DASH}"
    if isinstance(plain, Hidden):
        return str(plain)
    if kind == "percent" and isinstance(plain, int | float):
        return i18n.percent(plain, 1)
    if kind == "number" and isinstance(plain, int | float):
        return i18n.number(float(plain), 2)
    if kind == "int" and isinstance(plain, int | float):
        return i18n.number(plain)
    if kind == "date":
        return i18n.day(plain)
    return str(plain)


def chart_archive(board: dashboard.Dashboard) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, chart in board.charts.items():
            archive.writestr(f"{key}.svg", charts.svg(chart))
            archive.writestr(f"{key}.png", charts.png(chart))
    return out.getvalue()


def report(board: dashboard.Dashboard) -> bytes:
    import weasyprint

    html = render_template(
        "report.html",
        title=board.header.get("name", ""),
        board=board,
        summary=board.kirkpatrick,
        names=names(),
        tables=tables.headline(board),
        images={
            key: (chart.alt, base64.b64encode(charts.png(chart, REPORT_SCALE)).decode())
            for key, chart in board.charts.items()
        },
        as_of=as_of(),
        made=dt.datetime.now(dt.UTC),
        export_text=export_text,
    )
    return bytes(weasyprint.HTML(string=html).write_pdf())


@bp.get("/app/cohorts/<cohort_id>/export.xlsx")
@signed_in(*READERS)
def xlsx(cohort_id: str) -> Response:
    board = dashboard.build(_id(cohort_id, _("cohort")))
    return _download(workbook(board), XLSX, _file_name(board, "xlsx"))


@bp.get("/app/cohorts/<cohort_id>/export.csv")
@signed_in(*READERS)
def csv_fi(cohort_id: str) -> Response:
    board = dashboard.build(_id(cohort_id, _("cohort")))
    return _download(finnish_csv(board), "text/csv; charset=utf-8", _file_name(board, "csv"))


@bp.get("/app/cohorts/<cohort_id>/charts.zip")
@signed_in(*READERS)
def chart_files(cohort_id: str) -> Response:
    board = dashboard.build(_id(cohort_id, _("cohort")))
    return _download(chart_archive(board), "application/zip", _file_name(board, "zip"))


@bp.get("/app/cohorts/<cohort_id>/report.pdf")
@signed_in(*READERS)
def pdf(cohort_id: str) -> Response:
    board = dashboard.build(_id(cohort_id, _("cohort")))
    return _download(report(board), "application/pdf", _file_name(board, "pdf"))
