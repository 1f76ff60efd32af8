"""The core loop and the report: what is kept, how pods aggregate under their owner, how agents
and migrated signals are applied."""

from __future__ import annotations

from plugin.models import AgentRef, ObjectRef, Origin, SourceObject
from plugin.owners import ObjectsLookup, resolve_chains
from plugin.report import build_report
from plugin.rules import RuleSettings
from plugin.scan import scan_objects
from tests.podspecs import owner_ref, pod, socket_spec, workload

SPEC = socket_spec()
CLEAN = socket_spec("/run/containerd/containerd.sock")


def sources(*objs: dict, file: str | None = None) -> list[SourceObject]:
    return [SourceObject(o["kind"], o["apiVersion"], o, Origin(file=file, line=i + 1) if file else Origin("ctx"))
            for i, o in enumerate(objs)]


def report_of(objs: list[dict], identify=None):
    result = scan_objects(sources(*objs), RuleSettings(), "default", identify)
    chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned],
                            ObjectsLookup((o["kind"], o) for o in objs))
    return result, build_report(result.scanned, chains, counts=result.counts)


def test_only_objects_with_findings_are_kept_but_all_are_counted() -> None:
    objs = [pod("a", SPEC), pod("b", CLEAN), workload("DaemonSet", "d", CLEAN),
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]
    result, _ = report_of(objs)
    assert [s.ref.name for s in result.scanned] == ["a"]
    assert dict(result.counts) == {"Pod": 2, "DaemonSet": 1}


def test_pods_and_templates_of_one_owner_aggregate_into_one_row() -> None:
    ds = workload("DaemonSet", "agent", SPEC, namespace="mon")
    pods = [pod(f"agent-{i}", SPEC, "mon", [owner_ref("DaemonSet", "agent")], node=f"n{i % 2}") for i in range(4)]
    _, report = report_of([ds, *pods])
    (item,) = report.items
    assert item.owner.describe() == "DaemonSet/agent"
    assert item.pods == ("agent-0", "agent-1", "agent-2", "agent-3") and item.nodes == ("n0", "n1")


def test_a_workload_without_pods_is_reported_with_zero_pods() -> None:
    _, report = report_of([workload("CronJob", "build", SPEC)])
    (item,) = report.items
    assert (item.owner.describe(), item.pods, item.namespace) == ("CronJob/build", (), "default")


def test_items_are_sorted_by_namespace_then_owner() -> None:
    objs = [pod("z", SPEC, "b"), pod("y", SPEC, "a"), workload("Deployment", "x", SPEC, "b")]
    _, report = report_of(objs)
    assert [(i.namespace, i.owner.describe()) for i in report.items] == [
        ("a", "Pod/y"), ("b", "Deployment/x"), ("b", "Pod/z")]


def test_identified_agent_and_migrated_signals_lower_the_severity() -> None:
    def identify(spec: dict, metadata: dict) -> AgentRef | None:
        if metadata.get("name") == "migrated":
            return AgentRef("falco", "Falco", "image falcosecurity/falco", True, ("arg --cri",))
        return AgentRef("falco", "Falco", "image falcosecurity/falco", True)

    _, report = report_of([pod("migrated", SPEC), pod("plain", SPEC)], identify)
    by_pod = {i.pods[0]: i for i in report.items}
    assert by_pod["plain"].finding.severity == "high" and by_pod["plain"].agent.id == "falco"
    assert by_pod["migrated"].finding.severity == "medium"
    assert by_pod["migrated"].finding.reason.endswith("(ready for containerd/CRI-O: arg --cri)")


def test_odd_objects_are_scanned_for_what_they_have() -> None:
    odd = [{"apiVersion": "v1", "kind": "Pod", "metadata": None, "spec": SPEC},
           {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "n", "ownerReferences": [{"kind": "X"}]},
            "spec": {**SPEC, "volumes": None}},
           {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": None},
           {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "no-ns", "ownerReferences": "junk"},
            "spec": SPEC}]
    _, report = report_of(odd)
    assert [(i.namespace, i.owner.describe()) for i in report.items] == [
        ("default", "Pod/<unnamed>"), ("default", "Pod/no-ns")]


def test_owner_chain_refs_keep_api_versions() -> None:
    p = pod("p", SPEC, owners=[owner_ref("DaemonSet", "d")])
    _, report = report_of([p])
    # The DaemonSet is not in the input: still the owner, with its reference's apiVersion and uid.
    assert report.items[0].owner == ObjectRef("DaemonSet", "d", "default", "apps/v1", "uid-daemonset-d", found=False)
    assert report.warnings == ('1 owner was not found (deleted, or not in the input): DaemonSet/d in "default"; '
                               "their pods are reported under them",)
