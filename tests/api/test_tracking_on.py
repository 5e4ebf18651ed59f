"""``on``: the world as it was on a day, by the facts' own dates, asked of the pilot recorded today.

Every event of the TEMPO 2020 pilot is recorded now, dated 2020-2023. ``on`` is checked against
an oracle that replays the events dated by the day (tests/support/effective_replay.py), table by
table, alone and with ``as_of``; and the funnel against the scenario's own dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.scenario import enrolment as scenario
from services.tracking.effective import COLUMNS
from services.tracking.schema import FACT_KEYS
from services.tracking.temporal import Timeframe, utc_text
from services.tracking.views import funnel, kirkpatrick, mobility, network
from services.tracking.views.ledger import Releases
from services.tracking.views.privacy import Policy
from tests.support.effective_replay import replayed_on
from tests.support.pilot import Pilot

DAYS = (
    dt.date(2019, 12, 31),  # before anything happened
    scenario.INVITED_ON,  # invited, nothing answered
    dt.date(2020, 3, 1),  # enrolled, sessions under way
    scenario.WITHDRAWN_ON,  # the day of the withdrawal
    dt.date(2020, 6, 29),  # the day before the completions
    dt.date(2022, 6, 30),  # moves in progress
)
NOT_COMPARED = {"recorded_from", "recorded_to"}
"""A row's recorded interval is its current version's, not the oracle's (which stops earlier)."""
APPROXIMATED = {"tr_cohorts": {"status_on"}}
"""A cohort keeps only its latest status's date: before it, the date is unknown (NULL)."""

VIEWS = ("funnel", "growth", "reaction", "mobility", "network", "kirkpatrick", "staff-survey",
         "roster")  # fmt: skip


def rows(cur: Any, table: str) -> list[tuple[Any, ...]]:
    skip = NOT_COMPARED | APPROXIMATED.get(table, set())
    names = [c for c in COLUMNS[table] if c not in skip]
    cur.execute(f"SELECT {', '.join(names)} FROM {table}")
    return sorted(map(tuple, cur.fetchall()), key=repr)


def differing(pilot: Pilot, day: dt.date, as_of: dt.datetime | None = None) -> list[str]:
    database = pilot.runtime.tracking.readmodels.database
    with database.transaction(write=False) as live:
        until = utc_text(as_of) if as_of else "9999-12-31T23:59:59.999999+00:00"
        oracle = replayed_on(live, day, until)
        try:
            asked = Timeframe.of(as_of, day).over(live)
            replay = Timeframe().over(oracle.cursor())
            return [t for t in FACT_KEYS if rows(asked, t) != rows(replay, t)]
        finally:
            oracle.close()


def test_on_equals_the_events_dated_by_then_replayed(pilot: Pilot) -> None:
    for day in DAYS:
        assert differing(pilot, day) == [], day


def test_on_with_as_of_is_what_was_known_then_about_the_day(pilot: Pilot) -> None:
    with pilot.runtime.tracking.readmodels.database.transaction(write=False) as cur:
        cur.execute("SELECT DISTINCT time FROM tr_applied_events ORDER BY time")
        times = [row[0] for row in cur.fetchall()]
    for moment in (times[len(times) // 3], times[2 * len(times) // 3]):
        at = dt.datetime.fromisoformat(moment)
        for day in (dt.date(2020, 3, 1), dt.date(2022, 6, 30)):
            assert differing(pilot, day, at) == [], (at, day)


def views(cur: Any, cohort_id: str, day: dt.date) -> dict[str, Any]:
    """Several views computed on ``cur`` for the day (no memo, no ledger: only the facts)."""
    policy = Policy()
    chosen = mobility.groups(cur, [cohort_id], {}, None)
    return {
        "funnel": funnel.funnel(cur, cohort_id, policy, True),
        "network": network.network(cur, cohort_id, policy, True),
        "mobility": mobility.cohort_mobility(
            cur, cohort_id, chosen, policy.minimum, day, Releases(), None
        ),
        "kirkpatrick": kirkpatrick.levels(cur, [cohort_id], policy, day, Releases(), None),
    }


def test_the_views_on_30_june_2022_equal_them_on_the_events_dated_by_then(pilot: Pilot) -> None:
    """Every event recorded today, asked about 30 June 2022 (and the day of the withdrawal)."""
    database = pilot.runtime.tracking.readmodels.database
    for day in (dt.date(2022, 6, 30), scenario.WITHDRAWN_ON):
        with database.transaction(write=False) as live:
            oracle = replayed_on(live, day)
            try:
                asked = views(Timeframe.of(None, day).over(live), pilot.cohort_id, day)
                replay = views(Timeframe().over(oracle.cursor()), pilot.cohort_id, day)
            finally:
                oracle.close()
        assert asked == replay, day
        assert asked != views_now(pilot, day), day  # the day is not today's world


def views_now(pilot: Pilot, day: dt.date) -> dict[str, Any]:
    with pilot.runtime.tracking.readmodels.database.transaction(write=False) as live:
        return views(Timeframe().over(live), pilot.cohort_id, day)


def stages(pilot: Pilot, on: dt.date) -> dict[str, Any]:
    view = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel", on=on.isoformat())
    assert view["on"] == on.isoformat()
    found = {k: v["value"] for k, v in view["stages"].items()}
    return found | {"status": view["status"], "people": view["people"]}


def test_the_funnel_on_a_day_counts_the_stages_dated_by_then(pilot: Pilot) -> None:
    everyone = len(scenario.PARTICIPANTS)
    before = stages(pilot, scenario.INVITED_ON - dt.timedelta(days=1))
    assert before["people"]["suppressed"] and before["status"] == "open"
    assert before["people"]["reason"].startswith("computed from fewer than")
    invited = stages(pilot, scenario.INVITED_ON)
    assert invited["invited"] == everyone and invited["accepted"] == 0
    assert invited["enrolled"] == 0
    running = stages(pilot, scenario.WITHDRAWN_ON - dt.timedelta(days=1))
    assert running["enrolled"] == everyone and running["withdrawn"] == 0
    assert running["status"] == "running"
    withdrawn = stages(pilot, scenario.WITHDRAWN_ON)
    assert withdrawn["withdrawn"] == 1 and withdrawn["completed"] == 0
    done = stages(pilot, scenario.COMPLETED_ON)
    assert done["completed"] == everyone - 1 and done["status"] == "completed"


def test_every_view_takes_on_and_today_is_the_live_answer(pilot: Pilot) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    base = f"/tracking/cohorts/{pilot.cohort_id}"
    paths = [f"{base}/{view}" for view in VIEWS]
    paths += [f"/tracking/people/{pilot.person('P01')}/timeline", "/tracking/organisation/funnel"]
    for path in paths:
        live = pilot.json(path)
        asked = pilot.json(path, on=today)
        assert asked.pop("on") == today and live.pop("on", None) is None, path
        assert asked == live, path
        pilot.json(path, on="2020-03-01", as_of=today)  # a plain date for both


def test_mobility_follows_up_to_the_day_asked(pilot: Pilot) -> None:
    view = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/mobility", on="2021-06-30")
    assert view["view_date"] == "2021-06-30"


def test_a_timeline_on_a_day_ends_on_that_day(pilot: Pilot) -> None:
    path = f"/tracking/people/{pilot.person('P01')}/timeline"
    everything = pilot.json(path, limit=500)["entries"]
    then = pilot.json(path, on="2020-03-01", limit=500)["entries"]
    assert then == [e for e in everything if e["on"][:10] <= "2020-03-01"]
    assert 0 < len(then) < len(everything)


def test_bad_or_future_days_are_refused_naming_the_argument(pilot: Pilot) -> None:
    path = f"/tracking/cohorts/{pilot.cohort_id}/funnel"
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()
    for name, value in (
        ("on", "2022-02-30"),
        ("on", "1899-12-31"),
        ("on", tomorrow),
        ("on", "30.6.2022"),
        ("as_of", tomorrow),
        ("as_of", "2022-02-30"),
    ):
        response = pilot.get(path, **{name: value})
        assert response.status_code == 422, (name, value)
        assert name in response.get_data(as_text=True), (name, value)


def test_a_plain_date_as_of_is_the_end_of_that_day(pilot: Pilot) -> None:
    path = f"/tracking/cohorts/{pilot.cohort_id}/funnel"
    # Everything was recorded today: at the end of 30 June 2022 tracking knew nothing of it.
    assert pilot.get(path, as_of="2022-06-30").status_code == 404
    view = pilot.json(path, as_of=dt.datetime.now(dt.UTC).date().isoformat())
    assert view["as_of"].endswith("23:59:59.999999+00:00")
    live = pilot.json(path)
    assert live.pop("as_of") is None
    view.pop("as_of")
    assert view == live
