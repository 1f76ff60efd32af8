"""`kubectl dockershim scan` end to end: the real kubectl runs the plugin from PATH against the
test API server over HTTPS, exactly as a user does."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.apiserver import ApiServer
from tests.e2e.cluster import EXPECTED_ROWS, MISSING_OWNER_WARNING, PLAIN, SOCKET, table_rows
from tests.e2e.conftest import Plugin
from tests.loopback import closed_port
from tests.podspecs import owner_ref, pod, workload


def test_scan_all_namespaces_reports_every_owner_shape(plugin: Plugin) -> None:
    result = plugin.run("scan", "-A")
    assert result.returncode == 0, result.stderr
    assert result.stderr == MISSING_OWNER_WARNING
    assert result.stdout.splitlines()[0].split() == ["NAMESPACE", "OWNER", "AGENT", "PODS", "SEVERITY", "DEPENDS-ON"]
    assert table_rows(result.stdout) == EXPECTED_ROWS


def test_only_get_requests_one_list_per_kind_and_no_owner_lookups(plugin: Plugin, server) -> None:
    assert plugin.run("scan", "-A").returncode == 0
    assert {r.method for r in server.requests} == {"GET"}
    # The workload lists are the owner index too: one list per kind, then the pods, nothing per pod.
    # The one ReplicaSet no listed workload owns (an Argo Rollout's: this cluster has no Rollouts to
    # list) is read whole, by name. Discovery (/apis) finds no custom resource to list.
    assert sorted(r.path for r in server.requests) == [
        "/api/v1/pods", "/api/v1/replicationcontrollers", "/apis", "/apis/apps/v1/daemonsets", "/apis/apps/v1/deployments",
        "/apis/apps/v1/namespaces/ci/replicasets/canary-7c9",
        "/apis/apps/v1/replicasets", "/apis/apps/v1/statefulsets", "/apis/batch/v1/cronjobs", "/apis/batch/v1/jobs"]


def test_replicasets_and_jobs_are_listed_as_metadata_only(test_plugin: Plugin, test_server: ApiServer) -> None:
    """Test server only: its log keeps the request headers. (What the real server answers to the
    same Accept header is checked in tests/realapi/test_conformance.py.)"""
    assert test_plugin.run("scan", "-A").returncode == 0
    # ReplicaSets and Jobs are listed as metadata only: their owners' templates are what is scanned.
    accept = {r.path: dict(r.headers)["Accept"] for r in test_server.requests}
    metadata_lists = {path for path, value in accept.items() if "as=PartialObjectMetadataList" in value}
    assert metadata_lists == {"/apis/apps/v1/replicasets", "/apis/batch/v1/jobs"}
    assert accept["/apis/apps/v1/namespaces/ci/replicasets/canary-7c9"] == "application/json"


def test_a_server_without_metadata_lists_gives_the_same_report(test_plugin: Plugin, test_server: ApiServer) -> None:
    """Test server only: a real one cannot be told to ignore `as=PartialObjectMetadataList`."""
    plugin, server = test_plugin, test_server
    expected = plugin.run("scan", "-A", "-o", "json")
    server.partial_metadata = False  # whole objects for every request, as a proxy may send
    server.clear_requests()
    try:
        fallback = plugin.run("scan", "-A", "-o", "json")
    finally:
        server.partial_metadata = True
    assert fallback.returncode == expected.returncode == 0, fallback.stderr
    assert fallback.stdout == expected.stdout
    assert all(r.status == 200 for r in server.requests)
    # The standalone ReplicaSet came whole in the list: no GET for it.
    assert not any(r.path.startswith("/apis/apps/v1/namespaces/") for r in server.requests)


def test_pods_only_walks_owners_with_batched_lookups(plugin: Plugin, server) -> None:
    result = plugin.run("scan", "-A", "--pods-only")
    assert result.returncode == 0, result.stderr
    owners = [r[1] for r in table_rows(result.stdout)]
    assert "CronJob/nightly-build" not in owners and "Deployment/rolling" in owners
    paths = [r.path for r in server.requests]
    assert paths.count("/api/v1/pods") == 1
    # 4 ReplicaSets in ci and idle -> one list each; single owners by name. Never per pod.
    assert paths.count("/apis/apps/v1/namespaces/ci/replicasets") == 1
    assert not any(p.startswith("/api/v1/namespaces/ci/pods/") for p in paths)
    assert len(paths) <= 14, paths


def test_namespace_comes_from_the_context_and_hides_the_namespace_column(plugin: Plugin) -> None:
    result = plugin.run("scan")  # the kubeconfig's context namespace is "ci"
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[0] == "OWNER"
    assert [r[0] for r in table_rows(result.stdout)] == [r[1] for r in EXPECTED_ROWS if r[0] == "ci"]


def test_nothing_found_in_a_namespace(plugin: Plugin) -> None:
    result = plugin.run("scan", "-n", "apps")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "No resources found in apps namespace.\n")
    assert plugin.run("scan", "-n", "apps", "--exit-code").returncode == 0
    assert plugin.run("scan", "-n", "ci", "--exit-code").returncode == 3


def test_json_document(plugin: Plugin) -> None:
    result = plugin.run("scan", "-A", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["metadata"]["context"] == "test" and doc["metadata"]["namespace"] is None
    assert doc["metadata"]["scanned"]["Pod"] == 19 and doc["metadata"]["scanned"]["CronJob"] == 2
    by_owner = {(i["owner"]["kind"], i["owner"]["name"]): i for i in doc["items"]}
    datadog = by_owner[("DaemonSet", "datadog")]
    assert datadog["pods"] == ["datadog-0x7k", "datadog-1x7k"] and datadog["nodes"] == ["node-1", "node-2"]
    assert datadog["owner"]["apiVersion"] == "apps/v1" and datadog["readOnly"] is True
    runner = by_owner[("Deployment", "runner")]
    assert [c["kind"] for c in runner["ownerChain"]] == ["Pod", "ReplicaSet", "Deployment"]
    assert by_owner[("CronJob", "image-build")]["subPath"] == "docker.sock"
    assert by_owner[("Rollout", "canary")]["owner"]["apiVersion"] == "argoproj.io/v1alpha1"


def test_yaml_and_name(plugin: Plugin) -> None:
    doc = yaml.safe_load(plugin.run("scan", "-A", "-o", "yaml").stdout)
    assert len(doc["items"]) == len(EXPECTED_ROWS)
    names = plugin.run("scan", "-n", "monitoring", "-o", "name").stdout.splitlines()
    assert names == ["daemonset.apps/datadog"]  # node-exporter has only an info finding


def test_selectors_are_sent_to_the_server(plugin: Plugin, server) -> None:
    result = plugin.run("scan", "-A", "-l", "app=datadog", "--field-selector", "spec.nodeName=node-1")
    assert result.returncode == 0, result.stderr
    assert [r[1] for r in table_rows(result.stdout)] == ["DaemonSet/datadog"]
    assert table_rows(result.stdout)[0][3] == "1"
    (pods,) = [r for r in server.requests if r.path == "/api/v1/pods"]
    assert pods.query["labelSelector"] == ["app=datadog"] and pods.query["fieldSelector"] == ["spec.nodeName=node-1"]


def test_wide_output_names_pods_and_nodes(plugin: Plugin) -> None:
    result = plugin.run("scan", "-n", "monitoring", "-o", "wide")
    row = table_rows(result.stdout)[0]
    # Datadog 7.50 finds containerd by itself: one severity lower than a plain /var/run mount.
    # Each node's runtime shows which findings block which node's migration.
    assert row[-5:] == ("low", "<none>", "datadog-0x7k,datadog-1x7k", "node-1,node-2", "containerd:1,docker:1")


def test_impersonation_headers_reach_the_server(plugin: Plugin, server) -> None:
    result = plugin.run("scan", "-n", "ci", "--as", "bob", "--as-group", "devs", "--as-group", "ops")
    assert result.returncode == 0, result.stderr
    # The server acted as bob in the groups asked for, on the admin's credentials.
    request = server.requests[0]
    assert (request.authenticated_user, request.user) == ("admin", "bob")
    assert [g for g in request.groups if not g.startswith("system:")] == ["devs", "ops"]


def test_impersonation_headers_are_sent_as_kubectl_sends_them(test_plugin: Plugin, test_server: ApiServer) -> None:
    """Test server only: its log keeps the request headers."""
    result = test_plugin.run("scan", "-n", "ci", "--as", "bob", "--as-group", "devs", "--as-group", "ops")
    assert result.returncode == 0, result.stderr
    headers = [(k.lower(), v) for k, v in test_server.requests[0].headers]
    assert ("impersonate-user", "bob") in headers
    assert [v for k, v in headers if k == "impersonate-group"] == ["devs", "ops"]


def test_bad_token_is_unauthorized(plugin: Plugin) -> None:
    result = plugin.run("scan", "--token", "wrong")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "error: You must be logged in to the server (Unauthorized)\n"


def test_unknown_context(plugin: Plugin) -> None:
    result = plugin.run("scan", "--context", "nope")
    assert result.returncode == 1 and 'context "nope" does not exist' in result.stderr
    assert "Traceback" not in result.stderr


def test_connection_refused(plugin: Plugin) -> None:
    port = closed_port()
    result = plugin.run("scan", "--server", f"https://127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr == (f"The connection to the server 127.0.0.1:{port} was refused - "
                             "did you specify the right host or port?\n")


def test_offline_scan_of_the_same_objects_reports_the_same_owners(plugin: Plugin, cluster_objects, tmp_path: Path
                                                                  ) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": cluster_objects}))
    offline = plugin.run("scan", "-f", str(dump), "-o", "json")
    online = plugin.run("scan", "-A", "-o", "json")
    assert offline.returncode == online.returncode == 0

    def items(doc: dict) -> list[dict]:
        return [{k: v for k, v in i.items() if k not in ("sources", "nodeRuntimes")} for i in doc["items"]]

    # Owners, chains (a deleted owner included, marked not found), pods and findings: identical.
    offline_doc, online_doc = json.loads(offline.stdout), json.loads(online.stdout)
    assert items(offline_doc) == items(online_doc)
    orphan = next(i for i in online_doc["items"] if i["owner"]["name"] == "deleted-app")
    assert orphan["owner"] == {"kind": "Deployment", "name": "deleted-app", "apiVersion": "apps/v1", "notFound": True}
    assert [r["name"] for r in orphan["ownerChain"]] == ["orphan-66b-zzzzz", "orphan-66b", "deleted-app"]
    assert offline.stderr == online.stderr == MISSING_OWNER_WARNING


def test_version_through_kubectl(plugin: Plugin) -> None:
    result = plugin.run("version")
    assert result.returncode == 0 and result.stdout.startswith("kubectl-dockershim v")


def test_help_through_kubectl_names_kubectl_dockershim(plugin: Plugin) -> None:
    result = plugin.run("scan", "--help")
    assert result.returncode == 0 and "kubectl dockershim scan -A" in result.stdout


def test_standalone_replicasets_and_jobs_are_read_whole_with_few_requests(plugin_bin: Path, tmp_path: Path) -> None:
    """ReplicaSets and Jobs no listed workload owns run their own template: idle ones too must be
    reported. One namespace holding several is read with one list, one holding one with a GET."""
    objects = [
        workload("ReplicaSet", "bare-a", SOCKET, "tools"),
        workload("ReplicaSet", "bare-b", SOCKET, "tools"),
        workload("ReplicaSet", "clean", PLAIN, "tools"),
        workload("Job", "one-off", SOCKET, "tools"),
        workload("Deployment", "web", PLAIN, "apps"),
        workload("ReplicaSet", "web-5f6d", PLAIN, "apps", [owner_ref("Deployment", "web")]),
        workload("ReplicaSet", "web-old", SOCKET, "apps", [owner_ref("Deployment", "web")]),  # an old revision
    ]
    for obj in objects:
        if obj["kind"] == "ReplicaSet":
            obj["spec"]["replicas"] = 0  # idle: no pod shows the dependency
    with ApiServer(objects) as server:
        kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"))
        result = Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path).run("scan", "-A", "-o", "name")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["job.batch/one-off", "replicaset.apps/bare-a", "replicaset.apps/bare-b"]
        reads = sorted(r.path for r in server.requests if "/namespaces/" in r.path)
        assert reads == ["/apis/apps/v1/namespaces/tools/replicasets", "/apis/batch/v1/namespaces/tools/jobs/one-off"]


def test_the_replicasets_deployments_made_are_not_listed(plugin_bin: Path, tmp_path: Path) -> None:
    """A Deployment's ReplicaSets (label pod-template-hash, set by its controller) repeat its
    template, which is scanned: they are left out of the ReplicaSet list, which then holds only
    the others (bare, or a Rollout's). The owner walk of the pods with findings reads the few it
    needs: one list for a namespace with several, one GET for a namespace with one."""
    hashed = {"app": "agent", "pod-template-hash": "5f6d8"}
    objects = [
        workload("Deployment", "agent", SOCKET, "mon", labels={"app": "agent"}),
        workload("ReplicaSet", "agent-5f6d8", SOCKET, "mon", [owner_ref("Deployment", "agent")], labels=hashed),
        workload("ReplicaSet", "agent-0ld00", SOCKET, "mon", [owner_ref("Deployment", "agent")],
                 labels={"app": "agent", "pod-template-hash": "0ld00"}),
        pod("agent-5f6d8-aaaaa", SOCKET, "mon", [owner_ref("ReplicaSet", "agent-5f6d8")], labels=hashed),
        pod("agent-5f6d8-bbbbb", SOCKET, "mon", [owner_ref("ReplicaSet", "agent-5f6d8")], labels=hashed),
        workload("Deployment", "web", PLAIN, "apps"),
        workload("ReplicaSet", "web-7c9d1", PLAIN, "apps", [owner_ref("Deployment", "web")],
                 labels={"app": "web", "pod-template-hash": "7c9d1"}),
        workload("ReplicaSet", "bare", SOCKET, "tools"),  # no owner, no label: listed and reported
    ]
    for obj in objects:
        if obj["kind"] == "ReplicaSet":
            # Their controller labels them as it labels their template.
            obj["metadata"]["labels"] = obj["spec"]["template"]["metadata"]["labels"]
            if obj["metadata"]["name"] != "agent-5f6d8":
                obj["spec"]["replicas"] = 0
    with ApiServer(objects) as server:
        kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"))
        cli = Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)
        result = cli.run("scan", "-A", "-o", "json")
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        chains = {tuple(c["name"] for c in i["ownerChain"]) for i in document["items"]}
        assert ("agent-5f6d8-aaaaa", "agent-5f6d8", "agent") in chains, chains
        assert {(i["owner"]["kind"], i["owner"]["name"]) for i in document["items"]} == {
            ("Deployment", "agent"), ("ReplicaSet", "bare")}
        lists = [(r.path, r.query.get("labelSelector")) for r in server.requests if r.path.endswith("/replicasets")]
        assert lists == [("/apis/apps/v1/replicasets", ["!pod-template-hash"])]
        # the pods' one ReplicaSet in mon, by name, and the bare one, read whole; nothing for apps,
        # whose pods have no finding
        gets = sorted(r.path for r in server.requests if "/replicasets/" in r.path)
        assert gets == ["/apis/apps/v1/namespaces/mon/replicasets/agent-5f6d8",
                        "/apis/apps/v1/namespaces/tools/replicasets/bare"]
        # the same report as when every ReplicaSet is read (offline, from the same objects)
        dump = tmp_path / "dump.json"
        dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        offline = json.loads(cli.run("scan", "-f", str(dump), "-o", "json").stdout)
        assert sorted((i["owner"]["name"], i["rule"], i["pods"]) for i in offline["items"]) == sorted(
            (i["owner"]["name"], i["rule"], i["pods"]) for i in document["items"])
        # with the user's selector, both apply
        server.clear_requests()
        assert cli.run("scan", "-A", "-l", "app=agent").returncode == 0
        selectors = [r.query.get("labelSelector") for r in server.requests if r.path == "/apis/apps/v1/replicasets"]
        assert selectors == [["app=agent,!pod-template-hash"]]
