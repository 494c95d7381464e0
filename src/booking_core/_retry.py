"""Retrying transactions that failed for transient reasons. The only place tenacity is used.

A whole unit of work is retried in a fresh transaction: serialization failures, deadlocks,
lock timeouts and SQLite busy errors. Conflicts and validation errors are never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import tenacity as _t

from booking_core.errors import LockTimeoutError, TransientStorageError

T = TypeVar("T")

_ATTEMPTS = 5
_testing = False


def set_testing(enabled: bool) -> None:
    """Turn off backoff sleeps (retries still happen), for fast deterministic tests."""
    global _testing  # noqa: PLW0603 - one process-wide switch, like stamina's
    _testing = enabled


def run_transaction(attempt: Callable[[], T], *, attempts: int = _ATTEMPTS) -> T:
    """Call ``attempt`` until it succeeds or a non-transient error escapes.

    Raises:
        LockTimeoutError: the transient failure persisted through every attempt.
    """
    retrying = _t.Retrying(
        retry=_t.retry_if_exception_type(TransientStorageError),
        stop=_t.stop_after_attempt(attempts),
        wait=_t.wait_none() if _testing else _t.wait_random_exponential(multiplier=0.01, max=0.5),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except TransientStorageError as error:
        raise LockTimeoutError(
            f"gave up after {attempts} attempts: {error}", details=error.details
        ) from error
