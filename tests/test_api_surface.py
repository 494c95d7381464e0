"""The public API surface, pinned: every public name with its signature, against a snapshot.

The surface is every name of ``booking_core.__all__`` and of every public module (a dotted name
without a part starting with ``_``): a module's ``__all__``, or, without one, the classes and
functions it defines and its UPPER_CASE constants. Classes show their bases and their public
methods (constructor included) with signatures; dataclasses, named tuples and typed dicts their
fields; enums their members. A name exported in several places is described once, where it is
defined (or its shortest public home), and the other places say ``alias of …``. The text is
sorted and free of memory addresses, so it reads the same on every run and (as far as
``inspect`` allows) on Python 3.11 to 3.13.

A difference from ``tests/api_surface.txt`` fails the test, printing the diff. After an intended
change, regenerate the snapshot from the repository root with::

    .venv/bin/python tests/test_api_surface.py --update

The regeneration refuses while a changed name (added, removed, or with another signature) is not
mentioned in the ``## [Unreleased]`` section of CHANGELOG.md: a change of the public API must be
in the changelog (with its "Migrate:" line when it breaks callers). The test reports those names
too. Skipped modules: ``booking_core.demo`` (a runnable tour, not a library API) and the
Alembic scripts ``booking_core.migrations.env`` (it runs on import) and
``booking_core.migrations.versions``.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import decimal
import difflib
import enum
import importlib
import inspect
import pkgutil
import re
import sys
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(__file__).with_name("api_surface.txt")
CHANGELOG = ROOT / "CHANGELOG.md"
COMMAND = ".venv/bin/python tests/test_api_surface.py --update"
PACKAGE = "booking_core"
SKIPPED = ("booking_core.demo", "booking_core.migrations.env", "booking_core.migrations.versions")
#: Between the name and its description on a line of the snapshot.
SEPARATOR = "  "

_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+")
_SIMPLE = (int, float, str, bytes, bool, decimal.Decimal, dt.timedelta, dt.date, uuid.UUID)


# --- which modules and names -----------------------------------------------------------------


def public_modules() -> list[ModuleType]:
    """``booking_core`` and its public submodules, imported, by name."""
    root = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(root.__path__, f"{PACKAGE}."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or info.name.startswith(SKIPPED):
            continue
        names.append(info.name)
    return [importlib.import_module(name) for name in sorted(names)]


def _defined_names(module: ModuleType) -> list[str]:
    """Without ``__all__``: the module's own public classes and functions, and constants."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.extend(t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper())
    return [n for n in names if not n.startswith("_")]


def exported(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    return sorted(set(names if names is not None else _defined_names(module)))


# --- rendering -------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return _ADDRESS.sub("", text)


def _annotation(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, typing.ForwardRef):  # a NamedTuple's field under future annotations
        return value.__forward_arg__
    return _clean(inspect.formatannotation(value))


def _value(value: object) -> str:
    """A default or constant: its repr when that is stable (containers item by item, sets and
    dicts sorted), a class or function by its path, anything else by its type's name."""
    if isinstance(value, enum.Enum):  # not repr(): its form changed across Python versions
        return f"{type(value).__name__}.{value.name}"
    if value is None or isinstance(value, (*_SIMPLE, re.Pattern)):
        return _clean(repr(value))
    if isinstance(value, tuple | list):
        items = ", ".join(_value(v) for v in value)
        comma = "," if isinstance(value, tuple) and len(value) == 1 else ""
        return f"({items}{comma})" if isinstance(value, tuple) else f"[{items}]"
    if isinstance(value, frozenset | set):  # iteration order varies between runs
        return f"{type(value).__name__}({{{', '.join(sorted(_value(v) for v in value))}}})"
    if isinstance(value, dict):
        items = sorted(f"{_value(k)}: {_value(v)}" for k, v in value.items())
        return f"{{{', '.join(items)}}}"
    if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
        return f"{value.__module__}.{value.__qualname__}"
    if type(value).__module__ in ("typing", "types"):  # an alias: Literal[...], X | Y
        return _clean(repr(value))
    return f"<{type(value).__name__}>"


def _fixture(raw: object) -> bool:
    """A pytest fixture (a wrapper object since pytest 8.4, a marked function before)."""
    return "Fixture" in type(raw).__name__ or hasattr(raw, "_pytestfixturefunction")


def signature(function: Callable[..., object]) -> str:
    try:
        sig = inspect.signature(function, eval_str=False)
    except (TypeError, ValueError):
        return "(...)"
    parts = []
    seen_star = False
    positional_only = [p.name for p in sig.parameters.values() if p.kind is p.POSITIONAL_ONLY]
    last_positional_only = positional_only[-1] if positional_only else None
    for p in sig.parameters.values():
        text = p.name
        if p.kind is p.VAR_POSITIONAL:
            text, seen_star = f"*{p.name}", True
        elif p.kind is p.VAR_KEYWORD:
            text = f"**{p.name}"
        elif p.kind is p.KEYWORD_ONLY and not seen_star:
            parts.append("*")
            seen_star = True
        if p.annotation is not p.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not p.empty:
            text += f" = {_value(p.default)}"
        parts.append(text)
        if p.kind is p.POSITIONAL_ONLY and p.name == last_positional_only:
            parts.append("/")
    returns = ""
    if sig.return_annotation is not sig.empty:
        returns = f" -> {_annotation(sig.return_annotation)}"
    return f"({', '.join(parts)}){returns}"


def _ours(cls: type) -> list[type]:
    """The classes of ``cls``'s MRO that belong to booking_core (their members are the API)."""
    return [c for c in cls.__mro__ if c.__module__.split(".")[0] == PACKAGE]


def _fields(cls: type) -> Iterator[tuple[str, str]]:
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            default = ""
            if f.default is not dataclasses.MISSING:
                default = f" = {_value(f.default)}"
            elif f.default_factory is not dataclasses.MISSING:
                default = f" = {_value(f.default_factory)}()"
            yield f.name, f"field {f.name}: {_annotation(f.type)}{default}"
    elif typing.is_typeddict(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields")):
        for name, kind in cls.__annotations__.items():
            yield name, f"field {name}: {_annotation(kind)}"


def _member(name: str, raw: object) -> str | None:
    if _fixture(raw):
        return f"fixture {name}"
    if isinstance(raw, staticmethod | classmethod):
        kind = type(raw).__name__
        return f"@{kind} def {name}{signature(raw.__func__)}"
    if isinstance(raw, property):
        returns = signature(raw.fget).rpartition(" -> ")[2] if raw.fget else "?"
        return f"property {name}: {returns}"
    if inspect.isfunction(raw):
        return f"def {name}{signature(raw)}"
    if type(raw).__name__ in ("member_descriptor", "getset_descriptor"):
        return None  # a slot of a field, described as a field
    return f"attribute {name} = {_value(raw)}"


def describe_class(qualname: str, cls: type) -> Iterator[tuple[str, str]]:
    bases = ", ".join(
        b.__name__ if b.__module__ == "builtins" else f"{b.__module__}.{b.__qualname__}"
        for b in cls.__bases__
    )
    kind = "class"
    if issubclass(cls, enum.Enum):
        kind = "enum"
    elif dataclasses.is_dataclass(cls):
        kind = "dataclass"
    elif getattr(cls, "_is_protocol", False):
        kind = "protocol"
    yield qualname, f"{kind} {cls.__name__}({bases})"
    if issubclass(cls, enum.Enum):
        for member in cls:
            yield f"{qualname}.{member.name}", f"member {member.name} = {_value(member.value)}"
        return
    fields = dict(_fields(cls))
    for name, text in fields.items():
        yield f"{qualname}.{name}", text
    members: dict[str, object] = {}
    for owner in reversed(_ours(cls)):  # a subclass's definition wins
        for name, raw in vars(owner).items():
            if name in ("__init__", "__call__") or not name.startswith("_"):
                members[name] = raw
    for name in sorted(members):
        if name in fields:
            continue
        if name == "__init__" and (dataclasses.is_dataclass(cls) or fields):
            continue  # generated from the fields
        text = _member(name, members[name])
        if text is not None:
            yield f"{qualname}.{name}", text


def describe(qualname: str, obj: object) -> Iterator[tuple[str, str]]:
    if inspect.ismodule(obj):
        yield qualname, f"module {obj.__name__}"
    elif _fixture(obj):
        yield qualname, f"fixture {qualname.rpartition('.')[2]}"
    elif inspect.isclass(obj):
        yield from describe_class(qualname, obj)
    elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
        yield qualname, f"def {qualname.rpartition('.')[2]}{signature(obj)}"
    elif isinstance(obj, typing.TypeVar):
        yield qualname, f"TypeVar {obj.__name__}"
    else:
        yield qualname, f"{type(obj).__name__} = {_value(obj)}"


def _home(module: str, obj: object) -> tuple[int, int, str]:
    """Sort key of an export: the defining module first, then the shortest public path."""
    defined = getattr(obj, "__module__", None) == module
    return (0 if defined else 1, module.count("."), module)


def surface() -> list[str]:
    """The rendered surface: one sorted line per name or member."""
    exports: list[tuple[str, str, object]] = []
    for module in public_modules():
        for name in exported(module):
            exports.append((module.__name__, name, getattr(module, name)))
    homes: dict[int, str] = {}
    for module_name, name, obj in sorted(exports, key=lambda e: _home(e[0], e[2])):
        if inspect.isclass(obj) or inspect.isfunction(obj):
            homes.setdefault(id(obj), f"{module_name}.{name}")
    lines = set()
    for module_name, name, obj in exports:
        qualname = f"{module_name}.{name}"
        home = homes.get(id(obj), qualname)
        if home != qualname:
            lines.add(f"{qualname}{SEPARATOR}alias of {home}")
            continue
        lines.update(f"{q}{SEPARATOR}{text}" for q, text in describe(qualname, obj))
    return sorted(lines)


# --- the changelog check ---------------------------------------------------------------------


def unreleased() -> str:
    """The text of CHANGELOG.md's ``## [Unreleased]`` section."""
    text = CHANGELOG.read_text(encoding="utf-8")
    start = text.find("## [Unreleased]")
    if start < 0:
        return ""
    end = text.find("\n## [", start + 1)
    return text[start : end if end >= 0 else len(text)]


def changed_names(old: Iterable[str], new: Iterable[str]) -> list[str]:
    """Qualified names whose lines differ (added, removed or changed)."""
    before = {line.partition(SEPARATOR)[0]: line for line in old}
    after = {line.partition(SEPARATOR)[0]: line for line in new}
    return sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))


def _mentioned(qualname: str, text: str) -> bool:
    """The changelog names the member, or the object owning it (``Booking`` for ``.version``)."""
    parts = qualname.split(".")
    candidates = {parts[-1], ".".join(parts[-2:])}
    if len(parts) >= 2 and parts[-2][:1].isupper():  # a member of a class: its class too
        candidates.add(parts[-2])
    return any(
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(c)}(?![A-Za-z0-9_])", text) for c in candidates
    )


def unmentioned(old: Iterable[str], new: Iterable[str]) -> list[str]:
    text = unreleased()
    return [n for n in changed_names(old, new) if not _mentioned(n, text)]


# --- the test and the command ----------------------------------------------------------------


def _snapshot() -> list[str]:
    if not SNAPSHOT.exists():
        return []
    return SNAPSHOT.read_text(encoding="utf-8").splitlines()


def test_the_public_surface_matches_the_snapshot() -> None:
    """The rendered public surface equals tests/api_surface.txt; the failure shows the diff, the
    changed names CHANGELOG.md's [Unreleased] does not mention yet, and the command to
    regenerate the snapshot."""
    old, new = _snapshot(), surface()
    if old == new:
        return
    diff = "\n".join(difflib.unified_diff(old, new, "api_surface.txt", "current", lineterm=""))
    missing = unmentioned(old, new)
    hint = (
        f"\n\nNot in CHANGELOG.md [Unreleased] yet (the regeneration refuses until they are): "
        f"{', '.join(missing)}"
        if missing
        else ""
    )
    raise AssertionError(
        f"the public API changed:\n{diff}{hint}\n\nIf intended, regenerate with: {COMMAND}"
    )


def test_the_rendering_is_stable() -> None:
    """Two renderings in one process are identical and carry no memory address."""
    first = surface()
    assert first == surface()
    assert not [line for line in first if _ADDRESS.search(line)]


def test_a_change_must_be_in_the_changelog() -> None:
    """A changed name counts as mentioned when [Unreleased] names it or its class."""
    old = ["booking_core.x.Thing.go  def go(self)", "booking_core.x.run  def run()"]
    new = ["booking_core.x.Thing.go  def go(self, *, fast: bool)", "booking_core.x.ran  def ran()"]
    assert changed_names(old, new) == [
        "booking_core.x.Thing.go",
        "booking_core.x.ran",
        "booking_core.x.run",
    ]
    assert _mentioned("booking_core.x.Thing.go", "`Thing.go` takes fast")
    assert _mentioned("booking_core.x.Thing.go", "`go(fast=True)`")
    assert not _mentioned("booking_core.x.run", "`rerun` is new")


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(f"usage: {COMMAND}", file=sys.stderr)
        return 2
    old, new = _snapshot(), surface()
    missing = unmentioned(old, new) if old else []
    if missing:
        print(
            "refusing to regenerate: these changed names are not mentioned in CHANGELOG.md's "
            "## [Unreleased] section (say what changed and, if it breaks callers, 'Migrate:'):",
            *(f"  {name}" for name in missing),
            sep="\n",
            file=sys.stderr,
        )
        return 1
    SNAPSHOT.write_text("\n".join(new) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT} ({len(new)} lines, {len(changed_names(old, new))} names changed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
