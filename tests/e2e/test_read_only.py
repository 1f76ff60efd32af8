"""Read-only, provably: every command of the plugin, with every output format and the error
paths, run against the test API server, whose request log must then hold GET requests only,
never for Secrets, never a watch, never a list of ConfigMaps, and a ConfigMap only for the runs
that ask for them (`--read-configmaps`), one named GET at a time.

The commands run in this process through `plugin.cli.main` (what the launcher kubectl starts
calls; kubectl itself sends nothing for a plugin), which keeps thirty runs to a few seconds; one
run goes through the real kubectl as well. Each command has its own token, so every request in
the log can be traced back to the command that sent it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin.cli import COMMANDS, main
from plugin.sources.files import read_manifests
from tests.apiserver import ApiServer, Fault, Policy, Rule
from tests.e2e.conftest import Plugin
from tests.e2e.test_log_configs import objects as log_shipper_objects
from tests.e2e.test_node_probes import PROBE_NAMESPACE, daemonset, probe_pod

# (arguments, exit codes it may end with). Codes: 0 done, 1 error, 3 findings, 4 incomplete.
REPLAY: list[tuple[tuple[str, ...], set[int]]] = [
    (("scan",), {0}),
    (("scan", "-A"), {0}),
    (("scan", "-n", "ci"), {0}),
    (("scan", "-n", "ci,monitoring", "-o", "wide"), {0}),
    (("scan", "-A", "-l", "app=datadog", "--field-selector", "spec.nodeName=node-1"), {0}),
    (("scan", "-A", "-o", "json"), {0}),
    (("scan", "-A", "-o", "yaml"), {0}),
    (("scan", "-A", "-o", "name"), {0}),
    (("scan", "-A", "-o", "sarif"), {0}),
    (("scan", "-A", "-o", "markdown"), {0}),
    (("scan", "-A", "-o", "jmespath=items[].owner.name"), {0}),
    (("scan", "-A", "--summary"), {0}),
    (("scan", "-A", "--pods-only", "--exit-code"), {3}),
    (("scan", "-n", "ci", "--as", "bob", "--as-group", "devs"), {0}),
    (("scan", "--all-contexts"), {0, 4}),
    (("explain", "debug-shell", "-n", "ci"), {0}),
    (("explain", "pod/registry-cache-0", "-n", "ci", "-o", "json"), {0}),
    (("explain", "ds/datadog", "-n", "monitoring"), {0}),
    (("explain", "deployment", "runner", "-n", "ci", "-o", "yaml"), {0}),
    (("explain", "cronjob/image-build", "-n", "ci"), {0}),
    (("explain", "deployment/build-runner", "-n", "ci", "-o", "json"), {0}),  # lists the PersistentVolumes
    (("scan", "-A", "--read-configmaps", "-o", "json"), {0}),  # GETs the ConfigMaps log agents mount
    (("explain", "ds/fluent-bit", "-n", "logging", "--read-configmaps"), {0}),
    (("mounts", "-A"), {0}),
    (("mounts", "-n", "monitoring", "-o", "json"), {0}),
    (("nodes",), {0}),
    (("nodes", "-o", "json"), {0}),
    (("nodes", "--probes"), {0}),  # lists the probe pods, GETs their logs
    (("nodes", "--probes", "-o", "json"), {0}),
    (("plan",), {0}),  # scan -A's lists and one of the nodes
    (("plan", "-n", "ci", "-o", "markdown", "--exit-code"), {3}),
    (("plan", "--probes", "-o", "json"), {0}),  # and the probe pods' logs
    (("probe", "--root", "HOST_TREE"), {0}),  # reads a host, sends nothing
    (("version",), {0}),
    # error paths
    (("explain", "pod/missing", "-n", "ci"), {1}),
    (("scan", "-n", "apps", "--as", "nobody"), {1}),  # impersonating a user who may read nothing
    (("scan", "-n", "kube-system"), {1}),  # answered 503 until the retries are used up
]
CLAIMED_SOCKET = Path(__file__).resolve().parents[1] / "manifests" / "volumes" / "claimed-docker-socket.yaml"
OFFLINE = ("version", "probe")  # commands that send nothing, and take no --token
# What --read-configmaps may send: a GET of one named ConfigMap.
CONFIGMAP_GET = re.compile(r"/api/v1/namespaces/[a-z0-9-]+/configmaps/[a-z0-9.-]+")
BAD_TOKEN = (("scan", "-A"), {1})  # run with a token the server does not know: 401


@pytest.fixture(scope="module")
def logged_server(cluster_objects: list[dict]) -> Iterator[ApiServer]:
    tokens = {f"token-{i}": f"user-{i}" for i in range(len(REPLAY))}
    everyone = {user: [Rule(verbs=("get", "list")), Rule(verbs=("impersonate",))] for user in tokens.values()}
    probe = daemonset()
    probe["metadata"]["uid"] = "uid-ds-probe"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROBE_NAMESPACE}}
    # A Deployment whose claim is bound to a hostPath PersistentVolume: scan and explain list those.
    claimed = [source.obj for source in read_manifests([str(CLAIMED_SOCKET)]).objects]
    srv = ApiServer(cluster_objects + claimed + log_shipper_objects()
                    + [namespace, probe, probe_pod("dockershim-node-probe-x1", "node-1")],
                    tokens=tokens, policy=Policy({**everyone, "bob": [Rule()], "nobody": []}))
    srv.pod_logs[(PROBE_NAMESPACE, "dockershim-node-probe-x1")] = '{"kind": "NodeProbeReport", "items": []}\n'
    srv.start()
    yield srv
    srv.stop()


def test_every_command_sends_only_get_requests(logged_server: ApiServer, plugin_bin: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    covered = {args[0] for args, _ in REPLAY}
    assert covered == set(COMMANDS), f"replay the new commands too: {set(COMMANDS) - covered}"

    server = logged_server
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/kube-system/", status=503, times=None,
                               headers={"Retry-After": "0"}))
    config = server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="token-0", namespace="ci",
                                     extra_contexts={"second": {"namespace": "monitoring"}})
    plugin = Plugin(kubeconfig=config, bin_dir=plugin_bin, home=tmp_path)
    for name in [n for n in os.environ if n.startswith("KUBE")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KUBECONFIG", config)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBECTL_PATH", "kubectl")

    def run(index: int, args: tuple[str, ...], codes: set[int], token: str) -> None:
        args = tuple(str(tmp_path) if a == "HOST_TREE" else a for a in args)
        code = main([*args, "--token", token] if args[0] not in OFFLINE else list(args))
        stderr = capsys.readouterr().err
        assert code in codes, (args, code, stderr)
        assert "Traceback" not in stderr, args

    for index, (args, codes) in enumerate(REPLAY):
        run(index, args, codes, f"token-{index}")
    run(-1, *BAD_TOKEN, "not-a-known-token")
    through_kubectl = plugin.run("scan", "-A", "-o", "wide", "--token", "token-1")
    assert through_kubectl.returncode == 0, through_kubectl.stderr

    log = server.requests
    assert log, "nothing was sent"
    configmap_readers = {f"user-{i}" for i, (args, _) in enumerate(REPLAY) if "--read-configmaps" in args}
    assert any("/configmaps/" in r.path for r in log), "--read-configmaps read no ConfigMap"
    assert {r.method for r in log} == {"GET"}, sorted({(r.method, r.path) for r in log if r.method != "GET"})
    for record in log:
        assert "watch" not in record.query, record.path
        assert not any(part in record.path for part in ("/secrets", "/exec", "/attach", "/proxy",
                                                        "/portforward", "/token")), record.path
        if "/configmaps" in record.path:  # one named ConfigMap, for a run that asked for them
            assert CONFIGMAP_GET.fullmatch(record.path) and "kube-root-ca.crt" not in record.path, record.path
            assert record.authenticated_user in configmap_readers, (record.authenticated_user, record.path)
        # logs: only the node probes' (nodes --probes, plan --probes), never another pod's
        assert not record.path.endswith("/log") or record.path.startswith(
            f"/api/v1/namespaces/{PROBE_NAMESPACE}/pods/dockershim-node-probe-"), record.path
    assert any(r.path.endswith("/log") for r in log), "nodes --probes read no probe log"
    # PersistentVolumes: listed (pods use claims), cluster-wide, as GETs like everything else.
    assert any(r.path == "/api/v1/persistentvolumes" for r in log), "no command listed the PersistentVolumes"
    senders = {r.authenticated_user for r in log}
    for index, (args, _) in enumerate(REPLAY):
        if args[0] not in OFFLINE:
            assert f"user-{index}" in senders, f"{args} sent nothing to the server"
    assert any(r.authenticated_user is None and r.status == 401 for r in log)  # the bad token was sent, once
