"""Field validation every service's request schemas share: clean text and e-mail addresses."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate

EMAIL_MAX = 254
"""RFC 5321's limit on an address in a mail path."""


class NoControlCharacters(validate.Validator):
    """Refuses control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F).

    PostgreSQL cannot store NUL at all, and the others only corrupt names, reports and
    exports. Free text may still hold tab, line feed and carriage return.
    """

    SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")
    FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

    def __init__(self, *, free_text: bool = False) -> None:
        self.free_text = free_text
        self.pattern = self.FREE_TEXT if free_text else self.SINGLE_LINE

    def _repr_args(self) -> str:
        return f"free_text={self.free_text!r}"

    def __call__(self, value: str) -> str:
        found = self.pattern.search(value)
        if found is not None:
            allowed = " other than tab, line feed and carriage return" if self.free_text else ""
            raise ValidationError(
                f"must not contain control characters{allowed}"
                f" (found U+{ord(found.group()):04X} at position {found.start()})"
            )
        return value


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
