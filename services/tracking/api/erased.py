"""An erased person's own views are gone: 410 for every role, whatever ``as_of`` asks.

Erasure is a fact about now, not about the moment asked for: a timeline or trajectory "as of"
a day before the erasure would serve the person's history again, so the live read models are
asked, never the facts as of the moment. Aggregates (funnel, cohort growth, mobility) keep counting
the person: they show no one's history, and dropping them would rewrite published figures.
The check follows the access checks, so to whoever may not see the person at all (another
participant, a coach of other cohorts) nothing changes: an erasure reveals no one.
"""

from __future__ import annotations

from flask_smorest import abort

from services.tracking import temporal
from services.tracking.api.base import readmodels
from shared.web.problems import problem_doc

GONE_DOC = problem_doc("The person was erased: their own views answer no more, at any as_of.")


def refuse_erased(person_id: str) -> None:
    """Aborts with 410 if the person is erased now (in the live read models)."""
    with temporal.reading(readmodels().database) as cur:
        cur.execute("SELECT erased FROM tr_people WHERE person_id = ?", (person_id,))
        row = cur.fetchone()
    if row is not None and row[0]:
        abort(
            410,
            message=f"person {person_id} was erased: their timeline and growth are no longer "
            "served, at any as_of (cohort figures still count them)",
        )
