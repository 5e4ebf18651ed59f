"""Kept mobility computations brought up to date equal fresh ones on a real PostgreSQL.

The same property as ``tests/unit/test_mobility_delta.py`` (:mod:`tests.support.mobility_delta`),
on PostgreSQL: its change log, its ``IN`` lists and its row order must give the same answers.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.tracking.readmodels import ReadModels
from shared.sql import Database
from tests.support.mobility_delta import check_kept_answers_equal_fresh
from tests.support.postgres_server import create_database, drop_database


def test_kept_mobility_answers_brought_up_to_date_equal_fresh_ones(postgres_url: str) -> None:
    updated: list[int] = []
    created: list[str] = []

    def postgres() -> ReadModels:
        name = f"t_{uuid.uuid4().hex[:16]}"
        created.append(name)
        built = ReadModels(Database(create_database(postgres_url, name)))
        built.create()
        return built

    @settings(
        max_examples=5,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def property_holds(data: st.DataObject) -> None:
        updated.append(check_kept_answers_equal_fresh(data, postgres))

    try:
        property_holds()
    finally:
        for name in created:
            drop_database(postgres_url, name)
    assert sum(updated) > 0  # else fresh answers were only compared with fresh ones
