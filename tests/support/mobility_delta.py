"""Kept mobility computations brought up to date equal fresh ones, after any events.

The property behind ``tests/unit/test_mobility_delta.py`` (SQLite) and
``tests/integration/test_mobility_delta_postgres.py`` (PostgreSQL): random but plausible
enrolment logs (:class:`MobilityLogs`: people registered, placed, moving, enrolled, erased,
cohorts moved) are projected batch by batch; after each batch every mobility answer through one
memo kept since the start (so brought up to date by :mod:`services.tracking.views.mobility_delta`
wherever the change log allows) must be byte for byte the answer computed afresh, live, ``as_of``
an earlier moment and ``on`` an earlier day.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from typing import Any

from hypothesis import strategies as st

from services.tracking.projector import Projector
from services.tracking.readmodels import ReadModels
from services.tracking.temporal import reading
from services.tracking.views import mobility
from services.tracking.views.ledger import Releases
from services.tracking.views.memo import Memo
from services.tracking.views.privacy import Policy
from shared.errors import PolkuError
from shared.events import Envelope, restricted_registry
from shared.events import enrolment as e
from shared.feeds import Delivery, Poll
from shared.sql import Database
from tests.support.scripted_feed import ScriptedFeed
from tests.unit.enrolment_steps import ENROLMENT
from tests.unit.event_sequences import Logs

LATER = ["2021-01-18", "2021-04-06", "2021-08-30", "2022-02-14"]
"""Days after every cohort's end: moves then are outcomes, not exclusions."""
VIEW_DAY = dt.date(2022, 6, 30)
MINIMUM = 2
FILTERS: list[dict[str, str | None]] = [{}, {"department": "Energy"}, {"role": "expert"}]


@dataclass
class MobilityLogs(Logs):
    """Enrolment logs with the events mobility reads, and moves after the cohorts' end."""

    later: bool = False

    def day(self) -> str:
        return str(self.draw(st.sampled_from(LATER))) if self.later else super().day()

    def late_move(self) -> None:
        self.later = True
        try:
            self.move()
        finally:
            self.later = False

    def late_placement(self) -> None:
        self.later = True
        try:
            self.placement()
        finally:
            self.later = False

    def enrol(self) -> None:
        """An enrolment: the person leaves every comparison group."""
        cohort, person = self.pick(self.cohorts), self.pick(self.people)
        data = {"cohort_id": cohort, "person_id": person, "enrolled_at": self.clock.isoformat()}
        self.emit(ENROLMENT, cohort, e.PARTICIPANT_ENROLLED, data)

    def actions(self) -> list[tuple[Callable[[Logs], None], bool]]:
        wanted = {
            Logs.programme, Logs.cohort, Logs.person, Logs.attributes, Logs.placement,
            Logs.move, Logs.move_ended, Logs.erased, Logs.stage, Logs.coordination,
        }  # fmt: skip
        ours = [(action, ready) for action, ready in super().actions() if action in wanted]
        return [
            *ours,
            *[(MobilityLogs.late_move, bool(self.people))] * 2,  # type: ignore[list-item]
            (MobilityLogs.late_placement, bool(self.people)),  # type: ignore[list-item]
            *[(MobilityLogs.enrol, bool(self.cohorts and self.people))] * 2,  # type: ignore[list-item]
        ]


def batches(draw: Any, events: list[Envelope]) -> list[Poll]:
    """The log cut into polls of one to five events."""
    polls, offset = [], 0
    while offset < len(events):
        size = draw(st.integers(1, 5))
        chosen = events[offset : offset + size]
        deliveries = [Delivery(ENROLMENT, 0, offset + i, e) for i, e in enumerate(chosen)]
        polls.append(Poll(deliveries, {(ENROLMENT, 0): offset + len(chosen) - 1}))
        offset += len(chosen)
    return polls


Frame = tuple[dt.datetime | None, dt.date | None]


def answers(database: Database, memo: Memo | None, frames: list[Frame]) -> str:
    """Every cohort's mobility and the pooled Kirkpatrick L4 in each frame, as JSON."""
    found: dict[str, Any] = {}
    for as_of, on in frames:
        with reading(database, as_of, on) as cur:
            cur.execute("SELECT cohort_id FROM tr_cohorts ORDER BY cohort_id")
            cohorts = [row[0] for row in cur.fetchall()]
            for cohort_id, filters in product(cohorts[:2], FILTERS):
                found[f"{as_of} {on} {cohort_id} {filters}"] = _outcome(
                    lambda c=cohort_id, f=filters: mobility.cohort_mobility(
                        cur,
                        c,
                        mobility.groups(cur, [c], f, memo),
                        MINIMUM,
                        VIEW_DAY,
                        Releases(),
                        memo,
                    )
                )
            if cohorts:
                found[f"{as_of} {on} pooled"] = _outcome(
                    lambda every=cohorts: mobility.mobility_summary(
                        cur, every, Policy(MINIMUM), VIEW_DAY, Releases(), memo
                    )
                )
    return json.dumps(found, sort_keys=True, default=str)


def _outcome(view: Callable[[], Any]) -> Any:
    try:
        return view()
    except PolkuError as exc:  # a cohort not known yet, a refused filter: the same both ways
        return f"{type(exc).__name__}: {exc}"


def check_kept_answers_equal_fresh(
    data: st.DataObject, open_readmodels: Callable[[], ReadModels]
) -> int:
    """Projects random logs batch by batch and compares kept with fresh answers after each;
    gives how many kept answers were brought up to date rather than made afresh."""
    logs = MobilityLogs(data.draw)
    for _ in range(data.draw(st.integers(4, 30), label="steps")):
        logs.step()
    events = logs.events[ENROLMENT]
    polls = batches(data.draw, events)
    moment = data.draw(st.sampled_from([e.time for e in events]), label="as_of")
    on = dt.date.fromisoformat(data.draw(st.sampled_from(["2020-10-01", "2021-06-30"]), label="on"))
    frames: list[Frame] = [(None, None), (moment, None), (None, on)]
    readmodels = open_readmodels()
    memo = Memo()
    try:
        projector = Projector(readmodels, ScriptedFeed(polls), restricted_registry())
        while projector.run_once() is not None:
            kept = answers(readmodels.database, memo, frames)
            assert kept == answers(readmodels.database, None, frames)
        assert projector.stats.dead_lettered == 0
    finally:
        readmodels.database.close()
    return memo.updates
