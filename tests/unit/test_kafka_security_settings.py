"""The Kafka principal settings and the restricted feed's readers: parsed, checked, masked."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from services.cli import main
from shared.settings import Settings, SettingsError

SASL = {
    "POLKU_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "POLKU_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    "POLKU_KAFKA_USERNAME": "tracking",
    "POLKU_KAFKA_PASSWORD": "pw-7c1e9b",
}


def test_sasl_settings_become_every_clients_connection_settings() -> None:
    settings = Settings.from_env(SASL)
    assert settings.kafka_security() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "tracking",
        "sasl_plain_password": "pw-7c1e9b",
    }
    assert Settings.from_env({"POLKU_KAFKA_BOOTSTRAP_SERVERS": "k:9092"}).kafka_security() == {}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"POLKU_KAFKA_SECURITY_PROTOCOL": "SSL_ONLY"}, "POLKU_KAFKA_SECURITY_PROTOCOL"),
        ({"POLKU_KAFKA_SASL_MECHANISM": "GSSAPI"}, "POLKU_KAFKA_SASL_MECHANISM"),
        ({"POLKU_KAFKA_PASSWORD": ""}, "POLKU_KAFKA_PASSWORD"),
        ({"POLKU_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}, "POLKU_KAFKA_USERNAME"),
    ],
)
def test_inconsistent_kafka_security_is_refused_by_name(
    changes: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**SASL, **changes})
    assert named in str(caught.value)


def test_the_restricted_readers_are_a_comma_separated_list() -> None:
    assert Settings.from_env({}).restricted_readers == ("tracking",)
    parsed = Settings.from_env({"POLKU_RESTRICTED_READERS": "tracking-a, tracking-b"})
    assert parsed.restricted_readers == ("tracking-a", "tracking-b")
    with pytest.raises(SettingsError, match="POLKU_RESTRICTED_READERS"):
        Settings.from_env({"POLKU_RESTRICTED_READERS": "tracking,,other"})


def test_polku_settings_never_prints_the_kafka_password() -> None:
    result = CliRunner().invoke(main, ["settings"], env=SASL)
    assert result.exit_code == 0, result.output
    assert "pw-7c1e9b" not in result.output
    assert "POLKU_KAFKA_USERNAME=tracking" in result.output
