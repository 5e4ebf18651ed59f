"""Decoding a log's stored events for its readers (the outbox: relay, feeds, rebuilds).

:class:`StoredEventDecoder` gives what ``application.mapper.to_domain_event`` gives (the same
class, the same attributes, upcast by the class's own ``upcast_vN_vM`` methods), at about half
its cost: the stored JSON is parsed by orjson and the library's typed values
(``{"_type_": ..., "_data_": ...}``) are revived by the application's own transcodings in one
walk, with the text of recurring ids (a cohort's, a person's) turned into ``UUID`` objects once.
Anything it does not read the library's way (a cipher or compressor on the mapper, JSON that
orjson refuses, such as ``NaN`` or integers beyond 64 bits, a type name no transcoding has) goes
to the library's mapper instead, which decodes it or raises its own error.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple, cast

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper, find_id_convertor
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import resolve_topic

from shared.events.registry import remember_text

UUIDS_KEPT = 16384
"""How many ids' ``UUID`` objects a decoder keeps by their text; then it starts over."""


class Stored(NamedTuple):
    """A notification as :meth:`StoredEventDecoder.read` gives it (the library's fields)."""

    id: int
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes


class _NotOurs(Exception):
    """The stored state needs the library's own decoder."""


class StoredEventDecoder:
    """``mapper.to_domain_event`` for one application's mapper, made once per outbox."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self.plain = (
            mapper.cipher is None
            and mapper.compressor is None
            and isinstance(transcoder, JSONTranscoder)
        )
        names = getattr(transcoder, "names", {})
        self.revivers: dict[str, Callable[[Any], Any]] = {
            name: transcoding.decode for name, transcoding in names.items()
        }
        if "uuid_hex" in self.revivers:
            self.revivers["uuid_hex"] = self._uuid
        self._uuids: dict[str, uuid.UUID] = {}
        self._classes: dict[str, type] = {}

    def read(self, app: Any, after: int, limit: int) -> Sequence[Any]:
        """``app.notifications_after(after, limit)``; from a SQLite log, as plain tuples.

        The library builds each notification from a ``sqlite3.Row`` and a new ``UUID``; here
        one statement reads plain rows and recurring originator ids share their ``UUID``.
        """
        recorder = getattr(app, "recorder", None)
        if not isinstance(recorder, SQLiteApplicationRecorder):
            return app.notifications_after(after, limit)  # type: ignore[no-any-return]
        as_uuid = recorder.datastore.originator_id_type == "uuid"
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state"
            f" FROM {recorder.events_table_name} WHERE rowid>? ORDER BY rowid LIMIT ?"
        )
        with recorder.datastore.transaction(commit=False) as entered:
            cursor = cast(sqlite3.Cursor, entered)  # what the library's cursor yields
            cursor.row_factory = None
            cursor.execute(statement, (after, limit))
            rows = cursor.fetchall()
        if not as_uuid:
            return [Stored(*row) for row in rows]
        ids = self._uuid
        return [Stored(n, ids(o), v, t, s) for n, o, v, t, s in rows]

    def _uuid(self, data: Any) -> uuid.UUID:
        """``UUID(data)`` (a ``UUID`` is immutable, so one object serves every event)."""
        found = self._uuids.get(data)
        if found is None:
            if len(self._uuids) >= UUIDS_KEPT:
                self._uuids.clear()
            found = self._uuids[data] = uuid.UUID(data)
            remember_text(found, data)  # an id met once (a result's) is turned into text next
        return found

    def _revive(self, value: Any) -> Any:
        """The library's decoding hook, applied bottom-up to every object of parsed JSON.

        A typed value whose data is plain text (an id, a moment, a date: nearly all of them)
        is revived where it is found, without a call of its own for the object holding it.
        """
        kind = type(value)
        if kind is dict:
            revivers = self.revivers
            for key, item in value.items():
                kind = type(item)
                if kind is dict:
                    if len(item) == 2 and type(item.get("_data_")) is str and "_type_" in item:
                        reviver = revivers.get(item["_type_"])
                        if reviver is None:
                            raise _NotOurs
                        value[key] = reviver(item["_data_"])
                    else:
                        value[key] = self._revive(item)
                elif kind is list:
                    value[key] = self._revive(item)
            if len(value) == 2 and "_type_" in value:
                if "_data_" not in value:
                    return value
                reviver = revivers.get(value["_type_"])
                if reviver is None:
                    raise _NotOurs
                return reviver(value["_data_"])
            return value
        if kind is list:
            return [
                self._revive(item) if type(item) is dict or type(item) is list else item
                for item in value
            ]
        return value

    def __call__(self, stored: Any) -> Any:
        if not self.plain:
            return self.mapper.to_domain_event(stored)
        try:
            state = orjson.loads(stored.state)
            if type(state) is not dict:
                raise _NotOurs
            state = self._revive(state)
        except (orjson.JSONDecodeError, _NotOurs):
            return self.mapper.to_domain_event(stored)
        cls = self._classes.get(stored.topic)
        if cls is None:
            cls = self._classes[stored.topic] = resolve_topic(stored.topic)
        convert = find_id_convertor(cls, cast(Hashable, type(stored.originator_id)))
        state["originator_id"] = convert(stored.originator_id)
        state["originator_version"] = stored.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event
