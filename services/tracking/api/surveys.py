"""Survey views of a cohort: the reaction survey (L1) and the staff-survey trends (L4)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import Schema, fields

from services.tracking.api.arguments import ViewArgs, id_filter, text_id
from services.tracking.api.base import (
    CSV_DOC,
    VIEWERS,
    cohort_cursor,
    memo,
    policy,
    record,
    releases,
    respond,
    view_date,
)
from services.tracking.api.schemas import CohortHeader, cell, cells
from services.tracking.views import reaction, staff_survey
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-surveys",
    __name__,
    url_prefix="/tracking/cohorts",
    description="Survey views of a cohort: reaction (L1) and staff-survey trends (L4).",
)


# Reaction ----------------------------------------------------------------------------------------


class ReactionArgs(ViewArgs):
    survey_id = id_filter("Only this survey of the cohort. Default: every survey.")


class ReactionItem(Schema):
    key = fields.String()
    label = fields.String()
    n = cell(metadata={"description": "Responses that answered the item."})
    mean = cell()
    sd = cell(metadata={"description": "Sample standard deviation (n - 1); null below 2."})
    distribution = cell(
        metadata={"description": "Responses per scale value, min..max by step: {value: count}."}
    )


class ReactionComments(Schema):
    key = fields.String()
    label = fields.String()
    texts = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "Sorted alphabetically, blanks dropped; null when withheld."},
    )
    reason = fields.String(allow_none=True, metadata={"description": "Why texts are withheld."})


class ReactionInstrument(Schema):
    instrument_id = fields.String()
    name = fields.String()
    surveys = fields.List(fields.String(), metadata={"description": "The surveys pooled."})
    closed = fields.Boolean(metadata={"description": "Every pooled survey is closed."})
    minimum = fields.Integer(metadata={"description": "Responses needed for any figure."})
    comment_minimum = fields.Integer(metadata={"description": "The instrument's own."})
    comments_from = fields.Integer(
        metadata={"description": "Responses needed for free text: max(minimum, comment_minimum)."}
    )
    issued = fields.Integer(metadata={"description": "Response tokens issued."})
    responses = cell()
    response_rate = cell(metadata={"description": "responses / issued."})
    items = fields.List(fields.Nested(ReactionItem))
    comments_shown = fields.Boolean()
    comments = fields.List(fields.Nested(ReactionComments))


class Reaction(CohortHeader):
    instruments = fields.List(fields.Nested(ReactionInstrument))


@blp.route("/<uuid:cohort_id>/reaction")
class CohortReaction(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(ReactionArgs(), location="query")
    @blp.response(200, Reaction())
    @blp.doc(**CSV_DOC)
    @blp.alt_response(
        404, **problem_doc("The cohort, or the survey in it, is not known (at as_of).")
    )
    @blp.alt_response(422, **problem_doc("A malformed argument; `errors[].field` names it."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> Any:
        """The anonymous reaction survey: item distributions, means and the response rate.

        Per reaction-survey instrument, every survey of the cohort pooled: responses, tokens
        issued and the response rate (responses / issued); per item the responses that answered
        it, the mean, the sample SD and the count per scale value. Every figure is null, with
        the reason, below the instrument's minimum group size (else the default). Free text is
        shown per question only from max(minimum, comment minimum) responses, sorted
        alphabetically so the order of arrival is lost.

        CSV: one row per item (n, mean, sd, the distribution as `value: count; ...`).
        """
        released = releases()
        with cohort_cursor(args, cohort_id) as cur:
            day, survey = view_date(args), text_id(args, "survey_id")
            view = reaction.reaction(cur, str(cohort_id), policy(), day, survey, released)
        record(released)
        return respond(view, args, reaction.csv_table, f"reaction-{cohort_id}")


# Staff survey ------------------------------------------------------------------------------------


class StaffSurveyArgs(ViewArgs):
    instrument_id = id_filter("Only this staff-survey instrument. Default: every one.")


class IndexInfo(Schema):
    key = fields.String()
    label = fields.String()


class YearValues(Schema):
    year = fields.Integer()
    values = cells(metadata={"description": "Per index; n = respondents."})


class UnitSeries(Schema):
    organisation = fields.String()
    department = fields.String()
    unit = fields.String()
    years = fields.List(fields.Nested(YearValues))


class DepartmentSeries(Schema):
    organisation = fields.String()
    department = fields.String()
    years = fields.List(fields.Nested(YearValues))


class OrganisationSeries(Schema):
    organisation = fields.String()
    years = fields.List(fields.Nested(YearValues))


class DidInterval(Schema):
    difference_ci_low = cell(
        metadata={"description": "95% interval of the difference, lower: OLS with the interaction"
                  " treated x post and unit effects (statsmodels), U - 1 df; needs 2 units."}
    )  # fmt: skip
    difference_ci_high = cell(metadata={"description": "The interval's upper bound."})
    difference_units = fields.Integer(metadata={"description": "Units behind the difference (U)."})


class AfterYear(DidInterval):
    year = fields.Integer()
    units = cell(metadata={"description": "Mean over the units of (after - before)."})
    organisation = cell(metadata={"description": "The organisation's (after - before)."})
    difference = cell(
        metadata={"description": "Mean over the units of (their change - the organisation's)."}
    )


class IndexChange(Schema):
    index = fields.String()
    label = fields.String()
    after = fields.List(fields.Nested(AfterYear))


class StaffSurveyInstrument(Schema):
    instrument_id = fields.String()
    name = fields.String()
    minimum = fields.Integer(metadata={"description": "Respondents needed for a value."})
    indices = fields.List(fields.Nested(IndexInfo))
    years = fields.List(fields.Integer(), metadata={"description": "Survey years on record."})
    before_year = fields.Integer(
        allow_none=True,
        metadata={"description": "The latest survey year before the cohort's start year."},
    )
    after_years = fields.List(
        fields.Integer(), metadata={"description": "Survey years after the cohort's end year."}
    )
    units = fields.List(fields.Nested(UnitSeries))
    departments = fields.List(fields.Nested(DepartmentSeries))
    organisations = fields.List(fields.Nested(OrganisationSeries))
    change = fields.List(fields.Nested(IndexChange))


class StaffSurvey(CohortHeader):
    units_withheld = fields.String(
        allow_none=True,
        metadata={"description": "Why no unit is listed: a cohort below the minimum."},
    )
    instruments = fields.List(fields.Nested(StaffSurveyInstrument))


@blp.route("/<uuid:cohort_id>/staff-survey")
class CohortStaffSurvey(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(StaffSurveyArgs(), location="query")
    @blp.response(200, StaffSurvey())
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc("The cohort or the instrument is not known (at as_of)."))
    @blp.alt_response(
        422, **problem_doc("A malformed argument, or an instrument that is no staff survey.")
    )
    def get(self, args: dict[str, Any], cohort_id: UUID) -> Any:
        """Staff-survey index trends of the participants' units against the organisation.

        The units are the participants' (enrolled, not withdrawn) on the cohort's start date;
        how many each sent is not shown. Per instrument, each unit's, its department's and the
        organisation's index values per year (n = respondents; null below the minimum group
        size). Before is the latest survey year before the cohort's start year; after, every
        survey year after its end year. Per index and after year: `units` = the mean over the
        units with values in both years of (after - before); `organisation` = its own (after -
        before); `difference` = the mean over those units of (unit change - organisation
        change), a difference-in-differences (= units - organisation for one organisation).

        CSV: one row per level, org unit, year and index, with the value and respondents.
        """
        instrument_id = text_id(args, "instrument_id")
        with cohort_cursor(args, cohort_id) as cur:
            view = staff_survey.staff_survey(cur, str(cohort_id), policy(), instrument_id, memo())
        return respond(view, args, staff_survey.csv_table, f"staff-survey-{cohort_id}")
