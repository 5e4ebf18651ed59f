"""A wrong bearer token is a 401 problem that names what is wrong, in every service, never a 500.

The tokens are forged here with PyJWT and the deployment's secret, so only the claim under test
stands between each one and access; the first case shows the same forge makes a good token.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from werkzeug.test import Client

from services.runtime import build_embedded
from shared.settings import Settings
from tests.api.helpers import SECRET, Api, assert_problem

READS = ["/enrolment/programmes", "/assessment/instruments", "/tracking/status"]


def forged(algorithm: str = "HS256", key: str | None = SECRET, **changes: Any) -> str:
    now = time.time()
    claims: dict[str, Any] = {
        "sub": "alice",
        "role": "hr_admin",
        "iss": "polku",
        "aud": "polku",
        "iat": now - 60,
        "exp": now + 3600,
    }
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm)


def hours(n: float) -> float:
    return time.time() + n * 3600


BAD_TOKENS = {
    "alg none": (lambda: forged("none", None), "algorithm 'none' is not allowed"),
    "wrong secret": (lambda: forged(key="y" * 32), "signature does not verify"),
    "wrong iss": (lambda: forged(iss="elsewhere"), "issuer (iss)"),
    "no aud": (lambda: forged(aud=None), "audience (aud)"),
    "wrong aud": (lambda: forged(aud="another-system"), "audience (aud)"),
    "no sub": (lambda: forged(sub=None), "no subject (sub)"),
    "empty sub": (lambda: forged(sub=""), "subject (sub) is empty"),
    "sub not a string": (lambda: forged(sub=7), "subject (sub) is not a string"),
    "no exp": (lambda: forged(exp=None), "no expiry (exp)"),
    "exp as string": (lambda: forged(exp=str(int(hours(1)))), "exp is not a number"),
    "expired": (lambda: forged(iat=hours(-2), exp=hours(-1)), "expired"),
    "too long lifetime": (lambda: forged(exp=hours(25)), "lives longer than the allowed 24 h"),
    "nbf in future": (lambda: forged(nbf=hours(1)), "not valid yet (nbf)"),
    "iat in future": (lambda: forged(iat=hours(1)), "issued in the future (iat)"),
    "unknown role": (lambda: forged(role="root"), "unknown role 'root'"),
    "garbage": (lambda: "not-a-jwt", "malformed"),
    "three garbage parts": (lambda: "a.b.c", "malformed"),
}


@pytest.mark.parametrize("path", READS)
def test_the_forge_makes_a_token_that_is_accepted(api: Api, path: str) -> None:
    response = api.client.get(path, headers={"Authorization": f"Bearer {forged()}"})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_wrong_token_is_a_401_naming_the_reason(api: Api, path: str, case: str) -> None:
    make, reason = BAD_TOKENS[case]
    response = api.client.get(path, headers={"Authorization": f"Bearer {make()}"})
    body = assert_problem(response, 401)
    assert reason in body["detail"], body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_maximum_lifetime_is_the_deployments_setting(tmp_path: Path) -> None:
    runtime = build_embedded(
        Settings(data_dir=tmp_path, jwt_secret=SECRET, jwt_max_lifetime_seconds=3600)
    )
    try:
        client = Client(runtime.wsgi)
        short = forged(iat=time.time(), exp=hours(0.5))
        two_hours = forged(iat=time.time(), exp=hours(2))
        for path in READS:
            assert client.get(path, headers={"Authorization": f"Bearer {short}"}).status_code == 200
            response = client.get(path, headers={"Authorization": f"Bearer {two_hours}"})
            body = assert_problem(response, 401)
            assert "lives longer than the allowed 1 h" in body["detail"]
    finally:
        runtime.close()


def test_an_issued_token_of_the_maximum_lifetime_is_accepted(api: Api) -> None:
    from shared.auth import issue_token

    token = issue_token(SECRET, "alice", "hr_admin", dt.timedelta(hours=24))
    for path in READS:
        assert api.client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
