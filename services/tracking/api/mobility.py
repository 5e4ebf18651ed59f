"""Career views of a cohort: mobility against a comparison group, and the peer-group network."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import Schema, fields

from services.tracking.api.arguments import ViewArgs, text_filter
from services.tracking.api.base import (
    CSV_DOC,
    VIEWERS,
    cohort_cursor,
    individual,
    memo,
    policy,
    record,
    releases,
    respond,
    view_date,
)
from services.tracking.api.mobility_figures import (
    BalanceRow,
    Competing,
    DifferenceInterval,
    LogRanks,
    MovedCounts,
)
from services.tracking.api.schemas import CohortHeader, cell, cells
from services.tracking.views import mobility, network
from shared.events.people import SCOPES
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import requires

blp = Blueprint(
    "tracking-careers",
    __name__,
    url_prefix="/tracking/cohorts",
    description="Career views: mobility after a cohort, and the network its peer groups built.",
)


def _filter(what: str) -> fields.String:
    return text_filter(f"Only comparison-group members whose {what} (exact match).")


class MobilityArgs(ViewArgs):
    department = _filter("department on the cohort's end date is this")
    profession = _filter("profession category is this")
    role = _filter("role is this")


class MobilityCurvePoint(Schema):
    days = fields.Integer(metadata={"description": "Days since the cohort's end."})
    months = fields.Float(metadata={"description": "days / 30.4375, 2 decimals."})
    survival = fields.Float(allow_none=True, metadata={"description": "Share not yet moved."})
    cumulative_incidence = fields.Float(allow_none=True, metadata={"description": "1 - survival."})
    ci_low = fields.Float(allow_none=True, metadata={"description": "95% CI of survival."})
    ci_high = fields.Float(allow_none=True)
    at_risk = fields.Integer(metadata={"description": "Followed for at least this many days."})
    events = fields.Integer(metadata={"description": "First moves since the previous point."})


class MobilityCurve(Schema):
    """A suppressible cell whose value is the curve's points."""

    value = fields.List(
        fields.Nested(MobilityCurvePoint),
        allow_none=True,
        metadata={
            "description": "The origin, then whole months after it with at least the minimum"
            " first moves since the previous point."
        },
    )
    n = fields.Integer(allow_none=True, metadata={"description": "People; null if suppressed."})
    suppressed = fields.Boolean()
    reason = fields.String(allow_none=True)


class TimeToMove(Schema):
    curve = fields.Nested(
        MobilityCurve, metadata={"description": "Kaplan-Meier, censored at the view date."}
    )
    incidence = cells(
        metadata={"description": "Kaplan-Meier share moved within 6, 12 and 24 months (keys)."}
    )
    observed = cells(
        metadata={"description": "Moved within N months / people; once all were followed N months."}
    )
    median_days = cell(
        metadata={"description": "Days to the first whole month by which survival <= 0.5."}
    )
    median_months = cell(metadata={"description": "That month; null if not reached."})


class MobilityRetention(Schema):
    estimated = cells(
        metadata={"description": "1 - Kaplan-Meier share left the state, at 12 and 24 months."}
    )
    observed = cells(metadata={"description": "Not left within N months / people, when known."})


class GroupMobility(Schema):
    people = cell()
    followed = cell(metadata={"description": "People whose origin is before the view date."})
    first_move = fields.Nested(TimeToMove, metadata={"description": "Any kind of move."})
    first_rotation = fields.Nested(TimeToMove, metadata={"description": "Job rotations only."})
    scopes = cells(
        metadata={"description": "Every move after the origin by scope: " + ", ".join(SCOPES)}
    )
    retention = fields.Nested(MobilityRetention)
    moved = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(MovedCounts),
        metadata={"description": "Counts per outcome: first_move, first_rotation, left_state."},
    )
    competing = fields.Nested(
        Competing,
        metadata={"description": "Cumulative incidence with leaving the state as a competing"
                  " risk, beside the cause-specific Kaplan-Meier (docs/statistics.md)."},
    )  # fmt: skip


class MobilityDifference(Schema):
    first_move = cells(metadata={"description": "Participants minus comparison, by months."})
    first_rotation = cells()
    retention = cells()


class MatchedMobility(Schema):
    method = fields.String()
    ratio = fields.Integer(metadata={"description": "Controls per participant, at most."})
    matched_participants = cell(metadata={"description": "Participants with a control."})
    unmatched_participants = cell(metadata={"description": "Participants with none."})
    controls = cell(metadata={"description": "Matched controls."})
    balance = fields.List(fields.Nested(BalanceRow))
    comparison = fields.Nested(
        GroupMobility, metadata={"description": "The matched controls (participants: above)."}
    )
    difference = fields.Nested(MobilityDifference)
    difference_interval = fields.Nested(DifferenceInterval)
    logrank = fields.Nested(LogRanks)


class Mobility(CohortHeader):
    origin = fields.String(metadata={"description": "t0: the cohort's end date."})
    view_date = fields.String(metadata={"description": "D: as_of's date, or today (censoring)."})
    horizon_days = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "t0 + N months."}
    )
    filters = fields.Dict(keys=fields.String(), values=fields.String())
    participants = fields.Nested(GroupMobility)
    comparison = fields.Nested(GroupMobility)
    difference = fields.Nested(MobilityDifference)
    difference_interval = fields.Nested(DifferenceInterval)
    logrank = fields.Nested(
        LogRanks,
        metadata={"description": "Log-rank tests over the follow-up, on whole months since the"
                  " origin (scipy.stats.logrank)."},
    )  # fmt: skip
    matched = fields.Nested(
        MatchedMobility,
        metadata={"description": "The same figures against a matched comparison group: exact"
                  " matching, up to 3 controls per participant (docs/statistics.md)."},
    )  # fmt: skip


class NetworkPeerGroup(Schema):
    group_id = fields.String()
    name = fields.String()
    members = cell(metadata={"description": "Current members."})
    departments = cell(metadata={"description": "Distinct departments on the cohort's start."})
    units = cell(metadata={"description": "Distinct (department, unit) on the cohort's start."})
    cross_unit_ties = cell(metadata={"description": "Pairs of members in different units."})
    pairs = cell(metadata={"description": "All pairs of members."})
    cross_unit_share = cell(metadata={"description": "cross_unit_ties / pairs."})


class NetworkTotals(Schema):
    groups = fields.Integer(metadata={"description": "Peer groups of the cohort."})
    groups_counted = fields.Integer(
        metadata={"description": "Groups at or above the minimum: the only ones in these totals."}
    )
    members = cell()
    mean_departments = cell(metadata={"description": "Mean distinct departments per group."})
    mean_units = cell()
    cross_unit_share = cell(metadata={"description": "All cross-unit ties / all pairs."})


class ParticipantNetwork(Schema):
    person_id = fields.String()
    group_id = fields.String(allow_none=True)
    group_name = fields.String(allow_none=True)
    departments = fields.Integer(allow_none=True)
    units = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "Why the spans are null."})


class Network(CohortHeader):
    placed_on = fields.String(metadata={"description": "Placements are taken on this day."})
    groups = fields.List(fields.Nested(NetworkPeerGroup))
    totals = fields.Nested(NetworkTotals)
    participants = fields.List(fields.Nested(ParticipantNetwork))


@blp.route("/<uuid:cohort_id>/mobility")
class CohortMobility(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(MobilityArgs(), location="query")
    @blp.response(200, Mobility())
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc("The cohort is not known to tracking (at as_of)."))
    @blp.alt_response(
        422, **problem_doc("A bad argument, or filters whose difference would expose few people.")
    )
    def get(self, args: dict[str, Any], cohort_id: UUID) -> Any:
        """First career moves, rotation and retention after the cohort, against non-participants.

        Participants (enrolled, not withdrawn) are followed from the cohort's end date t0 to the
        view date D. Their first move after t0 (any kind, and separately the first job rotation)
        gives a Kaplan-Meier curve (scipy.stats.ecdf; those who have not moved are censored at
        D) with a 95% interval, the estimated share moved within 6, 12 and 24 calendar months,
        the observed share where everyone was followed that long, and the median time to move.
        Retention is 1 - the Kaplan-Meier share who left the state, at 12 and 24 months. Moves
        by scope count every move after t0. The comparison group is everyone placed in the
        programme's organisation on t0 and never enrolled in any cohort, narrowed by the
        filters, with the same figures; `difference` is participants minus comparison. A group
        smaller than the minimum shows suppressed cells. Filters that leave out fewer than the
        minimum of the unfiltered comparison group are refused (422); a group whose people differ
        by so few from a group released before (by anyone, for any cohort of the organisation
        followed from the same day) has its figures withheld. The curve has a point only at
        whole months after t0 with at least the minimum first moves since the last point, and
        the median is the first whole month by which half had moved.

        CSV: one row per Kaplan-Meier point.
        """
        cid = str(cohort_id)
        filters = {k: args[k] for k in mobility.FILTERS if args.get(k) is not None}
        minimum = policy().minimum
        released = releases()
        with cohort_cursor(args, cohort_id) as cur:
            kept = memo()
            chosen = mobility.groups(cur, [cid], filters, kept)
            day = view_date(args)
            view = mobility.cohort_mobility(cur, cid, chosen, minimum, day, released, kept)
        record(released)
        return respond(view, args, mobility.csv_table, f"mobility-{cohort_id}")


@blp.route("/<uuid:cohort_id>/network")
class CohortNetwork(MethodView):
    @requires(*VIEWERS)
    @blp.arguments(ViewArgs(), location="query")
    @blp.response(200, Network())
    @blp.doc(**CSV_DOC)
    @blp.alt_response(404, **problem_doc("The cohort is not known to tracking (at as_of)."))
    def get(self, args: dict[str, Any], cohort_id: UUID) -> Any:
        """How many departments and units each peer group spans, and the cross-unit ties.

        Per peer group (current members, placed as on the cohort's start date): members,
        distinct departments, distinct units, and cross-unit ties (pairs of members in different
        units) out of all pairs. Groups smaller than the minimum show suppressed cells and are
        left out of the cohort totals (members, mean departments and units per group, the
        cross-unit tie share). Per participant: their group and its spans.

        CSV: one row per peer group.
        """
        with cohort_cursor(args, cohort_id) as cur:
            view = network.network(cur, str(cohort_id), policy(), individual())
        return respond(view, args, network.csv_table, f"network-{cohort_id}")
