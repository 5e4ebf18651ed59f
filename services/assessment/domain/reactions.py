"""Reaction surveys: anonymous answers of a cohort to a reaction survey, one per response token.

Anonymity is the point of this module, so its reasoning is written down here.

* A **survey** is one (instrument, cohort): its id is a uuid5 of that pair. Its events record
  how many tokens were issued and whether it is closed, never to whom.
* A **response token** is a random secret handed to each invited participant. The token is
  returned once, when issued, and never stored. To tell a valid token from a guess and a used one
  from an unused one, the application keeps ``marker = HMAC(pepper, token)`` in a key store
  outside the event store, where ``pepper`` is a random secret per survey kept in that key store
  too. Whoever hands tokens out therefore cannot compute the markers, and the event log and Kafka
  hold neither tokens, nor markers, nor hashes of tokens.
* A **response** is its own aggregate with a random id. Its event carries the instrument, the
  cohort, the Likert answers and the free-text answers: no token, no marker, no person. The
  application records it with anonymous metadata (no actor subject, a fresh correlation id),
  and its timestamp is cut to the day, so the log says on which day, not at which moment.

Residual risk: the log keeps responses in the order they arrived, and the key store marks a
token spent when its response is recorded. Someone who could read both the key store (the
peppers and which markers are spent, in storage order) and the event store, and also knew which
participant received which token, could try to line them up. Closing a survey deletes its
pepper and markers, which ends even that (except in database pages not yet vacuumed or
overwritten). A network observer who sees when each participant submitted can correlate times
with the order of responses; only batching responses before release would hide that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.assessment.domain import Meta, key_id
from services.assessment.domain.scales import check_value
from shared.errors import ConflictError, NotFoundError, RuleViolation

TOKEN_BYTES = 24
MAX_TOKENS_PER_ISSUE = 10_000
MAX_COMMENT = 5000


class SurveyClosed(ConflictError):
    pass


class TokenCountInvalid(RuleViolation):
    pass


class UnknownToken(NotFoundError):
    pass


class TokenAlreadyUsed(ConflictError):
    pass


class AnswersInvalid(RuleViolation):
    pass


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_pepper() -> str:
    return secrets.token_hex(32)


def marker(pepper: str, token: str) -> str:
    """What the key store keeps of a token: useless without the survey's pepper."""
    return hmac.new(bytes.fromhex(pepper), token.encode(), hashlib.sha256).hexdigest()


def anonymous_meta() -> Meta:
    """The metadata of an anonymous response: nobody, and a correlation id linking nothing."""
    return {
        "actor_sub": "anonymous",
        "actor_role": "participant",
        "correlation_id": secrets.token_hex(16),
    }


def check_answers(
    scale: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    questions: Sequence[Mapping[str, Any]],
    answers: Mapping[str, Any],
    comments: Mapping[str, str],
    allows_partial: bool,
) -> tuple[dict[str, float], dict[str, str]]:
    keys = [item["key"] for item in items]
    stepped: dict[str, float] = {}
    for key, value in answers.items():
        if key not in keys:
            raise AnswersInvalid(f"the survey has no item {key!r}", field=f"answers.{key}")
        stepped[key] = check_value(scale, value, f"answers.{key}")
    missing = [key for key in keys if key not in answers]
    if missing and not allows_partial:
        raise AnswersInvalid(
            f"every item needs an answer; missing: {', '.join(missing)}",
            field=f"answers.{missing[0]}",
        )
    question_keys = [q["key"] for q in questions]
    kept: dict[str, str] = {}
    for key, text in comments.items():
        if key not in question_keys:
            raise AnswersInvalid(f"the survey has no question {key!r}", field=f"comments.{key}")
        if not isinstance(text, str) or len(text) > MAX_COMMENT:
            raise AnswersInvalid(
                f"a free-text answer is text of at most {MAX_COMMENT} characters",
                field=f"comments.{key}",
            )
        if text.strip():
            kept[key] = text.strip()
    if not answers and not kept:
        raise AnswersInvalid("the response is empty", field="answers")
    return {k: stepped[k] for k in keys if k in stepped}, kept


class ReactionSurvey(Aggregate):
    TOPIC = "polku.assessment:ReactionSurvey"

    class Event(Aggregate.Event):
        TOPIC = "polku.assessment:ReactionSurvey.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.assessment:ReactionSurvey.Created"

    @staticmethod
    def create_id(instrument_id: UUID, cohort_id: UUID) -> UUID:
        return key_id("reaction-survey", instrument_id, cohort_id)

    @event("Opened", topic="polku.assessment:ReactionSurvey.Opened")
    def __init__(self, instrument_id: UUID, cohort_id: UUID, meta: Meta) -> None:
        self.instrument_id = instrument_id
        self.cohort_id = cohort_id
        self.issued = 0
        self.closed = False

    def check_open(self) -> None:
        if self.closed:
            raise SurveyClosed(f"reaction survey {self.id} is closed")

    def issue(self, count: int, meta: Meta) -> None:
        self.check_open()
        if not 1 <= count <= MAX_TOKENS_PER_ISSUE:
            raise TokenCountInvalid(
                f"issue from 1 to {MAX_TOKENS_PER_ISSUE} tokens at a time", field="count"
            )
        self._tokens_issued(self.instrument_id, self.cohort_id, count, meta)

    @event("TokensIssued", topic="polku.assessment:ReactionSurvey.TokensIssued")
    def _tokens_issued(self, instrument_id: UUID, cohort_id: UUID, count: int, meta: Meta) -> None:
        self.issued += count

    def close(self, meta: Meta) -> None:
        self.check_open()
        self._closed(meta)

    @event("Closed", topic="polku.assessment:ReactionSurvey.Closed")
    def _closed(self, meta: Meta) -> None:
        self.closed = True


class ReactionResponse(Aggregate):
    """One anonymous response; its id is random and nothing in it names a person or a token."""

    TOPIC = "polku.assessment:ReactionResponse"

    class Event(Aggregate.Event):
        TOPIC = "polku.assessment:ReactionResponse.Event"

        @staticmethod
        def create_timestamp() -> dt.datetime:
            # The day, not the moment: a submission time would help line answers up with
            # whoever was seen submitting then.
            now = dt.datetime.now(dt.UTC)
            return dt.datetime(now.year, now.month, now.day, tzinfo=dt.UTC)

    class Created(Aggregate.Created):
        TOPIC = "polku.assessment:ReactionResponse.Created"

    @event("Submitted", topic="polku.assessment:ReactionResponse.Submitted")
    def __init__(
        self,
        survey_id: UUID,
        instrument_id: UUID,
        cohort_id: UUID,
        answers: dict[str, float],
        comments: dict[str, str],
        meta: Meta,
    ) -> None:
        self.survey_id = survey_id
        self.instrument_id = instrument_id
        self.cohort_id = cohort_id
        self.answers = dict(answers)
        self.comments = dict(comments)
