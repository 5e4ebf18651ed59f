"""Scales and dimensions: what a score may be, checked the same way for every kind of answer.

A scale is ``{min, max, step, labels}``; a value is on it when it lies within the bounds and is a
whole number of steps from the minimum. Dimensions are ``{key, label, reverse_scored}``; they
name the scores of a result, the items of a reaction survey and the indices of a staff survey.
Both are kept as plain dicts so that events store them as JSON.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from shared.errors import RuleViolation

KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_STEPS = 10_000
EPSILON = 1e-9


class ScaleInvalid(RuleViolation):
    pass


class DimensionsInvalid(RuleViolation):
    pass


class ScoreInvalid(RuleViolation):
    """A score is missing, unknown, outside the scale or off its step."""


def check_scale(scale: Mapping[str, Any], field: str = "scale") -> dict[str, Any]:
    """The scale as stored, or ScaleInvalid naming the part at fault."""
    low, high, step = scale.get("min"), scale.get("max"), scale.get("step", 1)
    for name, value in (("min", low), ("max", high), ("step", step)):
        if not _is_number(value):
            raise ScaleInvalid(f"the scale's {name} must be a number", field=f"{field}.{name}")
    assert low is not None and high is not None and step is not None
    if high <= low:
        raise ScaleInvalid("the scale's max must be above its min", field=f"{field}.max")
    if step <= 0:
        raise ScaleInvalid("the scale's step must be positive", field=f"{field}.step")
    steps = (high - low) / step
    if abs(steps - round(steps)) > EPSILON * max(1.0, steps) or round(steps) > MAX_STEPS:
        raise ScaleInvalid(
            f"(max - min) must be a whole number of steps, at most {MAX_STEPS}",
            field=f"{field}.step",
        )
    labels = dict(scale.get("labels") or {})
    stored = {"min": low, "max": high, "step": step, "labels": {}}
    for key, label in labels.items():
        try:
            value = float(key)
        except ValueError:
            raise ScaleInvalid(
                f"label key {key!r} is not a number on the scale", field=f"{field}.labels"
            ) from None
        if not on_scale(stored, value):
            raise ScaleInvalid(f"label key {key!r} is not on the scale", field=f"{field}.labels")
        stored["labels"][str(key)] = str(label)
    return stored


def on_scale(scale: Mapping[str, Any], value: float) -> bool:
    if not _is_number(value) or value < scale["min"] - EPSILON or value > scale["max"] + EPSILON:
        return False
    steps = (value - scale["min"]) / scale["step"]
    return bool(abs(steps - round(steps)) <= EPSILON * max(1.0, abs(steps)))


def on_step(scale: Mapping[str, Any], value: float) -> float:
    """The step ``value`` lies on, as the scale writes it: ``2.9999999999999996`` on a scale
    of whole numbers is ``3``, and ``0.30000000000000004`` in steps of 0.1 is ``0.3``.

    The step is ``min + n * step`` rounded to the decimals of the scale's own numbers, so
    floating-point noise in the input or in the arithmetic never reaches the store.
    """
    low, step = scale["min"], scale["step"]
    steps = round((value - low) / step)
    decimals = max(_decimals(low), _decimals(step), _decimals(scale["max"]))
    snapped = float(round(low + steps * step, decimals))
    if decimals == 0 and all(isinstance(scale[k], int) for k in ("min", "step")):
        return int(snapped)
    return snapped


def check_value(scale: Mapping[str, Any], value: Any, field: str) -> float:
    """The value on its step; off the scale or between steps (beyond noise) is refused."""
    if not _is_number(value):
        raise ScoreInvalid("a score must be a number", field=field)
    if not on_scale(scale, value):
        raise ScoreInvalid(
            f"{value} is not on the scale {scale['min']}..{scale['max']} "
            f"in steps of {scale['step']}",
            field=field,
        )
    return on_step(scale, value)


def check_dimensions(
    dimensions: Sequence[Mapping[str, Any]], field: str = "dimensions", allow_empty: bool = False
) -> list[dict[str, Any]]:
    """The dimensions as stored: keys unique identifiers, labels given."""
    if not dimensions and not allow_empty:
        raise DimensionsInvalid("at least one dimension is needed", field=field)
    stored: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, dimension in enumerate(dimensions):
        key = dimension.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            raise DimensionsInvalid(
                "a dimension key is 1-63 lower-case letters, digits or _, starting with a letter",
                field=f"{field}.{index}.key",
            )
        if key in seen:
            raise DimensionsInvalid(f"dimension {key!r} appears twice", field=f"{field}.{index}")
        seen.add(key)
        stored.append(
            {
                "key": key,
                "label": str(dimension.get("label") or key),
                "reverse_scored": bool(dimension.get("reverse_scored", False)),
            }
        )
    return stored


def check_scores(
    scale: Mapping[str, Any],
    dimensions: Sequence[Mapping[str, Any]],
    scores: Mapping[str, Any],
    allows_partial: bool,
    field: str = "scores",
) -> dict[str, float]:
    """Every score known and on the scale; every dimension present unless partial is allowed."""
    problems = score_problems(scale, dimensions, scores, allows_partial, field)
    if problems:
        raise problems[0]
    keys = [d["key"] for d in dimensions]
    return {key: on_step(scale, scores[key]) for key in keys if key in scores}


def score_problems(
    scale: Mapping[str, Any],
    dimensions: Sequence[Mapping[str, Any]],
    scores: Mapping[str, Any],
    allows_partial: bool,
    field: str = "scores",
) -> list[ScoreInvalid]:
    """Every problem with ``scores``, one per score at fault (an import reports them all)."""
    keys = [d["key"] for d in dimensions]
    problems: list[ScoreInvalid] = []
    for key in scores:
        if key not in keys:
            problems.append(
                ScoreInvalid(f"the instrument has no dimension {key!r}", field=f"{field}.{key}")
            )
            continue
        try:
            check_value(scale, scores[key], f"{field}.{key}")
        except ScoreInvalid as problem:
            problems.append(problem)
    missing = [key for key in keys if key not in scores]
    if missing and not allows_partial:
        problems += [
            ScoreInvalid(
                f"every dimension needs a score; missing: {', '.join(missing)}",
                field=f"{field}.{key}",
            )
            for key in missing
        ]
    if not scores and not problems:
        problems.append(ScoreInvalid("at least one score is needed", field=field))
    return problems


def _decimals(number: float) -> int:
    """Decimal places of a number as written (``0.25`` has 2, ``1e-3`` has 3, ``4`` has 0)."""
    text = repr(float(number)).lower()
    if "e" in text:
        mantissa, exponent = text.split("e")
        places = len(mantissa.partition(".")[2].rstrip("0"))
        return max(0, places - int(exponent))
    return len(text.partition(".")[2].rstrip("0"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
