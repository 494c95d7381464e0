"""Regression guard: every sanitizer stays linear on adversarial input (issue 11, defect 1).

Each case sends about 1 MB of one hostile pattern ("<" * n, "&" * n, nested tags, runs of
combining marks, ...) through one sanitizer and checks both the answer (the output, or the typed
error) and that it took under 2 s of CPU. The bound is generous on purpose: linear code needs well
under a second, while the quadratic code this guards against needed minutes (``"<" * 20_000``
took 5 s). CPU time of this process is measured, not wall time, so other work on a shared CI
machine does not make the guard flaky. ``benchmarks/bench_sanitize_linear.py`` measures the
actual slopes.

``BOOKING_CORE_LONG=1`` multiplies the sizes and the bound by ten, which a quadratic cost could
not meet.
"""

from __future__ import annotations

import functools
import os
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.errors import ValidationError
from booking_core.sanitize import (
    MAX_HTML_LENGTH,
    MAX_HTML_TAGS,
    sanitize_email,
    sanitize_html,
    sanitize_object,
    sanitize_phone,
    sanitize_plain_text,
    sanitize_slug,
    sanitize_url,
    slugify,
)
from booking_core.sanitize._common import NormalForm, normalize

LONG = os.environ.get("BOOKING_CORE_LONG", "") == "1"
SCALE = 10 if LONG else 1
N = 1_000_000 * SCALE
CPU_SECONDS = 2.0 * SCALE


def rep(unit: str, n: int = N) -> str:
    """``unit`` repeated to (at most) ``n`` characters."""
    return unit * (n // len(unit))


def within_bound(call: Callable[[], Any]) -> Any:
    """Run ``call``, assert it used less than the CPU bound, and return its result or error."""
    start = time.process_time()
    try:
        outcome: Any = call()
    except ValidationError as exc:
        outcome = exc
    spent = time.process_time() - start
    assert spent < CPU_SECONDS, f"took {spent:.2f} s of CPU (bound {CPU_SECONDS} s)"
    return outcome


text = sanitize_plain_text
lines = functools.partial(sanitize_plain_text, multiline=True)
K = N // 2  # pairs in a run of two-character units


def mixed_marks(k: int) -> tuple[str, str]:
    """Marks of classes 230 and 220 alternating after an "a", and their NFC.

    Canonical order puts the 220s first; the first 230 then composes with the "a", as nothing
    of class 230 or more stands between them.
    """
    return "a" + "\u0301\u0316" * k, "\u00e1" + "\u0316" * k + "\u0301" * (k - 1)


def tibetan_marks(k: int) -> tuple[str, str]:
    """U+0F73 (a starter that decomposes to marks of classes 129 and 130) and U+0301, and NFC.

    U+0F73 is excluded from composition, so its marks stay apart after sorting.
    """
    return "a" + "\u0f73\u0301" * k, "\u00e1" + "\u0f71" * k + "\u0f72" * k + "\u0301" * (k - 1)


# (sanitizer, input, expected output), inputs built lazily: each is about a megabyte.
OUTPUTS: dict[str, tuple[Callable[..., Any], Callable[[], Any], Callable[[], Any]]] = {
    "text <*n": (text, lambda: rep("<"), lambda: rep("<")),
    "text <a*n": (text, lambda: rep("<a"), lambda: ""),  # one unterminated tag to the end
    "text <a>*n": (text, lambda: rep("<a>"), lambda: ""),
    "text nested <div>": (text, lambda: rep("<div>"), lambda: ""),
    "text nested <b><i>": (text, lambda: rep("<b><i>"), lambda: ""),
    "text unclosed <script>": (text, lambda: rep("<script>"), lambda: ""),
    "text <!--*n": (text, lambda: rep("<!--"), lambda: ""),
    "text &*n": (text, lambda: rep("&"), lambda: rep("&")),
    "text javascript:*n": (text, lambda: rep("javascript:"), lambda: rep("javascript:")),
    "text zero-width": (text, lambda: rep("\u200b"), lambda: ""),
    "text NUL": (text, lambda: rep("\x00"), lambda: ""),
    "text spaces": (text, lambda: rep(" ") + "x", lambda: "x"),
    "text <Kelvin": (text, lambda: rep("<\u212a"), lambda: "K" * K),
    "text mixed marks": (text, lambda: mixed_marks(K)[0], lambda: mixed_marks(K)[1]),
    "text Tibetan marks": (text, lambda: tibetan_marks(K)[0], lambda: tibetan_marks(K)[1]),
    "multiline newlines": (lines, lambda: rep("\n"), lambda: ""),
    "multiline a\\n*n": (lines, lambda: rep("a\n"), lambda: "\n".join(["a"] * K)),
    "multiline <p>": (lines, lambda: rep("<p>x"), lambda: "\n".join(["x"] * (N // 4))),
    "html & at the length cap": (
        sanitize_html,
        lambda: rep("&", MAX_HTML_LENGTH),
        lambda: "&amp;" * MAX_HTML_LENGTH,
    ),
    "html nested <div> at the tag cap": (
        sanitize_html,
        lambda: "<div>" * MAX_HTML_TAGS,
        lambda: "",
    ),
    "html nested <b> at the tag cap": (
        sanitize_html,
        lambda: "<b>" * MAX_HTML_TAGS,
        lambda: "<b>" * MAX_HTML_TAGS + "</b>" * MAX_HTML_TAGS,
    ),
    "html <ul><li> at the tag cap": (
        sanitize_html,
        lambda: "<ul><li>" * (MAX_HTML_TAGS // 2),
        lambda: "<ul><li>" * (MAX_HTML_TAGS // 2) + "</li></ul>" * (MAX_HTML_TAGS // 2),
    ),
    "html many attributes": (
        sanitize_html,
        lambda: "<b " + " ".join(f"a{i}" for i in range(MAX_HTML_LENGTH // 8)) + ">x</b>",
        lambda: "<b>x</b>",
    ),
    "slug surrounded by spaces": (
        sanitize_slug,
        lambda: rep(" ") + "abc" + rep(" "),
        lambda: "abc",
    ),
    "slugify a*n": (slugify, lambda: rep("a"), lambda: "a" * 64),
    "slugify marks": (slugify, lambda: "a" + "\u0301\u0316" * K, lambda: "a"),
    "slugify sharp s": (slugify, lambda: rep("\u00df"), lambda: "ss" * 32),
    "object text <*n": (
        lambda data: sanitize_object(data, {}, max_total_chars=N),
        lambda: {"n": rep("<", N - 1)},
        lambda: {"n": rep("<", N - 1)},
    ),
}

# (sanitizer, input, field, a fragment of the message)
ERRORS: dict[str, tuple[Callable[..., Any], Callable[[], Any], str, str]] = {
    "text max_length <*n": (
        functools.partial(text, max_length=200, field="name"),
        lambda: rep("<"),
        "name",
        "before sanitizing",
    ),
    "text max_length <b>*n": (
        functools.partial(lines, max_length=5000, field="notes"),
        lambda: rep("<b>"),
        "notes",
        "before sanitizing",
    ),
    "html &*n": (sanitize_html, lambda: rep("&"), "html", f"longer than {MAX_HTML_LENGTH}"),
    "html <div>*n": (sanitize_html, lambda: rep("<div>"), "html", f"longer than {MAX_HTML_LENGTH}"),
    "html too many tags": (
        sanitize_html,
        lambda: "<b>" * (MAX_HTML_TAGS + 1),
        "html",
        f"more than {MAX_HTML_TAGS} tags",
    ),
    "url javascript:*n": (sanitize_url, lambda: rep("javascript:"), "url", "longer than 2048"),
    "url %*n": (sanitize_url, lambda: "https://a.example/" + rep("%"), "url", "longer than 2048"),
    "email a*n": (sanitize_email, lambda: rep("a") + "@example.com", "email", "too long"),
    "email @*n": (sanitize_email, lambda: rep("@"), "email", "too long"),
    "email marks": (sanitize_email, lambda: "a" + "\u0301\u0316" * K, "email", "too long"),
    "phone 1*n": (sanitize_phone, lambda: rep("1"), "phone", "not a phone number"),
    "phone +1*n": (sanitize_phone, lambda: rep("+1"), "phone", "not a phone number"),
    "slug a-*n": (sanitize_slug, lambda: rep("a-"), "slug", "at most 64"),
    "slug marks": (sanitize_slug, lambda: "a" + rep("\u0301"), "slug", "a-z, 0-9"),
    "slugify <*n": (slugify, lambda: rep("<"), "slug", "no letters or digits"),
    "slugify marks only": (slugify, lambda: rep("\u0301\u0316"), "slug", "no letters or digits"),
    "object html &*n": (
        lambda data: sanitize_object(data, {"n": "html"}),
        lambda: {"n": rep("&", N - 1)},
        "n",
        f"longer than {MAX_HTML_LENGTH}",
    ),
    "object over its total": (
        lambda data: sanitize_object(data, {}),
        lambda: {"n": rep("<", N + 1)},
        "n",
        "exceeds",
    ),
}


@pytest.mark.parametrize("case", list(OUTPUTS))
def test_adversarial_input_is_sanitized_in_linear_time(case: str) -> None:
    """A megabyte of each pattern gives the right output, well within the CPU bound."""
    sanitize, make_input, make_expected = OUTPUTS[case]
    value = make_input()
    assert within_bound(lambda: sanitize(value)) == make_expected()


@pytest.mark.parametrize("case", list(ERRORS))
def test_adversarial_input_is_refused_in_linear_time(case: str) -> None:
    """A megabyte that cannot be valid gets a ValidationError naming the field, quickly."""
    sanitize, make_input, field, fragment = ERRORS[case]
    value = make_input()
    outcome = within_bound(lambda: sanitize(value))
    assert isinstance(outcome, ValidationError), f"expected a ValidationError, got {outcome!r}"
    assert outcome.field == field
    assert fragment in outcome.message


def test_plain_text_input_bound_leaves_valid_input_alone() -> None:
    """Only input far beyond max_length is refused unread; markup-heavy valid text still passes."""
    markup = "<span class='x'>" * 150 + "Ann" + "</span>" * 150  # 3,453 characters for 3
    assert sanitize_plain_text(markup, max_length=3) == "Ann"
    limit = 16 * 3 + 4096
    assert sanitize_plain_text(" " * (limit - 3) + "Ann", max_length=3) == "Ann"
    with pytest.raises(ValidationError, match="before sanitizing"):
        sanitize_plain_text(" " * (limit - 2) + "Ann", max_length=3)


def test_email_input_bound_leaves_the_longest_address_alone() -> None:
    """A 254-character address is still valid; the early refusal starts far beyond it."""
    address = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 57]) + ".com"
    assert len(address) == 254
    assert sanitize_email(address) == address
    with pytest.raises(ValidationError, match="too long") as info:
        sanitize_email("a" * 300 + "@example.com")
    assert "too long to be an email address" not in info.value.message  # email-validator's own


@pytest.mark.parametrize("shape", [mixed_marks, tibetan_marks])
def test_expected_marks_outputs_agree_with_unicodedata(
    shape: Callable[[int], tuple[str, str]],
) -> None:
    """The expected outputs above are what unicodedata itself gives on a short run."""
    raw, expected = shape(40)
    assert unicodedata.normalize("NFC", raw) == expected
    assert sanitize_plain_text(raw) == expected


_STARTERS = "ae\u00e9\u1f82\u03b1\u1100\u1161\uac00K\u212a\u0bc6\u30ab\uff76\u0f40<\n \ufb03"
_MARKS = (
    "\u0300\u0301\u0316\u0327\u0345\u0344\u0340\u05b0\u05c4\u0670\u0e38\u0f71\u0f72\u0f73"
    "\u0f75\u0f80\u0f81\u0bbe\u3099\u309a\uff9e\uff9f\U0001d165\U0001d16d\U000110ba\U0001109a"
)
mark_runs = st.text(alphabet=_MARKS, min_size=31, max_size=90)
texts_with_long_runs = st.lists(
    st.tuples(st.text(alphabet=_STARTERS, max_size=3), mark_runs), min_size=1, max_size=4
).map(lambda parts: "".join(starter + marks for starter, marks in parts))


@settings(max_examples=500 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_with_long_runs, st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
def test_linear_normalize_equals_unicodedata(text: str, form: NormalForm) -> None:
    """The fast path for long runs of marks gives exactly what unicodedata gives."""
    assert normalize(form, text) == unicodedata.normalize(form, text)
