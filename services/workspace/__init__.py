"""The HR workspace under ``/app``: server-rendered pages, charts and exports for people.

It owns the pages (cohort list, cohort dashboard, programme and person pages), their charts
(Vega-Lite built with altair, drawn by the Vega bundle Polku serves itself), the exports
(XLSX, PDF, CSV in the Finnish Excel dialect, SVG and PNG charts) and the translations. It
reads tracking only through tracking's HTTP API (:mod:`.tracking`), signed in through the
session layer (:mod:`shared.web.sessions`), so every role and privacy rule of the API holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from services.workspace import i18n, signin
from services.workspace.tracking import TrackingClient, TrackingError
from shared.web import echo_correlation_id, take_correlation_id
from shared.web.sessions import Sessions

PREFIX = "app"


def create_app(
    tracking_wsgi: Callable[..., Iterable[bytes]],
    secret: str,
    sessions: Sessions,
    *,
    dev_signin: bool = False,
    ready_check: Callable[[], dict[str, str]] | None = None,
) -> Flask:
    """The workspace app; ``tracking_wsgi`` serves ``/tracking`` (in-process), ``secret``
    signs the tokens the pages present to it."""
    from services.workspace import assets, exports, pages

    app = Flask(__name__, static_url_path="/app/static", static_folder="static")
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    app.extensions["polku.workspace.tracking"] = TrackingClient(tracking_wsgi, secret)
    app.extensions[signin.DEV_EXTENSION] = dev_signin
    app.extensions["polku.ready_check"] = ready_check or (lambda: {})
    if dev_signin:
        signin.add_sign_in_method(app, "Development sign-in", "/app/dev/sign-in")
    sessions.init_app(app)
    i18n.install(app)
    app.register_blueprint(signin.bp)
    app.register_blueprint(assets.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(exports.bp)
    app.before_request(take_correlation_id)
    app.after_request(echo_correlation_id)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(TrackingError, _refused)

    @app.get("/app")
    def bare() -> Any:
        return redirect("/app/", 308)

    @app.get("/app/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    return app


CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Scripts only from Polku itself (Vega compiles its expressions, hence 'unsafe-eval')."""


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _refused(error: TrackingError) -> Any:
    """Tracking's refusal as the page's own: its status (a 422 is the page's 400) and detail."""
    from werkzeug.exceptions import default_exceptions

    from services.workspace.access import page_status

    exception = default_exceptions[page_status(error.status)](description=str(error))
    return _error_page(exception)


def _error_page(error: HTTPException) -> Any:
    code = error.code or 500
    if code in (301, 302, 303, 307, 308):
        return error
    if request.accept_mimetypes.best == "application/json":
        return jsonify(title=error.name, status=code, detail=error.description), code
    page = render_template(
        "error.html", code=code, name=error.name, detail=error.description, title=error.name
    )
    return page, code
