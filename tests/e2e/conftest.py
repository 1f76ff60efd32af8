"""End-to-end harness: the test API server, a kubeconfig for it, and `kubectl dockershim ...` run
through the real kubectl binary, with the repository's launcher on PATH exactly as a user has it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.apiserver import ApiServer
from tests.e2e import cluster
from tests.k8s_validate import validate_objects
from tests.kubectl import kubectl_binary

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Plugin:
    """Runs commands the way a user does: kubectl finds kubectl-dockershim on PATH."""

    kubeconfig: str
    bin_dir: Path
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "PYTHON"))}
        # The launcher's `#!/usr/bin/env python3` must find this interpreter (with the dependencies).
        env["PATH"] = os.pathsep.join([str(self.bin_dir), str(Path(sys.executable).parent), env.get("PATH", "")])
        env["HOME"] = str(self.home)
        env["KUBECONFIG"] = self.kubeconfig
        env.update(extra)
        return env

    def kubectl(self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([kubectl_binary(), *args], capture_output=True, text=True, input=stdin,
                              env=env or self.env(), timeout=timeout, cwd=self.home)

    def run(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        return self.kubectl("dockershim", *args, **kwargs)


@pytest.fixture(scope="session")
def plugin_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder on PATH holding a symlink to the repository's launcher, as krew would make."""
    bin_dir = tmp_path_factory.mktemp("bin")
    (bin_dir / "kubectl-dockershim").symlink_to(ROOT / "kubectl-dockershim")
    return bin_dir


@pytest.fixture(scope="session")
def cluster_objects() -> list[dict]:
    objs = cluster.objects()
    validate_objects(objs)
    return objs


@pytest.fixture(scope="session")
def server(cluster_objects: list[dict]) -> Iterator[ApiServer]:
    srv = ApiServer(cluster_objects, tokens={"admin-token": "admin", "alice-token": "alice"}).start()
    yield srv
    srv.stop()


@pytest.fixture
def plugin(server: ApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    server.clear_requests()
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token", context="test",
                                         namespace="ci")
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)
