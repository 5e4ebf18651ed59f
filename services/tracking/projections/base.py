"""What every projection handler is."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from services.tracking.temporal import utc_text
from shared.events import Envelope
from shared.sql import Cursor

Handler = Callable[[Cursor, Envelope, dict[str, Any]], None]


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
"""One encoder for every call: ``json.dumps`` with options builds a new one each time."""


def as_json(value: Any) -> str:
    """Stored JSON is compared byte for byte by ``polku replay``: keys sorted, no spaces."""
    return _ENCODE(value)


__all__ = ["Handler", "as_json", "utc_text"]
