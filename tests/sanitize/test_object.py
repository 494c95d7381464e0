"""sanitize_object: rules by path and key, inheritance, bounds, no mutation, dotted error paths."""

from __future__ import annotations

import copy
import functools
from types import MappingProxyType
from typing import Any

import pytest

from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_object, sanitize_phone, sanitize_plain_text

RULES: dict[str, Any] = {
    "name": "text",
    "email": "email",
    "phone": functools.partial(sanitize_phone, default_region="GB"),
    "notes": "html",
    "website": "url",
    "package": "slug",
    "items.*.name": "text",
    "meta": "passthrough",
}


def booking_body() -> dict[str, Any]:
    return {
        "customer": {
            "name": "  O'Brien & <b>Sons</b> ",
            "email": "Ann@Example.COM",
            "phone": "020 8366 1177",
        },
        "package": "Wedding-Deluxe",
        "notes": "<p>Hi<script>alert(1)</script></p>",
        "website": "https://example.com",
        "items": [{"name": "<i>Cake</i>", "qty": 2}, {"name": "DJ", "qty": 1, "price": 12.5}],
        "guests": 120,
        "confirmed": True,
        "coupon": None,
        "unknown": "<img src=x onerror=alert(1)>hello\nthere",
        "meta": {"raw": "<b>kept</b>", "list": [1, "<x>"]},
    }


def test_sanitizes_a_booking_body() -> None:
    """Each rule is applied by key or path; unknown strings become single-line plain text."""
    assert sanitize_object(booking_body(), RULES) == {
        "customer": {
            "name": "O'Brien & Sons",
            "email": "Ann@example.com",
            "phone": "+442083661177",
        },
        "package": "wedding-deluxe",
        "notes": "<p>Hi</p>",
        "website": "https://example.com",
        "items": [{"name": "Cake", "qty": 2}, {"name": "DJ", "qty": 1, "price": 12.5}],
        "guests": 120,
        "confirmed": True,
        "coupon": None,
        "unknown": "hello there",
        "meta": {"raw": "<b>kept</b>", "list": [1, "<x>"]},
    }


def test_input_is_not_mutated_and_output_shares_nothing() -> None:
    """The input stays as it was, and the result holds new containers."""
    body = booking_body()
    before = copy.deepcopy(body)
    result = sanitize_object(body, RULES)
    assert body == before
    assert result["meta"] is not body["meta"]
    assert result["meta"]["list"] is not body["meta"]["list"]
    assert result["items"][0] is not body["items"][0]


def test_list_items_inherit_the_rule_of_their_field() -> None:
    """{"tags": "slug"} covers every element; nested dicts inherit unless they have their own."""
    result = sanitize_object(
        {"tags": [" Summer ", "beach-party"], "notes": {"en": "<b>x</b><script>y</script>"}},
        {"tags": "slug", "notes": "html"},
    )
    assert result == {"tags": ["summer", "beach-party"], "notes": {"en": "<b>x</b>"}}


def test_tuples_and_mappings_become_lists_and_dicts() -> None:
    """Any Mapping and tuple is accepted and returned as dict/list."""
    result = sanitize_object(MappingProxyType({"a": ("<b>x</b>", 1)}), {})
    assert result == {"a": ["x", 1]}
    assert type(result) is dict


def test_custom_callable_rule() -> None:
    """A callable rule receives the dotted field path."""
    seen: list[str] = []

    def rule(value: Any, *, field: str) -> str:
        seen.append(field)
        return sanitize_plain_text(value, multiline=True, field=field)

    assert sanitize_object({"notes": ["a\nb"]}, {"notes": rule}) == {"notes": ["a\nb"]}
    assert seen == ["notes.0"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"customer": {"email": "nope"}}, "customer.email"),
        ({"items": [{"name": "ok"}, {"name": "ok"}, {"name": 5, "qty": 1}]}, "items.2.name"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"customer": {"phone": 7}}, "customer.phone"),
        ({"x": b"bytes"}, "x"),
        ({"x": {1, 2}}, "x"),
        ({1: "int key"}, "data"),
        (object(), "data"),
    ],
)
def test_errors_name_the_dotted_path(data: Any, field: str) -> None:
    """A failing value raises a ValidationError whose field is its dotted path."""
    rules: dict[str, Any] = {"email": "email", "name": "text", "website": "url", "phone": "phone"}
    with pytest.raises(ValidationError) as info:
        sanitize_object(data, rules)
    assert info.value.field == field


def test_string_rule_on_a_number_is_an_error_but_unknown_numbers_pass() -> None:
    """Numbers without a rule are kept; None is kept under any rule; a number is not an email."""
    assert sanitize_object({"qty": 3, "ratio": 0.5}, {}) == {"qty": 3, "ratio": 0.5}
    assert sanitize_object({"email": None}, {"email": "email"}) == {"email": None}
    with pytest.raises(ValidationError, match="must be a string"):
        sanitize_object({"email": 3}, {"email": "email"})


def test_depth_bound_and_cycles() -> None:
    """Too deep, or cyclic, data raises ValidationError, never RecursionError."""
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    with pytest.raises(ValidationError, match="deeper than 32"):
        sanitize_object(deep, {})
    assert sanitize_object(deep, {}, max_depth=40) is not deep
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValidationError) as info:
        sanitize_object(cyclic, {})
    assert info.value.field.startswith("self.self.self")


def test_item_and_character_bounds() -> None:
    """Total elements and total characters (keys included) are bounded."""
    with pytest.raises(ValidationError, match="10 items"):
        sanitize_object(list(range(11)), {}, max_items=10)
    assert sanitize_object(list(range(10)), {}, max_items=10) == list(range(10))
    with pytest.raises(ValidationError, match="5 characters"):
        sanitize_object({"abc": "def"}, {}, max_total_chars=5)
    assert sanitize_object({"ab": "cde"}, {}, max_total_chars=5) == {"ab": "cde"}


def test_passthrough_subtree_is_still_bounded() -> None:
    """A subtree marked passthrough is not sanitized but still counts towards max_items: 100 items
    against a limit of 50 are refused."""
    with pytest.raises(ValidationError, match="items"):
        sanitize_object({"meta": list(range(100))}, {"meta": "passthrough"}, max_items=50)


def test_bad_configuration_is_a_programming_error() -> None:
    """Unknown rule names and out-of-range bounds raise ValueError."""
    with pytest.raises(ValueError, match="unknown sanitize rule"):
        sanitize_object({}, {"x": "markdown"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="max_depth"):
        sanitize_object({}, {}, max_depth=1000)
    with pytest.raises(ValueError, match="max_items"):
        sanitize_object({}, {}, max_items=-1)


def test_root_string_defaults_to_plain_text() -> None:
    """A bare string is sanitized as plain text; its field is "data"."""
    assert sanitize_object("<b>hi</b>", {}) == "hi"
