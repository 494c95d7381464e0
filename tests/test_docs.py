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
