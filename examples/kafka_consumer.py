"""Consume Polku's events from Kafka, as a subscribing service would.

    python examples/kafka_consumer.py --bootstrap-servers 127.0.0.1:9092 \\
        --topic polku.enrolment.events --group my-service [--username U --password P]

- **Consumer group**: several copies of this program share the topic's partitions.
- **Commit after processing**: each batch is processed, and the ids processed are stored, in one
  SQLite transaction (``--state``); only then are the Kafka offsets committed. A crash between
  the two redelivers the batch, and the stored ids make the second delivery a no-op.
- **Duplicates by event id**: Polku delivers at least once, and publishes an event again with
  the same ``id`` (a relay retry, or a previous version during its deprecation period), so an
  id already processed is skipped.
- **Versions**: with ``--schema-version TYPE=N`` it reads only version N of a type (the
  version its code was written for) and skips the others, as ``docs/subscribing.md`` asks.
- ``--validate`` checks each event's ``data`` against the JSON Schema its ``dataschema`` URL
  serves, with a stock validator (the ``jsonschema`` package).

Processing here prints one JSON line per event. It stops after ``--idle`` seconds without a
record (for scripts and tests), or runs until Ctrl-C. Needs ``kafka-python`` (and
``jsonschema`` for ``--validate``).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
import urllib.request
from typing import Any

from kafka import KafkaConsumer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", action="append", required=True, help="Repeat for several.")
    parser.add_argument("--group", required=True, help="Consumer group id.")
    parser.add_argument("--username", help="SASL/SCRAM principal (SASL_PLAINTEXT when given).")
    parser.add_argument("--password")
    parser.add_argument("--mechanism", default="SCRAM-SHA-512")
    parser.add_argument("--state", default="consumer-state.sqlite", help="Processed event ids.")
    parser.add_argument("--idle", type=float, default=0, help="Stop after this many idle s.")
    parser.add_argument("--count", type=int, default=0, help="Stop after receiving this many.")
    parser.add_argument("--validate", action="store_true", help="Check data against its schema.")
    parser.add_argument(
        "--schema-version",
        action="append",
        default=[],
        metavar="TYPE=N",
        help="Read only version N of TYPE; skip its other versions.",
    )
    return parser.parse_args(argv)


class State:
    """The ids already processed, kept with whatever processing writes, in one database."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("CREATE TABLE IF NOT EXISTS processed (id TEXT PRIMARY KEY, type TEXT)")

    def process(self, events: list[dict[str, Any]], handle: Any) -> tuple[int, int]:
        """Handles the events not processed before, in one transaction; (done, duplicates)."""
        done = duplicates = 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for event in events:
                seen = self.db.execute("SELECT 1 FROM processed WHERE id = ?", (event["id"],))
                if seen.fetchone():
                    duplicates += 1
                    continue
                handle(event)
                self.db.execute("INSERT INTO processed VALUES (?, ?)", (event["id"], event["type"]))
                done += 1
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return done, duplicates


class Schemas:
    """Fetches each ``dataschema`` once and validates ``data`` with a stock validator."""

    def __init__(self) -> None:
        self.validators: dict[str, Any] = {}

    def check(self, event: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator

        url = event["dataschema"]
        if url not in self.validators:
            with urllib.request.urlopen(url, timeout=10) as response:
                schema = json.loads(response.read())
            self.validators[url] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        self.validators[url].validate(event["data"])


def wanted_versions(pairs: list[str]) -> dict[str, str]:
    """``{type: version}`` from ``TYPE=N`` arguments."""
    return dict(pair.rsplit("=", 1) for pair in pairs)


def readable(event: dict[str, Any], versions: dict[str, str]) -> bool:
    """False for a version of a type this consumer was not written for."""
    wanted = versions.get(event["type"])
    return wanted is None or event["dataschema"].rsplit("/", 1)[-1] == wanted


def finish_cut_short_join(consumer: KafkaConsumer) -> None:
    """kafka-python 3.0.12 can forget a group join that a poll's timeout cut short (when the
    reason to rejoin cleared meanwhile): the consumer then fetches nothing until the broker
    drops it. Asking to rejoin while such a join exists makes the next poll finish it. (Polku's
    own projector does the same: ``shared.kafka.finish_cut_short_join``.)"""
    coordinator = getattr(consumer, "_coordinator", None)
    if getattr(coordinator, "_join_task", None) is not None and not coordinator.need_rejoin():  # type: ignore[union-attr]
        coordinator.rejoin_needed = True  # type: ignore[union-attr]


def handle(event: dict[str, Any]) -> None:
    """This example's processing: one line per event on standard output."""
    print(
        json.dumps({k: event.get(k) for k in ("id", "type", "subject", "sequence", "dataschema")}),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    security: dict[str, Any] = {}
    if args.username:
        security = {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": args.mechanism,
            "sasl_plain_username": args.username,
            "sasl_plain_password": args.password,
        }
    consumer = KafkaConsumer(
        *args.topic,
        bootstrap_servers=args.bootstrap_servers.split(","),
        group_id=args.group,
        enable_auto_commit=False,  # committed by hand, after processing
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        **security,
    )
    state, schemas = State(args.state), Schemas()
    versions = wanted_versions(args.schema_version)
    totals = {"processed": 0, "duplicates": 0, "skipped": 0}
    last_record = time.monotonic()
    received = 0
    try:
        while not args.idle or time.monotonic() - last_record < args.idle:
            if args.count and received >= args.count:
                break
            batches = consumer.poll(timeout_ms=500)
            finish_cut_short_join(consumer)
            if not batches:
                continue
            last_record = time.monotonic()
            events = []
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    if not readable(event, versions):
                        totals["skipped"] += 1
                        continue
                    if args.validate:
                        schemas.check(event)
                    events.append(event)
            done, duplicates = state.process(events, handle)
            received += len(events)
            totals["processed"] += done
            totals["duplicates"] += duplicates
            consumer.commit()  # only after the database has committed
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close(autocommit=False)
    print(json.dumps(totals), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
