"""The access log: every read of personal data, append-only and hash-chained.

Each entry records who (role and token subject), what (the operation, as its route, and the
resource, as the path and query), whose data (the person ids in the path and the answer), when,
the outcome (the HTTP status) and the purpose the caller gave (``X-Purpose``). Each service
keeps its own log in its own database (table ``<service>_access_log``), chained like the event
logs: a row hash over the entry's fields and a link over the previous link, so the same
verification and checkpoints cover it (log name ``<service>.access``).

Entries older than the retention (``POLKU_AUDIT_ACCESS_RETENTION_DAYS``) may be pruned from
the start; the link of the last pruned entry is kept as the log's new base, so the rest still
verifies. The newest entry is never pruned.

Appends go through :mod:`shared.audit.access_writer`: the head kept in memory, one ``INSERT``
per commit, concurrent readers' entries committed together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from shared.audit.access_writer import Pending, Writer
from shared.audit.chain import ChainRow
from shared.sql import Cursor, Database, batches, schema_lock

BATCH = 5000
_COMPACT = json.JSONEncoder(separators=(",", ":")).encode
"""``json.dumps(..., separators=(",", ":"))`` without building an encoder per call."""


def canonical(fields: list[str]) -> bytes:
    """The bytes an entry's row hash is taken over: ``fields`` as compact JSON with every
    character beyond ASCII escaped (``json.dumps(fields, separators=(",", ":"))``).

    orjson writes the same bytes for ASCII text (it escapes quotes, backslashes and control
    characters as the standard encoder does) in a tenth of the time; it writes other text as
    UTF-8 and leaves DEL (0x7f) as it is, where the standard encoder escapes both, so for those
    the standard encoder is used."""
    fast = orjson.dumps(fields)
    if fast.isascii() and b"\x7f" not in fast:
        return fast
    return _COMPACT(fields).encode()


@dataclass(slots=True)
class Access:
    """One read of personal data (never changed once made; not frozen only because a frozen
    dataclass is built several times slower, and one is built per read)."""

    at: str
    role: str
    subject: str
    operation: str
    resource: str
    person_ids: tuple[str, ...]
    outcome: int
    purpose: str = ""
    service: str = ""

    def row_hash(self) -> bytes:
        fields = [
            self.at,
            self.service,
            self.role,
            self.subject,
            self.operation,
            self.resource,
            ",".join(self.person_ids),
            str(self.outcome),
            self.purpose,
        ]
        return hashlib.sha256(canonical(fields)).digest()

    def to_dict(self, position: int) -> dict[str, Any]:
        return {
            "position": position,
            "at": self.at,
            "service": self.service,
            "role": self.role,
            "subject": self.subject,
            "operation": self.operation,
            "resource": self.resource,
            "person_ids": list(self.person_ids),
            "outcome": self.outcome,
            "purpose": self.purpose,
        }


COLUMNS = "position, at, service, role, subject, operation, resource, person_ids, outcome, purpose"


@dataclass
class Filters:
    actor: str | None = None
    """A token subject, or ``role:subject``."""
    role: str | None = None
    person: str | None = None
    operation: str | None = None
    """A substring of the operation (``GET /enrolment/people/{person_id}``)."""
    since: str | None = None
    """As :func:`stamp` writes it: compared with ``at`` as text."""
    until: str | None = None


class AccessLog:
    """One service's access log: on PostgreSQL in the service's database, on SQLite in a file
    of its own beside the service's (``<service>.access-log.sqlite``; see
    :meth:`shared.sql.Database.beside`). A log that an older version kept inside the service's
    SQLite file is moved to its own file when first opened."""

    def __init__(self, service_database: Database, service: str) -> None:
        database = service_database.beside("access-log")
        self.database = database
        self.service = service
        self.table = f"{service}_access_log"
        self.base_table = f"{service}_access_log_base"
        self._writer = Writer(database, self.table, self.base_table)
        self.begun = 0
        """Entries started by :meth:`begin` (sent before the answer was serialised)."""
        # On SQLite an INTEGER PRIMARY KEY is the row id itself: one B-tree less per append.
        key = "INTEGER" if database.dialect == "sqlite" else "BIGINT"
        with schema_lock(database.url), database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (position {key} PRIMARY KEY, "
                "at TEXT NOT NULL, service TEXT NOT NULL, role TEXT NOT NULL, "
                "subject TEXT NOT NULL, operation TEXT NOT NULL, resource TEXT NOT NULL, "
                "person_ids TEXT NOT NULL, outcome INTEGER NOT NULL, purpose TEXT NOT NULL, "
                "row_hash TEXT NOT NULL, link TEXT NOT NULL)"
            )
            cur.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_at ON {self.table} (at)")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.base_table} (position BIGINT NOT NULL, "
                "link TEXT NOT NULL)"
            )
            if database.dialect == "postgresql":
                # Entries are never changed; only pruning from the start deletes them.
                cur.execute(
                    "CREATE OR REPLACE FUNCTION polku_access_log_unchanged() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'polku: %% of %% refused: the "
                    "access log is append-only', TG_OP, TG_TABLE_NAME USING ERRCODE = "
                    "'insufficient_privilege'; END $$"
                )
                cur.execute(
                    f"CREATE OR REPLACE TRIGGER {self.table}_unchanged BEFORE UPDATE ON "
                    f"{self.table} FOR EACH ROW EXECUTE FUNCTION polku_access_log_unchanged()"
                )
        if database is not service_database:
            self._move_from(service_database)

    def _move_from(self, old: Database) -> None:
        """Moves the entries (and base) an older version wrote into the service's own SQLite
        file into this log's file, then drops them there.

        The copy commits as a whole before the old tables go, so a crash in between leaves
        both, and the next start, finding the copy complete (the old last entry, link and
        all, is in the new file), only drops. Processes starting together take the new file's
        write lock in turn; each reads the old file in one snapshot, so one that finds the
        copy made only drops."""
        columns = f"{COLUMNS}, row_hash, link"
        with self.database.transaction() as cur, old.transaction(write=False) as source:
            source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
                (self.table, self.base_table),
            )
            found = {r[0] for r in source.fetchall()}
            if self.table not in found:
                return
            source.execute(
                f"SELECT position, link FROM {self.table} ORDER BY position DESC LIMIT 1"
            )
            last = source.fetchone()
            if last is not None:
                cur.execute(
                    f"SELECT position, link FROM {self.table} WHERE position = ?", (last[0],)
                )
                there = cur.fetchone()
                if there is not None and tuple(there) != tuple(last):
                    raise RuntimeError(
                        f"{self.table}: position {last[0]} differs between {old.url} and "
                        f"{self.database.url}; move the entries by hand"
                    )
                if there is None:
                    self._copy(cur, source, columns, copy_base=self.base_table in found)
        with old.transaction() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.table}")
            cur.execute(f"DROP TABLE IF EXISTS {self.base_table}")

    def _copy(self, cur: Cursor, source: Cursor, columns: str, copy_base: bool) -> None:
        cur.execute(f"SELECT COUNT(*) FROM {self.table}")
        if cur.fetchone()[0]:
            raise RuntimeError(
                f"{self.table}: entries in both the service's database and "
                f"{self.database.url}; move them by hand (polku audit verify checks the result)"
            )
        insert = f"INSERT INTO {self.table} ({columns}) VALUES ({', '.join('?' * 12)})"
        for rows in batches(source, f"SELECT {columns} FROM {self.table} ORDER BY position", BATCH):
            cur.executemany(insert, rows)
        if copy_base:
            source.execute(f"SELECT position, link FROM {self.base_table}")
            cur.execute(f"DELETE FROM {self.base_table}")
            cur.executemany(f"INSERT INTO {self.base_table} VALUES (?, ?)", source.fetchall())

    def write(self, access: Access) -> int:
        """Appends one entry, committed when this returns; raises if it cannot be written.

        Concurrent callers share commits (:class:`~shared.audit.access_writer.Writer`); each
        returns only once the statement holding its own entry has committed."""
        return self._writer.submit(self._pending(access))

    @property
    def sends(self) -> bool:
        """Whether :meth:`begin` returns before the entry is committed (PostgreSQL)."""
        return self._writer.sends

    def begin(self, access: Access) -> Pending:
        """Starts appending one entry (on PostgreSQL without waiting for the commit); the
        caller must pass the result to :meth:`finish` before it lets the data read go."""
        pending = self._pending(access)
        self._writer.begin(pending)
        self.begun += 1
        return pending

    def finish(self, pending: Pending) -> int:
        """Waits for an entry :meth:`begin` started: its position once committed; raises if it
        could not be written."""
        return self._writer.finish(pending)

    def _pending(self, access: Access) -> Pending:
        entry = access if access.service == self.service else replace(access, service=self.service)
        return Pending(entry, entry.row_hash())  # hashed outside the writer's lock

    def query(self, filters: Filters, after: int, limit: int) -> list[dict[str, Any]]:
        where: list[str] = ["position > ?"]
        params: list[Any] = [after]
        if filters.actor:
            role, _, subject = filters.actor.rpartition(":")
            where.append("subject = ?")
            params.append(subject)
            if role:
                where.append("role = ?")
                params.append(role)
        if filters.role:
            where.append("role = ?")
            params.append(filters.role)
        if filters.person:
            where.append("person_ids LIKE ?")
            params.append(f"%,{filters.person},%")
        if filters.operation:
            # LOWER on both sides: SQLite's LIKE ignores case and PostgreSQL's does not.
            where.append("LOWER(operation) LIKE ? ESCAPE '!'")
            params.append(f"%{_literal(filters.operation.lower())}%")
        if filters.since:
            where.append("at >= ?")
            params.append(filters.since)
        if filters.until:
            where.append("at < ?")
            params.append(filters.until)
        with self.database.transaction(write=False) as cur:
            cur.execute(
                f"SELECT {COLUMNS} FROM {self.table} WHERE {' AND '.join(where)} "
                "ORDER BY position LIMIT ?",
                (*params, limit),
            )
            return [_entry(r).to_dict(int(r[0])) for r in cur.fetchall()]

    def prune(self, before: dt.datetime) -> int:
        """Removes the entries recorded before ``before`` from the start of the log, keeping
        the last removed link as the base the rest verifies from."""
        with self.database.transaction() as cur:
            # The newest entry always stays, so a writer's head is never pruned away.
            cur.execute(
                f"SELECT position, link FROM {self.table} WHERE at < ? AND position < "
                f"(SELECT MAX(position) FROM {self.table}) ORDER BY position DESC LIMIT 1",
                (before.isoformat(),),
            )
            last = cur.fetchone()
            if last is None:
                return 0
            cur.execute(f"DELETE FROM {self.table} WHERE position <= ?", (last[0],))
            removed = int(cur.rowcount)
            cur.execute(f"DELETE FROM {self.base_table}")
            cur.execute(f"INSERT INTO {self.base_table} VALUES (?, ?)", (last[0], last[1]))
        self._writer.forget_head()
        return removed

    def source(self) -> AccessSource:
        return AccessSource(self)


def _literal(text: str) -> str:
    """``text`` inside a LIKE pattern with ``ESCAPE '!'``: its ``%`` and ``_`` are characters to
    find, not wildcards (a filter of ``%`` would otherwise match every entry)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _entry(r: Sequence[Any]) -> Access:
    return Access(
        at=r[1],
        service=r[2],
        role=r[3],
        subject=r[4],
        operation=r[5],
        resource=r[6],
        person_ids=tuple(p for p in str(r[7]).split(",") if p),
        outcome=int(r[8]),
        purpose=r[9],
    )


class AccessSource:
    """The access log as :func:`shared.audit.verify.verify` reads it: each entry's recomputed
    hash, and the stored hashes and links. Positions are consecutive, so a gap is a deleted
    entry and shows as ``missing``."""

    def __init__(self, log: AccessLog) -> None:
        self.log = log

    def _rows(self, after: int) -> Iterator[Sequence[Any]]:
        while True:
            with self.log.database.transaction(write=False) as cur:
                cur.execute(
                    f"SELECT {COLUMNS}, row_hash, link FROM {self.log.table} "
                    "WHERE position > ? ORDER BY position LIMIT ?",
                    (after, BATCH),
                )
                rows = cur.fetchall()
            if not rows:
                return
            yield from rows
            after = int(rows[-1][0])

    def events(self, after: int) -> Iterator[tuple[int, bytes]]:
        for r in self._rows(after):
            yield int(r[0]), _entry(r).row_hash()

    def chain(self, after: int) -> Iterator[ChainRow]:
        expected = after + 1
        for r in self._rows(after):
            position = int(r[0])
            if position > expected:  # a deleted entry: chained, but no longer there
                yield ChainRow(expected, b"", b"")
            expected = position + 1
            yield ChainRow(position, bytes.fromhex(r[10]), bytes.fromhex(r[11]))

    def base(self) -> ChainRow | None:
        with self.log.database.transaction(write=False) as cur:
            cur.execute(f"SELECT position, link FROM {self.log.base_table}")
            r = cur.fetchone()
        return ChainRow(int(r[0]), b"", bytes.fromhex(r[1])) if r else None

    def chain_before(self, position: int) -> ChainRow | None:
        with self.log.database.transaction(write=False) as cur:
            cur.execute(
                f"SELECT position, row_hash, link FROM {self.log.table} WHERE position < ? "
                "ORDER BY position DESC LIMIT 1",
                (position,),
            )
            r = cur.fetchone()
        if r is not None:
            return ChainRow(int(r[0]), bytes.fromhex(r[1]), bytes.fromhex(r[2]))
        return self.base()

    def chained_at(self, row: bytes) -> int | None:
        with self.log.database.transaction(write=False) as cur:
            cur.execute(f"SELECT position FROM {self.log.table} WHERE row_hash = ?", (row.hex(),))
            r = cur.fetchone()
        return int(r[0]) if r else None


_second: tuple[int, str] = (0, "")
"""The last whole second :func:`now` wrote, and its text (the date and time to the second)."""


def now() -> str:
    """The time now in UTC, to the microsecond, as ``datetime.isoformat`` writes it
    (``2026-12-07T21:56:28.250986+00:00``). The date and time to the second are formatted once
    a second: one is taken per logged read."""
    global _second
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    known, text = _second
    if second != known:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = (second, text)
    return f"{text}.{micro:06d}+00:00"


def stamp(moment: dt.datetime) -> str:
    """An aware ``moment`` written as :func:`now` writes ``at`` (UTC, to the microsecond), so
    comparing the texts compares the times: ``20:00+02:00`` is before ``19:00+00:00`` as text.
    A moment whose UTC falls outside the years 1 to 9999 is clamped to their first or last."""
    try:
        utc = moment.astimezone(dt.UTC)
    except OverflowError:
        utc = (dt.datetime.min if moment.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)
    return utc.isoformat(timespec="microseconds")
