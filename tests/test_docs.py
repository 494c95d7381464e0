"""The README's taste and the quickstart run as written (docs that rot are worse than none)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("document", ["README.md", "docs/quickstart.md"])
def test_document_code_runs(
    document: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every python block, in order and in one namespace, in a scratch directory."""
    monkeypatch.chdir(tmp_path)  # sqlite:///booking.db lands here
    blocks = python_blocks(ROOT / document)
    assert blocks, f"no python blocks in {document}"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, document, "exec"), namespace)
    app = namespace.get("app")
    if document == "README.md":
        assert "is taken" in capsys.readouterr().out
        assert (tmp_path / "booking.db").exists()
    else:
        assert namespace["confirmed"].status.value == "CONFIRMED"  # type: ignore[attr-defined]
    close = getattr(app, "close", None)
    if close is not None:
        close()


# -- drift: every name and path the documents mention exists ------------------------------------

DOCUMENTS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "reference").glob("*.md")]
)
#: ``booking_core.x.y``: a module, or a module and attributes (``.. autofunction`` style names,
#: mkdocstrings' ``::: booking_core.x`` directives included).
DOTTED = re.compile(r"(?<![\w./-])booking_core(?:\.[A-Za-z_]\w*)+")
#: A repository path: ``src/…``, ``tests/…`` and the other top-level folders, or
#: ``booking_core/…`` (under src/), up to a space, quote, bracket or ``::`` (a pytest node id's
#: test name is checked separately).
REPO_PATH = re.compile(
    r"(?<![\w/.-])((?:src/|tests/|examples/|benchmarks/|typing_tests/|docs/|booking_core/)[\w./*-]*)"
    r"(::\w+)?"
)
#: ``[text](target)`` links, except to a web address or to an anchor of the same page.
LINK = re.compile(r"\]\((?![a-z]+:|#)([^)\s]+)\)")
LOGGER = re.compile(r"getLogger\(\"(booking_core[\w.]*)\"\)")


def _mentions(pattern: re.Pattern[str]) -> list[tuple[str, re.Match[str]]]:
    return [
        (str(path.relative_to(ROOT)), match)
        for path in DOCUMENTS
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]


def _resolves(dotted: str) -> bool:
    """True when ``dotted`` is a module, or a module followed by attributes that exist."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_documents_are_found() -> None:
    """The drift checks below read the README and every docs page, the reference pages too."""
    names = {str(path.relative_to(ROOT)) for path in DOCUMENTS}
    assert {
        "README.md",
        "docs/api.md",
        "docs/architecture.md",
        "docs/reference/services.md",
    } <= names


def test_every_dotted_name_in_the_docs_imports() -> None:
    """Each ``booking_core.…`` name a document mentions is a module or an attribute of one, or
    a logger the library uses; the failure lists each stale name with its document."""
    loggers = {
        name
        for source in (ROOT / "src" / "booking_core").rglob("*.py")
        for name in LOGGER.findall(source.read_text(encoding="utf-8"))
    }
    assert "booking_core.cache" in loggers
    stale = sorted(
        {
            f"{document}: {match[0]}"
            for document, match in _mentions(DOTTED)
            if match[0] not in loggers and not _resolves(match[0])
        }
    )
    assert stale == [], "names in the docs that do not import:\n" + "\n".join(stale)


def test_every_repository_path_in_the_docs_exists() -> None:
    """Each ``src/…``, ``tests/…``, ``examples/…`` (…) path a document mentions exists (a glob
    matches something), and a ``path::test_name`` names a test defined in that file."""
    missing = []
    for document, match in _mentions(REPO_PATH):
        path, test_name = match[1].rstrip(".,;:"), match[2]
        if path.startswith("booking_core/"):  # the package's own path, as in a traceback
            path = f"src/{path}"
        found = list(ROOT.glob(path)) if "*" in path else [ROOT / path] * (ROOT / path).exists()
        if not found:
            missing.append(f"{document}: {path}")
        elif test_name and f"def {test_name[2:]}(" not in found[0].read_text(encoding="utf-8"):
            missing.append(f"{document}: {path}{test_name}")
    assert sorted(set(missing)) == [], "paths in the docs that do not exist:\n" + "\n".join(
        sorted(set(missing))
    )


def test_every_relative_link_in_the_docs_exists() -> None:
    """Each relative Markdown link names a file or folder that exists (the site's strict build
    checks links between its pages; this also covers README.md and links out of docs/)."""
    broken = []
    for path in DOCUMENTS:
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            file = target.split("#", 1)[0]
            if file and not (path.parent / file).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == [], "links to nothing:\n" + "\n".join(broken)


def _layout_block() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1]
    return section.split("```", 2)[1].splitlines()[1:]


def _public_entries(folder: Path) -> list[Path]:
    """What ``find folder -maxdepth 1`` lists, less private modules, caches and ``__init__``."""
    return sorted(
        entry
        for entry in folder.iterdir()
        if not entry.name.startswith(("_", ".")) and entry.suffix not in {".pyc"}
    )


def _shown(entry: Path) -> str:
    return f"{entry.name}/" if entry.is_dir() else entry.name


def test_readme_layout_matches_the_package() -> None:
    """README's layout names every public entry of ``find src/booking_core -maxdepth 2`` (a
    folder's entries on its lines) and nothing that does not exist."""
    lines = _layout_block()
    assert lines[0].strip() == "src/booking_core/"
    package = ROOT / "src" / "booking_core"
    # The package's own entries start a line, indented by two spaces; their entries follow.
    sections: dict[str, str] = {}
    current = None
    for line in lines[1:]:
        if line.startswith("  ") and not line.startswith("   "):
            current = line.split()[0]
            sections[current] = line
        elif line.startswith("   ") and current is not None:
            sections[current] += "\n" + line
        else:
            current = None
    # __init__.py is the public surface, so the layout names it too.
    expected = ["__init__.py", *(_shown(entry) for entry in _public_entries(package))]
    assert sorted(sections) == sorted(expected)
    missing = [
        f"{_shown(folder)}{_shown(entry)}"
        for folder in _public_entries(package)
        if folder.is_dir()
        for entry in _public_entries(folder)
        if not re.search(
            rf"(?<![\w/]){re.escape(_shown(entry))}(?![\w/])", sections[_shown(folder)]
        )
    ]
    assert missing == [], "README's layout leaves out:\n" + "\n".join(missing)
