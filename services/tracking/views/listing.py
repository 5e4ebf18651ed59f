"""The cohorts and programmes tracking knows: the lists a person starts from.

A cohort row holds its programme, dates, status, funding source, capacity and its size: the
people enrolled in it (still enrolled or completed), a count of people, never who they are. The
list is filtered by a text search over the cohort's and programme's names, the programme, the
year the cohort ran in (its start to its end date), the status and the funding source. A coach
lists only the cohorts they coach (``only``).
"""

from __future__ import annotations

from typing import Any

from shared.sql import Cursor

_COHORTS = (
    "SELECT c.cohort_id, c.programme_id, p.name, c.name, c.start_date, c.end_date, c.status,"
    " c.funding_source, c.capacity"
    " FROM tr_cohorts c LEFT JOIN tr_programmes p ON p.programme_id = c.programme_id"
)


def cohorts(
    cur: Cursor,
    *,
    search: str | None = None,
    programme_id: str | None = None,
    year: int | None = None,
    status: str | None = None,
    funding_source: str | None = None,
    only: set[str] | None = None,
) -> list[dict[str, Any]]:
    """The cohorts that pass every filter given, by start date and name."""
    cur.execute(f"{_COHORTS} ORDER BY c.start_date, c.name, c.cohort_id")
    rows = []
    needle = (search or "").casefold()
    for row in cur.fetchall():
        item = dict(
            zip(
                (
                    "cohort_id",
                    "programme_id",
                    "programme",
                    "name",
                    "start_date",
                    "end_date",
                    "status",
                    "funding_source",
                    "capacity",
                ),
                row,
                strict=True,
            )
        )
        if only is not None and item["cohort_id"] not in only:
            continue
        if programme_id and item["programme_id"] != programme_id:
            continue
        if status and item["status"] != status:
            continue
        if funding_source and (item["funding_source"] or "") != funding_source:
            continue
        if year and not int(item["start_date"][:4]) <= year <= int(item["end_date"][:4]):
            continue
        if needle and needle not in f"{item['name']} {item['programme'] or ''}".casefold():
            continue
        rows.append(item)
    sizes = _sizes(cur, [r["cohort_id"] for r in rows])
    for item in rows:
        item["size"] = sizes.get(item["cohort_id"], 0)
    return rows


def _sizes(cur: Cursor, cohort_ids: list[str]) -> dict[str, int]:
    if not cohort_ids:
        return {}
    sizes: dict[str, int] = {}
    for start in range(0, len(cohort_ids), 500):
        chunk = cohort_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        cur.execute(
            "SELECT cohort_id, COUNT(*) FROM tr_participation WHERE status IN"
            f" ('enrolled', 'completed') AND cohort_id IN ({marks}) GROUP BY cohort_id",
            chunk,
        )
        sizes.update({row[0]: int(row[1]) for row in cur.fetchall()})
    return sizes


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
