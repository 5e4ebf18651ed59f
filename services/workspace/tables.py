"""A cohort's headline tables, one per view, as the exports write them.

The workbook, the CSV and the PDF report all take their tables from here, with the page's
labels (never keys) in the page's language. A value is a number, a date, a text, or
:class:`Hidden` for a suppressed cell (written "< 5", never a number or a blank).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from services.workspace import dashboard
from services.workspace.dashboard import Dashboard


@dataclass(frozen=True)
class Hidden:
    """A suppressed cell: fewer people than the minimum behind it."""

    minimum: int
    reason: str

    def __str__(self) -> str:
        return f"< {self.minimum}"


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"
    """text, int, number (two decimals), percent (a share) or date."""


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)


def cell(figure: Any) -> Any:
    """A view's cell as an export value: its value, :class:`Hidden`, or None (no value)."""
    if not isinstance(figure, dict):
        return figure
    if figure.get("suppressed"):
        return Hidden(_minimum(figure.get("reason")), str(figure.get("reason") or ""))
    return figure.get("value")


def _minimum(reason: Any) -> int:
    text = str(reason or "")
    marker = "fewer than "
    if marker in text:
        digits = text.split(marker, 1)[1].split(" ", 1)[0]
        if digits.isdigit():
            return int(digits)
    return 5


def day(text: Any) -> dt.date | None:
    if not text:
        return None
    return dt.date.fromisoformat(str(text)[:10])


def headline(board: Dashboard) -> list[Table]:
    tables = [_kirkpatrick(board)]
    views = board.views
    if "funnel" in views:
        tables += [_funnel(views["funnel"]), *_attendance(views["funnel"])]
    if "growth" in views:
        tables.append(_growth(views["growth"]))
    if "reaction" in views:
        tables.append(_reaction(views["reaction"]))
    if "staff-survey" in views:
        tables.append(_staff_survey(views["staff-survey"]))
    if "mobility" in views:
        tables += [_mobility(views["mobility"]), _retention(views["mobility"])]
    if "network" in views:
        tables.append(_network(views["network"]))
    return tables


def _kirkpatrick(board: Dashboard) -> Table:
    names, levels = dashboard.figure_names(), dashboard.level_names()
    table = Table(
        "kirkpatrick",
        _("Kirkpatrick summary"),
        [
            Column(_("Level")),
            Column(_("Figure")),
            Column(_("Value"), "number"),
            Column(_("Unit")),
            Column(_("People"), "int"),
        ],
    )
    for level in board.kirkpatrick["levels"]:
        for figure in level["figures"]:
            kind = "percent" if figure.get("unit") == "share" else "number"
            table.rows.append(
                [
                    levels.get(level["level"], level["name"]),
                    names.get(figure["key"], figure["label"]),
                    (kind, cell(figure)),
                    figure.get("unit") or "",
                    figure.get("n"),
                ]
            )
    return table


def _funnel(view: dict[str, Any]) -> Table:
    table = Table("funnel", _("Funnel"), [Column(_("Stage")), Column(_("Value"), "number")])
    for key, label in dashboard.stage_names().items():
        table.rows.append([label, ("int", cell(view["stages"].get(key)))])
    for key, label in dashboard.rate_names().items():
        table.rows.append([label, ("percent", cell(view["rates"].get(key)))])
    return table


def _attendance(view: dict[str, Any]) -> list[Table]:
    modes = dashboard.mode_names()
    sessions = Table(
        "attendance",
        _("Attendance per session"),
        [
            Column(_("Session")),
            Column(_("Day"), "date"),
            Column(_("Delivery")),
            Column(_("Present"), "int"),
            Column(_("Partial"), "int"),
            Column(_("Absent"), "int"),
            Column(_("Excused"), "int"),
            Column(_("Rate"), "percent"),
        ],
    )
    for session in view["attendance"]["sessions"]:
        counts = session.get("counts") or {}
        sessions.rows.append(
            [
                session["title"],
                day(session["starts_at"]),
                modes.get(session["delivery"], session["delivery"]),
                *(cell(counts.get(k)) for k in ("present", "partial", "absent", "excused")),
                cell(session.get("rate")),
            ]
        )
    by_mode = Table(
        "modes",
        _("Attendance by delivery mode"),
        [
            Column(_("Delivery")),
            Column(_("Sessions"), "int"),
            Column(_("Person-sessions"), "int"),
            Column(_("Rate"), "percent"),
            Column(_("Note")),
        ],
    )
    for mode, figures in view["attendance"]["by_delivery"].items():
        by_mode.rows.append(
            [
                modes.get(mode, mode),
                figures["sessions"],
                cell(figures.get("person_sessions")),
                cell(figures.get("rate")),
                _("A single session: read with care") if figures["sessions"] == 1 else "",
            ]
        )
    return [sessions, by_mode]


def _growth(view: dict[str, Any]) -> Table:
    groups = dashboard.group_names()
    table = Table(
        "growth",
        _("Growth"),
        [
            Column(_("Instrument")),
            Column(_("Dimension")),
            Column(_("Rater group")),
            Column(_("Waves")),
            Column(_("Pairs"), "int"),
            Column(_("Change"), "number"),
            Column(_("Low end of the 95 percent interval"), "number"),
            Column(_("High end of the 95 percent interval"), "number"),
            Column("d_z", "number"),
            Column("g_av", "number"),
        ],
    )
    for instrument in view["instruments"]:
        labels = {d["key"]: d["label"] for d in instrument["dimensions"]}
        for change in instrument["changes"]:
            table.rows.append(
                [
                    instrument["name"],
                    labels.get(change["dimension"], change["dimension"]),
                    groups.get(change["rater_group"], change["rater_group"]),
                    f"{change['from']} → {change['to']}",
                    *(
                        cell(change.get(k))
                        for k in ("pairs", "improvement", "ci_low", "ci_high", "d_z", "g_av")
                    ),
                ]
            )
    return table


def _reaction(view: dict[str, Any]) -> Table:
    table = Table(
        "reaction",
        _("Reaction"),
        [
            Column(_("Instrument")),
            Column(_("Item")),
            Column(_("Answers"), "int"),
            Column(_("Mean"), "number"),
            Column(_("Response rate"), "percent"),
        ],
    )
    for instrument in view["instruments"]:
        rate = cell(instrument.get("response_rate"))
        for item in instrument["items"]:
            table.rows.append(
                [
                    instrument["name"],
                    item["label"],
                    cell(item.get("n")),
                    cell(item.get("mean")),
                    rate,
                ]
            )
    return table


def _staff_survey(view: dict[str, Any]) -> Table:
    table = Table(
        "staff-survey",
        _("Staff-survey change"),
        [
            Column(_("Index")),
            Column(_("From year"), "int"),
            Column(_("Year"), "int"),
            Column(_("Units"), "number"),
            Column(_("Organisation"), "number"),
            Column(_("Difference"), "number"),
        ],
    )
    for instrument in view["instruments"]:
        for change in instrument["change"]:
            for after in change["after"]:
                table.rows.append(
                    [
                        change["label"],
                        instrument.get("before_year"),
                        after["year"],
                        cell(after.get("units")),
                        cell(after.get("organisation")),
                        cell(after.get("difference")),
                    ]
                )
    return table


def _mobility(view: dict[str, Any]) -> Table:
    table = Table(
        "mobility",
        _("Mobility at 6, 12 and 24 months"),
        [
            Column(_("Outcome")),
            Column(_("Months"), "int"),
            Column(_("Participants"), "percent"),
            Column(_("Comparison group"), "percent"),
            Column(_("Difference"), "percent"),
        ],
    )
    outcomes = {"first_move": _("First career move"), "first_rotation": _("First job rotation")}
    for outcome, label in outcomes.items():
        for months in ("6", "12", "24"):
            table.rows.append(
                [
                    label,
                    int(months),
                    cell(view["participants"][outcome]["incidence"].get(months)),
                    cell(view["comparison"][outcome]["incidence"].get(months)),
                    cell(view["difference"][outcome].get(months)),
                ]
            )
    return table


def _retention(view: dict[str, Any]) -> Table:
    table = Table(
        "retention",
        _("Retention in the state"),
        [
            Column(_("Months"), "int"),
            Column(_("Participants"), "percent"),
            Column(_("Comparison group"), "percent"),
            Column(_("Difference"), "percent"),
        ],
    )
    for months in ("12", "24"):
        table.rows.append(
            [
                int(months),
                cell(view["participants"]["retention"]["estimated"].get(months)),
                cell(view["comparison"]["retention"]["estimated"].get(months)),
                cell(view["difference"]["retention"].get(months)),
            ]
        )
    return table


def _network(view: dict[str, Any]) -> Table:
    table = Table(
        "network",
        _("Network"),
        [
            Column(_("Peer group")),
            Column(_("Members"), "int"),
            Column(_("Departments"), "int"),
            Column(_("Units"), "int"),
            Column(_("Ties across units"), "percent"),
        ],
    )
    for group in view["groups"]:
        table.rows.append(
            [
                group["name"],
                *(
                    cell(group.get(k))
                    for k in ("members", "departments", "units", "cross_unit_share")
                ),
            ]
        )
    return table


def kind_of(table: Table, index: int, value: Any) -> tuple[str, Any]:
    """A cell's kind and value: a ``(kind, value)`` pair overrides its column's kind."""
    if isinstance(value, tuple):
        return value[0], value[1]
    return table.columns[index].kind, value
