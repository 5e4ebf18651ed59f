"""``Idempotency-Key`` on every POST of a write service: a retried request returns the first
answer and writes nothing new.

The first request with a key claims it (a row with no answer yet), runs, and stores its answer
if it succeeded. A retry with the same key and the same request gets that answer again, marked
``Idempotent-Replayed: true``; with a different request, 422; while the first is still running,
409. A failed request releases its key, because it wrote nothing: the client may retry it.
Keys are scoped to the caller (role and subject) and kept for :data:`KEEP_SECONDS`.

A request that succeeded but whose answer could not be stored (the database failed in between)
keeps its claim, so a retry is refused with 409 rather than run twice.

A view marked :func:`leaves_no_trace` (an anonymous survey answer, an import) ignores the
header: the stored claim would record who sent what, and when, or hash personal data. A service
whose answers hold personal data gives a :class:`Redaction`: what is kept has those fields
removed, and a replay reads them again.

An erasure does not delete the keys whose answers named the erased person: it turns them into
*tombstones* (:meth:`IdempotencyStore.forget`). The fingerprint (a hash of what was sent, the
personal fields included) and the answer are dropped, and any request still carrying that key
is answered 410 Gone, writing nothing: a retried registration never brings the erased person
back. A tombstone expires with its key after :data:`KEEP_SECONDS`; a request after that, or
with a new key, is a new request (registering the same employee number again is legitimate).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from flask import Flask, Response, current_app, g, request
from flask_smorest import abort

from shared.sql import Database, schema_lock
from shared.web.security import current_principal

HEADER = "Idempotency-Key"
KEY_PATTERN = "^[!-~]([ -~]*[!-~])?$"
"""Printable ASCII, as documented; no space at either end (a header's ends are trimmed)."""
MAX_KEY_LENGTH = 255
KEEP_SECONDS = 24 * 3600
REPLAYED = "Idempotent-Replayed"
ERASED = "erased"
"""The fingerprint of a tombstone: the key's answer named a person who has since been erased."""
_KEPT_HEADERS = ("Content-Type", "Location", "ETag")
_OPENAPI_PATH = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
"""A werkzeug rule's ``<converter:name>`` as OpenAPI writes it: ``{name}``."""


class Stored(NamedTuple):
    fingerprint: str
    status: int | None
    """None while the first request is still running."""
    body: str | None
    headers: str | None


class Redaction(NamedTuple):
    redact: Callable[[Any], Any]
    """The JSON answer as it may be kept: without personal data."""
    restore: Callable[[Any], Any]
    """A kept answer made whole again for a replay (within the request's app context)."""


class IdempotencyStore:
    """Claimed keys and the answers they got, in a table of the service's own database."""

    def __init__(self, database: Database, service: str) -> None:
        self.database = database
        self.table = f"{service}_idempotency"
        with schema_lock(database.url), database.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                " scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,"
                " status INTEGER, body TEXT, headers TEXT, created_at DOUBLE PRECISION NOT NULL,"
                " PRIMARY KEY (scope, key))"
            )

    def claim(self, scope: str, key: str, fingerprint: str) -> Stored | None:
        """Claims the key (None), or returns what an earlier request with it left."""
        now = time.time()
        with self.database.transaction() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE created_at < ?", (now - KEEP_SECONDS,))
            cur.execute(
                f"INSERT INTO {self.table} (scope, key, fingerprint, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING",
                (scope, key, fingerprint, now),
            )
            if cur.rowcount == 1:
                return None
            cur.execute(
                f"SELECT fingerprint, status, body, headers FROM {self.table} "
                "WHERE scope = ? AND key = ?",
                (scope, key),
            )
            row = cur.fetchone()
        return Stored(row[0], row[1], row[2], row[3])

    def answer(self, scope: str, key: str, status: int, body: str, headers: str) -> None:
        with self.database.transaction() as cur:
            cur.execute(
                f"UPDATE {self.table} SET status = ?, body = ?, headers = ? "
                "WHERE scope = ? AND key = ?",
                (status, body, headers, scope, key),
            )

    def release(self, scope: str, key: str) -> None:
        with self.database.transaction() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE scope = ? AND key = ?", (scope, key))

    def forget(self, text: str) -> int:
        """Turns every stored answer that mentions ``text`` (an erased person's id) into a
        tombstone: the key stays claimed until it expires, with neither answer nor fingerprint.
        """
        with self.database.transaction() as cur:
            cur.execute(
                f"UPDATE {self.table} SET fingerprint = ?, status = NULL, body = NULL,"
                " headers = NULL WHERE body LIKE ?",
                (ERASED, f"%{_like_escaped(text)}%"),
            )
            return cur.rowcount


def _like_escaped(text: str) -> str:
    # Ids are plain hex and dashes; anything else is matched literally enough by dropping
    # LIKE's wildcards, which only makes the match stricter.
    return text.replace("%", "").replace("_", "")


_NO_TRACE = "_polku_leaves_no_trace"

F = TypeVar("F", bound=Callable[..., Any])


def leaves_no_trace(view: F) -> F:
    """Marks a POST view whose request must not be kept: ``Idempotency-Key`` is ignored.

    Use it where remembering the request would link a person to what they sent, or keep a
    trace of personal data that erasure could not find (a hash of an imported file), and make
    the view safe to repeat by other means (a single-use token, an import that matches what
    it recorded before).
    """
    setattr(view, _NO_TRACE, True)
    return view


def _is_traceless(app: Flask, endpoint: str | None) -> bool:
    view = app.view_functions.get(endpoint or "")
    handler = getattr(getattr(view, "view_class", None), "post", view)
    return bool(getattr(handler, _NO_TRACE, False))


REDACTION = "polku.idempotency.redaction"
"""The ``app.extensions`` entry where a service puts its :class:`Redaction`, if it needs one."""


def install(app: Flask, store: IdempotencyStore) -> None:
    """Makes every POST of ``app`` honour ``Idempotency-Key``, and documents the header."""
    app.extensions["polku.idempotency"] = store
    app.before_request(_replay_or_claim)
    app.after_request(_remember_answer)
    app.teardown_request(_release_unanswered)
    _document(app)


def _replay_or_claim() -> Response | None:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or _is_traceless(current_app, request.endpoint):
        return None
    key = key.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        abort(
            400,
            message=f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
        )
    principal = current_principal()  # 401 here, as the view would answer
    scope = f"{principal.role}:{principal.sub}"
    store: IdempotencyStore = _store()
    stored = store.claim(scope, key, _fingerprint())
    if stored is None:
        g.idempotency = (scope, key)
        return None
    if stored.fingerprint == ERASED:
        abort(
            410,
            message=f"the answer to {HEADER} {key!r} named a person who has since been erased; "
            "the request is not run again (a new key makes it a new request)",
        )
    if stored.fingerprint != _fingerprint():
        abort(
            422,
            message=f"{HEADER} {key!r} was already used for a different request; "
            "use a new key for a new request",
        )
    if stored.status is None:
        abort(
            409,
            message=f"a request with {HEADER} {key!r} is still running, or its answer was "
            "lost; it will not be run twice",
            headers={"Retry-After": "1"},
        )
    body = stored.body
    redaction: Redaction | None = current_app.extensions.get(REDACTION)
    if redaction is not None and body:
        body = json.dumps(redaction.restore(json.loads(body)))
    response = Response(body, status=stored.status)
    for name, value in json.loads(stored.headers or "{}").items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def _remember_answer(response: Response) -> Response:
    claimed = g.pop("idempotency", None)
    if claimed is None:
        return response
    scope, key = claimed
    store = _store()
    if 200 <= response.status_code < 300:
        headers = {
            name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers
        }
        body = response.get_data(as_text=True)
        redaction: Redaction | None = current_app.extensions.get(REDACTION)
        if redaction is not None and body:
            body = json.dumps(redaction.redact(json.loads(body)))
        store.answer(scope, key, response.status_code, body, json.dumps(headers))
    else:
        store.release(scope, key)  # nothing was written: the client may try again
    return response


def _release_unanswered(_error: BaseException | None) -> None:
    claimed = g.pop("idempotency", None)
    if claimed is not None:  # the request ended without a response (an escaping exception)
        _store().release(*claimed)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _store() -> IdempotencyStore:
    return current_app.extensions["polku.idempotency"]  # type: ignore[no-any-return]


def _document(app: Flask) -> None:
    api: Any = app.extensions["polku.api"]
    api.spec.components.parameter(
        "IdempotencyKey",
        "header",
        {
            "name": HEADER,
            "required": False,
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_KEY_LENGTH,
                "pattern": KEY_PATTERN,
            },
            "description": f"1 to {MAX_KEY_LENGTH} printable ASCII characters (space to ~; any "
            "other key is a 400). Send a unique key to make a retry safe: a request repeated with "
            "the same key returns the first answer (with Idempotent-Replayed: true) and "
            "writes nothing new. Reusing a key for a different request is a 422; a key whose "
            "answer named a person since erased is a 410 (kept for a day, then free).",
        },
    )
    traceless = {
        _OPENAPI_PATH.sub(r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if _is_traceless(app, rule.endpoint)
    }
    for path, operations in api.spec._paths.items():  # apispec keeps registered paths here
        post = operations.get("post")
        if post is not None and path not in traceless:
            post.setdefault("parameters", []).append(
                {"$ref": "#/components/parameters/IdempotencyKey"}
            )
            if "400" not in post.get("responses", {}):  # a key that is not printable ASCII
                post.setdefault("responses", {})["400"] = api.spec.components.get_ref(
                    "response", "BAD_REQUEST"
                )
