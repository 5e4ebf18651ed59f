"""Signing in and out of the workspace, and the development sign-in page.

``/app/sign-in?next=<page>`` lists the sign-in methods this app offers
(:func:`add_sign_in_method`; single sign-on adds itself there). ``/app/dev/sign-in`` lets a
developer pick a role and a subject with no password; it exists only when the app was built
with ``dev_signin`` (embedded mode with ``POLKU_DEV_SIGNIN=1``), and is a 404 otherwise.
Every method ends in :func:`shared.web.sessions.sign_in`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from shared.web.sessions import (
    ROLE_PRECEDENCE,
    Identity,
    IdentityError,
    current_identity,
    sign_in,
    sign_out,
)

bp = Blueprint("signin", __name__)

METHODS_EXTENSION = "polku.workspace.sign_in_methods"
DEV_EXTENSION = "polku.workspace.dev_signin"
DEV_SESSION = dt.timedelta(hours=8)
DEV_SUBJECTS = {"coach": "coach-tempo"}
"""Default subjects on the development page: the demo cohort's coach is ``coach-tempo``."""
SUBJECT_MAX = 200


def add_sign_in_method(app: Flask, label: str, url: str) -> None:
    """Offers a sign-in method on ``/app/sign-in``; it is sent ``?next=`` on."""
    app.extensions.setdefault(METHODS_EXTENSION, []).append({"label": label, "url": url})


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a page of this workspace, never another site."""
    if not value or not value.startswith("/app") or "\\" in value:
        return "/app/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/app/"
    return value


@bp.get("/app/sign-in")
def sign_in_page() -> str:
    next_page = safe_next(request.args.get("next"))
    methods = list(current_app.extensions.get(METHODS_EXTENSION, []))
    return render_template(
        "sign_in.html",
        methods=methods,
        next_page=next_page,
        dev=bool(current_app.extensions.get(DEV_EXTENSION)),
        title=_("Sign in"),
    )


def _dev_enabled() -> None:
    if not current_app.extensions.get(DEV_EXTENSION):
        abort(404)


@bp.get("/app/dev/sign-in")
def dev_sign_in_page() -> str:
    _dev_enabled()
    return render_template(
        "dev_sign_in.html",
        roles=ROLE_PRECEDENCE,
        next_page=safe_next(request.args.get("next")),
        subjects=DEV_SUBJECTS,
        error=None,
        title=_("Development sign-in"),
    )


@bp.post("/app/dev/sign-in")
def dev_sign_in() -> Any:
    _dev_enabled()
    role = request.form.get("role", "")
    subject = request.form.get("subject", "").strip() or DEV_SUBJECTS.get(role, f"dev-{role}")
    person_id = request.form.get("person_id", "").strip() or None
    next_page = safe_next(request.form.get("next"))
    error = None
    if role not in ROLE_PRECEDENCE:
        error = _("Choose one of the roles.")
    elif len(subject) > SUBJECT_MAX or not subject.isprintable():
        error = _("The subject must be one line of at most 200 characters.")
    if error is None:
        try:
            sign_in(
                Identity(
                    subject=subject,
                    roles=(role,),
                    display_name=f"{subject} ({role})",
                    expires_at=dt.datetime.now(dt.UTC) + DEV_SESSION,
                    provider="dev",
                    person_id=person_id if role == "participant" else None,
                )
            )
        except IdentityError as exc:
            error = str(exc)
    if error is not None:
        page = render_template(
            "dev_sign_in.html",
            roles=ROLE_PRECEDENCE,
            next_page=next_page,
            subjects=DEV_SUBJECTS,
            error=error,
            title=_("Development sign-in"),
        )
        return page, 400
    return redirect(next_page, 303)


SIGN_OUT_EXTENSION = "polku.workspace.sign_out_redirect"
"""Optional ``(Identity) -> URL | None``: where a sign-out continues (an issuer's logout)."""


@bp.post("/app/sign-out")
def sign_out_now() -> Response:
    who = current_identity()
    sign_out()
    onward = current_app.extensions.get(SIGN_OUT_EXTENSION)
    target = onward(who) if onward is not None and who is not None else None
    return redirect(target or url_for("signin.sign_in_page"), 303)
