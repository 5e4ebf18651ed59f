"""The dashboard's charts as Vega-Lite specifications, built with altair from the views' JSON.

Each builder takes a view as tracking answered it and returns a :class:`Chart`: its spec, a
text alternative, and the table shown beside it. Suppressed cells never become marks (a chart
cannot show "fewer than 5"); the table beside the chart shows them with their reason. The same
spec is drawn in the browser by the Vega bundle Polku serves, and rendered to SVG or PNG on
the server (:func:`svg`, :func:`png`) for the exports.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import altair as alt
from flask_babel import get_locale
from flask_babel import gettext as _

PALETTE = ["#0b5cad", "#b2432f", "#2e7d32", "#6a3d9a", "#8a6d00", "#00707a", "#5d4037"]
"""Colours with at least 3:1 contrast against white, for marks (WCAG 1.4.11)."""
WIDTH = 520


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    spec: dict[str, Any]
    alt: str
    points: int
    """Data points drawn: what a browser test expects to find in the SVG."""


def value(cell: Any) -> Any:
    """A cell's value when it may be shown, else None."""
    if not isinstance(cell, dict) or cell.get("suppressed"):
        return None
    return cell.get("value")


ROWS = "rows"
"""The one named dataset of every chart: the template refers to it, :func:`_filled` fills it."""


def _spec(chart: Any) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec.setdefault("config", {}).update(
        {
            "font": "DejaVu Sans",
            "range": {"category": PALETTE},
            "axis": {"labelColor": "#1b1b1b", "titleColor": "#1b1b1b"},
            "legend": {"labelColor": "#1b1b1b", "titleColor": "#1b1b1b"},
            "title": {"color": "#1b1b1b"},
        }
    )
    return spec


def _data() -> alt.NamedData:
    return alt.NamedData(ROWS)


def _filled(template: str, rows: Iterable[dict[str, Any]], *texts: Any) -> dict[str, Any]:
    """The chart ``template`` (built with altair once per language and texts, then kept) with
    ``rows`` as its data. Building through altair costs tens of milliseconds a chart; filling
    a kept template costs next to nothing."""
    spec = dict(_template(template, str(get_locale()), texts))  # the kept one stays untouched
    spec["datasets"] = {ROWS: list(rows)}
    return spec


@functools.lru_cache(maxsize=512)
def _template(template: str, locale: str, texts: tuple[Any, ...]) -> dict[str, Any]:
    return _spec(TEMPLATES[template](*texts))


def _funnel() -> Any:
    return (
        alt.Chart(_data())
        .mark_bar(color=PALETTE[0])
        .encode(
            y=alt.Y("stage:N", sort=None, title=_("Stage")),
            x=alt.X("people:Q", title=_("People")),
            tooltip=["stage:N", "people:Q"],
        )
        .properties(width=WIDTH, title=_("Funnel"))
    )


def funnel(view: dict[str, Any], stage_names: dict[str, str]) -> Chart:
    rows = [
        {"stage": stage_names.get(stage, stage), "people": value(view["stages"].get(stage))}
        for stage in stage_names
    ]
    shown = [r for r in rows if r["people"] is not None]
    alt_text = _("Funnel: ") + "; ".join(f"{r['stage']} {r['people']}" for r in shown)
    return Chart("funnel", _("Funnel"), _filled("funnel", shown), alt_text, len(shown))


def _attendance() -> Any:
    return (
        alt.Chart(_data())
        .mark_bar()
        .encode(
            x=alt.X("session:N", sort=alt.EncodingSortField("order"), title=_("Session")),
            y=alt.Y("rate:Q", title=_("Attendance rate"), axis=alt.Axis(format="%")),
            color=alt.Color("mode:N", title=_("Delivery")),
            tooltip=["session:N", "mode:N", alt.Tooltip("rate:Q", format=".0%")],
        )
        .properties(width=WIDTH, title=_("Attendance per session"))
    )


def attendance_sessions(view: dict[str, Any], mode_names: dict[str, str]) -> Chart:
    rows = []
    for index, session in enumerate(view["attendance"]["sessions"], start=1):
        rate = value(session.get("rate"))
        if rate is None:
            continue
        rows.append(
            {
                "session": f"{index}. {session['title']}"[:48],
                "order": index,
                "rate": rate,
                "mode": mode_names.get(session["delivery"], session["delivery"]),
            }
        )
    alt_text = _("Attendance rate per session: ") + "; ".join(
        f"{r['session']} ({r['mode']}) {r['rate']:.0%}" for r in rows
    )
    spec = _filled("attendance", rows)
    return Chart("attendance", _("Attendance per session"), spec, alt_text, len(rows))


def _modes() -> Any:
    return (
        alt.Chart(_data())
        .mark_bar(color=PALETTE[2])
        .encode(
            y=alt.Y("mode:N", title=_("Delivery")),
            x=alt.X("rate:Q", title=_("Attendance rate"), axis=alt.Axis(format="%")),
            tooltip=["mode:N", "sessions:Q", alt.Tooltip("rate:Q", format=".0%")],
        )
        .properties(width=WIDTH, title=_("Attendance by delivery mode"))
    )


def attendance_modes(view: dict[str, Any], mode_names: dict[str, str]) -> Chart:
    rows = []
    for mode, figures in view["attendance"]["by_delivery"].items():
        rate = value(figures.get("rate"))
        if rate is not None:
            rows.append(
                {"mode": mode_names.get(mode, mode), "rate": rate, "sessions": figures["sessions"]}
            )
    alt_text = _("Attendance by delivery mode: ") + "; ".join(
        f"{r['mode']} {r['rate']:.0%} ({r['sessions']})" for r in rows
    )
    spec = _filled("modes", rows)
    return Chart("modes", _("Attendance by delivery mode"), spec, alt_text, len(rows))


def growth_rows(instrument: dict[str, Any], group_names: dict[str, str]) -> list[dict[str, Any]]:
    """The paired changes that may be shown, one per dimension, rater group and wave pair."""
    labels = {d["key"]: d["label"] for d in instrument["dimensions"]}
    rows = []
    for change in instrument["changes"]:
        mean, low, high = (value(change.get(k)) for k in ("improvement", "ci_low", "ci_high"))
        if mean is None or low is None or high is None:
            continue
        rows.append(
            {
                "dimension": labels.get(change["dimension"], change["dimension"]),
                "group": group_names.get(change["rater_group"], change["rater_group"]),
                "waves": f"{change['from']} → {change['to']}",
                "change": mean,
                "low": low,
                "high": high,
                "d_z": value(change.get("d_z")),
            }
        )
    return rows


def _growth(title: str) -> Any:
    base = alt.Chart(_data()).encode(
        y=alt.Y("dimension:N", title=None),
        yOffset=alt.YOffset("group:N"),
        color=alt.Color("group:N", title=_("Rater group")),
    )
    whiskers = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title=_("Paired change with the 95 percent interval (scale points)")),
        x2="high:Q",
    )
    points = base.mark_point(filled=True, size=60, shape="circle").encode(
        x="change:Q",
        tooltip=[
            "dimension:N",
            "group:N",
            "waves:N",
            alt.Tooltip("change:Q", format=".2f"),
            alt.Tooltip("low:Q", format=".2f"),
            alt.Tooltip("high:Q", format=".2f"),
            alt.Tooltip("d_z:Q", format=".2f"),
        ],
    )
    zero = base.mark_rule(color="#4a4a4a", strokeDash=[4, 3], aria=False).encode(
        x=alt.datum(0), y=alt.Y(), yOffset=alt.YOffset(), color=alt.Color()
    )
    return alt.layer(zero, whiskers, points).properties(width=WIDTH, title=title)


def growth(instrument: dict[str, Any], group_names: dict[str, str]) -> Chart:
    rows = growth_rows(instrument, group_names)
    title = _("Growth: %(name)s", name=instrument["name"])
    alt_text = _("Forest plot of the paired change per dimension and rater group: ") + "; ".join(
        f"{r['dimension']}, {r['group']}: {r['change']:+.2f} [{r['low']:.2f}, {r['high']:.2f}]"
        for r in rows
    )
    key = f"growth-{instrument['instrument_id'][:8]}"
    return Chart(key, title, _filled("growth", rows, title), alt_text, len(rows))


def _reaction(title: str) -> Any:
    return (
        alt.Chart(_data())
        .mark_bar()
        .encode(
            y=alt.Y("item:N", sort=None, title=None),
            x=alt.X(
                "count:Q",
                stack="normalize",
                title=_("Share of answers"),
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("answer:O", title=_("Answer"), scale=alt.Scale(scheme="blues")),
            order=alt.Order("answer:O"),
            tooltip=["item:N", "answer:O", "count:Q"],
        )
        .properties(width=WIDTH, title=title)
    )


def reaction(instrument: dict[str, Any]) -> Chart:
    rows = []
    for item in instrument["items"]:
        counts = value(item.get("distribution"))
        if not counts:
            continue
        for answer, count in counts.items():
            rows.append({"item": item["label"], "answer": str(answer), "count": count})
    title = _("Reaction: %(name)s", name=instrument["name"])
    items = sorted({r["item"] for r in rows})
    alt_text = _("Distribution of answers per item: ") + "; ".join(
        f"{item}: " + ", ".join(f"{r['answer']}={r['count']}" for r in rows if r["item"] == item)
        for item in items
    )
    key = f"reaction-{instrument['instrument_id'][:8]}"
    return Chart(key, _("Reaction survey"), _filled("reaction", rows, title), alt_text, len(rows))


def _staff_survey(organisation: str) -> Any:
    base = alt.Chart().encode(x=alt.X("year:O", title=_("Year")))
    lines = (
        base.mark_line(point=True)
        .encode(
            y=alt.Y("value:Q", title=_("Index"), scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", title=_("Unit")),
            strokeDash=alt.condition(
                alt.datum.series == organisation, alt.value([5, 3]), alt.value([1, 0])
            ),
            tooltip=["index:N", "series:N", "year:O", alt.Tooltip("value:Q", format=".2f")],
        )
        .transform_filter(alt.datum.kind == "line")
    )
    rules = base.mark_rule(color="#4a4a4a", strokeDash=[2, 2], aria=False).transform_filter(
        alt.datum.kind == "mark"
    )
    return (
        alt.layer(rules, lines, data=_data())
        .properties(width=210, height=160)
        .facet(facet=alt.Facet("index:N", title=None), columns=3)
        .properties(title=_("Staff survey: the participants' units against the organisation"))
    )


def staff_survey(instrument: dict[str, Any], cohort_year: int) -> Chart:
    labels = {i["key"]: i["label"] for i in instrument["indices"]}
    organisation = _("Organisation")
    rows: list[dict[str, Any]] = []
    series = [(unit["unit"], unit["years"]) for unit in instrument["units"]]
    series += [(organisation, org["years"]) for org in instrument["organisations"]]
    for name, years in series:
        for year in years:
            for index, cell in year["values"].items():
                v = value(cell)
                if v is not None:
                    rows.append(
                        {
                            "index": labels.get(index, index),
                            "year": year["year"],
                            "series": name,
                            "value": v,
                            "kind": "line",
                        }
                    )
    points = len(rows)
    for index in labels.values():
        for year in (instrument.get("before_year"), cohort_year):
            if year is not None:
                rows.append({"index": index, "year": year, "kind": "mark"})
    alt_text = _(
        "Staff-survey indices by year for %(units)d units and the organisation, before year "
        "%(before)s and cohort year %(year)s marked.",
        units=len(instrument["units"]),
        before=instrument.get("before_year"),
        year=cohort_year,
    )
    key = f"staff-{instrument['instrument_id'][:8]}"
    spec = _filled("staff", rows, organisation)
    return Chart(key, _("Staff survey"), spec, alt_text, points)


def _mobility(title: str) -> Any:
    base = alt.Chart(_data()).encode(
        x=alt.X("months:Q", title=_("Months after the cohort ended")),
        color=alt.Color("group:N", title=_("Group")),
    )
    band = base.mark_area(opacity=0.2, interpolate="step-after").encode(
        y=alt.Y(
            "low:Q",
            title=_("Not yet moved (Kaplan–Meier)"),  # noqa: RUF001
            scale=alt.Scale(domain=[0, 1]),
        ),
        y2="high:Q",
    )
    line = base.mark_line(interpolate="step-after", point=True).encode(
        y="survival:Q",
        tooltip=[
            "group:N",
            alt.Tooltip("months:Q", format=".1f"),
            alt.Tooltip("survival:Q", format=".2f"),
            alt.Tooltip("low:Q", format=".2f"),
            alt.Tooltip("high:Q", format=".2f"),
        ],
    )
    return alt.layer(band, line).properties(width=WIDTH, title=title)


def mobility(view: dict[str, Any], outcome: str, title: str) -> Chart:
    groups = {"participants": _("Participants"), "comparison": _("Comparison group")}
    rows = []
    for group, label in groups.items():
        for step in value(view[group][outcome].get("curve")) or []:
            rows.append(
                {
                    "group": label,
                    "months": step["months"],
                    "survival": step["survival"],
                    "low": step["ci_low"],
                    "high": step["ci_high"],
                }
            )
    alt_text = (
        title
        + ": "
        + "; ".join(f"{r['group']} {r['months']:.0f} m {r['survival']:.2f}" for r in rows)
    )
    return Chart(f"km-{outcome}", title, _filled("mobility", rows, title), alt_text, len(rows))


def _network() -> Any:
    return (
        alt.Chart(_data())
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=_("Peer group")),
            yOffset="measure:N",
            x=alt.X("count:Q", title=_("Spanned")),
            color=alt.Color("measure:N", title=None),
            tooltip=["group:N", "measure:N", "count:Q"],
        )
        .properties(width=WIDTH, title=_("Departments and units each peer group spans"))
    )


def network(view: dict[str, Any]) -> Chart:
    rows = []
    for group in view["groups"]:
        for measure, label in (("departments", _("Departments")), ("units", _("Units"))):
            v = value(group.get(measure))
            if v is not None:
                rows.append({"group": group["name"], "measure": label, "count": v})
    alt_text = _("Departments and units per peer group: ") + "; ".join(
        f"{r['group']} {r['measure']} {r['count']}" for r in rows
    )
    return Chart("network", _("Network"), _filled("network", rows), alt_text, len(rows))


def _person_growth() -> Any:
    return (
        alt.Chart(_data())
        .mark_point(filled=True, size=70)
        .encode(
            y=alt.Y("dimension:N", title=None),
            x=alt.X("change:Q", title=_("Change, baseline to post (scale points)")),
            color=alt.Color("group:N", title=_("Rater group")),
            tooltip=["dimension:N", "group:N", "change:Q"],
        )
        .properties(width=WIDTH, title=_("Own growth"))
    )


def person_growth(view: dict[str, Any], group_names: dict[str, str]) -> Chart | None:
    rows = []
    for instrument in view["instruments"]:
        for change in instrument.get("changes", []):
            if change.get("improvement") is None:
                continue
            rows.append(
                {
                    "dimension": change["dimension"],
                    "group": group_names.get(change["rater_group"], change["rater_group"]),
                    "change": change["improvement"],
                }
            )
    if not rows:
        return None
    alt_text = _("Own change per dimension and rater group: ") + "; ".join(
        f"{r['dimension']}, {r['group']}: {r['change']:+.2f}" for r in rows
    )
    spec = _filled("person-growth", rows)
    return Chart("person-growth", _("Own growth"), spec, alt_text, len(rows))


TEMPLATES: dict[str, Callable[..., Any]] = {
    "funnel": _funnel,
    "attendance": _attendance,
    "modes": _modes,
    "growth": _growth,
    "reaction": _reaction,
    "staff": _staff_survey,
    "mobility": _mobility,
    "network": _network,
    "person-growth": _person_growth,
}
"""Each chart's altair builder, by template name; its arguments are the texts it shows."""


@functools.lru_cache(maxsize=256)
def _svg(spec_json: str) -> str:
    import vl_convert

    return str(vl_convert.vegalite_to_svg(json.loads(spec_json)))


@functools.lru_cache(maxsize=64)
def _png(spec_json: str, scale: float) -> bytes:
    import vl_convert

    return bytes(vl_convert.vegalite_to_png(json.loads(spec_json), scale=scale))


def svg(chart: Chart) -> str:
    """The chart as a static SVG, rendered on the server."""
    return _svg(json.dumps(chart.spec, sort_keys=True))


def png(chart: Chart, scale: float = 2.0) -> bytes:
    return _png(json.dumps(chart.spec, sort_keys=True), scale)
