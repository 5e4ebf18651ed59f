"""The web base: one Flask application factory per service, problem+json errors, auth, health.

Each service app serves its routes under ``/<service>``, its OpenAPI document at
``/<service>/openapi.json`` and interactive docs at ``/<service>/docs``, plus ``/healthz`` and
``/readyz``. :func:`shared.web.mount.combine` joins several of them for embedded mode.
"""

from __future__ import annotations

import functools
import http
import inspect
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request, send_from_directory
from flask_smorest import Api, abort
from werkzeug.exceptions import HTTPException, InternalServerError

from shared.errors import PolkuError
from shared.web import strict
from shared.web.problems import (
    PROBLEM_CONTENT_TYPE,
    ProblemSchema,
    from_domain_error,
    from_http_exception,
    problem,
)

log = logging.getLogger("polku.web")

ReadyCheck = Callable[[], dict[str, str]]
"""Returns ``{component: "ok" | error text}``; ready when every value is "ok"."""

CORRELATION_HEADER = "X-Correlation-ID"
MAX_BRACKETS = 256


def readiness(probes: Mapping[str, Callable[[], object]]) -> ReadyCheck:
    """A ready check from probes that raise when their component is unreachable."""

    def check() -> dict[str, str]:
        results = {}
        for name, probe in probes.items():
            try:
                probe()
                results[name] = "ok"
            except Exception as exc:  # readiness reports failures, it does not raise them
                results[name] = f"unreachable: {exc.__class__.__name__}: {exc}"[:300]
        return results

    return check


class PolkuApi(Api):
    """flask-smorest's Api, answering and documenting every error as RFC 9457 problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        from flask_smorest.utils import prepare_response

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any error, as problem details", "schema": ProblemSchema}
        prepare_response(default, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        return from_http_exception(error)


class ServiceFlask(Flask):
    """Flask, asking once per view or hook whether it is a coroutine function.

    Flask asks on every call (``ensure_sync``: sixteen ``inspect`` checks in a request of a
    write service, for the hooks and the view); the answer of a function never changes. A
    method is remembered by its function, so a bound method per request adds no entry.
    """

    _SYNC_MEMO_SIZE = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coroutine: dict[Any, bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        owner = getattr(func, "__func__", func)
        is_coroutine = self._coroutine.get(owner)
        if is_coroutine is None:
            is_coroutine = inspect.iscoroutinefunction(func)
            if len(self._coroutine) >= self._SYNC_MEMO_SIZE:
                self._coroutine.clear()  # bounded: a miss only asks again
            self._coroutine[owner] = is_coroutine
        return self.async_to_sync(func) if is_coroutine else func


def create_service_app(
    service: str,
    *,
    title: str,
    description: str,
    jwt_secret: str,
    ready_check: ReadyCheck,
    blueprints: list[Any],
    extensions: dict[str, Any] | None = None,
) -> Flask:
    app = ServiceFlask(f"polku.{service}")
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=f"/{service}",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Served from the installed flask-swagger-ui package: the docs work with no CDN.
        OPENAPI_SWAGGER_UI_URL=f"/{service}/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
    )
    app.extensions["polku.jwt_secret"] = jwt_secret
    app.extensions["polku.service"] = service
    app.extensions["polku.ready_check"] = ready_check
    app.extensions.update(extensions or {})
    api = PolkuApi(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    _install_common(app, ready_check)
    _serve_swagger_assets(app, service)
    app.extensions["polku.api"] = api
    strict.install(app)
    strict.document(app)
    return app


def _serve_swagger_assets(app: Flask, service: str) -> None:
    import flask_swagger_ui

    assets = Path(flask_swagger_ui.__file__).parent / "dist"

    @app.get(f"/{service}/docs/assets/<path:filename>")
    def swagger_assets(filename: str) -> Response:
        return send_from_directory(assets, filename, max_age=86400)


def _install_common(app: Flask, ready_check: ReadyCheck) -> None:
    app.before_request(take_correlation_id)
    app.before_request(_check_json_body)
    app.after_request(echo_correlation_id)
    app.register_error_handler(PolkuError, from_domain_error)
    app.register_error_handler(Exception, unexpected_error)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Response | tuple[Response, int]:
        checks = ready_check()
        ready = all(value == "ok" for value in checks.values())
        return jsonify(status="ready" if ready else "not ready", checks=checks), (
            200 if ready else 503
        )


def _check_json_body() -> None:
    """Refuses bodies that would only fail deep inside: not JSON, absurdly nested, unencodable,
    or holding an integer too long for Python to convert."""
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return
    encoding = _content_encoding()
    if encoding:
        # Compressed bytes would be read as JSON and fail as "invalid JSON", or worse, a body
        # declared compressed but sent plain would be taken as it is: refuse both (RFC 7694).
        abort(
            415,
            message=f"Content-Encoding {encoding} is not accepted: send the body uncompressed",
            headers={"Accept-Encoding": "identity"},
        )
    if not request.is_json:
        if request.content_length or request.headers.get("Transfer-Encoding"):
            abort(415, message="send the body as JSON (Content-Type: application/json)")
        return
    raw = request.get_data(cache=True)
    # Only a \uD800-\uDFFF escape can make a lone surrogate, only many brackets can nest deeply
    # and only a long run of digits can be an integer Python refuses to convert: most bodies
    # need no second look before webargs parses them.
    long_digits = _has_long_digit_run(raw)
    suspicious = (
        long_digits or b"\\ud" in raw.lower() or raw.count(b"[") + raw.count(b"{") > MAX_BRACKETS
    )
    if not suspicious:
        return
    try:
        found = _first_unstorable(json.loads(raw, parse_int=_parse_int), "")
    except RecursionError:
        abort(400, message="the JSON body is nested too deeply")
    except ValueError as exc:
        if long_digits:  # webargs would stumble on the number before it saw the syntax error
            abort(400, message="the body is not valid JSON", messages={"json": [str(exc)]})
        return  # invalid JSON is reported by webargs
    if found is not None:
        where, message = found
        # "_schema" is marshmallow's name for the body as a whole (a field of null).
        abort(422, errors={"json": {where or "_schema": [message]}})


def _content_encoding() -> str:
    """The request body's ``Content-Encoding`` unless none or ``identity`` (``""`` then)."""
    declared = request.headers.get("Content-Encoding", "")
    codings = [c.strip() for c in declared.split(",") if c.strip()]
    if all(c.lower() == "identity" for c in codings):
        return ""
    named = ", ".join(c for c in codings if c.lower() != "identity")
    return named if len(named) <= 60 else named[:57] + "..."


def _has_long_digit_run(raw: bytes) -> bool:
    """Whether the body holds more digits in a row than Python converts to an integer.

    Cheapest first: a short body cannot, nor one with fewer digits in all than the limit.
    """
    limit = sys.get_int_max_str_digits()  # 0: no limit
    if not limit or len(raw) <= limit:
        return False
    if len(raw) - len(raw.translate(None, b"0123456789")) <= limit:
        return False
    return _digit_run(limit).search(raw) is not None


@functools.cache
def _digit_run(limit: int) -> re.Pattern[bytes]:
    # The lookbehind anchors a match at the start of a run, so the scan stays linear.
    return re.compile(rb"(?<![0-9])[0-9]{%d}" % (limit + 1))


class _TooLongInteger:
    """An integer literal with more digits than ``sys.get_int_max_str_digits()`` allows."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(literal: str) -> int | _TooLongInteger:
    try:
        return int(literal)
    except ValueError:
        return _TooLongInteger(len(literal.lstrip("-")))


def _first_unstorable(node: Any, path: str) -> tuple[str, str] | None:
    """The dotted path of the first value that cannot be accepted, if any, and why: a string
    that cannot be stored as UTF-8 or an integer with too many digits."""
    if isinstance(node, str):
        try:
            node.encode("utf-8")
        except UnicodeEncodeError:
            return path, "text must be valid Unicode (lone surrogate)"
        return None
    if isinstance(node, _TooLongInteger):
        limit = sys.get_int_max_str_digits()
        return path, f"the number is too long ({node.digits} digits; at most {limit} are accepted)"
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            found = _first_unstorable(key, child)
            if found is None:
                found = _first_unstorable(value, child)
            if found is not None:
                return found
    if isinstance(node, list):
        for index, value in enumerate(node):
            found = _first_unstorable(value, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def sane_id(given: str) -> bool:
    """Whether a caller's correlation or causation id may go into events and logs: 1 to 128
    ASCII letters, digits, ``-`` and ``_`` (``str.isalnum`` alone also takes ``é`` and ``²``)."""
    return (
        0 < len(given) <= 128
        and given.isascii()
        and given.replace("-", "").replace("_", "").isalnum()
    )


def take_correlation_id() -> None:
    given = request.headers.get(CORRELATION_HEADER, "").strip()
    # Only a sane header is propagated into events and logs; anything else is replaced.
    g.correlation_id = given if sane_id(given) else str(uuid.uuid4())


def echo_correlation_id(response: Response) -> Response:
    correlation_id = getattr(g, "correlation_id", None)
    if correlation_id:
        response.headers[CORRELATION_HEADER] = correlation_id
    return response


def unexpected_error(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return from_http_exception(error)
    log.exception("unhandled error (correlation id %s)", getattr(g, "correlation_id", "-"))
    return from_http_exception(InternalServerError())


def jwt_secret() -> str:
    return str(current_app.extensions["polku.jwt_secret"])


__all__ = ["CORRELATION_HEADER", "PolkuApi", "create_service_app", "problem", "readiness"]
