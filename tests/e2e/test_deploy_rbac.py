"""deploy/rbac.yaml is enough, and no more: every command runs, through the real kubectl, against
the test API server (the ClusterRole translated into its policy) and a real kube-apiserver (the
file applied as written, a real ServiceAccount token) as the ServiceAccount it binds; every request
the plugin sends is granted by the ClusterRole; and it grants nothing that writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from plugin import cli
from plugin.commands import load as load_command
from plugin.sources.files import read_manifests
from tests.apiserver import ApiServer, Policy, Rule
from tests.e2e import cluster
from tests.e2e.conftest import ROOT, Plugin
from tests.e2e.test_node_probes import PROBE_NAMESPACE, daemonset, probe_pod
from tests.k8s_validate import validate_objects
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

DEPLOY = ROOT / "deploy"
# A Deployment whose claim is bound to a hostPath PersistentVolume: scan lists the PersistentVolumes.
CLAIMED_SOCKET = ROOT / "tests" / "manifests" / "volumes" / "claimed-docker-socket.yaml"
READ_VERBS = {"get", "list", "watch"}
NEVER_READ = {"secrets", "configmaps", "serviceaccounts/token"}


def documents(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def one(name: str, kind: str) -> dict:
    found = [d for d in documents(name) if d["kind"] == kind]
    assert len(found) == 1, f"{name} should hold one {kind}"
    return found[0]


def service_account_user() -> str:
    subjects = one("rbac.yaml", "ClusterRoleBinding")["subjects"]
    assert len(subjects) == 1 and subjects[0]["kind"] == "ServiceAccount"
    return f"system:serviceaccount:{subjects[0]['namespace']}:{subjects[0]['name']}"


def grants(role: dict) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) triples the ClusterRole allows."""
    return {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def policy_from(role: dict, user: str, without: str | None = None) -> Policy:
    """The ClusterRole as the test server's Policy (its Rule has no apiGroup: grants() checks those)."""
    rules = [Rule(verbs=tuple(r["verbs"]), resources=tuple(x for x in r["resources"] if x != without))
             for r in role["rules"]]
    return Policy({user: rules})  # a ClusterRoleBinding: every namespace, and the cluster scope


def rbac_objects() -> list[dict]:
    """The e2e cluster, and a claimed host path so that every resource of the role is read."""
    return cluster.objects() + [source.obj for source in read_manifests([str(CLAIMED_SOCKET)]).objects]


def target(path: str) -> tuple[str, str, str] | None:
    """(apiGroup, resource, verb) of a request path; None for discovery."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"]:
        group, rest = parts[1], parts[3:]
    else:
        return None
    if not rest:
        return None
    if rest[0] == "namespaces" and len(rest) >= 3:
        rest = rest[2:]
    if len(rest) == 3:  # a subresource: pods/NAME/log
        return group, f"{rest[0]}/{rest[2]}", "get"
    return group, rest[0], "get" if len(rest) > 1 else "list"


@pytest.fixture(scope="module")
def rbac_server(server_kind: str) -> Iterator[tuple[ApiServer | RealApiServer, str]]:
    """The server, and the ServiceAccount's token. On the real server deploy/rbac.yaml is applied as
    written and the token is a bound ServiceAccount token from the TokenRequest API."""
    if server_kind == "real":
        real = POOL.get("deploy-rbac", rbac_objects, policy=Policy({}))  # nobody but the admin may read
        subject = one("rbac.yaml", "ClusterRoleBinding")["subjects"][0]
        real.apply(documents("rbac.yaml"))
        yield real, real.service_account_token(subject["namespace"], subject["name"])
        return
    policy = policy_from(one("rbac.yaml", "ClusterRole"), service_account_user())
    probe = daemonset()
    probe["metadata"]["uid"] = "uid-ds-probe"  # the owner of probe_pod()'s pods
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROBE_NAMESPACE}}
    with ApiServer(rbac_objects() + [namespace, probe, probe_pod("dockershim-node-probe-x1", "node-1")],
                   tokens={"sa-token": service_account_user()}, policy=policy) as srv:
        srv.pod_logs[(PROBE_NAMESPACE, "dockershim-node-probe-x1")] = json.dumps(
            {"kind": "NodeProbeReport", "metadata": {"node": "node-1"}, "items": []})
        yield srv, "sa-token"


@pytest.fixture
def as_service_account(rbac_server: tuple[ApiServer | RealApiServer, str], plugin_bin: Path,
                       tmp_path: Path) -> Plugin:
    server, token = rbac_server
    server.clear_requests()
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), token=token, context="in-cluster",
                                         namespace="ci")
    completion_bin = tmp_path / "completion-bin"
    completion_bin.mkdir()
    (completion_bin / "kubectl_complete-dockershim").symlink_to(ROOT / "kubectl_complete-dockershim")
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)


def commands() -> list[list[str]]:
    runs = [["scan", "-A"], ["scan", "-n", "monitoring"], ["scan"], ["explain", "datadog-0x7k", "-n", "monitoring"],
            ["explain", "deploy/runner", "-n", "ci"], ["explain", "cj/image-build", "-n", "ci"], ["mounts", "-A"],
            ["mounts", "-n", "ci"]]
    if any(f.long == "--pods-only" for f in load_command("scan").FLAGS):
        runs.append(["scan", "-A", "--pods-only"])  # the owner walk: gets by name, batched lists
    if "nodes" in cli.COMMANDS:
        runs.append(["nodes"])
        runs.append(["nodes", "--probes"])  # the node-probe pods and their logs
    return runs


COMPLETIONS = [["scan", "-n", ""], ["explain", ""], ["explain", "-n", "monitoring", "ds/"],
               ["explain", "-n", "ci", "deployment", ""]]


def test_the_deploy_objects_are_valid_and_wired_together() -> None:
    rbac, cronjob = documents("rbac.yaml"), documents("cronjob.yaml")
    validate_objects(rbac + cronjob)
    namespace = one("rbac.yaml", "Namespace")["metadata"]["name"]
    account = one("rbac.yaml", "ServiceAccount")["metadata"]
    binding = one("rbac.yaml", "ClusterRoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": one("rbac.yaml", "ClusterRole")["metadata"]["name"]}
    assert service_account_user() == f"system:serviceaccount:{namespace}:{account['name']}"
    job = one("cronjob.yaml", "CronJob")
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert job["metadata"]["namespace"] == namespace == account["namespace"]
    assert pod["serviceAccountName"] == account["name"]
    script = pod["containers"][0]["args"][0]
    assert '"scan", "-A", "-o", "json"' in script and "PLUGIN_SHA256" in script


def test_the_cluster_role_only_reads() -> None:
    role = one("rbac.yaml", "ClusterRole")
    allowed = grants(role)
    assert {verb for _, _, verb in allowed} <= READ_VERBS
    assert not any("*" in (group, resource, verb) for group, resource, verb in allowed)
    assert not {resource for _, resource, _ in allowed} & NEVER_READ
    assert all(set(rule) == {"apiGroups", "resources", "verbs"} for rule in role["rules"])  # no names, no URLs


def test_every_command_runs_under_the_cluster_role(as_service_account: Plugin,
                                                  rbac_server: tuple[ApiServer | RealApiServer, str]) -> None:
    plugin, server = as_service_account, rbac_server[0]
    for args in commands():
        result = plugin.run(*args)
        assert result.returncode == 0, (args, result.stderr)
        # The test cluster's one deleted owner is a fact about the cluster, not a permission problem.
        warnings = [w for w in result.stderr.splitlines() if "owner was not found" not in w]
        assert not [w for w in warnings if "Forbidden" in w or "Warning" in w], (args, result.stderr)
        assert result.stdout, args
    env = plugin.env()
    env["PATH"] = f"{plugin.home / 'completion-bin'}:{env['PATH']}"
    for words in COMPLETIONS:
        result = plugin.kubectl("__complete", "dockershim", *words, env=env)
        candidates = result.stdout.splitlines()[:-1]
        assert [c for c in candidates if not c.endswith("/")], (words, result.stdout)  # names from the cluster

    requests = server.requests
    log = [(r, t) for r in requests if (t := target(r.path)) is not None]
    assert log and {r.status for r, _ in log} == {200}, sorted({(r.path, r.status) for r, _ in log if r.status != 200})
    assert {r.method for r in requests} == {"GET"}
    role = one("rbac.yaml", "ClusterRole")
    used = {t for _, t in log}
    assert used <= grants(role), used - grants(role)
    # Exactly what is needed: every resource the role names is read by some command. A real API
    # server without kubelets cannot serve a pod's log, so there the probe pods' logs (pods/log,
    # read by nodes --probes) are only checked on the test server.
    needed = {(g, res) for g, res, _ in grants(role)}
    if isinstance(server, RealApiServer):
        needed.discard(("", "pods/log"))
    assert {(g, res) for g, res, _ in used} == needed


def test_the_policy_translation_is_enforced(cluster_objects: list[dict], plugin_bin: Path, tmp_path: Path) -> None:
    # Without replicasets the same role must fail: proves the server applies the translated rules.
    user = service_account_user()
    policy = policy_from(one("rbac.yaml", "ClusterRole"), user, without="replicasets")
    with ApiServer(cluster_objects, tokens={"sa-token": user}, policy=policy) as srv:
        kubeconfig = srv.write_kubeconfig(str(tmp_path / "kubeconfig"), token="sa-token", namespace="ci")
        result = Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path).run("scan", "-A")
        assert result.returncode != 0 or "replicasets" in result.stderr
        assert 403 in {r.status for r in srv.requests}
