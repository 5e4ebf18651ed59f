"""HTTP schemas of the enrolment API (the edge; the domain never sees them).

Programmes, cohorts and enrolments are in ``cohort_schemas``; sessions, attendance and peer
groups in ``session_schemas``.
"""

from __future__ import annotations

from marshmallow import validate

from shared.web.validation import SingleLine

Text = [validate.Length(min=1, max=200), SingleLine]
"""A name-like field: one line of 1-200 characters, no control characters."""
