"""What the pages load besides themselves: the Vega bundle and the language switch.

The Vega, Vega-Lite and Vega-Embed JavaScript comes from ``vl_convert.javascript_bundle()``,
built once per process (about 2 s the first time) and served by Polku itself with a long cache
lifetime: the pages work with no internet and no CDN.
"""

from __future__ import annotations

import functools
import hashlib

from flask import Blueprint, abort, make_response, redirect, request
from werkzeug.wrappers import Response

from services.workspace.i18n import LANGUAGE_COOKIE, LANGUAGES
from services.workspace.signin import safe_next

bp = Blueprint("assets", __name__)

LANGUAGE_MAX_AGE = 365 * 24 * 3600


@functools.cache
def vega_bundle() -> tuple[bytes, str]:
    """The bundle's bytes and their ETag."""
    import vl_convert

    bundle: str = vl_convert.javascript_bundle()  # type: ignore[call-arg]
    script = bundle.encode()
    return script, hashlib.sha256(script).hexdigest()[:16]


@bp.get("/app/vendor/vega.js")
def vega() -> Response:
    script, etag = vega_bundle()
    response = make_response(script)
    response.mimetype = "text/javascript"
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response.make_conditional(request)


@bp.post("/app/language")
def language() -> Response:
    chosen = request.form.get("lang", "")
    if chosen not in LANGUAGES:
        abort(400, description=f"lang must be one of {', '.join(LANGUAGES)}")
    response = redirect(safe_next(request.form.get("next")), 303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        chosen,
        max_age=LANGUAGE_MAX_AGE,
        path="/app",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response
