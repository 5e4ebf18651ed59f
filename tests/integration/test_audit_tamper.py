"""Every kind of tampering with a stored event log is caught, at the right position, on SQLite
and on a real PostgreSQL, by the library call and by ``polku audit verify``'s exit status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli import main
from services.runtime import WriteService, build_write_service
from shared.audit.access import Access
from shared.audit.verify import EXIT_CODES, Kind
from shared.settings import Settings
from tests.support.postgres_server import scratch_database
from tests.support.tamper import Store

META = {"actor_sub": "t", "actor_role": "coordinator", "correlation_id": "c"}


@dataclass
class Log:
    service: WriteService
    settings: Settings
    positions: list[int]
    store: Store
    env: dict[str, str]


def _programme(service: WriteService, name: str) -> None:
    service.application.define_programme(name, "TEM", META)


@pytest.fixture(scope="module")
def tamper_postgres_url(postgres_url: str) -> Iterator[str]:
    """One database for the module's PostgreSQL logs, emptied (as a DBA) before each."""
    with scratch_database(postgres_url) as url:
        yield url


def _emptied(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # past the append-only trigger
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    url = (
        _emptied(request.getfixturevalue("tamper_postgres_url"))
        if request.param == "postgres"
        else None
    )
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    service = build_write_service(settings, "enrolment")
    app = service.application
    programme = app.define_programme("TEMPO", "TEM", META).id
    app.plan_cohort(programme, "2020", 5, dt.date(2020, 2, 1), dt.date(2020, 6, 30), META)
    _programme(service, "THIRD")
    assert service.ledger is not None
    first = service.ledger.checkpoint()
    _programme(service, "FOURTH")
    _programme(service, "FIFTH")
    last = service.ledger.checkpoint()
    positions = [n.id for n in app.notifications_after(0, 100)]
    assert len(positions) == 5 and first and last
    assert (first.position, last.position) == (positions[2], positions[4])
    env = {
        "POLKU_DATA_DIR": str(settings.data_dir),
        "POLKU_DATABASE_URL": url or "",
        "POLKU_MASTER_KEY_FILE": str(settings.resolved_master_key_file()),
        "POLKU_AUDIT_KEY_FILE": str(settings.resolved_audit_key_file()),
        "POLKU_AUDIT_CHECKPOINT_FILE": str(settings.resolved_checkpoint_file()),
    }
    yield Log(
        service, settings, positions, Store(settings.store_url("enrolment"), app.recorder), env
    )
    service.close()


def _edit_data(log: Log) -> None:
    log.store.set_state(log.positions[0], b'"name":"TEMPO"', b'"name":"TEMPA"')


def _edit_actor(log: Log) -> None:
    log.store.set_state(log.positions[1], b'"actor_sub":"t"', b'"actor_sub":"x"')


def _delete(log: Log) -> None:
    log.store.delete([log.positions[2]])


def _swap(log: Log) -> None:
    log.store.swap(log.positions[1], log.positions[3])


def _truncate(log: Log) -> None:
    log.store.delete(log.positions[3:])


def _truncate_with_chain(log: Log) -> None:
    log.store.delete(log.positions[3:], chain_too=True)


def _rewrite_and_rechain(log: Log) -> None:
    log.store.set_state(log.positions[3], b'"name":"FOURTH"', b'"name":"FORGED"')
    log.store.rechain()


# (tampering, expected kind, index of the expected first position)
CASES: dict[str, tuple[Callable[[Log], None], Kind, int]] = {
    "edit data": (_edit_data, Kind.CHANGED, 0),
    "edit actor": (_edit_actor, Kind.CHANGED, 1),
    "delete a row": (_delete, Kind.MISSING, 2),
    "swap two rows": (_swap, Kind.REORDERED, 1),
    "truncate the tail": (_truncate, Kind.MISSING, 3),
    "truncate the tail and its chain": (_truncate_with_chain, Kind.MISSING, 3),
    "rewrite and re-chain": (_rewrite_and_rechain, Kind.REWRITTEN, 3),
}


def test_an_untouched_log_verifies(log: Log) -> None:
    assert log.service.ledger is not None
    report = log.service.ledger.verify()
    assert report.kind is Kind.OK, report.line()
    assert (report.verified_to, report.events, report.checkpoints) == (log.positions[4], 5, 2)
    result = CliRunner().invoke(main, ["audit", "verify", "--service", "enrolment"], env=log.env)
    assert result.exit_code == 0, result.output
    assert "enrolment: ok, 5 events" in result.output
    later = CliRunner().invoke(
        main, ["audit", "verify", "--service", "enrolment", "--from", "3"], env=log.env
    )
    assert later.exit_code == 0, later.output
    assert "enrolment: ok, 3 events verified up to position" in later.output


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_caught_at_its_position(log: Log, case: str) -> None:
    tamper, kind, index = CASES[case]
    tamper(log)
    assert log.service.ledger is not None
    report = log.service.ledger.verify()
    first = report.since if kind is Kind.REWRITTEN else report.position
    assert (report.kind, first) == (kind, log.positions[index]), report.line()
    result = CliRunner().invoke(main, ["audit", "verify", "--service", "enrolment"], env=log.env)
    assert result.exit_code == EXIT_CODES[kind], result.output
    assert f"enrolment: {kind.value} at position {report.position}" in result.output
    print(f"TAMPER {case} | {log.store.url.split(':')[0]} | {first} | {result.exit_code}")


def test_an_inserted_row_is_extra(log: Log) -> None:
    with log.store.cursor() as cur:
        mark = log.store.mark
        cur.execute(
            f"INSERT INTO {log.store.events} (originator_id, originator_version, topic, state) "
            f"SELECT originator_id, 99, topic, state FROM {log.store.events} "
            f"WHERE {log.store.id} = {mark}",
            (log.positions[0],),
        )
    assert log.service.ledger is not None
    report = log.service.ledger.verify()
    assert report.kind is Kind.EXTRA and report.position > log.positions[4], report.line()


def test_a_forged_checkpoint_signature_is_refused(log: Log) -> None:
    # Someone with the checkpoint file but not the key moves the first anchor's link.
    path = log.settings.resolved_checkpoint_file()
    text = path.read_text()
    path.write_text(text.replace('"link": "', '"link": "00', 1))
    assert log.service.ledger is not None
    report = log.service.ledger.verify()
    assert report.kind is Kind.BAD_SIGNATURE, report.line()


def test_the_services_role_cannot_update_or_delete_stored_events(
    owned_postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    settings = Settings(data_dir=tmp_path / "data", database_url=owned_postgres_url)
    service = build_write_service(settings, "enrolment")
    try:
        _programme(service, "TEMPO")
        recorder = service.application.recorder
        assert service.audit is not None
        access = service.audit.access
        access.write(Access("2026-01-01T00:00:00+00:00", "hr_admin", "h", "GET /x", "/x", (), 200))
        refused = []
        for statement in (
            f"UPDATE {recorder.events_table_name} SET topic = 'x'",
            f"DELETE FROM {recorder.events_table_name}",
            f"TRUNCATE {recorder.events_table_name}",
            f"UPDATE {recorder.chain_table} SET link = row_hash",
            f"DELETE FROM {recorder.chain_table}",
            f"UPDATE {access.table} SET subject = 'someone-else'",
        ):
            # As the role the service itself connects with (its own, not a superuser).
            with psycopg.connect(owned_postgres_url) as conn:
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as refusal:
                    conn.execute(statement)
                refused.append(str(refusal.value).split("\n")[0])
        assert all("append-only" in reason for reason in refused), refused
        assert service.application.head() == 1
        assert service.ledger is not None and service.ledger.verify().kind is Kind.NO_CHECKPOINT
    finally:
        service.close()


# The command is the same on both stores; the tampering above covers both.
@pytest.mark.parametrize("log", ["sqlite"], indirect=True)
def test_checkpoint_on_demand_signs_only_a_chain_that_holds(log: Log) -> None:
    _programme(log.service, "SIXTH")
    signed = CliRunner().invoke(
        main, ["audit", "checkpoint", "--service", "enrolment"], env=log.env
    )
    assert signed.exit_code == 0, signed.output
    head = log.service.application.head()
    assert f"enrolment: signed position {head}" in signed.output
    _edit_data(log)
    refused = CliRunner().invoke(
        main, ["audit", "checkpoint", "--service", "enrolment"], env=log.env
    )
    assert refused.exit_code == 1, refused.output
    assert "not signed: enrolment: changed at position" in refused.output


def test_a_log_from_before_chaining_is_chained_once_at_start(tmp_path: Path) -> None:
    from services.enrolment.application import EnrolmentApplication

    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    legacy = EnrolmentApplication(settings.eventstore_env("enrolment"))  # no chain
    legacy.define_programme("OLD", "TEM", META)
    legacy.define_programme("OLDER", "TEM", META)
    legacy.close()
    service = build_write_service(settings, "enrolment")
    try:
        _programme(service, "NEW")
        assert service.ledger is not None
        report = service.ledger.verify()
        assert (report.kind, report.verified_to) == (Kind.NO_CHECKPOINT, 3), report.line()
        assert service.application.recorder.backfill_chain() == 0  # never again
    finally:
        service.close()
