"""Retrying transactions that failed for transient reasons. The only place tenacity is used.

A whole unit of work is retried in a fresh transaction: serialization failures, deadlocks,
lock timeouts and SQLite busy errors. Conflicts and validation errors are never retried.

A lost COMMIT reply is different: the first attempt may have landed, so running it again could
repeat its effects. An attempt is told whether an earlier attempt's outcome is unknown, and the
caller decides (see ``Service._write``): look for the earlier attempt's result first, or give up
with :class:`~booking_core.errors.CommitOutcomeUnknownError`.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TypeVar

import tenacity as _t

from booking_core.errors import (
    CommitOutcomeUnknownError,
    LockTimeoutError,
    TransientStorageError,
)

T = TypeVar("T")

_ATTEMPTS = 5
_testing = False
_checking = False


def set_testing(enabled: bool) -> bool:
    """Turn off backoff sleeps (retries still happen); returns the previous setting.

    Public as :func:`booking_core.testing.set_testing`.
    """
    global _testing  # noqa: PLW0603 - one process-wide switch, like stamina's
    previous = _testing
    _testing = enabled
    return previous


def is_testing() -> bool:
    """Whether backoff sleeps are off (:func:`set_testing`)."""
    return _testing


def check_rerunnable(enabled: bool) -> None:
    """Make every write check that its ``work`` is safe to run twice (the test suites do).

    With checking on, :func:`assert_rerunnable` refuses a ``work`` function that captures a
    mutable container (a list, dict or set it could append its effects to).
    """
    global _checking  # noqa: PLW0603 - one process-wide switch, like set_testing
    _checking = enabled


def assert_rerunnable(work: Callable[..., object]) -> None:
    """Refuse (in testing mode) a function that could leak effects out of a rolled-back attempt.

    A function handed to the retry wrapper must return its effects and mutate nothing outside
    itself. The mechanical part of that rule: nothing it closes over (directly, or through the
    functions it closes over) is a ``list``, ``dict``, ``set`` or ``bytearray``.
    """
    if _checking:
        _check_cells(work, seen=set())


def _check_cells(function: object, *, seen: set[int]) -> None:
    if id(function) in seen or not isinstance(function, types.FunctionType):
        return
    seen.add(id(function))
    for name, cell in zip(function.__code__.co_freevars, function.__closure__ or (), strict=True):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell: a name bound later
            continue
        if isinstance(value, list | dict | set | bytearray):
            raise AssertionError(
                f"{function.__qualname__} captures a mutable {type(value).__name__} {name!r}: "
                "work run by the retry wrapper must return its effects instead"
            )
        _check_cells(value, seen=seen)


def run_transaction(
    attempt: Callable[[bool], T],
    *,
    attempts: int = _ATTEMPTS,
    recoverable: bool = False,
    outcome_unknown: bool = False,
) -> T:
    """Call ``attempt(outcome_unknown)`` until it succeeds or a non-transient error escapes.

    ``outcome_unknown`` is True once an earlier attempt lost its COMMIT reply (pass True when
    the caller's own earlier write lost its reply: the first attempt checks too). Only a
    ``recoverable`` attempt (one that checks whether that earlier attempt landed) is called
    again after that; otherwise :class:`CommitOutcomeUnknownError` reaches the caller.

    Raises:
        LockTimeoutError: the transient failure persisted through every attempt.
        CommitOutcomeUnknownError: a commit reply was lost and the attempt is not recoverable.
    """
    unknown = outcome_unknown

    def once() -> T:
        nonlocal unknown
        try:
            return attempt(unknown)
        except CommitOutcomeUnknownError as error:
            if not recoverable:
                raise
            unknown = True
            raise TransientStorageError("commit outcome unknown", details=error.details) from error

    retrying = _t.Retrying(
        retry=_t.retry_if_exception_type(TransientStorageError),
        stop=_t.stop_after_attempt(attempts),
        wait=_t.wait_none() if _testing else _t.wait_random_exponential(multiplier=0.01, max=0.5),
        reraise=True,
    )
    try:
        return retrying(once)
    except TransientStorageError as error:
        lost = error.__cause__
        if isinstance(lost, CommitOutcomeUnknownError):
            raise CommitOutcomeUnknownError(str(lost), details=lost.details) from error
        raise LockTimeoutError(
            f"gave up after {attempts} attempts: {error}", details=error.details
        ) from error
