"""The wrapper module pins what it says, and the binaries built from it are those versions."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.realapi import build

pytestmark = pytest.mark.realapi


def test_every_staging_module_of_kubernetes_is_replaced_by_its_release() -> None:
    version = build.kubernetes_version()
    assert re.fullmatch(r"v1\.3\d\.\d+", version)
    binaries = build.ensure_built()
    # The go.mod that the module proxy serves for this release: its ./staging replacements.
    upstream = build.cache_root() / "gomod" / "cache" / "download" / "k8s.io" / "kubernetes" / "@v" / f"{version}.mod"
    staging = re.findall(r"^\s*(k8s\.io/[\w.-]+) => \./staging/", upstream.read_text(), re.M)
    assert {"k8s.io/api", "k8s.io/apiserver", "k8s.io/client-go", "k8s.io/kms"} <= set(staging)
    ours = dict(re.findall(r"^\s*(k8s\.io/[\w.-]+) => \1 (v\S+)$", (build.MODULE / "go.mod").read_text(), re.M))
    assert set(ours) == set(staging)
    assert set(ours.values()) == {"v0." + version.removeprefix("v1.")}
    assert binaries.kube_apiserver.exists() and binaries.etcd.exists()


def test_the_binaries_report_the_pinned_versions() -> None:
    binaries = build.ensure_built()
    apiserver = subprocess.run([str(binaries.kube_apiserver), "--version"], capture_output=True, text=True)
    assert apiserver.stdout.strip() == f"Kubernetes {build.kubernetes_version()}"
    etcd = subprocess.run([str(binaries.etcd), "--version"], capture_output=True, text=True)
    assert f"etcd Version: {build.etcd_version().removeprefix('v')}" in etcd.stdout


def test_a_second_call_finds_the_cache_and_a_stale_stamp_is_not_trusted(monkeypatch) -> None:
    first = build.ensure_built()
    assert build.ensure_built() == first  # found, not rebuilt: the stamp matches
    assert (build.target_dir() / "BUILT").read_text().strip() == build._digest()
    monkeypatch.setattr(build, "_digest", lambda: "another-module")
    assert build._found() is None  # a changed go.mod, go.sum or flag means a new build


def test_without_go_the_build_fails_loudly(tmp_path: Path) -> None:
    try:
        build.go_binary([None, str(tmp_path / "go")])
    except build.BuildError as err:
        assert "Go is needed" in str(err)
    else:
        raise AssertionError("no BuildError without Go")
