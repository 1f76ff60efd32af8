"""The README stays true: its rule table matches the registry, and its first commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from plugin.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from plugin.rules import ALL_RULES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
CI = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()


def test_rule_table_matches_the_registry() -> None:
    rows = re.findall(r"^\| (DS\d{3}) \| `([a-z-]+)` \| (\w+) \| (.+) \|$", README, re.M)
    assert rows == [(r.id, r.name, r.severity, r.summary) for r in ALL_RULES]


def test_exit_codes_are_documented() -> None:
    table = re.findall(r"^\| (\d+) \| ", README.split("## Exit codes", 1)[1], re.M)
    assert [int(c) for c in table] == [EXIT_OK, EXIT_ERROR, EXIT_FINDINGS, EXIT_INCOMPLETE]


def test_ci_runs_the_readme_test_command() -> None:
    first_blocks = re.findall(r"```sh\n(.+?)\n```", README, re.S)[:2]
    assert "scan -f examples/" in first_blocks[0]
    install, _, run_tests = first_blocks[1].rpartition(" && ")
    assert "pip install -q '.[test]'" in install and run_tests == ".venv/bin/python -m pytest"
    assert ".venv/bin/pip install -q --disable-pip-version-check '.[test]'" in CI
    assert "\n.venv/bin/python -m pytest\n" in CI
