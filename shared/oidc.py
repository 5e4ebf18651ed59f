"""Bearer tokens from an OpenID Connect issuer: discovery, the issuer's keys, and Polku's claims.

With ``POLKU_OIDC_ISSUER`` set, Polku trusts no secret of its own: a token is accepted when its
RS256 or ES256 signature verifies with a key the issuer publishes (found through
``/.well-known/openid-configuration``), its ``iss`` is the issuer, its ``aud`` names the service
and its lifetime is sane. Keys are parsed by PyJWT (``PyJWKSet``); nothing here is hand-made
JOSE.

Key rotation: a token whose ``kid`` is not cached makes the key set be fetched again, at most
once per ``jwks_min_interval`` seconds, so a flood of made-up kids cannot hammer the issuer.
When the issuer cannot be reached the cached keys still verify; a kid no cached key has fails
closed (401).

Roles come from one claim (``roles_claim``, a dotted path such as ``realm_access.roles``) and a
mapping from its values to Polku's six roles. A participant's person id comes from
``person_claim`` (never from ``sub``); a service's subject is its client id (``client_claim``).
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from shared.auth import (
    DEFAULT_MAX_LIFETIME,
    LEEWAY,
    ROLES,
    AuthError,
    Principal,
    signature_checked,
)

ALGORITHMS = ("RS256", "ES256")
ACTING_ORDER = ("hr_admin", "coordinator", "auditor", "coach", "participant", "service")
"""Of several roles a route admits, the one a request acts as: the widest scope first."""

Fetch = Callable[[str], dict[str, Any]]


class IssuerUnavailable(Exception):
    """The issuer's discovery document or key set could not be fetched or read."""


def http_get_json(url: str, timeout: float = 5.0) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise IssuerUnavailable(f"{url}: {exc.__class__.__name__}: {exc}") from None
    if not isinstance(body, dict):
        raise IssuerUnavailable(f"{url} did not answer a JSON object")
    return body


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str = "polku-{service}"
    """The ``aud`` a service requires; ``{service}`` becomes enrolment, assessment or tracking."""
    roles_claim: str = "roles"
    role_map: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {role: (role,) for role in ROLES}
    )
    """Each Polku role and the claim values that grant it."""
    person_claim: str = "polku_person_id"
    client_claim: str = "azp"
    algorithms: tuple[str, ...] = ALGORITHMS
    jwks_min_interval: float = 10.0
    max_lifetime_seconds: float = DEFAULT_MAX_LIFETIME.total_seconds()
    timeout: float = 5.0

    def audience_for(self, service: str) -> str:
        return self.audience.replace("{service}", service)


class KeySet:
    """The issuer's signing keys by kid, fetched on demand and refetched for an unknown kid."""

    def __init__(
        self,
        jwks_uri: Callable[[], str],
        fetch: Fetch,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._jwks_uri, self._fetch, self._min_interval, self._clock = (
            jwks_uri,
            fetch,
            min_interval,
            clock,
        )
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0
        """How many times the key set was asked for: the rate limit is observable in tests."""

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            found = self._keys.get(kid)
            if found is not None:
                return found
            now = self._clock()
            if self._fetched_at is not None and now - self._fetched_at < self._min_interval:
                raise AuthError(
                    f"the token's key (kid {kid!r}) is not among the issuer's keys "
                    f"(fetched again at most every {self._min_interval:g} s)"
                )
            self._fetched_at = now
            self.fetches += 1
            try:
                self._keys = _signing_keys(self._fetch(self._jwks_uri()))
            except IssuerUnavailable as exc:
                raise AuthError(
                    f"the issuer's keys cannot be fetched ({exc}) and no cached key has the "
                    f"token's kid {kid!r}"
                ) from None
            found = self._keys.get(kid)
            if found is None:
                raise AuthError(f"the token's key (kid {kid!r}) is not among the issuer's keys")
            return found


def _signing_keys(jwks: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWK Set, by kid; encryption and unknown keys are left out."""
    usable = [
        k
        for k in jwks.get("keys", [])
        if isinstance(k, dict) and k.get("kid") and k.get("use", "sig") == "sig"
    ]
    try:
        keyset = jwt.PyJWKSet.from_dict({"keys": usable})
    except jwt.PyJWTError as exc:
        raise IssuerUnavailable(f"the issuer's key set has no usable signing key: {exc}") from None
    return {str(k.key_id): k for k in keyset.keys}


class OidcVerifier:
    """Verifies an issuer's tokens for any of this process's services (one key cache for all)."""

    def __init__(
        self,
        config: OidcConfig,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._wall_clock = wall_clock
        self._fetch: Fetch = fetch or (lambda url: http_get_json(url, config.timeout))
        self._clock = clock
        self._metadata: dict[str, Any] | None = None
        self._metadata_tried: float | None = None
        self._lock = threading.Lock()
        self.keys = KeySet(self._jwks_uri, self._fetch, config.jwks_min_interval, clock)

    def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document, fetched once (retried no faster than the keys)."""
        with self._lock:
            if self._metadata is not None:
                return self._metadata
            now = self._clock()
            if (
                self._metadata_tried is not None
                and now - self._metadata_tried < self.config.jwks_min_interval
            ):
                raise IssuerUnavailable(f"the issuer {self.config.issuer} could not be reached")
            self._metadata_tried = now
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = self._fetch(url)
            if document.get("issuer") != self.config.issuer:
                raise IssuerUnavailable(
                    f"{url} names the issuer {document.get('issuer')!r}, not "
                    f"POLKU_OIDC_ISSUER {self.config.issuer!r}"
                )
            for name in ("jwks_uri", "token_endpoint"):
                if not isinstance(document.get(name), str):
                    raise IssuerUnavailable(f"{url} has no {name}")
            self._metadata = document
            return document

    def _jwks_uri(self) -> str:
        return str(self.metadata()["jwks_uri"])

    def verify(self, token: str, audience: str, now: float | None = None) -> Principal:
        """The token's principal, or :class:`AuthError` naming what is wrong."""
        return principal_of(self.claims(token, audience, now), self.config)

    def claims(self, token: str, audience: str, now: float | None = None) -> dict[str, Any]:
        """A token's claims once its signature, issuer, audience and lifetime are checked
        (an access token, or an ID token with the web client as its audience)."""
        claims = self._signed_claims(token)
        check_claims(claims, self.config, audience, self._wall_clock() if now is None else now)
        return claims

    def _signed_claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("the token is malformed (not a JWT)") from None
        algorithm = header.get("alg")
        if algorithm not in self.config.algorithms:
            raise AuthError(
                f"the token's algorithm {algorithm!r} is not allowed; expected "
                f"{' or '.join(self.config.algorithms)}"
            )
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("the token is malformed (not a JWT)") from None
        if not isinstance(unverified, dict) or unverified.get("iss") != self.config.issuer:
            # Only ever a refusal: another issuer's token names keys this one never had.
            raise AuthError(f"the token's issuer (iss) is not {self.config.issuer!r}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("the token names no key (kid)")
        key = self.keys.key(kid)
        if key.algorithm_name != algorithm:
            raise AuthError(
                f"the token's algorithm {algorithm!r} does not match its key's "
                f"{key.algorithm_name!r}"
            )
        return signature_checked(token, key.key, algorithm, jti_checked=False)


def check_claims(claims: dict[str, Any], config: OidcConfig, audience: str, now: float) -> None:
    if claims.get("iss") != config.issuer:
        raise AuthError(f"the token's issuer (iss) is not {config.issuer!r}")
    aud = claims.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise AuthError(f"the token's audience (aud) does not include {audience!r}")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise AuthError("the token has no subject (sub)")
    if claims.get("exp") is None:
        raise AuthError("the token has no expiry (exp)")
    exp = _number(claims, "exp") or 0.0
    iat, nbf = _number(claims, "iat"), _number(claims, "nbf")
    if exp <= now - LEEWAY:
        raise AuthError("the token has expired")
    if iat is not None and iat > now + LEEWAY:
        raise AuthError("the token was issued in the future (iat)")
    if nbf is not None and nbf > now + LEEWAY:
        raise AuthError("the token is not valid yet (nbf)")
    if exp - (now if iat is None else iat) > config.max_lifetime_seconds:
        raise AuthError(
            f"the token lives longer than the allowed {config.max_lifetime_seconds / 3600:g} h "
            "(exp - iat)"
        )


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthError(f"the token's {name} is not a number")
    return float(value)


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path (``realm_access.roles``); None when any step is missing."""
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def roles_of(claims: Mapping[str, Any], config: OidcConfig) -> tuple[str, ...]:
    """Polku's roles granted by the token, in :data:`ACTING_ORDER`."""
    raw = claim(claims, config.roles_claim)
    values = {raw} if isinstance(raw, str) else set(raw) if isinstance(raw, list) else set()
    return tuple(
        role for role in ACTING_ORDER if any(v in values for v in config.role_map.get(role, ()))
    )


def principal_of(claims: Mapping[str, Any], config: OidcConfig) -> Principal:
    roles = roles_of(claims, config)
    person = claim(claims, config.person_claim)
    client = claim(claims, config.client_claim)
    return Principal(
        sub=str(claims["sub"]),
        role=roles[0] if roles else "",
        roles=roles,
        person_id=str(person) if isinstance(person, str | int) and str(person) else None,
        client_id=str(client) if isinstance(client, str) and client else None,
    )


def acting(principal: Principal, admitted: tuple[str, ...]) -> Principal:
    """The principal as it acts on a route admitting ``admitted``: the first of its roles in
    :data:`ACTING_ORDER` the route admits. A participant acts under the person id of its
    person claim, a service under its client id. Raises :class:`PermissionError` with the
    reason when no role fits."""
    held = principal.roles or (principal.role,)
    fits = [role for role in ACTING_ORDER if role in held and role in admitted]
    if not fits:
        if not principal.roles and principal.role == "":
            raise PermissionError("the token grants none of Polku's roles")
        raise PermissionError(
            f"role(s) {', '.join(held)} may not do this; allowed: {', '.join(admitted)}"
        )
    role = fits[0]
    if not principal.roles:  # a development token: one role, its subject as it is
        return principal
    sub = principal.sub
    if role == "participant":
        if principal.person_id is None:
            raise PermissionError("the token grants the participant role but names no person")
        sub = principal.person_id
    elif role == "service" and principal.client_id is not None:
        sub = principal.client_id
    return Principal(sub=sub, role=role, roles=principal.roles, person_id=principal.person_id)


@dataclass(frozen=True)
class ClientSettings:
    """This process's own OIDC client, for client credentials (services) or browser sign-in."""

    client_id: str
    client_secret: str | None = None
    scope: str | None = None
    """Asked for with client credentials; Entra ID needs ``<API's ID URI>/.default``."""


def parse_role_map(raw: str | None) -> dict[str, tuple[str, ...]]:
    """``role=value,value;role=value``: the claim values granting each listed role. Unset: each
    role is granted by a value of its own name. Set: only the roles it lists can be granted."""
    if not raw or not raw.strip():
        return {role: (role,) for role in ROLES}
    mapping: dict[str, tuple[str, ...]] = {}
    for part in raw.split(";"):
        if not part.strip():
            continue
        role, sep, values = part.partition("=")
        role = role.strip()
        if not sep or role not in ROLES:
            raise ValueError(
                f"each entry must be role=value[,value], with a role among {', '.join(ROLES)}; "
                f"not {part.strip()!r}"
            )
        names = tuple(v.strip() for v in values.split(",") if v.strip())
        if not names:
            raise ValueError(f"the role {role} is mapped from no claim value")
        mapping[role] = mapping.get(role, ()) + names
    return mapping


def config_from_env(environ: Mapping[str, str], max_lifetime_seconds: float) -> OidcConfig | None:
    """The issuer's settings from ``POLKU_OIDC_*``; None when no issuer is configured.
    Raises :class:`ValueError` whose message names the variable."""
    issuer = (environ.get("POLKU_OIDC_ISSUER") or "").strip()
    if not issuer:
        others = sorted(k for k in environ if k.startswith("POLKU_OIDC_") and environ[k])
        if others:
            raise ValueError(f"{', '.join(others)} need(s) POLKU_OIDC_ISSUER")
        return None
    if not issuer.startswith(("https://", "http://")):
        raise ValueError(f"POLKU_OIDC_ISSUER must be an https:// (or http://) URL, not {issuer!r}")
    try:
        role_map = parse_role_map(environ.get("POLKU_OIDC_ROLE_MAP"))
    except ValueError as exc:
        raise ValueError(f"POLKU_OIDC_ROLE_MAP: {exc}") from None
    algorithms = tuple(
        a.strip() for a in (environ.get("POLKU_OIDC_ALGORITHMS") or ",".join(ALGORITHMS)).split(",")
    )
    wrong = [a for a in algorithms if a not in ALGORITHMS]
    if wrong or not algorithms:
        raise ValueError(
            f"POLKU_OIDC_ALGORITHMS must name some of {', '.join(ALGORITHMS)}, not {wrong}"
        )
    raw_interval = environ.get("POLKU_OIDC_KEYS_MIN_INTERVAL") or "10"
    try:
        interval = float(raw_interval)
    except ValueError:
        interval = -1.0
    if not math.isfinite(interval) or interval < 0:
        raise ValueError(
            f"POLKU_OIDC_KEYS_MIN_INTERVAL must be a number of seconds, not {raw_interval!r}"
        )
    return OidcConfig(
        issuer=issuer,
        audience=environ.get("POLKU_OIDC_AUDIENCE") or "polku-{service}",
        roles_claim=environ.get("POLKU_OIDC_ROLES_CLAIM") or "roles",
        role_map=role_map,
        person_claim=environ.get("POLKU_OIDC_PERSON_CLAIM") or "polku_person_id",
        client_claim=environ.get("POLKU_OIDC_CLIENT_CLAIM") or "azp",
        algorithms=algorithms,
        jwks_min_interval=interval,
        max_lifetime_seconds=max_lifetime_seconds,
    )


def client_from_env(environ: Mapping[str, str], prefix: str) -> ClientSettings | None:
    client_id = environ.get(f"{prefix}_ID") or None
    secret = environ.get(f"{prefix}_SECRET") or None
    scope = environ.get(f"{prefix}_SCOPE") or None
    if (secret or scope) and not client_id:
        raise ValueError(f"{prefix}_SECRET and {prefix}_SCOPE need {prefix}_ID")
    return ClientSettings(client_id, secret, scope) if client_id else None


class ClientCredentialsToken:
    """A service's access token from the issuer's token endpoint (client credentials grant),
    fetched afresh with a quarter of its lifetime left; call it for the current one."""

    def __init__(
        self,
        token_endpoint: Callable[[], str],
        client: ClientSettings,
        clock: Callable[[], float] = time.time,
        timeout: float = 5.0,
    ) -> None:
        self._endpoint, self.client, self._clock, self._timeout = (
            token_endpoint,
            client,
            clock,
            timeout,
        )
        self._token = ""
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            now = self._clock()
            if now >= self._renew_at:
                answer = self._request()
                token, lifetime = answer.get("access_token"), answer.get("expires_in", 60)
                if not isinstance(token, str) or not isinstance(lifetime, int | float):
                    raise IssuerUnavailable("the token endpoint answered no access_token")
                self._token, self._renew_at = token, now + 0.75 * float(lifetime)
            return self._token

    def _request(self) -> dict[str, Any]:
        from urllib.parse import urlencode

        form = {
            "grant_type": "client_credentials",
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret or "",
        }
        if self.client.scope:
            form["scope"] = self.client.scope
        body = urlencode(form).encode()
        request = urllib.request.Request(
            self._endpoint(),
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise IssuerUnavailable(
                f"the issuer refused client {self.client.client_id!r}: {exc.code} "
                f"{exc.read()[:300].decode(errors='replace')}"
            ) from None
        except (OSError, ValueError) as exc:
            raise IssuerUnavailable(f"the token endpoint: {exc}") from None
        if not isinstance(answer, dict):
            raise IssuerUnavailable("the token endpoint did not answer a JSON object")
        return answer
