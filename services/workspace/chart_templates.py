"""The charts' Vega-Lite templates, built with altair: marks, encodings, titles, colours.

Each template takes only the texts it shows (titles, one series name) and reads its data from
the one named dataset :data:`ROWS`; :mod:`.charts` fills that with an answer's rows, so a
template is built once per language and kept. Colours have at least 3:1 contrast against
white (WCAG 1.4.11); decorative rules are hidden from assistive technology (``aria=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
from flask_babel import gettext as _

PALETTE = ["#0b5cad", "#b2432f", "#2e7d32", "#6a3d9a", "#8a6d00", "#00707a", "#5d4037"]
"""Colours with at least 3:1 contrast against white, for marks (WCAG 1.4.11)."""

WIDTH = 520

ROWS = "rows"
"""The one named dataset of every chart: the template refers to it, :mod:`.charts` fills it."""


def spec_of(chart: Any) -> dict[str, Any]:
    """The chart's Vega-Lite JSON with the house font and colours (not validated here: that
    costs tens of milliseconds; the unit tests validate every template)."""
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
