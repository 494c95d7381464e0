"""The public surface: __all__ complete, sorted, importable; one error root."""

from __future__ import annotations

import inspect

import booking_core
from booking_core import errors


def test_all_is_sorted_and_importable() -> None:
    """booking_core.__all__ is sorted (apart from __version__) and every name in it is importable
    from the package."""
    names = [n for n in booking_core.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in booking_core.__all__:
        assert hasattr(booking_core, name), name


def test_every_public_error_is_exported_and_rooted() -> None:
    """Every exception class of booking_core.errors is in its __all__ and in booking_core.__all__,
    and derives from BookingCoreError."""
    classes = {
        name: obj
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == errors.__name__
    }
    assert set(classes) == set(errors.__all__)
    assert set(classes) <= set(booking_core.__all__)
    for cls in classes.values():
        assert issubclass(cls, errors.BookingCoreError)


def test_full_and_closed_dates_are_different_errors() -> None:
    """Catching 'date is full' must not swallow 'date is closed'."""
    assert not issubclass(errors.DateUnavailableError, errors.BookingConflictError)
    assert issubclass(errors.DateUnavailableError, errors.ConflictError)
