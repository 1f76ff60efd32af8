"""The owner walk: every chain shape, missing and forbidden owners, and request batching."""

from __future__ import annotations

import pytest

from plugin.errors import ApiError
from plugin.models import ObjectRef
from plugin.owners import ClusterLookup, Missing, ObjectsLookup, controller_reference, resolve_chains
from plugin.resources import resource_for_kind
from tests.podspecs import owner_ref, pod, socket_spec, workload

SPEC = socket_spec()


def chain_of(obj: dict, objects: list[dict]) -> list[str]:
    lookup = ObjectsLookup((o["kind"], o) for o in objects)
    ref = ObjectRef(obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))
    (chain,) = resolve_chains([(ref, tuple(obj["metadata"].get("ownerReferences", [])))], lookup)
    return [r.describe_marked() for r in chain]


def test_pod_replicaset_deployment() -> None:
    deploy = workload("Deployment", "web", SPEC)
    rs = workload("ReplicaSet", "web-5d4f", SPEC, owners=[owner_ref("Deployment", "web")])
    p = pod("web-5d4f-abc", SPEC, owners=[owner_ref("ReplicaSet", "web-5d4f")])
    assert chain_of(p, [deploy, rs, p]) == ["Pod/web-5d4f-abc", "ReplicaSet/web-5d4f", "Deployment/web"]


def test_pod_job_cronjob() -> None:
    cj = workload("CronJob", "nightly", SPEC)
    job = workload("Job", "nightly-2890", SPEC, owners=[owner_ref("CronJob", "nightly", "batch/v1")])
    p = pod("nightly-2890-x", SPEC, owners=[owner_ref("Job", "nightly-2890", "batch/v1")])
    assert chain_of(p, [cj, job, p]) == ["Pod/nightly-2890-x", "Job/nightly-2890", "CronJob/nightly"]


@pytest.mark.parametrize("kind, api_version", [("DaemonSet", "apps/v1"), ("StatefulSet", "apps/v1"),
                                               ("ReplicationController", "v1")])
def test_pod_owned_directly(kind: str, api_version: str) -> None:
    owner = workload(kind, "agent", SPEC)
    p = pod("agent-1", SPEC, owners=[owner_ref(kind, "agent", api_version)])
    assert chain_of(p, [owner, p]) == ["Pod/agent-1", f"{kind}/agent"]


def test_mirror_pod_is_owned_by_its_node() -> None:
    p = pod("kube-proxy-node-1", SPEC, owners=[owner_ref("Node", "node-1", "v1")])
    lookup = ObjectsLookup([])
    (chain,) = resolve_chains([(ObjectRef("Pod", "kube-proxy-node-1", "kube-system"),
                                tuple(p["metadata"]["ownerReferences"]))], lookup)
    assert chain[-1] == ObjectRef("Node", "node-1", None, "v1", "uid-node-node-1")


def test_unknown_custom_resource_owner_ends_the_walk_without_a_lookup() -> None:
    # Known custom resources (a Rollout, a Workflow) are walked through: tests/test_custom_resources.py.
    class NoLookup:
        def prefetch(self, wanted):
            assert list(wanted) == []

        def get(self, kind, namespace, name):
            raise AssertionError(f"looked up {kind}/{name}")

    ref = owner_ref("Widget", "canary", "widgets.example.com/v1")
    (chain,) = resolve_chains([(ObjectRef("Pod", "p", "ns"), (ref,))], NoLookup())
    assert [r.describe() for r in chain] == ["Pod/p", "Widget/canary"]
    assert chain[-1].api_version == "widgets.example.com/v1"


def test_rollout_through_a_replicaset() -> None:
    rs = workload("ReplicaSet", "canary-7c", SPEC,
                  owners=[owner_ref("Rollout", "canary", "argoproj.io/v1alpha1")])
    p = pod("canary-7c-x", SPEC, owners=[owner_ref("ReplicaSet", "canary-7c")])
    assert chain_of(p, [rs, p]) == ["Pod/canary-7c-x", "ReplicaSet/canary-7c", "Rollout/canary"]


def test_controller_reference_is_preferred_over_the_first() -> None:
    refs = [owner_ref("ConfigMap", "x", "v1", controller=None), owner_ref("DaemonSet", "ds")]
    assert controller_reference(refs)["kind"] == "DaemonSet"
    assert controller_reference([owner_ref("StatefulSet", "s", controller=None)])["kind"] == "StatefulSet"
    assert controller_reference([{"kind": "X"}, None, "y"]) is None
    assert controller_reference(None) is None


def test_offline_reference_to_an_object_not_in_the_input_is_the_owner_not_found() -> None:
    p = pod("web-5d4f-abc", SPEC, owners=[owner_ref("ReplicaSet", "web-5d4f")])
    assert chain_of(p, [p]) == ["Pod/web-5d4f-abc", "ReplicaSet/web-5d4f (not found)"]


def test_a_dangling_owner_is_the_same_live_and_offline() -> None:
    """The README promises that a dump reports the owners a live scan does: a pod whose
    ReplicaSet was deleted is owned by that ReplicaSet, marked not found, in both."""
    orphan = pod("web-5d4f-abc", SPEC, owners=[owner_ref("ReplicaSet", "web-5d4f")])
    rs = workload("ReplicaSet", "api-1", SPEC, owners=[owner_ref("Deployment", "api")])  # Deployment gone
    child = pod("api-1-x", SPEC, owners=[owner_ref("ReplicaSet", "api-1")])
    live = resolve_chains(_starts([orphan, child]), ClusterLookup(FakeApi([rs])))
    offline = resolve_chains(_starts([orphan, child]), ObjectsLookup((o["kind"], o) for o in [orphan, rs, child]))
    assert live == offline
    assert [[r.describe_marked() for r in c] for c in live] == [
        ["Pod/web-5d4f-abc", "ReplicaSet/web-5d4f (not found)"],
        ["Pod/api-1-x", "ReplicaSet/api-1", "Deployment/api (not found)"]]
    assert not live[0][-1].found and live[1][1].found


def test_manifests_without_namespace_still_resolve() -> None:
    ds = workload("DaemonSet", "agent", SPEC)
    del ds["metadata"]["namespace"]
    lookup = ObjectsLookup([("DaemonSet", ds)])
    assert lookup.get("DaemonSet", "default", "agent") == {"metadata": {"uid": "uid-daemonset-agent",
                                                                        "ownerReferences": []}}
    assert lookup.get("DaemonSet", "default", "other") is Missing.NOT_FOUND


def test_offline_index_keeps_the_first_object_and_its_namespace_first() -> None:
    lookup = ObjectsLookup()
    for uid, namespace in [("first", None), ("second", None), ("in-ns", "ns"), ("in-ns-again", "ns")]:
        rs = workload("ReplicaSet", "web", SPEC, owners=[owner_ref("Deployment", "web", controller=None)])
        rs["metadata"]["uid"] = uid
        if namespace is None:
            del rs["metadata"]["namespace"]
        else:
            rs["metadata"]["namespace"] = namespace
        lookup.add("ReplicaSet", rs)
    uids = {ns: lookup.get("ReplicaSet", ns, "web")["metadata"]["uid"] for ns in ("ns", "other", None)}
    assert uids == {"ns": "in-ns", "other": "first", None: "first"}
    # What the walk reads of it: the uid and the controller reference (else the first one).
    assert lookup.get("ReplicaSet", "ns", "web")["metadata"]["ownerReferences"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "uid-deployment-web", "controller": True}]
    assert lookup.get("Deployment", "ns", "web") is Missing.NOT_FOUND


def test_reference_cycle_terminates() -> None:
    a = workload("ReplicaSet", "a", SPEC, owners=[owner_ref("ReplicaSet", "b")])
    b = workload("ReplicaSet", "b", SPEC, owners=[owner_ref("ReplicaSet", "a")])
    assert chain_of(a, [a, b]) == ["ReplicaSet/a", "ReplicaSet/b", "ReplicaSet/a"]


class FakeApi:
    """Serves objects like the API server would and records every call."""

    def __init__(self, objects: list[dict], forbidden: set[str] = frozenset()) -> None:
        self.objects = objects
        self.forbidden = forbidden
        self.calls: list[tuple] = []

    def _check(self, resource, namespace):
        if resource.plural in self.forbidden:
            raise ApiError("Error from server (Forbidden): ...", 403, "Forbidden")

    def list_pages(self, resource, namespace=None, *, label_selector=None, field_selector=None, limit=None,
                   metadata_only=False):
        self.calls.append(("list", resource.kind, namespace))
        self._check(resource, namespace)
        yield [o for o in self.objects if o["kind"] == resource.kind
               and o["metadata"]["namespace"] == namespace]

    def get(self, resource, namespace, name):
        self.calls.append(("get", resource.kind, namespace, name))
        self._check(resource, namespace)
        for o in self.objects:
            if (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) == (resource.kind, namespace, name):
                return o
        return None


def _starts(pods: list[dict]):
    return [(ObjectRef("Pod", p["metadata"]["name"], p["metadata"]["namespace"]),
             tuple(p["metadata"].get("ownerReferences", []))) for p in pods]


def test_cluster_lookup_batches_one_list_per_kind_and_namespace() -> None:
    deploys = [workload("Deployment", f"d{i}", SPEC) for i in range(3)]
    rss = [workload("ReplicaSet", f"d{i}-rs", SPEC, owners=[owner_ref("Deployment", f"d{i}")]) for i in range(3)]
    pods = [pod(f"d{i}-rs-{j}", SPEC, owners=[owner_ref("ReplicaSet", f"d{i}-rs")])
            for i in range(3) for j in range(50)]
    api = FakeApi(deploys + rss)
    chains = resolve_chains(_starts(pods), ClusterLookup(api))
    assert {c[-1].describe() for c in chains} == {"Deployment/d0", "Deployment/d1", "Deployment/d2"}
    # 150 pods, 3 ReplicaSets, 3 Deployments: one list per level, never one request per pod.
    assert api.calls == [("list", "ReplicaSet", "default"), ("list", "Deployment", "default")]


def test_cluster_lookup_gets_a_single_owner_by_name_once() -> None:
    ds = workload("DaemonSet", "agent", SPEC)
    pods = [pod(f"agent-{i}", SPEC, owners=[owner_ref("DaemonSet", "agent")]) for i in range(20)]
    api = FakeApi([ds])
    chains = resolve_chains(_starts(pods), ClusterLookup(api))
    assert all(c[-1].describe() == "DaemonSet/agent" for c in chains)
    assert api.calls == [("get", "DaemonSet", "default", "agent")]


def test_deleted_owner_ends_the_walk_and_is_still_the_owner() -> None:
    rs = workload("ReplicaSet", "web-1", SPEC, owners=[owner_ref("Deployment", "web")])
    p = pod("web-1-a", SPEC, owners=[owner_ref("ReplicaSet", "web-1")])
    (chain,) = resolve_chains(_starts([p]), ClusterLookup(FakeApi([rs])))
    assert [r.describe_marked() for r in chain] == ["Pod/web-1-a", "ReplicaSet/web-1", "Deployment/web (not found)"]


def test_owner_recreated_with_another_uid_is_the_deleted_owner_not_the_new_one() -> None:
    ds = workload("DaemonSet", "agent", SPEC)
    ds["metadata"]["uid"] = "a-new-uid"
    p = pod("agent-1", SPEC, owners=[owner_ref("DaemonSet", "agent")])
    (chain,) = resolve_chains(_starts([p]), ClusterLookup(FakeApi([ds])))
    assert [r.describe_marked() for r in chain] == ["Pod/agent-1", "DaemonSet/agent (not found)"]
    assert chain[-1].uid == "uid-daemonset-agent"  # the reference's uid, not the new object's


def test_missing_owners_make_one_warning_line() -> None:
    from plugin.owners import missing_owners_warning

    pods = [pod(f"web-1-{i}", SPEC, owners=[owner_ref("ReplicaSet", "web-1")]) for i in range(3)]
    pods.append(pod("ok-1", SPEC, owners=[owner_ref("DaemonSet", "ok")]))
    chains = resolve_chains(_starts(pods), ClusterLookup(FakeApi([workload("DaemonSet", "ok", SPEC)])))
    assert missing_owners_warning(chains) == (
        '1 owner was not found (deleted, or not in the input): ReplicaSet/web-1 in "default"; '
        "their pods are reported under them")
    assert missing_owners_warning(chains[3:]) is None


def test_forbidden_owner_lookup_degrades_and_says_what_was_forbidden() -> None:
    pods = [pod(f"web-1-{i}", SPEC, owners=[owner_ref("ReplicaSet", "web-1")]) for i in range(2)]
    pods += [pod("api-1-a", SPEC, owners=[owner_ref("ReplicaSet", "api-1")])]
    lookup = ClusterLookup(FakeApi([], forbidden={"replicasets"}))
    chains = resolve_chains(_starts(pods), lookup)
    assert [c[-1].describe() for c in chains] == ["ReplicaSet/web-1", "ReplicaSet/web-1", "ReplicaSet/api-1"]
    assert lookup.problems == ['cannot read replicasets.apps in the namespace "default" (Forbidden): '
                               "owners are shown as far as they could be resolved"]


def test_other_api_errors_are_not_swallowed() -> None:
    class Broken(FakeApi):
        def get(self, resource, namespace, name):
            raise ApiError("Unable to connect to the server: boom", 0)

    p = pod("agent-1", SPEC, owners=[owner_ref("DaemonSet", "agent")])
    with pytest.raises(ApiError, match="boom"):
        resolve_chains(_starts([p]), ClusterLookup(Broken([])))


def test_every_walkable_kind_has_a_resource() -> None:
    for kind in ("ReplicaSet", "Deployment", "Job", "CronJob", "DaemonSet", "StatefulSet", "ReplicationController"):
        assert resource_for_kind(kind) is not None


@pytest.mark.parametrize("selector, labels, expected", [
    ({"matchLabels": {"app": "a"}}, {"app": "a", "x": "y"}, True),
    ({"matchLabels": {"app": "a"}}, {"app": "b"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}, {"tier": "api"}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}, {"tier": "web"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "Bogus"}]}, {"tier": "x"}, False),
    ({"app": "legacy"}, {"app": "legacy"}, True),  # a ReplicationController's plain map
    ({}, {"app": "a"}, False),  # empty: would claim every pod
    ({"matchLabels": {}}, {"app": "a"}, False),
])
def test_selector_matches_as_the_api_server_evaluates_it(selector: dict, labels: dict, expected: bool) -> None:
    from plugin.owners import selector_matches

    assert selector_matches(selector, labels) is expected


def test_selector_fallback_only_for_input_without_referencing_pods() -> None:
    ds = workload("DaemonSet", "agent", SPEC)
    lookup = ObjectsLookup([("DaemonSet", ds)])
    assert lookup.selector_owner("default", {"app": "agent"})["name"] == "agent"
    assert lookup.selector_owner("other", {"app": "agent"}) is None
    twice = ObjectsLookup([("DaemonSet", ds), ("Deployment", workload("Deployment", "agent2", SPEC, labels={"app": "agent"}))])
    assert twice.selector_owner("default", {"app": "agent"}) is None  # ambiguous: no guess
    lookup.add("Pod", pod("p", SPEC, owners=[owner_ref("DaemonSet", "agent")]))
    assert lookup.selector_owner("default", {"app": "agent"}) is None  # a dump: references decide


@pytest.mark.parametrize("name", ["..", ".", "a/b", "x%2F"])
def test_a_reference_no_object_can_answer_is_not_found_without_a_request(name: str) -> None:
    """A forged ownerReference name must neither reach a URL nor stop the scan."""
    pods = [pod("p", SPEC, owners=[owner_ref("ReplicaSet", name)]), pod("q", SPEC, owners=[owner_ref("ReplicaSet", name)])]
    api = FakeApi([])
    chains = resolve_chains(_starts(pods), ClusterLookup(api))
    assert [[r.describe_marked() for r in c] for c in chains] == [[f"Pod/{p}", f"ReplicaSet/{name} (not found)"]
                                                                  for p in ("p", "q")]
    assert api.calls == []
