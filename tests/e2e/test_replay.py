"""``polku replay`` in the production shape: the live read models on PostgreSQL, fed through a
real Kafka broker, against a rebuild from offset 0 into a fresh SQLite file.

The pilot is loaded through the APIs while the relays and the projector run. The rebuild must
equal the live PostgreSQL tables; a corrupted PostgreSQL row is named by key; ``--swap``
repairs it while the live projector keeps running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from services.cli import main
from services.runtime import Embedded
from services.tracking.replay import REPLAY_FILE
from services.tracking.schema import VIEW_TABLES
from shared.settings import WRITE_SERVICES, Settings
from tests.support.pilot import load_pilot
from tests.support.slice import SECRET, wait_for

Start = Callable[[Settings], Embedded]


def environment(settings: Settings) -> dict[str, str]:
    assert settings.database_url and settings.kafka_bootstrap_servers
    return {
        "POLKU_DATA_DIR": str(settings.data_dir),
        "POLKU_DATABASE_URL": settings.database_url,
        "POLKU_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "POLKU_KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
        "POLKU_KAFKA_GROUP_ID": settings.kafka_group_id,
        **(
            {}
            if not settings.kafka_username
            else {
                "POLKU_KAFKA_SECURITY_PROTOCOL": settings.kafka_security_protocol,
                "POLKU_KAFKA_SASL_MECHANISM": settings.kafka_sasl_mechanism,
                "POLKU_KAFKA_USERNAME": settings.kafka_username,
                "POLKU_KAFKA_PASSWORD": settings.kafka_password or "",
            }
        ),
        "POLKU_FEED": "kafka",
        "POLKU_JWT_SECRET": SECRET,
    }


def replay(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(main, ["replay", *args], env=environment(settings))


def projected(runtime: Embedded) -> None:
    """Waits until the live projector has applied every event both outboxes hold."""
    expected = sum(
        len(runtime.services[name].outbox.read(0, 100_000).envelopes) for name in WRITE_SERVICES
    )
    readmodels = runtime.tracking.readmodels
    wait_for(lambda: readmodels.count("tr_applied_events") == expected, 120, "the pilot projected")
    # Positions are stored with the batch, so they settle with it; wait for a quiet moment.
    settled = readmodels.positions()
    wait_for(lambda: readmodels.positions() == settled, 10, "positions to settle")


def test_a_replay_from_kafka_equals_the_live_postgresql_read_models_and_swap_repairs_them(
    kafka_settings: Settings, start: Start, tmp_path: Path
) -> None:
    production = start(kafka_settings)
    load_pilot(production, SECRET)
    projected(production)
    live = production.tracking.readmodels
    assert live.database.dialect == "postgresql"

    first = replay(kafka_settings)
    assert first.exit_code == 0, first.output
    assert "identical: all" in first.stdout and "may be lag" not in first.stdout
    assert (kafka_settings.data_dir / REPLAY_FILE).exists()

    with live.database.transaction() as cur:
        cur.execute("SELECT result_id FROM tr_results WHERE voided = 0 ORDER BY result_id LIMIT 1")
        result_id = cur.fetchone()[0]
        cur.execute("UPDATE tr_results SET voided = 1 WHERE result_id = ?", (result_id,))
        cur.execute(
            "SELECT person_id, event_id FROM tr_event_people ORDER BY person_id, event_id LIMIT 1"
        )
        orphan = tuple(cur.fetchone())
        cur.execute("DELETE FROM tr_event_people WHERE person_id = ? AND event_id = ?", orphan)

    differing = replay(kafka_settings, "--into", str(tmp_path / "second.sqlite"))
    assert differing.exit_code == 1, differing.output
    assert f"tr_results changed: {result_id}" in differing.stdout
    assert f"tr_event_people missing in live: {orphan[0]}/{orphan[1]}" in differing.stdout

    swapped = replay(kafka_settings, "--swap")
    assert swapped.exit_code == 0, swapped.output
    assert "swapped:" in swapped.stdout
    after = swapped.stdout[swapped.stdout.index("after the swap:") :]
    assert "identical: all" in after
    with live.database.transaction(write=False) as cur:
        # Every swapped table was vacuumed and analyzed at once, not left to autovacuum.
        cur.execute(
            "SELECT relname FROM pg_stat_user_tables"
            " WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
        )
        vacuumed = {row[0] for row in cur.fetchall()}
        assert set(VIEW_TABLES) <= vacuumed, set(VIEW_TABLES) - vacuumed
        cur.execute("SELECT voided FROM tr_results WHERE result_id = ?", (result_id,))
        assert cur.fetchone()[0] == 0
        cur.execute(
            "SELECT COUNT(*) FROM tr_event_people WHERE person_id = ? AND event_id = ?", orphan
        )
        assert cur.fetchone()[0] == 1
    # The live projector goes on after the swap: a new event reaches the swapped tables.
    production.services["enrolment"].application.define_programme("Later", "TEM", {})
    wait_for(lambda: live.count("tr_programmes") == 2, 60, "the projector after the swap")
