"""Builders shared by the assessment unit tests: instruments of each kind and an application."""

from __future__ import annotations

from typing import Any

LIKERT = {"min": 1, "max": 5, "step": 1, "labels": {"1": "never", "5": "always"}}
BEHAVIOUR_DIMENSIONS = [
    {"key": "listening", "label": "Listens"},
    {"key": "sharing", "label": "Shares knowledge"},
    {"key": "blaming", "label": "Blames others", "reverse_scored": True},
]


def behaviour(**overrides: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {"dimensions": BEHAVIOUR_DIMENSIONS, "scale": LIKERT}
    definition.update(overrides)
    return definition


def style(**overrides: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "dimensions": [{"key": "pace", "label": "Pace"}],
        "scale": {"min": 0, "max": 100, "step": 1},
        "style_categories": ["analytical", "driver", "amiable", "expressive"],
        "allows_partial": True,
    }
    definition.update(overrides)
    return definition


def reaction(**overrides: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "dimensions": [
            {"key": "overall", "label": "Overall"},
            {"key": "virtual", "label": "Virtual delivery"},
        ],
        "scale": LIKERT,
        "free_text_questions": [{"key": "best", "label": "What was best?"}],
        "comment_minimum": 3,
    }
    definition.update(overrides)
    return definition


def staff(**overrides: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {"scale": {"min": 1, "max": 5, "step": 0.01}}
    definition.update(overrides)
    return definition


def indices(value: float = 3.5) -> dict[str, float]:
    return {
        "competence_learning_renewal": value,
        "wellbeing_at_work": value,
        "own_work": value,
        "work_community": value,
        "leadership": value,
    }
