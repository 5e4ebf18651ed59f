"""RFC 9457 problem details for every error, with field-level details for bad input."""

from __future__ import annotations

from typing import Any

from flask import Response, g, json, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from shared.errors import ConflictError, NotFoundError, PolkuError, RuleViolation

PROBLEM_TYPE_BASE = "https://polku.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
STATUS_OF = {NotFoundError: 404, ConflictError: 409, RuleViolation: 422}
SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    500: "internal-error",
}


class FieldError(Schema):
    location = fields.String(metadata={"description": "json, query, path or headers."})
    field = fields.String(allow_none=True, metadata={"description": "Null: the whole input."})
    message = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error response carries them."""

    type = fields.String(metadata={"description": "A URI naming the kind of problem."})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "What went wrong, for a person."})
    instance = fields.String(metadata={"description": "The request path."})
    correlation_id = fields.String()
    errors = fields.List(fields.Nested(FieldError), metadata={"description": "Per field."})
    current_version = fields.Integer(
        metadata={"description": "On a 409 for a stale If-Match: the aggregate's version now."}
    )


def problem_doc(description: str) -> dict[str, Any]:
    """Keyword arguments for ``Blueprint.alt_response`` documenting a problem+json answer."""
    return {
        "schema": ProblemSchema,
        "content_type": PROBLEM_CONTENT_TYPE,
        "description": description,
    }


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + SLUGS.get(status, "error"),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    correlation_id = getattr(g, "correlation_id", None)
    if correlation_id:
        body["correlation_id"] = correlation_id
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages: Any) -> list[dict[str, Any]]:
    """Flattens webargs' ``{location: {field: [messages]}}`` into a list naming each field."""
    flat: list[dict[str, Any]] = []

    def walk(location: str, path: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "_schema":  # marshmallow's name for "the body as a whole"
                    walk(location, path, value)
                    continue
                walk(location, f"{path}.{key}" if path else str(key), value)
        elif isinstance(node, list) and all(isinstance(m, str) for m in node):
            for message in node:
                flat.append({"location": location, "field": path or None, "message": message})
        else:
            flat.append({"location": location, "field": path or None, "message": str(node)})

    if isinstance(messages, dict):
        for location, node in messages.items():
            if location == "_schema":
                walk("json", "", node)
            else:
                walk(str(location), "", node)
    else:
        walk("json", "", messages)
    return flat


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = None
    if "messages" in data:
        errors = field_errors(data["messages"])
    elif "errors" in data:
        errors = field_errors(data["errors"])
    detail = data.get("message") or error.description or error.name
    if status == 422 and errors:
        names = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
        detail = f"invalid input: {names}" if names else "invalid input"
    elif status == 400 and errors and "message" not in data:
        # webargs' "could not parse" carries werkzeug's generic text; the reason is the error.
        detail = "; ".join(e["message"] for e in errors)
    # The exception's own headers (Allow on a 405, Retry-After, ...), but never its HTML type.
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="polku"')
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
        detail = f"{request.method} is not allowed on {request.path}; allowed: {headers['Allow']}"
    if status == 500:
        detail = "an unexpected error occurred; it has been logged with the correlation id"
    return problem(status, error.name, str(detail), errors, headers)


def from_domain_error(error: PolkuError) -> Response:
    status = next(code for kind, code in STATUS_OF.items() if isinstance(error, kind))
    errors = error.errors
    if errors is None and error.field:
        location = "query" if error.field == "version" and request.method == "GET" else "json"
        errors = [{"location": location, "field": error.field, "message": error.message}]
    titles = {404: "Not Found", 409: "Conflict", 422: "Unprocessable Content"}
    return problem(status, titles[status], error.message, errors, extra=error.extra)
