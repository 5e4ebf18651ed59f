"""Response schemas of the growth headline: the change pooled over dimensions per rater group,
its interval and Holm-adjusted p-value, and how many intervals an answer shows."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.tracking.api.schemas import cell


class Headline(Schema):
    rater_group = fields.String()
    dimensions = fields.List(
        fields.String(), metadata={"description": "The dimensions pooled: those whose change to"
                                   " post is shown."}
    )  # fmt: skip
    people = cell(metadata={"description": "People (cohort runs) with a pair on any of them."})
    mean_improvement = cell(
        metadata={"description": "Mean over people of each person's own mean improvement"
                  " baseline -> post over the dimensions (reverse-scored turned): > 0 is better."}
    )  # fmt: skip
    sd = cell(metadata={"description": "SD (n - 1) of the people's mean improvements."})
    ci_low = cell(metadata={"description": "95% t-interval over people, lower (unadjusted)."})
    ci_high = cell(metadata={"description": "95% t-interval over people, upper (unadjusted)."})
    t = cell(metadata={"description": "One-sample t statistic against 0 (n - 1 df)."})
    p_value = cell(metadata={"description": "Two-sided p-value, unadjusted."})
    p_holm = cell(
        metadata={"description": "Holm-adjusted over every headline tested in this answer"
                  " (statsmodels multipletests, method holm)."}
    )  # fmt: skip


class Multiplicity(Schema):
    intervals = fields.Integer(metadata={"description": "Headline intervals shown in the answer."})
    tests = fields.Integer(metadata={"description": "Headline p-values the Holm family holds."})
    method = fields.String(metadata={"description": "holm."})
    confidence = fields.Float()
    scope = fields.String()
