"""Proves the test API server against the real `kubectl`: if kubectl lists, pages, selects and
reports errors through it exactly as through a real cluster, end-to-end tests of the plugin can
trust it. A few checks use raw HTTPS where kubectl hides the detail (bodies, headers, 405).
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.apiserver import ApiServer, Fault, Policy, Rule
from tests.k8s_validate import InvalidObject, validate_object, validate_objects
from tests.kubectl import kubectl_binary

KUBECTL = kubectl_binary()


def _pod(namespace: str, name: str, node: str, phase: str, labels: dict[str, str] | None = None,
         owner: dict[str, Any] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace,
                                "creationTimestamp": "2024-01-01T00:00:00Z"}
    if labels:
        metadata["labels"] = labels
    if owner:
        metadata["ownerReferences"] = [owner]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "registry.example/app:1"}]},
        "status": {"phase": phase},
    }


DAEMONSET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "kube-system", "uid": "5d1b2c0e-0000-4000-8000-000000000001"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {
                "containers": [{"name": "agent", "image": "registry.example/agent:2",
                                "volumeMounts": [{"name": "sock", "mountPath": "/var/run/docker.sock"}]}],
                "volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}],
            },
        },
    },
}
OBJECTS: list[dict[str, Any]] = [
    # Deliberately not in sorted order: the server must sort by namespace, then name.
    _pod("team-b", "db-0", "node-1", "Pending", {"app": "db"}),
    _pod("team-a", "web-2", "node-2", "Running", {"app": "web"}),
    _pod("team-a", "web-1", "node-1", "Running", {"app": "web", "tier": "front"}),
    _pod("team-b", "batch-1", "node-2", "Succeeded"),
    _pod("kube-system", "agent-x", "node-1", "Running", {"app": "agent"},
         {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent",
          "uid": "5d1b2c0e-0000-4000-8000-000000000001", "controller": True}),
    DAEMONSET,
    {"apiVersion": "v1", "kind": "Node",
     "metadata": {"name": "node-1", "labels": {"kubernetes.io/os": "linux", "pool": "gpu"}}},
    {"apiVersion": "v1", "kind": "Node",
     "metadata": {"name": "node-2", "labels": {"kubernetes.io/os": "linux"}}},
]
ALL_PODS = ["kube-system/agent-x", "team-a/web-1", "team-a/web-2", "team-b/batch-1", "team-b/db-0"]
UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


@pytest.fixture(scope="module")
def server() -> Iterator[ApiServer]:
    validate_objects(OBJECTS)
    policy = Policy({
        "admin": [Rule(verbs=("*",), resources=("*",))],
        "alice": [Rule(verbs=("get", "list"), resources=("pods",), namespaces=("team-a",))],
    })
    tokens = {"admin-token": "admin", "alice-token": "alice"}
    with ApiServer(OBJECTS, tokens=tokens, policy=policy) as srv:
        yield srv


@pytest.fixture
def api(server: ApiServer) -> Iterator[ApiServer]:
    """The shared server with an empty request log and no faults left over."""
    server.clear_requests()
    server.faults.clear()
    yield server
    server.faults.clear()


@pytest.fixture(scope="module")
def kubeconfig(server: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("kube") / "config"
    cert, key = server.issue_client_cert("admin")
    return server.write_kubeconfig(path, extra_contexts={
        "alice": {"token": "alice-token", "namespace": "team-a"},
        "bad-token": {"token": "not-a-token"},
        "by-cert": {"client_certificate": cert, "client_key": key},
    })


@pytest.fixture(scope="module")
def kubectl(kubeconfig: str, tmp_path_factory: pytest.TempPathFactory):
    # A private discovery cache: kubectl must not write to the user's ~/.kube.
    env = {**os.environ, "KUBECONFIG": kubeconfig, "KUBECACHEDIR": str(tmp_path_factory.mktemp("cache"))}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=30)

    return run


def _raw(server: ApiServer, path: str, token: str | None = "admin-token", method: str = "GET",
         accept: str | None = None) -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
    context = ssl.create_default_context(cafile=server.ca_path)
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if accept is not None:
        headers["Accept"] = accept
    conn.request(method, path, headers=headers)
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    return response.status, body, response


def _names(stdout: str) -> list[str]:
    return [line.split("/", 1)[1] for line in stdout.split()]


# -- fixtures and schema validation --------------------------------------------------------------

def test_validation_names_the_bad_object() -> None:
    bad = _pod("team-a", "broken", "node-1", "Running")
    bad["spec"]["containers"][0]["imagee"] = "typo"
    with pytest.raises(InvalidObject, match=r"Pod team-a/broken \(v1\) is invalid at \.spec\.containers\[0\]"):
        validate_object(bad)
    with pytest.raises(InvalidObject, match="Widget"):
        validate_object({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}})


# -- listing with kubectl ------------------------------------------------------------------------

def test_kubectl_lists_pods_across_namespaces_sorted(api: ApiServer, kubectl) -> None:
    result = kubectl("get", "pods", "-A", "-o", "json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    assert [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in items] == ALL_PODS
    agent = items[0]
    assert agent["metadata"]["ownerReferences"][0]["name"] == "agent"
    assert agent["metadata"]["uid"] and agent["metadata"]["resourceVersion"]
    lists = [r for r in api.requests if r.path == "/api/v1/pods"]
    assert len(lists) == 1 and lists[0].user == "admin" and lists[0].status == 200


def test_kubectl_jsonpath(api: ApiServer, kubectl) -> None:
    result = kubectl("get", "pods", "-A", "-o",
                     "jsonpath={range .items[*]}{.metadata.name}:{.spec.nodeName}{'\\n'}{end}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "agent-x:node-1", "web-1:node-1", "web-2:node-2", "batch-1:node-2", "db-0:node-1"]


def test_kubectl_chunked_list_follows_continue_tokens(api: ApiServer, kubectl) -> None:
    result = kubectl("get", "pods", "-A", "--chunk-size=2", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert _names(result.stdout) == [p.split("/")[1] for p in ALL_PODS]
    pages = [r for r in api.requests if r.path == "/api/v1/pods"]
    assert [r.query.get("limit") for r in pages] == [["2"]] * 3
    assert "continue" not in pages[0].query
    tokens = [r.query["continue"][0] for r in pages[1:]]
    assert len(set(tokens)) == 2 and all(tokens)


def test_kubectl_namespaced_and_cluster_scoped_kinds(api: ApiServer, kubectl) -> None:
    daemonsets = kubectl("get", "ds", "-n", "kube-system", "-o", "name")
    assert daemonsets.stdout.split() == ["daemonset.apps/agent"], daemonsets.stderr
    empty = kubectl("get", "ds", "-n", "team-a")
    assert empty.returncode == 0 and "No resources found in team-a namespace." in empty.stderr
    nodes = kubectl("get", "nodes", "-l", "pool=gpu", "-o", "name")
    assert nodes.stdout.split() == ["node/node-1"], nodes.stderr
    namespaces = kubectl("get", "namespaces", "-o", "name")
    assert namespaces.stdout.split() == ["namespace/kube-system", "namespace/team-a", "namespace/team-b"]
    assert {r.path for r in api.requests} >= {
        "/apis/apps/v1/namespaces/kube-system/daemonsets", "/api/v1/nodes", "/api/v1/namespaces"}


@pytest.mark.parametrize(("selector", "expected"), [
    ("app=web", ["web-1", "web-2"]),
    ("app==web,tier=front", ["web-1"]),
    ("app!=web", ["agent-x", "batch-1", "db-0"]),
    ("app in (db, agent)", ["agent-x", "db-0"]),
    ("app notin (web,db)", ["agent-x", "batch-1"]),
    ("tier", ["web-1"]),
    ("!app", ["batch-1"]),
    ("app,!tier", ["agent-x", "web-2", "db-0"]),
])
def test_kubectl_label_selectors(api: ApiServer, kubectl, selector: str, expected: list[str]) -> None:
    result = kubectl("get", "pods", "-A", "-l", selector, "-o", "name")
    assert result.returncode == 0, result.stderr
    assert _names(result.stdout) == expected
    assert api.requests[-1].query["labelSelector"] == [selector]


@pytest.mark.parametrize(("selector", "expected"), [
    ("spec.nodeName=node-2", ["web-2", "batch-1"]),
    ("spec.nodeName==node-1,status.phase!=Running", ["db-0"]),
    ("metadata.namespace=team-a", ["web-1", "web-2"]),
    ("metadata.name!=web-1,metadata.namespace=team-a", ["web-2"]),
])
def test_kubectl_field_selectors(api: ApiServer, kubectl, selector: str, expected: list[str]) -> None:
    result = kubectl("get", "pods", "-A", "--field-selector", selector, "-o", "name")
    assert result.returncode == 0, result.stderr
    assert _names(result.stdout) == expected


def test_kubectl_unsupported_field_selector(api: ApiServer, kubectl) -> None:
    result = kubectl("get", "pods", "-A", "--field-selector", "status.hostIP=10.0.0.1")
    assert result.returncode == 1
    assert "Error from server (BadRequest)" in result.stderr
    assert result.stderr.rstrip().endswith("field label not supported: status.hostIP")
    assert api.requests[-1].status == 400


def test_kubectl_get_by_name_and_not_found(api: ApiServer, kubectl) -> None:
    found = kubectl("get", "ds", "agent", "-n", "kube-system", "-o", "json")
    assert found.returncode == 0, found.stderr
    obj = json.loads(found.stdout)
    assert (obj["kind"], obj["apiVersion"]) == ("DaemonSet", "apps/v1")
    assert obj["metadata"]["uid"] == DAEMONSET["metadata"]["uid"]
    missing = kubectl("get", "ds", "nope", "-n", "kube-system")
    assert missing.returncode == 1
    assert 'Error from server (NotFound): daemonsets.apps "nope" not found' in missing.stderr
    missing_pod = kubectl("get", "pod", "nope", "-n", "team-a")
    assert 'Error from server (NotFound): pods "nope" not found' in missing_pod.stderr


# -- authentication and authorization -------------------------------------------------------------

def test_kubectl_unauthorized(api: ApiServer, kubectl) -> None:
    result = kubectl("--context", "bad-token", "get", "pods", "-A")
    assert result.returncode == 1
    assert "error: You must be logged in to the server (Unauthorized)" in result.stderr
    assert api.requests and all(r.status == 401 and r.user is None for r in api.requests)


def test_missing_token_gets_the_status_body(api: ApiServer) -> None:
    code, body, _ = _raw(api, "/api/v1/pods", token=None)
    assert (code, body) == (401, UNAUTHORIZED)
    code, body, _ = _raw(api, "/version", token="wrong")
    assert (code, body) == (401, UNAUTHORIZED)


def test_kubectl_forbidden_messages(api: ApiServer, kubectl) -> None:
    cluster_wide = kubectl("--context", "alice", "get", "pods", "-A")
    assert cluster_wide.returncode == 1
    assert cluster_wide.stderr.strip() == (
        'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" '
        'in API group "" at the cluster scope')
    own_namespace = kubectl("--context", "alice", "get", "pods", "-o", "name")  # context namespace team-a
    assert _names(own_namespace.stdout) == ["web-1", "web-2"], own_namespace.stderr
    by_name = kubectl("--context", "alice", "get", "rs", "x", "-n", "ns1")
    assert ('Error from server (Forbidden): replicasets.apps "x" is forbidden: User "alice" cannot get '
            'resource "replicasets" in API group "apps" in the namespace "ns1"') in by_name.stderr
    assert [r.status for r in api.requests if r.path == "/api/v1/pods"] == [403]


def test_forbidden_status_body(api: ApiServer) -> None:
    code, body, _ = _raw(api, "/apis/apps/v1/namespaces/ns1/daemonsets/x", token="alice-token")
    assert code == 403
    assert body["reason"] == "Forbidden"
    assert body["details"] == {"name": "x", "group": "apps", "kind": "daemonsets"}
    code, _, _ = _raw(api, "/apis/apps/v1", token="alice-token")
    assert code == 200  # discovery is open to every authenticated user


def test_kubectl_impersonation_is_recorded(api: ApiServer, kubectl) -> None:
    result = kubectl("--as", "alice", "--as-group", "devs", "--as-group", "ops", "get", "pods", "-A")
    assert 'User "alice" cannot list resource "pods"' in result.stderr
    record = [r for r in api.requests if r.path == "/api/v1/pods"][-1]
    assert (record.user, record.authenticated_user, record.groups) == ("alice", "admin", ("devs", "ops"))
    assert [v for k, v in record.headers if k.lower() == "impersonate-group"] == ["devs", "ops"]


def test_impersonation_needs_permission() -> None:
    policy = Policy({"bob": [Rule(resources=("pods",))]})
    with ApiServer(OBJECTS, tokens={"bob-token": "bob"}, policy=policy) as srv:
        context = ssl.create_default_context(cafile=srv.ca_path)
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=context, timeout=10)
        conn.request("GET", "/api/v1/pods", headers={"Authorization": "Bearer bob-token",
                                                     "Impersonate-User": "admin"})
        response = conn.getresponse()
        body = json.loads(response.read())
        conn.close()
    assert response.status == 403
    # kube-apiserver 1.37 (constrained impersonation) names the request's own resource and verb.
    assert body["message"] == ('pods is forbidden: User "bob" cannot impersonate-on:user-info:list resource "pods" '
                               'in API group "" at the cluster scope')
    assert body["details"] == {"kind": "pods"}


def test_kubectl_client_certificate(api: ApiServer, kubectl) -> None:
    result = kubectl("--context", "by-cert", "get", "nodes", "-o", "name")
    assert result.stdout.split() == ["node/node-1", "node/node-2"], result.stderr
    assert {r.user for r in api.requests} == {"admin"}
    assert all(not any(k.lower() == "authorization" for k, _ in r.headers) for r in api.requests)


# -- request log, methods, raw protocol -----------------------------------------------------------

def test_request_log_records_only_get_from_kubectl_get(api: ApiServer, kubectl) -> None:
    kubectl("get", "pods", "-A", "-o", "name")
    kubectl("get", "ds", "agent", "-n", "kube-system")
    assert api.requests and {r.method for r in api.requests} == {"GET"}
    code, body, _ = _raw(api, "/api/v1/namespaces/team-a/pods/web-1", method="DELETE")
    assert (code, body["reason"]) == (405, "MethodNotAllowed")
    assert api.requests[-1].method == "DELETE" and api.requests[-1].status == 405
    assert _raw(api, "/api/v1/namespaces/team-a/pods/web-1")[0] == 200  # nothing was deleted


def test_pages_carry_continue_and_remaining_count(api: ApiServer) -> None:
    code, first, response = _raw(api, "/api/v1/pods?limit=2")
    assert code == 200 and response.getheader("Content-Type") == "application/json"
    assert first["kind"] == "PodList" and first["apiVersion"] == "v1"
    assert first["metadata"]["remainingItemCount"] == 3
    assert all("kind" not in item and "apiVersion" not in item for item in first["items"])
    token = first["metadata"]["continue"]
    _, second, _ = _raw(api, f"/api/v1/pods?limit=2&continue={token}")
    _, third, _ = _raw(api, f"/api/v1/pods?limit=2&continue={second['metadata']['continue']}")
    assert "continue" not in third["metadata"] and "remainingItemCount" not in third["metadata"]
    names = [i["metadata"]["name"] for page in (first, second, third) for i in page["items"]]
    assert names == [p.split("/")[1] for p in ALL_PODS]
    assert len({page["metadata"]["resourceVersion"] for page in (first, second, third)}) == 1
    code, body, _ = _raw(api, "/api/v1/pods?limit=2&continue=not-a-token")
    assert (code, body["reason"]) == (400, "BadRequest")


PARTIAL_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


def test_metadata_only_lists_and_gets(api: ApiServer) -> None:
    code, page, _ = _raw(api, "/api/v1/pods?limit=2", accept=PARTIAL_LIST + ",application/json")
    assert code == 200
    assert (page["kind"], page["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    assert page["metadata"]["remainingItemCount"] == 3 and page["metadata"]["continue"]
    assert [sorted(item) for item in page["items"]] == [["apiVersion", "kind", "metadata"]] * 2
    assert {item["kind"] for item in page["items"]} == {"PartialObjectMetadata"}
    _, whole, _ = _raw(api, "/api/v1/pods?limit=2")
    assert [item["metadata"] for item in page["items"]] == [item["metadata"] for item in whole["items"]]
    # A get with the list form is refused at once, as by the real server: the next alternative is not tried.
    name = whole["items"][0]["metadata"]["name"]
    namespace = whole["items"][0]["metadata"]["namespace"]
    code, obj, _ = _raw(api, f"/api/v1/namespaces/{namespace}/pods/{name}", accept=PARTIAL_LIST + ",application/json")
    assert (code, obj["reason"]) == (406, "NotAcceptable")
    assert obj["message"] == "you requested PartialObjectMetadataList, but the requested object is not a list (*core.Pod)"
    code, obj, _ = _raw(api, f"/api/v1/namespaces/{namespace}/pods/{name}",
                        accept="application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
    assert code == 200 and obj["kind"] == "PartialObjectMetadata" and "spec" not in obj
    code, body, _ = _raw(api, "/api/v1/pods", accept="application/yaml")
    assert (code, body["reason"]) == (406, "NotAcceptable")


def test_a_server_without_metadata_lists_sends_whole_objects(api: ApiServer) -> None:
    api.partial_metadata = False
    try:
        code, page, _ = _raw(api, "/api/v1/pods", accept=PARTIAL_LIST + ",application/json")
        assert code == 200 and page["kind"] == "PodList" and all("spec" in item for item in page["items"])
        code, body, _ = _raw(api, "/api/v1/pods", accept=PARTIAL_LIST)
        assert (code, body["reason"]) == (406, "NotAcceptable")
    finally:
        api.partial_metadata = True


def test_selector_pages_do_not_count_remaining(api: ApiServer) -> None:
    _, page, _ = _raw(api, "/api/v1/pods?limit=1&labelSelector=app%3Dweb")
    assert [i["metadata"]["name"] for i in page["items"]] == ["web-1"]
    assert page["metadata"]["continue"] and "remainingItemCount" not in page["metadata"]


# -- faults ----------------------------------------------------------------------------------------

def test_faults_retry_after_and_dropped_connection(api: ApiServer, kubectl) -> None:
    api.faults.append(Fault("/api/v1/pods", status=429, headers={"Retry-After": "0"}))
    api.faults.append(Fault("/api/v1/pods", status=None, close_connection=True))
    result = kubectl("get", "pods", "-A", "-o", "name")
    assert result.returncode == 0, result.stderr  # client-go retries both
    assert [r.status for r in api.requests if r.path == "/api/v1/pods"] == [429, 0, 200]
    assert [f.hits for f in api.faults] == [1, 1]


def test_fault_expired_continue(api: ApiServer, kubectl) -> None:
    api.faults.append(Fault("/api/v1/pods", status=410, on_continue_only=True))
    result = kubectl("get", "pods", "-A", "--chunk-size=2", "-o", "name")
    assert result.returncode == 1
    assert "Error from server (Expired): The provided continue parameter is too old" in result.stderr
    assert [r.status for r in api.requests if r.path == "/api/v1/pods"] == [200, 410]


def test_fault_message_and_times(api: ApiServer) -> None:
    api.faults.append(Fault("/apis/apps", status=500, times=2, message="etcd is down"))
    for _ in range(2):
        code, body, _ = _raw(api, "/apis/apps/v1/daemonsets")
        assert (code, body["reason"], body["message"]) == (500, "InternalError", "etcd is down")
    assert _raw(api, "/apis/apps/v1/daemonsets")[0] == 200


# -- object management and the command line --------------------------------------------------------

def test_add_and_set_objects() -> None:
    with ApiServer([OBJECTS[0]]) as srv:
        srv.add_objects([_pod("team-c", "new", "node-1", "Running")])
        _, body, _ = _raw(srv, "/api/v1/namespaces")
        assert [n["metadata"]["name"] for n in body["items"]] == ["team-b", "team-c"]
        rv_before = int(body["metadata"]["resourceVersion"])
        srv.set_objects([_pod("team-d", "only", "node-1", "Running")])
        _, body, _ = _raw(srv, "/api/v1/pods")
        assert [p["metadata"]["name"] for p in body["items"]] == ["only"]
        assert int(body["metadata"]["resourceVersion"]) > rv_before
    with pytest.raises(ValueError, match="Widget"):
        ApiServer([{"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}])


def test_command_line(tmp_path: Path) -> None:
    objects = tmp_path / "objects.json"
    objects.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": OBJECTS}))
    kubeconfig = tmp_path / "kubeconfig"
    repo_root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.apiserver", "--objects", str(objects), "--kubeconfig", str(kubeconfig)],
        cwd=repo_root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:")
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(tmp_path / "cache")}
        result = subprocess.run([KUBECTL, "get", "pods", "-A", "-o", "name"], env=env, capture_output=True,
                                text=True, stdin=subprocess.DEVNULL, timeout=30)
        assert _names(result.stdout) == [p.split("/")[1] for p in ALL_PODS], result.stderr
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_custom_resources_are_served_by_their_definitions_and_kept_across_updates() -> None:
    from tests.e2e.custom_resources_cluster import crd

    workflows = crd("argoproj.io", "Workflow", "workflows", ("v1alpha1",), "Namespaced")
    wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w", "namespace": "argo"},
          "spec": {}}
    # the objects may come before their definition, as in any list: it is read first
    with ApiServer([wf, workflows]) as srv:
        _, body, _ = _raw(srv, "/apis/argoproj.io/v1alpha1/workflows")
        assert [(i["kind"], i["metadata"]["name"]) for i in body["items"]] == [("Workflow", "w")]
        srv.add_objects([{**wf, "metadata": {"name": "v", "namespace": "argo"}}])
        _, body, _ = _raw(srv, "/apis/argoproj.io/v1alpha1/namespaces/argo/workflows")
        assert [i["metadata"]["name"] for i in body["items"]] == ["v", "w"]
        srv.set_objects([workflows])  # the definition stays, its objects go
        assert _raw(srv, "/apis/argoproj.io/v1alpha1/workflows")[1]["items"] == []
    with pytest.raises(ValueError, match="Workflow"):
        ApiServer([wf])  # no definition: not served
    with pytest.raises(ValueError, match="must be named workflows.argoproj.io"):
        ApiServer([{**workflows, "metadata": {"name": "wf"}}])
    with pytest.raises(ValueError, match="served at v1alpha1"):
        ApiServer([workflows, {**wf, "apiVersion": "argoproj.io/v2"}])
