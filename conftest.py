"""Every ``python`` block of README.md, docs/*.md and docs/reference/*.md runs as a test (Sybil).

A document's blocks run in order in one namespace, in a scratch directory, so a block may
continue the one before it (each says so when it does). A block that needs something a reader
must supply first (a PostgreSQL server, a running web app) is marked with a Sybil skip comment
that says why, right above it in the Markdown source.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser


@pytest.fixture(scope="module")
def scratch_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One working directory per document: ``sqlite:///booking.db`` lands there."""
    path = tmp_path_factory.mktemp("docs")
    before = Path.cwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(before)


def _as_a_script(namespace: dict[str, object]) -> None:
    """Blocks run like a script: ``Flask(__name__)`` finds its root path."""
    namespace["__name__"] = "__main__"


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["README.md", "docs/*.md", "docs/reference/*.md"],
    setup=_as_a_script,
    fixtures=["scratch_directory"],
).pytest()
