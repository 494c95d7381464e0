"""Plain text: what a name, a title or a note should be before it is stored."""

from __future__ import annotations

import re
import unicodedata

from booking_core.errors import ValidationError
from booking_core.sanitize._common import INVISIBLE, require_str

__all__ = ["sanitize_plain_text"]

# Anything the HTML tokenizer would turn into markup: comments (to their end, or to the end of the
# input as a browser does), and start/end tags, declarations and processing instructions, i.e. a
# "<" followed by a letter, "/", "!" or "?". An unterminated tag runs to the end of the input,
# again as in a browser. Both alternatives are linear: no nested quantifiers.
_MARKUP = re.compile(r"<!--.*?(?:-->|\Z)|<[A-Za-z/!?][^>]*(?:>|\Z)", re.DOTALL)
_RAW_TEXT_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_RAW_TEXT_CLOSE = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
}
# A "<" that would start a tag once the text is read as HTML; only possible after stripping joined
# two fragments ("<<b>b>" -> "<b>"). Dropping the "<" run keeps it inert without escaping.
_TAG_START = re.compile(r"<+(?=[A-Za-z/!?])")
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")
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
        if match.start() < pos:
            continue
        parts.append(text[pos : match.start()])
        pos = match.end()
        name_match = _TAG_NAME.match(match.group())
        if name_match is not None and name_match.group(1).lower() in _BREAKING_TAGS:
            parts.append(line_break)
        opener = _RAW_TEXT_OPEN.match(match.group())
        if opener is not None and not match.group().startswith("</"):
            name = opener.group(1).lower()
            if name not in unclosed:
                close = _RAW_TEXT_CLOSE[name].search(text, pos)
                if close is None:
                    unclosed.add(name)
                else:
                    pos = close.end()
    parts.append(text[pos:])
    return _TAG_START.sub("", "".join(parts))


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
        max_length: the most characters the *result* may have (``None``: unbounded).
        multiline: keep line breaks (normalised to ``"\\n"``) instead of turning them into spaces.
        field: the name reported in the ``ValidationError``.

    Raises:
        ValidationError: ``value`` is not a ``str``, or the result exceeds ``max_length``.
    """
    text = require_str(value, field)
    if max_length is not None and max_length < 0:
        raise ValueError(f"max_length must be >= 0, got {max_length}")
    text = _NEWLINES.sub("\n", text)
    text = INVISIBLE.sub("", _CONTROL.sub("", text))
    text = _strip_markup(text, "\n" if multiline else " ")
    # NFC can create a tag start: the Kelvin sign U+212A normalizes to "K", so "<\u212a" becomes
    # "<K". Dropping such a "<" once more afterwards keeps the no-element guarantee.
    text = _TAG_START.sub("", unicodedata.normalize("NFC", text))
    if multiline:
        lines = (line.strip() for line in _HSPACE.sub(" ", text).split("\n"))
        text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    else:
        text = _ANY_SPACE.sub(" ", text).strip()
    if max_length is not None and len(text) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters, got {len(text)}")
    return text
