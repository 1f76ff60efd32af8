"""Failing servers and partial permissions, through the real kubectl: retries (429, 5xx, dropped
connections), an expired list, timeouts, TLS, DNS, credentials, and users who may read only part
of the cluster. Each failure is one kubectl-style line on stderr, no traceback, and an exit code
that says what happened.

Faults and policies live on servers of this module, so the shared e2e server stays untouched.
The partial permissions, TLS and credential cases run against both servers (`strict`); the
injected faults (429, 5xx, delays, dropped connections, a 410 on demand) need the test server
(`faulty`, `big`). The real server's own 410, from a compacted etcd, is in tests/realapi/."""

from __future__ import annotations

import base64
import json
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
import yaml

from tests.apiserver import ApiServer, Fault, Policy, Rule
from tests.e2e import cluster
from tests.e2e.cluster import EXPECTED_ROWS, MISSING_OWNER_WARNING, table_rows
from tests.e2e.conftest import Plugin
from tests.podspecs import owner_ref, pod, socket_spec, workload
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

TOKENS = {"admin-token": "admin", "alice-token": "alice", "bob-token": "bob"}
POLICY = Policy({
    "admin": [Rule(verbs=("*",))],
    "alice": [Rule(resources=("pods",))],  # every pod, no workload
    "bob": [Rule(namespaces=("ci",))],  # everything, but only in ci (a RoleBinding)
})
BIG_NAMESPACES = ("build", "edge", "tools")
PODS_PER_NAMESPACE = 400  # 1,200 pods: three pages of the plugin's 500


def big_cluster() -> list[dict]:
    spec = socket_spec()
    objects: list[dict] = []
    for namespace in BIG_NAMESPACES:
        objects.append(workload("DaemonSet", "agent", spec, namespace))
        objects += [pod(f"agent-{i:04d}", spec, namespace, [owner_ref("DaemonSet", "agent")], f"node-{i % 7}")
                    for i in range(PODS_PER_NAMESPACE)]
    return objects


@pytest.fixture(scope="module")
def strict_server(server_kind: str, cluster_objects: list[dict]) -> Iterator[ApiServer | RealApiServer]:
    """The e2e cluster under POLICY, on both servers (on the real one as Roles and bindings)."""
    if server_kind == "real":
        yield POOL.get("strict", cluster.objects, tokens=TOKENS, policy=POLICY)
        return
    srv = ApiServer(cluster_objects, tokens=TOKENS, policy=POLICY).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def faulty_server(cluster_objects: list[dict]) -> Iterator[ApiServer]:
    """Test server only: faults are injected into its answers."""
    srv = ApiServer(cluster_objects, tokens=TOKENS, policy=POLICY).start()
    yield srv
    srv.stop()


# The real server reads lists from etcd here (no watch cache), so that compacting etcd expires a
# continue token on cue (tests/realapi/test_expiry.py shares this server).
PAGED_SERVER_ARGS = ("--watch-cache=false",)


@pytest.fixture(scope="module")
def paged_server(server_kind: str) -> Iterator[ApiServer | RealApiServer]:
    """The 1,200-pod cluster on both servers: three pages of the plugin's 500."""
    if server_kind == "real":
        yield POOL.get("big", big_cluster, extra_args=PAGED_SERVER_ARGS)
        return
    srv = ApiServer(big_cluster()).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def big_server() -> Iterator[ApiServer]:
    """Test server only: faults are injected into its pages."""
    srv = ApiServer(big_cluster()).start()
    yield srv
    srv.stop()


def plugin_for(server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path,
               token: str | None = "admin-token") -> Plugin:
    if isinstance(server, ApiServer):
        server.faults.clear()
    server.clear_requests()
    config = server.write_kubeconfig(str(tmp_path / "kubeconfig"), token=token, namespace="ci")
    return Plugin(kubeconfig=config, bin_dir=plugin_bin, home=tmp_path)


@pytest.fixture
def strict(strict_server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    return plugin_for(strict_server, plugin_bin, tmp_path)


@pytest.fixture
def faulty(faulty_server: ApiServer, plugin_bin: Path, tmp_path: Path) -> Iterator[Plugin]:
    yield plugin_for(faulty_server, plugin_bin, tmp_path)
    faulty_server.faults.clear()


@pytest.fixture
def big(big_server: ApiServer, plugin_bin: Path, tmp_path: Path) -> Iterator[Plugin]:
    yield plugin_for(big_server, plugin_bin, tmp_path)
    big_server.faults.clear()



def pod_list_statuses(server: ApiServer | RealApiServer) -> list[tuple[int, bool]]:
    return [(r.status, "continue" in r.query) for r in server.requests if r.path == "/api/v1/pods"]


def assert_one_clean_line(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr
    assert stderr == expected + "\n"


# --- retried --------------------------------------------------------------------------------------


def test_too_many_requests_then_success(faulty: Plugin, faulty_server: ApiServer) -> None:
    faulty_server.faults.append(Fault(path_prefix="/api/v1/pods", status=429, headers={"Retry-After": "1"}))
    result = faulty.run("scan", "-A")
    assert result.returncode == 0, result.stderr
    assert result.stderr == MISSING_OWNER_WARNING
    assert table_rows(result.stdout) == EXPECTED_ROWS
    assert pod_list_statuses(faulty_server) == [(429, False), (200, False)]


def test_server_errors_twice_then_success(faulty: Plugin, faulty_server: ApiServer) -> None:
    faulty_server.faults.append(Fault(path_prefix="/api/v1/pods", status=500, times=2))
    result = faulty.run("scan", "-A")
    assert (result.returncode, result.stderr) == (0, MISSING_OWNER_WARNING)
    assert table_rows(result.stdout) == EXPECTED_ROWS
    assert pod_list_statuses(faulty_server) == [(500, False), (500, False), (200, False)]


def test_unavailable_for_ever_is_one_clear_error(faulty: Plugin, faulty_server: ApiServer) -> None:
    # Retry-After: 0 keeps the test fast; the backoff itself is tested without a clock in
    # tests/test_reliability_api.py.
    faulty_server.faults.append(Fault(status=503, times=None, headers={"Retry-After": "0"}))
    result = faulty.run("scan", "-A")
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, "Error from server (ServiceUnavailable): the server is currently "
                                         "unable to handle the request")
    assert pod_list_statuses(faulty_server) == [(503, False)] * 5


def test_a_connection_closed_between_pages_is_retried(big: Plugin, big_server: ApiServer) -> None:
    big_server.faults.append(Fault(path_prefix="/api/v1/pods", status=None, close_connection=True,
                                   on_continue_only=True))
    result = big.run("scan", "-A", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["metadata"]["scanned"]["Pod"] == 1200
    assert pod_list_statuses(big_server) == [(200, False), (0, True), (200, True), (200, True)]


def test_a_list_of_several_pages_reads_each_pod_once(paged_server: ApiServer | RealApiServer, plugin_bin: Path,
                                                    tmp_path: Path) -> None:
    plugin = plugin_for(paged_server, plugin_bin, tmp_path)
    result = plugin.run("scan", "-A", "-o", "json")
    assert (result.returncode, result.stderr) == (0, "")
    doc = json.loads(result.stdout)
    assert doc["metadata"]["scanned"]["Pod"] == 1200
    assert [(i["namespace"], i["owner"]["name"], len(i["pods"])) for i in doc["items"]] == [
        (namespace, "agent", PODS_PER_NAMESPACE) for namespace in BIG_NAMESPACES]
    assert pod_list_statuses(paged_server) == [(200, False), (200, True), (200, True)]
    assert all(r.query.get("limit") == ["500"] for r in paged_server.requests if r.path == "/api/v1/pods")


# --- an expired list ------------------------------------------------------------------------------


def test_an_expired_continue_restarts_the_list_and_reads_each_pod_once(big: Plugin, big_server: ApiServer) -> None:
    big_server.faults.append(Fault(path_prefix="/api/v1/pods", status=410, on_continue_only=True))
    result = big.run("scan", "-A", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["metadata"]["scanned"]["Pod"] == 1200  # 500 of them were listed twice, counted once
    assert [(i["namespace"], i["owner"]["name"], len(i["pods"])) for i in doc["items"]] == [
        (namespace, "agent", PODS_PER_NAMESPACE) for namespace in BIG_NAMESPACES]
    assert pod_list_statuses(big_server) == [(200, False), (410, True), (200, False), (200, True), (200, True)]


def test_a_second_expiry_fails_clearly(big: Plugin, big_server: ApiServer) -> None:
    big_server.faults.append(Fault(path_prefix="/api/v1/pods", status=410, on_continue_only=True, times=2))
    result = big.run("scan", "-A")
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, "Error from server (Expired): the list of pods expired twice while it was "
                                         "read page by page (it was restarted once); try again, or read less at "
                                         "once with -n NAMESPACE or -l SELECTOR")


# --- not retried ----------------------------------------------------------------------------------


def test_request_timeout(faulty: Plugin, faulty_server: ApiServer) -> None:
    faulty_server.faults.append(Fault(status=None, delay=2))
    result = faulty.run("scan", "-A", "--request-timeout", "1s")
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, "Unable to connect to the server: net/http: request canceled "
                                         "(Client.Timeout exceeded while awaiting headers)")
    # The server logs the request once its delay is over; wait for it so that it does not land
    # in the next test's log, and check nothing else was sent (a timeout is not retried).
    deadline = time.monotonic() + 10
    while not faulty_server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    assert len(faulty_server.requests) == 1


def test_wrong_certificate_authority_in_the_kubeconfig(strict: Plugin, strict_server: ApiServer) -> None:
    config = yaml.safe_load(Path(strict.kubeconfig).read_text())
    config["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
        trustme.CA().cert_pem.bytes()).decode()
    Path(strict.kubeconfig).write_text(yaml.safe_dump(config))
    result = strict.run("scan", "-A")
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, "Unable to connect to the server: tls: failed to verify certificate: "
                                         "x509: certificate signed by unknown authority")
    assert strict_server.requests == []


def test_unknown_host(strict: Plugin) -> None:
    result = strict.run("scan", "-A", "--server", "https://api.cluster.invalid:6443")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("Unable to connect to the server: dial tcp: lookup api.cluster.invalid")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def exec_user(plugin: Plugin, tmp_path: Path, script: str) -> Path:
    """Point the kubeconfig's user at an exec credential plugin running `script`."""
    creds = tmp_path / "get-token"
    creds.write_text(f"#!{sys.executable}\nimport json, sys\n{script}\n")
    creds.chmod(creds.stat().st_mode | stat.S_IXUSR)
    config = yaml.safe_load(Path(plugin.kubeconfig).read_text())
    config["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(creds),
                                           "interactiveMode": "Never"}}
    Path(plugin.kubeconfig).write_text(yaml.safe_dump(config))
    return creds


def test_a_failing_exec_credential_plugin_is_named(strict: Plugin, strict_server: ApiServer, tmp_path: Path) -> None:
    creds = exec_user(strict, tmp_path, 'sys.stderr.write("login expired, run sso-login\\n"); sys.exit(2)')
    result = strict.run("scan", "-A")
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, f"error: getting credentials: exec: executable {creds} failed with exit "
                                         "code 2: login expired, run sso-login")
    assert strict_server.requests == []


def test_a_token_from_an_exec_plugin_that_the_server_rejects(strict: Plugin, strict_server: ApiServer,
                                                             tmp_path: Path) -> None:
    exec_user(strict, tmp_path, 'print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", '
                                '"kind": "ExecCredential", "status": {"token": "revoked-token"}}))')
    result = strict.run("scan", "-A")
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, "error: You must be logged in to the server (Unauthorized)")
    assert [r.status for r in strict_server.requests] == [401]  # not retried


# --- partial permissions --------------------------------------------------------------------------


def test_pods_readable_but_not_their_owners(strict: Plugin, strict_server: ApiServer) -> None:
    result = strict.run("scan", "-A", "--token", "alice-token")
    assert result.returncode == 4, result.stderr  # incomplete: owners could not be read
    rows = table_rows(result.stdout)
    # Every finding of a running pod is still reported, each under the owner its pods name
    # (workloads without pods need lists that are forbidden here).
    def finding(row: tuple[str, ...]) -> tuple[str, ...]:
        return (row[0], *row[3:])

    assert sorted(map(finding, rows)) == sorted(finding(r) for r in EXPECTED_ROWS if r[3] != "0")
    owners = {r[1] for r in rows}
    assert {"ReplicaSet/runner-5d4f8", "Job/image-build-2890", "ReplicaSet/canary-7c9", "DaemonSet/datadog",
            "Pod/debug-shell", "Node/node-1"} <= owners
    warnings = result.stderr.splitlines()
    assert warnings and all(w.startswith("Warning: cannot ") and "(Forbidden)" in w for w in warnings)
    assert 'Warning: cannot read replicasets.apps in the namespace "ci" (Forbidden): owners are shown as far as ' \
           "they could be resolved" in warnings
    assert "Traceback" not in result.stderr
    assert {r.method for r in strict_server.requests} == {"GET"}


def test_all_namespaces_forbidden_at_cluster_scope(strict: Plugin) -> None:
    result = strict.run("scan", "-A", "--token", "bob-token")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        'Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" at '
        "the cluster scope",
        "hint: you may be allowed to read only some namespaces: scan them with -n NAMESPACE[,NAMESPACE...]"]


def test_the_namespace_that_is_readable(strict: Plugin) -> None:
    result = strict.run("scan", "-n", "ci", "--token", "bob-token")
    assert result.returncode == 0, result.stderr
    assert [r[0] for r in table_rows(result.stdout)] == [r[1] for r in EXPECTED_ROWS if r[0] == "ci"]


def test_a_list_of_namespaces_of_which_one_is_forbidden(strict: Plugin) -> None:
    result = strict.run("scan", "-n", "ci,monitoring", "--token", "bob-token")
    assert result.returncode == 4, result.stderr
    assert {r[0] for r in table_rows(result.stdout)} == {"ci"}
    assert 'Warning: cannot list pods in the namespace "monitoring" (Forbidden): not scanned' in \
        result.stderr.splitlines()
    assert "Traceback" not in result.stderr
