"""The assessment service's key store: secrets kept beside, never inside, the event store.

* ``rater`` secret: the HMAC key of rater hashes, created once at random. Results store only
  ``HMAC(secret, person id, rater id)``, so a rater id never reaches the log.
* A pepper per reaction survey and, per issued response token, ``HMAC(pepper, token)`` with
  whether it is spent. The token itself is never stored anywhere.

They live in tables of the service's own database (the SQLite file or the PostgreSQL database
of its event store). Closing a survey deletes its pepper and markers: its tokens can then no
longer be checked, or linked to anything, by anyone.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from shared.sql import Database, schema_lock


def database_url(env: Mapping[str, str]) -> str:
    """The URL of the database the event store's environment names."""
    module = env.get("PERSISTENCE_MODULE", "")
    if module == "eventsourcing.sqlite":
        return f"sqlite:///{env['SQLITE_DBNAME']}"
    if module == "eventsourcing.postgres":
        user = quote(env.get("POSTGRES_USER", "postgres"), safe="")
        password = quote(env.get("POSTGRES_PASSWORD", ""), safe="")
        credentials = f"{user}:{password}" if password else user
        host, port = env.get("POSTGRES_HOST", "127.0.0.1"), env.get("POSTGRES_PORT", "5432")
        return f"postgresql://{credentials}@{host}:{port}/{env['POSTGRES_DBNAME']}"
    raise ValueError(f"the assessment key store cannot live in {module or 'this store'}")


class KeyStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._secrets: dict[str, str] = {}
        """Named secrets already read: one never changes once stored (the first insert wins,
        nothing updates or deletes it), so each is read once per process, not once per use
        (a results import or the state-scale load hashes a rater per answer)."""
        # SQLite keeps a WITHOUT ROWID table in key order: the random markers, not the order
        # in which tokens were spent.
        ordered = " WITHOUT ROWID" if database.dialect == "sqlite" else ""
        with schema_lock(database.url), database.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS assessment_keys ("
                " name TEXT PRIMARY KEY, secret TEXT NOT NULL)"
            )
            cur.execute(
                "CREATE TABLE IF NOT EXISTS assessment_survey_peppers ("
                " survey_id TEXT PRIMARY KEY, pepper TEXT NOT NULL)"
            )
            cur.execute(
                "CREATE TABLE IF NOT EXISTS assessment_token_markers ("
                " marker TEXT PRIMARY KEY, survey_id TEXT NOT NULL, spent INTEGER NOT NULL)"
                + ordered
            )

    def secret(self, name: str) -> str:
        """The named secret, created at random the first time anyone asks."""
        known = self._secrets.get(name)
        if known is not None:
            return known
        with self.database.transaction() as cur:
            cur.execute(
                "INSERT INTO assessment_keys (name, secret) VALUES (?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, secrets.token_hex(32)),
            )
            cur.execute("SELECT secret FROM assessment_keys WHERE name = ?", (name,))
            secret = str(cur.fetchone()[0])
        self._secrets[name] = secret
        return secret

    def pepper(self, survey_id: str, create: bool = False) -> str | None:
        with self.database.transaction(write=create) as cur:
            if create:
                cur.execute(
                    "INSERT INTO assessment_survey_peppers (survey_id, pepper) VALUES (?, ?) "
                    "ON CONFLICT (survey_id) DO NOTHING",
                    (survey_id, secrets.token_hex(32)),
                )
            cur.execute(
                "SELECT pepper FROM assessment_survey_peppers WHERE survey_id = ?", (survey_id,)
            )
            row = cur.fetchone()
        return None if row is None else str(row[0])

    def add_markers(self, survey_id: str, markers: Iterable[str]) -> None:
        with self.database.transaction() as cur:
            cur.executemany(
                "INSERT INTO assessment_token_markers (marker, survey_id, spent) VALUES (?, ?, 0)",
                [(m, survey_id) for m in markers],
            )

    def remove_markers(self, markers: Iterable[str]) -> None:
        with self.database.transaction() as cur:
            cur.executemany(
                "DELETE FROM assessment_token_markers WHERE marker = ?", [(m,) for m in markers]
            )

    def spend(self, survey_id: str, marker: str) -> str:
        """Marks a token spent: "spent" if this call did it, else "used" or "unknown"."""
        with self.database.transaction() as cur:
            cur.execute(
                "UPDATE assessment_token_markers SET spent = 1 "
                "WHERE marker = ? AND survey_id = ? AND spent = 0",
                (marker, survey_id),
            )
            if cur.rowcount == 1:
                return "spent"
            cur.execute(
                "SELECT spent FROM assessment_token_markers WHERE marker = ? AND survey_id = ?",
                (marker, survey_id),
            )
            row = cur.fetchone()
        return "unknown" if row is None else "used"

    def unspend(self, survey_id: str, marker: str) -> None:
        """Gives a token back when its response could not be recorded."""
        with self.database.transaction() as cur:
            cur.execute(
                "UPDATE assessment_token_markers SET spent = 0 WHERE marker = ? AND survey_id = ?",
                (marker, survey_id),
            )

    def shred(self, survey_id: str) -> None:
        """Forgets a closed survey's pepper and markers."""
        with self.database.transaction() as cur:
            cur.execute("DELETE FROM assessment_token_markers WHERE survey_id = ?", (survey_id,))
            cur.execute("DELETE FROM assessment_survey_peppers WHERE survey_id = ?", (survey_id,))
