"""Test oracles shared by the sanitize tests: read sanitizer output back the way a browser would."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import html5lib

# Elements that run script, load documents/styles, or switch the parser into a foreign language.
EXECUTABLE_ELEMENTS = frozenset(
    [
        "applet",
        "base",
        "embed",
        "form",
        "frame",
        "frameset",
        "iframe",
        "img",
        "input",
        "link",
        "math",
        "meta",
        "noscript",
        "object",
        "portal",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
        "button",
        "video",
        "audio",
        "source",
    ]
)
URL_ATTRIBUTES = frozenset(
    [
        "href",
        "src",
        "action",
        "formaction",
        "xlink:href",
        "data",
        "poster",
        "background",
        "cite",
        "srcset",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "ping",
        "codebase",
        "archive",
        "classid",
        "usemap",
        "manifest",
        "icon",
    ]
)
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_IGNORED = re.compile("[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def scheme_of(url: str) -> str | None:
    """The scheme a lenient consumer would see, after dropping control and invisible characters."""
    match = _SCHEME.match(_IGNORED.sub("", url))
    return match.group(1).lower() if match else None


def executable_constructs(html: str) -> list[str]:
    """Every problem an HTML5 parser finds in ``html``: dangerous elements, handlers, bad URLs."""
    fragment = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    problems: list[str] = []
    for node in fragment.iter():
        if not isinstance(node.tag, str):  # the etree builder marks comments with a function
            problems.append("comment")
            continue
        local = node.tag.rsplit("}", 1)[-1].lower()
        if node.tag.startswith("{") or local in EXECUTABLE_ELEMENTS:
            problems.append(f"element <{node.tag}>")
        for name, value in node.attrib.items():
            lname = str(name).rsplit("}", 1)[-1].lower()
            if lname.startswith("on"):
                problems.append(f"handler {lname}")
            if lname == "style":
                problems.append("style attribute")
            if lname in URL_ATTRIBUTES:
                scheme = scheme_of(value)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    problems.append(f"{lname} with scheme {scheme}: {value!r}")
    return problems


def elements_in(text: str) -> list[str]:
    """Tag names of the elements an HTML5 parser builds from ``text`` (fragment root excluded)."""
    fragment = html5lib.parseFragment(text, treebuilder="etree", namespaceHTMLElements=False)
    return [str(node.tag) for node in fragment.iter() if node is not fragment]


@cache
def load_json(corpora: Path, name: str) -> Any:
    return json.loads((corpora / name).read_text(encoding="utf-8"))
