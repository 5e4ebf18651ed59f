"""Signed checkpoints: the external anchors of the hash chains.

A checkpoint states "log L's link at position P is X", signed with Ed25519. Checkpoints are
kept outside the database that holds the log: appended to a checkpoint file (JSON lines, beside
the signing key, outside the data dir), published to the Kafka topic
``<prefix>.audit.checkpoints`` when Kafka is configured, and served over HTTP for pull. A
database administrator who rewrites a log and recomputes its whole chain still disagrees with
the checkpoints signed before.

The signing key is a file outside the data directory, like the key store's master key, made
(0600) on first use. Its public half is written beside it (``.pub``) and served, so verifiers
can pin it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.secret_files import create_once

CHECKPOINT_TOPIC = "audit.checkpoints"
"""Topic suffix: ``<prefix>.audit.checkpoints``."""


def checkpoint_topic(prefix: str) -> str:
    return f"{prefix}.{CHECKPOINT_TOPIC}"


class AuditKeyError(Exception):
    """The signing key is missing or malformed."""


@dataclass(frozen=True)
class Checkpoint:
    log: str
    position: int
    link: str
    """Hex of the chain's link at ``position``."""
    time: str
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(
            log=str(data["log"]),
            position=int(data["position"]),
            link=str(data["link"]),
            time=str(data["time"]),
            key_id=str(data["key_id"]),
            signature=str(data.get("signature") or ""),
        )


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_from_hex(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text.strip()))
    except ValueError as exc:
        raise AuditKeyError(f"not an Ed25519 public key in hex: {exc}") from None


def public_hex(public: Ed25519PublicKey) -> str:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


class Signer:
    """Signs checkpoints with the Ed25519 key kept (hex) in a file outside the data dir."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)

    @classmethod
    def from_file(cls, path: Path, *, create: bool = True) -> Signer:
        if create and not path.exists():
            create_once(path, Ed25519PrivateKey.generate().private_bytes_raw().hex() + "\n")
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            raise AuditKeyError(
                f"the audit signing key {path} is missing; point POLKU_AUDIT_KEY_FILE at it"
            ) from None
        try:
            private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
        except ValueError:
            raise AuditKeyError(f"{path} does not hold an Ed25519 key (64 hex digits)") from None
        signer = cls(private)
        pub = path.with_name(path.name + ".pub")
        if not pub.exists():
            create_once(pub, public_hex(signer.public) + "\n")
        return signer

    def sign_bytes(self, data: bytes) -> bytes:
        """An Ed25519 signature of ``data`` (the export bundle's manifest)."""
        return self._private.sign(data)

    def sign(
        self, log: str, position: int, link: bytes, when: dt.datetime | None = None
    ) -> Checkpoint:
        moment = (when or dt.datetime.now(dt.UTC)).isoformat()
        unsigned = Checkpoint(log, position, link.hex(), moment, self.key_id)
        signature = self._private.sign(unsigned.payload()).hex()
        return Checkpoint(log, position, link.hex(), moment, self.key_id, signature)


def signature_valid(checkpoint: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> bool:
    key = keys.get(checkpoint.key_id)
    if key is None or not checkpoint.signature:
        return False
    try:
        key.verify(bytes.fromhex(checkpoint.signature), checkpoint.payload())
    except (InvalidSignature, ValueError):
        return False
    return True


class CheckpointFile:
    """Checkpoints as JSON lines in a file outside the data dir; appends only.

    Reading is incremental: the parsed checkpoints are kept, and each :meth:`read` parses only
    the whole lines appended since the last one. The file is read from its start again when it
    was replaced or shrank (another inode, a smaller size), and whenever ``fresh`` is asked
    (the background verification does so on its full passes, so an old line edited in place
    is seen there too).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._offset = 0
        self._identity: tuple[int, int] | None = None
        self._all: list[Checkpoint] = []
        self._by_log: dict[str, list[Checkpoint]] = {}
        self.lines_read = 0
        """Lines parsed so far by this reader (what the incremental reading saves shows here)."""

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(checkpoint.to_dict(), sort_keys=True) + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as file:
                file.write(line)

    def read(self, log: str | None = None, fresh: bool = False) -> list[Checkpoint]:
        with self._read_lock:
            try:
                file = open(self.path, "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                self._forget(None)
                return []
            with file:
                status = os.fstat(file.fileno())
                identity = (status.st_dev, status.st_ino)
                if fresh or identity != self._identity or status.st_size < self._offset:
                    self._forget(identity)
                file.seek(self._offset)
                added = file.read()
            whole = added.rfind(b"\n") + 1  # a line still being appended waits for the next read
            self._offset += whole
            lines = added[:whole].splitlines()
            self.lines_read += len(lines)
            for checkpoint in parse_lines(lines):
                self._all.append(checkpoint)
                self._by_log.setdefault(checkpoint.log, []).append(checkpoint)
            return list(self._all if log is None else self._by_log.get(log, ()))

    def _forget(self, identity: tuple[int, int] | None) -> None:
        self._offset, self._identity, self._all, self._by_log = 0, identity, [], {}


def parse_lines(lines: Iterable[str | bytes]) -> list[Checkpoint]:
    """Checkpoints from JSON lines; a malformed line is kept out (it cannot anchor anything)."""
    found = []
    for line in lines:
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return found


class KafkaCheckpoints:
    """Publishes checkpoints to ``<prefix>.audit.checkpoints`` and reads them back."""

    def __init__(self, servers: str, prefix: str, security: dict[str, Any]) -> None:
        self.servers = servers
        self.topic = checkpoint_topic(prefix)
        self.security = security
        self._producer: Any = None

    def ensure_topic(self) -> None:
        """Creates the topic (one partition: checkpoints in order; kept forever) if missing."""
        from kafka import KafkaAdminClient
        from kafka.errors import TopicAlreadyExistsError

        from shared.kafka import TOPIC_CONFIGS

        admin = KafkaAdminClient(
            bootstrap_servers=self.servers.split(","),
            client_id="polku-audit",
            bootstrap_timeout_ms=10_000,
            **self.security,
        )
        try:
            if self.topic not in set(admin.list_topics()):
                wanted = {
                    "num_partitions": 1,
                    "replication_factor": 1,
                    "configs": dict(TOPIC_CONFIGS),
                }
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics({self.topic: wanted})
        finally:
            admin.close()

    def publish(self, checkpoint: Checkpoint) -> None:
        from shared.kafka import make_producer

        if self._producer is None:
            self.ensure_topic()
            self._producer = make_producer(self.servers, **self.security)
        payload = json.dumps(checkpoint.to_dict(), sort_keys=True).encode()
        self._producer.send(self.topic, key=checkpoint.log.encode(), value=payload)
        self._producer.flush(timeout=10)

    def read(self, log: str | None = None) -> list[Checkpoint]:
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(
            bootstrap_servers=self.servers, enable_auto_commit=False, **self.security
        )
        try:
            partitions = consumer.partitions_for_topic(self.topic) or set()
            tps = [TopicPartition(self.topic, p) for p in partitions]
            if not tps:
                return []
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            ends = consumer.end_offsets(tps)
            values: list[bytes] = []
            while any(consumer.position(tp) < ends[tp] for tp in tps):
                for batch in consumer.poll(timeout_ms=500).values():
                    values.extend(r.value for r in batch)
        finally:
            consumer.close()
        return [c for c in parse_lines(values) if log is None or c.log == log]

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
