"""Field validation every service's request schemas share: clean text, e-mail addresses and
plausible dates."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

from flask import current_app, has_app_context
from marshmallow import ValidationError, fields, validate

from shared.text import NoControlCharacters

EMAIL_MAX = 254
"""RFC 5321's limit on an address in a mail path."""


SingleLine = NoControlCharacters()
FreeText = NoControlCharacters(free_text=True)


class Email(fields.Email):
    """An e-mail address of at most 254 characters with no control characters.

    The length is checked first, so an oversized value never reaches the address pattern.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=[validate.Length(max=EMAIL_MAX), SingleLine], **kwargs)

    def _validate(self, value: Any) -> None:
        if isinstance(value, str) and len(value) > EMAIL_MAX:
            raise ValidationError(f"Longer than maximum length {EMAIL_MAX}.")
        super()._validate(value)


PLAUSIBLE_YEARS = "POLKU_PLAUSIBLE_YEARS"
"""The app's config key holding (first, last) year of a plausible date (from the settings)."""
DEFAULT_YEARS = (1950, 2100)


def plausible_years() -> tuple[int, int]:
    if has_app_context():
        return current_app.config.get(PLAUSIBLE_YEARS, DEFAULT_YEARS)  # type: ignore[no-any-return]
    return DEFAULT_YEARS


def year_pattern(first: int, last: int) -> str:
    """A regular expression for an ISO date or date-time whose year is first..last (whole
    decades written as ``195\\d``), so the OpenAPI document states the range too."""
    parts: list[str] = []
    year = first
    while year <= last:
        if year % 10 == 0 and year + 9 <= last:
            parts.append(f"{year // 10:03d}\\d")
            year += 10
        else:
            parts.append(f"{year:04d}")
            year += 1
    return f"^({'|'.join(parts)})-"


def _plausible(value: dt.date, description: str) -> None:
    first, last = plausible_years()
    if not first <= value.year <= last:
        raise ValidationError(
            f"{description} {value.isoformat()} is not plausible: it must fall in the years "
            f"{first} to {last}"
        )


def _documented(kwargs: dict[str, Any]) -> dict[str, Any]:
    metadata = dict(kwargs.pop("metadata", None) or {})
    first, last = DEFAULT_YEARS
    metadata.setdefault("pattern", year_pattern(first, last))
    note = f"Years {first} to {last} (the deployment's POLKU_PLAUSIBLE_YEARS)."
    description = metadata.get("description")
    metadata["description"] = f"{description} {note}" if description else note
    return {**kwargs, "metadata": metadata}


class PlausibleDate(fields.Date):
    """A date in the configured plausible years: a cohort ending in 9999 is a typo, refused
    (422) before it can reach a view that counts months from it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_documented(kwargs))

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.date:
        day = super()._deserialize(value, attr, data, **kwargs)
        _plausible(day, "the date")
        return day


class Moment(fields.AwareDateTime):
    """An ISO 8601 date-time with an offset, and nothing after it.

    Python's ISO parser stops at a NUL that follows a ``Z``: ``2020-04-01T09:00:00Z`` followed
    by a NUL and anything else would read as nine o'clock, the rest unseen. A value holding a
    control character is refused (naming it) before it is parsed.
    """

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, str):
            SingleLine(value)
        return super()._deserialize(value, attr, data, **kwargs)


class PlausibleDateTime(Moment):
    """An aware date-time whose date is in the configured plausible years."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_documented(kwargs))

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        _plausible(moment.date(), "the date of")
        return moment


_DIGITS = re.compile(r"-?[0-9]+")


class _DigitsOnly(fields.Integer):
    """An integer field that reads text only as ASCII digits with an optional minus sign."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, str) and not _DIGITS.fullmatch(value):
            raise self.make_error("invalid")
        return super()._validated(value)


@cache
def _digits_only(kind: type[fields.Integer]) -> type[fields.Integer]:
    if issubclass(kind, _DigitsOnly):
        return kind
    return type(f"DigitsOnly{kind.__name__}", (_DigitsOnly, kind), {})


def strict_query_integers(schema: Any) -> None:
    """Makes the integer fields of a query-string schema instance read only ASCII digits and a
    minus sign: ``int()``, which marshmallow calls on text, also takes ``1_0``, ``+5``, `` 5``,
    ``٣`` (an Arabic-Indic three) and full-width digits. Each field keeps its own kind (its
    class gains the check)."""
    for field in schema.fields.values():
        if isinstance(field, fields.Integer):
            field.__class__ = _digits_only(type(field))
