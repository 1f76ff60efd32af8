"""The test API server serves custom resources as the real kube-apiserver does: the same requests
to both, loaded with the same CustomResourceDefinitions and objects (tests/e2e/custom_resources_cluster.py),
compared on what the plugin (and kubectl) read: discovery in both forms for the CRDs' groups, the
media type chosen for each Accept header, lists and gets at each served version, metadata-only
lists, 403s and 404s. Differences found were fixed in tests/apiserver/ (docs/realapi.md)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.apiserver import ApiServer
from tests.e2e import custom_resources_cluster as crs
from tests.e2e.test_custom_resources import POLICY, TOKENS
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

pytestmark = pytest.mark.realapi

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
CRD_GROUPS = {group for group, *_ in (*crs.VENDOR_CRDS, crs.VOLCANO_JOBS)}

CASES: dict[str, tuple[str, str, str]] = {  # name -> (path, Accept, token)
    "aggregated": ("/apis", f"{AGGREGATED},application/json", "admin-token"),
    "aggregated-alone": ("/apis", AGGREGATED, "admin-token"),
    "aggregated-second": ("/apis", f"application/json,{AGGREGATED}", "admin-token"),
    "aggregated-v2beta1": ("/apis", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                                    "application/json", "admin-token"),
    "aggregated-core": ("/api", f"{AGGREGATED},application/json", "admin-token"),
    "legacy": ("/apis", "application/json", "admin-token"),
    "group": ("/apis/tekton.dev", "application/json", "admin-token"),
    "group-version": ("/apis/tekton.dev/v1beta1", "application/json", "admin-token"),
    "group-version-cluster-scoped": ("/apis/argoproj.io/v1alpha1", "application/json", "admin-token"),
    "unknown-group": ("/apis/nothere.example.com/v1/things", "application/json", "admin-token"),
    "unknown-version": ("/apis/argoproj.io/v2/namespaces/argo/workflows", "application/json", "admin-token"),
    "list-namespace": ("/apis/argoproj.io/v1alpha1/namespaces/argo/workflows", "application/json", "admin-token"),
    "list-all": ("/apis/argoproj.io/v1alpha1/workflows", "application/json", "admin-token"),
    "list-page": ("/apis/argoproj.io/v1alpha1/workflows?limit=1", "application/json", "admin-token"),
    "list-other-version": ("/apis/tekton.dev/v1beta1/tasks", "application/json", "admin-token"),
    "list-metadata": ("/apis/apps.kruise.io/v1beta1/statefulsets", METADATA_LIST, "admin-token"),
    "list-kruise-old-version": ("/apis/apps.kruise.io/v1alpha1/namespaces/logging/statefulsets", "application/json",
                                "admin-token"),
    "list-unknown-kind-of-a-crd": ("/apis/batch.volcano.sh/v1alpha1/jobs", "application/json", "admin-token"),
    "get": ("/apis/beat.k8s.elastic.co/v1beta1/namespaces/elastic/beats/metricbeat", "application/json", "admin-token"),
    "get-missing": ("/apis/argoproj.io/v1alpha1/namespaces/argo/workflows/nope", "application/json", "admin-token"),
    "forbidden-list": ("/apis/argoproj.io/v1alpha1/workflows", "application/json", "alice-token"),
    "forbidden-get": ("/apis/argoproj.io/v1alpha1/namespaces/argo/workflows/image-build-x7k2q", "application/json",
                      "alice-token"),
    "forbidden-namespace": ("/apis/tekton.dev/v1/namespaces/argo/tasks", "application/json", "bob-token"),
    "discovery-for-a-limited-user": ("/apis", f"{AGGREGATED},application/json", "bob-token"),
    "field-selector-name": ("/apis/tekton.dev/v1/tasks?fieldSelector=metadata.name%3Ddocker-build",
                            "application/json", "admin-token"),
}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ApiServer, RealApiServer]]:
    test = ApiServer(crs.objects(), tokens=TOKENS, policy=POLICY).start()
    real = POOL.get("crd", crs.objects, tokens=TOKENS, policy=POLICY)
    yield test, real
    test.stop()


def fetch(url: str, ca_pem: str, path: str, accept: str, token: str) -> tuple[int, str, Any]:
    request = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}", "Accept": accept})
    context = ssl.create_default_context(cadata=ca_pem)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            status, content_type, body = answer.status, answer.headers.get("Content-Type", ""), answer.read()
    except urllib.error.HTTPError as err:
        status, content_type, body = err.code, err.headers.get("Content-Type", ""), err.read()
    return status, content_type, json.loads(body) if content_type.startswith("application/json") else body.decode()


def essentials(status: int, content_type: str, doc: Any) -> dict[str, Any]:
    """What a client reads of an answer. Discovery is compared for the CRDs' groups only (the test
    server serves few built-in groups) and without verbs (it serves only get and list)."""
    out: dict[str, Any] = {"status": status, "content-type": content_type}
    if not isinstance(doc, dict):
        return {**out, "body": doc}
    kind = doc.get("kind")
    out.update(kind=kind, apiVersion=doc.get("apiVersion"))
    if kind == "Status":
        out.update({k: doc.get(k) for k in ("status", "reason", "message", "code", "details")})
    elif kind == "APIGroupDiscoveryList":
        out["groups"] = [
            (g["metadata"].get("name"), [(v["version"], v.get("freshness"), sorted(
                (r["resource"], r["responseKind"], r["scope"], r.get("singularResource"), r.get("shortNames"),
                 r.get("categories")) for r in v["resources"])) for v in g["versions"]])
            for g in doc["items"] if g["metadata"].get("name") in CRD_GROUPS or not g["metadata"]]
        if doc["items"] and not doc["items"][0]["metadata"]:  # /api: the core group, its resources compared
            out["groups"] = [(name, [(v, f) for v, f, _ in versions]) for name, versions in out["groups"]]
    elif kind == "APIGroupList":
        out["groups"] = sorted((g["name"], g["versions"], g["preferredVersion"]) for g in doc["groups"]
                               if g["name"] in CRD_GROUPS)
    elif kind == "APIGroup":
        out.update(name=doc["name"], versions=doc["versions"], preferred=doc["preferredVersion"])
    elif kind == "APIResourceList":
        out["resources"] = sorted((r["name"], r["kind"], r["namespaced"], r.get("shortNames"), r.get("categories"),
                                   r.get("singularName")) for r in doc["resources"])
        out["groupVersion"] = doc["groupVersion"]
    elif "items" in doc:
        out["items"] = [(i.get("kind"), i.get("apiVersion"), i["metadata"].get("namespace"), i["metadata"]["name"])
                        for i in doc["items"]]
        metadata = doc.get("metadata") or {}
        out.update(continue_field="continue" in metadata, more=bool(metadata.get("continue")),
                   remaining=metadata.get("remainingItemCount"))
    else:
        out.update(name=doc["metadata"]["name"], spec=doc.get("spec"))
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_the_test_server_serves_custom_resources_as_the_real_one(servers: tuple[ApiServer, RealApiServer],
                                                                  name: str) -> None:
    test, real = servers
    expected = essentials(*fetch(real.url, real.ca_pem.decode(), *CASES[name]))
    assert essentials(*fetch(test.url, test._ca.cert_pem.bytes().decode(), *CASES[name])) == expected
