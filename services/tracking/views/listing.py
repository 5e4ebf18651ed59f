"""The programmes tracking knows, each with its cohorts counted: where a person starts.

A coach lists only the programmes with cohorts they coach (``only``). The cohorts' own list is
:mod:`.cohort_list`.
"""

from __future__ import annotations

from typing import Any

from shared.sql import Cursor


def programmes(cur: Cursor, only: set[str] | None = None) -> list[dict[str, Any]]:
    """Every programme with its organisation and how many cohorts it has (``only``: those)."""
    cur.execute(
        "SELECT p.programme_id, p.name, p.organisation, p.retired_on, c.cohort_id"
        " FROM tr_programmes p LEFT JOIN tr_cohorts c ON c.programme_id = p.programme_id"
        " ORDER BY p.name, p.programme_id"
    )
    found: dict[str, dict[str, Any]] = {}
    for programme_id, name, organisation, retired_on, cohort_id in cur.fetchall():
        item = found.setdefault(
            programme_id,
            {
                "programme_id": programme_id,
                "name": name,
                "organisation": organisation,
                "retired_on": retired_on,
                "cohorts": 0,
            },
        )
        if cohort_id is not None and (only is None or cohort_id in only):
            item["cohorts"] += 1
    if only is not None:
        return [p for p in found.values() if p["cohorts"]]
    return list(found.values())
