"""Shell completion end to end: the real kubectl's `__complete` (what the shell scripts call) finds
kubectl_complete-dockershim on PATH and asks it, and the names come from the test API server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apiserver import ApiServer, Policy, Rule
from tests.e2e import cluster
from tests.e2e.conftest import ROOT, Plugin


@pytest.fixture(scope="session")
def completion_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bin_dir = tmp_path_factory.mktemp("completion-bin")
    (bin_dir / "kubectl_complete-dockershim").symlink_to(ROOT / "kubectl_complete-dockershim")
    return bin_dir


def complete(plugin: Plugin, completion_bin: Path, *words: str, kubeconfig: str | None = None
             ) -> tuple[list[str], int]:
    """(candidate names, directive) for `kubectl dockershim WORDS...` (the last word being completed)."""
    env = plugin.env(**({"KUBECONFIG": kubeconfig} if kubeconfig else {}))
    env["PATH"] = f"{completion_bin}:{env['PATH']}"
    result = plugin.kubectl("__complete", "dockershim", *words, env=env)
    assert result.returncode == 0, result.stderr
    # kubectl's own debug lines only: the completer never writes to the user's terminal.
    assert all(line.startswith(("[Debug]", "Completion ended with directive")) for line in result.stderr.splitlines()), \
        result.stderr
    lines = result.stdout.splitlines()
    assert lines and lines[-1].startswith(":")
    return [line.split("\t", 1)[0] for line in lines[:-1]], int(lines[-1][1:])


def objects_named(kind: str, namespace: str | None = None) -> list[str]:
    return sorted(o["metadata"]["name"] for o in cluster.objects()
                  if o["kind"] == kind and (namespace is None or o["metadata"].get("namespace") == namespace))


def test_commands_and_flags(plugin: Plugin, completion_bin: Path) -> None:
    assert complete(plugin, completion_bin, "sc") == (["scan"], 4)
    commands, _ = complete(plugin, completion_bin, "")
    assert {"scan", "explain", "mounts", "version"} <= set(commands)
    flags, _ = complete(plugin, completion_bin, "scan", "--all")
    assert "--all-namespaces" in flags
    assert complete(plugin, completion_bin, "scan", "-A", "--all-n")[0] == []  # given once already
    assert complete(plugin, completion_bin, "version", "-o", "")[0] == ["json", "yaml"]
    formats, _ = complete(plugin, completion_bin, "scan", "-o", "")
    assert {"wide", "json", "yaml", "name"} <= set(formats)


def test_contexts_from_the_kubeconfig(plugin: Plugin, completion_bin: Path, server: ApiServer, tmp_path: Path) -> None:
    kubeconfig = server.write_kubeconfig(str(tmp_path / "contexts"), context="test",
                                         extra_contexts={"staging": {"namespace": "apps"}, "prod": {}})
    assert complete(plugin, completion_bin, "scan", "--context", "", kubeconfig=kubeconfig) == (
        ["prod", "staging", "test"], 4)
    assert complete(plugin, completion_bin, "explain", "--context=st", kubeconfig=kubeconfig)[0] == ["--context=staging"]


def test_namespaces_from_the_cluster(plugin: Plugin, completion_bin: Path, server: ApiServer) -> None:
    assert complete(plugin, completion_bin, "scan", "-n", "") == (objects_named("Namespace"), 4)
    assert complete(plugin, completion_bin, "mounts", "--namespace=mon")[0] == ["--namespace=monitoring"]
    assert complete(plugin, completion_bin, "scan", "-n", "ci,mon")[0] == ["ci,monitoring"]
    listed = [r for r in server.requests if r.path == "/api/v1/namespaces"]
    assert listed and all(r.query.get("limit") for r in listed)  # one bounded page, never the whole list


def test_explain_pod_and_workload_names(plugin: Plugin, completion_bin: Path, server: ApiServer) -> None:
    names, directive = complete(plugin, completion_bin, "explain", "")  # the context's namespace: ci
    ci_pods = objects_named("Pod", "ci")
    assert names[:len(ci_pods)] == ci_pods and "deployments/" in names and directive == 4
    monitoring = objects_named("Pod", "monitoring")
    assert complete(plugin, completion_bin, "explain", "-n", "monitoring", "d")[0] == [
        *[p for p in monitoring if p.startswith("d")], "daemonsets/", "deployments/"]
    assert complete(plugin, completion_bin, "explain", "-n", "monitoring", "ds/")[0] == [
        f"ds/{n}" for n in objects_named("DaemonSet", "monitoring")]
    assert complete(plugin, completion_bin, "explain", "-n", "ci", "deployment", "")[0] == objects_named(
        "Deployment", "ci")
    assert complete(plugin, completion_bin, "explain", "pod/debug-shell", "")[0] == []
    assert {r.method for r in server.requests} == {"GET"}


@pytest.fixture
def forbidding_server(cluster_objects: list[dict]) -> Iterator[ApiServer]:
    policy = Policy({"alice": [Rule(verbs=("get",), resources=("pods",))]})  # no list at all
    with ApiServer(cluster_objects, tokens={"alice-token": "alice"}, policy=policy) as srv:
        yield srv


def test_forbidden_or_unreachable_yields_no_names_and_no_message(plugin: Plugin, completion_bin: Path,
                                                                 forbidding_server: ApiServer,
                                                                 tmp_path: Path) -> None:
    kubeconfig = forbidding_server.write_kubeconfig(str(tmp_path / "alice"), token="alice-token", namespace="ci")
    assert complete(plugin, completion_bin, "scan", "-n", "", kubeconfig=kubeconfig) == ([], 4)
    names, directive = complete(plugin, completion_bin, "explain", "", kubeconfig=kubeconfig)
    assert names[0] == "cronjobs/" and directive == 4 | 2  # only TYPE/, and no space after it
    assert {r.status for r in forbidding_server.requests} == {403}
    refused = complete(plugin, completion_bin, "explain", "--server", "https://127.0.0.1:1", "")
    assert refused[0][0] == "cronjobs/"
