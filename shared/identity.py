"""Who a process trusts and who it is: the composition root's one place for both.

Without an issuer, tokens are HS256 development tokens signed with the process's secret, and a
service presents one it mints itself. With ``POLKU_OIDC_ISSUER``, every app verifies the issuer's
tokens (one key cache per process, shared by its services), and a service presents an access
token it gets from the issuer with its own client credentials: no service can mint one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from shared.auth import RenewingToken
from shared.oidc import ClientCredentialsToken, OidcVerifier
from shared.settings import Settings, SettingsError
from shared.web.security import OIDC_EXTENSION

_verifiers: dict[str, OidcVerifier] = {}
_lock = threading.Lock()


def verifier(settings: Settings) -> OidcVerifier | None:
    """This process's verifier for the configured issuer (one per configuration)."""
    if settings.oidc is None:
        return None
    key = repr(settings.oidc)
    with _lock:
        found = _verifiers.get(key)
        if found is None:
            found = _verifiers[key] = OidcVerifier(settings.oidc)
        return found


def install_issuer(app: Flask, settings: Settings, service: str) -> None:
    """Makes ``app`` (serving ``service``) accept the issuer's tokens only, if one is set."""
    found = verifier(settings)
    if found is not None:
        assert settings.oidc is not None
        app.extensions[OIDC_EXTENSION] = (found, settings.oidc.audience_for(service))


def service_token(settings: Settings, subject: str) -> str | Callable[[], str]:
    """The bearer token this process presents to the other services as ``subject``."""
    if settings.oidc is None:
        return settings.service_token or RenewingToken(
            settings.resolved_jwt_secret(), subject, "service"
        )
    if settings.oidc_client is None:
        raise SettingsError(
            "POLKU_OIDC_ISSUER is set, so this service signs in as a client of its own: set "
            "POLKU_OIDC_CLIENT_ID and POLKU_OIDC_CLIENT_SECRET"
        )
    found = verifier(settings)
    assert found is not None
    return ClientCredentialsToken(
        lambda: str(found.metadata()["token_endpoint"]), settings.oidc_client
    )
