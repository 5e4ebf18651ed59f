"""What readers may see of a reaction survey's anonymous answers: distributions, never rows.

An individual response, even without a name, is a fingerprint: its Likert answers and its free
text side by side, in the order it arrived, can be lined up with whoever was seen answering
then, or with a comment whose writer is recognisable. So readers get

* per item, how many answered, the mean and how many gave each value — and only once at least
  the instrument's minimum group size ``k`` answered that item;
* the free-text answers on their own, detached from the Likert answers and sorted by question
  and text (not by arrival), and only once the survey has at least ``max(k, comment minimum)``
  responses: free text identifies its writer at least as readily as a score does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from statistics import fmean
from typing import Any


def comment_threshold(min_group_size: int, comment_minimum: int) -> int:
    """Responses needed before any free text is shown."""
    return max(min_group_size, comment_minimum)


def value_key(value: float) -> str:
    """A scale value as a distribution key: ``4`` not ``4.0``, ``3.41`` as is."""
    return f"{float(value):.10g}"


def answer_report(
    items: Sequence[Mapping[str, Any]],
    answers: Sequence[Mapping[str, float]],
    minimum: int,
) -> dict[str, Any]:
    """Per-item distributions of ``answers`` (one mapping per response), suppressed below k."""
    if len(answers) < minimum:
        return {
            "answers_shown": False,
            "answers_suppressed_reason": f"answers are shown from {minimum} responses",
            "items": [],
        }
    reported = []
    for item in items:
        values = [float(a[item["key"]]) for a in answers if item["key"] in a]
        shown = len(values) >= minimum
        counts = Counter(value_key(v) for v in values)
        reported.append(
            {
                "key": item["key"],
                "label": item["label"],
                "answered": len(values) if shown else None,
                "mean": round(fmean(values), 4) if shown else None,
                "distribution": dict(sorted(counts.items(), key=lambda kv: float(kv[0])))
                if shown
                else None,
                "suppressed_reason": None
                if shown
                else f"fewer than {minimum} responses answered this item",
            }
        )
    return {"answers_shown": True, "answers_suppressed_reason": None, "items": reported}


def detached_comments(
    questions: Sequence[Mapping[str, Any]], comments: Sequence[Mapping[str, str]]
) -> list[dict[str, str]]:
    """Every free-text answer on its own, by question then text: arrival order is lost."""
    order = {q["key"]: index for index, q in enumerate(questions)}
    labels = {q["key"]: q["label"] for q in questions}
    found = [
        {"question": key, "label": labels.get(key, key), "text": text}
        for response in comments
        for key, text in response.items()
    ]
    return sorted(
        found, key=lambda c: (order.get(c["question"], len(order)), c["text"].casefold(), c["text"])
    )
