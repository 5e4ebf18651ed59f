"""The base application: lost races become retries, then 409s; other errors pass straight on."""

from __future__ import annotations

import pytest

from services.enrolment.application import EnrolmentApplication
from shared.errors import ConcurrentChange, ConflictError, NotFoundError


def test_a_command_that_lost_a_race_is_run_again(enrolment: EnrolmentApplication) -> None:
    calls: list[int] = []

    def command() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrentChange("lost")
        return "done"

    assert enrolment.retrying(command) == "done"
    assert len(calls) == 3


def test_a_command_that_keeps_losing_is_a_conflict(enrolment: EnrolmentApplication) -> None:
    calls: list[int] = []

    def command() -> None:
        calls.append(1)
        raise ConcurrentChange("lost")

    with pytest.raises(ConflictError):
        enrolment.retrying(command, attempts=4)
    assert len(calls) == 4


@pytest.mark.parametrize("error", [ConflictError("full"), NotFoundError("gone")])
def test_other_failures_are_not_retried(enrolment: EnrolmentApplication, error: Exception) -> None:
    calls: list[int] = []

    def command() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        enrolment.retrying(command)
    assert len(calls) == 1
