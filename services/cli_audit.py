"""``polku audit``: verify the hash chains, sign checkpoints, export and check bundles.

``polku audit verify`` recomputes each log's chain against the stored chain and the signed
checkpoints (the checkpoint file, and Kafka's ``<prefix>.audit.checkpoints`` when configured),
or checks an exported bundle offline with ``--bundle``. Its exit status names the outcome
(:data:`shared.audit.verify.EXIT_CODES`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from shared.audit.verify import EXIT_CODES, Kind, Report

LOGS = ("enrolment", "assessment")

EXIT_HELP = "\n".join(f"  {code}  {kind.value}" for kind, code in EXIT_CODES.items())


class AuditFailed(click.ClickException):
    exit_code = 1


@click.group(name="audit")
def audit_group() -> None:
    """Verify the tamper-evident logs, sign checkpoints, export bundles for auditors."""


@contextmanager
def _services(names: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    from services import runtime
    from services.cli import load_settings, reachable

    settings = load_settings()
    built: dict[str, Any] = {}
    try:
        with reachable(settings):
            for name in names:
                built[name] = runtime.build_write_service(settings, name)
        yield built
    finally:
        for service in built.values():
            service.close()


def trusted_keys(
    settings: Any, public_keys: tuple[str, ...], required: bool = True
) -> dict[str, Any]:
    """The public keys checkpoints may be signed with: the configured signing key's (if
    present) and each ``--public-key`` (hex, or a file holding hex)."""
    from shared.audit.checkpoints import (
        AuditKeyError,
        Signer,
        key_id_of,
        public_key_from_hex,
    )

    keys = {}
    try:
        signer = Signer.from_file(settings.resolved_audit_key_file(), create=False)
        keys[signer.key_id] = signer.public
    except AuditKeyError:
        if not public_keys and required:
            raise
    for given in public_keys:
        text = Path(given).read_text() if Path(given).is_file() else given
        key = public_key_from_hex(text)
        keys[key_id_of(key)] = key
    return keys


def all_checkpoints(settings: Any, log: str) -> list[Any]:
    """The checkpoints of ``log`` in the file and, with Kafka configured, on the topic."""
    from shared.audit import setup

    found = {
        (c.position, c.link, c.signature): c for c in setup.checkpoint_file(settings).read(log)
    }
    remote = setup.kafka_checkpoints(settings)
    if remote is not None:
        for c in remote.read(log):
            found.setdefault((c.position, c.link, c.signature), c)
    return list(found.values())


@audit_group.command(name="verify", epilog="\b\nExit status:\n" + EXIT_HELP)
@click.option(
    "--service",
    "services",
    multiple=True,
    type=click.Choice(LOGS),
    help="Only this log (repeatable; default all).",
)
@click.option(
    "--from",
    "start",
    default=0,
    type=click.IntRange(0),
    help="Verify from this position (the link before it is taken as stored).",
)
@click.option(
    "--bundle",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Check an exported bundle offline instead of the live stores.",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    help="A trusted checkpoint key: hex, or a file holding hex (repeatable).",
)
@click.pass_context
def verify_command(
    ctx: click.Context,
    services: tuple[str, ...],
    start: int,
    bundle: Path | None,
    public_keys: tuple[str, ...],
) -> None:
    """Recompute the hash chains against the stored chain and the signed checkpoints.

    Reports per log the first position that differs and the kind of difference: changed,
    reordered, missing, extra, rewritten (re-chained: it disagrees with a checkpoint),
    bad-signature, or no-checkpoint.
    """
    if bundle is not None:
        from shared.audit.bundle import verify_bundle

        reports = verify_bundle(bundle, public_keys, services or None)
        ctx.exit(_report(reports))
    from services.cli import load_settings, reachable
    from shared.audit.checkpoints import AuditKeyError

    settings = load_settings()
    try:
        with reachable(settings):
            reports = verify_live(settings, services or LOGS, max(0, start - 1), public_keys)
    except AuditKeyError as exc:
        raise AuditFailed(f"{exc}; or give the signer's public key with --public-key") from None
    except FileNotFoundError as exc:
        raise AuditFailed(str(exc)) from None
    ctx.exit(_report(reports))


def verify_live(
    settings: Any,
    names: tuple[str, ...] = LOGS,
    start: int = 0,
    public_keys: tuple[str, ...] = (),
    key_required: bool = True,
) -> list[Report]:
    """Verifies the live event logs against every checkpoint the settings reach."""
    from shared.audit.setup import opened_log
    from shared.audit.verify import Events, verify

    keys = trusted_keys(settings, public_keys, key_required)
    reports = []
    for name in names:
        with opened_log(settings, name) as log:
            reports.append(verify(name, Events(log), all_checkpoints(settings, name), keys, start))
    return reports


def _report(reports: list[Report]) -> int:
    for report in reports:
        click.echo(report.line())
    failed = [r for r in reports if r.kind is not Kind.OK]
    return failed[0].exit_code if failed else 0


@audit_group.command(name="checkpoint")
@click.option(
    "--service",
    "services",
    multiple=True,
    type=click.Choice(LOGS),
    help="Only this log (repeatable; default all).",
)
def checkpoint_command(services: tuple[str, ...]) -> None:
    """Verify each chain and, if it holds, sign and publish a checkpoint at its head now."""
    from services.cli import load_settings
    from shared.audit import setup

    settings = load_settings()
    remote = setup.kafka_checkpoints(settings)
    failed = False
    try:
        with _services(services or LOGS) as built:
            for name, service in built.items():
                ledger = service.ledger
                if remote is not None:
                    ledger.publishers = (remote,)
                report = ledger.verify()
                if not report.ok and report.kind is not Kind.NO_CHECKPOINT:
                    click.echo(f"not signed: {report.line()}", err=True)
                    failed = True
                    continue
                signed = ledger.checkpoint(report if report.ok else None)
                if signed is None:
                    click.echo(f"{name}: empty, nothing to anchor")
                else:
                    click.echo(f"{name}: signed position {signed.position} ({signed.link[:16]}…)")
    finally:
        if remote is not None:
            remote.close()
    if failed:
        raise AuditFailed("a chain did not verify; no checkpoint was signed for it")


def _events_of(log: Any) -> Callable[[], Any]:
    from shared.audit.verify import Events

    return lambda: Events(log)


def _moment(_ctx: click.Context, _param: click.Parameter, value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@audit_group.command(name="export")
@click.option(
    "--from",
    "since",
    required=True,
    callback=_moment,
    help="Start of the period (ISO 8601; UTC if no offset).",
)
@click.option(
    "--to", "until", required=True, callback=_moment, help="End of the period, exclusive."
)
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def export_command(since: dt.datetime, until: dt.datetime, out: Path) -> None:
    """Write a bundle for auditors: the period's events and access-log entries with their chain
    links, the checkpoints that anchor them, and a signed manifest.

    Each log's chain is verified and, if it holds, a checkpoint is signed at its head first,
    so the whole period is anchored. Check the bundle anywhere with
    ``polku audit verify --bundle OUT --public-key <the signer's public key>``.
    """
    from services.cli import load_settings, reachable
    from shared.audit import bundle, setup
    from shared.audit.access import AccessLog
    from shared.audit.ledger import Ledger
    from shared.sql import Database

    if until <= since:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    if out.exists() and any(out.iterdir()):
        raise click.UsageError(f"{out} is not empty; give a new directory")
    settings = load_settings()
    signer = setup.signer(settings)
    store = setup.checkpoint_file(settings)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    logs: list[dict[str, Any]] = []
    names: list[str] = []

    def export(name: str, ledger: Ledger, span_of: Any, write: Any) -> None:
        report = ledger.verify()
        click.echo(f"verified: {report.line()}")
        if report.ok or report.kind is Kind.NO_CHECKPOINT:
            ledger.checkpoint()
        anchors = [c.position for c in all_checkpoints(settings, name)]
        span = span_of(anchors)
        names.append(name)
        if span is None:
            click.echo(f"{name}: nothing recorded in the period")
            return
        file = f"logs/{name}.jsonl"
        count = write(out / file, span)
        logs.append(
            {"name": name, "file": file, "first": span.first, "last": span.last, "count": count}
        )
        click.echo(f"{name}: positions {span.first} to {span.last} ({count} rows)")

    with reachable(settings):
        for name in LOGS:
            with setup.opened_log(settings, name) as log:
                ledger = Ledger(name, _events_of(log), signer, store)
                export(
                    name,
                    ledger,
                    lambda anchors, log=log: bundle.event_range(log, since, until, anchors),
                    lambda path, span, log=log: bundle.write_event_log(path, log, span),
                )
        for service, url in (
            *((name, settings.store_url(name)) for name in LOGS),
            ("tracking", settings.readmodel_url()),
        ):
            database = Database(url)
            try:
                access = AccessLog(database, service)
                ledger = Ledger(f"{service}.access", access.source, signer, store)
                export(
                    f"{service}.access",
                    ledger,
                    lambda anchors, access=access: bundle.access_range(
                        access, since, until, anchors
                    ),
                    lambda path, span, access=access: bundle.write_access_log(path, access, span),
                )
            finally:
                database.close()
    found = [c for name in names for c in all_checkpoints(settings, name)]
    (out / bundle.CHECKPOINTS).write_text(bundle.checkpoints_text(found))
    manifest = {
        "created": dt.datetime.now(dt.UTC).isoformat(),
        "from": since.isoformat(),
        "to": until.isoformat(),
        "logs": logs,
    }
    bundle.sign_manifest(out, signer, manifest)
    click.echo(f"wrote {out} ({len(logs)} logs); signed by key {signer.key_id}")


@audit_group.command(name="prune")
def prune_command() -> None:
    """Remove access-log entries older than POLKU_AUDIT_ACCESS_RETENTION_DAYS.

    Entries go from the start of each service's access log; the link of the last one removed
    is kept, so what remains still verifies against the checkpoints signed after it.
    """
    from services.cli import load_settings, reachable
    from shared.audit.access import AccessLog
    from shared.sql import Database

    settings = load_settings()
    before = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.access_retention_days)
    with reachable(settings):
        for service, url in (
            *((name, settings.store_url(name)) for name in LOGS),
            ("tracking", settings.readmodel_url()),
        ):
            database = Database(url)
            try:
                removed = AccessLog(database, service).prune(before)
            finally:
                database.close()
            click.echo(f"{service}: removed {removed} access-log entries before {before:%Y-%m-%d}")
