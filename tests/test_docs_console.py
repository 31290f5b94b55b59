"""The console examples of the pages about inspecting, importing and exporting cassettes run as shown,
from a copy of the project's cassettes (so nothing in the checkout is written)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.doc_console import ROOT, console_examples, run, section

PAGES = [
    ("docs/cassette-format.md", "## Looking inside: `o2replay show`"),
    ("docs/recording.md", "## HAR files, import and export"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the bundled cassettes and the test HAR, laid out as in the checkout."""
    shutil.copytree(ROOT / "cassettes" / "reference", tmp_path / "cassettes" / "reference")
    shutil.copytree(ROOT / "tests" / "data" / "har", tmp_path / "tests" / "data" / "har")
    return tmp_path


@pytest.mark.parametrize(("doc", "heading"), PAGES, ids=[p[0] for p in PAGES])
def test_console_examples_run_as_shown(doc: str, heading: str, project: Path) -> None:
    examples = console_examples(section(doc, heading))
    assert examples, f"no console example under {heading}"
    for example in examples:
        proc = run(example, project)
        assert proc.stdout.rstrip("\n") == example.output, f"{doc}: $ {example.command}\n{proc.stdout}"
