"""Control characters: refused in what Polku stores as text, escaped where text must be kept.

PostgreSQL cannot store NUL at all, and the other control characters only corrupt names,
reports and exports. One definition serves the request schemas, the envelope schema and the
projector's error records.
"""

from __future__ import annotations

import re

from marshmallow import ValidationError, validate

CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode category Cc: U+0000-U+001F and U+007F-U+009F."""


def printable(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x00``), safe in any text column."""
    return CONTROL_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class NoControlCharacters(validate.Validator):
    """Refuses control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F).

    PostgreSQL cannot store NUL at all, and the others only corrupt names, reports and
    exports. Free text may still hold tab, line feed and carriage return.
    """

    SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    """Both also refuse the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
    U+2066-U+2069): they make a name or reason display as something other than what it is."""

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
