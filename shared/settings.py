"""Settings: built once from the environment by the composition root, then passed down.

Nothing in Polku reads ``os.environ`` except :meth:`Settings.from_env`. Every variable is
listed in :data:`VARIABLES`, which the README and the docker-compose consistency test use.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from shared.auth import DEFAULT_MAX_LIFETIME
from shared.events.registry import DEFAULT_PUBLIC_BASE_URL
from shared.oidc import ClientSettings, OidcConfig, client_from_env, config_from_env
from shared.rate_limits import DEFAULT_RATE_LIMITS, RateLimitError, parse_rate_limits
from shared.secret_files import create_once
from shared.snapshots import SNAPSHOTS_KEPT

VARIABLES: dict[str, str] = {
    "POLKU_DATA_DIR": "Folder for embedded SQLite files and the local JWT secret (default var).",
    "POLKU_DATABASE_URL": "postgresql://user:pw@host:port/db for event stores; SQLite if unset.",
    "POLKU_TRACKING_DATABASE_URL": "Read-model database URL; defaults to POLKU_DATABASE_URL.",
    "POLKU_KEYSTORE_URL": "Key store database URL (its own credentials); default keys.sqlite in "
    "the data dir, or POLKU_DATABASE_URL's database on PostgreSQL.",
    "POLKU_MASTER_KEY_FILE": "Master key wrapping the key store, outside the data dir (default "
    "~/.config/polku/master.key, made on first use).",
    "POLKU_KAFKA_BOOTSTRAP_SERVERS": "Comma-separated Kafka brokers; unset means no Kafka.",
    "POLKU_KAFKA_TOPIC_PREFIX": "Topics are <prefix>.<service>.events (default polku).",
    "POLKU_KAFKA_GROUP_ID": "Consumer group of the tracking projector (default polku-tracking).",
    "POLKU_KAFKA_PARTITIONS": "Partitions of the topics Polku creates (default 6): the most "
    "projectors one group can use.",
    "POLKU_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT (default), SASL_PLAINTEXT or SASL_SSL.",
    "POLKU_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512 (default with SASL), SCRAM-SHA-256 or PLAIN.",
    "POLKU_KAFKA_USERNAME": "This process's Kafka principal (relay, tracking); needs SASL.",
    "POLKU_KAFKA_PASSWORD": "The principal's Kafka password.",
    "POLKU_JWT_SECRET": "HS256 secret for bearer tokens; unset: a random one kept in the data dir.",
    "POLKU_JWT_MAX_LIFETIME": "Max token lifetime (exp - iat) in seconds (default 86400).",
    "POLKU_FEED": "Where tracking reads events: embedded, kafka or http (kafka if brokers set).",
    "POLKU_ENROLMENT_URL": "Base URL of the enrolment service, for the http feed.",
    "POLKU_ASSESSMENT_URL": "Base URL of the assessment service, for the http feed.",
    "POLKU_SERVICE_TOKEN": "Bearer token the http feed presents to the write services.",
    "POLKU_RESTRICTED_READERS": "Comma-separated subjects whose service token may read "
    "/assessment/restricted/events; the first is tracking's own (default tracking).",
    "POLKU_RELAY_BATCH_SIZE": "Events per relay batch (default 2000).",
    "POLKU_POLL_INTERVAL": "Seconds between polls of an idle log or feed (default 0.2).",
    "POLKU_WORKERS": "`polku serve`: gunicorn worker processes (default 1; more only for a "
    "process without background work).",
    "POLKU_THREADS": "`polku serve`: threads per worker process (default 8).",
    "POLKU_TIMEOUT": "`polku serve`: seconds a worker may be silent before it is restarted, and "
    "the graceful stop's limit (default 30).",
    "POLKU_READ_TIMEOUT": "`polku serve`: seconds a connection may send nothing in the middle of "
    "a request before it is dropped (default 10).",
    "POLKU_MAX_BODY_BYTES": "`polku serve`: largest request body; larger is a 413 (default "
    "10485760).",
    "POLKU_MAX_CONNECTIONS": "`polku serve`: open connections per worker process; more wait in "
    "the listen backlog (default 200).",
    "POLKU_RATE_LIMITS": "`polku serve`: requests allowed per token subject (else per client "
    "address), as role=limit;... with a default, e.g. default=600/minute;service=60000/minute "
    "(the default); off disables.",
    "POLKU_METRICS_PORT": "`polku serve`: port of an unauthenticated listener serving only "
    "/metrics (Prometheus); unset: no metrics.",
    "POLKU_READY_MAX_LAG": "Tracking is not ready (/readyz 503) while the projector lags more "
    "events than this on any partition (default 10000).",
    "POLKU_PUBLIC_BASE_URL": "Public address of the services, the start of every event's "
    "dataschema URL (default http://127.0.0.1:8000).",
    "POLKU_PLAUSIBLE_YEARS": "Years every date given to the write services must fall in, as "
    "first-last (default 1950-2100); any other date is a 422.",
    "POLKU_AUDIT_KEY_FILE": "Ed25519 key signing the audit checkpoints, outside the data dir "
    "(default ~/.config/polku/audit.key, made on first use; its public half beside it, .pub).",
    "POLKU_AUDIT_CHECKPOINT_FILE": "Signed checkpoints (JSON lines), outside the data dir "
    "(default <data dir>.audit-checkpoints.jsonl beside it).",
    "POLKU_AUDIT_INTERVAL": "Seconds between background verifications of the hash chains, each "
    "signing a checkpoint when a chain grew (default 60).",
    "POLKU_AUDIT_ACCESS_RETENTION_DAYS": "Days the access log keeps entries before `polku audit "
    "prune` may remove them (default 1825).",
    "POLKU_OIDC_ISSUER": "OpenID Connect issuer URL; set: tokens come from it alone (no HS256 "
    "development tokens, no development sign-in).",
    "POLKU_OIDC_AUDIENCE": "The aud each service requires; {service} becomes its name (default "
    "polku-{service}).",
    "POLKU_OIDC_ROLES_CLAIM": "Claim (dotted path) holding the roles or groups (default roles).",
    "POLKU_OIDC_ROLE_MAP": "role=value,value;... the claim values granting each Polku role; "
    "unset: a value named as the role.",
    "POLKU_OIDC_PERSON_CLAIM": "Claim holding a participant's person id (default polku_person_id).",
    "POLKU_OIDC_CLIENT_CLAIM": "Claim naming a service's client id, its subject (default azp).",
    "POLKU_OIDC_ALGORITHMS": "Signature algorithms accepted: RS256 and/or ES256 (default both).",
    "POLKU_OIDC_KEYS_MIN_INTERVAL": "Least seconds between fetches of the issuer's keys for an "
    "unknown kid (default 10).",
    "POLKU_OIDC_CLIENT_ID": "This service's own client, for client credentials (its service "
    "token).",
    "POLKU_OIDC_CLIENT_SECRET": "The secret of POLKU_OIDC_CLIENT_ID.",
    "POLKU_OIDC_CLIENT_SCOPE": "Scope asked for with client credentials (Entra ID: "
    "api://<API>/.default).",
    "POLKU_OIDC_WEB_CLIENT_ID": "The browser sign-in's client (authorization code + PKCE; "
    "default polku-web).",
    "POLKU_OIDC_WEB_CLIENT_SECRET": "Its secret, for a confidential web client (unset: public).",
    "POLKU_OIDC_WEB_CLIENT_SCOPE": "Scope the browser sign-in asks for besides openid profile "
    "(Entra ID: api://<API>/user_impersonation).",
    "POLKU_DEV_SIGNIN": "1 turns on the workspace's development sign-in page (pick a role and "
    "subject, no password) in embedded mode only; never in production (default off).",
    "POLKU_SNAPSHOTS_KEPT": "Snapshots kept per aggregate; older ones are deleted after a new one "
    "is written (default 2).",
}

WRITE_SERVICES = ("enrolment", "assessment")
RESTRICTED_CHANNELS = ("assessment",)
"""Write services that also publish a restricted channel (individual values) for tracking."""
FEEDS = ("embedded", "kafka", "http")
KAFKA_PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


TEST_PREFIX = "POLKU_TEST_"
"""Variables of the test suite (tests/support); the product ignores them."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str | None = None
    tracking_database_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    kafka_group_id: str = "polku-tracking"
    kafka_topic_prefix: str = "polku"
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    kafka_username: str | None = None
    kafka_password: str | None = None
    jwt_secret: str | None = None
    jwt_max_lifetime_seconds: int = int(DEFAULT_MAX_LIFETIME.total_seconds())
    keystore_url: str | None = None
    master_key_file: Path | None = None
    """None (settings built in code, as in tests): ``<data dir>.master-key`` beside the data dir."""
    feed: str = "embedded"
    service_urls: Mapping[str, str] = field(default_factory=dict)
    service_token: str | None = None
    restricted_readers: tuple[str, ...] = ("tracking",)
    relay_batch_size: int = 2000
    kafka_partitions: int = 6
    poll_interval: float = 0.2
    workers: int = 1
    threads: int = 8
    timeout: int = 30
    read_timeout: float = 10.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_connections: int = 200
    rate_limits: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    """Per role (and ``default``), in Flask-Limiter's notation; empty: no rate limiting."""
    metrics_port: int | None = None
    ready_max_lag: int = 10_000
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    """Where subscribers reach the services: the start of every event's ``dataschema`` URL."""
    plausible_years: tuple[int, int] = (1950, 2100)
    audit_key_file: Path | None = None
    """None: ``audit.key`` beside the master key file, or (settings built in code, as in
    tests) ``<data dir>.audit-key`` beside the data dir."""
    audit_checkpoint_file: Path | None = None
    audit_interval: float = 60.0
    access_retention_days: int = 1825
    oidc: OidcConfig | None = None
    """The OpenID Connect issuer whose tokens are accepted; None: HS256 development tokens."""
    oidc_client: ClientSettings | None = None
    oidc_web_client: ClientSettings | None = None
    dev_signin: bool = False
    """The workspace's development sign-in page (POLKU_DEV_SIGNIN=1), embedded mode only."""
    snapshots_kept: int = 2
    """The latest snapshots kept per aggregate (:mod:`shared.snapshots`)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Reads the documented ``POLKU_*`` variables; anything else is ignored."""
        unknown = sorted(
            k
            for k in environ
            if k.startswith("POLKU_") and not k.startswith(TEST_PREFIX) and k not in VARIABLES
        )
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        brokers = environ.get("POLKU_KAFKA_BOOTSTRAP_SERVERS") or None
        feed = environ.get("POLKU_FEED") or ("kafka" if brokers else "embedded")
        settings = cls(
            data_dir=Path(environ.get("POLKU_DATA_DIR") or "var"),
            database_url=environ.get("POLKU_DATABASE_URL") or None,
            tracking_database_url=environ.get("POLKU_TRACKING_DATABASE_URL") or None,
            kafka_bootstrap_servers=brokers,
            kafka_group_id=environ.get("POLKU_KAFKA_GROUP_ID") or "polku-tracking",
            kafka_topic_prefix=environ.get("POLKU_KAFKA_TOPIC_PREFIX") or "polku",
            kafka_security_protocol=environ.get("POLKU_KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT",
            kafka_sasl_mechanism=environ.get("POLKU_KAFKA_SASL_MECHANISM") or "SCRAM-SHA-512",
            kafka_username=environ.get("POLKU_KAFKA_USERNAME") or None,
            kafka_password=environ.get("POLKU_KAFKA_PASSWORD") or None,
            jwt_secret=environ.get("POLKU_JWT_SECRET") or None,
            jwt_max_lifetime_seconds=_positive_int(
                environ, "POLKU_JWT_MAX_LIFETIME", int(DEFAULT_MAX_LIFETIME.total_seconds())
            ),
            keystore_url=environ.get("POLKU_KEYSTORE_URL") or None,
            master_key_file=Path(
                environ.get("POLKU_MASTER_KEY_FILE") or default_master_key_file(environ)
            ),
            feed=feed,
            service_urls={
                name: environ[f"POLKU_{name.upper()}_URL"]
                for name in WRITE_SERVICES
                if environ.get(f"POLKU_{name.upper()}_URL")
            },
            service_token=environ.get("POLKU_SERVICE_TOKEN") or None,
            restricted_readers=_names(environ, "POLKU_RESTRICTED_READERS", ("tracking",)),
            relay_batch_size=_positive_int(environ, "POLKU_RELAY_BATCH_SIZE", 2000),
            kafka_partitions=_positive_int(environ, "POLKU_KAFKA_PARTITIONS", 6),
            poll_interval=_positive_float(environ, "POLKU_POLL_INTERVAL", 0.2),
            workers=_positive_int(environ, "POLKU_WORKERS", 1),
            threads=_positive_int(environ, "POLKU_THREADS", 8),
            timeout=_positive_int(environ, "POLKU_TIMEOUT", 30),
            read_timeout=_positive_float(environ, "POLKU_READ_TIMEOUT", 10.0),
            max_body_bytes=_positive_int(environ, "POLKU_MAX_BODY_BYTES", 10 * 1024 * 1024),
            max_connections=_positive_int(environ, "POLKU_MAX_CONNECTIONS", 200),
            rate_limits=_rate_limits(environ),
            metrics_port=_port(environ, "POLKU_METRICS_PORT"),
            ready_max_lag=_positive_int(environ, "POLKU_READY_MAX_LAG", 10_000),
            public_base_url=_base_url(environ, "POLKU_PUBLIC_BASE_URL"),
            plausible_years=_year_range(environ, "POLKU_PLAUSIBLE_YEARS", (1950, 2100)),
            audit_key_file=Path(environ["POLKU_AUDIT_KEY_FILE"])
            if environ.get("POLKU_AUDIT_KEY_FILE")
            else None,
            audit_checkpoint_file=Path(environ["POLKU_AUDIT_CHECKPOINT_FILE"])
            if environ.get("POLKU_AUDIT_CHECKPOINT_FILE")
            else None,
            audit_interval=_positive_float(environ, "POLKU_AUDIT_INTERVAL", 60.0),
            access_retention_days=_positive_int(environ, "POLKU_AUDIT_ACCESS_RETENTION_DAYS", 1825),
            **_oidc(environ),
            dev_signin=_switch(environ, "POLKU_DEV_SIGNIN"),
            snapshots_kept=_positive_int(environ, "POLKU_SNAPSHOTS_KEPT", 2),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.feed not in FEEDS:
            raise SettingsError(f"POLKU_FEED must be one of {', '.join(FEEDS)}, not {self.feed!r}")
        if self.feed == "kafka" and not self.kafka_bootstrap_servers:
            raise SettingsError("POLKU_FEED=kafka needs POLKU_KAFKA_BOOTSTRAP_SERVERS")
        self._validate_kafka_security()
        self._check_auth_mix()
        for name in ("database_url", "tracking_database_url", "keystore_url"):
            url = getattr(self, name)
            if not url:
                continue
            scheme = urlsplit(url).scheme
            if scheme not in ("postgresql", "postgres", "sqlite"):
                raise SettingsError(
                    f"POLKU_{name.upper()} must be a postgresql:// or sqlite:// URL"
                )
            if scheme == "sqlite":
                _check_sqlite_url(f"POLKU_{name.upper()}", url)
        self._check_keys_apart()
        for service, url in self.service_urls.items():
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise SettingsError(
                    f"POLKU_{service.upper()}_URL must be an http:// or https:// URL such as "
                    f"http://{service}:8000"
                )
        if self.feed == "http" and not self.service_urls:
            raise SettingsError(
                "POLKU_FEED=http needs the base URL of the write services to read from: "
                + " and/or ".join(f"POLKU_{name.upper()}_URL" for name in WRITE_SERVICES)
            )

    def _check_auth_mix(self) -> None:
        """An issuer's tokens and HS256 development tokens never both: one would undo the other."""
        if self.oidc is not None and self.service_token:
            raise SettingsError(
                "POLKU_OIDC_ISSUER is set, so POLKU_SERVICE_TOKEN (an HS256 development token) "
                "is refused: give the service POLKU_OIDC_CLIENT_ID and POLKU_OIDC_CLIENT_SECRET"
            )
        if self.oidc is not None and self.dev_signin:
            raise SettingsError(
                "POLKU_OIDC_ISSUER is set, so POLKU_DEV_SIGNIN (the development sign-in, no "
                "password) is refused: people sign in at the issuer"
            )

    def _validate_kafka_security(self) -> None:
        if self.kafka_security_protocol not in KAFKA_PROTOCOLS:
            raise SettingsError(
                f"POLKU_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(KAFKA_PROTOCOLS)}, "
                f"not {self.kafka_security_protocol!r}"
            )
        if self.kafka_sasl_mechanism not in SASL_MECHANISMS:
            raise SettingsError(
                f"POLKU_KAFKA_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}, "
                f"not {self.kafka_sasl_mechanism!r}"
            )
        sasl = self.kafka_security_protocol.startswith("SASL")
        if sasl and not (self.kafka_username and self.kafka_password):
            raise SettingsError(
                f"POLKU_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "POLKU_KAFKA_USERNAME and POLKU_KAFKA_PASSWORD"
            )
        if not sasl and (self.kafka_username or self.kafka_password):
            # Credentials silently unused would connect as the anonymous principal.
            raise SettingsError(
                "POLKU_KAFKA_USERNAME and POLKU_KAFKA_PASSWORD need "
                "POLKU_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT or SASL_SSL"
            )

    def kafka_security(self) -> dict[str, str]:
        """The kafka-python settings every client of this process connects with."""
        if not self.kafka_security_protocol.startswith("SASL"):
            return {}
        assert self.kafka_username and self.kafka_password
        return {
            "security_protocol": self.kafka_security_protocol,
            "sasl_mechanism": self.kafka_sasl_mechanism,
            "sasl_plain_username": self.kafka_username,
            "sasl_plain_password": self.kafka_password,
        }

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    # Persistence -------------------------------------------------------------------------

    def sqlite_path(self, name: str) -> Path:
        """One SQLite file per application or read model: eventsourcing fixes the table names."""
        return self.data_dir / f"{name}.sqlite"

    def store_url(self, service: str) -> str:
        """The database of a write service: its event store, relay position and key tables."""
        if self.database_url and not self.database_url.startswith("sqlite"):
            return self.database_url
        return f"sqlite:///{self.sqlite_path(service)}"

    def readmodel_url(self) -> str:
        url = self.tracking_database_url or self.database_url
        if url and not url.startswith("sqlite"):
            return url
        return url or f"sqlite:///{self.sqlite_path('tracking')}"

    def keystore_database_url(self) -> str:
        """The key store's own database: never the event store's file (its contents are
        wrapped, so it may sit in the data dir); on PostgreSQL, give it its own database and
        role with POLKU_KEYSTORE_URL, or it shares the event database's (wrapped all the same)."""
        if self.keystore_url:
            return self.keystore_url
        events = self.store_url("enrolment")
        if not events.startswith("sqlite"):
            return events
        return f"sqlite:///{self.sqlite_path('keys')}"

    def resolved_master_key_file(self) -> Path:
        if self.master_key_file is not None:
            return self.master_key_file
        data_dir = self.data_dir.absolute()
        return data_dir.with_name(f"{data_dir.name}.master-key")

    def resolved_audit_key_file(self) -> Path:
        """The signing key: as set, else beside the master key (``audit.key``)."""
        if self.audit_key_file is not None:
            return self.audit_key_file
        if self.master_key_file is not None:
            return self.master_key_file.with_name("audit.key")
        data_dir = self.data_dir.absolute()
        return data_dir.with_name(f"{data_dir.name}.audit-key")

    def resolved_checkpoint_file(self) -> Path:
        """As set, else ``<data dir>.audit-checkpoints.jsonl`` beside (not in) the data dir:
        one file per deployment, never another's checkpoints."""
        if self.audit_checkpoint_file is not None:
            return self.audit_checkpoint_file
        data_dir = self.data_dir.absolute()
        return data_dir.with_name(f"{data_dir.name}.audit-checkpoints.jsonl")

    def _check_keys_apart(self) -> None:
        """The master key never in the data dir; the key store never in an event store's file."""
        master = self.resolved_master_key_file().absolute().resolve()
        if master.is_relative_to(self.data_dir.absolute().resolve()):
            raise SettingsError(
                f"POLKU_MASTER_KEY_FILE {master} is inside the data dir {self.data_dir}: a copy "
                "of the data dir would then decrypt everyone; keep it elsewhere (the default is "
                "~/.config/polku/master.key)"
            )
        for what, path in (
            ("POLKU_AUDIT_KEY_FILE", self.resolved_audit_key_file()),
            ("POLKU_AUDIT_CHECKPOINT_FILE", self.resolved_checkpoint_file()),
        ):
            if path.absolute().resolve().is_relative_to(self.data_dir.absolute().resolve()):
                raise SettingsError(
                    f"{what} {path} is inside the data dir {self.data_dir}: whoever can rewrite "
                    "the logs could then re-sign them; keep it elsewhere"
                )
        keys = self.keystore_database_url()
        if keys.startswith("sqlite") and keys in (self.store_url(s) for s in WRITE_SERVICES):
            raise SettingsError("POLKU_KEYSTORE_URL must not be an event store's SQLite file")

    def eventstore_env(self, service: str) -> dict[str, str]:
        """The eventsourcing environment for one write service's application."""
        url = self.store_url(service)
        if url.startswith("sqlite"):
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": sqlite_file(url),
                "SQLITE_LOCK_TIMEOUT": "10",
                SNAPSHOTS_KEPT: str(self.snapshots_kept),
            }
        parts = urlsplit(url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "5",
            "POSTGRES_CONNECT_TIMEOUT": "5",
            SNAPSHOTS_KEPT: str(self.snapshots_kept),
        }

    # Auth ----------------------------------------------------------------------------------

    @property
    def jwt_max_lifetime(self) -> dt.timedelta:
        """The longest a bearer token may live; verification refuses any longer one."""
        return dt.timedelta(seconds=self.jwt_max_lifetime_seconds)

    def resolved_jwt_secret(self) -> str:
        """The configured secret, or a random one created once and kept in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt.secret"
        if not path.exists():
            # Created 0600, whole, and only once even if two processes race here.
            create_once(path, secrets.token_hex(32))
        secret = path.read_text().strip()
        if secret:
            return secret
        raise SettingsError(f"{path} is empty; delete it or set POLKU_JWT_SECRET")


def default_master_key_file(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/polku/master.key``, else ``~/.config/polku/master.key``."""
    config = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or "~") / ".config")
    return Path(config).expanduser() / "polku" / "master.key"


SQLITE_URL_FORMS = "sqlite:///relative/path or sqlite:////absolute/path"


def sqlite_file(url: str) -> str:
    """The file path of a ``sqlite:///path`` URL (relative paths stay relative)."""
    _check_sqlite_url("a SQLite URL", url)
    return url[len("sqlite:///") :]


def _check_sqlite_url(name: str, url: str) -> None:
    # Three slashes and then the path: sqlite://tracking.db would name a *host*.
    if not url.startswith("sqlite:///") or not url[len("sqlite:///") :]:
        raise SettingsError(f"{name} must be {SQLITE_URL_FORMS}, not {url!r}")
    if url[len("sqlite:///") :].startswith(":memory:"):
        # Every connection would get its own empty database, and Polku uses several.
        raise SettingsError(f"{name} cannot be an in-memory SQLite database; name a file")


def _names(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = environ.get(name)
    if not raw:
        return default
    names = tuple(part.strip() for part in raw.split(","))
    if not all(names):
        raise SettingsError(f"{name} must be comma-separated names, not {raw!r}")
    return names


def _oidc(environ: Mapping[str, str]) -> dict[str, Any]:
    try:
        max_lifetime = _positive_int(
            environ, "POLKU_JWT_MAX_LIFETIME", int(DEFAULT_MAX_LIFETIME.total_seconds())
        )
        config = config_from_env(environ, max_lifetime)
        client = client_from_env(environ, "POLKU_OIDC_CLIENT")
        web = client_from_env(environ, "POLKU_OIDC_WEB_CLIENT")
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if config is not None and web is None:
        web = ClientSettings("polku-web")
    return {"oidc": config, "oidc_client": client, "oidc_web_client": web}


def _rate_limits(environ: Mapping[str, str]) -> dict[str, str]:
    try:
        return parse_rate_limits(environ.get("POLKU_RATE_LIMITS"))
    except RateLimitError as exc:
        raise SettingsError(f"POLKU_RATE_LIMITS: {exc}") from None


def _port(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name)
    if not raw:
        return None
    port = _positive_int(environ, name, 0)
    if port > 65535:
        raise SettingsError(f"{name} must be a port number, 1 to 65535")
    return port


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1")
    return value


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be a positive, finite number")
    return value


def _base_url(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name) or DEFAULT_PUBLIC_BASE_URL
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(
            f"{name} must be an http(s) URL without query, e.g. https://polku.example"
        )
    return value.rstrip("/")


def _year_range(environ: Mapping[str, str], name: str, default: tuple[int, int]) -> tuple[int, int]:
    """``first-last``, two years with first <= last, both within 1..9998 (so a day after the
    last still exists)."""
    raw = environ.get(name)
    if not raw:
        return default
    first, _, last = raw.partition("-")
    try:
        years = (int(first), int(last))
    except ValueError:
        raise SettingsError(f"{name} must be first-last, such as 1950-2100, not {raw!r}") from None
    if not 1 <= years[0] <= years[1] <= 9998:
        raise SettingsError(
            f"{name} must be two years from 1 to 9998, the first not after the last"
        )
    return years


def _switch(environ: Mapping[str, str], name: str) -> bool:
    """An on/off variable: 1 is on; unset, empty or 0 is off; anything else is refused."""
    value = environ.get(name, "").strip()
    if value not in ("", "0", "1"):
        raise SettingsError(f"{name} must be 1 (on) or 0 (off), not {value!r}")
    return value == "1"
