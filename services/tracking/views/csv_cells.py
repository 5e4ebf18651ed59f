"""How every tracking view's CSV writes its cells: labels beside codes, plain text, no JSON.

A view's CSV (``?format=csv``) keeps its column keys in the header, so a script reading it by
name keeps working, and carries a label beside every coded value a person reads it for:

- a column of codes (:data:`CODE_LABELS`: delivery, session status, wave, rater group, group,
  kind, level, a growth row) gets a ``<column>_label`` column right after it (a code it does not
  list is labelled by itself, ``_`` as a space, capitalised);
- a view's own keys with labels it defines (a dimension, a staff-survey index, a reaction item)
  carry their label from the view (see each view's ``csv_table``).

Cells are plain text: ``true`` and ``false`` for booleans, empty for nothing, and a mapping or a
list is written out as ``key: value; key: value`` (nested ones in parentheses), never as JSON.
A cell that a spreadsheet would take for a formula (``= + - @``, tab, carriage return) is
quoted with a leading apostrophe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CODE_LABELS: dict[str, dict[str, str]] = {
    "delivery": {"in_person": "In person", "virtual": "Virtual", "hybrid": "Hybrid"},
    "original_delivery": {"in_person": "In person", "virtual": "Virtual", "hybrid": "Hybrid"},
    "status": {
        "scheduled": "Scheduled", "held": "Held", "cancelled": "Cancelled",
        "planned": "Planned", "open": "Open", "running": "Running", "completed": "Completed",
    },
    "wave": {
        "baseline": "Baseline", "midpoint": "Midpoint", "post": "Post",
        "follow_up": "Follow-up", "custom": "Custom",
    },
    "from": {"baseline": "Baseline", "midpoint": "Midpoint", "post": "Post"},
    "to": {"post": "Post", "midpoint": "Midpoint", "follow_up": "Follow-up"},
    "rater_group": {
        "self": "Self", "manager": "Manager", "peer": "Peers",
        "direct_report": "Direct reports", "coach": "Coach",
    },
    "group": {"participants": "Participants", "comparison": "Comparison group"},
    "kind": {
        "first_move": "Time to first move of any kind",
        "first_rotation": "Time to first job rotation",
    },
    "level": {"unit": "Unit", "department": "Department", "organisation": "Organisation"},
    "row": {"wave": "Wave figures", "change": "Paired change"},
}  # fmt: skip
"""Labels of the coded columns, by column key."""


def labelled(columns: list[str], rows: list[list[Any]]) -> tuple[list[str], list[list[Any]]]:
    """``columns`` and ``rows`` with a ``<column>_label`` after each coded column that has no
    label (``_label``) or name (``_name``) beside it already."""
    coded = [
        i
        for i, c in enumerate(columns)
        if c in CODE_LABELS
        and f"{c}_label" not in columns
        and f"{c}_name" not in columns
        and any(isinstance(row[i], str) for row in rows)
    ]
    if not coded:
        return columns, rows
    out_columns: list[str] = []
    for i, column in enumerate(columns):
        out_columns.append(column)
        if i in coded:
            out_columns.append(f"{column}_label")
    out_rows = []
    for row in rows:
        out: list[Any] = []
        for i, value in enumerate(row):
            out.append(value)
            if i in coded:
                out.append(_label(columns[i], value))
        out_rows.append(out)
    return out_columns, out_rows


def _label(column: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return CODE_LABELS[column].get(value, value.replace("_", " ").capitalize())
    return value


def text(value: Any) -> Any:
    """A cell as the CSV writes it (see the module's note)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_nested(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(str(_nested(v)) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _nested(value: Any) -> Any:
    if isinstance(value, Mapping | list | tuple):
        return f"({text(value)})"
    written = text(value)
    return written
