"""Sections of a shared Markdown report, each owned and rewritten by one benchmark script.

docs/benchmarks.md is written by several scripts (`bench/run.py`, `bench/probe.py`, ...). Each
owns the text between `<!-- SCRIPT: begin -->` and `<!-- SCRIPT: end -->` and replaces only
that, so running one never drops another's figures. A section not yet in the file is added:
at the top for the script that owns the file's head (`bench/run.py`, whose older reports were
written without markers and are then replaced whole, but for the other scripts' sections), at
the end for the others.
"""

from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r"<!-- (?P<owner>[^\n]+?): begin -->\n.*?<!-- (?P=owner): end -->\n?", re.DOTALL)


def begin_marker(owner: str) -> str:
    return f"<!-- {owner}: begin -->"


def end_marker(owner: str) -> str:
    return f"<!-- {owner}: end -->"


def sections(text: str) -> dict[str, str]:
    """Each owner's section of `text`, markers included, in the order they come."""
    return {match["owner"]: match[0] for match in _SECTION.finditer(text)}


def write_section(path: Path, owner: str, body: str, *, head: bool = False) -> None:
    """Put `body` (Markdown, without markers) into `owner`'s section of the file at `path`,
    leaving every other section as it is. `head`: the owner writes the top of the file, and text
    outside any section is an older report of its own."""
    section = f"{begin_marker(owner)}\n{body.strip(chr(10))}\n{end_marker(owner)}\n"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    found = sections(current)
    if owner in found:
        start = current.index(found[owner])
        text = current[:start] + section + current[start + len(found[owner]):]
    elif head:
        others = [text for name, text in found.items() if name != owner]
        text = "\n".join([section, *others])
    else:
        text = (current.rstrip("\n") + "\n\n" if current.strip() else "") + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
