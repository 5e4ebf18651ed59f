"""The hash chain over a write service's event log, kept in the same transaction as the events.

Each stored event (the bytes the store holds: originator id, version, topic and state, the
state as stored, so encrypted personal fields stay encrypted and crypto-shredding never breaks
the chain) has a *row hash*. Each position's *link* hashes the previous link, the position and
the row hash. The chain table sits beside the events table and is written by the recorder in
the transaction that inserts the events, so an event never exists unchained.

The recorders here subclass the library's application recorders and are chosen through the
persistence environment (``APPLICATION_RECORDER_TOPIC``). On PostgreSQL the recorder also
installs a trigger that refuses UPDATE, DELETE and TRUNCATE of the events and chain tables.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

GENESIS = bytes(32)
"""The link before the first position."""


def _originator(originator_id: UUID | str) -> bytes:
    """The id as the SQLite store keeps it: a UUID's 32 hex digits."""
    if type(originator_id) is str:
        return originator_id.encode()
    if isinstance(originator_id, UUID):
        return originator_id.hex.encode()
    return str(originator_id).encode()


_VERSION_LENGTH = (8).to_bytes(8, "big")
_ID_AND_VERSION = struct.Struct(">Q32sQq")
"""The row's start when the id is 32 hex digits (always, but for foreign stores): one call."""
_TOPICS: dict[str, bytes] = {}
"""Each topic with its length before it, as hashed (a log has a few dozen topics)."""


def row_hash(originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """SHA-256 over the stored row's fields, each length-prefixed so none can bleed into the
    next: originator id (hex text), version (8 bytes, signed), topic, state."""
    oid = _originator(originator_id)
    if len(oid) == 32:
        start = _ID_AND_VERSION.pack(32, oid, 8, version)
    else:
        start = b"".join((len(oid).to_bytes(8, "big"), oid, _VERSION_LENGTH, _version(version)))
    named = _TOPICS.get(topic)
    if named is None:
        name = topic.encode()
        named = len(name).to_bytes(8, "big") + name
        if len(_TOPICS) < 10_000:
            _TOPICS[topic] = named
    return hashlib.sha256(b"".join((start, named, len(state).to_bytes(8, "big"), state))).digest()


def _version(version: int) -> bytes:
    return int(version).to_bytes(8, "big", signed=True)


def link(previous: bytes, position: int, row: bytes) -> bytes:
    return hashlib.sha256(previous + int(position).to_bytes(8, "big") + row).digest()


class Run(NamedTuple):
    """How far :func:`check_run` got: the link after the last row that agreed, how many rows
    and checkpoint anchors agreed, and whether every row of the batch did."""

    previous: bytes
    seen: int
    matched: int
    whole: bool


def check_run(rows: Sequence[Any], previous: bytes, anchors: dict[int, str]) -> Run:
    """Verification's inner loop over ``(position, originator id, version, topic, state,
    stored row hash, stored link)`` rows: each row's hash and link recomputed (as
    :func:`row_hash` and :func:`link`, written out here: two calls a row were a third of the
    walk) and compared, and each link at an anchor's position compared with the anchor (hex).
    Stops at the first row that disagrees (``whole`` False)."""
    sha256 = hashlib.sha256
    start = _ID_AND_VERSION.pack
    join = b"".join
    topics = _TOPICS
    seen = matched = 0
    for position, oid, version, topic, state, stored, chained in rows:
        if chained is None:
            return Run(previous, seen, matched, False)
        named = topics.get(topic)
        if named is None or type(oid) is not str or len(oid) != 32:
            computed = row_hash(oid, version, topic, state)
        else:
            computed = sha256(
                join(
                    (
                        start(32, oid.encode(), 8, version),
                        named,
                        len(state).to_bytes(8, "big"),
                        state,
                    )
                )
            ).digest()
        if computed != stored:
            return Run(previous, seen, matched, False)
        following = sha256(previous + position.to_bytes(8, "big") + stored).digest()
        if following != chained:
            return Run(previous, seen, matched, False)
        previous = following
        anchor = anchors.get(position)
        if anchor is not None:
            if anchor != previous.hex():
                return Run(previous, seen, matched, False)
            matched += 1
        seen += 1
    return Run(previous, seen, matched, True)


class ChainRow(NamedTuple):
    position: int
    row_hash: bytes
    link: bytes


def chain_rows(previous: bytes, positions: Sequence[int], events: Sequence[Any]) -> list[ChainRow]:
    """The chain rows of newly inserted ``events`` at ``positions``, after ``previous``."""
    rows = []
    for position, event in zip(positions, events, strict=True):
        row = row_hash(event.originator_id, event.originator_version, event.topic, event.state)
        previous = link(previous, position, row)
        rows.append(ChainRow(int(position), row, previous))
    return rows


class ChainedLog(Protocol):
    """What verification reads from a chained store (either recorder below)."""

    chain_table: str

    def select_chain(self, after: int, limit: int) -> list[ChainRow]: ...
    def chain_position_of(self, row: bytes) -> int | None: ...
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Any]: ...
    def max_notification_id(self) -> int | None: ...
    def chain_head(self) -> ChainRow | None: ...
    def chain_before(self, position: int) -> ChainRow | None: ...
    def backfill_chain(self) -> int: ...


def chain_table_of(events_table: str) -> str:
    return f"{events_table}_chain"


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The SQLite recorder, chaining each inserted event in the insert's transaction."""

    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        self.chain_table = chain_table_of(events_table_name)
        self._head = threading.local()
        """Per thread: ``written``, the (position, link) of the last chain row of the
        transaction in flight; ``committed``, the same of its last committed one."""
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chain_table} (position INTEGER PRIMARY KEY, "
            "row_hash BLOB NOT NULL, link BLOB NOT NULL)",
        ]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._head.written = None
        ids = super().insert_events(stored_events, **kwargs)
        written = self._head.written  # the transaction committed: its last link is the head
        if written is not None:
            self._head.committed = written
        return ids

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None
        rows = chain_rows(self._previous_link(c, ids), ids, stored_events)
        c.executemany(f"INSERT INTO {self.chain_table} VALUES (?, ?, ?)", rows)
        if rows:
            self._head.written = (rows[-1].position, rows[-1].link)
        return ids

    def _previous_link(self, c: SQLiteCursor, ids: Sequence[int]) -> bytes:
        """The link before ``ids``: read from the chain table, unless this thread committed
        the position just before them (SQLite numbers a row one past the highest, under the
        write lock, so nothing else can have been written since)."""
        committed = getattr(self._head, "committed", None)
        if committed is not None and ids and ids[0] == committed[0] + 1:
            return bytes(committed[1])
        c.execute(f"SELECT link FROM {self.chain_table} ORDER BY position DESC LIMIT 1")
        last = c.fetchone()
        return bytes(last[0]) if last else GENESIS

    def select_chain(self, after: int, limit: int) -> list[ChainRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position, row_hash, link FROM {self.chain_table} WHERE position > ? "
                "ORDER BY position LIMIT ?",
                (after, limit),
            )
            return [ChainRow(r[0], bytes(r[1]), bytes(r[2])) for r in c.fetchall()]

    def chain_head(self) -> ChainRow | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position, row_hash, link FROM {self.chain_table} "
                "ORDER BY position DESC LIMIT 1"
            )
            r = c.fetchone()
            return ChainRow(r[0], bytes(r[1]), bytes(r[2])) if r else None

    def chain_before(self, position: int) -> ChainRow | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position, row_hash, link FROM {self.chain_table} WHERE position < ? "
                "ORDER BY position DESC LIMIT 1",
                (position,),
            )
            r = c.fetchone()
            return ChainRow(r[0], bytes(r[1]), bytes(r[2])) if r else None

    def select_rows(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        """(position, row hash) of the stored rows after ``after``: verification's read,
        straight from the table (no UUIDs, no notification objects)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, limit),
            )
            return [(r[0], row_hash(r[1], r[2], r[3], r[4])) for r in c.fetchall()]

    def select_joined(self, after: int, limit: int) -> list[Any]:
        """Each stored row after ``after`` with its chain row (None where it has none): the
        fast path of verification, one read for both."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, "
                f"c.row_hash, c.link FROM {self.events_table_name} e LEFT JOIN "
                f"{self.chain_table} c ON c.position = e.rowid WHERE e.rowid > ? "
                "ORDER BY e.rowid LIMIT ?",
                (after, limit),
            )
            return list(c.fetchall())

    def chain_count(self, after: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {self.chain_table} WHERE position > ?", (after,))
            return int(c.fetchone()[0])

    def chain_position_of(self, row: bytes) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position FROM {self.chain_table} WHERE row_hash = ?", (row,))
            found = c.fetchone()
            return int(found[0]) if found else None

    def backfill_chain(self) -> int:
        """Chains a log written before chaining existed: only when the chain is empty, so an
        event slipped in later is never adopted."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"SELECT 1 FROM {self.chain_table} LIMIT 1")
            if c.fetchone():
                return 0
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} ORDER BY rowid"
            )
            found = c.fetchall()
            stored = [StoredEvent(r[1], r[2], r[3], r[4]) for r in found]
            rows = chain_rows(GENESIS, [int(r[0]) for r in found], stored)
            c.executemany(f"INSERT INTO {self.chain_table} VALUES (?, ?, ?)", rows)
            return len(rows)


APPEND_ONLY_FUNCTION = "polku_append_only"


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """The PostgreSQL recorder, chaining each inserted event in the insert's transaction.

    The library locks the events table for every insert, so chain rows are written in
    position order. A trigger refuses UPDATE, DELETE and TRUNCATE of both tables to every
    role (a database administrator must disable it on purpose, and the checkpoints still
    catch what they then change).
    """

    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        from psycopg.sql import SQL, Identifier

        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table = chain_table_of(events_table_name)
        self.check_identifier_length(self.chain_table)

        schema = Identifier(self.datastore.schema)
        chain = Identifier(self.chain_table)
        events = Identifier(self.events_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} (position bigint PRIMARY KEY, "
                "row_hash bytea NOT NULL, link bytea NOT NULL)"
            ).format(schema=schema, chain=chain)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{fn}() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'polku: % of % refused: the event log is append-only',"
                " TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$"
            ).format(schema=schema, fn=Identifier(APPEND_ONLY_FUNCTION))
        )
        for table, ident in ((self.events_table_name, events), (self.chain_table, chain)):
            for suffix, when in (("rows", "UPDATE OR DELETE"), ("truncate", "TRUNCATE")):
                level = "ROW" if suffix == "rows" else "STATEMENT"
                self.sql_create_statements.append(
                    SQL(
                        "CREATE OR REPLACE TRIGGER {name} BEFORE " + when + " ON {schema}.{table} "
                        "FOR EACH " + level + " EXECUTE FUNCTION {schema}.{fn}()"
                    ).format(
                        name=Identifier(f"{table}_append_only_{suffix}"[:63]),
                        schema=schema,
                        table=ident,
                        fn=Identifier(APPEND_ONLY_FUNCTION),
                    )
                )

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Chains the inserted events. One event (most commands): one statement, the server
        linking it to the last link it reads (PostgreSQL's ``sha256``, the same SHA-256 as
        :func:`link`). Several: the last link read, then every row linked here."""
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert ids is not None
        if len(ids) == 1:
            event = stored_events[0]
            row = row_hash(event.originator_id, event.originator_version, event.topic, event.state)
            curs.execute(self._link_one, (ids[0], row, GENESIS, ids[0], row))
            return ids
        curs.execute(f"SELECT link FROM {self._chain} ORDER BY position DESC LIMIT 1")
        last = curs.fetchone()
        rows = chain_rows(bytes(last["link"]) if last else GENESIS, ids, stored_events)
        curs.executemany(f"INSERT INTO {self._chain} VALUES (%s, %s, %s)", rows)
        return ids

    @cached_property
    def _link_one(self) -> str:
        chain = self._chain
        return (
            f"INSERT INTO {chain} (position, row_hash, link) VALUES (%s, %s, sha256(COALESCE("
            f"(SELECT c.link FROM {chain} c ORDER BY c.position DESC LIMIT 1), %s::bytea)"
            " || int8send(%s::bigint) || %s::bytea))"
        )

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(sql, tuple(params))
            return list(curs.fetchall())

    @property
    def _chain(self) -> str:
        return f'"{self.datastore.schema}"."{self.chain_table}"'

    def select_chain(self, after: int, limit: int) -> list[ChainRow]:
        rows = self._query(
            f"SELECT position, row_hash, link FROM {self._chain} WHERE position > %s "
            "ORDER BY position LIMIT %s",
            (after, limit),
        )
        return [_pg_row(r) for r in rows]

    def chain_head(self) -> ChainRow | None:
        rows = self._query(
            f"SELECT position, row_hash, link FROM {self._chain} ORDER BY position DESC LIMIT 1"
        )
        return _pg_row(rows[0]) if rows else None

    def chain_before(self, position: int) -> ChainRow | None:
        rows = self._query(
            f"SELECT position, row_hash, link FROM {self._chain} WHERE position < %s "
            "ORDER BY position DESC LIMIT 1",
            (position,),
        )
        return _pg_row(rows[0]) if rows else None

    def chain_position_of(self, row: bytes) -> int | None:
        rows = self._query(f"SELECT position FROM {self._chain} WHERE row_hash = %s", (row,))
        return int(rows[0]["position"]) if rows else None

    def backfill_chain(self) -> int:
        """As on SQLite: only an empty chain over a log written before chaining existed."""
        events = f'"{self.datastore.schema}"."{self.events_table_name}"'
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"LOCK TABLE {events} IN EXCLUSIVE MODE")
            curs.execute(f"SELECT 1 FROM {self._chain} LIMIT 1")
            if curs.fetchone():
                return 0
            curs.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {events} ORDER BY notification_id"
            )
            found = curs.fetchall()
            stored = [
                StoredEvent(r["originator_id"], r["originator_version"], r["topic"], r["state"])
                for r in found
            ]
            rows = chain_rows(GENESIS, [r["notification_id"] for r in found], stored)
            if rows:
                curs.executemany(f"INSERT INTO {self._chain} VALUES (%s, %s, %s)", rows)
            return len(rows)


def _pg_row(r: Any) -> ChainRow:
    return ChainRow(int(r["position"]), bytes(r["row_hash"]), bytes(r["link"]))


CHAINED_RECORDERS = {
    "eventsourcing.sqlite": "shared.audit.chain:ChainedSQLiteApplicationRecorder",
    "eventsourcing.postgres": "shared.audit.chain:ChainedPostgresApplicationRecorder",
}


def chained_env(env: dict[str, str]) -> dict[str, str]:
    """A persistence environment whose application recorder keeps the hash chain."""
    return {**env, "APPLICATION_RECORDER_TOPIC": CHAINED_RECORDERS[env["PERSISTENCE_MODULE"]]}
