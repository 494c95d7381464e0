"""Whole request bodies: apply a sanitizer per field, recursively, within fixed bounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, Protocol, TypeAlias, get_args

from booking_core.errors import ValidationError
from booking_core.sanitize._email import sanitize_email
from booking_core.sanitize._html import sanitize_html
from booking_core.sanitize._phone import sanitize_phone
from booking_core.sanitize._slug import sanitize_slug
from booking_core.sanitize._text import sanitize_plain_text
from booking_core.sanitize._url import sanitize_url

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_MAX_TOTAL_CHARS",
    "FieldSanitizer",
    "Rule",
    "sanitize_object",
]

Rule: TypeAlias = Literal["html", "text", "email", "url", "phone", "slug", "passthrough"]
"""How :func:`sanitize_object` treats a field; ``"passthrough"`` copies the value untouched."""

RULES: Final = frozenset(get_args(Rule))

DEFAULT_MAX_DEPTH: Final = 32
DEFAULT_MAX_ITEMS: Final = 10_000
DEFAULT_MAX_TOTAL_CHARS: Final = 1_000_000
# Each nesting level costs two Python frames; this keeps far below the interpreter's limit, so a
# hostile body ends in a ValidationError and never in a RecursionError.
_DEPTH_CEILING: Final = 100


class FieldSanitizer(Protocol):
    """A custom rule: any callable shaped like the sanitizers, e.g.
    ``functools.partial(sanitize_phone, default_region="GB")``."""

    def __call__(self, value: Any, /, *, field: str) -> str: ...


_BUILTIN: Final[Mapping[str, FieldSanitizer]] = {
    "html": sanitize_html,
    "text": sanitize_plain_text,
    "email": sanitize_email,
    "url": sanitize_url,
    "phone": sanitize_phone,
    "slug": sanitize_slug,
}
_SCALARS: Final = (bool, int, float)


def _field(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path) if path else "data"


class _Walk:
    """One traversal: the rules, the limits, and the running totals they are checked against."""

    __slots__ = ("chars", "dotted", "items", "max_depth", "max_items", "max_total_chars", "rules")

    def __init__(
        self,
        rules: Mapping[str, Rule | FieldSanitizer],
        max_depth: int,
        max_items: int,
        max_total_chars: int,
    ) -> None:
        self.rules = rules
        self.dotted = any("." in name for name in rules)
        self.max_depth = max_depth
        self.max_items = max_items
        self.max_total_chars = max_total_chars
        self.items = 0
        self.chars = 0

    def rule_for(
        self, path: list[str | int], inherited: Rule | FieldSanitizer | None
    ) -> Rule | FieldSanitizer | None:
        """The rule for ``path``: by pattern (``items.*.name``), by key name, else inherited."""
        if self.dotted:
            pattern = ".".join("*" if isinstance(p, int) else p for p in path)
            if pattern in self.rules:
                return self.rules[pattern]
        key = path[-1]
        if isinstance(key, str) and key in self.rules:
            return self.rules[key]
        return inherited

    def count_chars(self, text: str, path: list[str | int]) -> None:
        self.chars += len(text)
        if self.chars > self.max_total_chars:
            raise ValidationError(
                _field(path), f"request exceeds {self.max_total_chars} characters in total"
            )

    def count_items(self, n: int, path: list[str | int]) -> None:
        self.items += n
        if self.items > self.max_items:
            raise ValidationError(_field(path), f"request exceeds {self.max_items} items in total")

    def walk(
        self, value: Any, path: list[str | int], rule: Rule | FieldSanitizer | None, depth: int
    ) -> Any:
        if isinstance(value, str):
            self.count_chars(value, path)
            if rule == "passthrough":
                return value
            if rule is None:
                rule = "text"
            sanitize = _BUILTIN[rule] if isinstance(rule, str) else rule
            return sanitize(value, field=_field(path))
        if value is None:
            return None
        if isinstance(value, _SCALARS):
            if rule is None or rule == "passthrough":
                return value
            raise ValidationError(_field(path), f"must be a string, not {type(value).__name__}")
        if isinstance(value, Mapping | list | tuple):
            if depth >= self.max_depth:
                raise ValidationError(_field(path), f"is nested deeper than {self.max_depth}")
            self.count_items(len(value), path)
            if isinstance(value, Mapping):
                return self.walk_mapping(value, path, rule, depth + 1)
            return self.walk_sequence(value, path, rule, depth + 1)
        raise ValidationError(_field(path), f"has an unsupported type: {type(value).__name__}")

    def walk_mapping(
        self,
        value: Mapping[Any, Any],
        path: list[str | int],
        rule: Rule | FieldSanitizer | None,
        depth: int,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, child in value.items():
            if not isinstance(key, str):
                raise ValidationError(_field(path), f"has a non-string key: {key!r:.40}")
            self.count_chars(key, path)
            path.append(key)
            child_rule = "passthrough" if rule == "passthrough" else self.rule_for(path, rule)
            result[key] = self.walk(child, path, child_rule, depth)
            path.pop()
        return result

    def walk_sequence(
        self,
        value: Sequence[Any],
        path: list[str | int],
        rule: Rule | FieldSanitizer | None,
        depth: int,
    ) -> list[Any]:
        result: list[Any] = []
        for index, child in enumerate(value):
            path.append(index)
            child_rule = "passthrough" if rule == "passthrough" else self.rule_for(path, rule)
            result.append(self.walk(child, path, child_rule, depth))
            path.pop()
        return result


def sanitize_object(
    data: Any,
    rules: Mapping[str, Rule | FieldSanitizer],
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_total_chars: int = DEFAULT_MAX_TOTAL_CHARS,
) -> Any:
    """Return a sanitized copy of a JSON-shaped value (dicts, lists, strings, numbers, None).

    Each string is passed through the sanitizer its rule names. A value's rule is found by its
    dotted path pattern, with ``*`` for list positions (``"items.*.name"``), else by its own key
    (``"email"``, at any depth), else inherited from the dict or list that holds it, so
    ``{"tags": "slug"}`` covers every element of ``tags``. A rule may also be a callable taking
    ``(value, *, field)``, e.g. ``functools.partial(sanitize_plain_text, multiline=True)``.

    Fields without a rule are not trusted: their strings become single-line plain text, and
    numbers, booleans and ``None`` are kept. ``"passthrough"`` copies a whole subtree untouched
    (still within the bounds). ``None`` is kept under every rule: JSON ``null`` means "no value",
    and whether a field is required is the schema's business. A number or boolean under a string
    rule is an error, as every sanitizer accepts only ``str``. Keys must be strings and are kept
    as they are; validate the shape of the body (which keys exist) separately.

    The input is never modified: dicts (any ``Mapping``) come back as new ``dict``\\ s, lists and
    tuples as new ``list``\\ s. Errors name the offending field by its dotted path
    (``"customer.email"``, ``"items.2.name"``; ``"data"`` for the root itself).

    Args:
        data: the decoded body.
        rules: field name or path pattern -> :data:`Rule` or :class:`FieldSanitizer`.
        max_depth: containers may nest this deep (at most 100); deeper raises, cycles included.
        max_items: total number of dict entries and list elements allowed.
        max_total_chars: total length of all strings, keys included.

    Raises:
        ValidationError: a field fails its sanitizer, or a bound is exceeded.
        ValueError: an unknown rule name or a bound outside its range (programming errors).
    """
    for name, rule in rules.items():
        if not (rule in RULES or callable(rule)):
            raise ValueError(f"unknown sanitize rule for {name!r}: {rule!r}")
    if not 1 <= max_depth <= _DEPTH_CEILING:
        raise ValueError(f"max_depth must be between 1 and {_DEPTH_CEILING}, got {max_depth}")
    if max_items < 0 or max_total_chars < 0:
        raise ValueError("max_items and max_total_chars must be >= 0")
    walk = _Walk(rules, max_depth, max_items, max_total_chars)
    return walk.walk(data, [], None, 0)
