"""The services' blueprint: flask-smorest's, with a hook between a view and its answer.

flask-smorest's :meth:`~flask_smorest.Blueprint.response` calls the view, dumps what it returned
through the response schema and serialises it. :class:`Blueprint` lets an app see the view's
result before that work: each callable in ``app.extensions[ANSWER_HOOKS]`` is called with the
status the answer will have, the result as the view returned it and the schema that will dump
it (None: dumped as it is). Never for a view that returns a ready ``Response`` (a CSV), nor for
a schema given by name. The access log uses it to send its entry to PostgreSQL while the answer
is dumped and serialised (:mod:`shared.audit.web`).

Every blueprint of the services is this one (ruff's banned-api rule refuses flask-smorest's).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flask_smorest
from flask import Response, current_app
from flask_smorest.utils import unpack_tuple_response
from marshmallow import Schema

from shared.web.validation import strict_query_integers

ANSWER_HOOKS = "polku.answer_hooks"
"""The app extension holding the hooks: a list of ``hook(status, result, schema)``."""

AnswerHook = Callable[[int, Any, Schema | None], None]


class Blueprint(flask_smorest.Blueprint):
    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Any:
        """flask-smorest's, with a query string's integers read strictly (ASCII digits and a
        minus sign: :func:`~shared.web.validation.strict_query_integers`)."""
        if location == "query":
            schema = schema() if isinstance(schema, type) else schema
            strict_query_integers(schema)
        return super().arguments(schema, location=location, **kwargs)

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Any:
        dump = super().response(status_code, schema, **kwargs)
        dumper = schema() if isinstance(schema, type) and issubclass(schema, Schema) else schema
        known = dumper is None or isinstance(dumper, Schema)

        def decorator(view: Callable[..., Any]) -> Any:
            @functools.wraps(view)
            def answered(*args: Any, **kw: Any) -> Any:
                returned = view(*args, **kw)
                hooks: list[AnswerHook] | None = current_app.extensions.get(ANSWER_HOOKS)
                if hooks and known:
                    result, status, _ = unpack_tuple_response(returned)
                    if not isinstance(result, Response):
                        for hook in hooks:
                            hook(int(status or status_code), result, dumper)
                return returned

            return dump(answered)

        return decorator
