"""The API against a real OpenID Connect issuer: Keycloak, started once per session.

Every token here is issued by Keycloak (a user per role through its token endpoint, services
through client credentials); Polku verifies them through discovery and the realm's JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from werkzeug.serving import make_server
from werkzeug.test import Client

from services.runtime import Embedded, build_embedded, remote_feed
from shared.auth import AuthError, issue_token
from shared.feeds import HttpFeed
from shared.identity import service_token
from shared.oidc import ClientSettings, IssuerUnavailable, OidcConfig, OidcVerifier, http_get_json
from shared.settings import Settings
from shared.web.security import OIDC_EXTENSION
from tests.api.helpers import person_body
from tests.api.test_role_matrix import SERVICES, admitted, documented, operations
from tests.support.identity import CLIENTS, MULTI_ROLE_USER, NO_ROLE_USER, USERS
from tests.support.keycloak_server import KeycloakServer
from tests.support.postgres_server import free_loopback_port

READER = "polku-tracking"


@pytest.fixture(scope="module")
def settings(keycloak: KeycloakServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=Path(tmp_path_factory.mktemp("oidc")),
        jwt_secret="s" * 32,
        oidc=OidcConfig(issuer=keycloak.issuer(), jwks_min_interval=0),
        restricted_readers=(READER,),
    )


@pytest.fixture(scope="module")
def runtime(settings: Settings) -> Iterator[Embedded]:
    embedded = build_embedded(settings)
    yield embedded
    embedded.close()


@pytest.fixture(scope="module")
def client(runtime: Embedded) -> Client:
    return Client(runtime.wsgi)


@pytest.fixture(scope="module")
def tokens(keycloak: KeycloakServer) -> dict[str, str]:
    """One access token per Polku role: a user each, and tracking's client for ``service``."""
    found = {role: keycloak.password_token(*user) for role, user in USERS.items()}
    found["service"] = keycloak.client_token(READER, CLIENTS[READER])
    return found


def get(client: Client, path: str, token: str) -> tuple[int, str]:
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, (response.get_json(silent=True) or {}).get("detail", "")


@pytest.mark.parametrize("service", SERVICES)
def test_a_token_per_role_gets_the_role_matrix(
    client: Client, tokens: dict[str, str], service: str
) -> None:
    wrong = []
    for method, path, operation in operations(client, service):
        roles = admitted(operation)
        concrete = path
        while "{" in concrete:
            start, end = concrete.index("{"), concrete.index("}")
            concrete = concrete[:start] + str(uuid.uuid4()) + concrete[end + 1 :]
        for role, token in tokens.items():
            kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {token}"}}
            if method in ("post", "put", "patch"):
                kwargs["json"] = {}
            response = client.open(concrete, method=method.upper(), **kwargs)
            status = response.status_code
            if roles is None:
                ok = status not in (401, 403) and status < 500
            elif role not in roles:
                ok = status == 403
            elif role == "service" and "x-subjects" in operation:
                ok = (READER in operation["x-subjects"]) == (status not in (401, 403))
            else:
                ok = status not in (401, 403) and status < 500 and documented(operation, status)
            if not ok:
                detail = (response.get_json(silent=True) or {}).get("detail", "")
                wrong.append(f"{role} {method.upper()} {path}: {status} ({detail})")
    assert not wrong, "\n".join(wrong)


def test_the_restricted_feed_admits_tracking_client_only(
    client: Client, keycloak: KeycloakServer, tokens: dict[str, str]
) -> None:
    assert get(client, "/assessment/restricted/events", tokens["service"])[0] == 200
    other = keycloak.client_token("polku-assessment", CLIENTS["polku-assessment"])
    status, detail = get(client, "/assessment/restricted/events", other)
    assert (status, "polku-assessment" in detail) == (403, True), detail


def test_service_client_credentials_come_from_the_issuer(
    settings: Settings, client: Client
) -> None:
    own = settings.with_changes(oidc_client=ClientSettings(READER, CLIENTS[READER]))
    token = service_token(own, READER)
    assert callable(token)
    first = token()
    assert first == token()  # kept until a quarter of its life is left
    claims = jwt.decode(first, options={"verify_signature": False})
    assert claims["azp"] == READER and "service" in claims["roles"]
    assert get(client, "/assessment/restricted/events", first)[0] == 200
    wrong = own.with_changes(oidc_client=ClientSettings(READER, "not-the-secret"))
    with pytest.raises(IssuerUnavailable, match="refused client 'polku-tracking'"):
        service_token(wrong, READER)()  # type: ignore[operator]


def test_trackings_http_feed_signs_in_with_client_credentials(
    settings: Settings, runtime: Embedded
) -> None:
    server = make_server("127.0.0.1", 0, runtime.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        remote = settings.with_changes(
            feed="http",
            service_urls={"enrolment": url, "assessment": url},
            oidc_client=ClientSettings(READER, CLIENTS[READER]),
        )
        feed = remote_feed(remote, runtime.tracking.readmodels)
        assert set(feed.heads()) == {("enrolment", 0), ("assessment", 0)}
        assert isinstance(feed, HttpFeed) and "/assessment/restricted/events" in feed.paths.values()
        # Another service's client holds the service role but is no restricted reader.
        other = remote.with_changes(
            oidc_client=ClientSettings("polku-assessment", CLIENTS["polku-assessment"])
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            remote_feed(other, runtime.tracking.readmodels).heads()
        assert refused.value.code == 403
    finally:
        server.shutdown()


def test_several_roles_act_as_the_widest_the_route_admits(
    client: Client, keycloak: KeycloakServer
) -> None:
    token = keycloak.password_token(*MULTI_ROLE_USER)
    assert jwt.decode(token, options={"verify_signature": False})["polku_person_id"]
    # Cohorts: coaches list their own (none here); a participant may not list them at all.
    assert get(client, "/enrolment/cohorts", token)[0] == 200
    nobody = keycloak.password_token(*NO_ROLE_USER)
    status, detail = get(client, "/enrolment/cohorts", nobody)
    assert (status, detail) == (403, "the token grants none of Polku's roles")


def test_a_participant_is_the_person_of_the_person_claim(
    client: Client, keycloak: KeycloakServer, tokens: dict[str, str]
) -> None:
    hr = {"Authorization": f"Bearer {tokens['hr_admin']}"}
    ids = []
    for _ in range(2):
        body = person_body(employee_number=f"E-{uuid.uuid4().hex[:12]}")
        response = client.post("/enrolment/people", json=body, headers=hr)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    mine, theirs = ids
    keycloak.set_user_attribute(USERS["participant"][0], "polku_person_id", mine)
    token = keycloak.password_token(*USERS["participant"])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["polku_person_id"] == mine and claims["sub"] != mine
    assert get(client, f"/enrolment/people/{mine}", token)[0] == 200
    assert get(client, f"/enrolment/people/{theirs}", token)[0] == 404
    # The free sub never names a person, even one whose id it happened to be.
    assert get(client, f"/enrolment/people/{claims['sub']}", token)[0] == 404


def _forged_hs256(token: str, secret: bytes) -> str:
    header = jwt.get_unverified_header(token) | {"alg": "HS256"}
    payload = token.split(".")[1]

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{payload}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def test_refusals_name_the_reason(
    client: Client, runtime: Embedded, keycloak: KeycloakServer, tokens: dict[str, str]
) -> None:
    elsewhere = keycloak.client_token(READER, "elsewhere-dev-secret", realm="elsewhere")
    status, detail = get(client, "/tracking/status", elsewhere)
    assert (status, "issuer (iss)" in detail) == (401, True), detail

    reporting = keycloak.client_token("polku-reporting", CLIENTS["polku-reporting"])
    assert get(client, "/tracking/status", reporting)[0] == 200  # its one audience
    status, detail = get(client, "/enrolment/events", reporting)
    assert (status, "audience (aud) does not include 'polku-enrolment'" in detail) == (401, True)

    # The issuer's public key as an HMAC secret: the classic algorithm confusion.
    jwks = keycloak.get_json(f"{keycloak.issuer()}/protocol/openid-connect/certs")
    kid = jwt.get_unverified_header(tokens["hr_admin"])["kid"]
    public = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid)).key
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    status, detail = get(client, "/tracking/status", _forged_hs256(tokens["hr_admin"], pem))
    assert (status, detail) == (
        401,
        "the token's algorithm 'HS256' is not allowed; expected RS256 or ES256",
    )
    dev = issue_token("s" * 32, "alice", "hr_admin")  # this process's own secret, too
    assert get(client, "/tracking/status", dev)[0] == 401

    # Expired: the same valid token, read by the app an hour later.
    app = runtime.apps["tracking"]
    verifier, audience = app.extensions[OIDC_EXTENSION]
    later = OidcVerifier(verifier.config, wall_clock=lambda: time.time() + 3600)
    app.extensions[OIDC_EXTENSION] = (later, audience)
    try:
        status, detail = get(client, "/tracking/status", tokens["auditor"])
    finally:
        app.extensions[OIDC_EXTENSION] = (verifier, audience)
    assert (status, detail) == (401, "the token has expired")
    tampered = tokens["auditor"][:-4] + (
        "AAAA" if not tokens["auditor"].endswith("AAAA") else "BBBB"
    )
    assert get(client, "/tracking/status", tampered) == (
        401,
        "the token's signature does not verify",
    )


def test_key_rotation_is_followed_without_a_restart(
    client: Client, runtime: Embedded, keycloak: KeycloakServer, tokens: dict[str, str]
) -> None:
    assert get(client, "/tracking/status", tokens["auditor"])[0] == 200
    verifier = runtime.apps["tracking"].extensions[OIDC_EXTENSION][0]
    fetches = verifier.keys.fetches
    keycloak.rotate_key(f"rsa-{uuid.uuid4().hex[:8]}", priority=_rising())
    fresh = keycloak.password_token(*USERS["auditor"])
    assert (
        jwt.get_unverified_header(fresh)["kid"]
        != jwt.get_unverified_header(tokens["auditor"])["kid"]
    )
    assert get(client, "/tracking/status", fresh)[0] == 200
    assert verifier.keys.fetches == fetches + 1
    assert get(client, "/tracking/status", tokens["auditor"])[0] == 200  # old key still listed

    # ES256: the assessment client signs with it once the realm has such a key.
    keycloak.rotate_key(f"ec-{uuid.uuid4().hex[:8]}", priority=_rising(), algorithm="ES256")
    es = keycloak.client_token("polku-assessment", CLIENTS["polku-assessment"])
    assert jwt.get_unverified_header(es)["alg"] == "ES256"
    assert get(client, "/enrolment/events", es)[0] == 200


def test_unknown_kids_are_refetched_at_most_once_per_interval(
    keycloak: KeycloakServer, tokens: dict[str, str]
) -> None:
    config = OidcConfig(issuer=keycloak.issuer(), jwks_min_interval=3600)
    verifier = OidcVerifier(config)
    verifier.verify(tokens["coach"], "polku-tracking")
    forged = jwt.encode({"iss": keycloak.issuer()}, "k" * 32, "HS256", headers={"kid": "made-up"})
    forged = forged.replace(
        forged.split(".")[0],
        jwt.utils.base64url_encode(
            json.dumps({"alg": "RS256", "kid": "made-up"}).encode()
        ).decode(),
    )
    for _ in range(5):
        with pytest.raises(AuthError, match="not among the issuer's keys"):
            verifier.verify(forged, "polku-tracking")
    assert verifier.keys.fetches == 1  # the first verification's; no refetch within the hour


def test_issuer_down_cached_keys_verify_unknown_kids_fail_closed(
    keycloak: KeycloakServer,
) -> None:
    live = urllib.parse.urlsplit(keycloak.base_url).netloc
    dead = f"127.0.0.1:{free_loopback_port()}"  # nothing listens there
    down = {"now": False}

    def fetch(url: str) -> dict[str, Any]:
        # The real HTTP fetch, sent to a closed port while the issuer is "down".
        return http_get_json(url.replace(live, dead) if down["now"] else url, 2.0)

    verifier = OidcVerifier(OidcConfig(issuer=keycloak.issuer(), jwks_min_interval=0), fetch=fetch)
    # ES256 keys (quick to generate), used by the assessment client's tokens.
    keycloak.rotate_key(f"ec-{uuid.uuid4().hex[:8]}", priority=_rising(), algorithm="ES256")
    before = keycloak.client_token("polku-assessment", CLIENTS["polku-assessment"])
    assert verifier.verify(before, "polku-enrolment").roles == ("service",)
    keycloak.rotate_key(f"ec-{uuid.uuid4().hex[:8]}", priority=_rising(), algorithm="ES256")
    after = keycloak.client_token("polku-assessment", CLIENTS["polku-assessment"])
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    down["now"] = True
    assert verifier.verify(before, "polku-enrolment").sub  # cached key
    with pytest.raises(
        AuthError, match=r"keys cannot be fetched .* no cached key has the token's kid"
    ):
        verifier.verify(after, "polku-enrolment")
    down["now"] = False
    assert verifier.verify(after, "polku-enrolment").roles == ("service",)


_PRIORITIES = itertools.count(1000)


def _rising() -> int:
    """A key priority above every earlier one (the realm's own keys have 100; each session
    starts from the primed database)."""
    return next(_PRIORITIES)


def test_no_discovery_fails_closed() -> None:
    verifier = OidcVerifier(
        OidcConfig(issuer=f"http://127.0.0.1:{free_loopback_port()}/realms/polku")
    )
    token = jwt.encode({"iss": verifier.config.issuer}, "k" * 32, "HS256", headers={"kid": "k1"})
    token = token.replace(
        token.split(".")[0],
        jwt.utils.base64url_encode(json.dumps({"alg": "RS256", "kid": "k1"}).encode()).decode(),
    )
    with pytest.raises(AuthError, match="keys cannot be fetched"):
        verifier.verify(token, "polku-tracking")
