"""Discovery of the known custom resources a cluster serves: the aggregated document in one
request, the legacy documents (one request per known group) from a server that does not send it,
the version chosen, and hostile or failing answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugin.api import ApiClient, RetryPolicy
from plugin.discovery import ACCEPT, ServedCustomResources
from plugin.errors import ApiError
from plugin.kubeconfig import ConnectionFlags, load_connection
from plugin.resources import DEPLOYMENTS
from tests.apiserver import ApiServer
from tests.e2e.custom_resources_cluster import crd

CRDS = [
    crd("argoproj.io", "Workflow", "workflows", ("v1alpha1",), "Namespaced", ("wf",)),
    crd("argoproj.io", "ClusterWorkflowTemplate", "clusterworkflowtemplates", ("v1alpha1",), "Cluster"),
    crd("tekton.dev", "Task", "tasks", ("v1", "v1beta1"), "Namespaced"),
    crd("apps.kruise.io", "StatefulSet", "statefulsets", ("v1beta1", "v1alpha1"), "Namespaced", ("asts",)),
    crd("batch.volcano.sh", "Job", "jobs", ("v1alpha1",), "Namespaced"),  # not in the plugin's table
]
EXPECTED = {
    "Workflow.argoproj.io": ("/apis/argoproj.io/v1alpha1/namespaces/ci/workflows", True),
    "ClusterWorkflowTemplate.argoproj.io": ("/apis/argoproj.io/v1alpha1/clusterworkflowtemplates", False),
    "Task.tekton.dev": ("/apis/tekton.dev/v1/namespaces/ci/tasks", True),
    "StatefulSet.apps.kruise.io": ("/apis/apps.kruise.io/v1beta1/namespaces/ci/statefulsets", True),
}


@pytest.fixture
def server() -> Iterator[ApiServer]:
    srv = ApiServer(CRDS).start()
    yield srv
    srv.stop()


def client(server: ApiServer, tmp_path: Path) -> ApiClient:
    config = server.write_kubeconfig(tmp_path / "kubeconfig")
    return ApiClient(load_connection(ConnectionFlags(kubeconfig=config), {"HOME": str(tmp_path)}),
                     retry=RetryPolicy(retries=0))


def served_paths(served: ServedCustomResources) -> dict[str, tuple[str, bool]]:
    return {key: (r.path("ci"), r.namespaced) for key, r in served.served().items()}


def test_the_aggregated_document_answers_in_one_request(server: ApiServer, tmp_path: Path) -> None:
    served = ServedCustomResources(client(server, tmp_path))
    assert served_paths(served) == EXPECTED
    served.served()  # kept for the run
    assert [(r.path, dict(r.headers)["Accept"]) for r in server.requests] == [("/apis", ACCEPT)]
    assert served.problems == []


def test_a_server_without_the_aggregated_document_is_asked_per_group(server: ApiServer, tmp_path: Path) -> None:
    server.aggregated_discovery = False
    served = ServedCustomResources(client(server, tmp_path))
    assert served_paths(served) == EXPECTED
    # a resource list per version the table knows of each known group the server has, until all
    # the group's known kinds are found: the others might be served at an older version only
    # (Tekton's ClusterTask at v1beta1, OpenKruise 1.x's CloneSet at v1alpha1); none for Volcano's
    # group, which the table does not know
    paths = [r.path for r in server.requests]
    assert paths[0] == "/apis" and sorted(paths[1:]) == [
        "/apis/apps.kruise.io/v1alpha1", "/apis/apps.kruise.io/v1beta1", "/apis/argoproj.io/v1alpha1",
        "/apis/tekton.dev/v1", "/apis/tekton.dev/v1beta1"]


@pytest.mark.parametrize("aggregated", [True, False])
def test_a_version_the_table_knows_is_preferred_else_the_servers(aggregated: bool, tmp_path: Path) -> None:
    # Tekton serving a v2 (preferred by the server, unknown to the table); Argo serving only v2.
    crds = [crd("tekton.dev", "Task", "tasks", ("v2", "v1"), "Namespaced"),
            crd("argoproj.io", "Workflow", "workflows", ("v2",), "Namespaced")]
    with ApiServer(crds) as srv:
        srv.aggregated_discovery = aggregated
        served = ServedCustomResources(client(srv, tmp_path)).served()
    assert {k: r.version for k, r in served.items()} == {"Workflow.argoproj.io": "v2", "Task.tekton.dev": "v1"}


def test_the_built_in_kinds_need_no_discovery(server: ApiServer, tmp_path: Path) -> None:
    served = ServedCustomResources(client(server, tmp_path))
    assert served.resource_for("Deployment") is DEPLOYMENTS
    assert served.resource_for("Widget.example.com") is None  # not a known kind: nothing to discover
    assert server.requests == []
    resource = served.resource_for("Workflow.argoproj.io")
    assert resource is not None and resource.api_version == "argoproj.io/v1alpha1"
    assert served.resource_for("Rollout.argoproj.io") is None  # known, not served
    assert len(server.requests) == 1


class Document:
    """A discovery answer made up, for what a test server would not send."""

    def __init__(self, apis: dict[str, Any] | None = None, error: ApiError | None = None) -> None:
        self.apis, self.error, self.paths = apis, error, []

    def get_document(self, path: str, accept: str = "application/json") -> dict[str, Any] | None:
        self.paths.append(path)
        if self.error is not None:
            raise self.error
        return self.apis if path == "/apis" else None


def test_forbidden_discovery_is_a_problem_and_no_custom_resource() -> None:
    reader = Document(error=ApiError("Error from server (Forbidden): forbidden", 403, "Forbidden"))
    served = ServedCustomResources(reader)
    assert served.served() == {}
    assert served.problems == ["cannot read the API discovery document /apis (Forbidden): custom resources "
                               "(Argo, Tekton, ECK, ...) are not scanned"]
    with pytest.raises(ApiError):  # any other failure is the error it is
        ServedCustomResources(Document(error=ApiError("Error from server (InternalError): x", 500))).served()


def test_a_server_without_discovery_serves_no_custom_resource() -> None:
    served = ServedCustomResources(Document(None))
    assert served.served() == {} and served.problems == []


def test_hostile_or_stale_entries_are_passed_over() -> None:
    def resource(plural: Any, kind: str, verbs: Any = ("get", "list")) -> dict[str, Any]:
        return {"resource": plural, "responseKind": {"group": "argoproj.io", "version": "v1alpha1", "kind": kind},
                "scope": "Namespaced", "verbs": list(verbs) if verbs is not None else None}

    apis = {"kind": "APIGroupDiscoveryList", "items": [
        "not an object",
        {"metadata": {"name": "argoproj.io"}, "versions": [
            {"version": "v1alpha1", "freshness": "Stale", "resources": [resource("rollouts", "Rollout")]},
            {"version": "../v1", "resources": [resource("cronworkflows", "CronWorkflow")]},
            {"version": "v1alpha1", "resources": [
                resource("../../api/v1/secrets", "Workflow"), resource("workflows/status", "Workflow"),
                resource("workflowtemplates", "WorkflowTemplate", verbs=("get",)),
                resource("clusterworkflowtemplates", "ClusterWorkflowTemplate", verbs=None), "x"]}]},
        {"metadata": {"name": "tekton.dev"}, "versions": "not a list"},
    ]}
    assert ServedCustomResources(Document(apis)).served() == {}
