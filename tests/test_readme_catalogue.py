"""The README's agent list stays true: generated from agents.json, with the count it states."""

from __future__ import annotations

import re
from pathlib import Path

from plugin.catalogue import load_catalogue
from tests.readme_catalogue import BEGIN, END, agent_list, readme_with

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_agent_list_is_generated_from_the_catalogue() -> None:
    assert readme_with(README) == README, "regenerate it: .venv/bin/python -m tests.readme_catalogue"


def test_readme_names_every_agent_and_the_count() -> None:
    block = README.split(BEGIN, 1)[1].split(END, 1)[0]
    for agent in load_catalogue():
        assert agent.name in block, agent.id
    (count,) = re.findall(r"from a built-in catalogue of (\d+)\n", README)
    assert int(count) == len(load_catalogue()) >= 75
    assert agent_list().count("; ") == len(load_catalogue()) - 1
