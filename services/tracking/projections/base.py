"""What every projection handler is."""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _json
from typing import Any

from services.tracking.temporal import utc_text
from shared.events import Envelope
from shared.sql import Cursor

Handler = Callable[[Cursor, Envelope, dict[str, Any]], None]


def compact_json(
    sort_keys: bool = False, default: Callable[[Any], Any] | None = None
) -> Callable[[Any], str]:
    """``json.dumps(value, separators=(",", ":"), ...)`` as a function made once.

    ``json.dumps`` builds an encoder per call, and ``JSONEncoder.encode`` builds its C scanner
    per call; the rebuild encodes every event's data for the journal, and the handlers every
    score and answer set. This makes the C encoder once (without the check for circular
    references: what is encoded here was decoded from JSON). Where the C encoder is missing,
    it is the encoder's own ``encode``.
    """
    options = json.JSONEncoder(sort_keys=sort_keys, separators=(",", ":"), default=default)
    make = getattr(_json, "c_make_encoder", None)  # not in typeshed's stubs
    if make is None:  # pragma: no cover - CPython has it
        return options.encode
    encode = make(
        None,
        options.default,
        _json.encode_basestring_ascii,
        None,
        ":",
        ",",
        sort_keys,
        False,
        True,
    )
    return lambda value: "".join(encode(value, 0))


as_json = compact_json(sort_keys=True)
"""Stored JSON is compared byte for byte by ``polku replay``: keys sorted, no spaces."""


__all__ = ["Handler", "as_json", "compact_json", "utc_text"]
