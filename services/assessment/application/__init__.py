"""The assessment application: thin commands (load, ask the domain, save) and plain-value queries.

Commands are grouped by concept in this package's modules, one mixin each, and composed here.
Each mixin relies on :class:`~services.assessment.application.base.AssessmentBase`: the
service's event store plus its key store (rater secret, survey peppers and token markers).
"""

from __future__ import annotations

from services.assessment.application.base import Page
from services.assessment.application.instruments import InstrumentCommands
from services.assessment.application.profiles import ProfileCommands
from services.assessment.application.reactions import ReactionCommands
from services.assessment.application.results import ResultCommands
from services.assessment.application.staff_survey import StaffSurveyCommands

__all__ = ["AssessmentApplication", "Page"]


class AssessmentApplication(
    InstrumentCommands, ResultCommands, ProfileCommands, ReactionCommands, StaffSurveyCommands
):
    """Commands return what they saved, so callers need not read it back."""

    name = "assessment"
