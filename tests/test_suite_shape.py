"""The test suite keeps its shape: every test says what it expects, every test folder is a package.

A test's docstring states the expected behaviour in a sentence or two, so a failure reads as the
broken promise. A folder without ``__init__.py`` makes pytest import its modules by basename, which
forces prefixes like ``test_payments_fake_provider.py`` onto the file names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _test_modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "__pycache__" not in p.parts)


def _tests_in(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level ``test_*`` functions and ``test_*`` methods of ``Test*`` classes."""
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, functions) and node.name.startswith("test"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, functions) and item.name.startswith("test"):
                    yield f"{node.name}.{item.name}", item


def test_the_walk_finds_the_suite() -> None:
    """The walk sees the test modules of every folder, this one included, and their tests."""
    modules = _test_modules()
    assert Path(__file__).resolve() in modules
    assert {p.parent.name for p in modules} >= {"services", "cache", "web", "contracts", "hostile"}
    found = sum(1 for p in modules for _ in _tests_in(ast.parse(p.read_text(encoding="utf-8"))))
    assert found > 300


def test_every_test_has_a_docstring() -> None:
    """Every test function and test method under tests/ has a docstring; the failure lists the
    ones that lack it as ``path:line name``."""
    missing = [
        f"{path.relative_to(TESTS.parent)}:{node.lineno} {name}"
        for path in _test_modules()
        for name, node in _tests_in(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if not (ast.get_docstring(node) or "").strip()
    ]
    assert missing == [], "tests without a docstring:\n" + "\n".join(missing)


def test_every_test_folder_is_a_package() -> None:
    """Every folder under tests/ that holds Python files has an ``__init__.py``; the failure
    lists the folders that lack one."""
    folders = {p.parent for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted(
        str(folder.relative_to(TESTS.parent))
        for folder in folders
        if not (folder / "__init__.py").is_file()
    )
    assert missing == [], "test folders without __init__.py:\n" + "\n".join(missing)
