"""The dashboard's charts as Vega-Lite specifications, built with altair from the views' JSON.

Each builder takes a view as tracking answered it and returns a :class:`Chart`: its spec (a
template of :mod:`.chart_templates` filled with the view's rows), a text alternative, and how
many data points it draws. Suppressed cells never become marks (a chart
cannot show "fewer than 5"); the table beside the chart shows them with their reason. The same
spec is drawn in the browser by the Vega bundle Polku serves, and rendered to SVG or PNG on
the server (:func:`svg`, :func:`png`) for the exports.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from services.workspace.chart_templates import ROWS, TEMPLATES, spec_of


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


def _filled(template: str, rows: Iterable[dict[str, Any]], *texts: Any) -> dict[str, Any]:
    """The chart ``template`` (built with altair once per language and texts, then kept) with
    ``rows`` as its data. Building through altair costs tens of milliseconds a chart; filling
    a kept template costs next to nothing."""
    spec = dict(_template(template, str(get_locale()), texts))  # the kept one stays untouched
    spec["datasets"] = {ROWS: list(rows)}
    return spec


@functools.lru_cache(maxsize=512)
def _template(template: str, locale: str, texts: tuple[Any, ...]) -> dict[str, Any]:
    return spec_of(TEMPLATES[template](*texts))


def funnel(view: dict[str, Any], stage_names: dict[str, str]) -> Chart:
    rows = [
        {"stage": stage_names.get(stage, stage), "people": value(view["stages"].get(stage))}
        for stage in stage_names
    ]
    shown = [r for r in rows if r["people"] is not None]
    alt_text = _("Funnel: ") + "; ".join(f"{r['stage']} {r['people']}" for r in shown)
    return Chart("funnel", _("Funnel"), _filled("funnel", shown), alt_text, len(shown))


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


def growth(instrument: dict[str, Any], group_names: dict[str, str]) -> Chart:
    rows = growth_rows(instrument, group_names)
    title = _("Growth: %(name)s", name=instrument["name"])
    alt_text = _("Forest plot of the paired change per dimension and rater group: ") + "; ".join(
        f"{r['dimension']}, {r['group']}: {r['change']:+.2f} [{r['low']:.2f}, {r['high']:.2f}]"
        for r in rows
    )
    key = f"growth-{instrument['instrument_id'][:8]}"
    return Chart(key, title, _filled("growth", rows, title), alt_text, len(rows))


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


@functools.lru_cache(maxsize=256)
def _svg(spec_json: str) -> str:
    import vl_convert

    return str(vl_convert.vegalite_to_svg(json.loads(spec_json)))


@functools.lru_cache(maxsize=64)
def _png(spec_json: str, scale: float) -> bytes:
    import vl_convert

    return bytes(vl_convert.vegalite_to_png(json.loads(spec_json), scale=scale))


def warm_renderer() -> None:
    """Starts vl-convert's JavaScript engine with a one-point chart."""
    import vl_convert

    vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{}]}})


@functools.lru_cache(maxsize=64)
def _jpeg(spec_json: str, scale: float) -> bytes:
    from PIL import Image

    picture = Image.open(io.BytesIO(_png(spec_json, scale))).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def svg(chart: Chart) -> str:
    """The chart as a static SVG, rendered on the server."""
    return _svg(json.dumps(chart.spec, sort_keys=True))


PNG_SCALE = 1.5
"""Sharp enough for a slide or A4, small enough to print fast; the report and the chart
downloads share one rendering."""


def png(chart: Chart, scale: float = PNG_SCALE) -> bytes:
    return _png(json.dumps(chart.spec, sort_keys=True), scale)


def jpeg(chart: Chart, scale: float = PNG_SCALE) -> bytes:
    """The PNG as JPEG: WeasyPrint embeds a JPEG as it is, a PNG it decodes and compresses
    again (a third of the report's time)."""
    return _jpeg(json.dumps(chart.spec, sort_keys=True), scale)
