"""The test API server answers as the real kube-apiserver does: the same requests to both.

Each case sends one request, as the plugin or kubectl would, to the test server and to the real
server loaded with the same cluster and the same permissions, and compares what the plugin relies
on: status code, `Status` reason and message, list kinds and item names, pagination fields and
the metadata-only form. A difference found here was fixed in tests/apiserver/ to match the real
server (the list is in docs/realapi.md).
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.apiserver import ApiServer
from tests.e2e import cluster
from tests.e2e.test_reliability import POLICY, TOKENS
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

pytestmark = pytest.mark.realapi

METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
METADATA_GET = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"


@dataclass(frozen=True)
class Case:
    path: str
    token: str = "admin-token"
    headers: Mapping[str, str] = field(default_factory=dict)


CASES = {
    "get-missing-pod": Case("/api/v1/namespaces/ci/pods/nope"),
    "get-missing-replicaset": Case("/apis/apps/v1/namespaces/ci/replicasets/nope"),
    "get-pod": Case("/api/v1/namespaces/ci/pods/debug-shell"),
    "unauthorized": Case("/api/v1/pods", token="not-a-known-token"),
    "forbidden-cluster-scope": Case("/api/v1/pods", token="bob-token"),
    "forbidden-namespace": Case("/api/v1/namespaces/monitoring/pods", token="bob-token"),
    "forbidden-group": Case("/apis/apps/v1/namespaces/ci/replicasets", token="alice-token"),
    "forbidden-named": Case("/apis/apps/v1/namespaces/ci/replicasets/canary-7c9", token="alice-token"),
    "forbidden-cluster-resource": Case("/api/v1/nodes", token="alice-token"),
    "forbidden-impersonation": Case("/api/v1/pods", token="alice-token", headers={"Impersonate-User": "bob"}),
    "impersonated-forbidden": Case("/api/v1/pods", headers={"Impersonate-User": "bob"}),
    "impersonated-groups-forbidden": Case("/api/v1/pods", headers={"Impersonate-User": "bob",
                                                                   "Impersonate-Group": "devs"}),
    "list-pods": Case("/api/v1/pods"),
    "list-namespace": Case("/api/v1/namespaces/ci/pods"),
    "list-page": Case("/api/v1/pods?limit=5"),
    "list-page-zero": Case("/api/v1/pods?limit=0"),
    "list-bad-continue": Case("/api/v1/pods?limit=5&continue=not-a-token"),
    "field-selector": Case("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1"),
    "field-selector-not-equal": Case("/api/v1/namespaces/ci/pods?fieldSelector=spec.nodeName!%3Dnode-1"),
    "field-selector-namespace": Case("/api/v1/pods?fieldSelector=metadata.namespace%3Dmonitoring"),
    "field-selector-unknown-pod-field": Case("/api/v1/pods?fieldSelector=spec.bogus%3Dx"),
    "field-selector-unknown-workload-field": Case("/apis/apps/v1/daemonsets?fieldSelector=spec.bogus%3Dx"),
    "field-selector-node-name": Case("/api/v1/nodes?fieldSelector=metadata.name%3Dnode-3"),
    "label-selector": Case("/api/v1/pods?labelSelector=app%3Ddatadog"),
    "label-selector-set": Case("/api/v1/pods?labelSelector=app+in+(web,runner)"),
    "label-selector-exists": Case("/api/v1/nodes?labelSelector=kubernetes.io/hostname"),
    "label-selector-invalid": Case("/api/v1/pods?labelSelector=app%3D%3D%3Dx"),
    "metadata-list-replicasets": Case("/apis/apps/v1/replicasets", headers={"Accept": METADATA_LIST}),
    "metadata-list-jobs-page": Case("/apis/batch/v1/jobs?limit=1", headers={"Accept": METADATA_LIST}),
    "metadata-get": Case("/apis/apps/v1/namespaces/ci/replicasets/canary-7c9", headers={"Accept": METADATA_GET}),
    "metadata-list-accept-on-get": Case("/apis/apps/v1/namespaces/ci/replicasets/canary-7c9",
                                        headers={"Accept": METADATA_LIST}),
    "metadata-get-accept-on-list": Case("/apis/apps/v1/replicasets", headers={"Accept": METADATA_GET}),
    "metadata-list-v1beta1": Case("/apis/apps/v1/replicasets", headers={
        "Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1"}),
    "unknown-as-falls-through": Case("/apis/apps/v1/replicasets", headers={
        "Accept": "application/json;as=Bogus;g=meta.k8s.io;v=v1,application/json"}),
    "unknown-resource": Case("/apis/apps/v1/namespaces/ci/widgets"),
    "list-cluster-nodes": Case("/api/v1/nodes"),
    "forbidden-impersonation-namespace": Case("/api/v1/namespaces/ci/pods", token="alice-token",
                                              headers={"Impersonate-User": "bob"}),
    "forbidden-impersonation-named": Case("/api/v1/namespaces/ci/pods/debug-shell", token="alice-token",
                                          headers={"Impersonate-User": "bob"}),
    "forbidden-impersonation-group": Case("/apis/apps/v1/namespaces/ci/replicasets", token="bob-token",
                                          headers={"Impersonate-User": "alice"}),
    "impersonate-group-without-user": Case("/api/v1/pods", headers={"Impersonate-Group": "devs"}),
    "impersonate-uid-without-user": Case("/api/v1/pods", headers={"Impersonate-Uid": "1"}),
    "label-selector-double-equals": Case("/api/v1/pods?labelSelector=app%3D%3Dweb"),
    "label-selector-not-exists": Case("/api/v1/pods?labelSelector=!app"),
    "label-selector-notin": Case("/api/v1/pods?labelSelector=app+notin+(web)"),
    "label-selector-bang-bang": Case("/api/v1/pods?labelSelector=%21%21"),
    "label-selector-in-without-parens": Case("/api/v1/pods?labelSelector=app+in+web"),
    "label-selector-unclosed": Case("/api/v1/pods?labelSelector=app+notin+(web"),
    "label-selector-two-equals": Case("/api/v1/pods?labelSelector=a%3Db%3Dc"),
    "label-selector-no-operator": Case("/api/v1/pods?labelSelector=a+b"),
    "label-selector-trailing-comma": Case("/api/v1/pods?labelSelector=app%3Dweb,"),
    "field-selector-double-equals": Case("/api/v1/pods?fieldSelector=spec.nodeName%3D%3Dnode-1"),
    "field-selector-no-operator": Case("/api/v1/pods?fieldSelector=spec.nodeName"),
    "continue-without-version": Case("/api/v1/pods?limit=5&continue=e30"),
    "limit-not-a-number": Case("/api/v1/pods?limit=abc"),
    "limit-negative": Case("/api/v1/pods?limit=-1"),
    # PersistentVolumes are cluster-scoped (scan lists them when pods use claims), claims namespaced.
    "list-persistentvolumes": Case("/api/v1/persistentvolumes?limit=500"),
    "forbidden-persistentvolumes": Case("/api/v1/persistentvolumes?limit=500", token="alice-token"),
    "forbidden-persistentvolumes-namespace-user": Case("/api/v1/persistentvolumes", token="bob-token"),
    "persistentvolumes-in-a-namespace": Case("/api/v1/namespaces/ci/persistentvolumes"),
    "field-selector-persistentvolume-name": Case("/api/v1/persistentvolumes?fieldSelector=metadata.name%3Dx"),
    "field-selector-persistentvolume-unknown": Case("/api/v1/persistentvolumes?fieldSelector=spec.bogus%3Dx"),
    "field-selector-persistentvolume-namespace": Case(
        "/api/v1/persistentvolumes?fieldSelector=metadata.namespace%3Dci"),
    "list-persistentvolumeclaims": Case("/api/v1/namespaces/ci/persistentvolumeclaims"),
    "field-selector-persistentvolumeclaim-unknown": Case(
        "/api/v1/persistentvolumeclaims?fieldSelector=spec.volumeName%3Dx"),
    "get-missing-persistentvolume": Case("/api/v1/persistentvolumes/nope"),
}


@pytest.fixture(scope="module")
def servers(cluster_objects: list[dict]) -> Iterator[tuple[ApiServer, RealApiServer]]:
    test = ApiServer(cluster_objects, tokens=TOKENS, policy=POLICY).start()
    real = POOL.get("strict", cluster.objects, tokens=TOKENS, policy=POLICY)
    yield test, real
    test.stop()


@pytest.fixture(scope="module")
def cluster_objects() -> list[dict]:
    return cluster.objects()


def fetch(url: str, ca_pem: str, case: Case) -> tuple[int, str, dict[str, Any]]:
    request = urllib.request.Request(url + case.path)
    request.add_header("Authorization", f"Bearer {case.token}")
    request.add_header("Accept", case.headers.get("Accept", "application/json"))
    for key, value in case.headers.items():
        if key != "Accept":
            request.add_header(key, value)
    context = ssl.create_default_context(cadata=ca_pem)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            status, content_type, body = answer.status, answer.headers.get("Content-Type", ""), answer.read()
    except urllib.error.HTTPError as err:
        status, content_type, body = err.code, err.headers.get("Content-Type", ""), err.read()
    return status, content_type.split(";")[0], json.loads(body)


def essentials(status: int, content_type: str, doc: dict[str, Any]) -> dict[str, Any]:
    """What the plugin reads of an answer; uids, resourceVersions and timestamps differ by nature."""
    out: dict[str, Any] = {"status": status, "content-type": content_type, "kind": doc.get("kind"),
                           "apiVersion": doc.get("apiVersion")}
    if doc.get("kind") == "Status":
        out.update({k: doc.get(k) for k in ("status", "reason", "message", "code")})
        out["details"] = doc.get("details")
        return out
    metadata = doc.get("metadata") or {}
    if "items" in doc:
        # Fields other than metadata only for metadata-only items: whole objects are defaulted by the
        # real server (see test_the_real_server_defaults_what_the_test_server_serves_as_given).
        out["items"] = [(i.get("kind"), i.get("apiVersion"), i["metadata"].get("namespace"), i["metadata"]["name"],
                         sorted(k for k in i if k != "metadata") if doc.get("kind") == "PartialObjectMetadataList"
                         else None) for i in doc["items"]]
        out["continue"] = bool(metadata.get("continue"))
        out["remainingItemCount"] = metadata.get("remainingItemCount")
        out["resourceVersion"] = bool(metadata.get("resourceVersion"))
    else:
        out["name"] = metadata.get("name")
        out["fields"] = sorted(k for k in doc if k not in ("metadata", "status"))  # the real one adds status
        out["ownerReferences"] = [(r["kind"], r["name"]) for r in metadata.get("ownerReferences") or []]
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_the_test_server_answers_as_the_real_one(servers: tuple[ApiServer, RealApiServer], name: str) -> None:
    test, real = servers
    case = CASES[name]
    expected = essentials(*fetch(real.url, real.ca_pem.decode(), case))
    assert essentials(*fetch(test.url, test._ca.cert_pem.bytes().decode(), case)) == expected


def test_the_real_server_defaults_what_the_test_server_serves_as_given(
        servers: tuple[ApiServer, RealApiServer]) -> None:
    """Not a difference to fix: the real server defaults and admits objects on create (status,
    pull policy, the service-account token volume, tolerations); the test server serves the objects
    as written. The plugin's findings are the same on both (tests/e2e/), as the volume is no hostPath."""
    test, real = servers
    case = Case("/api/v1/namespaces/ci/pods/debug-shell")
    _, _, served = fetch(test.url, test._ca.cert_pem.bytes().decode(), case)
    _, _, admitted = fetch(real.url, real.ca_pem.decode(), case)
    assert "status" not in served and admitted["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert [v["name"] for v in served["spec"]["volumes"]] == ["docker"]
    assert [v["name"] for v in admitted["spec"]["volumes"]][0] == "docker"
    assert admitted["spec"]["volumes"][1]["name"].startswith("kube-api-access-")
    assert admitted["spec"]["volumes"][0]["hostPath"] == {"path": "/var/run/docker.sock", "type": ""}
    assert admitted["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert admitted["metadata"]["uid"] != served["metadata"]["uid"]
