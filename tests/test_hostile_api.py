"""The API client against hostile answers, in process (issue 12): the exact bounds (a response at
the size cap is read, one byte more is not; the page bound), gzip decoding that never inflates
more than asked, and the checks on what a 200 answer must be. The same failures through the real
binary are in tests/e2e/test_hostile_server.py."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin import api
from plugin.api import BODY_TIMEOUT, HEADERS_TIMEOUT, ApiClient, RetryPolicy, _Gunzip
from plugin.errors import ApiError, PluginError
from plugin.kubeconfig import ConnectionFlags, load_connection
from plugin.resources import PODS
from tests.apiserver import ApiServer, Fault, faults

ONE_TRY = RetryPolicy(retries=0)


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "a"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


@pytest.fixture(scope="module")
def server() -> Iterator[ApiServer]:
    srv = ApiServer([pod(f"p{i}") for i in range(5)]).start()
    yield srv
    srv.stop()


def make_client(server: ApiServer, tmp_path: Path, retry: RetryPolicy = ONE_TRY) -> ApiClient:
    config = server.write_kubeconfig(tmp_path / "kubeconfig")
    return ApiClient(load_connection(ConnectionFlags(kubeconfig=config, request_timeout="2s"),
                                     {"HOME": str(tmp_path)}), retry=retry, sleep=lambda seconds: None)


@pytest.fixture
def client(server: ApiServer, tmp_path: Path) -> Iterator[ApiClient]:
    server.faults.clear()
    server.clear_requests()
    yield make_client(server, tmp_path)
    server.faults.clear()


def read_all(client: ApiClient, limit: int | None = None) -> list[str]:
    return [i["metadata"]["name"] for page in client.list_pages(PODS, "a", limit=limit) for i in page]


# --- the size of one response ---------------------------------------------------------------------


def raw_size(server: ApiServer) -> int:
    """Bytes of the list of namespace a on the wire, read without the plugin."""
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=server.ca_path)
    request = urllib.request.Request(f"{server.url}/api/v1/namespaces/a/pods?limit=500",
                                     headers={"Authorization": "Bearer admin-token"})
    with urllib.request.urlopen(request, context=context) as response:
        return len(response.read())


def test_a_response_at_the_cap_is_read_and_one_byte_more_is_not(server: ApiServer, client: ApiClient,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    size = raw_size(server)
    monkeypatch.setattr(api, "MAX_RESPONSE_BYTES", size)
    assert read_all(client) == [f"p{i}" for i in range(5)]
    monkeypatch.setattr(api, "MAX_RESPONSE_BYTES", size - 1)
    with pytest.raises(ApiError, match=r"^error: the server's answer to the list of pods is larger than"):
        read_all(client)


@pytest.mark.parametrize("mode", [faults.ENDLESS_CHUNKED, faults.GZIP_BOMB])
def test_a_body_is_refused_as_soon_as_it_decodes_past_the_cap(server: ApiServer, client: ApiClient,
                                                              monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setattr(api, "MAX_RESPONSE_BYTES", 4 << 20)
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/a/pods", mode=mode, size=256 << 20))
    with pytest.raises(ApiError, match="larger than 4 MiB"):
        read_all(client)


def test_gzip_is_decoded_in_bounded_pieces_over_every_member() -> None:
    def member(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        return compressor.compress(data) + compressor.flush()

    stream = member(b'{"items":') + member(b" " * (8 << 20)) + member(b"[]}")
    gunzip = _Gunzip()
    pieces = [piece for start in range(0, len(stream), 1000)
              for piece in gunzip.feed(stream[start:start + 1000], 65536)]
    assert max(len(p) for p in pieces) <= 65536
    assert json.loads(b"".join(pieces)) == {"items": []}


def test_gzip_answers_of_a_server_read_as_plain_ones(tmp_path: Path) -> None:
    objects = [pod(f"p{i:03d}") for i in range(600)]
    for obj in objects:  # a page of 500 is then some 300 KB, gzipped; the second page of 100 is not
        obj["metadata"]["annotations"] = {"note": "x" * 400}
    (tmp_path / "plain").mkdir()
    (tmp_path / "gzip").mkdir()
    with ApiServer(objects) as plain, ApiServer(objects, gzip_responses=True) as compressing:
        expected = read_all(make_client(plain, tmp_path / "plain"))
        assert read_all(make_client(compressing, tmp_path / "gzip")) == expected
        assert compressing.gzipped_answers == 1
    assert len(expected) == 600


def test_a_gzip_body_that_is_not_gzip_is_an_error(server: ApiServer, client: ApiClient) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/a/pods", status=200,
                               headers={"Content-Encoding": "gzip"}))
    with pytest.raises(ApiError, match=r"^error: the server's answer to the list of pods is not valid gzip$"):
        read_all(client)


# --- time -----------------------------------------------------------------------------------------


def test_a_slow_body_ends_at_the_request_timeout_as_kubectl_says_it(server: ApiServer, client: ApiClient) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/a/pods", mode=faults.SLOW_BODY, interval=0.2))
    with pytest.raises(ApiError) as caught:
        read_all(client)
    assert caught.value.message == BODY_TIMEOUT


def test_headers_that_trickle_past_the_request_timeout_are_cut_off(server: ApiServer, client: ApiClient,
                                                                   tmp_path: Path) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/a/pods", mode=faults.SLOW_HEADERS, interval=0.2))
    with pytest.raises(ApiError) as caught:
        read_all(make_client(server, tmp_path, RetryPolicy()))
    assert caught.value.message == HEADERS_TIMEOUT
    assert len(server.requests) == 1  # not retried, though the cut looks like a dropped connection


def test_the_next_request_after_a_cut_is_served(server: ApiServer, client: ApiClient) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/a/pods", mode=faults.SLOW_HEADERS, interval=0.2))
    with pytest.raises(ApiError):
        read_all(client)
    assert read_all(client) == [f"p{i}" for i in range(5)]


def test_headers_that_trickle_in_within_the_timeout_are_read(server: ApiServer, client: ApiClient) -> None:
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/a/pods", mode=faults.SLOW_HEADERS, interval=0.001))
    assert read_all(client) == [f"p{i}" for i in range(5)]


def test_a_body_that_is_slow_but_within_the_timeout_is_read(server: ApiServer, client: ApiClient) -> None:
    fault = Fault(path_prefix="/api/v1/namespaces/a/pods", mode=faults.SLOW_BODY, interval=0.0005)
    server.faults.append(fault)
    assert read_all(client) == [f"p{i}" for i in range(5)]
    assert fault.hits == 1


# --- what a 200 answer must be --------------------------------------------------------------------


def test_an_item_that_is_not_an_object_is_an_error(server: ApiServer, client: ApiClient,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(body: bytes, path: str) -> dict:
        document = json.loads(body)
        document["items"][3] = "p3"
        return document  # type: ignore[no-any-return]

    monkeypatch.setattr(api, "_decode", broken)
    with pytest.raises(ApiError, match=r'"items\[3\]" is a string, not an object \(GET /api/v1/namespaces/a/pods\)'):
        read_all(client)


def test_a_list_without_items_is_empty_as_for_kubectl(server: ApiServer, client: ApiClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "_decode", lambda body, path: {"kind": "PodList", "metadata": {}})
    assert read_all(client) == []


# --- pages ----------------------------------------------------------------------------------------


def test_a_list_that_never_ends_stops_at_the_page_bound(server: ApiServer, client: ApiClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "MAX_LIST_PAGES", 25)
    server.faults.append(Fault(path_prefix="/api/v1/namespaces/a/pods", mode=faults.ENDLESS_PAGES, times=None))
    with pytest.raises(ApiError) as caught:
        read_all(client)
    assert caught.value.message == ("error: the list of pods has more than 25 pages, more than any cluster holds: "
                                    "not completed")
    assert len(server.requests) == 25


def test_a_list_of_exactly_the_page_bound_is_read(server: ApiServer, client: ApiClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "MAX_LIST_PAGES", 5)
    assert read_all(client, limit=1) == [f"p{i}" for i in range(5)]  # five pages of one pod


def test_the_bound_is_far_above_a_large_cluster() -> None:
    # 150,000 pods (Kubernetes' largest supported cluster) in pages of 500, with room to spare.
    assert api.MAX_LIST_PAGES >= 10 * (150_000 // api.PAGE)
    assert api.MAX_RESPONSE_BYTES >= 4 * api.PAGE * 64 * 1024


# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..", ".", "a/b", "%2e%2e"])
def test_no_request_is_built_from_a_name_that_is_not_one_segment(server: ApiServer, client: ApiClient,
                                                                 name: str) -> None:
    with pytest.raises(PluginError, match=r"^error: invalid resource name "):
        client.get(PODS, "a", name)
    with pytest.raises(PluginError, match=r"^invalid namespace "):
        list(client.list_pages(PODS, name))
    assert server.requests == []
