"""The ``polku`` command line: run the product, its processes, and local helpers."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import signal
import socket
import sys
import threading
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from services.enrolment.keywrap import MasterKeyError
from shared import heap
from shared.auth import ROLES, issue_token
from shared.settings import VARIABLES, WRITE_SERVICES, Settings, SettingsError


@contextlib.contextmanager
def reachable(settings: Settings) -> Iterator[None]:
    """Turns an unreachable broker or database at start-up into one clear line, not a trace."""
    from eventsourcing.persistence import OperationalError as EventStoreUnreachable
    from eventsourcing.persistence import PersistenceError
    from kafka.errors import KafkaError
    from psycopg import OperationalError

    try:
        yield
    except KafkaError as exc:
        raise click.ClickException(
            f"Kafka at {settings.kafka_bootstrap_servers} is unreachable ({exc}); start it, or "
            "unset POLKU_KAFKA_BOOTSTRAP_SERVERS to run without Kafka"
        ) from None
    except (EventStoreUnreachable, OperationalError) as exc:
        raise click.ClickException(f"the database is unreachable: {exc}") from None
    except PersistenceError as exc:
        raise click.ClickException(f"the database refused Polku's start-up: {exc}") from None
    except urllib.error.HTTPError as exc:  # before URLError, its base class
        # A 403 from a restricted feed: the token's subject is not among its readers.
        readers = " (its subject must be in POLKU_RESTRICTED_READERS)" if exc.code == 403 else ""
        raise click.ClickException(
            f"{_masked_url(_without_query(exc.url))} answered {exc.code} {exc.reason}; check "
            f"{_http_feed_variables()} and POLKU_SERVICE_TOKEN{readers}"
        ) from None
    except UNREACHABLE as exc:
        # urllib raises URLError for a refused connection, but a reset or a timeout while
        # reading the answer arrives bare, and a port that speaks no HTTP as HTTPException.
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if settings.feed == "http":
            sources = ", ".join(
                f"{name} at {_masked_url(url)}" for name, url in settings.service_urls.items()
            )
            raise click.ClickException(
                f"the http feed's source is unreachable ({reason}); start it, or check "
                f"{_http_feed_variables()} (now: {sources})"
            ) from None
        raise click.ClickException(f"a service Polku needs is unreachable: {reason}") from None
    except MasterKeyError as exc:
        raise click.ClickException(f"the key store cannot be opened: {exc}") from None
    except OSError as exc:  # a data dir that cannot be written, a file that went away
        raise click.ClickException(f"Polku could not start: {exc}") from None


UNREACHABLE = (
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    socket.herror,
    http.client.HTTPException,
)


def _http_feed_variables() -> str:
    return " and ".join(f"POLKU_{name.upper()}_URL" for name in WRITE_SERVICES)


def _without_query(url: str) -> str:
    return urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()


def load_settings() -> Settings:
    try:
        return Settings.from_env(os.environ)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


@click.group(
    epilog="Settings come from POLKU_* environment variables; `polku settings` lists them."
)
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level (default WARNING).")
def main(verbose: bool) -> None:
    """Polku: programmes, cohorts and what happens to the participants afterwards."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--demo", is_flag=True, help="Load the TEMPO 2020 pilot (synthetic) once up.")
def up(host: str, port: int, demo: bool) -> None:
    """Serve all three services in one process (embedded mode).

    The stores are SQLite files under POLKU_DATA_DIR (default var/), or PostgreSQL when
    POLKU_DATABASE_URL is set.

    With POLKU_KAFKA_BOOTSTRAP_SERVERS set, relay threads publish to Kafka and the projector
    consumes it; otherwise the projector follows the in-process logs.
    """
    from services.runtime import build_embedded

    settings = load_settings()
    if demo:
        _no_issuer_for_the_demo(settings)
    with reachable(settings):
        embedded = build_embedded(settings)
    heap.settle()  # this process's start-up heap, out of every later full collection's way
    embedded.start()

    def announce(base: str) -> None:
        click.echo(workspace_link(base, settings, demo))
        threading.Thread(target=_warm_workspace, name="workspace-warm-up", daemon=True).start()
        click.echo(f"Polku is serving on {base} (feed: {settings.feed}, data: {settings.data_dir})")
        for name in ("enrolment", "assessment", "tracking"):
            click.echo(f"  {name:<10} {base}/{name}/docs   (OpenAPI: {base}/{name}/openapi.json)")
        if demo:
            threading.Thread(target=_run_demo, args=(base, settings), daemon=True).start()

    _serve(embedded.wsgi, host, port, announce, embedded.close)


def _warm_workspace() -> None:
    from services.workspace import warm

    warm()


def workspace_link(base: str, settings: Settings, demo: bool) -> str:
    """The first line ``polku up`` prints: where the HR workspace is (the demo's dashboard)."""
    page = f"{base}/app/demo" if demo else f"{base}/app/"
    signin = "; development sign-in is on, one click" if settings.dev_signin else ""
    what = "the TEMPO 2020 dashboard" if demo else "the HR workspace"
    return f"Open {what}: {page}   (sign in in the browser{signin})"


def _serve(
    wsgi: Any, host: str, port: int, announce: Callable[[str], None], close: Callable[[], None]
) -> None:
    """Serves until Ctrl-C or SIGTERM, then closes what was built, whatever happened."""
    from werkzeug.serving import make_server

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt  # shutdown() from this thread would wait on itself

    try:
        # On a busy port werkzeug explains itself and exits; what was built must close first.
        server = make_server(host, port, wsgi, threaded=True)
    except BaseException:
        close()
        raise
    signal.signal(signal.SIGTERM, interrupt)
    try:
        announce(f"http://{host}:{server.server_port}")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        close()
        click.echo("Polku stopped.")


def _no_issuer_for_the_demo(settings: Settings) -> None:
    if settings.oidc is not None:
        raise click.UsageError(
            "the demo loads its data with development tokens, which POLKU_OIDC_ISSUER "
            "refuses; run it without an issuer"
        )


def _run_demo(base: str, settings: Settings) -> None:
    from services.demo import DemoError, load

    try:
        result = load(base, settings.resolved_jwt_secret())
    except DemoError as exc:
        click.echo(f"The demo could not load: {exc}", err=True)
        return
    _print_demo(base, settings, result)


def _print_demo(base: str, settings: Settings, result: dict[str, Any]) -> None:
    token = issue_token(settings.resolved_jwt_secret(), "demo-coordinator", "coordinator")
    roster = result["roster"]
    if result["loaded"]:
        click.echo(
            f"\nDemo loaded: the TEMPO 2020 pilot with {result['people']} synthetic people "
            f"(20 participants, the rest a comparison group), {result['sessions']} sessions, "
            f"{result['career_moves']} career moves, assessments and staff-survey indices."
        )
    else:
        click.echo("\nThe TEMPO 2020 pilot was loaded before; nothing was added.")
    click.echo("A coordinator's token, valid for 12 hours:")
    click.echo(f"  export TOKEN={token}")
    cohort = result["cohort_id"]
    click.echo("Then try:")
    for path in (
        f"/enrolment/cohorts/{cohort}",
        f"/enrolment/cohorts/{cohort}/sessions",
        f"/tracking/cohorts/{cohort}/roster",
        f"/tracking/cohorts/{cohort}/kirkpatrick",
        f"/tracking/cohorts/{cohort}/mobility",
    ):
        click.echo(f'  curl -H "Authorization: Bearer $TOKEN" {base}{path}')
    click.echo(f"Roster of cohort {cohort} as tracking reports it (pseudonymous ids):")
    for p in roster["participants"]:
        click.echo(f"  {p['person_id']}  {p['department']:<40} {p['status']}")
    _print_kirkpatrick(result["kirkpatrick"])
    click.echo(f"\nThe TEMPO 2020 dashboard: {base}/app/demo")
    click.echo("Press Ctrl-C to stop.")


def _print_kirkpatrick(summary: dict[str, Any]) -> None:
    click.echo(f"\nKirkpatrick summary of {summary['name']} (as of {summary['view_date']}):")
    for level in summary["levels"]:
        click.echo(f"  L{level['level']} {level['name']}")
        for figure in level["figures"]:
            click.echo(f"     {figure['label']}: {_shown_figure(figure)}")
    click.echo(
        "  Every view: /tracking/docs (as_of=<time> for any past day, format=csv to export)."
    )


def _shown_figure(figure: dict[str, Any]) -> str:
    value = figure["value"]
    if value is None:
        return f"not shown ({figure['reason']})"
    if figure["unit"] == "share":
        text = (
            f"{100 * value:.0f}%" if "difference" not in figure["key"] else f"{100 * value:+.0f} pp"
        )
    else:
        text = (
            f"{value:+.2f} {figure['unit']}"
            if "change" in figure["key"] or "vs" in figure["key"]
            else f"{value:.2f} {figure['unit']}"
        )
    return f"{text} (n={figure['n']})"


@main.command()
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="Polku base URL.")
def demo(url: str) -> None:
    """Load the TEMPO 2020 pilot (synthetic people) into a running Polku and print the roster.

    Tokens are signed with POLKU_JWT_SECRET (or var/jwt.secret), which must be the server's.
    A Polku that already holds the pilot is left as it is.
    """
    from services.demo import DemoError, load

    settings = load_settings()
    _no_issuer_for_the_demo(settings)
    try:
        result = load(url, settings.resolved_jwt_secret())
    except (DemoError, OSError) as exc:
        raise click.ClickException(f"could not load the demo into {url}: {exc}") from None
    _print_demo(url, settings, result)


@main.command()
@click.argument("service", type=click.Choice(WRITE_SERVICES))
@click.option("--once", is_flag=True, help="Publish until caught up, then exit.")
@click.option(
    "--host",
    default="0.0.0.0",
    show_default=True,
    help="Interface for /metrics, served on POLKU_METRICS_PORT when that is set.",
)
def relay(service: str, once: bool, host: str) -> None:
    """Publish a write service's events to Kafka (polku.<service>.events).

    Several relay processes of one service may run: one publishes, the others stand by and take
    over when it stops (a leader lock). With POLKU_METRICS_PORT set, /metrics shows
    polku_relay_leading (1 in the publishing process), the relay lag and what it published.
    """
    from services import runtime
    from shared import kafka
    from shared.relay import Relay

    settings = load_settings()
    if not settings.kafka_bootstrap_servers:
        raise click.UsageError("the relay needs POLKU_KAFKA_BOOTSTRAP_SERVERS")
    with reachable(settings):
        write = runtime.build_write_service(settings, service)
        kafka.ensure_topics(
            settings.kafka_bootstrap_servers,
            WRITE_SERVICES,
            settings.kafka_topic_prefix,
            settings.kafka_security(),
            settings.kafka_partitions,
        )
        publisher: Relay = write.relay(settings)
    try:
        if settings.metrics_port is not None and not once:
            serve_relay_metrics(settings, host, service, write, publisher)
        if once:
            sent = publisher.drain()
            if not publisher.stats.leading:
                click.echo(f"another relay of {service} is publishing; this one published {sent}")
                return
            click.echo(f"published {sent} events; position {publisher.positions.get('kafka')}")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        click.echo(f"relaying {service} to Kafka; Ctrl-C to stop")
        try:
            publisher.run_forever(stop, settings.poll_interval)
        except KeyboardInterrupt:
            stop.set()
    finally:
        publisher.close()
        write.close()


def serve_relay_metrics(settings: Any, host: str, service: str, write: Any, publisher: Any) -> None:
    """``/metrics`` of a relay process on POLKU_METRICS_PORT: leadership, lag, what it sent."""
    from prometheus_client import CollectorRegistry, start_http_server

    from services.served import relay_gauges, write_gauges
    from shared.web.metrics import Gauges

    gauges = Gauges()
    relay_gauges(gauges, service, publisher)
    write_gauges(gauges, settings, write, service)
    registry = CollectorRegistry()
    registry.register(gauges)
    try:
        start_http_server(settings.metrics_port, addr=host, registry=registry)
    except OSError as exc:
        raise click.ClickException(
            f"POLKU_METRICS_PORT={settings.metrics_port} cannot be bound: {exc.strerror}"
        ) from None
    click.echo(f"metrics on http://{host}:{settings.metrics_port}/metrics")


@main.command()
@click.option("--once", is_flag=True, help="Apply until the feed is drained, then exit.")
def project(once: bool) -> None:
    """Run the tracking projector alone (Kafka or HTTP feed, per POLKU_FEED)."""
    from services import runtime

    settings = load_settings()
    if settings.feed == "embedded":
        raise click.UsageError(
            "a projector process needs POLKU_FEED=kafka or http; embedded mode runs it in `up`"
        )
    with reachable(settings):
        tracking = runtime.build_tracking(settings)
    try:
        if once:
            with reachable(settings):  # the feed's first request is where its source is met
                applied = tracking.projector.drain()
            click.echo(f"applied {applied} events")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            tracking.projector.run_forever(stop, settings.poll_interval)
        except KeyboardInterrupt:
            stop.set()
    finally:
        tracking.close()


@main.command()
@click.option(
    "--swap", is_flag=True, help="Replace the live view tables with the rebuild if they differ."
)
@click.option(
    "--batch-size",
    default=5000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Events per rebuild transaction.",
)
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file to rebuild into (default: tracking-replay.sqlite in POLKU_DATA_DIR).",
)
@click.pass_context
def replay(ctx: click.Context, swap: bool, batch_size: int, into: Path | None) -> None:
    """Rebuild every read model from the event logs and compare it with the live one.

    The rebuild reads the feed the live projector reads (POLKU_FEED: the write services' logs,
    Kafka from offset 0 in a consumer group of its own, or HTTP) into a fresh SQLite file,
    removed first, with the projector's own code. Then every view table is compared with the
    live read models, and each difference is reported by primary key. When the live positions
    differ from the rebuild's, the report says so: differences may then be lag.

    --swap replaces the live view tables' contents with the rebuild's in one transaction, only
    when the live positions equal the rebuild's (the rebuild catches up and retries a few
    times). Positions, errors, dead letters and the query log stay as they are.

    \b
    Exit status:
      0  the live read models equal the rebuild (after --swap: now equal)
      1  they differ
      2  --swap gave up: the live positions never matched the rebuild's (or a usage
         error)
      3  the replay could not run (the message says why)
      4  --swap refused: an event log's hash chain does not verify (polku audit verify)
    """
    from services.tracking.replay import REPLAY_FILE

    settings = load_settings()
    target = into or settings.data_dir / REPLAY_FILE
    live_url = settings.readmodel_url()
    if live_url.startswith("sqlite") and not _replay_source_exists(live_url, target):
        raise ReplayFailed(f"no live read models at {live_url}; nothing to compare")
    closers: list[Callable[[], None]] = []
    try:
        with reachable(settings):
            verified = _logs_verified(settings, swap)
            code = _replay(settings, target, live_url, swap, batch_size, closers) if verified else 4
    except click.ClickException as exc:
        raise ReplayFailed(exc.format_message()) from None
    except Exception as exc:  # a layout mismatch, a feed that never caught up: one line
        logging.getLogger("polku.replay").info("the replay failed", exc_info=True)
        raise ReplayFailed(f"the replay failed: {exc}") from None
    finally:
        for close in closers:
            close()
    ctx.exit(code)


def _logs_verified(settings: Settings, swap: bool) -> bool:
    """Verifies the event logs first: a rebuild from forged events must not become official."""
    from services.cli_audit import verify_live
    from shared.audit.verify import Kind

    reports = verify_live(settings, key_required=False)
    for report in reports:
        click.echo(f"verified: {report.line()}")
    # Signatures it cannot check (no trusted key here) are reported, not a reason to refuse.
    broken = [r for r in reports if r.kind not in (Kind.OK, Kind.NO_CHECKPOINT, Kind.BAD_SIGNATURE)]
    if broken and swap:
        click.echo(
            "swap refused: the event logs do not verify, so the rebuild cannot be "
            "trusted over the live read models",
            err=True,
        )
        return False
    if broken:
        click.echo(
            "the event logs do not verify: differences below may come from tampered "
            "events, not from the read models",
            err=True,
        )
    return True


class ReplayFailed(click.ClickException):
    exit_code = 3


def _replay(
    settings: Settings,
    target: Path,
    live_url: str,
    swap: bool,
    batch_size: int,
    closers: list[Callable[[], None]],
) -> int:
    from services.tracking.comparison import compare
    from services.tracking.replay import Rebuild, SwapRefused, fresh_readmodels
    from services.tracking.replay import swap as swap_in
    from shared.sql import Database

    rebuilt = fresh_readmodels(target)
    closers.append(rebuilt.database.close)
    live = Database(live_url)
    closers.append(live.close)
    rebuild = Rebuild(rebuilt, _replay_feed(settings, rebuilt, closers), batch_size)
    closers.insert(0, rebuild.feed.close)
    _rebuild_with_progress(rebuild)
    click.echo(
        f"replayed {rebuild.events} events in {rebuild.seconds:.1f} s"
        f" ({rebuild.rate:,.0f} events/s) into {target}"
    )
    if rebuild.projector.stats.dead_lettered:
        click.echo(f"the rebuild dead-lettered {rebuild.projector.stats.dead_lettered} events")
    comparison = compare(live, rebuilt.database)
    click.echo("\n".join(comparison.lines()))
    if swap and not comparison.identical:
        try:
            click.echo("\n".join(swap_in(live, rebuild).lines()))
        except SwapRefused as exc:
            click.echo(f"swap refused: {exc}", err=True)
            return 2
        comparison = compare(live, rebuilt.database)
        click.echo("after the swap:")
        click.echo("\n".join(comparison.lines()))
    return 0 if comparison.identical else 1


def _replay_source_exists(live_url: str, target: Path) -> bool:
    from shared.settings import sqlite_file

    live_file = Path(sqlite_file(live_url))
    if live_file.resolve() == target.resolve():
        raise click.UsageError("--into names the live read models' file; choose another")
    return live_file.exists()


def _replay_feed(settings: Settings, readmodels: Any, closers: list[Callable[[], None]]) -> Any:
    """The kind of feed the live projector reads, starting from the rebuild's (empty) positions."""
    import uuid

    from services import runtime
    from shared.feeds import OutboxFeed

    if settings.feed == "embedded":
        outboxes = {}
        for name in WRITE_SERVICES:
            service = runtime.build_write_service(settings, name)
            closers.append(service.close)
            outboxes[name] = service.tracking_outbox
        return OutboxFeed(outboxes)
    # A group of its own: the live projector's group and committed offsets stay untouched.
    group = f"{settings.kafka_group_id}-replay-{uuid.uuid4().hex[:8]}"
    return runtime.remote_feed(settings.with_changes(kafka_group_id=group), readmodels)


def _rebuild_with_progress(rebuild: Any) -> None:
    bar: Any = click.progressbar(length=1, label="replaying", file=sys.stderr, show_pos=True)
    with bar:

        def progress(done: int, total: int) -> None:
            bar.length = length = max(total, 1)
            bar.update(min(done, length) - bar.pos)

        rebuild.catch_up(progress)


def _not_blank(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("must not be empty: give a user id or a person's id")
    return value


@main.command()
@click.option("--role", required=True, type=click.Choice(ROLES), help="The role to carry.")
@click.option(
    "--sub",
    required=True,
    callback=_not_blank,
    help="The subject (a user id, or a person's id).",
)
@click.option("--ttl-hours", default=12, show_default=True, type=click.IntRange(1, 24 * 30))
def token(role: str, sub: str, ttl_hours: int) -> None:
    """Print a signed bearer token for local use (no longer-lived than POLKU_JWT_MAX_LIFETIME)."""
    import datetime as dt

    settings = load_settings()
    if settings.oidc is not None:
        raise click.ClickException(
            f"POLKU_OIDC_ISSUER is set ({settings.oidc.issuer}): tokens come from the issuer, "
            "and Polku mints none"
        )
    try:
        token = issue_token(
            settings.resolved_jwt_secret(),
            sub,
            role,
            dt.timedelta(hours=ttl_hours),
            max_lifetime=settings.jwt_max_lifetime,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ttl-hours") from None
    click.echo(token)


@main.command()
@click.option(
    "--format",
    "output",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
    help="Markdown for people, JSON for tools.",
)
def events(output: str) -> None:
    """Print the catalogue of published integration events and their data fields."""
    import json

    from shared.events import default_registry, restricted_registry
    from shared.events.catalogue import as_markdown, describe_all

    public, restricted = default_registry(), restricted_registry()
    if output == "json":
        click.echo(json.dumps(describe_all(public, restricted), indent=2))
    else:
        click.echo(as_markdown(public, restricted), nl=False)


@main.command(name="settings")
def show_settings() -> None:
    """List the environment variables Polku reads, and their current values."""
    for name, description in VARIABLES.items():
        value = os.environ.get(name)
        click.echo(f"{name}={_shown(name, value) if value else ''}\n    {description}")


SECRET_VARIABLES = frozenset({"POLKU_JWT_SECRET", "POLKU_SERVICE_TOKEN", "POLKU_KAFKA_PASSWORD"})
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL")
MASK = "***"


def _shown(name: str, value: str) -> str:
    """A setting's value as `polku settings` may print it: secrets never appear."""
    if name in SECRET_VARIABLES or any(word in name for word in SECRET_WORDS):
        return "(set)"
    return _masked_url(value)


def _masked_url(value: str) -> str:
    """The value with the password of a URL (user:password@host) and secret parameters masked.

    A value that is no URL comes back as it is; one that cannot be parsed is hidden whole.
    """
    try:
        parts = urllib.parse.urlsplit(value)
        password = parts.password
    except ValueError:
        return "(set)"
    shown = value  # edited in place: geturl() would rewrite sqlite:///x as sqlite:/x
    if password is not None:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        masked = f"{userinfo.partition(':')[0]}:{MASK}@{hostport}"
        shown = shown.replace(f"//{parts.netloc}", f"//{masked}", 1)
    if parts.query:
        query = "&".join(_masked_parameter(p) for p in parts.query.split("&"))
        shown = shown.replace(f"?{parts.query}", f"?{query}", 1)
    return shown


def _masked_parameter(parameter: str) -> str:
    key, equals, _ = parameter.partition("=")
    if equals and any(word in key.upper() for word in SECRET_WORDS):
        return f"{key}={MASK}"
    return parameter


def _add_import_commands() -> None:
    from services.cli_import import import_group
    from services.cli_keys import keys_group
    from services.cli_serve import serve_command

    main.add_command(import_group)
    main.add_command(keys_group)
    main.add_command(serve_command(load_settings, reachable))
    from services.cli_audit import audit_group

    main.add_command(audit_group)


_add_import_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
