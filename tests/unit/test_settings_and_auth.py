"""Settings from the environment, and bearer tokens."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
from pathlib import Path

import jwt
import pytest

from shared.auth import ROLES, AuthError, Principal, issue_token, verify_token
from shared.settings import Settings, SettingsError, default_master_key_file

SECRET = "k" * 32

# Settings ------------------------------------------------------------------------------------


def test_defaults_are_sqlite_files_under_var_and_the_embedded_feed() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path("var")
    assert settings.feed == "embedded"
    assert settings.store_url("enrolment") == "sqlite:///var/enrolment.sqlite"
    assert settings.readmodel_url() == "sqlite:///var/tracking.sqlite"
    assert settings.eventstore_env("enrolment") == {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": "var/enrolment.sqlite",
        "SQLITE_LOCK_TIMEOUT": "10",
        "SNAPSHOTS_KEPT": "2",
    }
    assert (settings.relay_batch_size, settings.poll_interval) == (2000, 0.2)
    assert settings.kafka_group_id == "polku-tracking"


def test_variables_outside_polku_are_ignored() -> None:
    environ = {"PATH": "/bin", "DATABASE_URL": "mysql://x"}
    # The master key's default lies outside the data dir, under the user's configuration.
    expected = Settings(master_key_file=default_master_key_file(environ))
    assert Settings.from_env(environ) == expected


def test_each_write_service_gets_its_own_sqlite_file() -> None:
    settings = Settings.from_env({"POLKU_DATA_DIR": "/data"})
    assert settings.store_url("enrolment") != settings.store_url("assessment")
    assert settings.eventstore_env("assessment")["SQLITE_DBNAME"] == "/data/assessment.sqlite"


def test_a_postgresql_url_becomes_the_eventsourcing_postgres_environment() -> None:
    settings = Settings.from_env(
        {"POLKU_DATABASE_URL": "postgresql://po%40lku:s%2Fcret@db.internal:6543/polku"}
    )
    env = settings.eventstore_env("enrolment")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    # Percent-encoded credentials are decoded: "@" and "/" are legal in real passwords.
    assert env["POSTGRES_USER"] == "po@lku"
    assert env["POSTGRES_PASSWORD"] == "s/cret"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.internal",
        "6543",
        "polku",
    )
    # The read models follow the event stores unless told otherwise.
    assert settings.readmodel_url() == settings.database_url


def test_the_postgres_port_defaults_to_5432() -> None:
    env = Settings(database_url="postgresql://u@db/polku").eventstore_env("enrolment")
    assert env["POSTGRES_PORT"] == "5432"


def test_a_separate_tracking_database_wins_for_read_models() -> None:
    settings = Settings.from_env(
        {
            "POLKU_DATABASE_URL": "postgresql://u:p@db/events",
            "POLKU_TRACKING_DATABASE_URL": "postgresql://u:p@db/views",
        }
    )
    assert settings.readmodel_url() == "postgresql://u:p@db/views"
    assert settings.store_url("enrolment") == "postgresql://u:p@db/events"


def test_kafka_brokers_switch_the_feed_to_kafka() -> None:
    settings = Settings.from_env({"POLKU_KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092"})
    assert settings.feed == "kafka"
    assert settings.kafka_bootstrap_servers == "k1:9092,k2:9092"


def test_an_explicit_feed_wins_over_the_kafka_default() -> None:
    settings = Settings.from_env(
        {
            "POLKU_KAFKA_BOOTSTRAP_SERVERS": "k:9092",
            "POLKU_FEED": "http",
            "POLKU_ENROLMENT_URL": "http://enrolment:8000",
        }
    )
    assert settings.feed == "http"


def test_the_http_feed_without_a_source_url_is_rejected() -> None:
    # Otherwise the projector polls no source at all and reports "applied 0 events".
    with pytest.raises(SettingsError, match="POLKU_ENROLMENT_URL and/or POLKU_ASSESSMENT_URL"):
        Settings.from_env({"POLKU_FEED": "http"})


def test_the_http_feed_may_read_a_single_write_service() -> None:
    settings = Settings.from_env(
        {"POLKU_FEED": "http", "POLKU_ASSESSMENT_URL": "https://assessment.internal"}
    )
    assert dict(settings.service_urls) == {"assessment": "https://assessment.internal"}


@pytest.mark.parametrize("url", ["enrolment:8000", "ftp://enrolment", "http://"])
def test_a_service_url_that_is_not_http_is_rejected_by_name(url: str) -> None:
    with pytest.raises(SettingsError, match="POLKU_ENROLMENT_URL"):
        Settings.from_env({"POLKU_FEED": "http", "POLKU_ENROLMENT_URL": url})


@pytest.mark.parametrize(
    "url", ["sqlite://tracking.db", "sqlite:tracking.db", "sqlite://", "sqlite:///"]
)
@pytest.mark.parametrize("variable", ["POLKU_DATABASE_URL", "POLKU_TRACKING_DATABASE_URL"])
def test_a_malformed_sqlite_url_is_rejected_with_the_accepted_forms(
    variable: str, url: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: url})
    message = str(raised.value)
    assert variable in message
    assert "sqlite:///relative/path or sqlite:////absolute/path" in message


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///views.sqlite", "views.sqlite"),
        ("sqlite:////srv/views.sqlite", "/srv/views.sqlite"),
    ],
)
def test_relative_and_absolute_sqlite_urls_are_accepted(url: str, path: str) -> None:
    from shared.settings import sqlite_file

    settings = Settings.from_env({"POLKU_TRACKING_DATABASE_URL": url})
    assert sqlite_file(settings.readmodel_url()) == path


def test_sqlite_file_explains_a_malformed_url_rather_than_failing_on_an_index() -> None:
    from shared.settings import sqlite_file

    with pytest.raises(SettingsError, match="sqlite:///relative/path"):
        sqlite_file("sqlite://tracking.db")


def test_service_urls_are_read_per_write_service() -> None:
    settings = Settings.from_env({"POLKU_ENROLMENT_URL": "http://enrolment:8000"})
    assert dict(settings.service_urls) == {"enrolment": "http://enrolment:8000"}


def test_an_unknown_polku_variable_is_rejected_by_name() -> None:
    # A typo must not silently fall back to a default (e.g. SQLite instead of PostgreSQL).
    with pytest.raises(SettingsError, match="POLKU_DATABSE_URL"):
        Settings.from_env({"POLKU_DATABSE_URL": "postgresql://db/polku"})


@pytest.mark.parametrize("value", ["abc", "1.5", "0", "-3"])
def test_a_bad_batch_size_is_rejected_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match="POLKU_RELAY_BATCH_SIZE"):
        Settings.from_env({"POLKU_RELAY_BATCH_SIZE": value})


@pytest.mark.parametrize("value", ["soon", "0", "-0.5"])
def test_a_bad_poll_interval_is_rejected_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match="POLKU_POLL_INTERVAL"):
        Settings.from_env({"POLKU_POLL_INTERVAL": value})


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_non_finite_poll_interval_is_rejected(value: str) -> None:
    with pytest.raises(SettingsError, match="POLKU_POLL_INTERVAL"):
        Settings.from_env({"POLKU_POLL_INTERVAL": value})


def test_a_good_batch_size_and_interval_are_parsed() -> None:
    settings = Settings.from_env({"POLKU_RELAY_BATCH_SIZE": "20", "POLKU_POLL_INTERVAL": "0.05"})
    assert (settings.relay_batch_size, settings.poll_interval) == (20, 0.05)


def test_the_kafka_feed_without_brokers_is_rejected() -> None:
    with pytest.raises(SettingsError, match="POLKU_KAFKA_BOOTSTRAP_SERVERS"):
        Settings.from_env({"POLKU_FEED": "kafka"})


def test_an_unknown_feed_is_rejected() -> None:
    with pytest.raises(SettingsError, match="POLKU_FEED"):
        Settings.from_env({"POLKU_FEED": "carrier-pigeon"})


def test_a_database_url_of_another_kind_is_rejected() -> None:
    with pytest.raises(SettingsError, match="POLKU_DATABASE_URL"):
        Settings.from_env({"POLKU_DATABASE_URL": "mysql://db/polku"})


# Tokens --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_an_issued_token_verifies_to_its_subject_and_role(role: str) -> None:
    token = issue_token(SECRET, "person-42", role)
    assert verify_token(SECRET, token) == Principal(sub="person-42", role=role)


def test_an_expired_token_is_refused() -> None:
    # A minute past its expiry: beyond the leeway for clock skew.
    token = issue_token(SECRET, "alice", "coach", ttl=dt.timedelta(minutes=-1))
    with pytest.raises(AuthError, match="expired"):
        verify_token(SECRET, token)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = issue_token("o" * 32, "alice", "hr_admin")
    with pytest.raises(AuthError):
        verify_token(SECRET, token)


def test_a_token_naming_an_unknown_role_is_refused() -> None:
    # Signed correctly, so only the role check stands between it and access.
    token = jwt.encode(
        {**_claims(), "role": "superuser"},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(AuthError, match="unknown role"):
        verify_token(SECRET, token, now=NOW)


def test_issuing_a_token_for_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError):
        issue_token(SECRET, "alice", "superuser")


def test_a_tampered_token_is_refused() -> None:
    # Promote a coach to hr_admin by rewriting the payload but keeping the signature.
    header, payload, signature = issue_token(SECRET, "alice", "coach").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "hr_admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthError):
        verify_token(SECRET, f"{header}.{forged}.{signature}")


@pytest.mark.parametrize(
    ("missing", "reason"),
    [
        ("sub", "no subject"),
        ("role", "unknown role"),
        ("exp", "no expiry"),
        ("iss", "issuer"),
        ("aud", "audience"),
    ],
)
def test_a_token_without_a_required_claim_is_refused(missing: str, reason: str) -> None:
    claims = _claims()
    del claims[missing]
    with pytest.raises(AuthError, match=reason):
        verify_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"), now=NOW)


def test_an_unsigned_token_is_refused() -> None:
    with pytest.raises(AuthError, match="algorithm 'none'"):
        verify_token(SECRET, jwt.encode(_claims(), None, algorithm="none"), now=NOW)


def test_a_token_of_another_hmac_algorithm_is_refused() -> None:
    with pytest.raises(AuthError, match="algorithm 'HS512'"):
        verify_token(SECRET, jwt.encode(_claims(), SECRET * 2, algorithm="HS512"), now=NOW)


NOW = 1_900_000_000.0
"""A fixed "now" for the time checks: verify_token takes it, so no test reads the clock."""


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "someone-else"}, "issuer"),
        ({"aud": "another-system"}, "audience"),
        ({"aud": ["another-system"]}, "audience"),
        ({"sub": ""}, "subject .sub. is empty"),
        ({"sub": "   "}, "subject .sub. is empty"),
        ({"sub": 42}, "subject .sub. is not a string"),
        ({"sub": None}, "no subject"),
        ({"exp": "1900003600"}, "exp is not a number"),
        ({"exp": True}, "exp is not a number"),
        ({"iat": "yesterday"}, "iat is not a number"),
        ({"nbf": [1]}, "nbf is not a number"),
        ({"exp": NOW - 60}, "expired"),
        ({"iat": NOW + 600, "exp": NOW + 3600}, "issued in the future"),
        ({"nbf": NOW + 600}, "not valid yet"),
        ({"iat": NOW - 60, "exp": NOW + 25 * 3600}, "lives longer than the allowed 24 h"),
        ({"iat": None, "exp": NOW + 25 * 3600}, "lives longer"),
    ],
)
def test_each_bad_claim_is_refused_with_its_own_reason(
    changes: dict[str, object], reason: str
) -> None:
    claims = {**_claims(), **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    with pytest.raises(AuthError, match=reason):
        verify_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"), now=NOW)


def test_the_claims_of_a_good_token_pass_the_same_checks() -> None:
    # The baseline of the test above: without the change, the same claims verify.
    token = jwt.encode(_claims(), SECRET, algorithm="HS256")
    assert verify_token(SECRET, token, now=NOW) == Principal("alice", "coach")


def test_small_clock_skew_is_forgiven() -> None:
    claims = {**_claims(), "iat": NOW + 10, "nbf": NOW + 10, "exp": NOW - 10 + 3600}
    assert verify_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"), now=NOW)


def test_the_maximum_lifetime_is_the_callers_to_choose() -> None:
    claims = {**_claims(), "iat": NOW, "exp": NOW + 2 * 3600}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert verify_token(SECRET, token, dt.timedelta(hours=2), now=NOW)
    with pytest.raises(AuthError, match="lives longer than the allowed 1 h"):
        verify_token(SECRET, token, dt.timedelta(hours=1), now=NOW)


def test_a_token_longer_lived_than_the_maximum_is_not_issued() -> None:
    with pytest.raises(ValueError, match="at most 24 h"):
        issue_token(SECRET, "alice", "coach", ttl=dt.timedelta(hours=25))
    with pytest.raises(ValueError, match="at most 1 h"):
        issue_token(
            SECRET, "alice", "coach", dt.timedelta(hours=2), max_lifetime=dt.timedelta(hours=1)
        )


def test_an_issued_token_names_polkus_issuer_and_audience() -> None:
    claims = jwt.decode(issue_token(SECRET, "alice", "coach"), options={"verify_signature": False})
    assert (claims["iss"], claims["aud"]) == ("polku", "polku")
    assert claims["exp"] - claims["iat"] == 12 * 3600


def test_the_maximum_lifetime_is_a_setting() -> None:
    assert Settings.from_env({}).jwt_max_lifetime == dt.timedelta(hours=24)
    settings = Settings.from_env({"POLKU_JWT_MAX_LIFETIME": "3600"})
    assert settings.jwt_max_lifetime == dt.timedelta(hours=1)
    with pytest.raises(SettingsError, match="POLKU_JWT_MAX_LIFETIME"):
        Settings.from_env({"POLKU_JWT_MAX_LIFETIME": "a day"})


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(AuthError):
        verify_token(SECRET, garbage)


def _claims() -> dict[str, object]:
    """Claims that verify at :data:`NOW`."""
    return {
        "sub": "alice",
        "role": "coach",
        "iss": "polku",
        "aud": "polku",
        "iat": NOW - 60,
        "exp": NOW + 3600,
    }


# The local JWT secret ------------------------------------------------------------------------


def test_the_local_secret_is_created_once_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    secret = settings.resolved_jwt_secret()
    path = tmp_path / "data" / "jwt.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) >= 32
    # A restart (a new Settings) must keep every issued token valid.
    assert Settings(data_dir=tmp_path / "data").resolved_jwt_secret() == secret
    token = issue_token(secret, "alice", "coach")
    assert verify_token(Settings(data_dir=tmp_path / "data").resolved_jwt_secret(), token)


def test_separate_data_dirs_get_separate_secrets(tmp_path: Path) -> None:
    one = Settings(data_dir=tmp_path / "one").resolved_jwt_secret()
    two = Settings(data_dir=tmp_path / "two").resolved_jwt_secret()
    assert one != two


def test_a_configured_secret_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, jwt_secret=SECRET).resolved_jwt_secret() == SECRET
    assert not (tmp_path / "jwt.secret").exists()


def test_the_local_secret_is_never_on_disk_with_wider_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a permissive umask and no later chmod, only creating the file 0600 keeps it private.
    monkeypatch.setattr(os, "chmod", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(Path, "chmod", lambda *_args, **_kwargs: None)
    old_umask = os.umask(0)
    try:
        Settings(data_dir=tmp_path).resolved_jwt_secret()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "jwt.secret").stat().st_mode) == 0o600


def test_an_in_memory_sqlite_read_model_is_refused() -> None:
    with pytest.raises(SettingsError, match="in-memory"):
        Settings.from_env({"POLKU_TRACKING_DATABASE_URL": "sqlite:///:memory:"})


def test_the_test_suites_own_variables_are_not_unknown_settings() -> None:
    settings = Settings.from_env({"POLKU_TEST_POSTGRES_URL": "postgresql://u@127.0.0.1:9/x"})
    assert settings.database_url is None
    with pytest.raises(SettingsError, match="POLKU_TESTING"):
        Settings.from_env({"POLKU_TESTING": "1"})  # only the exact prefix is set aside
