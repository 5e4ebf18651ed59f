"""Instruments: what is measured, on which scale, under which privacy policy, and in which version.

An instrument's *definition* (dimensions, scale, privacy policy, minimum group sizes, partial
answers, style categories, free-text questions, comment minimum) is frozen once any result,
profile, staff-survey result or reaction token exists for it: a change then means a new
instrument version, a new aggregate of the same ``family`` with ``instrument_version`` one up,
linked by ``previous_id``. (``instrument_version`` counts editions of the questionnaire; the
aggregate's own ``version`` counts its events, as everywhere in Polku.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.assessment.domain import Meta
from services.assessment.domain.scales import (
    KEY,
    DimensionsInvalid,
    check_dimensions,
    check_scale,
    check_scores,
    score_problems,
)
from shared.errors import ConflictError, RuleViolation

KINDS = (
    "behaviour_assessment",
    "style_analysis",
    "self_assessment",
    "reaction_survey",
    "staff_survey",
)
PRIVACY = ("named", "pseudonymous", "anonymous")
RATER_GROUPS = ("self", "manager", "peer", "direct_report", "coach")
DEFAULT_RATER_MINIMUMS = {"self": 1, "manager": 1, "peer": 3, "direct_report": 3, "coach": 1}
DEFAULT_MIN_GROUP_SIZE = 5
DEFAULT_COMMENT_MINIMUM = 5
DEFAULT_STAFF_INDICES = (
    ("competence_learning_renewal", "Competence, learning and renewal"),
    ("wellbeing_at_work", "Well-being at work"),
    ("own_work", "Own work"),
    ("work_community", "Work community"),
    ("leadership", "Leadership"),
)
PERSONAL_KINDS = ("behaviour_assessment", "style_analysis", "self_assessment")
"""Kinds whose answers belong to a person: never anonymous."""
AGGREGATE_KINDS = ("reaction_survey", "staff_survey")
"""Kinds whose answers never belong to a person: always anonymous."""


class InstrumentInvalid(RuleViolation):
    pass


class InstrumentFrozen(ConflictError):
    """Results exist, so the definition may no longer change: define a new version."""


class InstrumentRetired(ConflictError):
    pass


class AlreadySuperseded(ConflictError):
    pass


class WrongInstrumentKind(RuleViolation):
    pass


class RaterGroupInvalid(RuleViolation):
    pass


def build_definition(kind: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The full definition of an instrument of ``kind``: checked, with defaults filled in."""
    if kind not in KINDS:
        raise InstrumentInvalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    privacy = given.get("privacy") or ("anonymous" if kind in AGGREGATE_KINDS else "pseudonymous")
    if privacy not in PRIVACY:
        raise InstrumentInvalid(f"privacy must be one of {', '.join(PRIVACY)}", field="privacy")
    if kind in AGGREGATE_KINDS and privacy != "anonymous":
        raise InstrumentInvalid(f"a {kind} is always anonymous", field="privacy")
    if kind in PERSONAL_KINDS and privacy == "anonymous":
        raise InstrumentInvalid(
            f"a {kind}'s results belong to a person, so it cannot be anonymous", field="privacy"
        )
    raw_dimensions = given.get("dimensions")
    if kind == "staff_survey" and not raw_dimensions:
        raw_dimensions = [{"key": k, "label": label} for k, label in DEFAULT_STAFF_INDICES]
    dimensions = check_dimensions(raw_dimensions or [], allow_empty=kind == "style_analysis")
    scale = check_scale(given.get("scale") or {})
    min_group_size = given.get("min_group_size", DEFAULT_MIN_GROUP_SIZE)
    _check_minimum(min_group_size, "min_group_size")
    minimums = dict(DEFAULT_RATER_MINIMUMS)
    for group, minimum in (given.get("rater_group_minimums") or {}).items():
        if group not in RATER_GROUPS:
            raise InstrumentInvalid(
                f"no rater group {group!r}; expected {', '.join(RATER_GROUPS)}",
                field=f"rater_group_minimums.{group}",
            )
        _check_minimum(minimum, f"rater_group_minimums.{group}")
        minimums[group] = minimum
    categories = [str(c) for c in given.get("style_categories") or []]
    if kind == "style_analysis":
        if len(categories) < 2 or len(set(categories)) != len(categories):
            raise InstrumentInvalid(
                "a style analysis names at least two distinct style categories",
                field="style_categories",
            )
    elif categories:
        raise InstrumentInvalid(
            "only a style analysis has style categories", field="style_categories"
        )
    questions = check_dimensions(
        given.get("free_text_questions") or [], "free_text_questions", allow_empty=True
    )
    if questions and kind != "reaction_survey":
        raise InstrumentInvalid(
            "only a reaction survey has free-text questions", field="free_text_questions"
        )
    comment_minimum = given.get("comment_minimum", DEFAULT_COMMENT_MINIMUM)
    _check_minimum(comment_minimum, "comment_minimum")
    return {
        "dimensions": dimensions,
        "scale": scale,
        "privacy": privacy,
        "min_group_size": min_group_size,
        "rater_group_minimums": minimums,
        "allows_partial": bool(given.get("allows_partial", False)),
        "style_categories": categories,
        "free_text_questions": [{"key": q["key"], "label": q["label"]} for q in questions],
        "comment_minimum": comment_minimum,
    }


def _check_minimum(value: Any, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise InstrumentInvalid(
            "a minimum group size is a whole number from 1 to 1000", field=field
        )


class Instrument(Aggregate):
    TOPIC = "polku.assessment:Instrument"

    class Event(Aggregate.Event):
        TOPIC = "polku.assessment:Instrument.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.assessment:Instrument.Created"

    @classmethod
    def define(cls, name: str, kind: str, given: Mapping[str, Any], meta: Meta) -> Instrument:
        definition = build_definition(kind, given)
        return cls(name, kind, 1, None, None, definition, meta)

    @event("Defined", topic="polku.assessment:Instrument.Defined")
    def __init__(
        self,
        name: str,
        kind: str,
        instrument_version: int,
        family_id: UUID | None,
        previous_id: UUID | None,
        definition: dict[str, Any],
        meta: Meta,
    ) -> None:
        self.name = name
        self.kind = kind
        self.instrument_version = instrument_version
        self.family_id = family_id or self.id
        self.previous_id = previous_id
        self.definition = definition
        self.in_use = False
        self.retired = False
        self.retirement_reason: str | None = None
        self.superseded_by: UUID | None = None

    # Reading the definition --------------------------------------------------------------

    @property
    def dimensions(self) -> list[dict[str, Any]]:
        return self.definition["dimensions"]  # type: ignore[no-any-return]

    @property
    def dimension_keys(self) -> list[str]:
        return [d["key"] for d in self.dimensions]

    @property
    def scale(self) -> dict[str, Any]:
        return self.definition["scale"]  # type: ignore[no-any-return]

    @property
    def privacy(self) -> str:
        return self.definition["privacy"]  # type: ignore[no-any-return]

    @property
    def min_group_size(self) -> int:
        return self.definition["min_group_size"]  # type: ignore[no-any-return]

    @property
    def rater_group_minimums(self) -> dict[str, int]:
        return self.definition["rater_group_minimums"]  # type: ignore[no-any-return]

    @property
    def allows_partial(self) -> bool:
        return bool(self.definition["allows_partial"])

    @property
    def style_categories(self) -> list[str]:
        return self.definition["style_categories"]  # type: ignore[no-any-return]

    @property
    def free_text_questions(self) -> list[dict[str, Any]]:
        return self.definition["free_text_questions"]  # type: ignore[no-any-return]

    @property
    def comment_minimum(self) -> int:
        return self.definition["comment_minimum"]  # type: ignore[no-any-return]

    # Rules ------------------------------------------------------------------------------

    def check_kind(self, *kinds: str, field: str = "instrument_id") -> None:
        if self.kind not in kinds:
            raise WrongInstrumentKind(
                f"instrument {self.id} is a {self.kind}; this needs a {' or '.join(kinds)}",
                field=field,
            )

    def check_not_retired(self) -> None:
        if self.retired:
            raise InstrumentRetired(
                f"instrument {self.id} is retired and takes no new answers", field="instrument_id"
            )

    def check_rater_group(self, rater_group: str) -> None:
        if rater_group not in RATER_GROUPS:
            raise RaterGroupInvalid(
                f"rater_group must be one of {', '.join(RATER_GROUPS)}", field="rater_group"
            )
        if self.kind == "self_assessment" and rater_group != "self":
            raise RaterGroupInvalid(
                "a self-assessment has only the self as rater", field="rater_group"
            )

    def check_scores(self, scores: Mapping[str, Any], field: str = "scores") -> dict[str, float]:
        return check_scores(self.scale, self.dimensions, scores, self.allows_partial, field)

    def score_problems(self, scores: Mapping[str, Any], field: str = "scores") -> list[Any]:
        """Every problem with ``scores`` (``check_scores`` raises only the first)."""
        return score_problems(self.scale, self.dimensions, scores, self.allows_partial, field)

    def check_style(self, style: str, field: str) -> None:
        if style not in self.style_categories:
            raise WrongInstrumentKind(
                f"{style!r} is not a style of this instrument; expected one of "
                f"{', '.join(self.style_categories)}",
                field=field,
            )

    def check_revision(self, definition: Mapping[str, Any]) -> None:
        if not self.in_use:
            return
        changed = sorted(k for k, v in definition.items() if self.definition.get(k) != v)
        if changed:
            raise InstrumentFrozen(
                f"answers have been recorded with this instrument, so its {', '.join(changed)} "
                "can no longer change; define a new version instead",
                field=changed[0],
            )

    # Changes ----------------------------------------------------------------------------

    def revise(self, name: str | None, changes: Mapping[str, Any], meta: Meta) -> None:
        """Changes the name, and the definition while no answers exist (else 409). A revision
        that changes nothing (an empty body, or the values it has) records nothing."""
        self.check_not_retired()
        definition = build_definition(self.kind, {**self.definition, **changes})
        if (name or self.name, definition) == (self.name, self.definition):
            return
        self.check_revision(definition)
        self._revised(name or self.name, definition, meta)

    @event("Revised", topic="polku.assessment:Instrument.Revised")
    def _revised(self, name: str, definition: dict[str, Any], meta: Meta) -> None:
        self.name = name
        self.definition = definition

    def next_version(self, name: str | None, changes: Mapping[str, Any], meta: Meta) -> Instrument:
        """A new version of this instrument, which this one records as superseding it."""
        if self.superseded_by is not None:
            raise AlreadySuperseded(
                f"instrument {self.id} already has a newer version, {self.superseded_by}; "
                "make a new version of that one"
            )
        definition = build_definition(self.kind, {**self.definition, **changes})
        successor = Instrument(
            name or self.name,
            self.kind,
            self.instrument_version + 1,
            self.family_id,
            self.id,
            definition,
            meta,
        )
        self._superseded(successor.id, meta)
        return successor

    @event("Superseded", topic="polku.assessment:Instrument.Superseded")
    def _superseded(self, successor_id: UUID, meta: Meta) -> None:
        self.superseded_by = successor_id

    def put_in_use(self, meta: Meta) -> None:
        """The first answer freezes the definition; later answers change nothing here."""
        if not self.in_use:
            self._taken_into_use(meta)

    @event("TakenIntoUse", topic="polku.assessment:Instrument.TakenIntoUse")
    def _taken_into_use(self, meta: Meta) -> None:
        self.in_use = True

    def retire(self, reason: str, meta: Meta) -> None:
        self.check_not_retired()
        self._retired(reason, meta)

    @event("Retired", topic="polku.assessment:Instrument.Retired")
    def _retired(self, reason: str, meta: Meta) -> None:
        self.retired = True
        self.retirement_reason = reason


__all__ = [
    "KEY",
    "KINDS",
    "PRIVACY",
    "RATER_GROUPS",
    "AlreadySuperseded",
    "DimensionsInvalid",
    "Instrument",
    "InstrumentFrozen",
    "InstrumentInvalid",
    "InstrumentRetired",
    "RaterGroupInvalid",
    "WrongInstrumentKind",
    "build_definition",
]
