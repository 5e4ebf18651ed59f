"""Effective dates: the day a life event took effect, as distinct from when it was recorded.

History is often recorded long after it happened (the TEMPO pilot of 2020 is replayed today),
so every rule about time compares these dates, never the wall clock. The clock only supplies
the default (today) and refuses a day that has not happened yet anywhere on Earth.
"""

from __future__ import annotations

import datetime as dt

from shared.errors import RuleViolation

# UTC+14 is the earliest time zone: a date that has begun there is not in the future for
# someone; anything later is.
_EARLIEST_OFFSET = dt.timedelta(hours=14)


class EffectiveDateInFuture(RuleViolation):
    pass


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def effective(on: dt.date | None, field: str = "on") -> dt.date:
    """``on``, or today when it is not given; a day still to come is refused."""
    if on is None:
        return today()
    latest = (dt.datetime.now(dt.UTC) + _EARLIEST_OFFSET).date()
    if on > latest:
        raise EffectiveDateInFuture(
            f"{field} {on.isoformat()} is in the future; record what has happened", field=field
        )
    return on


def moment(on: dt.date) -> dt.datetime:
    """The instant an event effective ``on`` is said to happen: now if today, else that midnight.

    Timestamps published before effective dates existed (``enrolled_at``) keep their meaning
    for today's events and carry the effective day for back-dated ones.
    """
    now = dt.datetime.now(dt.UTC)
    if on == now.date():
        return now
    return dt.datetime.combine(on, dt.time(0), tzinfo=dt.UTC)
