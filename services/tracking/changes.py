"""Change counters: one number per fact table, raised in the transaction that changes the table.

A computation kept between requests (:mod:`services.tracking.views.memo`) names the tables it
reads and is kept under their counters, so it gives way only to a change of what it read: an
attendance mark leaves the comparison group of a mobility view kept, a new placement does not.

The projector collects the tables its handlers wrote (:class:`~.versions.Batched` notes each
table :mod:`~.versions` writes) and raises their counters with the positions, in the same
transaction as the facts, so a reader sees facts and counters of one moment. A swap of a rebuild
(``polku replay --swap``) raises every counter. A counter only grows while the tables exist; a
table missing from ``tr_changes`` reads as 0.

Some tables are also counted **per cohort** (:data:`SCOPED`): a write to ``tr_results`` of
cohort C raises ``tr_results@C`` as well, so a computation kept per cohort (a programme's or the
organisation's growth is pooled from them, :mod:`services.tracking.views.growth_parts`) gives
way only where a cohort's own facts changed. A swap raises the scoped counters too.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.tracking.schema import FACT_KEYS
from shared.sql import Cursor

__all__ = ["SCOPED", "bump", "counters", "scoped"]

SCOPED = {"tr_results": "cohort_id", "tr_participation": "cohort_id"}
"""Tables counted per cohort too, by the column naming the cohort."""


def scoped(table: str, cohort_id: str) -> str:
    """The name of ``table``'s counter for one cohort's rows."""
    return f"{table}@{cohort_id}"


def bump(cur: Cursor, tables: Iterable[str]) -> None:
    """Raises the counters of ``tables`` by one (creating those not counted yet)."""
    for table in sorted(set(tables)):
        cur.execute(
            "INSERT INTO tr_changes (name, version) VALUES (?, 1) ON CONFLICT (name)"
            " DO UPDATE SET version = tr_changes.version + 1",
            (table,),
        )


def bump_all(cur: Cursor) -> None:
    """Raises every fact table's counter, and every scoped one: the whole read model was
    replaced."""
    bump(cur, FACT_KEYS)
    cur.execute("UPDATE tr_changes SET version = version + 1 WHERE name LIKE ?", ("%@%",))


def counters(cur: Cursor, tables: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """The counters of ``tables`` (sorted by name) as the cursor's transaction sees them."""
    wanted = sorted(set(tables))
    if not wanted:
        return ()
    cur.execute(
        f"SELECT name, version FROM tr_changes WHERE name IN ({', '.join('?' * len(wanted))})",
        wanted,
    )
    found = {str(name): int(version) for name, version in cur.fetchall()}
    return tuple((table, found.get(table, 0)) for table in wanted)


CHUNK = 500
"""Names per ``IN (...)`` list: well under every supported database's parameter limit."""


def many_counters(cur: Cursor, tables: Iterable[str]) -> dict[str, int]:
    """The counters of many ``tables`` (a programme's or the organisation's cohorts' scoped
    ones) in a few queries; a table not counted yet reads as 0."""
    wanted = sorted(set(tables))
    found = dict.fromkeys(wanted, 0)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        cur.execute(
            f"SELECT name, version FROM tr_changes WHERE name IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        found.update({str(name): int(version) for name, version in cur.fetchall()})
    return found
