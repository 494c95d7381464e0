"""Plain text: what a name, a title or a note should be before it is stored."""

from __future__ import annotations

import re

from booking_core.errors import ValidationError
from booking_core.sanitize._common import INVISIBLE, normalize, require_str

__all__ = ["sanitize_plain_text"]

# Anything the HTML tokenizer would turn into markup: comments (to their end, or to the end of the
# input as a browser does), and start/end tags, declarations and processing instructions, i.e. a
# "<" followed by a letter, "/", "!" or "?". An unterminated tag runs to the end of the input,
# again as in a browser. Both alternatives are linear: no nested quantifiers. A tag's name (ASCII,
# as HTML reads it) and its closing slash are captured.
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)|<(?=[A-Za-z/!?])(?P<slash>/)?(?P<name>[A-Za-z][A-Za-z0-9]*)?[^>]*(?:>|\Z)",
    re.DOTALL,
)
_WORD_CHAR = re.compile(r"\w")
_RAW_TEXT_CLOSE = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
}
# A "<" that would start a tag once the text is read as HTML; only possible after stripping joined
# two fragments ("<<b>b>" -> "<b>"). Dropping the "<" run keeps it inert without escaping. The
# lookbehind makes only the first "<" of a run try: without it every "<" of "<" * n scans the rest
# of the run, which is quadratic (20,000 characters took 5 s).
_TAG_START = re.compile(r"(?<!<)<+(?=[A-Za-z/!?])")
# Tags that end a line of text when rendered: replacing them by a break (or a space) keeps
# "<p>Hello</p><p>World</p>" from becoming "HelloWorld". Inline tags vanish without a trace, so
# "<b>O</b>'Brien" stays "O'Brien".
_BREAKING_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)
# C0/C1 controls and DEL except the whitespace we normalise below, plus lone surrogates (they
# cannot be encoded as UTF-8 and would fail later, far from the input).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NEWLINES = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_HSPACE = re.compile(r"[^\S\n]+")
_ANY_SPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Input longer than max_length * _SLACK_FACTOR + _SLACK characters is refused before any work:
# markup, spacing and controls never account for that much, and a bound keeps one form field
# from costing more than a fixed amount of CPU.
_SLACK_FACTOR = 16
_SLACK = 4096


def _raw_text_opened(tag: re.Match[str]) -> str | None:
    """``"script"`` or ``"style"`` if ``tag`` opens one (``<script>``, ``<STYLE/>``), else None.

    The name must end there (``<scripts>`` and ``<script_x>`` are other elements), and only ASCII
    letters count, as in HTML: a case-insensitive regex would also read ``<scr\u0131pt>`` (dotless
    i) as ``<script>``.
    """
    name = tag["name"]
    if tag["slash"] is not None or name is None or name.lower() not in _RAW_TEXT_CLOSE:
        return None
    if _WORD_CHAR.match(tag.string, tag.end("name")):
        return None
    return name.lower()


def _strip_markup(text: str, line_break: str) -> str:
    """Remove tags and comments, and the contents of ``<script>``/``<style>`` elements.

    Script and style bodies are code, not prose, so keeping them would turn an attack into
    visible garbage. An unclosed ``<script>`` only loses its tag: the rest may be the user's text.
    """
    parts: list[str] = []
    pos = 0
    # Once a closing tag was not found after some offset it is not found after any later one;
    # remembering that keeps "<script>" * n linear instead of quadratic.
    unclosed: set[str] = set()
    for match in _MARKUP.finditer(text):
        start, pos_after = match.span()
        if start < pos:
            continue
        parts.append(text[pos:start])
        pos = pos_after
        name = _raw_text_opened(match)
        if name is None:
            if match["name"] is not None and match["name"].lower() in _BREAKING_TAGS:
                parts.append(line_break)
        elif name not in unclosed:
            close = _RAW_TEXT_CLOSE[name].search(text, pos)
            if close is None:
                unclosed.add(name)
            else:
                pos = close.end()
    parts.append(text[pos:])
    return _TAG_START.sub("", "".join(parts))


def _check_input_length(text: str, max_length: int, field: str) -> None:
    """Refuse a negative bound (a bug), and input far longer than any valid value could be."""
    if max_length < 0:
        raise ValueError(f"max_length must be >= 0, got {max_length}")
    limit = max_length * _SLACK_FACTOR + _SLACK
    if len(text) > limit:
        raise ValidationError(
            field,
            f"must be at most {max_length} characters, got {len(text)} before sanitizing"
            f" (input over {limit} is refused unread)",
        )


def sanitize_plain_text(
    value: object,
    *,
    max_length: int | None = None,
    multiline: bool = False,
    field: str = "text",
) -> str:
    """Return ``value`` as clean plain text: no markup, no control characters, tidy whitespace.

    The steps are: drop control, zero-width and bidi-override characters; remove HTML tags and
    comments (and the bodies of ``<script>``/``<style>``); normalise to NFC; collapse whitespace
    runs to one space (with ``multiline=True`` newlines survive, at most one blank line in a row);
    trim. The result, read as HTML, contains no element, and sanitizing it again changes nothing.

    It does **not** HTML-escape and does not decode entities: ``"O'Brien & Sons <b>x</b>"``
    becomes ``"O'Brien & Sons x"``, and ``"&lt;"`` stays the four characters it was. Escaping is
    the output layer's job (templates, JSON encoders), because only it knows the context.

    An input that sanitizes to nothing returns ``""``: whether a field may be empty is the
    caller's rule, not the sanitizer's.

    Args:
        value: the text; anything but a ``str`` is rejected.
        max_length: the most characters the *result* may have (``None``: unbounded). Input
            longer than ``16 * max_length + 4096`` is refused before it is sanitized, whatever
            it would have cleaned to: no real text carries that much markup or spacing.
        multiline: keep line breaks (normalised to ``"\\n"``) instead of turning them into spaces.
        field: the name reported in the ``ValidationError``.

    Raises:
        ValidationError: ``value`` is not a ``str``, or the result exceeds ``max_length`` (or
            the input exceeds the bound above).
    """
    text = require_str(value, field)
    if max_length is not None:
        _check_input_length(text, max_length, field)
    text = _NEWLINES.sub("\n", text)
    text = INVISIBLE.sub("", _CONTROL.sub("", text))
    text = _strip_markup(text, "\n" if multiline else " ")
    # NFC can create a tag start: the Kelvin sign U+212A normalizes to "K", so "<\u212a" becomes
    # "<K". Dropping such a "<" once more afterwards keeps the no-element guarantee.
    text = _TAG_START.sub("", normalize("NFC", text))
    if multiline:
        lines = (line.strip() for line in _HSPACE.sub(" ", text).split("\n"))
        text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    else:
        text = _ANY_SPACE.sub(" ", text).strip()
    if max_length is not None and len(text) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters, got {len(text)}")
    return text
