"""Requests read exactly as their OpenAPI documents say, never more leniently.

- **Unknown query parameters are a 422** naming each one, on every operation: a typo in a
  filter (``?departmnet=``) would otherwise answer for everyone. The allowed names are read
  from the service's own OpenAPI document, so an operation accepts what it documents and
  nothing else. A guarded operation checks after the caller is authenticated and admitted
  (:func:`shared.web.security.requires` calls :func:`reject_unknown_query`), so a request
  without a token is still a 401; an open one checks before its view.
- **A query parameter given twice is a 422** naming it, unless the document makes it a list:
  which value would count is otherwise up to the parser (webargs takes the first).
- **A JSON object naming a key twice is a 422** naming the key: which value would count is
  otherwise up to the parser.

Every operation documents the 422 (:func:`document`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import Flask, current_app, request
from flask_smorest import abort

_OPENAPI_PATH = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
QUERY = "polku.strict.query"
"""App extension: ``(rule, method) -> Query``, built from the document once."""
GUARDED = "_polku_guarded"
"""Set on a view method wrapped by ``requires``: it checks the query itself, after auth."""
TWICE = "this key appears more than once in its object"


class Query(NamedTuple):
    """What an operation's document says of its query parameters."""

    allowed: frozenset[str]
    lists: frozenset[str]
    """Those of type array: the only ones that may be repeated."""


def install(app: Flask) -> None:
    app.before_request(_check_open_operation)
    app.before_request(_reject_duplicate_keys)


def _allowed(app: Flask) -> dict[tuple[str, str], Query]:
    table: dict[tuple[str, str], Query] | None = app.extensions.get(QUERY)
    if table is None:
        api: Any = app.extensions["polku.api"]
        paths = api.spec.to_dict().get("paths", {})
        parameters = api.spec.to_dict().get("components", {}).get("parameters", {})
        table = {}
        for rule in app.url_map.iter_rules():
            path = _OPENAPI_PATH.sub(r"{\1}", rule.rule)
            for method, operation in paths.get(path, {}).items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                allowed, lists = set(), set()
                for parameter in operation.get("parameters", []):
                    if "$ref" in parameter:
                        parameter = parameters.get(parameter["$ref"].rsplit("/", 1)[-1], {})
                    if parameter.get("in") == "query":
                        allowed.add(parameter["name"])
                        kind = parameter.get("schema", {}).get("type")
                        if kind == "array" or (isinstance(kind, list) and "array" in kind):
                            lists.add(parameter["name"])
                table[(rule.rule, method.upper())] = Query(frozenset(allowed), frozenset(lists))
        app.extensions[QUERY] = table
    return table


def reject_unknown_query() -> None:
    """422 naming every query parameter the matched operation does not document, or that is
    given twice though the document makes it no list."""
    if request.url_rule is None or not request.args:
        return
    query = _allowed(current_app).get((request.url_rule.rule, request.method))
    if query is None:  # not an operation of the document (docs pages, assets)
        return
    known = ", ".join(sorted(query.allowed)) or "none"
    errors: dict[str, list[str]] = {}
    for name in sorted(set(request.args)):
        if name not in query.allowed:
            errors[name] = [f"unknown query parameter; this operation takes: {known}"]
        elif name not in query.lists and len(request.args.getlist(name)) > 1:
            errors[name] = ["this parameter appears more than once; give it once"]
    if errors:
        abort(422, errors={"query": errors})


def _check_open_operation() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    method = getattr(getattr(view, "view_class", None), request.method.lower(), None)
    if not getattr(method or view, GUARDED, False):
        reject_unknown_query()


def _reject_duplicate_keys() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE") or not request.is_json:
        return
    raw = request.get_data(cache=True)
    if not raw or b'"' not in raw:
        return
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return  # not JSON: reported where the body is parsed
    if repeated:
        abort(
            422,
            errors={"json": {key: [TWICE] for key in repeated}},
        )


UNSUPPORTED_BODY = {
    "description": "The body is not JSON (Content-Type: application/json), or it is compressed "
    "(any Content-Encoding but identity; the answer carries Accept-Encoding: identity).",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
"""What every operation that takes a body may answer before reading it (``shared.web``)."""


def document(app: Flask) -> None:
    """Every operation documents the 422 the checks above may answer, and every one taking a
    body the 415 of a body that is not plain JSON."""
    api: Any = app.extensions["polku.api"]
    for operations in api.spec._paths.values():  # apispec keeps registered paths here
        for method, operation in operations.items():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if responses is None:
                continue
            if "422" not in responses:
                responses["422"] = api.spec.components.get_ref("response", "UNPROCESSABLE_ENTITY")
            if method in ("post", "put", "patch") and "415" not in responses:
                responses["415"] = UNSUPPORTED_BODY


def guarded(wrapper: Callable[..., Any]) -> Callable[..., Any]:
    setattr(wrapper, GUARDED, True)
    return wrapper
