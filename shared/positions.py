"""Where a relay keeps its position: a small table in the service's own database."""

from __future__ import annotations

from shared.sql import Database, schema_lock


class RelayPositions:
    def __init__(self, database: Database, service: str) -> None:
        self.database = database
        self.table = f"{service}_relay_position"
        with schema_lock(database.url), database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                " relay TEXT PRIMARY KEY, position BIGINT NOT NULL, updated_at TEXT NOT NULL)"
            )

    def get(self, relay: str) -> int:
        with self.database.transaction(write=False) as cur:
            cur.execute(f"SELECT position FROM {self.table} WHERE relay = ?", (relay,))
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def put(self, relay: str, position: int) -> None:
        with self.database.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.table} (relay, position, updated_at) VALUES (?, ?, "
                "CURRENT_TIMESTAMP) ON CONFLICT (relay) DO UPDATE SET position = excluded.position,"
                " updated_at = excluded.updated_at",
                (relay, position),
            )
