"""A cohort's dashboard as data: every view it shows, its charts and its labels.

The page, the PDF report and the workbook are all made from one :class:`Dashboard`, so they
cannot disagree. A view the signed-in person may not read (or that tracking refuses) leaves its
section with the API's reason instead of figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from services.workspace import charts
from services.workspace.access import views
from services.workspace.charts import Chart
from services.workspace.tracking import TrackingError

SECTIONS = ("funnel", "growth", "reaction", "staff-survey", "mobility", "network")
"""The cohort views a dashboard reads besides the Kirkpatrick summary."""


def stage_names() -> dict[str, str]:
    return {
        "invited": _("Invited"),
        "accepted": _("Accepted"),
        "declined": _("Declined"),
        "waitlisted": _("Waitlisted"),
        "enrolled": _("Enrolled"),
        "completed": _("Completed"),
        "withdrawn": _("Withdrawn"),
    }


def rate_names() -> dict[str, str]:
    return {
        "acceptance": _("Acceptance"),
        "decline": _("Decline"),
        "completion": _("Completion"),
        "withdrawal": _("Withdrawal"),
    }


def mode_names() -> dict[str, str]:
    return {"in_person": _("In person"), "virtual": _("Virtual"), "hybrid": _("Hybrid")}


def group_names() -> dict[str, str]:
    return {
        "self": _("Self"),
        "manager": _("Manager"),
        "peer": _("Peers"),
        "direct_report": _("Direct reports"),
        "coach": _("Coach"),
    }


def level_names() -> dict[int, str]:
    return {1: _("L1 Reaction"), 2: _("L2 Learning"), 3: _("L3 Behaviour"), 4: _("L4 Results")}


def figure_names() -> dict[str, str]:
    """Kirkpatrick figures by key, in the page's language (the API's label otherwise)."""
    return {
        "mean_answer": _("Mean answer of the reaction survey"),
        "response_rate": _("Response rate of the reaction survey"),
        "self_assessed_change": _("Self-assessed growth, baseline to post"),
        "multi_rater_change": _("Behaviour change as rated by others"),
        "change_manager": _("Behaviour change as rated by managers"),
        "change_peer": _("Behaviour change as rated by peers"),
        "change_direct_report": _("Behaviour change as rated by direct reports"),
        "cross_unit_ties": _("Share of peer-group ties across units"),
        "departments_per_group": _("Departments per peer group"),
        "staff_survey_vs_organisation": _(
            "Staff-survey change of the participants' units minus the organisation's"
        ),
        "rotation_24m": _("Rotated within 24 months"),
        "rotation_24m_comparison": _("Rotated within 24 months: comparison group"),
        "rotation_24m_difference": _("Rotation within 24 months: difference"),
        "retention_24m": _("Still in the state at 24 months"),
        "retention_24m_comparison": _("Still in the state at 24 months: comparison group"),
        "retention_24m_difference": _("Retention at 24 months: difference"),
    }


def figure_kind(figure: dict[str, Any]) -> str:
    return "percent" if figure.get("unit") == "share" else "number"


@dataclass
class Dashboard:
    cohort_id: str
    kirkpatrick: dict[str, Any]
    views: dict[str, Any] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    charts: dict[str, Chart] = field(default_factory=dict)

    @property
    def funnel(self) -> dict[str, Any]:
        return self.views.get("funnel") or {}

    @property
    def header(self) -> dict[str, Any]:
        """The cohort's name, dates and status, from whichever view answered."""
        for name in SECTIONS:
            found = self.views.get(name)
            if found:
                return found  # type: ignore[no-any-return]
        return {"name": self.kirkpatrick.get("name", ""), "cohort_id": self.cohort_id}

    def charts_of(self, prefix: str) -> list[Chart]:
        return [c for key, c in self.charts.items() if key.startswith(prefix)]


def build(cohort_id: str) -> Dashboard:
    """Reads every view of the cohort (at the page's as-of) and builds the charts."""
    names = ("kirkpatrick", *SECTIONS)
    answers = views({name: f"/cohorts/{cohort_id}/{name}" for name in names})
    summary = answers.pop("kirkpatrick")
    if not summary.ok:
        raise TrackingError(summary)
    board = Dashboard(cohort_id, summary.body)
    for name, answer in answers.items():
        if answer.ok:
            board.views[name] = answer.body
        elif answer.status >= 500:
            raise TrackingError(answer)
        else:
            board.refused[name] = str(TrackingError(answer))
    _charts(board)
    return board


def _charts(board: Dashboard) -> None:
    add = board.charts.__setitem__
    funnel = board.views.get("funnel")
    if funnel:
        add("funnel", charts.funnel(funnel, stage_names()))
        add("attendance", charts.attendance_sessions(funnel, mode_names()))
        add("modes", charts.attendance_modes(funnel, mode_names()))
    for instrument in (board.views.get("growth") or {}).get("instruments", []):
        chart = charts.growth(instrument, group_names())
        add(chart.key, chart)
    for instrument in (board.views.get("reaction") or {}).get("instruments", []):
        chart = charts.reaction(instrument)
        add(chart.key, chart)
    staff = board.views.get("staff-survey")
    if staff:
        year = int(staff["start_date"][:4])
        for instrument in staff.get("instruments", []):
            chart = charts.staff_survey(instrument, year)
            add(chart.key, chart)
    mobility = board.views.get("mobility")
    if mobility:
        add(
            "km-first_move", charts.mobility(mobility, "first_move", _("Time to first career move"))
        )
        add(
            "km-first_rotation",
            charts.mobility(mobility, "first_rotation", _("Time to first job rotation")),
        )
    network = board.views.get("network")
    if network:
        add("network", charts.network(network))
