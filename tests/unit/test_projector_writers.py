"""Concurrent projectors on one PostgreSQL read model commit their batches one at a time."""

from __future__ import annotations

import psycopg
import pytest

from services.tracking.readmodels import one_writer_at_a_time
from shared.sql import Database


def test_a_second_projector_batch_waits_for_the_first_to_commit(fresh_postgres_url: str) -> None:
    first, second = Database(fresh_postgres_url), Database(fresh_postgres_url)
    try:
        with first.transaction() as cur:
            one_writer_at_a_time(first, cur)
            with pytest.raises(psycopg.errors.LockNotAvailable), second.transaction() as other:
                other.execute("SET LOCAL lock_timeout = '200ms'")
                one_writer_at_a_time(second, other)
        # Committed: the lock went with the transaction, and the next batch takes it at once.
        with second.transaction() as other:
            other.execute("SET LOCAL lock_timeout = '200ms'")
            one_writer_at_a_time(second, other)
    finally:
        first.close()
        second.close()
