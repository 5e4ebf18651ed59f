"""The access log's chain on its own: entries verify, pruning keeps what remains verifiable,
and the person filter matches whole ids only."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.audit.access import Access, AccessLog, Filters, canonical, now
from shared.audit.bundle import Range, access_range
from shared.audit.checkpoints import CheckpointFile, Signer
from shared.audit.ledger import Ledger
from shared.audit.people import people_in
from shared.audit.verify import Kind
from shared.sql import Database


def entry(at: dt.datetime, person: str) -> Access:
    return Access(at.isoformat(), "hr_admin", "hr-1", "GET /x/{person_id}", "/x/1", (person,), 200)


def test_pruning_keeps_the_rest_verifiable(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        log = AccessLog(database, "x")
        start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        for day in range(4):
            log.write(entry(start + dt.timedelta(days=day), f"p{day}"))
        ledger = Ledger(
            "x.access", log.source, Signer.from_file(tmp_path / "k"), CheckpointFile(tmp_path / "c")
        )
        ledger.checkpoint()
        assert log.prune(start + dt.timedelta(days=2)) == 2
        log.write(entry(start + dt.timedelta(days=5), "p5"))
        report = ledger.verify()
        assert report.kind is Kind.OK and report.verified_to == 5, report.line()
        assert [e["position"] for e in log.query(Filters(), 0, 10)] == [3, 4, 5]
        assert [e["position"] for e in log.query(Filters(person="p3"), 0, 10)] == [4]
    finally:
        database.close()


def test_people_are_read_from_answers() -> None:
    a, b, c = ("0" * 31 + str(i) for i in range(3))
    body = (
        f'{{"items": [{{"id": "{a}", "person_id": "{b}"}}], "person_ids": ["{c}"],'
        f' "promoted_person_id": "{a}"}}'
    ).encode()
    assert people_in(body, ids_are_people=False) == [b, c, a]  # first seen first
    assert set(people_in(body, ids_are_people=True)) == {a, b, c}


def test_an_export_period_at_any_offset_covers_the_same_entries(tmp_path: Path) -> None:
    """``polku audit export --from/--to`` with an offset: compared as times, not as texts."""
    database = Database(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        log = AccessLog(database, "x")
        noon = dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC)
        for hour in range(3):
            at = (noon + dt.timedelta(hours=hour)).isoformat(timespec="microseconds")
            log.write(Access(at, "hr_admin", "hr-1", "GET /x", "/x", (), 200))
        helsinki = dt.timezone(dt.timedelta(hours=2))
        since, until = (noon + dt.timedelta(hours=h) for h in (1, 2))
        span = access_range(log, since.astimezone(helsinki), until.astimezone(helsinki), [])
        assert span == Range(2, 2)
    finally:
        database.close()


_TEXT = st.text(st.characters(codec="utf-8"), max_size=30) | st.text(
    st.characters(max_codepoint=0x7F), max_size=30
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=9))
def test_the_row_hash_bytes_are_the_standard_compact_json(fields: list[str]) -> None:
    """orjson's fast form is taken only where it writes what ``json.dumps`` writes: the row
    hashes of every log already written, and every verifier, depend on these bytes."""
    assert canonical(fields) == json.dumps(fields, separators=(",", ":")).encode()


def test_the_row_hash_bytes_of_text_either_encoder_writes_differently() -> None:
    for odd in ["é", "\x7f", "\U0001f600", "a\u2028b", '"\\\n\x00']:
        assert canonical([odd]) == json.dumps([odd], separators=(",", ":")).encode(), odd


def test_now_is_utc_to_the_microsecond_as_isoformat_writes_it() -> None:
    before = dt.datetime.now(dt.UTC)
    taken = [now() for _ in range(2000)]
    after = dt.datetime.now(dt.UTC)
    for text in taken[::97] + taken[-1:]:
        moment = dt.datetime.fromisoformat(text)
        assert moment.isoformat(timespec="microseconds") == text
        assert before <= moment <= after
    assert taken == sorted(taken)
