"""What every page does first: the signed-in identity, the as-of moment and tracking calls.

A page without a session sends the browser to the sign-in page (and back after). The "as of"
control sends a moment in UTC (``as_of=YYYY-MM-DDTHH:MM:SS``) or a day (meaning its end); the
views are asked for that moment, or live when it is not in the past. A malformed one is a 400
naming it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from flask import abort, current_app, g, redirect, request
from flask_babel import gettext as _

from services.workspace.tracking import TrackingAnswer, TrackingClient, TrackingError
from shared.web.sessions import Identity, current_identity

F = TypeVar("F", bound=Callable[..., Any])
READERS = ("hr_admin", "coordinator", "coach", "auditor")
"""Who reads cohort and programme pages; participants have their own person page only."""


def signed_in(*roles: str) -> Callable[[F], F]:
    """The page needs a session; with ``roles``, one of them (else 403)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = current_identity()
            if who is None:
                target = request.full_path if request.query_string else request.path
                return redirect(f"/app/sign-in?next={quote(target)}", 303)
            if roles and who.role not in roles:
                abort(403, description=_("Your role may not open this page."))
            g.identity = who
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def identity() -> Identity:
    return g.identity  # type: ignore[no-any-return]


def client() -> TrackingClient:
    return current_app.extensions["polku.workspace.tracking"]  # type: ignore[no-any-return]


_AS_OF = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?")


@dataclass(frozen=True)
class AsOf:
    """The page's "as of": what the control shows, and the moment the views are asked for."""

    text: str
    moment: dt.datetime | None

    @property
    def query(self) -> str:
        """The query string that keeps it on links (``?as_of=...`` or nothing)."""
        return f"?as_of={quote(self.text)}" if self.moment else ""

    @property
    def api(self) -> str | None:
        return None if self.moment is None else self.moment.isoformat()


def as_of() -> AsOf:
    """The "as of" the page was asked for: a day (its end) or a moment, in UTC; live when
    empty or not in the past."""
    text = request.args.get("as_of", "").strip()
    if not text:
        return AsOf("", None)
    found = _AS_OF.fullmatch(text)
    if found is None:
        abort(
            400,
            description=_(
                "as_of must be a day (YYYY-MM-DD) or a moment (YYYY-MM-DDTHH:MM:SS) in UTC, "
                "not %(v)s",
                v=text[:40],
            ),
        )
    try:
        if found.group(2):
            moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
        else:
            day = dt.date.fromisoformat(found.group(1))
            moment = dt.datetime.combine(day, dt.time(23, 59, 59, 999999), dt.UTC)
    except ValueError:
        abort(400, description=_("as_of must be a real day and time, not %(v)s", v=text))
    if moment >= dt.datetime.now(dt.UTC):
        return AsOf("", None)
    return AsOf(text, moment)


def view(path: str, **query: Any) -> Any:
    """A tracking view as the signed-in person may see it, at the page's as-of moment.

    The API's refusals become the page's own: 404 (unknown, or outside the caller's scope),
    403, or 400/422 (a bad filter) shown with the API's explanation.
    """
    query.setdefault("as_of", as_of().api)
    try:
        return client().get(identity(), path, **query)
    except TrackingError as exc:
        abort(page_status(exc.status), description=str(exc))


def answer(path: str, **query: Any) -> TrackingAnswer:
    """The raw answer of a call (for CSV downloads)."""
    query.setdefault("as_of", as_of().api)
    result = client().call(identity(), path, **query)
    if not result.ok:
        abort(page_status(result.status), description=str(TrackingError(result)))
    return result


def views(paths: dict[str, str]) -> dict[str, TrackingAnswer]:
    """Several views at once (by name), at the page's as-of moment; refusals are left to the
    caller."""
    moment = as_of().api
    return client().many(
        identity(), {name: (path, {"as_of": moment}) for name, path in paths.items()}
    )


def optional_view(path: str, **query: Any) -> tuple[Any, str | None]:
    """A view, or None and the API's reason when it refuses (a section then says why)."""
    query.setdefault("as_of", as_of().api)
    try:
        return client().get(identity(), path, **query), None
    except TrackingError as exc:
        if exc.status >= 500:
            raise
        return None, str(exc)


def page_status(status: int) -> int:
    return 400 if status == 422 else status if status in (400, 403, 404, 410) else 502
