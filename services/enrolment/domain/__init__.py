"""The enrolment domain, one module per concept: programmes, cohorts, people.

Every method that changes state is an event named for what happened. Rules are named
``check_*`` methods raising the domain's exceptions, declared beside the aggregate they guard.
Every event carries ``meta``: who caused it (``actor_sub``, ``actor_role``) and the
``correlation_id`` / ``causation_id`` of the request. Topics are pinned (``polku.enrolment:…``)
so that renaming or moving a class never orphans stored events.
"""

from __future__ import annotations

Meta = dict[str, str]
