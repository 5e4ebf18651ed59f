"""The audit layer at a service's web boundary: the access log's request hook, and the
``/<service>/audit`` routes (verification status, checkpoints, the signing key, the access
log for auditors, hr_admin and, for their own entries, participants).

**Fail closed.** A read of personal data whose access-log entry cannot be written is refused:
the answer is replaced by a 503 problem, so no personal data leaves without its trace.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema

from shared.audit.access import Access, Filters, now, stamp
from shared.audit.access_writer import Pending
from shared.audit.checkpoints import public_hex
from shared.audit.people import people_in, people_of
from shared.audit.setup import Audit
from shared.audit.web_schemas import (
    CSV_COLUMNS,
    PURPOSE_HEADER,
    AccessArgs,
    AccessPage,
    CheckpointArgs,
    CheckpointPage,
    StatusPage,
)
from shared.auth import AuthError
from shared.web.blueprint import ANSWER_HOOKS, Blueprint
from shared.web.problems import problem
from shared.web.security import max_lifetime, requires, verified_principal

log = logging.getLogger("polku.audit.access")

AUDIT_EXTENSION = "polku.audit"
MAX_PURPOSE = 200
MAX_PEOPLE = 10_000
PURPOSE_ENVIRON = "HTTP_" + PURPOSE_HEADER.upper().replace("-", "_")
"""The purpose header as WSGI names it (read from the environment: a tenth of the time)."""
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
STATUS_READERS = ("auditor", "hr_admin")
CHECKPOINT_READERS = ("auditor", "hr_admin", "service")
ACCESS_READERS = ("auditor", "hr_admin", "participant")


@dataclass
class Personal:
    """Which routes read personal data, and which answer keys name the people read."""

    rules: Sequence[str]
    """Regular expressions over the route rule (``/enrolment/people/<uuid:person_id>``)."""
    id_keys: Sequence[str] = ()
    """Rules whose answer's ``id`` fields are person ids (the people lists)."""
    _compiled: list[re.Pattern[str]] = field(default_factory=list)
    _ids: list[re.Pattern[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._compiled = [re.compile(r) for r in self.rules]
        self._ids = [re.compile(r) for r in self.id_keys]

    def matches(self, rule: str) -> bool:
        return _any_match(tuple(self._compiled), rule)

    def ids_are_people(self, rule: str) -> bool:
        return _any_match(tuple(self._ids), rule)


@functools.lru_cache(maxsize=1024)
def _any_match(patterns: tuple[re.Pattern[str], ...], rule: str) -> bool:
    """Per route rule, once: there are few rules and every request asks."""
    return any(p.search(rule) for p in patterns)


def _caller() -> Any:
    principal = getattr(g, "principal", None)
    if principal is not None:
        return principal
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return verified_principal(token.strip(), max_lifetime())
    except AuthError:
        return None


def install(app: Flask, audit: Audit, personal: Personal) -> None:
    """Logs every personal-data read of ``app`` and serves the ``/<service>/audit`` routes."""
    app.extensions[AUDIT_EXTENSION] = audit
    app.extensions["polku.api"].register_blueprint(audit_blueprint(audit.service))
    if "polku.outbox" in app.extensions:  # a write service: its events, searchable
        from shared.audit.search import search_blueprint

        app.extensions["polku.api"].register_blueprint(search_blueprint(audit.service))

    _document(app.extensions["polku.api"], personal)

    if audit.access.sends:  # PostgreSQL: the entry is sent while the answer is serialised
        hooks = app.extensions.setdefault(ANSWER_HOOKS, [])
        hooks.append(functools.partial(_begin_entry, audit, personal))

    @app.after_request
    def record_access(response: Response) -> Response:
        begun: tuple[Pending, Access] | None = g.pop(BEGUN, None)
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
        rule = _personal_rule(req, personal)
        try:
            if begun is not None:  # sent by _begin_entry: committed before anything leaves
                audit.access.finish(begun[0])
                if rule is not None and _as_sent(begun[1], req, rule, personal, response):
                    return response
            if rule is None:
                return response
            who = _caller()
            if who is None:  # no valid token: nothing was read
                return response
            purpose = _given_purpose(req)
            message = _refusal(purpose)
            if message is not None:  # nothing leaves: the read is refused before it is logged
                return problem(
                    400,
                    "Bad Request",
                    f"the {PURPOSE_HEADER} header {message}",
                    [{"field": PURPOSE_HEADER, "location": "headers", "message": message}],
                )
            people = _named(req, rule, personal, response)
            entry = _access(audit, req, rule, who, people, response.status_code, purpose)
            if begun is not None:
                _record_differs(audit, begun[1], entry)
            audit.access.write(entry)
        except Exception:
            log.exception("the access log could not be written; the read is refused")
            return problem(
                503,
                "Service Unavailable",
                "the access log could not be written, so the read of personal data is refused; "
                "try again later",
            )
        return response


READS = frozenset(["GET", "HEAD"])
"""Methods that read: a HEAD runs the GET's view and tells whether the person exists."""


def _personal_rule(req: Any, personal: Personal) -> str | None:
    """The route rule of a read (GET or HEAD) of personal data; None for any other request."""
    rule: str | None = req.url_rule.rule if req.url_rule is not None else None
    return rule if req.method in READS and rule is not None and personal.matches(rule) else None


def _named(req: Any, rule: str, personal: Personal, response: Response) -> dict[str, None]:
    """The people a read named: those in its path, then those its JSON answer names."""
    named: list[str] = []
    if not response.is_streamed and _is_json(response.content_type):
        named = people_in(response.get_data(), personal.ids_are_people(rule))
    return _people(req.view_args, named)


def _people(view_args: dict[str, Any] | None, named: Iterable[str]) -> dict[str, None]:
    """The person ids in the path first, then the others ``named``, in id order."""
    people: dict[str, None] = {}
    for name, value in (view_args or {}).items():
        if name.endswith("person_id"):
            people[str(value)] = None
    for person in sorted(named):
        people.setdefault(person, None)
    return people


def _as_sent(begun: Access, req: Any, rule: str, personal: Personal, response: Response) -> bool:
    """Whether the entry begun from the view's result records the read as it went out: the
    same outcome and the same people as the answer sent names."""
    if begun.outcome != response.status_code:
        return False
    return set(begun.person_ids) == set(tuple(_named(req, rule, personal, response))[:MAX_PEOPLE])


BEGUN = "polku_access_begun"
"""``flask.g``: the entry :func:`_begin_entry` started and the commit it awaits."""


def _begin_entry(
    audit: Audit, personal: Personal, status: int, result: Any, schema: Schema | None
) -> None:
    """The view has its result: sends the read's entry now (people from the result as the view
    returned it), so PostgreSQL commits it while the answer is dumped and serialised.
    :func:`record_access` then waits for the commit before the answer leaves, and checks the
    entry against the answer as sent."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    rule = _personal_rule(req, personal)
    if rule is None or BEGUN in g:
        return
    who = _caller()
    purpose = _purpose(req)
    if who is None or purpose is None:
        return
    named = people_of(result, schema, personal.ids_are_people(rule))
    if named is None:  # not foreseeable from the result: logged from the answer sent
        return
    entry = _access(audit, req, rule, who, _people(req.view_args, named), status, purpose)
    setattr(g, BEGUN, (audit.access.begin(entry), entry))


def _purpose(req: Any) -> str | None:
    """The purpose the caller gave; None when it is refused (:func:`_refusal`)."""
    given = _given_purpose(req)
    return None if _refusal(given) else given


def _given_purpose(req: Any) -> str:
    """The purpose header as the caller wrote it.

    WSGI hands a header's bytes over as Latin-1 text, so a UTF-8 purpose ("henkilöstöraportti")
    would be logged as mojibake and counted in bytes. Bytes that are UTF-8 are read as such;
    anything else stays as Latin-1 read it."""
    given: str = req.environ.get(PURPOSE_ENVIRON, "")
    if given.isascii():
        return given
    try:
        return given.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return given


def _refusal(given: str) -> str | None:
    """Why a purpose is refused, if it is: one holding a control character (PostgreSQL's text
    cannot hold a NUL, and a log line should be one), or one longer than the documented
    :data:`MAX_PURPOSE` characters (cut, the log would keep a purpose the caller never gave)."""
    if _CONTROL.search(given):
        return "holds a control character; give the purpose as plain text"
    if len(given) > MAX_PURPOSE:
        return f"is longer than {MAX_PURPOSE} characters; give a shorter purpose"
    return None


def _access(
    audit: Audit,
    req: Any,
    rule: str,
    who: Any,
    people: dict[str, None],
    outcome: int,
    purpose: str,
) -> Access:
    query = req.query_string.decode("utf-8", "replace")
    return Access(
        service=audit.service,
        at=now(),
        role=who.role,
        subject=who.sub,
        operation=f"{req.method} {_rule_text(rule)}",
        resource=(req.path + (f"?{query}" if query else ""))[:2000],
        person_ids=tuple(people)[:MAX_PEOPLE],
        outcome=outcome,
        purpose=purpose,
    )


def _record_differs(audit: Audit, begun: Access, sent: Access) -> None:
    """The answer sent is not what the view returned (it failed to serialise, or its schema
    names people the view's result did not): the entry begun stays, as every entry does, and a
    second one records the read as it went out."""
    audit.corrected += 1
    log.error(
        "the access-log entry written from the view's result (outcome %s, %d people) differs "
        "from the answer sent (outcome %s, %d people); a second entry records the answer sent",
        begun.outcome,
        len(begun.person_ids),
        sent.outcome,
        len(sent.person_ids),
    )


def _document(api: Any, personal: Personal) -> None:
    """Every logged operation documents the purpose header, its 400 and the fail-closed 503."""
    paths = getattr(api.spec, "_paths", {})
    for path, item in paths.items():
        operation = item.get("get")
        if operation is None or not personal.matches(path):
            continue
        operation.setdefault("parameters", []).append(
            {
                "name": PURPOSE_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": MAX_PURPOSE},
                "description": "Why the caller reads this personal data; kept in the access "
                "log with who read whose data, when, and the outcome. Its bytes are read as "
                "UTF-8 (as Latin-1 when they are not UTF-8), and counted in characters.",
            }
        )
        problem_content = {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
        operation.setdefault("responses", {}).setdefault(
            "400",
            {
                "description": f"The {PURPOSE_HEADER} header holds a control character or "
                f"is longer than {MAX_PURPOSE} characters.",
                "content": problem_content,
            },
        )
        operation["responses"].setdefault(
            "503",
            {
                "description": "The access log could not be written, so the read of personal "
                "data is refused (docs/audit.md).",
                "content": problem_content,
            },
        )


@functools.lru_cache(maxsize=64)
def _is_json(content_type: str | None) -> bool:
    """``application/json`` with or without parameters (few distinct values: cached)."""
    return (content_type or "").split(";", 1)[0].strip().lower() == "application/json"


@functools.lru_cache(maxsize=1024)
def _rule_text(rule: str) -> str:
    """``/x/<uuid:person_id>`` as ``/x/{person_id}``, as the OpenAPI document names it."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def _audit() -> Audit:
    return current_app.extensions[AUDIT_EXTENSION]  # type: ignore[no-any-return]


def audit_blueprint(service: str) -> Blueprint:
    blp = Blueprint(
        f"{service}_audit",
        __name__,
        url_prefix=f"/{service}/audit",
        description="Tamper evidence: verification status, signed checkpoints, the access log.",
    )

    @blp.route("/status")
    class Status(MethodView):
        @requires(*STATUS_READERS)
        @blp.response(200, StatusPage())
        def get(self) -> dict[str, Any]:
            """The last verification of each of this service's chained logs."""
            return {"logs": _audit().status.all()}

    @blp.route("/checkpoints")
    class Checkpoints(MethodView):
        @requires(*CHECKPOINT_READERS)
        @blp.arguments(CheckpointArgs(), location="query")
        @blp.response(200, CheckpointPage())
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Signed checkpoints of this service's logs, oldest first, with the public key."""
            audit = _audit()
            found = sorted(
                (c for ledger in audit.ledgers for c in ledger.checkpoints()),
                key=lambda c: (c.log, c.position),
            )
            chosen = [c.to_dict() for c in found if c.position > args["after"]][: args["limit"]]
            signer = audit.ledgers[0].signer
            return {
                "checkpoints": chosen,
                "public_key": public_hex(signer.public),
                "key_id": signer.key_id,
            }

    @blp.route("/access")
    class AccessEntries(MethodView):
        @requires(*ACCESS_READERS)
        @blp.arguments(AccessArgs(), location="query")
        @blp.response(200, AccessPage())
        # The int key merges into the 200 above: the same page as CSV with ?format=csv.
        @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
        def get(self, args: dict[str, Any]) -> Any:
            """Reads of personal data in this service, oldest first, filtered.

            A participant sees only the reads of their own data (a subject access request);
            asking for anyone else's is a 404.
            """
            who = g.principal
            person = str(args["person"]) if args.get("person") else None
            if who.role == "participant":
                if person not in (None, who.sub):
                    abort(404, message=f"no access history of person {person} for you")
                person = who.sub
            filters = Filters(
                actor=args.get("actor"),
                role=args.get("role"),
                person=person,
                operation=args.get("operation"),
                since=stamp(args["since"]) if args.get("since") else None,
                until=stamp(args["until"]) if args.get("until") else None,
            )
            limit = args["limit"]
            entries = _audit().access.query(filters, args["after"], limit + 1)
            more = len(entries) > limit
            entries = entries[:limit]
            if args["format"] == "csv":
                return _csv(entries)
            return {"entries": entries, "next_after": entries[-1]["position"] if more else None}

    return blp


def _csv(entries: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = [";".join(entry[c]) if c == "person_ids" else entry[c] for c in CSV_COLUMNS]
        writer.writerow(
            ["'" + v if isinstance(v, str) and v[:1] in "=+-@" and v else v for v in row]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="access-log.csv"'
    return response
