"""Response schemas of the mobility figures with their uncertainty: counts of movers,
competing-risk incidence, the difference's interval, log-rank tests and the balance table."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.tracking.api.schemas import cell, cells


class MovedCounts(Schema):
    by_view_date = cell(metadata={"description": "People with the event by the view date."})
    within = cells(
        metadata={"description": "With the event within 6, 12, 24 months (keys), once all were"
                  " followed that long; a count below the minimum is suppressed."}
    )  # fmt: skip


class CompetingRisk(Schema):
    cumulative_incidence = cells(
        metadata={"description": "Aalen-Johansen share with the event by 6, 12, 24 months,"
                  " leaving the state competing (a share of the whole group)."}
    )  # fmt: skip
    left_state = cells(metadata={"description": "Aalen-Johansen share who left the state first."})


class Competing(Schema):
    first_move = fields.Nested(
        CompetingRisk, metadata={"description": "A first move within the state (not leaving)."}
    )
    first_rotation = fields.Nested(CompetingRisk, metadata={"description": "A first rotation."})


class Bounds(Schema):
    ci_low = cell()
    ci_high = cell()


def bounds(description: str) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(), values=fields.Nested(Bounds), metadata={"description": description}
    )


class DifferenceInterval(Schema):
    first_move = bounds("95% interval of the difference, by months: difference +- 1.96 *"
                        " sqrt(sum of the groups' Greenwood variances).")  # fmt: skip
    first_rotation = bounds("As first_move.")
    retention = bounds("As first_move.")


class LogRank(Schema):
    statistic = cell(metadata={"description": "SciPy's signed z: > 0, participants sooner."})
    p_value = cell(metadata={"description": "Two-sided."})


class LogRanks(Schema):
    first_move = fields.Nested(LogRank)
    first_rotation = fields.Nested(LogRank)
    left_state = fields.Nested(LogRank)


class BalanceGroup(Schema):
    count = cell()
    share = cell()


class BalanceRow(Schema):
    attribute = fields.String(metadata={"description": "department, role, profession, education."})
    category = fields.String(
        allow_none=True,
        metadata={"description": "A value; `other` pools those with fewer than the minimum"
                  " participants; null: not registered."},
    )  # fmt: skip
    participants = fields.Nested(BalanceGroup, metadata={"description": "Every participant."})
    matched = fields.Nested(BalanceGroup, metadata={"description": "Their matched controls."})
    comparison = fields.Nested(
        BalanceGroup, metadata={"description": "The whole comparison group."}
    )
    smd_matched = cell(metadata={"description": "Standardised difference of shares, participants"
                                 " minus matched controls."})  # fmt: skip
    smd_comparison = cell(metadata={"description": "The same against the whole comparison group."})
