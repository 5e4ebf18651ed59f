"""The idempotency store's claims and answers, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.sql import Database
from shared.web import idempotency
from shared.web.idempotency import IdempotencyStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IdempotencyStore]:
    if request.param == "postgres":
        url = request.getfixturevalue("fresh_postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    database = Database(url)
    yield IdempotencyStore(database, "enrolment")
    database.close()


def test_the_first_claim_wins_and_later_ones_see_the_answer(store: IdempotencyStore) -> None:
    assert store.claim("hr_admin:a", "k", "f1") is None
    pending = store.claim("hr_admin:a", "k", "f1")
    assert pending is not None and pending.status is None
    store.answer("hr_admin:a", "k", 201, '{"id": "x"}', '{"Content-Type": "application/json"}')
    answered = store.claim("hr_admin:a", "k", "f2")
    assert answered == ("f1", 201, '{"id": "x"}', '{"Content-Type": "application/json"}')
    assert store.claim("hr_admin:b", "k", "f1") is None  # another caller's key is its own


def test_a_released_key_can_be_claimed_again(store: IdempotencyStore) -> None:
    assert store.claim("s", "k", "f") is None
    store.release("s", "k")
    assert store.claim("s", "k", "f") is None


def test_forgetting_leaves_a_tombstone_for_every_answer_that_names_the_text(
    store: IdempotencyStore,
) -> None:
    for key, body in [("1", '{"id": "p-1"}'), ("2", '{"id": "p-2"}'), ("3", '{"of": "p-1"}')]:
        store.claim("s", key, "f")
        store.answer("s", key, 201, body, "{}")
    assert store.forget("p-1") == 2
    assert store.claim("s", "2", "f") == ("f", 201, '{"id": "p-2"}', "{}")
    # Answer and fingerprint gone, the key still claimed: a retry cannot run again.
    assert store.claim("s", "1", "f") == (idempotency.ERASED, None, None, None)
    assert store.claim("s", "3", "f") == (idempotency.ERASED, None, None, None)


def test_a_tombstone_expires_with_its_key(
    store: IdempotencyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.claim("s", "k", "f")
    store.answer("s", "k", 201, '{"id": "p-1"}', "{}")
    store.forget("p-1")
    later = time.time() + idempotency.KEEP_SECONDS + 60
    monkeypatch.setattr(idempotency.time, "time", lambda: later)
    assert store.claim("s", "k", "f") is None  # a new request after a day


def test_keys_older_than_a_day_are_dropped(
    store: IdempotencyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.claim("s", "old", "f")
    store.answer("s", "old", 201, "{}", "{}")
    later = time.time() + idempotency.KEEP_SECONDS + 60
    monkeypatch.setattr(idempotency.time, "time", lambda: later)
    assert store.claim("s", "old", "f") is None
