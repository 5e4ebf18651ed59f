"""What every projection handler is."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from shared.events import Envelope
from shared.sql import Cursor

Handler = Callable[[Cursor, Envelope, dict[str, Any]], None]


def as_json(value: Any) -> str:
    """Stored JSON is compared byte for byte by ``polku replay``: keys sorted, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def utc_text(moment: dt.datetime) -> str:
    """A moment as sortable text: UTC, microseconds, always the same width."""
    if moment.tzinfo is not dt.UTC:  # events are stamped in UTC: converting is the rare case
        moment = moment.astimezone(dt.UTC)
    return moment.isoformat(timespec="microseconds")
