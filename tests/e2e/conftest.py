"""End-to-end harness: an API server, a kubeconfig for it, and `kubectl dockershim ...` run
through the real kubectl binary, with the repository's launcher on PATH exactly as a user has it.

Every test that takes `server` (or a fixture built on `server_kind`) runs twice: against the
project's test API server (tests/apiserver/) and against a real kube-apiserver and etcd
(tests/realapi/), built from the Go module proxy on first use. Tests that need what only the
test server has (fault injection, the request headers in its log, switching metadata-only lists
off) take `test_server` instead, and say so by that name."""

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
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

ROOT = Path(__file__).resolve().parents[2]
SERVER_KINDS = ("test", pytest.param("real", marks=pytest.mark.realapi))
TOKENS = {"admin-token": "admin", "alice-token": "alice"}


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


@pytest.fixture(scope="session", params=SERVER_KINDS)
def server_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    """"test" or "real": which server the parametrised fixtures start."""
    yield request.param
    if request.param == "real":
        POOL.stop_all()


@pytest.fixture(scope="session")
def test_server(cluster_objects: list[dict]) -> Iterator[ApiServer]:
    """The test API server alone, for tests of what only it has (faults, headers in its log)."""
    srv = ApiServer(cluster_objects, tokens=TOKENS).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def server(server_kind: str, cluster_objects: list[dict]) -> Iterator[ApiServer | RealApiServer]:
    if server_kind == "real":
        yield POOL.get("e2e", cluster.objects, tokens=TOKENS)
        return
    srv = ApiServer(cluster_objects, tokens=TOKENS).start()
    yield srv
    srv.stop()


def make_plugin(server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    server.clear_requests()
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token", context="test",
                                         namespace="ci")
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)


@pytest.fixture
def test_plugin(test_server: ApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    """`plugin` for the test API server only."""
    return make_plugin(test_server, plugin_bin, tmp_path)


@pytest.fixture
def plugin(server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    return make_plugin(server, plugin_bin, tmp_path)
