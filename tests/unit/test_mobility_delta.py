"""Kept mobility computations are brought up to date person by person, and equal fresh ones.

After random enrolment events, every mobility answer through a memo kept since the start equals
the answer computed afresh (:mod:`tests.support.mobility_delta`), live, ``as_of`` and ``on``;
the change log names whose rows each raise changed, and says when it cannot.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.tracking import changes
from services.tracking.readmodels import ReadModels
from services.tracking.versions import Batched, record, revise
from shared.sql import Database
from tests.support.mobility_delta import check_kept_answers_equal_fresh


def test_kept_mobility_answers_brought_up_to_date_equal_fresh_ones(tmp_path: Path) -> None:
    updated: list[int] = []

    def sqlite() -> ReadModels:
        built = ReadModels(Database(f"sqlite:///{tmp_path / f'{len(updated)}.sqlite'}"))
        built.create()
        return built

    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def property_holds(data: st.DataObject) -> None:
        updated.append(check_kept_answers_equal_fresh(data, sqlite))

    property_holds()
    assert sum(updated) > 0  # else fresh answers were only compared with fresh ones


def readmodels(folder: Path) -> ReadModels:
    built = ReadModels(Database(f"sqlite:///{folder / 'log.sqlite'}"))
    built.create()
    return built


def test_the_change_log_names_whose_rows_changed(tmp_path: Path) -> None:
    models = readmodels(tmp_path)
    with models.database.transaction() as cur:
        before = changes.counters(cur, ["tr_people", "tr_moves"])
        batched = Batched(cur)
        person = {"organisation": "TEM", "department": "Innovation", "unit": "Digital"}
        record(batched, "tr_people", {"person_id": "p1", **person, "registered_at": "x"}, "2021")
        move = {"kind": "promotion", "organisation": "TEM", "scope": "same_unit"}
        record(
            batched,
            "tr_moves",
            {"move_id": "m1", "person_id": "p2", **move, "start_date": "2021-01-01"},
            "2021",
        )
        batched.flush()
        changes.bump(cur, batched.touched, batched.people)
        after = changes.counters(cur, ["tr_people", "tr_moves"])
        assert changes.changed_people(cur, before, after) == {"p1", "p2"}
        assert changes.changed_people(cur, after, after) == frozenset()
        # A revision names the person of the row it found, though its key does not.
        batched = Batched(cur)
        revise(batched, "tr_moves", ("m1",), lambda _: {"end_date": "2021-06-30"}, "2022")
        changes.bump(cur, batched.touched, batched.people)
        later = changes.counters(cur, ["tr_people", "tr_moves"])
        assert changes.changed_people(cur, after, later) == {"p2"}
        # A swap's raise logs no one: a computation kept from before is made afresh.
        changes.bump_all(cur)
        swapped = changes.counters(cur, ["tr_people", "tr_moves"])
        assert changes.changed_people(cur, later, swapped) is None
        assert changes.changed_people(cur, before, swapped) is None


def test_a_raise_of_too_many_or_unnamed_people_is_anyones(tmp_path: Path) -> None:
    models = readmodels(tmp_path)
    with models.database.transaction() as cur:
        before = changes.counters(cur, ["tr_people"])
        many = {f"p{i}" for i in range(changes.PEOPLE_LOGGED + 1)}
        changes.bump(cur, ["tr_people"], {"tr_people": many})
        assert changes.changed_people(cur, before, changes.counters(cur, ["tr_people"])) is None
        again = changes.counters(cur, ["tr_people"])
        changes.bump(cur, ["tr_people"], {"tr_people": {"p1", None}})
        assert changes.changed_people(cur, again, changes.counters(cur, ["tr_people"])) is None


def test_the_log_keeps_its_last_raises_only(tmp_path: Path) -> None:
    models = readmodels(tmp_path)
    with models.database.transaction() as cur:
        first = changes.counters(cur, ["tr_people"])
        for i in range(changes.LOG_KEEP + 1):
            changes.bump(cur, ["tr_people"], {"tr_people": {f"p{i}"}})
        now = changes.counters(cur, ["tr_people"])
        assert changes.changed_people(cur, first, now) is None  # the first raise is gone
        cur.execute("SELECT COUNT(*) FROM tr_change_people")
        assert cur.fetchone()[0] == changes.LOG_KEEP
        recent = (("tr_people", now[0][1] - 2),)
        assert changes.changed_people(cur, recent, now) == {
            f"p{changes.LOG_KEEP - 1}",
            f"p{changes.LOG_KEEP}",
        }
