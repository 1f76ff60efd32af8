"""Rule DS009 end to end, through the real kubectl: log shipper configuration that expects Docker.

Offline, `scan -f` and `explain -f` read the ConfigMaps and Helm values of tests/manifests/log-configs.
Live, on both servers (the test API server and a real kube-apiserver, each with this module's own
cluster): without `--read-configmaps` no ConfigMap is ever requested; with it, only those mounted
by a workload with findings or by a known log agent (and the one Argo's controller names), one
GET each, never a list, never the API server's CA bundle; a ConfigMap the user may not read is a
warning naming it; and a password in the same ConfigMap never appears in any output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.apiserver import ApiServer, Policy, Rule
from tests.e2e.conftest import ROOT, Plugin
from tests.k8s_validate import validate_objects
from tests.podspecs import container, host_path_volume, mount, owner_ref, pod, pod_spec, workload
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

MANIFESTS = ROOT / "tests" / "manifests" / "log-configs"
SECRET = "kds-configmap-secret-3b9f0c1e"  # fluent-bit-docker-era.yaml: the Elasticsearch output's password
TOKENS = {"admin-token": "admin", "restricted-token": "restricted", "rbac-token": "rbac-user",
          "rbac-base-token": "rbac-base"}
WORKLOAD_RESOURCES = ("pods", "deployments", "replicasets", "daemonsets", "statefulsets", "jobs", "cronjobs",
                      "replicationcontrollers", "nodes")
# `restricted` may read every workload, but only the ConfigMaps named here: not vector's.
READABLE = ("fluent-bit", "fluent-bit-yaml", "fluent-bit-yaml-cri", "workflow-controller-configmap",
            "runner-config", "missing-config")


def deploy_rules(optional: bool) -> list[Rule]:
    """deploy/rbac.yaml's ClusterRole as the test server's rules; `optional`: with its commented-out
    rule for --read-configmaps uncommented."""
    text = (ROOT / "deploy" / "rbac.yaml").read_text()
    if optional:
        text = re.sub(r"(?m)^  # (-|  )", r"  \1", text)
    (role,) = [d for d in yaml.safe_load_all(text) if d and d["kind"] == "ClusterRole"]
    return [Rule(verbs=tuple(r["verbs"]), resources=tuple(r["resources"])) for r in role["rules"]]


POLICY = Policy({"admin": [Rule(verbs=("*",))],
                 "restricted": [Rule(verbs=("get", "list"), resources=WORKLOAD_RESOURCES),
                                Rule(verbs=("get",), resources=("configmaps",), names=READABLE)],
                 "rbac-user": deploy_rules(optional=True), "rbac-base": deploy_rules(optional=False)})
# What `--read-configmaps` reads: the ConfigMaps of the known log agents (fluent-bit twice, vector,
# both Argo controllers) and of the workload with findings (ci-runner, whose second one is missing).
EXPECTED_GETS = sorted([
    "/api/v1/namespaces/argo/configmaps/workflow-controller-configmap",
    "/api/v1/namespaces/argo-next/configmaps/workflow-controller-configmap",
    "/api/v1/namespaces/logging/configmaps/fluent-bit",
    "/api/v1/namespaces/logs-apps/configmaps/missing-config",
    "/api/v1/namespaces/logs-apps/configmaps/runner-config",
    "/api/v1/namespaces/observability/configmaps/fluent-bit-yaml",
    "/api/v1/namespaces/observability/configmaps/fluent-bit-yaml-cri",
    "/api/v1/namespaces/vector/configmaps/vector",
])
# (owner, evidence) of the DS009 items a live scan with --read-configmaps reports
EXPECTED_ITEMS = sorted([
    ("DaemonSet/fluent-bit", "Parser docker"),
    ("DaemonSet/fluent-bit-yaml", "parser: docker"),
    ("DaemonSet/vector", 'type = "docker"'),
    ("DaemonSet/vector", "type: docker_logs"),
    ("Deployment/workflow-controller", "containerRuntimeExecutor: docker"),
])
# Every pod mounts the API server's CA bundle through its service-account volume (the real server
# adds it by itself; the test server's pods say it as the real server would store it).
SERVICE_ACCOUNT_VOLUME = {"name": "kube-api-access", "projected": {"sources": [
    {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}


def _manifest(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d]


def _pod_of(daemonset: dict, name: str, node: str) -> dict:
    spec = json.loads(json.dumps(daemonset["spec"]["template"]["spec"]))
    spec["volumes"] = [*spec.get("volumes", []), SERVICE_ACCOUNT_VOLUME]
    meta = daemonset["metadata"]
    return pod(name, spec, meta["namespace"], [owner_ref("DaemonSet", meta["name"])], node,
               labels=daemonset["spec"]["template"]["metadata"]["labels"])


def objects() -> list[dict]:
    """The log shippers' cluster: manifests of tests/manifests/log-configs, a pod per DaemonSet,
    and two ordinary Deployments that mount ConfigMaps: a CI runner with the Docker socket (a
    workload with findings) and a web server (neither: its ConfigMap is never read)."""
    objs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                        for n in ("logging", "observability", "vector", "argo", "argo-next", "logs-apps")]
    for name in ("fluent-bit-docker-era.yaml", "fluent-bit-yaml-format.yaml", "vector-docker-logs.yaml",
                 "argo-workflow-controller.yaml"):
        objs += _manifest(name)
    for obj in list(objs):
        obj["metadata"].setdefault("uid", f"uid-{obj['kind'].lower()}-{obj['metadata']['name']}")
        if obj["kind"] == "DaemonSet":
            objs.append(_pod_of(obj, f"{obj['metadata']['name']}-x1", "node-1"))
    runner = pod_spec([host_path_volume("docker", "/var/run/docker.sock"),
                       {"name": "config", "configMap": {"name": "runner-config"}},
                       {"name": "extra", "configMap": {"name": "missing-config", "optional": True}}],
                      [container("runner", "example.com/ci/runner:1.4",
                                 mounts=[mount("docker", "/var/run/docker.sock"), mount("config", "/etc/runner"),
                                         mount("extra", "/etc/extra")])])
    web = pod_spec([{"name": "config", "configMap": {"name": "web-config"}}],
                   [container("web", "nginx:1.27", mounts=[mount("config", "/etc/nginx/conf.d")])])
    objs += [workload("Deployment", "ci-runner", runner, "logs-apps"), workload("Deployment", "web", web, "logs-apps")]
    objs += [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "logs-apps"},
              "data": data} for name, data in (
        ("runner-config", {"config.toml": 'concurrent = 4\n[[runners]]\n  executor = "kubernetes"\n'}),
        ("web-config", {"default.conf": "server {\n  listen 80;\n  access_log /var/log/nginx/json.log;\n}\n"}))]
    return objs


@pytest.fixture(scope="module")
def log_server(server_kind: str) -> Iterator[ApiServer | RealApiServer]:
    objs = objects()
    validate_objects(objs)
    if server_kind == "real":
        yield POOL.get("logs", objects, tokens=TOKENS, policy=POLICY)
        return
    srv = ApiServer(objs, tokens=TOKENS, policy=POLICY).start()
    yield srv
    srv.stop()


def live(server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path, token: str = "admin-token") -> Plugin:
    server.clear_requests()
    config = server.write_kubeconfig(str(tmp_path / f"{token}.kubeconfig"), token=token, namespace="logging")
    return Plugin(kubeconfig=config, bin_dir=plugin_bin, home=tmp_path)


def configmap_requests(server: ApiServer | RealApiServer) -> list[tuple[str, str]]:
    return sorted((r.method, r.path) for r in server.requests if "/configmaps" in r.path)


def ds009(stdout: str) -> list[tuple[str, str]]:
    items = json.loads(stdout)["items"]
    return sorted((f"{i['owner']['kind']}/{i['owner']['name']}", i["evidence"]) for i in items if i["rule"] == "DS009")


def test_without_the_flag_no_configmap_is_requested(log_server: ApiServer | RealApiServer, plugin_bin: Path,
                                                    tmp_path: Path) -> None:
    plugin = live(log_server, plugin_bin, tmp_path)
    result = plugin.run("scan", "-A", "-o", "json")
    assert (result.returncode, result.stderr) == (0, "")
    assert ds009(result.stdout) == []
    explained = plugin.run("explain", "ds/fluent-bit", "-n", "logging")
    assert explained.returncode == 0, explained.stderr
    assert "DS009" not in explained.stdout
    assert configmap_requests(log_server) == []
    assert log_server.requests, "nothing was sent"


def test_with_the_flag_only_the_mounted_configmaps_are_fetched_once_each(
        log_server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> None:
    plugin = live(log_server, plugin_bin, tmp_path)
    result = plugin.run("scan", "-A", "--read-configmaps", "-o", "json")
    assert (result.returncode, result.stderr) == (0, "")
    assert ds009(result.stdout) == EXPECTED_ITEMS
    assert configmap_requests(log_server) == [("GET", path) for path in EXPECTED_GETS]
    document = json.loads(result.stdout)
    assert document["metadata"]["scanned"]["ConfigMap"] == 7  # missing-config does not exist
    (fluent_bit,) = [i for i in document["items"] if i["rule"] == "DS009" and i["owner"]["name"] == "fluent-bit"]
    assert fluent_bit["pods"] == ["fluent-bit-x1"]
    assert fluent_bit["reason"].endswith("(ConfigMap fluent-bit, fluent-bit.conf line 15)")
    assert fluent_bit["mountPath"] == "/fluent-bit/etc/fluent-bit.conf"


def test_the_table_shows_the_rule_on_the_workload_row(log_server: ApiServer | RealApiServer, plugin_bin: Path,
                                                     tmp_path: Path) -> None:
    plugin = live(log_server, plugin_bin, tmp_path)
    result = plugin.run("scan", "-n", "observability", "--read-configmaps")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "OWNER                       AGENT        PODS   SEVERITY   DEPENDS-ON",
        "DaemonSet/fluent-bit-yaml   fluent-bit   1      medium     docker-agent-config",
    ]
    assert configmap_requests(log_server) == [
        ("GET", "/api/v1/namespaces/observability/configmaps/fluent-bit-yaml"),
        ("GET", "/api/v1/namespaces/observability/configmaps/fluent-bit-yaml-cri")]


def test_a_forbidden_configmap_is_a_warning_naming_it(log_server: ApiServer | RealApiServer, plugin_bin: Path,
                                                      tmp_path: Path) -> None:
    plugin = live(log_server, plugin_bin, tmp_path, token="restricted-token")
    result = plugin.run("scan", "-A", "--read-configmaps", "-o", "json")
    assert result.returncode == 4, result.stderr
    assert result.stderr == ('Warning: cannot get the ConfigMap "vector" in the namespace "vector" (Forbidden): '
                             "its configuration is not checked\n")
    assert ds009(result.stdout) == [i for i in EXPECTED_ITEMS if i[0] != "DaemonSet/vector"]
    assert not json.loads(result.stdout)["metadata"]["complete"]
    explained = plugin.run("explain", "ds/vector", "-n", "vector", "--read-configmaps")
    assert explained.returncode == 4
    assert 'Warning: cannot get the ConfigMap "vector"' in explained.stderr
    assert "DS001 docker-socket" in explained.stdout and "DS009" not in explained.stdout


def test_the_rule_deploy_rbac_comments_out_is_what_the_flag_needs(
        log_server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> None:
    assert [r.resources for r in deploy_rules(True)][-1] == ("configmaps",)
    plugin = live(log_server, plugin_bin, tmp_path, token="rbac-token")
    result = plugin.run("scan", "-A", "--read-configmaps", "-o", "json")
    assert (result.returncode, result.stderr) == (0, "")
    assert ds009(result.stdout) == EXPECTED_ITEMS
    base = live(log_server, plugin_bin, tmp_path, token="rbac-base-token")
    without = base.run("scan", "-A", "--read-configmaps", "-o", "json")
    assert without.returncode == 4
    assert len(without.stderr.splitlines()) == len(EXPECTED_GETS)
    assert all("(Forbidden): its configuration is not checked" in line for line in without.stderr.splitlines())
    assert ds009(without.stdout) == []
    plain = base.run("scan", "-A")
    assert plain.returncode == 0 and "Warning" not in plain.stderr  # without the flag the base role is enough


@pytest.mark.parametrize(("output", "shown"), [
    ("table", "docker-agent-config"), ("wide", "Parser docker"), ("json", "Parser docker"), ("yaml", "Parser docker"),
    ("name", "daemonset.apps/fluent-bit"), ("sarif", "Parser docker"), ("markdown", "Parser docker")])
def test_a_password_in_the_same_configmap_never_appears(log_server: ApiServer | RealApiServer, plugin_bin: Path,
                                                         tmp_path: Path, output: str, shown: str) -> None:
    plugin = live(log_server, plugin_bin, tmp_path)
    result = plugin.run("scan", "-n", "logging", "--read-configmaps", "-o", output)
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout  # the finding is there,
    assert SECRET not in result.stdout + result.stderr  # and nothing else of its ConfigMap


def test_explain_reads_the_configmaps_of_what_it_explains(log_server: ApiServer | RealApiServer, plugin_bin: Path,
                                                          tmp_path: Path) -> None:
    plugin = live(log_server, plugin_bin, tmp_path)
    result = plugin.run("explain", "ds/fluent-bit", "--read-configmaps")
    assert (result.returncode, result.stderr) == (0, "")
    assert "  DS009 docker-agent-config (medium)\n" in result.stdout
    assert "    Evidence:     Parser docker\n" in result.stdout
    assert "use `multiline.parser docker, cri`" in result.stdout
    assert SECRET not in result.stdout
    assert configmap_requests(log_server) == [("GET", "/api/v1/namespaces/logging/configmaps/fluent-bit")]
    as_json = plugin.run("explain", "ds/fluent-bit", "--read-configmaps", "-o", "json")
    findings = json.loads(as_json.stdout)["findings"]
    assert [(f["rule"], f["evidence"]) for f in findings] == [("DS004", None), ("DS009", "Parser docker")]
    assert SECRET not in as_json.stdout


# --- offline, through kubectl: no server ----------------------------------------------------------

@pytest.fixture
def offline(plugin_bin: Path, tmp_path: Path) -> Plugin:
    return Plugin(kubeconfig=str(tmp_path / "no-kubeconfig"), bin_dir=plugin_bin, home=tmp_path)


def test_offline_scan_reads_the_configmaps_and_helm_values_of_the_input(offline: Plugin) -> None:
    result = offline.run("scan", "-f", str(MANIFESTS), "-o", "json")
    assert (result.returncode, result.stderr) == (0, "")
    owners = {owner for owner, _ in ds009(result.stdout)}
    assert {"DaemonSet/fluent-bit", "DaemonSet/fluentd", "DaemonSet/fluentd-legacy", "DaemonSet/filebeat",
            "DaemonSet/loki-promtail", "DaemonSet/vector", "Deployment/workflow-controller",
            "DaemonSet/node-problem-detector", "ConfigMap/filebeat-forced-docker",
            f"HelmValues/{MANIFESTS}/values/vector.yaml"} <= owners
    assert not any(o in owners for o in ("DaemonSet/log-agent", "DaemonSet/fluent-bit-yaml-cri",
                                         "DaemonSet/fluentd-cri"))
    assert SECRET not in result.stdout


def test_offline_wide_table_names_the_configmap_as_the_source(offline: Plugin) -> None:
    path = MANIFESTS / "promtail-docker.yaml"
    result = offline.run("scan", "-f", str(path), "-o", "wide", "--no-headers")
    assert (result.returncode, result.stderr) == (0, "")
    (row,) = [line for line in result.stdout.splitlines() if "docker-agent-config" in line]
    assert "- docker: {}" in row and row.rstrip().endswith(f"{path}:5")


def test_offline_explain_shows_the_line_and_the_step(offline: Plugin) -> None:
    result = offline.run("explain", "ds/loki-promtail", "-n", "loki", "-f", str(MANIFESTS / "promtail-docker.yaml"))
    assert (result.returncode, result.stderr) == (0, "")
    assert "  DS009 docker-agent-config (medium)\n" in result.stdout
    assert "    Evidence:     - docker: {}\n" in result.stdout
    assert "use the `cri: {}` stage (ConfigMap loki-promtail, promtail.yaml line 19)" in result.stdout


def test_offline_helm_values_from_stdin(offline: Plugin) -> None:
    values = (MANIFESTS / "values" / "fluent-bit-docker-era.yaml").read_text()
    result = offline.run("scan", "-f", "-", "-o", "wide", stdin=values)
    assert (result.returncode, result.stderr) == (0, "")
    assert "HelmValues/<stdin>" in result.stdout and "Parser docker" in result.stdout


def test_plan_reads_the_same_configmaps_as_scan_only_with_the_flag(
        log_server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> None:
    plugin = live(log_server, plugin_bin, tmp_path)
    without = plugin.run("plan", "-o", "json")
    assert without.returncode == 0, without.stderr
    assert configmap_requests(log_server) == []
    log_server.clear_requests()
    result = plugin.run("plan", "--read-configmaps", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert configmap_requests(log_server) == [("GET", path) for path in EXPECTED_GETS]
    document = json.loads(result.stdout)
    assert document["metadata"]["scanned"]["ConfigMap"] == 7
    assert json.loads(without.stdout)["metadata"]["scanned"].get("ConfigMap") is None
