"""Which routes of each service read personal data, for the access log (docs/audit.md).

Rules are regular expressions over Flask's route rules. Every GET they match is logged with
its caller, whatever its outcome; the person ids come from the path and the answer.
"""

from __future__ import annotations

from shared.audit.web import Personal

PERSONAL_READS: dict[str, Personal] = {
    "enrolment": Personal(
        rules=(
            r"^/enrolment/people",
            r"^/enrolment/cohorts/[^/]+/(invitations|enrolments|waitlist|peer-groups)",
            r"^/enrolment/sessions/[^/]+/attendance",
            r"^/enrolment/peer-groups/",
            r"^/enrolment/audit/events",
        ),
        id_keys=(r"^/enrolment/people$", r"^/enrolment/people/<uuid:person_id>$"),
    ),
    "assessment": Personal(
        rules=(
            r"^/assessment/results",
            r"^/assessment/people/",
            r"^/assessment/style-profiles",
            r"^/assessment/imports/",
            r"^/assessment/audit/events",
        ),
    ),
    # Every tracking query and per-person view; not its status or its own audit routes.
    "tracking": Personal(rules=(r"^/tracking/(?!status$|audit/|openapi|docs)",)),
}
