"""The public surface of booking_core.sanitize and the str-only contract every sanitizer shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import booking_core.sanitize as sanitize
from booking_core.errors import BookingCoreError, ValidationError

SANITIZERS: dict[str, Callable[..., str]] = {
    "html": sanitize.sanitize_html,
    "text": sanitize.sanitize_plain_text,
    "email": sanitize.sanitize_email,
    "url": sanitize.sanitize_url,
    "phone": sanitize.sanitize_phone,
    "slug": sanitize.sanitize_slug,
}


def isort_style(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted and lists exactly the public names the package defines."""
    assert sanitize.__all__ == sorted(sanitize.__all__, key=isort_style)
    # "@py_…" names appear when pytest rewrites the package's asserts (it does for the modules
    # of a distribution that registers a pytest plugin); they are not ours
    public = {name for name in vars(sanitize) if not name.startswith(("_", "@"))}
    public -= {"annotations"}
    assert set(sanitize.__all__) == public


@pytest.mark.parametrize("name", sorted(SANITIZERS))
@pytest.mark.parametrize("value", [None, b"abc", 42, 4.2, ["a"], True])
def test_only_str_is_accepted(name: str, value: Any) -> None:
    """None, bytes, numbers and containers raise a ValidationError naming the default field."""
    with pytest.raises(ValidationError) as info:
        SANITIZERS[name](value)
    assert info.value.field == name
    assert "None" in info.value.message or type(value).__name__ in info.value.message
    assert isinstance(info.value, BookingCoreError)


@pytest.mark.parametrize("name", sorted(SANITIZERS))
def test_custom_field_name_is_reported(name: str) -> None:
    """Every sanitizer given field= reports that name as the error's field and at the start of its
    message."""
    with pytest.raises(ValidationError) as info:
        SANITIZERS[name](None, field="customer.x")
    assert info.value.field == "customer.x"
    assert str(info.value).startswith("customer.x: ")


def test_slugify_rejects_non_str() -> None:
    """slugify refuses bytes with a ValidationError saying the value must be a string."""
    with pytest.raises(ValidationError, match="must be a string"):
        sanitize.slugify(b"Cafe")


def test_str_subclass_comes_back_as_plain_str() -> None:
    """A str subclass is accepted and the result is an exact str."""

    class Name(str):
        __slots__ = ()

    result = sanitize.sanitize_plain_text(Name("Ann"))
    assert result == "Ann"
    assert type(result) is str
