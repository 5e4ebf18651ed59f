"""The assessment domain, one module per concept: instruments, results, style profiles,
reaction surveys and staff-survey results.

Every method that changes state is an event named for what happened; rules are named
``check_*`` methods raising the domain's exceptions, declared beside what they guard. Every
event carries ``meta`` (who caused it and the request's correlation id) — except anonymous
reaction responses, whose meta the application replaces with an anonymous one. Topics are
pinned (``polku.assessment:…``) so that renaming or moving a class never orphans stored events.

Aggregates whose uniqueness is a business rule (one result per person, instrument, wave and
rater; one profile per person, instrument and wave; one staff-survey result per instrument,
year and organisational unit; one reaction survey per instrument and cohort) get a uuid5 id of
that key, so the store itself refuses a second one: the rule is one consistency boundary.
"""

from __future__ import annotations

import uuid

Meta = dict[str, str]

ID_NAMESPACE = uuid.UUID("0b6a4c1e-7f7e-4f4c-9a51-6f1c2a7d9e30")
"""Namespace of the uuid5 ids derived from a uniqueness key."""


def key_id(kind: str, *parts: object) -> uuid.UUID:
    """The deterministic id of the aggregate of ``kind`` for a uniqueness key."""
    return uuid.uuid5(ID_NAMESPACE, "/".join([kind, *(str(p) for p in parts)]))
