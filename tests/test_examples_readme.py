"""examples/README.md lists exactly what `kubectl-dockershim scan -f examples/` reports, as the
README's rule table matches the registry (tests/test_readme.py). When verdicts change, regenerate
it: `.venv/bin/python -m tests.examples_readme`."""

from __future__ import annotations

import pytest

from tests import examples_readme


def test_examples_readme_lists_what_the_scan_reports() -> None:
    text = examples_readme.README.read_text()
    assert examples_readme.readme_with(examples_readme.section(), text) == text, \
        "examples/README.md is out of date: run .venv/bin/python -m tests.examples_readme"


def test_every_finding_of_the_scan_has_a_row() -> None:
    doc = examples_readme._scan()
    rows = [line for line in examples_readme.section().splitlines() if line.startswith("| ") and "/" in line
            and not line.startswith("| File ")]
    assert len(rows) == len(doc["items"]) > 0


def test_the_generated_section_must_exist() -> None:
    with pytest.raises(ValueError, match="no generated section"):
        examples_readme.readme_with("x", "# Examples\n")
