"""The read-only API client against the test API server: pages, gets, headers on the wire, errors."""

from __future__ import annotations

import http.server
import socket
import stat
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme

from plugin.api import USER_AGENT, ApiClient, RetryPolicy
from plugin.errors import ApiError, ConfigError
from plugin.kubeconfig import ConnectionFlags, InClusterFiles, load_connection
from plugin.resources import DAEMONSETS, NODES, PODS, Resource
from tests.apiserver import ApiServer, Fault, Policy, Rule
from tests.loopback import closed_port

ROLLOUTS = Resource("Rollout", "rollouts", "argoproj.io", "v1alpha1", True)
# One try per request: these tests are about single answers; retries are tested in
# tests/test_reliability_api.py.
ONE_TRY = RetryPolicy(retries=0)


def pod(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


OBJECTS = [
    *(pod(f"web-{i}", app="web") for i in range(3)),
    *(pod(f"db-{i}", app="db") for i in range(2)),
    pod("tool", "kube-tools", app="tool"),
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}},
]


@pytest.fixture
def server() -> Iterator[ApiServer]:
    srv = ApiServer(OBJECTS, tokens={"admin-token": "admin", "viewer-token": "viewer"},
                    policy=Policy({"admin": [Rule(verbs=("*",))],
                                   "viewer": [Rule(namespaces=("kube-tools",))]})).start()
    try:
        yield srv
        # Whatever a test did, the client never sent anything but GET.
        assert {r.method for r in srv.requests} <= {"GET"}
    finally:
        srv.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def connect(server: ApiServer, tmp_path: Path, home: Path, token: str | None = "admin-token",
            **flags: Any) -> ApiClient:
    config = server.write_kubeconfig(tmp_path / "kubeconfig", token=token)
    connection = load_connection(ConnectionFlags(kubeconfig=config, **flags), {"HOME": str(home)})
    return ApiClient(connection, retry=ONE_TRY)


def flags_only(server_url: str, home: Path, tmp_path: Path, **flags: Any) -> ApiClient:
    missing = tmp_path / "no-serviceaccount"
    connection = load_connection(ConnectionFlags(server=server_url, **flags), {"HOME": str(home)},
                                 in_cluster_files=InClusterFiles(str(missing / "t"), str(missing / "c"),
                                                                 str(missing / "n")))
    return ApiClient(connection, retry=ONE_TRY)


def names(pages: Any) -> list[str]:
    return [item["metadata"]["name"] for page in pages for item in page]


# --- reading --------------------------------------------------------------------------------------


def test_pages_follow_continue(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    pages = api.list_pages(PODS, "default", limit=2)
    first = next(pages)
    assert len(first) == 2 and api.request_count == 1  # a page is handed over before the next is asked
    rest = list(pages)
    assert [len(p) for p in [first, *rest]] == [2, 2, 1]
    assert sorted(names([first, *rest])) == ["db-0", "db-1", "web-0", "web-1", "web-2"]
    assert all("kind" not in item or item["kind"] == "Pod" for item in first)

    log = server.requests
    assert [r.path for r in log] == ["/api/v1/namespaces/default/pods"] * 3
    assert [r.query.get("limit") for r in log] == [["2"]] * 3
    assert "continue" not in log[0].query
    tokens = [r.query["continue"][0] for r in log[1:]]
    assert len(set(tokens)) == 2 and all(tokens)
    assert api.request_count == 3


def test_prefetch_asks_for_the_next_page_before_handing_this_one_over(server: ApiServer, tmp_path: Path,
                                                                      home: Path) -> None:
    api = connect(server, tmp_path, home)
    pages = api.list_pages(PODS, "default", limit=2, prefetch=True)
    first = next(pages)
    assert len(first) == 2 and api.request_count == 2  # page 2 is on its way while page 1 is read
    rest = list(pages)
    assert [len(p) for p in [first, *rest]] == [2, 2, 1]
    assert sorted(names([first, *rest])) == ["db-0", "db-1", "web-0", "web-1", "web-2"]
    log = server.requests
    assert [r.query.get("limit") for r in log] == [["2"]] * 3 and api.request_count == 3
    assert "continue" not in log[0].query and all(r.query.get("continue") for r in log[1:])


def test_time_the_caller_spends_on_a_prefetched_page_is_not_the_request_s(server: ApiServer, tmp_path: Path,
                                                                          home: Path) -> None:
    api = connect(server, tmp_path, home, request_timeout="1s")
    pages = api.list_pages(PODS, "default", limit=2, prefetch=True)
    found = []
    for page in pages:
        time.sleep(1.2)  # longer than the timeout, while the next page waits in the connection
        found += page
    assert len(found) == 5 and api.request_count == 3


def test_a_list_left_unfinished_closes_the_page_it_asked_for(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    pages = api.list_pages(PODS, "default", limit=2, prefetch=True)
    assert len(next(pages)) == 2
    pages.close()  # the answer to the second request is never read: its connection is closed, not reused
    pool = api._pool.connection_from_url(server.url)
    assert pool.pool is not None and pool.pool.qsize() == pool.pool.maxsize  # none left checked out
    assert len(names(api.list_pages(PODS, "default", limit=2))) == 5
    assert api.request_count == 5


def test_all_namespaces_and_cluster_scoped(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    assert "tool" in names(api.list_pages(PODS, None))
    assert names(api.list_pages(NODES, "ignored-for-cluster-scope")) == ["node-1"]
    assert [r.path for r in server.requests] == ["/api/v1/pods", "/api/v1/nodes"]
    assert server.requests[0].query == {"limit": ["500"]}


def test_limit_zero_sends_no_limit(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    assert len(names(api.list_pages(PODS, "default", limit=0))) == 5
    assert server.requests[0].query == {}


def test_selectors_are_passed_through(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    found = names(api.list_pages(PODS, "default", label_selector="app in (web),app!=db",
                                 field_selector="metadata.name!=web-1"))
    assert sorted(found) == ["web-0", "web-2"]
    assert server.requests[0].query == {"labelSelector": ["app in (web),app!=db"],
                                        "fieldSelector": ["metadata.name!=web-1"], "limit": ["500"]}


def test_get_and_not_found(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    found = api.get(PODS, "default", "web-0")
    assert found is not None and found["metadata"]["name"] == "web-0" and found["kind"] == "Pod"
    assert api.get(PODS, "default", "missing") is None
    assert api.get(NODES, None, "node-1") is not None
    assert [(r.path, r.status) for r in server.requests] == [
        ("/api/v1/namespaces/default/pods/web-0", 200), ("/api/v1/namespaces/default/pods/missing", 404),
        ("/api/v1/nodes/node-1", 200)]
    assert api.request_count == 3


def test_headers_on_the_wire(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home, as_user="jane", as_groups=("dev", "ops"), as_uid="u-1")
    with pytest.raises(ApiError):
        # jane may do nothing; the request still shows what was sent
        list(api.list_pages(PODS, "default"))
    (record,) = server.requests
    sent = record.headers
    assert ("Authorization", "Bearer admin-token") in sent
    assert ("Accept", "application/json") in sent
    assert ("User-Agent", USER_AGENT) in sent
    assert ("Impersonate-User", "jane") in sent and ("Impersonate-Uid", "u-1") in sent
    # one header line per group, not one comma-joined line
    assert [v for k, v in sent if k == "Impersonate-Group"] == ["dev", "ops"]
    assert (record.authenticated_user, record.user, record.groups) == ("admin", "jane", ("dev", "ops"))


def test_bearer_token_identifies_the_user(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home, token="viewer-token")
    assert names(api.list_pages(PODS, "kube-tools")) == ["tool"]
    assert server.requests[0].user == "viewer"


def test_client_certificate(server: ApiServer, tmp_path: Path, home: Path) -> None:
    cert, key = server.issue_client_cert("admin")
    config = server.write_kubeconfig(tmp_path / "kubeconfig", token=None, client_cert=(cert, key))
    api = ApiClient(load_connection(ConnectionFlags(kubeconfig=config), {"HOME": str(home)}))
    assert api.get(NODES, None, "node-1") is not None
    assert server.requests[0].user == "admin"
    assert not [v for k, v in server.requests[0].headers if k.lower() == "authorization"]


def test_exec_plugin_token_is_refreshed_per_request(server: ApiServer, tmp_path: Path, home: Path) -> None:
    runs = tmp_path / "runs"
    plugin = tmp_path / "creds"
    # Expired on arrival, so the client runs the plugin again before every request; the third run fails.
    plugin.write_text(f"""#!{sys.executable}
import json, sys
from pathlib import Path
runs = Path({str(runs)!r})
count = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(count))
if count >= 3:
    sys.stderr.write("refresh token revoked\\n")
    sys.exit(1)
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {{"token": "admin-token", "expirationTimestamp": "2000-01-01T00:00:00Z"}}}}))
""")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    config = Path(server.write_kubeconfig(tmp_path / "kubeconfig", token=None))
    text = config.read_text().replace(
        "user: {}", f"user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {plugin}")
    config.write_text(text)
    api = ApiClient(load_connection(ConnectionFlags(kubeconfig=str(config)), {"HOME": str(home)}))
    assert api.get(NODES, None, "node-1") is not None  # run 2 (run 1 was at load time)
    assert server.requests[0].user == "admin"
    with pytest.raises(ConfigError) as err:
        api.get(NODES, None, "node-1")
    assert str(err.value) == (f"error: getting credentials: exec: executable {plugin} failed with exit "
                              "code 1: refresh token revoked")
    assert len(server.requests) == 1  # nothing is sent with a stale token


# --- errors from the server ----------------------------------------------------------------------


def test_unauthorized(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home, token="wrong-token")
    with pytest.raises(ApiError) as err:
        list(api.list_pages(PODS, "default"))
    assert str(err.value) == "error: You must be logged in to the server (Unauthorized)"
    assert (err.value.status, err.value.reason) == (401, "Unauthorized")
    assert "wrong-token" not in str(err.value)


def test_forbidden(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home, token="viewer-token")
    with pytest.raises(ApiError) as err:
        list(api.list_pages(PODS, "default"))
    assert str(err.value) == ('Error from server (Forbidden): pods is forbidden: User "viewer" cannot list '
                              'resource "pods" in API group "" in the namespace "default"')
    assert (err.value.status, err.value.reason) == (403, "Forbidden")
    with pytest.raises(ApiError) as err:
        api.get(DAEMONSETS, "default", "agent")  # a forbidden get is an error, not "not found"
    assert err.value.reason == "Forbidden"
    assert str(err.value).startswith('Error from server (Forbidden): daemonsets.apps "agent" is forbidden: ')


def test_list_of_a_resource_the_server_lacks(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    with pytest.raises(ApiError) as err:
        list(api.list_pages(ROLLOUTS, "default"))
    assert (err.value.status, err.value.reason) == (404, "NotFound")
    # A group the server does not serve is answered by its mux, in plain text, as on a real server:
    # client-go's words for such a 404 then name the resource asked for.
    assert str(err.value) == ("Error from server (NotFound): the server could not find the requested resource "
                              "(get rollouts.argoproj.io)")


def test_server_error_status(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/default/pods", status=500,
                               on_continue_only=True))
    pages = api.list_pages(PODS, "default", limit=2)
    assert len(next(pages)) == 2  # the first page arrives before the failing one
    with pytest.raises(ApiError) as err:
        next(pages)
    assert str(err.value) == "Error from server (InternalError): Internal error occurred: injected fault"
    assert (err.value.status, err.value.reason) == (500, "InternalError")


def test_dropped_connection(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home)
    server.faults.append(Fault(status=None, close_connection=True))
    with pytest.raises(ApiError) as err:
        api.get(PODS, "default", "web-0")
    # EOF or a reset, depending on how the kernel ends the connection; both as Go words them.
    assert str(err.value) in ("Unable to connect to the server: EOF",
                              f"Unable to connect to the server: read tcp 127.0.0.1:{server.port}: "
                              "connection reset by peer")
    assert err.value.status == 0


def test_request_timeout(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home, request_timeout="200ms")
    server.faults.append(Fault(status=None, delay=1.0))
    with pytest.raises(ApiError) as err:
        api.get(PODS, "default", "web-0")
    assert str(err.value) == ("Unable to connect to the server: net/http: request canceled "
                              "(Client.Timeout exceeded while awaiting headers)")


@contextmanager
def plain_http(status: int, body: bytes, content_type: str = "text/html") -> Iterator[int]:
    """A loopback HTTP endpoint that is not an API server (a load balancer, a proxy); yields its port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_error_without_a_status_body(tmp_path: Path, home: Path) -> None:
    page = b"<html><body>Bad Gateway from the load balancer</body></html>" + b" " * 500 + b"END"
    with plain_http(502, page) as port:
        api = flags_only(f"http://127.0.0.1:{port}", home, tmp_path)
        with pytest.raises(ApiError) as err:
            list(api.list_pages(DAEMONSETS, "default"))
    message = str(err.value)
    assert message.startswith('Error from server (InternalError): an error on the server ("<html><body>Bad '
                              'Gateway from the load balancer</body></html>')
    assert message.endswith('") has prevented the request from succeeding (get daemonsets.apps)')
    assert "END" not in message  # only the start of the body
    assert (err.value.status, err.value.reason) == (502, "InternalError")


@pytest.mark.parametrize(("status", "expected"), [
    (401, "error: You must be logged in to the server (the server has asked for the client to provide "
          "credentials)"),
    (503, "Error from server (ServiceUnavailable): the server is currently unable to handle the request "
          "(get pods web-0)"),
    (418, "Error from server (Unknown): the server responded with the status code 418 but did not return more "
          "information (get pods web-0)"),
])
def test_plain_error_responses_use_client_go_wording(tmp_path: Path, home: Path, status: int,
                                                      expected: str) -> None:
    with plain_http(status, b"nope", "text/plain") as port:
        api = flags_only(f"http://127.0.0.1:{port}", home, tmp_path)
        with pytest.raises(ApiError) as err:
            api.get(PODS, "default", "web-0")
    assert str(err.value) == expected
    assert err.value.status == status


def test_a_non_json_success_is_an_error(tmp_path: Path, home: Path) -> None:
    with plain_http(200, b"<html>login page</html>") as port:
        api = flags_only(f"http://127.0.0.1:{port}", home, tmp_path)
        with pytest.raises(ApiError, match="not a JSON object"):
            list(api.list_pages(PODS, "default"))


# --- errors before an answer ----------------------------------------------------------------------


def test_connection_refused(tmp_path: Path, home: Path) -> None:
    port = closed_port()
    api = flags_only(f"https://127.0.0.1:{port}", home, tmp_path, insecure_skip_tls_verify=True)
    with pytest.raises(ApiError) as err:
        list(api.list_pages(PODS, "default"))
    assert str(err.value) == (f"The connection to the server 127.0.0.1:{port} was refused - did you specify "
                              "the right host or port?")
    assert err.value.status == 0


def test_wrong_certificate_authority(server: ApiServer, tmp_path: Path, home: Path) -> None:
    other_ca = tmp_path / "other-ca.crt"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    api = connect(server, tmp_path, home, certificate_authority=str(other_ca))
    with pytest.raises(ApiError) as err:
        api.get(PODS, "default", "web-0")
    assert str(err.value) == ("Unable to connect to the server: tls: failed to verify certificate: "
                              "x509: certificate signed by unknown authority")
    assert server.requests == []


def test_wrong_server_name(server: ApiServer, tmp_path: Path, home: Path) -> None:
    api = connect(server, tmp_path, home, tls_server_name="api.example.com")
    with pytest.raises(ApiError) as err:
        api.get(PODS, "default", "web-0")
    assert str(err.value) == ("Unable to connect to the server: tls: failed to verify certificate: "
                              "x509: certificate is not valid for api.example.com")


def test_insecure_skip_tls_verify_warns_about_nothing(server: ApiServer, tmp_path: Path, home: Path,
                                                      capfd: pytest.CaptureFixture[str]) -> None:
    api = flags_only(server.url, home, tmp_path, token="admin-token", insecure_skip_tls_verify=True)
    with warnings.catch_warnings(record=True) as seen:
        assert api.get(PODS, "default", "web-0") is not None
    assert [str(w.message) for w in seen] == []
    assert capfd.readouterr() == ("", "")


def test_unknown_host(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # Deterministic without a resolver: the lookup fails the way glibc reports an unknown name.
    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    api = flags_only("https://api.nowhere.invalid:6443", home, tmp_path, insecure_skip_tls_verify=True)
    with pytest.raises(ApiError) as err:
        api.get(PODS, "default", "x")
    assert str(err.value) == "Unable to connect to the server: dial tcp: lookup api.nowhere.invalid: no such host"


def test_tls_to_a_plain_http_port(tmp_path: Path, home: Path) -> None:
    with plain_http(200, b"{}") as port:
        api = flags_only(f"https://127.0.0.1:{port}", home, tmp_path, insecure_skip_tls_verify=True)
        with pytest.raises(ApiError) as err:
            api.get(PODS, "default", "x")
    assert str(err.value) == "Unable to connect to the server: http: server gave HTTP response to HTTPS client"


def test_client_certificate_problems(server: ApiServer, tmp_path: Path, home: Path) -> None:
    cert, _ = server.issue_client_cert("admin")
    _, other_key = server.issue_client_cert("someone-else")
    not_pem = tmp_path / "not-pem.key"
    not_pem.write_text("this is not a key\n")
    for key, reason in ((other_key, "tls: private key does not match public key"),
                        (str(not_pem), "tls: failed to load the client certificate and key: not valid PEM data")):
        api = connect(server, tmp_path, home, token=None, client_certificate=cert, client_key=key)
        with pytest.raises(ApiError) as err:
            api.get(NODES, None, "node-1")
        assert str(err.value) == f"Unable to connect to the server: {reason}"
    assert server.requests == []


def replica_set(name: str, annotation: str = "") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default", "annotations": {"note": annotation},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                              "uid": "u1", "controller": True}]},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}


@pytest.mark.parametrize("annotation, limits", [
    ("", ["500", "2000", "2000"]),  # a few hundred bytes each: pages grow to 2,000
    ("x" * 12000, ["500"] * 9),  # 12 KB each (managedFields are 5 KB on a real server): 2,000 would be 24 MB
])
def test_metadata_pages_grow_only_while_they_stay_small(tmp_path: Path, home: Path, annotation: str,
                                                       limits: list[str]) -> None:
    from plugin.resources import REPLICASETS

    with ApiServer([replica_set(f"web-{i:04d}", annotation) for i in range(4100)]) as srv:
        api = connect(srv, tmp_path, home)
        found = names(api.list_pages(REPLICASETS, None, metadata_only=True))
        assert sorted(found) == [f"web-{i:04d}" for i in range(4100)]
        assert [r.query["limit"][0] for r in srv.requests] == limits


def accept_encoding(record: Any) -> list[str]:
    return [value for name, value in record.headers if name.lower() == "accept-encoding"]


def test_answers_are_asked_compressed_unless_the_cluster_or_the_flag_says_not(server: ApiServer, tmp_path: Path,
                                                                           home: Path) -> None:
    import yaml

    names(connect(server, tmp_path, home).list_pages(PODS, "default"))
    names(connect(server, tmp_path, home, disable_compression=True).list_pages(PODS, "default"))
    config = Path(server.write_kubeconfig(tmp_path / "kubeconfig", token="admin-token"))
    document = yaml.safe_load(config.read_text())
    document["clusters"][0]["cluster"]["disable-compression"] = True  # kubectl's field (1.26+)
    config.write_text(yaml.safe_dump(document))
    connection = load_connection(ConnectionFlags(kubeconfig=str(config)), {"HOME": str(home)})
    names(ApiClient(connection, retry=ONE_TRY).list_pages(PODS, "default"))
    assert ["gzip" in ",".join(accept_encoding(r)) for r in server.requests] == [True, False, False]
