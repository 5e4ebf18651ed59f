"""The floor under each view: hand-written SQL over flat, indexed copies of the same facts.

:func:`copy_flat` copies the read model's fact tables to ``flat_*`` tables in the same database
and indexes them on the columns the questions filter by (cohort, person, programme, unit). Each
query below fetches what a view needs to compute its figures (counts grouped in SQL, scores as
stored) for one cohort, a programme's cohorts, one person or every cohort, with no privacy
rules, no ledger and no history: what any view must at least read. The figures it would add
(means, rates) cost microseconds on rows this few, so they are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.state.plan import ViewPlan
from shared.sql import Cursor

FLAT = {
    "people": ("person_id", "department"),
    "placements": ("person_id",),
    "moves": ("person_id",),
    "cohorts": ("programme_id",),
    "participation": ("cohort_id", "person_id"),
    "sessions": ("cohort_id",),
    "attendance": ("cohort_id",),
    "group_members": ("cohort_id",),
    "results": ("cohort_id", "person_id"),
    "reaction_responses": ("cohort_id",),
    "staff_survey": ("unit", "level"),
}


def copy_flat(database: Any) -> None:
    """(Re)creates the ``flat_*`` copies and their indexes, then gathers statistics.

    On PostgreSQL the whole database is vacuumed as well, then checkpointed: after a bulk
    load, a rebuild and these copies, autovacuum would otherwise vacuum and analyze the large
    tables while the views are timed, and the checkpointer write and sync the gigabyte of
    pages they dirtied (spread over minutes by ``checkpoint_completion_target``), competing
    for the two cores and the disk (a 100,000-person run's cohort Kirkpatrick had one sample
    of 278 ms, and the hand-written SQL one of 175 ms, while autovacuum analyzed
    ``tr_participation``; the same stores timed again later gave 23 ms). The views are timed
    in the steady state a server reaches once both are done.
    """
    with database.transaction() as cur:
        for table, columns in FLAT.items():
            cur.execute(f"DROP TABLE IF EXISTS flat_{table}")
            cur.execute(f"CREATE TABLE flat_{table} AS SELECT * FROM tr_{table}")
            for column in columns:
                cur.execute(f"CREATE INDEX flat_{table}_by_{column} ON flat_{table} ({column})")
        if database.dialect == "sqlite":
            cur.execute("ANALYZE")
    if database.dialect == "postgresql":
        with database.autocommit() as cur:
            cur.execute("VACUUM (ANALYZE)")
            try:
                cur.execute("CHECKPOINT")
            except Exception as exc:  # a server of --postgres may not let this role do it
                if getattr(exc, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
                    raise


INSUFFICIENT_PRIVILEGE = "42501"
"""PostgreSQL's SQLSTATE for a statement the role may not run (``CHECKPOINT`` without
``pg_checkpoint``)."""

COHORT = "= ?"
PROGRAMME = "IN (SELECT cohort_id FROM flat_cohorts WHERE programme_id = ?)"


def _funnel(cur: Cursor, where: str, key: str) -> list[Any]:
    cur.execute(
        "SELECT cohort_id, COUNT(*), COUNT(invited_on), COUNT(accepted_on),"
        " SUM(CASE WHEN status = 'declined' THEN 1 ELSE 0 END), COUNT(enrolled_at),"
        " SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END)"
        f" FROM flat_participation WHERE cohort_id {where} GROUP BY cohort_id",
        (key,),
    )
    rows = cur.fetchall()
    cur.execute(
        "SELECT a.cohort_id, s.delivery, a.status, COUNT(*) FROM flat_attendance a"
        " JOIN flat_sessions s ON s.session_id = a.session_id"
        f" WHERE a.cohort_id {where} GROUP BY a.cohort_id, s.delivery, a.status",
        (key,),
    )
    return rows + cur.fetchall()


def _growth(cur: Cursor, where: str, key: str) -> list[Any]:
    cur.execute(
        "SELECT person_id, wave, rater_group, scores FROM flat_results"
        f" WHERE cohort_id {where} AND voided = 0",
        (key,),
    )
    return cur.fetchall()


def _reaction(cur: Cursor, where: str, key: str) -> list[Any]:
    cur.execute(f"SELECT answers FROM flat_reaction_responses WHERE cohort_id {where}", (key,))
    return cur.fetchall()


def _staff_survey(cur: Cursor, where: str, key: str) -> list[Any]:
    units = _of_participants(cur, "unit", where, key)
    marks = ", ".join("?" * len(units)) or "NULL"
    cur.execute(
        "SELECT year, level, unit, respondents, indices FROM flat_staff_survey"
        f" WHERE level = 'organisation' OR (level = 'unit' AND unit IN ({marks}))",
        units,
    )
    return cur.fetchall()


def _of_participants(cur: Cursor, column: str, where: str, key: str) -> list[str]:
    """The participants' units or departments, asked first: a planner cannot misjudge it."""
    cur.execute(
        f"SELECT DISTINCT p.{column} FROM flat_participation x JOIN flat_people p"
        f" ON p.person_id = x.person_id WHERE x.cohort_id {where}",
        (key,),
    )
    return [row[0] for row in cur.fetchall()]


def _mobility(cur: Cursor, where: str, key: str) -> list[Any]:
    cur.execute(
        "SELECT m.kind, m.scope, COUNT(*) FROM flat_moves m JOIN flat_participation x"
        " ON x.person_id = m.person_id"
        f" WHERE x.cohort_id {where} AND x.enrolled_at IS NOT NULL GROUP BY m.kind, m.scope",
        (key,),
    )
    rows = cur.fetchall()
    # The comparison group: colleagues of the same departments who took part in no cohort.
    departments = _of_participants(cur, "department", where, key)
    marks = ", ".join("?" * len(departments)) or "NULL"
    cur.execute(
        "SELECT m.kind, m.scope, COUNT(*) FROM flat_people p JOIN flat_moves m"
        f" ON m.person_id = p.person_id WHERE p.department IN ({marks})"
        " AND NOT EXISTS (SELECT 1 FROM flat_participation y WHERE y.person_id = m.person_id)"
        " GROUP BY m.kind, m.scope",
        departments,
    )
    return rows + cur.fetchall()


def _network(cur: Cursor, where: str, key: str) -> list[Any]:
    cur.execute(
        "SELECT g.group_id, p.department, p.unit FROM flat_group_members g JOIN flat_people p"
        f" ON p.person_id = g.person_id WHERE g.cohort_id {where}",
        (key,),
    )
    return cur.fetchall()


def _kirkpatrick(cur: Cursor, where: str, key: str) -> list[Any]:
    return [
        *_funnel(cur, where, key),
        *_reaction(cur, where, key),
        *_growth(cur, where, key),
        *_mobility(cur, where, key),
    ]


def _roster(cur: Cursor, plan: ViewPlan) -> list[Any]:
    cur.execute(
        "SELECT x.person_id, p.department, x.enrolled_at, x.status FROM flat_participation x"
        " JOIN flat_people p ON p.person_id = x.person_id"
        " WHERE x.cohort_id = ? AND x.enrolled_at IS NOT NULL ORDER BY x.enrolled_position",
        (plan.cohort_id,),
    )
    return cur.fetchall()


def _timeline(cur: Cursor, plan: ViewPlan) -> list[Any]:
    rows = []
    for table in ("participation", "placements", "moves", "results"):
        cur.execute(f"SELECT * FROM flat_{table} WHERE person_id = ?", (plan.person_id,))
        rows += cur.fetchall()
    return rows


def _person_growth(cur: Cursor, plan: ViewPlan) -> list[Any]:
    cur.execute(
        "SELECT cohort_id, wave, rater_group, scores FROM flat_results"
        " WHERE person_id = ? AND voided = 0",
        (plan.person_id,),
    )
    return cur.fetchall()


def state_funnel(cur: Cursor, plan: ViewPlan) -> list[Any]:
    """The funnel of every cohort of the state at once."""
    cur.execute(
        "SELECT cohort_id, COUNT(*), COUNT(invited_on), COUNT(accepted_on),"
        " COUNT(enrolled_at), SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END)"
        " FROM flat_participation GROUP BY cohort_id"
    )
    return cur.fetchall()


def _cohort(query: Callable[[Cursor, str, str], list[Any]]) -> Callable[[Cursor, ViewPlan], object]:
    return lambda cur, plan: query(cur, COHORT, plan.cohort_id)


def _programme(
    query: Callable[[Cursor, str, str], list[Any]],
) -> Callable[[Cursor, ViewPlan], object]:
    return lambda cur, plan: query(cur, PROGRAMME, plan.programme_id)


BASELINES: dict[str, Callable[[Cursor, ViewPlan], object]] = {
    "cohort roster": _roster,
    "cohort funnel": _cohort(_funnel),
    "cohort growth": _cohort(_growth),
    "cohort reaction": _cohort(_reaction),
    "cohort staff-survey": _cohort(_staff_survey),
    "cohort mobility": _cohort(_mobility),
    "cohort network": _cohort(_network),
    "cohort kirkpatrick": _cohort(_kirkpatrick),
    "programme funnel": _programme(_funnel),
    "programme growth": _programme(_growth),
    "programme reaction": _programme(_reaction),
    "programme staff-survey": _programme(_staff_survey),
    "programme mobility": _programme(_mobility),
    "programme kirkpatrick": _programme(_kirkpatrick),
    "organisation funnel": state_funnel,
    "person timeline": _timeline,
    "person growth": _person_growth,
}
"""By view name (scope, then the last part of its path)."""
