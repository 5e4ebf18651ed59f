"""Single sign-on for the workspace: the authorization code flow with PKCE at an OIDC issuer.

``/app/sso/sign-in?next=<page>`` sends the browser to the issuer's authorization endpoint with
a fresh ``state``, ``nonce`` and PKCE challenge (S256). The issuer sends it back to
``/app/sso/callback``, which checks the state against the browser's own cookie and this
process's pending sign-ins, exchanges the code (with the verifier) at the token endpoint,
verifies both tokens with the API's verifier (the ID token's audience is the web client, its
nonce ours; the access token's audience is tracking's), and signs the person in through the
session layer. The session ends when the access token does. ``/app/sso/me`` shows who is
signed in with every Polku role the issuer grants. Signing out ends the session here and then
at the issuer (RP-initiated logout with the ID token as hint), back to the sign-in page.

Pending sign-ins (state, nonce, verifier) live in this process's memory for ten minutes: a
sign-in must come back to the process that began it (one worker, or sticky sessions).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from services.workspace import CSP
from services.workspace.signin import SIGN_OUT_EXTENSION, add_sign_in_method, safe_next
from shared.auth import ROLES, AuthError
from shared.identity import verifier
from shared.oidc import ClientSettings, IssuerUnavailable, OidcVerifier, claim, roles_of
from shared.settings import Settings
from shared.web.sessions import Identity, IdentityError, current_identity, sign_in

bp = Blueprint("sso", __name__)

EXTENSION = "polku.workspace.sso"
STATE_COOKIE = "polku_sso_state"
PENDING_FOR = 600.0
"""Seconds a browser has to come back from the issuer."""


@dataclass(frozen=True)
class Pending:
    nonce: str
    verifier: str
    next_page: str
    redirect_uri: str
    started: float


class SingleSignOn:
    """One issuer, one web client, and the sign-ins under way."""

    def __init__(self, verifier: OidcVerifier, client: ClientSettings, api_audience: str) -> None:
        self.verifier, self.client, self.api_audience = verifier, client, api_audience
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def begin(self, next_page: str, redirect_uri: str) -> tuple[str, str]:
        """The issuer's authorization URL and the state to bind to the browser."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(64)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        now = time.monotonic()
        with self._lock:
            for key in [k for k, p in self._pending.items() if now - p.started > PENDING_FOR]:
                del self._pending[key]
            self._pending[state] = Pending(nonce, verifier, next_page, redirect_uri, now)
        query = {
            "client_id": self.client.client_id,
            "response_type": "code",
            # Entra ID issues an access token for the API only when its scope is asked for.
            "scope": " ".join(
                ["openid", "profile", *([self.client.scope] if self.client.scope else [])]
            ),
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        endpoint = str(self.verifier.metadata()["authorization_endpoint"])
        return f"{endpoint}?{urlencode(query)}", state

    def take(self, state: str) -> Pending | None:
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or time.monotonic() - pending.started > PENDING_FOR:
            return None
        return pending

    def exchange(self, code: str, pending: Pending) -> dict[str, Any]:
        """The token endpoint's answer to the code (with the PKCE verifier)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "client_id": self.client.client_id,
            "code_verifier": pending.verifier,
        }
        if self.client.client_secret:
            form["client_secret"] = self.client.client_secret
        request_ = urllib.request.Request(
            str(self.verifier.metadata()["token_endpoint"]),
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request_, timeout=10) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            raise IssuerUnavailable(f"the issuer refused the code: {exc.code} {detail}") from None
        except (OSError, ValueError) as exc:
            raise IssuerUnavailable(f"the token endpoint: {exc}") from None
        if not isinstance(answer, dict):
            raise IssuerUnavailable("the token endpoint did not answer a JSON object")
        return answer

    def identity(self, answer: dict[str, Any], nonce: str) -> Identity:
        access, id_token = answer.get("access_token"), answer.get("id_token")
        if not isinstance(access, str) or not isinstance(id_token, str):
            raise AuthError("the issuer returned no access token or ID token")
        id_claims = self.verifier.claims(id_token, self.client.client_id)
        if id_claims.get("nonce") != nonce:
            raise AuthError("the ID token's nonce is not this sign-in's")
        claims = self.verifier.claims(access, self.api_audience)
        # Entra ID's sub is pairwise per application; its oid names the person in both.
        same = "oid" if "oid" in claims and "oid" in id_claims else "sub"
        if claims.get(same) != id_claims.get(same):
            raise AuthError("the access token and the ID token name different people")
        config = self.verifier.config
        person = claim(claims, config.person_claim)
        name = (
            id_claims.get("name")
            or id_claims.get("preferred_username")
            or claims.get("preferred_username")
            or claims["sub"]
        )
        return Identity(
            subject=str(claims["sub"]),
            roles=roles_of(claims, config),
            display_name=str(name),
            expires_at=dt.datetime.fromtimestamp(float(claims["exp"]), dt.UTC),
            provider=urlsplit(config.issuer).netloc or config.issuer,
            person_id=str(person) if isinstance(person, str | int) and str(person) else None,
            access_token=access,
            id_token=id_token,
        )

    def logout_url(self, identity: Identity, after: str) -> str | None:
        """The issuer's end-session URL for an identity it signed in, else None."""
        if not identity.id_token:
            return None
        try:
            endpoint = self.verifier.metadata().get("end_session_endpoint")
        except IssuerUnavailable:
            return None
        if not isinstance(endpoint, str):
            return None
        query = {
            "id_token_hint": identity.id_token,
            "post_logout_redirect_uri": after,
            "client_id": self.client.client_id,
        }
        return f"{endpoint}?{urlencode(query)}"


def install(app: Flask, sso: SingleSignOn) -> None:
    """Offers single sign-on on the workspace's sign-in page, and logs out at the issuer."""
    app.extensions[EXTENSION] = sso
    app.register_blueprint(bp)
    add_sign_in_method(app, "Sign in with your organisation's account", "/app/sso/sign-in")
    app.extensions[SIGN_OUT_EXTENSION] = lambda who: sso.logout_url(
        who, request.host_url + "app/sign-in"
    )
    # The sign-out form's redirect goes on to the issuer: CSP's form-action must allow it.
    issuer = urlsplit(sso.verifier.config.issuer)
    policy = CSP.replace(
        "form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}"
    )

    def allow_issuer(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = policy
        return response

    app.after_request(allow_issuer)


def install_from_settings(app: Flask, settings: Settings) -> None:
    """With an issuer configured, the workspace's people sign in there."""
    found = verifier(settings)
    if found is None:
        return
    assert settings.oidc is not None
    web = settings.oidc_web_client or ClientSettings("polku-web")
    install(app, SingleSignOn(found, web, settings.oidc.audience_for("tracking")))


def _sso() -> SingleSignOn:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


@bp.get("/app/sso/sign-in")
def begin() -> Response:
    redirect_uri = request.host_url + "app/sso/callback"
    try:
        url, state = _sso().begin(safe_next(request.args.get("next")), redirect_uri)
    except IssuerUnavailable as exc:
        abort(503, description=_("The sign-in service cannot be reached: %(e)s", e=str(exc)))
    response = redirect(url, 303)
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=int(PENDING_FOR),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        path="/app/sso/",
    )
    return response


@bp.get("/app/sso/callback")
def callback() -> Response:
    args = request.args
    if args.get("error"):
        abort(401, description=_("The sign-in was not completed: %(e)s", e=args["error"]))
    state, code = args.get("state", ""), args.get("code", "")
    if not state or not code:
        abort(400, description=_("The sign-in answer lacks its code or state."))
    if not secrets.compare_digest(state, request.cookies.get(STATE_COOKIE, "")):
        abort(400, description=_("The sign-in answer does not belong to this browser."))
    sso = _sso()
    if args.get("iss") and args["iss"] != sso.verifier.config.issuer:
        abort(400, description=_("The sign-in answer comes from another issuer."))
    pending = sso.take(state)
    if pending is None:
        abort(400, description=_("The sign-in has expired or was already used; sign in again."))
    try:
        who = sso.identity(sso.exchange(code, pending), pending.nonce)
        sign_in(who)
    except IssuerUnavailable as exc:
        abort(502, description=str(exc))
    except AuthError as exc:
        abort(401, description=str(exc))
    except IdentityError as exc:
        abort(403, description=str(exc))
    response = redirect(pending.next_page, 303)
    response.delete_cookie(STATE_COOKIE, path="/app/sso/")
    return response


@bp.get("/app/sso/me")
def me() -> Any:
    """Who is signed in: name, issuer, every Polku role granted and the one acted in."""
    who = current_identity()
    if who is None:
        return redirect("/app/sign-in?next=/app/sso/me", 303)
    return render_template(
        "sso_me.html",
        who=who,
        polku_roles=[role for role in who.roles if role in ROLES],
        title=_("Signed in"),
    )
