"""``polku serve SERVICE``: one service under gunicorn, the production HTTP server.

The master process first builds the service once without starting anything and closes it, so
that a misconfiguration ends with one line naming the setting; then each gunicorn worker builds
its own (:func:`services.served.build`), after the fork. A process with background work (the
projector, the coach-scope follower) is served by one worker process, threads scaling it.
:func:`serve_command` is given the CLI's settings loader and error translator, so this module
never imports :mod:`services.cli`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager

import click

from shared.settings import WRITE_SERVICES, Settings

Reachable = Callable[[Settings], AbstractContextManager[None]]


def serve_command(load_settings: Callable[[], Settings], reachable: Reachable) -> click.Command:
    @click.command(name="serve")
    @click.argument("service", type=click.Choice([*WRITE_SERVICES, "tracking", "all"]))
    @click.option("--host", default="0.0.0.0", show_default=True, help="Interface to bind.")
    @click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
    @click.option(
        "--projector/--no-projector",
        default=True,
        show_default=True,
        help="tracking only: also run the projector in this process (always with all).",
    )
    def serve(service: str, host: str, port: int, projector: bool) -> None:
        """Serve one service on its own (the distributed deployment), or all three in one
        process (`all`, the shape of `polku up`), under gunicorn.

        Workers, threads, timeouts, the body limit, the connection limit, rate limits and the
        /metrics port come from POLKU_* settings (`polku settings`).
        """
        from services import served
        from services.tracking.readmodels import LayoutBehind
        from shared.web.server import Server, ServerOptions

        settings = load_settings()
        work = served.background_work(settings, service, projector)
        if work and settings.workers > 1:
            raise click.UsageError(
                f"POLKU_WORKERS={settings.workers}, but this process runs {work}: every worker "
                "process would run its own. Keep one worker and raise POLKU_THREADS"
                + (
                    ", or run `polku project` apart and serve with --no-projector"
                    if projector and service == "tracking"
                    else ""
                )
            )
        if settings.metrics_port == port:
            raise click.UsageError(
                f"POLKU_METRICS_PORT={port} is the API's port; /metrics needs a port of its own"
            )
        for taken in (port, settings.metrics_port):
            if taken and not _free(host, taken):
                raise click.ClickException(f"Port {taken} is in use on {host}; choose another")
        try:
            with reachable(settings):
                served.build(settings, service, projector, start=False).close()
        except LayoutBehind as exc:
            raise click.ClickException(str(exc)) from None
        address = f"[{host}]" if ":" in host else host  # an IPv6 address, as gunicorn binds it
        binds = [f"{address}:{port}"]
        if settings.metrics_port is not None:
            binds.append(f"{address}:{settings.metrics_port}")

        def announce(listeners: list[str]) -> None:
            where = f"{listeners[0]}/" if service == "all" else f"{listeners[0]}/{service}/docs"
            click.echo(
                f"Polku {service}: {where} (gunicorn, "
                f"{settings.workers} worker(s) x {settings.threads} threads"
                + (f"; /metrics on {listeners[1]}" if len(listeners) > 1 else "")
                + ")"
            )

        options = ServerOptions(
            binds=binds,
            workers=settings.workers,
            threads=settings.threads,
            timeout=settings.timeout,
            read_timeout=settings.read_timeout,
            max_connections=settings.max_connections,
            log_level="info" if logging.getLogger().level <= logging.INFO else "warning",
            announce=announce,
        )
        server = Server(lambda: served.build(settings, service, projector), options)
        with contextlib.suppress(KeyboardInterrupt):
            server.run()

    return serve


def _free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be listened on now (gunicorn would otherwise retry and fail
    with a trace of retries)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
