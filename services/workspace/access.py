"""What every page does first: the signed-in identity, the as-of moment and tracking calls.

A page without a session sends the browser to the sign-in page (and back after). The "as of"
control sends a day (``as_of=YYYY-MM-DD``); the views are asked for the end of that day in UTC,
or live when the day is today or later. A bad day is a 400 naming it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
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


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_of_day() -> dt.date | None:
    """The day the "as of" control asks for; None for live figures."""
    text = request.args.get("as_of", "").strip()
    if not text:
        return None
    if not _DAY.fullmatch(text):
        abort(400, description=_("as_of must be a day written YYYY-MM-DD, not %(v)s", v=text))
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        abort(400, description=_("as_of must be a real day, not %(v)s", v=text))
    if day >= dt.datetime.now(dt.UTC).date():
        return None
    return day


def as_of_moment(day: dt.date | None) -> str | None:
    """The moment the views are asked for: the end of ``day`` in UTC."""
    if day is None:
        return None
    end = dt.datetime.combine(day, dt.time(23, 59, 59, 999999), dt.UTC)
    return end.isoformat()


def view(path: str, **query: Any) -> Any:
    """A tracking view as the signed-in person may see it, at the page's as-of moment.

    The API's refusals become the page's own: 404 (unknown, or outside the caller's scope),
    403, or 400/422 (a bad filter) shown with the API's explanation.
    """
    query.setdefault("as_of", as_of_moment(as_of_day()))
    try:
        return client().get(identity(), path, **query)
    except TrackingError as exc:
        abort(_page_status(exc.status), description=str(exc))


def answer(path: str, **query: Any) -> TrackingAnswer:
    """The raw answer of a call (for CSV downloads)."""
    query.setdefault("as_of", as_of_moment(as_of_day()))
    result = client().call(identity(), path, **query)
    if not result.ok:
        abort(_page_status(result.status), description=str(TrackingError(result)))
    return result


def optional_view(path: str, **query: Any) -> tuple[Any, str | None]:
    """A view, or None and the API's reason when it refuses (a section then says why)."""
    query.setdefault("as_of", as_of_moment(as_of_day()))
    try:
        return client().get(identity(), path, **query), None
    except TrackingError as exc:
        if exc.status >= 500:
            raise
        return None, str(exc)


def _page_status(status: int) -> int:
    return 400 if status == 422 else status if status in (400, 403, 404, 410) else 502
