"""The auditor's export bundle: a period of each log with its chain, the checkpoints that anchor
it, and a signed manifest, checkable offline without the database.

Layout of a bundle directory::

    manifest.json          what is inside: the period, each log's range, each file's SHA-256,
                           the signing key's public half
    manifest.sig           Ed25519 signature of manifest.json (hex)
    checkpoints.jsonl      the signed checkpoints of every exported log
    logs/<log>.jsonl       one line per position: the stored row (state base64, as stored:
                           encrypted personal fields stay encrypted) or the access entry, with
                           its row hash and link; the first line is the link before the range

Each log's range runs from its first position recorded in the period to the first checkpoint at
or after the period's last one, so every exported position is anchored by a signed checkpoint.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit.access import Access, AccessLog, _entry, stamp
from shared.audit.chain import GENESIS, ChainedLog, ChainRow, row_hash
from shared.audit.checkpoints import (
    Checkpoint,
    Signer,
    key_id_of,
    parse_lines,
    public_hex,
    public_key_from_hex,
)
from shared.audit.verify import Kind, Report, verify

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CHECKPOINTS = "checkpoints.jsonl"
BATCH = 5000


class BundleError(Exception):
    """The bundle cannot be written or read as one (the message says why)."""


@dataclass
class Range:
    first: int
    last: int


def _timestamp(state: bytes) -> dt.datetime | None:
    try:
        stamp = json.loads(state)["timestamp"]["_data_"]
        return dt.datetime.fromisoformat(stamp)
    except (ValueError, KeyError, TypeError):
        return None


def event_range(
    log: ChainedLog, since: dt.datetime, until: dt.datetime, anchors: Sequence[int]
) -> Range | None:
    """The positions recorded in [since, until), extended to the next anchor."""
    first = last = None
    after = 0
    while True:
        found = log.select_notifications(after, BATCH, inclusive_of_start=False)
        if not found:
            break
        for n in found:
            when = _timestamp(n.state)
            if when is None or when < since:
                continue
            if when >= until:
                break
            first = n.id if first is None else first
            last = n.id
        else:
            after = found[-1].id
            continue
        break
    if first is None or last is None:
        return None
    return Range(first, min((a for a in anchors if a >= last), default=last))


def write_event_log(out: Path, log: ChainedLog, span: Range) -> int:
    before = log.chain_before(span.first)
    chain = {r.position: r for r in _chain(log, span)}
    lines = [
        json.dumps(
            {
                "before": before.position if before else 0,
                "link": (before.link if before else GENESIS).hex(),
            }
        )
    ]
    after = span.first - 1
    while after < span.last:
        found = log.select_notifications(after, BATCH, stop=span.last, inclusive_of_start=False)
        if not found:
            break
        for n in found:
            row = chain.get(n.id)
            lines.append(
                json.dumps(
                    {
                        "position": n.id,
                        "originator_id": n.originator_id.hex
                        if hasattr(n.originator_id, "hex")
                        else str(n.originator_id),
                        "originator_version": n.originator_version,
                        "topic": n.topic,
                        "state": base64.b64encode(bytes(n.state)).decode(),
                        "row_hash": row.row_hash.hex() if row else None,
                        "link": row.link.hex() if row else None,
                    }
                )
            )
        after = found[-1].id
    out.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def _chain(log: ChainedLog, span: Range) -> Iterator[ChainRow]:
    after = span.first - 1
    while after < span.last:
        rows = log.select_chain(after, BATCH)
        if not rows:
            return
        for r in rows:
            if r.position > span.last:
                return
            yield r
        after = rows[-1].position


def access_range(
    log: AccessLog, since: dt.datetime, until: dt.datetime, anchors: Sequence[int]
) -> Range | None:
    with log.database.transaction(write=False) as cur:
        cur.execute(
            f"SELECT MIN(position), MAX(position) FROM {log.table} WHERE at >= ? AND at < ?",
            (stamp(since), stamp(until)),
        )
        first, last = cur.fetchone()
    if first is None:
        return None
    return Range(int(first), min((a for a in anchors if a >= int(last)), default=int(last)))


def write_access_log(out: Path, log: AccessLog, span: Range) -> int:
    source = log.source()
    before = source.chain_before(span.first)
    lines = [
        json.dumps(
            {
                "before": before.position if before else 0,
                "link": (before.link if before else GENESIS).hex(),
            }
        )
    ]
    with log.database.transaction(write=False) as cur:
        cur.execute(
            f"SELECT position, at, service, role, subject, operation, resource, person_ids, "
            f"outcome, purpose, row_hash, link FROM {log.table} WHERE position >= ? AND "
            "position <= ? ORDER BY position",
            (span.first, span.last),
        )
        for r in cur.fetchall():
            entry = _entry(r).to_dict(int(r[0]))
            lines.append(json.dumps({**entry, "row_hash": r[10], "link": r[11]}))
    out.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def sign_manifest(out: Path, signer: Signer, manifest: dict[str, Any]) -> None:
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name not in (MANIFEST, SIGNATURE):
            files[str(path.relative_to(out))] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {
        **manifest,
        "files": files,
        "public_key": public_hex(signer.public),
        "key_id": signer.key_id,
    }
    body = json.dumps(manifest, sort_keys=True, indent=1).encode()
    (out / MANIFEST).write_bytes(body)
    (out / SIGNATURE).write_text(signer.sign_bytes(body).hex() + "\n")


# Offline verification ---------------------------------------------------------------------


class BundleSource:
    """A bundled log as :func:`~shared.audit.verify.verify` reads it."""

    def __init__(self, path: Path, access: bool) -> None:
        lines = path.read_text().splitlines()
        head = json.loads(lines[0])
        self.before = ChainRow(int(head["before"]), b"", bytes.fromhex(head["link"]))
        self.rows: list[tuple[int, bytes, ChainRow | None]] = []
        for line in lines[1:]:
            r = json.loads(line)
            if access:
                entry = Access(
                    at=r["at"],
                    role=r["role"],
                    subject=r["subject"],
                    operation=r["operation"],
                    resource=r["resource"],
                    person_ids=tuple(r["person_ids"]),
                    outcome=int(r["outcome"]),
                    purpose=r["purpose"],
                    service=r["service"],
                )
                computed = entry.row_hash()
            else:
                computed = row_hash(
                    str(r["originator_id"]),
                    int(r["originator_version"]),
                    r["topic"],
                    base64.b64decode(r["state"]),
                )
            chained = (
                ChainRow(int(r["position"]), bytes.fromhex(r["row_hash"]), bytes.fromhex(r["link"]))
                if r.get("row_hash") and r.get("link")
                else None
            )
            self.rows.append((int(r["position"]), computed, chained))
        self.first = self.rows[0][0] if self.rows else self.before.position + 1
        self.last = self.rows[-1][0] if self.rows else self.before.position

    def events(self, after: int) -> Iterator[tuple[int, bytes]]:
        return iter([(p, h) for p, h, _ in self.rows if p > after])

    def chain(self, after: int) -> Iterator[ChainRow]:
        return iter([c for p, _, c in self.rows if c is not None and p > after])

    def chain_before(self, position: int) -> ChainRow | None:
        earlier = [c for p, _, c in self.rows if c is not None and p < position]
        return earlier[-1] if earlier else self.before

    def chained_at(self, row: bytes) -> int | None:
        return next(
            (c.position for _, _, c in self.rows if c is not None and c.row_hash == row), None
        )


def verify_bundle(
    bundle: Path, public_keys: Sequence[str], only: Sequence[str] | None = None
) -> list[Report]:
    """Checks a bundle offline: the manifest's signature and file hashes, then each log's chain
    against the bundled checkpoints."""
    manifest_bytes = (bundle / MANIFEST).read_bytes()
    manifest = json.loads(manifest_bytes)
    keys: dict[str, Ed25519PublicKey] = {}
    for given in public_keys:
        text = Path(given).read_text() if Path(given).is_file() else given
        key = public_key_from_hex(text)
        keys[key_id_of(key)] = key
    if not keys:  # nothing pinned: the bundle's own key (the report says so)
        key = public_key_from_hex(manifest["public_key"])
        keys[key_id_of(key)] = key
    reports: list[Report] = []
    signer_key = keys.get(manifest.get("key_id", ""))
    try:
        if signer_key is None:
            raise InvalidSignature
        signer_key.verify(bytes.fromhex((bundle / SIGNATURE).read_text().strip()), manifest_bytes)
    except (InvalidSignature, ValueError, FileNotFoundError):
        return [
            Report(
                "manifest",
                Kind.BAD_SIGNATURE,
                None,
                detail="the manifest is not signed by a trusted key",
            )
        ]
    for name, digest in manifest["files"].items():
        path = bundle / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            reports.append(
                Report(
                    "manifest",
                    Kind.CHANGED,
                    None,
                    detail=f"{name} is not the file the manifest signed",
                )
            )
    checkpoints = parse_lines((bundle / CHECKPOINTS).read_text().splitlines())
    for log in manifest["logs"]:
        name = log["name"]
        if only and name.split(".")[0] not in only:
            continue
        source = BundleSource(bundle / log["file"], access=name.endswith(".access"))
        anchors = [
            c for c in checkpoints if c.log == name and source.first <= c.position <= source.last
        ]
        report = verify(name, source, anchors, keys, start=source.first - 1)
        reports.append(report)
    if not public_keys:
        for report in reports:
            report.detail = (
                report.detail + " " if report.detail else ""
            ) + "(checked with the bundle's own key: pin it with --public-key)"
    return reports


def checkpoints_text(found: Sequence[Checkpoint]) -> str:
    return "".join(json.dumps(c.to_dict(), sort_keys=True) + "\n" for c in found)
