"""A griffe extension for the docs site: Sphinx roles in docstrings become API links.

booking_core's docstrings are Google style (``Args:``, ``Raises:``), but their prose names other
objects the Sphinx way, as in :class:`~booking_core.ports.cache.CachePort` or :meth:`hold`.
mkdocstrings would print those roles as they are; this turns each into an optional
cross-reference to the named object (shown as code, the last component only for a ``~`` name),
resolved in the scope of the documented object. A name the site does not render (a builtin,
SQLAlchemy, a private helper) stays plain code: optional references never warn, so
``mkdocs build --strict`` keeps failing only on real problems. It also turns reST's ``::``
before a literal block into ``:``. Loaded from mkdocs.yml (``extensions:``); nothing imports it.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|exc|data|mod|obj|const):`(?P<target>[^`]+)`")
LITERAL_BLOCK = re.compile(r"(?<=\S)::$", re.MULTILINE)


def _full_path(obj: griffe.Object | griffe.Alias, target: str) -> str:
    """The dotted path ``target`` names as seen from ``obj``, or ``target`` itself."""
    if target.startswith("booking_core."):
        return target
    first, _, rest = target.partition(".")
    try:
        resolved = obj.resolve(first)
    except (griffe.NameResolutionError, AttributeError):
        return target
    return f"{resolved}.{rest}" if rest else resolved


def _rewrite(obj: griffe.Object | griffe.Alias, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        target = match["target"].strip()
        shown = target.removeprefix("~")
        if target.startswith("~"):
            shown = shown.rsplit(".", 1)[-1]
        path = _full_path(obj, target.removeprefix("~"))
        return f'<autoref identifier="{path}" optional><code>{shown}</code></autoref>'

    return LITERAL_BLOCK.sub(":", ROLE.sub(link, text))


class SphinxRoles(griffe.Extension):
    """Rewrite the docstrings of every object of a loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Walk the package once it is fully loaded, when names can be resolved."""
        del kwargs
        seen: set[int] = set()
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = _rewrite(obj, obj.docstring.value)
            stack.extend(member for member in obj.members.values() if not member.is_alias)
