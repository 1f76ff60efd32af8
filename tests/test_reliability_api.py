"""The API client against a misbehaving server: what is retried (429, 5xx, dropped connections),
how long it waits (`Retry-After`, bounded backoff), what fails at once (refused, TLS, timeouts,
credentials), and how an expired list continues without handing over an object twice. Sleeps
are recorded instead of slept."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme

from plugin.api import DEFAULT_RETRY, RETRY_STATUSES, ApiClient, RetryPolicy
from plugin.errors import ApiError, ConfigError
from plugin.kubeconfig import ConnectionFlags, InClusterFiles, load_connection
from plugin.resources import PODS, REPLICASETS
from tests.apiserver import ApiServer, Fault, Policy, Rule
from tests.loopback import closed_port


def pod(name: str, namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


# Namespaces whose names sort differently as (namespace, name) and as etcd's "namespace/name".
OBJECTS = [pod(f"p{i}", ns) for ns in ("a", "a-b", "b") for i in range(4)]


class Sleeps(list):
    """Stands in for time.sleep: records each wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[ApiServer]:
    srv = ApiServer(OBJECTS, tokens={"admin-token": "admin", "viewer-token": "viewer"},
                    policy=Policy({"admin": [Rule(verbs=("*",))], "viewer": [Rule(resources=("pods",))]})).start()
    try:
        yield srv
        assert {r.method for r in srv.requests} <= {"GET"}
    finally:
        srv.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def client(server: ApiServer, tmp_path: Path, sleeps: Sleeps, token: str = "admin-token",
           retry: RetryPolicy | None = None, **flags: Any) -> ApiClient:
    config = server.write_kubeconfig(tmp_path / "kubeconfig", token=token)
    connection = load_connection(ConnectionFlags(kubeconfig=config, **flags), {"HOME": str(tmp_path)})
    return ApiClient(connection, retry=retry, sleep=sleeps)


def names(pages: Any) -> list[str]:
    return [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for page in pages for i in page]


def statuses(server: ApiServer) -> list[int]:
    return [r.status for r in server.requests]


# --- the policy -----------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_and_retry_after_is_capped_too() -> None:
    policy = RetryPolicy(retries=7)
    assert [policy.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert policy.delay(0, retry_after=3) == 3.0
    assert policy.delay(3, retry_after=0) == 0.0  # the server says now: no backoff on top
    assert policy.delay(0, retry_after=3600) == 8.0
    assert DEFAULT_RETRY == RetryPolicy(retries=4, base_delay=0.5, max_delay=8.0)
    assert RETRY_STATUSES == {429, 500, 502, 503, 504}


# --- statuses that are retried ----------------------------------------------------------------------


def test_too_many_requests_honours_retry_after(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/a/pods", status=429, headers={"Retry-After": "3"}))
    api = client(server, tmp_path, sleeps)
    assert names(api.list_pages(PODS, "a")) == [f"a/p{i}" for i in range(4)]
    assert sleeps == [3.0]
    assert statuses(server) == [429, 200]
    assert api.request_count == 2


def test_retry_after_beyond_the_cap_waits_the_cap(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    server.faults.append(Fault(status=503, headers={"Retry-After": "120"}))
    api = client(server, tmp_path, sleeps)
    assert api.get(PODS, "a", "p0") is not None
    assert sleeps == [8.0]


@pytest.mark.parametrize("header", ["soon", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "1.5"])
def test_a_retry_after_that_is_not_whole_seconds_falls_back_to_backoff(server: ApiServer, tmp_path: Path,
                                                                       sleeps: Sleeps, header: str) -> None:
    server.faults.append(Fault(status=429, times=2, headers={"Retry-After": header}))
    assert client(server, tmp_path, sleeps).get(PODS, "a", "p0") is not None
    assert sleeps == [0.5, 1.0]


def test_retry_after_seconds_in_the_status_details(server: ApiServer, tmp_path: Path, sleeps: Sleeps,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Only in the body (the test server copies the header there; here the header is dropped).
    from tests.apiserver import server as server_module

    real = server_module.ApiServer._fault_answer

    def body_only(self: ApiServer, fault: Fault, is_continue: bool) -> Any:
        answer = real(self, fault, is_continue)
        answer.headers.pop("Retry-After", None)
        return answer

    monkeypatch.setattr(server_module.ApiServer, "_fault_answer", body_only)
    server.faults.append(Fault(status=429, headers={"Retry-After": "2"}))
    assert client(server, tmp_path, sleeps).get(PODS, "a", "p0") is not None
    assert sleeps == [2.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_twice_then_success(server: ApiServer, tmp_path: Path, sleeps: Sleeps, status: int) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/pods", status=status, times=2))
    api = client(server, tmp_path, sleeps)
    assert len(names(api.list_pages(PODS))) == 12
    assert sleeps == [0.5, 1.0]
    assert statuses(server) == [status, status, 200]


@pytest.mark.parametrize(("status", "message"), [
    (503, "Error from server (ServiceUnavailable): the server is currently unable to handle the request"),
    (429, "Error from server (TooManyRequests): Too many requests, please try again later."),
    (500, "Error from server (InternalError): Internal error occurred: injected fault"),
])
def test_failing_for_ever_gives_up_with_the_servers_error(server: ApiServer, tmp_path: Path, sleeps: Sleeps,
                                                          status: int, message: str) -> None:
    server.faults.append(Fault(status=status, times=None))
    api = client(server, tmp_path, sleeps)
    with pytest.raises(ApiError) as err:
        list(api.list_pages(PODS, "a"))
    assert str(err.value) == message
    assert err.value.status == status
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    assert api.request_count == len(server.requests) == 5


def test_a_page_in_the_middle_is_retried_and_nothing_is_repeated(server: ApiServer, tmp_path: Path,
                                                                 sleeps: Sleeps) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/pods", status=503, on_continue_only=True))
    api = client(server, tmp_path, sleeps)
    found = names(api.list_pages(PODS, limit=5))
    assert len(found) == len(set(found)) == 12
    assert statuses(server) == [200, 503, 200, 200]
    # the retry asked for the same page again
    assert server.requests[1].query["continue"] == server.requests[2].query["continue"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 501])
def test_other_errors_are_not_retried(server: ApiServer, tmp_path: Path, sleeps: Sleeps, status: int) -> None:
    server.faults.append(Fault(status=status, times=None))
    api = client(server, tmp_path, sleeps)
    with pytest.raises(ApiError):
        list(api.list_pages(PODS, "a"))
    assert sleeps == [] and len(server.requests) == 1


def test_a_forbidden_list_is_not_retried(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    api = client(server, tmp_path, sleeps, token="viewer-token")
    with pytest.raises(ApiError) as err:
        list(api.list_pages(REPLICASETS, "a"))
    assert err.value.status == 403 and sleeps == [] and len(server.requests) == 1


def test_retries_can_be_switched_off(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    server.faults.append(Fault(status=503))
    api = client(server, tmp_path, sleeps, retry=RetryPolicy(retries=0))
    with pytest.raises(ApiError):
        api.get(PODS, "a", "p0")
    assert sleeps == []


# --- dropped connections ------------------------------------------------------------------------


def test_a_dropped_connection_is_retried(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/pods", status=None, close_connection=True,
                               on_continue_only=True))
    api = client(server, tmp_path, sleeps)
    found = names(api.list_pages(PODS, limit=5))
    assert len(found) == len(set(found)) == 12
    assert statuses(server) == [200, 0, 200, 200]
    assert sleeps == [0.5]


def test_a_connection_dropped_every_time_gives_up_with_eof(server: ApiServer, tmp_path: Path,
                                                           sleeps: Sleeps) -> None:
    server.faults.append(Fault(status=None, close_connection=True, times=None))
    api = client(server, tmp_path, sleeps)
    with pytest.raises(ApiError) as err:
        api.get(PODS, "a", "p0")
    assert str(err.value) == "Unable to connect to the server: EOF"
    assert err.value.status == 0
    assert sleeps == [0.5, 1.0, 2.0, 4.0] and len(server.requests) == 5


@contextmanager
def truncating_server(good_after: int) -> Iterator[tuple[int, list[int]]]:
    """Plain HTTP that promises a body and closes half-way through it, `good_after` times, then
    answers properly; yields (port, answered), `answered` counting the requests."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    answered: list[int] = []
    body = b'{"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [{"metadata": {"name": "x"}}]}'

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                answered.append(1)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                if len(answered) <= good_after:
                    conn.sendall(head + b"Content-Length: %d\r\n\r\n" % (len(body) * 2) + body)
                else:
                    conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], answered
    finally:
        listener.close()


def flags_client(url: str, tmp_path: Path, sleeps: Sleeps, **flags: Any) -> ApiClient:
    missing = tmp_path / "no-serviceaccount"
    connection = load_connection(ConnectionFlags(server=url, **flags), {"HOME": str(tmp_path)},
                                 in_cluster_files=InClusterFiles(str(missing / "t"), str(missing / "c"),
                                                                 str(missing / "n")))
    return ApiClient(connection, sleep=sleeps)


def test_a_body_cut_short_is_retried(tmp_path: Path, sleeps: Sleeps) -> None:
    with truncating_server(good_after=1) as (port, answered):
        api = flags_client(f"http://127.0.0.1:{port}", tmp_path, sleeps)
        assert [i["metadata"]["name"] for page in api.list_pages(PODS, "default") for i in page] == ["x"]
    assert len(answered) == 2 and sleeps == [0.5]


def test_a_body_cut_short_every_time_gives_up(tmp_path: Path, sleeps: Sleeps) -> None:
    with truncating_server(good_after=99) as (port, answered):
        api = flags_client(f"http://127.0.0.1:{port}", tmp_path, sleeps)
        with pytest.raises(ApiError) as err:
            list(api.list_pages(PODS, "default"))
    assert str(err.value) == "Unable to connect to the server: EOF"
    assert len(answered) == 5


# --- failures that are not retried --------------------------------------------------------------


def test_connection_refused_fails_at_once(tmp_path: Path, sleeps: Sleeps) -> None:
    port = closed_port()
    api = flags_client(f"https://127.0.0.1:{port}", tmp_path, sleeps, insecure_skip_tls_verify=True)
    with pytest.raises(ApiError) as err:
        api.get(PODS, "a", "p0")
    assert str(err.value).startswith(f"The connection to the server 127.0.0.1:{port} was refused")
    assert sleeps == [] and api.request_count == 1


def test_tls_verification_failure_fails_at_once(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    other_ca = tmp_path / "other-ca.crt"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    api = client(server, tmp_path, sleeps, certificate_authority=str(other_ca))
    with pytest.raises(ApiError) as err:
        api.get(PODS, "a", "p0")
    assert "x509: certificate signed by unknown authority" in str(err.value)
    assert sleeps == [] and server.requests == []


def test_a_server_that_hangs_up_during_the_handshake_is_not_retried(tmp_path: Path, sleeps: Sleeps) -> None:
    # A TLS endpoint rejecting us (wrong protocol version, as some load balancers do).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            try:
                context.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                pass
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        api = flags_client(f"https://127.0.0.1:{listener.getsockname()[1]}", tmp_path, sleeps,
                           insecure_skip_tls_verify=True)
        api._pool.connection_pool_kw["ssl_minimum_version"] = ssl.TLSVersion.TLSv1_3
        with pytest.raises(ApiError) as err:
            api.get(PODS, "a", "p0")
    finally:
        listener.close()
    assert str(err.value).startswith("Unable to connect to the server: ")
    assert sleeps == [] and len(accepted) == 1


def test_a_timeout_is_not_retried(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    fault = Fault(status=None, delay=1.0, times=None)
    server.faults.append(fault)
    api = client(server, tmp_path, sleeps, request_timeout="200ms")
    with pytest.raises(ApiError) as err:
        api.get(PODS, "a", "p0")
    assert str(err.value) == ("Unable to connect to the server: net/http: request canceled "
                              "(Client.Timeout exceeded while awaiting headers)")
    assert sleeps == [] and api.request_count == 1


def test_a_failing_credential_plugin_is_not_retried(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    api = client(server, tmp_path, sleeps)
    calls: list[int] = []

    def fail() -> str:
        calls.append(1)
        raise ConfigError("error: getting credentials: exec: executable creds failed with exit code 1")

    api._connection.authorization = fail  # type: ignore[method-assign]
    with pytest.raises(ConfigError):
        api.get(PODS, "a", "p0")
    assert calls == [1] and sleeps == [] and server.requests == []


# --- an expired list ------------------------------------------------------------------------------


def test_an_expired_continue_restarts_the_list_once_without_repeating_objects(
        server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/pods", status=410, on_continue_only=True))
    api = client(server, tmp_path, sleeps)
    pages = list(api.list_pages(PODS, limit=5))
    found = names(pages)
    assert sorted(found) == sorted(names([OBJECTS_AS_ITEMS]))
    assert len(found) == len(set(found)) == 12
    assert [len(p) for p in pages] == [5, 5, 2]  # the restart's first page was all seen: not handed over
    log = server.requests
    assert [(r.status, "continue" in r.query) for r in log] == [
        (200, False), (410, True), (200, False), (200, True), (200, True)]
    assert sleeps == []  # a restart is not a retry: the server answered, there is nothing to wait for


OBJECTS_AS_ITEMS = [{"metadata": o["metadata"]} for o in OBJECTS]


def test_objects_that_change_during_a_restart(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/pods", status=410, on_continue_only=True))
    api = client(server, tmp_path, sleeps)
    pages = api.list_pages(PODS, limit=5)
    first = names([next(pages)])
    # Between the pages: one seen pod and one unseen pod are deleted, two new ones created.
    seen, unseen = first[0].split("/"), names([OBJECTS_AS_ITEMS])[-1].split("/")
    kept = [o for o in OBJECTS if [o["metadata"]["namespace"], o["metadata"]["name"]] not in (seen, unseen)]
    server.set_objects([*kept, pod("new", "a"), pod("zz-new", "b")])
    rest = names(pages)
    assert len(first + rest) == len(set(first + rest))
    assert f"{seen[0]}/{seen[1]}" in first  # handed over before it was deleted
    assert f"{unseen[0]}/{unseen[1]}" not in rest  # deleted before it was read
    assert {"a/new", "b/zz-new"} <= set(rest)  # created after the list started, read after the restart


def test_a_second_expiry_fails_clearly(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    server.faults.append(Fault(path_prefix="/apis/apps/v1/replicasets", status=410, on_continue_only=True, times=2))
    server.add_objects([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": f"rs{i}"},
                         "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                             "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}}}
                        for i in range(3)])
    api = client(server, tmp_path, sleeps)
    pages = api.list_pages(REPLICASETS, limit=2)
    assert len(next(pages)) == 2
    with pytest.raises(ApiError) as err:
        list(pages)
    assert str(err.value) == (
        "Error from server (Expired): the list of replicasets.apps expired twice while it was read page by page "
        "(it was restarted once); try again, or read less at once with -n NAMESPACE or -l SELECTOR")
    assert (err.value.status, err.value.reason) == (410, "Expired")
    assert [(r.status, "continue" in r.query) for r in server.requests] == [
        (200, False), (410, True), (200, False), (410, True)]


def test_a_410_without_continue_is_an_ordinary_error(server: ApiServer, tmp_path: Path, sleeps: Sleeps) -> None:
    server.faults.append(Fault(status=410))
    with pytest.raises(ApiError) as err:
        list(client(server, tmp_path, sleeps).list_pages(PODS, "a"))
    assert err.value.status == 410 and len(server.requests) == 1


# --- what an error may say ----------------------------------------------------------------------


@contextmanager
def echoing_server(status: int, status_body: bool) -> Iterator[int]:
    """A misconfigured proxy: answers every request with its headers in the error body."""
    import http.server
    import json

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            echoed = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
            if status_body:
                body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                   "message": f"denied, you sent {echoed}", "reason": "Forbidden",
                                   "code": status}).encode()
            else:
                body = f"<html>request headers: {echoed}</html>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if status_body else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(("status", "status_body"), [(403, True), (403, False), (502, False), (401, True)])
def test_an_error_body_echoing_the_token_is_masked(tmp_path: Path, sleeps: Sleeps, status: int,
                                                   status_body: bool) -> None:
    token = "sha256~Zm9vYmFyYmF6cXV4LXRvcC1zZWNyZXQ"
    with echoing_server(status, status_body) as port:
        api = flags_client(f"http://127.0.0.1:{port}", tmp_path, sleeps, token=token)
        with pytest.raises(ApiError) as err:
            api.get(PODS, "a", "p0")
    assert token not in str(err.value)
    if status != 401:  # kubectl's 401 line never shows the body
        assert "Authorization: <redacted>" in str(err.value)


def test_a_token_with_a_line_break_is_refused_without_quoting_it(tmp_path: Path, sleeps: Sleeps) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first-half-of-the-token\nsecond-half-of-it\n")
    (tmp_path / "kubeconfig").write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "http://127.0.0.1:{closed_port()}"}}}}]
users: [{{name: u, user: {{tokenFile: {token_file}}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
""")
    connection = load_connection(ConnectionFlags(kubeconfig=str(tmp_path / "kubeconfig")), {"HOME": str(tmp_path)})
    api = ApiClient(connection, sleep=sleeps)
    with pytest.raises(ApiError) as err:
        api.get(PODS, "a", "p0")
    assert str(err.value) == 'Unable to connect to the server: net/http: invalid header field value for "Authorization"'
    assert api.request_count == 0
