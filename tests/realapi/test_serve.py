"""`python -m tests.realapi serve`: a kubeconfig path first on stdout, a real server behind it,
and both processes gone after SIGTERM or SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT
from tests.kubectl import kubectl_binary

pytestmark = pytest.mark.realapi


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_a_kubeconfig_and_stops_both_servers_on_a_signal(signum: int, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    serve = subprocess.Popen([sys.executable, "-m", "tests.realapi", "serve"], cwd=ROOT, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert serve.stdout is not None and serve.stderr is not None
        kubeconfig = serve.stdout.readline().strip()
        assert Path(kubeconfig).is_file(), serve.stderr.read() if serve.poll() is not None else kubeconfig
        ready = ""
        while "pids" not in ready:
            ready = serve.stderr.readline()
            assert ready, "serve ended before saying it was ready"
        pids = [int(p) for p in re.search(r"pids ([\d ]+)\)", ready).group(1).split()]  # type: ignore[union-attr]
        assert len(pids) == 2 and all(map(alive, pids))
        got = subprocess.run([kubectl_binary(), "--kubeconfig", kubeconfig, "get", "pods", "-n", "ci", "-o", "name"],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**env, "HOME": str(tmp_path)})
        assert got.returncode == 0, got.stderr
        assert "pod/debug-shell" in got.stdout.split()
        serve.send_signal(signum)
        assert serve.wait(timeout=60) == 0
        assert not any(map(alive, pids))
        assert not Path(kubeconfig).exists()  # its folder is removed with the servers' data
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
