"""Feeds the tracking projector consumes: Kafka, the in-process log, or the HTTP endpoint.

Every feed yields :class:`Delivery` objects built from the same :class:`~shared.outbox.Outbox`
mapping, so the three give identical envelopes. A poll also reports a *cursor* per
(source, partition): how far it has read, including notifications that map to no event, so the
projector can store it in the same transaction as the views it updates.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from marshmallow import ValidationError

from shared.events import Envelope
from shared.events.envelope import MAX_POSITION
from shared.kafka import finish_cut_short_join, make_consumer, restricted_topic_of, topic_of
from shared.outbox import Outbox

log = logging.getLogger("polku.feeds")

Key = tuple[str, int]
"""(source, partition): a log feed has one partition, 0; Kafka has the topic's partitions."""


class Delivery(NamedTuple):
    """One event at one place in a feed; ``envelope`` is None when the bytes were unreadable.

    ``trusted`` marks data this process has just serialised through the registry itself (the
    in-process feed); anything read from Kafka or HTTP is validated again by the consumer.
    """

    source: str
    partition: int
    offset: int
    envelope: Envelope | None
    raw: bytes | None = None
    error: str | None = None
    trusted: bool = False


@dataclass
class Poll:
    deliveries: list[Delivery] = field(default_factory=list)
    cursors: dict[Key, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.deliveries and not self.cursors


class Feed(Protocol):
    kind: str
    waits_for_events: bool
    """True when poll() itself blocks until events arrive, so idle callers need not sleep."""

    def poll(self, positions: Mapping[Key, int], max_records: int) -> Poll: ...
    def commit(self, poll: Poll) -> None: ...
    def heads(self) -> dict[Key, int]: ...
    def close(self) -> None: ...


class ElsewhereFeed:
    """The feed of a tracking process that serves the API while another one projects.

    It consumes nothing and holds no connection (no place in the Kafka group); the status
    the API reports comes from the read models the projecting process writes.
    """

    waits_for_events = False

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def poll(self, positions: Mapping[Key, int], max_records: int) -> Poll:
        return Poll()

    def commit(self, poll: Poll) -> None:
        pass

    def heads(self) -> dict[Key, int]:
        return {}

    def close(self) -> None:
        pass


class OutboxFeed:
    """Reads write services' outboxes directly: embedded mode, in one process."""

    kind = "embedded"
    waits_for_events = False

    def __init__(self, outboxes: Mapping[str, Outbox]) -> None:
        self.outboxes = dict(outboxes)

    def poll(self, positions: Mapping[Key, int], max_records: int) -> Poll:
        poll = Poll()
        for source, outbox in self.outboxes.items():
            after = positions.get((source, 0), 0)
            batch = outbox.read(after, max_records)
            if batch.last_position > after:
                poll.cursors[(source, 0)] = batch.last_position
                poll.deliveries.extend(  # positional: a keyword costs a NamedTuple dearly
                    Delivery(source, 0, e.position, e, None, None, True) for e in batch.envelopes
                )
        return poll

    def commit(self, poll: Poll) -> None:
        """Nothing to acknowledge: the projector's stored cursor is the only position."""

    def heads(self) -> dict[Key, int]:
        return {(source, 0): outbox.head() for source, outbox in self.outboxes.items()}

    def close(self) -> None:
        pass


class NotAnEventsPage(ConnectionError):
    """An HTTP source answered, but not as a Polku write service's events endpoint does."""


class HttpFeed:
    """Pulls ``GET /<service>/events?after=&limit=`` from each write service.

    For the services in ``restricted`` it pulls ``/<service>/restricted/events`` instead, the
    channel with individual values that only tracking's service token may read.
    """

    kind = "http"
    waits_for_events = False

    def __init__(
        self,
        base_urls: Mapping[str, str],
        token: str | Callable[[], str],
        timeout: float = 10.0,
        restricted: tuple[str, ...] = (),
    ) -> None:
        self.base_urls = {s: u.rstrip("/") for s, u in base_urls.items()}
        self.paths = {
            s: f"/{s}/restricted/events" if s in restricted else f"/{s}/events" for s in base_urls
        }
        # A callable is asked before every request, so a renewing token never lapses.
        self.token = token if callable(token) else (lambda: token)
        self.timeout = timeout
        self._heads: dict[Key, int] = {}

    def _get(self, source: str, after: int, limit: int) -> dict[str, Any]:
        query = urllib.parse.urlencode({"after": after, "limit": limit})
        request = urllib.request.Request(
            f"{self.base_urls[source]}{self.paths[source]}?{query}",
            headers={"Authorization": f"Bearer {self.token()}", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            body = response.read()
        try:
            page = json.loads(body)
            next_after = page["next_after"]
            int(page["head"]), list(page["events"])
            if next_after is not None:
                int(next_after)
        except (ValueError, TypeError, KeyError) as exc:
            raise NotAnEventsPage(
                f"{request.full_url} answered with something other than a Polku events page"
                f" ({exc.__class__.__name__}: {exc}); is the URL a Polku {source} service?"
            ) from None
        return page  # type: ignore[no-any-return]

    def poll(self, positions: Mapping[Key, int], max_records: int) -> Poll:
        poll = Poll()
        for source in self.base_urls:
            after = positions.get((source, 0), 0)
            page = self._get(source, after, min(max_records, 1000))
            self._heads[(source, 0)] = int(page["head"])
            # A null next_after: the page reached the head, which is where to continue.
            following = page["head"] if page["next_after"] is None else page["next_after"]
            if int(following) > after:
                poll.cursors[(source, 0)] = int(following)
                for raw in page["events"]:
                    poll.deliveries.append(_delivery_from_page(source, raw, after))
        return poll

    def commit(self, poll: Poll) -> None:
        """The HTTP feed is stateless: the stored cursor is the only position."""

    def heads(self) -> dict[Key, int]:
        for source in self.base_urls:
            self._heads[(source, 0)] = int(self._get(source, 0, 1)["head"])
        return dict(self._heads)

    def close(self) -> None:
        pass


def delivery_from_record(source: str, partition: int, offset: int, value: Any) -> Delivery:
    """One Kafka record as a delivery; whatever its bytes, it never fails the poll.

    kafka-python has already moved past every record a poll returned, so an exception here
    would lose the rest of the batch. An unreadable record (a tombstone, bytes that are not
    JSON, a broken envelope) becomes a delivery to dead-letter instead.
    """
    try:
        return Delivery(source, partition, offset, Envelope.from_json(value), value)
    except ValidationError as exc:
        error = f"malformed CloudEvent: {exc.messages}"
    except Exception as exc:  # anything else a hostile record can provoke
        error = f"unreadable record: {exc.__class__.__name__}: {exc}"
    raw = value if isinstance(value, bytes) else None
    return Delivery(source, partition, offset, None, raw, error)


def _delivery_from_page(source: str, raw: Any, after: int) -> Delivery:
    """One event of an HTTP page; a malformed one becomes a delivery to dead-letter."""
    try:
        envelope = Envelope.from_dict(raw)
    except (ValidationError, TypeError) as exc:
        position = raw.get("position") if isinstance(raw, dict) else None
        in_range = isinstance(position, int) and 0 < position <= MAX_POSITION
        offset: int = position if in_range else after  # type: ignore[assignment]
        error = getattr(exc, "messages", str(exc))
        return Delivery(source, 0, offset, None, json.dumps(raw).encode(), f"malformed: {error}")
    return Delivery(source, 0, envelope.position, envelope)


class KafkaFeed:
    """Consumes ``polku.<service>.events`` in a consumer group.

    For the services in ``restricted`` it consumes ``polku.<service>.restricted`` instead, the
    topic with individual values that only tracking's principal may read.

    On assignment it seeks to the positions stored with the read models (or to the beginning
    where they hold none), so a crash between the database commit and the offset commit
    redelivers nothing that was applied, and rebuilt read models miss nothing.
    """

    kind = "kafka"
    waits_for_events = True

    def __init__(
        self,
        bootstrap_servers: str,
        group_id: str,
        services: tuple[str, ...],
        stored_positions: Callable[[], Mapping[Key, int]],
        topic_prefix: str = "polku",
        poll_timeout_ms: int = 200,
        restricted: tuple[str, ...] = (),
        **consumer_overrides: Any,
    ) -> None:
        from kafka import ConsumerRebalanceListener

        self.services = services
        channel = {s: restricted_topic_of if s in restricted else topic_of for s in services}
        self.topics = {channel[s](s, topic_prefix): s for s in services}
        self.poll_timeout_ms = poll_timeout_ms
        self.consumer = make_consumer(bootstrap_servers, group_id, **consumer_overrides)
        self.commit_pending = False
        feed = self

        class SeekToStored(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked: Any) -> None:
                pass

            def on_partitions_assigned(self, assigned: Any) -> None:
                # The read models' positions are authoritative, not the group's offsets: read
                # models that hold nothing from a partition (new, or dropped for a new layout)
                # start at its beginning even if the group had committed further.
                stored = stored_positions()
                # Which partitions this process now projects (several may share a group).
                log.info(
                    "assigned partitions: %s",
                    " ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)) or "none",
                )
                for tp in assigned:
                    last = stored.get((feed.topics[tp.topic], tp.partition))
                    if last is None:
                        feed.consumer.seek_to_beginning(tp)
                        continue
                    feed.consumer.seek(tp, last + 1)
                    # Bring the group's offsets up to what the database already holds.
                    feed.commit_pending = True

        # Learn the topics' partitions before joining: a group leader without them assigns
        # nothing until its next metadata refresh.
        for topic in self.topics:
            self.consumer.partitions_for_topic(topic)
        self.consumer.subscribe(topics=list(self.topics), listener=SeekToStored())

    def poll(self, positions: Mapping[Key, int], max_records: int) -> Poll:
        records = self.consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=max_records)
        if finish_cut_short_join(self.consumer):
            log.info("a group join was cut short by the poll's timeout; the next poll ends it")
        poll = Poll()
        for tp, batch in records.items():
            source = self.topics[tp.topic]
            poll.deliveries.extend(
                delivery_from_record(source, tp.partition, record.offset, record.value)
                for record in batch
            )
            poll.cursors[(source, tp.partition)] = batch[-1].offset
        if not records and self.commit_pending:
            self.commit(poll)
        return poll

    def commit(self, poll: Poll) -> None:
        """Commits the consumed offsets; called only after the database has committed."""
        if poll.deliveries or self.commit_pending:
            self.consumer.commit()
            self.commit_pending = False

    def heads(self) -> dict[Key, int]:
        partitions = self.consumer.assignment()
        if not partitions:
            return {}
        ends = self.consumer.end_offsets(list(partitions))
        # end_offsets is the next offset to be written; the newest record is one less.
        return {(self.topics[tp.topic], tp.partition): end - 1 for tp, end in ends.items()}

    def close(self) -> None:
        self.consumer.close(autocommit=False)
