"""Embedded mode's single WSGI application: each service app under its own path prefix.

The service apps already route under ``/<service>``, so dispatch keeps the path whole. The
root answers ``/`` (an index; a browser asking for HTML is sent to the workspace, ``/app/``),
``/healthz`` and ``/readyz`` for the whole process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Response as WerkzeugResponse

from shared.web import echo_correlation_id, take_correlation_id, unexpected_error
from shared.web.problems import from_http_exception

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def combine(
    apps: Mapping[str, Flask], ready_checks: Mapping[str, Callable[[], dict[str, str]]]
) -> WSGIApp:
    root = Flask("polku")

    @root.get("/")
    def index() -> Response | WerkzeugResponse:
        if "app" in apps and request.accept_mimetypes.best == "text/html":
            return redirect("/app/", 303)  # a person's browser: the workspace
        return jsonify(
            name="polku",
            services={
                name: {"openapi": f"/{name}/openapi.json", "docs": f"/{name}/docs"} for name in apps
            },
        )

    @root.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @root.get("/readyz")
    def readyz() -> tuple[Response, int]:
        checks = {
            f"{service}.{component}": value
            for service, check in ready_checks.items()
            for component, value in check().items()
        }
        ready = all(v == "ok" for v in checks.values())
        return jsonify(status="ready" if ready else "not ready", checks=checks), (
            200 if ready else 503
        )

    services = ", ".join(f"/{name}" for name in apps)

    @root.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # The same problem+json as the service apps answer with (405 with Allow, ...).
        if error.code == 404:
            error = NotFound(f"no such path; the services live under {services}")
        return from_http_exception(error)

    @root.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        return unexpected_error(error)

    root.before_request(take_correlation_id)
    root.after_request(echo_correlation_id)

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        prefix = path.split("/", 2)[1] if path.startswith("/") and len(path) > 1 else ""
        target = apps.get(prefix, root)
        return target(environ, start_response)

    return dispatch
