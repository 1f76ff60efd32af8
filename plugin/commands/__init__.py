"""The commands: one module each (scan, explain, mounts, nodes, plan, probe, version), holding its
flags, its help, the pipeline it builds and its printing choices. `plugin.cli` only parses what comes
before the command and dispatches here; each module is imported only when its command runs, so
`--help` and `version` pay for nothing else.

Every command module has `FLAGS` (its flag table, which builds the parser and renders --help),
`OUTPUTS` (its `-o` values, for completion; None for every printer) and
`run(argv, out, err) -> exit code`.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

# In the order `--help` lists them.
NAMES = ("scan", "explain", "mounts", "nodes", "plan", "probe", "version")


def load(name: str) -> ModuleType:
    """The module of command `name` (one of NAMES)."""
    return importlib.import_module(f"plugin.commands.{name}")


def command_name() -> str:
    """`kubectl dockershim` when kubectl ran us (it sets KUBECTL_PATH), else the executable's name."""
    return "kubectl dockershim" if os.environ.get("KUBECTL_PATH") else "kubectl-dockershim"
