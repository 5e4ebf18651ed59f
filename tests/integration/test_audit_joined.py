"""Verification's one-pass read (each event joined with its chain row) on a real PostgreSQL:
it returns what the two separate reads return, a row without its chain row shows as None,
and verification takes it and still names the difference when there is one."""

from __future__ import annotations

from pathlib import Path

from services.runtime import build_write_service
from shared.audit.chain import row_hash
from shared.audit.joined import PostgresJoined, joined_reader
from shared.audit.verify import Events, Kind, verify
from shared.settings import Settings

META = {"actor_sub": "t", "actor_role": "coordinator", "correlation_id": "c"}


def test_the_joined_read_on_postgres(fresh_postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_postgres_url)
    service = build_write_service(settings, "enrolment")
    try:
        app = service.application
        for name in ("ONE", "TWO", "THREE"):
            app.define_programme(name, "TEM", META)
        recorder = app.recorder
        reader = joined_reader(recorder)
        assert isinstance(reader, PostgresJoined)
        rows = reader.select_joined(0, 10)
        chain = recorder.select_chain(0, 10)
        assert [r[0] for r in rows] == [c.position for c in chain] and len(rows) == 3
        for (_, oid, version, topic, state, stored, chained), link in zip(rows, chain, strict=True):
            assert row_hash(oid, version, topic, state) == stored == link.row_hash
            assert chained == link.link
        assert reader.chain_count(0) == 3 and reader.chain_count(rows[0][0]) == 2

        report = verify("enrolment", Events(recorder), [], {}, require_checkpoint=False)
        assert report.kind is Kind.OK and report.events == 3, report.line()

        import psycopg

        with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # past the trigger
            conn.execute(f"DELETE FROM {recorder.chain_table} WHERE position = %s", (rows[1][0],))
        assert reader.select_joined(0, 10)[1][5:] == (None, None)
        report = verify("enrolment", Events(recorder), [], {}, require_checkpoint=False)
        assert (report.kind, report.position) == (Kind.EXTRA, rows[1][0]), report.line()
    finally:
        service.close()


def test_links_made_by_the_server_and_here_agree(fresh_postgres_url: str, tmp_path: Path) -> None:
    """A single event is linked by PostgreSQL's sha256 in its insert, several by this process
    after reading the last link: saves of 1, 3, 1 and 2 events interleaved give one chain, each
    link the one :func:`shared.audit.chain.link` computes, and it verifies."""
    from services.enrolment.domain.programmes import Programme
    from shared.audit.chain import GENESIS, link

    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_postgres_url)
    service = build_write_service(settings, "enrolment")
    try:
        app = service.application
        for size in (1, 3, 1, 2):
            app.save(*(Programme.define(f"P{size}-{n}", "TEM", "", [], META) for n in range(size)))
        recorder = app.recorder
        chain = recorder.select_chain(0, 20)
        assert len(chain) == 7
        previous = GENESIS
        for row in chain:
            previous = link(previous, row.position, row.row_hash)
            assert row.link == previous, row.position
        report = verify("enrolment", Events(recorder), [], {}, require_checkpoint=False)
        assert report.kind is Kind.OK and report.events == 7, report.line()
    finally:
        service.close()
