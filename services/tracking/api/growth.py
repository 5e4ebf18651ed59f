"""Growth views: a cohort's change per instrument, dimension, rater group and wave, and one
participant's own trajectory."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from services.tracking.api.arguments import ViewArgs, id_filter, text_filter, text_id
from services.tracking.api.base import (
    CSV_DOC,
    PERSON_READERS,
    VIEWERS,
    cohort_cursor,
    person_scope,
    policy,
    record,
    releases,
    respond,
    view_cursor,
)
from services.tracking.api.erased import GONE_DOC, refuse_erased
from services.tracking.api.headline import Headline, Multiplicity
from services.tracking.api.schemas import CohortHeader, cell
from services.tracking.api.schemas import cells as cell_map
from services.tracking.views import growth, trajectory
from services.tracking.views.privacy import check_difference
from services.tracking.views.ratings import RATER_GROUPS
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-growth",
    __name__,
    url_prefix="/tracking",
    description="Growth: change per instrument, dimension, rater group and wave.",
)


class GrowthArgs(ViewArgs):
    instrument_id = id_filter("Only this behaviour or self-assessment.")
    rater_group = fields.String(
        load_default=None,
        validate=validate.OneOf(RATER_GROUPS),
        metadata={"description": "Only this rater group: " + ", ".join(RATER_GROUPS) + "."},
    )
    department = text_filter(
        "Only participants placed in this department on the cohort's start date. Refused (422)"
        " when it leaves out fewer than the minimum of the unfiltered group; a cell whose people"
        " differ that little from those of a figure released before is withheld."
    )


class Dimension(Schema):
    key = fields.String()
    label = fields.String()
    reverse_scored = fields.Boolean(metadata={"description": "Lower is better."})


class WaveCell(Schema):
    dimension = fields.String()
    rater_group = fields.String()
    wave = fields.String(
        metadata={"description": "baseline, midpoint, post, follow_up_<months>, custom:<label>."}
    )
    n = cell(metadata={"description": "People with a counted value."})
    mean = cell(metadata={"description": "Mean of the people's rater-group values."})
    sd = cell(metadata={"description": "Sample SD (n - 1); null below 2 people."})
    ci_low = cell(metadata={"description": "95% t-interval of the mean, lower bound."})
    ci_high = cell(metadata={"description": "95% t-interval of the mean, upper bound."})


class Change(Schema):
    dimension = fields.String()
    reverse_scored = fields.Boolean()
    rater_group = fields.String()
    from_ = fields.String(
        data_key="from", attribute="from", metadata={"description": "Always baseline."}
    )
    to = fields.String(metadata={"description": "post or follow_up_<months>."})
    pairs = cell(metadata={"description": "People with a value at both waves."})
    mean_difference = cell(metadata={"description": "Mean of (later - baseline), raw scale."})
    sd_difference = cell(metadata={"description": "SD of the differences (n - 1)."})
    ci_low = cell(metadata={"description": "95% t-interval of the mean difference, lower."})
    ci_high = cell(metadata={"description": "95% t-interval of the mean difference, upper."})
    d_z = cell(metadata={"description": "Cohen's d_z = mean difference / SD of differences."})
    g_av = cell(
        metadata={"description": "Hedges' g_av = mean difference / mean of the waves' SDs,"
                  " times 1 - 3 / (4 (n - 1) - 1)."}
    )  # fmt: skip
    improvement = cell(
        metadata={"description": "Mean difference, sign flipped if reverse-scored: > 0 is better."}
    )


class InstrumentGrowth(Schema):
    instrument_id = fields.String()
    name = fields.String()
    kind = fields.String()
    minimum = fields.Integer(metadata={"description": "People a figure needs to be shown."})
    rater_group_minimums = fields.Dict(keys=fields.String(), values=fields.Integer())
    dimensions = fields.List(fields.Nested(Dimension))
    rater_groups = fields.List(fields.String())
    waves = fields.List(fields.String(), metadata={"description": "In order."})
    people = cell(metadata={"description": "Participants with results of this instrument."})
    excluded = cell_map(
        metadata={
            "description": "Per rater group: person-waves left out because fewer raters of the"
            " group scored than its minimum."
        }
    )
    cells = fields.List(fields.Nested(WaveCell))
    changes = fields.List(fields.Nested(Change))
    summary = cell_map(
        metadata={
            "description": "Per rater group: the mean improvement baseline -> post over the"
            " dimensions shown (self: L2 self-assessed growth; others: L3 behaviour change)."
        }
    )
    headline = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(Headline),
        metadata={"description": "Per rater group: the change pooled over dimensions, with its"
                  " 95% interval and Holm-adjusted p-value (docs/statistics.md)."},
    )  # fmt: skip
    confidence = fields.Float()


class Filters(Schema):
    instrument_id = fields.String(allow_none=True)
    rater_group = fields.String(allow_none=True)
    department = fields.String(allow_none=True)


class CohortGrowth(CohortHeader):
    filters = fields.Nested(Filters)
    people = cell(metadata={"description": "Participants the answer describes."})
    minimum = fields.Integer()
    instruments = fields.List(fields.Nested(InstrumentGrowth))
    multiplicity = fields.Nested(
        Multiplicity, metadata={"description": "How many headline intervals and tests are shown."}
    )


class PersonValue(Schema):
    cohort_id = fields.String(allow_none=True)
    wave = fields.String()
    rater_group = fields.String()
    dimension = fields.String()
    value = fields.Float(
        allow_none=True, metadata={"description": "The group's mean; null with the reason."}
    )
    raters = fields.Integer(metadata={"description": "Raters of the group who scored it."})
    reason = fields.String(allow_none=True)


class PersonChange(Schema):
    cohort_id = fields.String(allow_none=True)
    rater_group = fields.String()
    dimension = fields.String()
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    difference = fields.Float(metadata={"description": "Later minus baseline."})
    improvement = fields.Float(metadata={"description": "Sign flipped if reverse-scored."})


class PersonInstrument(Schema):
    instrument_id = fields.String()
    name = fields.String()
    kind = fields.String()
    minimum = fields.Integer()
    rater_group_minimums = fields.Dict(keys=fields.String(), values=fields.Integer())
    dimensions = fields.List(fields.Nested(Dimension))
    values = fields.List(fields.Nested(PersonValue))
    changes = fields.List(fields.Nested(PersonChange))


class PersonGrowth(Schema):
    person_id = fields.String()
    as_of = fields.String(allow_none=True)
    on = fields.String(allow_none=True, metadata={"description": "The on asked for, if any."})
    instruments = fields.List(fields.Nested(PersonInstrument))


@blp.route("/cohorts/<uuid:cohort_id>/growth")
class CohortGrowthView(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(GrowthArgs(), location="query")
    @blp.response(200, CohortGrowth())
    @blp.doc(**CSV_DOC)
    @blp.alt_response(
        404, **problem_doc("The cohort or instrument is not known to tracking (at as_of).")
    )
    @blp.alt_response(
        422,
        **problem_doc(
            "A bad argument, an instrument that does not measure growth, or a department filter"
            " refused because it would single out fewer than the minimum by difference."
        ),
    )
    def get(self, args: dict[str, Any], cohort_id: UUID) -> Any:
        """n, mean, SD per wave and the paired change with its 95% CI and effect size.

        The population is the cohort's participants (not withdrawn) with results of its
        behaviour and self-assessments. A person's value for a rater group is the mean over
        that group's raters, counted only when at least the instrument's rater-group minimum
        scored (else the person-wave is left out and counted in `excluded`). Per instrument x
        dimension x rater group x wave: n people, mean, SD (n - 1) and the mean's 95%
        t-interval. Per baseline -> post and baseline -> follow-up: the pairs, the mean
        difference (later - baseline, raw scale), SD of the differences, its 95% t-interval
        (scipy), and the effect size **Cohen's d_z** = mean difference / SD of the
        differences: the paired design's own standardiser, consistent with the interval
        (d_z = t / sqrt(n)). Hedges' g_av (standardised by the mean of the two waves' SDs, with
        the small-sample correction) is given for comparison with between-group studies.
        `improvement` flips the sign on reverse-scored dimensions, so positive is better.
        Every figure from fewer people than the instrument's minimum is null with the reason,
        and so is a cell whose people differ by fewer than the minimum from those of a figure
        on the same wave values shown before (in this answer, or to anyone: secondary
        suppression). The change to post is kept before the waves.

        CSV: one row per instrument x dimension x rater group x wave, then one per change.
        """
        cohort = str(cohort_id)
        instrument_id = text_id(args, "instrument_id")
        department = args.get("department")
        released = releases()
        with cohort_cursor(args, cohort_id) as cur:
            pop = growth.population(
                cur,
                [cohort],
                policy(),
                instrument_id=instrument_id,
                rater_group=args.get("rater_group"),
                department=department,
            )
            if department is not None:
                check_difference(pop.members, pop.base, pop.minimum, {"department": department})
            view = growth.growth(pop, instrument_id, released)
        record(released)
        view.update(pop.cohorts[0].header())
        view["filters"] = {
            "instrument_id": instrument_id,
            "rater_group": args.get("rater_group"),
            "department": department,
        }
        return respond(view, args, growth.csv_table, f"growth-{cohort_id}")


@blp.route("/people/<uuid:person_id>/growth")
class PersonGrowthView(MethodView):
    @requires(*PERSON_READERS)
    @blp.arguments(ViewArgs(), location="query")
    @blp.response(200, PersonGrowth())
    @blp.doc(**CSV_DOC)
    @blp.alt_response(
        404, **problem_doc("Not known to tracking (at as_of), or not in a cohort you coach.")
    )
    @blp.alt_response(410, **GONE_DOC)
    def get(self, args: dict[str, Any], person_id: UUID) -> Any:
        """One participant's own trajectory: each value per instrument, wave and rater group.

        Self ratings as given; another group's value is the mean of its raters, shown only when
        at least the instrument's minimum of that group scored (else null, with the reason).
        `changes` are the person's own differences from baseline (later - baseline), with
        `improvement` sign-flipped on reverse-scored dimensions. Participants see only
        themselves; coaches only people enrolled in a cohort they coach, and only the results
        recorded for those cohorts. Once the person is erased the trajectory is gone (410) for
        every role, even `as_of` a moment before the erasure; cohort growth keeps counting them.

        CSV: one row per value.
        """
        person = str(person_id)
        with view_cursor(args) as cur:
            scope = person_scope(cur, person, "growth")
            refuse_erased(person)
            view = trajectory.person_growth(cur, person, policy(), scope)
        return respond(view, args, trajectory.csv_table, f"growth-{person_id}")
