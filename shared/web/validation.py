"""Field validation every service's request schemas share: clean text and e-mail addresses."""

from __future__ import annotations

from typing import Any

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
