"""How scenario loaders speak to Polku: one callable per request, over HTTP or a test client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Protocol

LAGGING = "may not have arrived yet"
"""In assessment's refusal of an id its reference of enrolment's events does not hold yet."""
LAG_RETRIES, LAG_PAUSE = 50, 0.2


class ScenarioError(RuntimeError):
    """A request the scenario made was refused; the message holds the status and the problem."""


class Call(Protocol):
    """One request: returns the JSON answer, raises :class:`ScenarioError` on a 4xx or 5xx.

    ``key`` is sent as ``Idempotency-Key``, so a loader that is run again after an interruption
    gets its earlier answers back instead of writing twice.
    """

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        role: str = "hr_admin",
        key: str | None = None,
    ) -> Any: ...


class HttpCall:
    """Calls a running Polku over HTTP with a token per role (``tokens[role]``)."""

    def __init__(
        self, base_url: str, tokens: dict[str, str], correlation_id: str = "polku-scenario"
    ):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.correlation_id = correlation_id

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        role: str = "hr_admin",
        key: str | None = None,
    ) -> Any:
        headers = {
            "Authorization": f"Bearer {self.tokens[role]}",
            "Content-Type": "application/json",
            "X-Correlation-ID": self.correlation_id,
        }
        if key is not None:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
        )
        for attempt in range(LAG_RETRIES + 1):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                text = exc.read().decode()
                # A separately run assessment service may not have seen a person or cohort
                # enrolment made a moment ago; its reference catches up within a poll or two.
                if exc.code == 422 and LAGGING in text and attempt < LAG_RETRIES:
                    time.sleep(LAG_PAUSE)
                    continue
                raise ScenarioError(f"{method} {path}: {exc.code} {text}") from None
        raise AssertionError("unreachable")
