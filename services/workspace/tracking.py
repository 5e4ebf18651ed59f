"""How the workspace reads tracking: through tracking's own HTTP API, as the signed-in person.

Every call carries a short bearer token minted for the session's identity (its role, and its
subject or a participant's person id), so the API's role, scope and privacy rules decide what a
page may show, exactly as they decide for any other client. Nothing is recomputed here. In one
process the API is called in-process through its WSGI app (no socket); a separately run
workspace would use the same interface over HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.test import Client

from shared.auth import issue_token
from shared.web.sessions import Identity

TOKEN_TTL = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class TrackingAnswer:
    """One API answer: the status, the JSON body (or the problem), and the raw bytes."""

    status: int
    body: Any
    content_type: str
    data: bytes

    @property
    def ok(self) -> bool:
        return self.status == 200


class TrackingError(Exception):
    """The API refused or failed a call the page cannot do without; carries its problem."""

    def __init__(self, answer: TrackingAnswer) -> None:
        self.answer = answer
        detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
        super().__init__(detail or f"tracking answered {answer.status}")

    @property
    def status(self) -> int:
        return self.answer.status


class TrackingClient:
    """Calls tracking's API (``/tracking/...``) for an identity."""

    def __init__(self, wsgi: Callable[..., Iterable[bytes]], secret: str) -> None:
        self._wsgi = wsgi
        self._secret = secret

    def token(self, identity: Identity) -> str:
        if identity.access_token:  # signed in at an issuer: its token, under its rules
            return identity.access_token
        return issue_token(self._secret, identity.bearer_subject, identity.role, TOKEN_TTL)

    def call(self, identity: Identity, path: str, **query: Any) -> TrackingAnswer:
        """GET ``/tracking{path}``; ``None`` query values are left out."""
        params = {k: v for k, v in query.items() if v is not None and v != ""}
        url = f"/tracking{path}" + (f"?{urlencode(params, doseq=True)}" if params else "")
        response = Client(self._wsgi).get(
            url, headers={"Authorization": f"Bearer {self.token(identity)}"}
        )
        data = response.get_data()
        content_type = response.headers.get("Content-Type", "")
        body: Any = None
        if "json" in content_type:
            body = json.loads(data)
        return TrackingAnswer(response.status_code, body, content_type, data)

    def many(
        self, identity: Identity, calls: dict[str, tuple[str, dict[str, Any]]]
    ) -> dict[str, TrackingAnswer]:
        """Several calls, by name, one after another. (In threads they were slower: the views
        are mostly Python, and on a busy machine the threads only queued for the GIL.)"""
        return {name: self.call(identity, path, **query) for name, (path, query) in calls.items()}

    def get(self, identity: Identity, path: str, **query: Any) -> Any:
        """The JSON body of a 200, else :class:`TrackingError`."""
        answer = self.call(identity, path, **query)
        if not answer.ok:
            raise TrackingError(answer)
        return answer.body
