"""The 410 path for real: a continue token that etcd compaction has made too old.

The plugin's pager (`ApiClient.list_pages`) is driven one page at a time, so etcd is compacted
exactly between two pages of the same list, with no race against a running process.

This server runs with `--watch-cache=false`, so that lists are read from etcd. With the watch
cache on, kube-apiserver 1.37 went on serving the later pages from its cache after etcd had been
compacted behind its back (tried: no 410 came), so the token would not expire on cue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin import resources
from plugin.api import ApiClient
from plugin.errors import ApiError
from plugin.kubeconfig import ConnectionFlags, load_connection
from tests.e2e.test_reliability import BIG_NAMESPACES, PAGED_SERVER_ARGS, PODS_PER_NAMESPACE, big_cluster
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

pytestmark = pytest.mark.realapi

PODS = len(BIG_NAMESPACES) * PODS_PER_NAMESPACE  # three pages of 500


@pytest.fixture(scope="module")
def paged() -> Iterator[RealApiServer]:
    yield POOL.get("big", big_cluster, extra_args=PAGED_SERVER_ARGS)


def client_for(server: RealApiServer, tmp_path: Path) -> ApiClient:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    return ApiClient(load_connection(ConnectionFlags(kubeconfig=kubeconfig), environ={}))


def pod_lists(server: RealApiServer) -> list[tuple[int, bool]]:
    return [(r.status, "continue" in r.query) for r in server.requests if r.path == "/api/v1/pods"]


def test_a_compacted_continue_token_restarts_the_list_once_and_hands_each_pod_over_once(
        paged: RealApiServer, tmp_path: Path) -> None:
    client = client_for(paged, tmp_path)
    paged.clear_requests()
    pages = client.list_pages(resources.PODS)
    first = next(pages)
    assert len(first) == 500
    paged.compact()
    rest = [item for page in pages for item in page]
    names = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in [*first, *rest]]
    assert len(names) == len(set(names)) == PODS
    # the real server answered 410 to the old token; the list started over and skipped the first 500
    assert pod_lists(paged) == [(200, False), (410, True), (200, False), (200, True), (200, True)]


def test_the_real_410_is_an_expired_status(paged: RealApiServer) -> None:
    status, body = paged.request("GET", "/api/v1/pods?limit=10")
    token = json.loads(body)["metadata"]["continue"]
    paged.compact()
    status, body = paged.request("GET", f"/api/v1/pods?limit=10&continue={token}")
    doc = json.loads(body)
    assert (status, doc["kind"], doc["reason"], doc["code"]) == (410, "Status", "Expired", 410)
    assert doc["message"].startswith("The provided continue parameter is too old to display a consistent list result.")


def test_a_second_expiry_fails_clearly(paged: RealApiServer, tmp_path: Path) -> None:
    """Both pages after the first are expired by a compaction between them: one clear error."""
    client = client_for(paged, tmp_path)
    pages = client.list_pages(resources.PODS)
    next(pages)
    paged.compact()
    restarted_first = next(pages)  # the restart's first page, without the pods handed over
    assert restarted_first
    paged.compact()
    with pytest.raises(ApiError) as raised:
        list(pages)
    assert (raised.value.status, raised.value.reason) == (410, "Expired")
    assert "the list of pods expired twice" in str(raised.value)
