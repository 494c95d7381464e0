"""The retry wrapper: transient errors rerun, a lost COMMIT reply is never blindly repeated."""

from __future__ import annotations

import pytest

from booking_core import _retry
from booking_core.errors import CommitOutcomeUnknownError, LockTimeoutError, TransientStorageError


def test_a_transient_error_reruns_the_attempt() -> None:
    """Two transient failures, then success: three calls, the last result returned."""
    calls: list[bool] = []

    def attempt(outcome_unknown: bool) -> str:
        calls.append(outcome_unknown)
        if len(calls) < 3:
            raise TransientStorageError("deadlock")
        return "done"

    assert _retry.run_transaction(attempt) == "done"
    assert calls == [False, False, False]


def test_persistent_transient_errors_become_a_lock_timeout() -> None:
    """An attempt that keeps failing transiently gives up after the allowed attempts with
    LockTimeoutError."""

    def attempt(_outcome_unknown: bool) -> str:
        raise TransientStorageError("busy")

    with pytest.raises(LockTimeoutError, match="gave up after 2 attempts"):
        _retry.run_transaction(attempt, attempts=2)


def test_a_lost_reply_is_not_repeated_unless_the_attempt_can_tell() -> None:
    """Not recoverable: the typed error reaches the caller after one call."""
    calls: list[bool] = []

    def attempt(outcome_unknown: bool) -> str:
        calls.append(outcome_unknown)
        raise CommitOutcomeUnknownError("reply lost")

    with pytest.raises(CommitOutcomeUnknownError):
        _retry.run_transaction(attempt)
    assert calls == [False]


def test_a_recoverable_attempt_is_told_the_outcome_is_unknown() -> None:
    """Recoverable: the next call knows an earlier attempt may have landed, and so do later ones."""
    calls: list[bool] = []

    def attempt(outcome_unknown: bool) -> str:
        calls.append(outcome_unknown)
        if len(calls) == 1:
            raise CommitOutcomeUnknownError("reply lost")
        if len(calls) == 2:
            raise TransientStorageError("deadlock while checking")
        return "found"

    assert _retry.run_transaction(attempt, recoverable=True) == "found"
    assert calls == [False, True, True]


def test_a_lost_reply_on_the_last_attempt_stays_unknown() -> None:
    """A lost COMMIT reply on every attempt ends in CommitOutcomeUnknownError, not a silent success
    or a lock timeout."""

    def attempt(_outcome_unknown: bool) -> str:
        raise CommitOutcomeUnknownError("reply lost")

    with pytest.raises(CommitOutcomeUnknownError):
        _retry.run_transaction(attempt, attempts=3, recoverable=True)


def test_work_that_captures_a_mutable_container_is_refused() -> None:
    """The suites check every write's work: a captured list could carry a rolled-back
    attempt's effects into the next attempt."""
    effects: list[int] = []
    frozen = (1, 2)

    def leaky(_uow: object) -> None:
        effects.append(1)

    def pure(_uow: object) -> tuple[int, ...]:
        return frozen

    def wrapper(uow: object) -> None:
        return leaky(uow)

    with pytest.raises(AssertionError, match="captures a mutable list 'effects'"):
        _retry.assert_rerunnable(leaky)
    with pytest.raises(AssertionError, match="captures a mutable list"):
        _retry.assert_rerunnable(wrapper)  # found through the functions it closes over
    _retry.assert_rerunnable(pure)
