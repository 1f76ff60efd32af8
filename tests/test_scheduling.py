"""Where a pod spec may be scheduled (plugin.scheduling): nodeName, nodeSelector, required node
affinity with every operator and matchFields, taints against tolerations with the API's matching
rules, cordoned nodes, and the tolerations the DaemonSet controller and the admission plugin add."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.scheduling import (
    NodeFacts,
    Placement,
    Requirement,
    Taint,
    Toleration,
    can_schedule,
    node_facts,
    placement_of,
    requirement_matches,
    tolerates,
    untolerated_taints,
)


def node(name: str = "n1", labels: dict[str, str] | None = None, taints: list[dict] | None = None,
         unschedulable: bool = False) -> NodeFacts:
    obj: dict[str, Any] = {"metadata": {"name": name, "labels": labels or {}}, "spec": {}}
    if taints is not None:
        obj["spec"]["taints"] = taints
    if unschedulable:
        obj["spec"]["unschedulable"] = True
    return node_facts(obj)


def affinity(*terms: dict) -> dict:
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": list(terms)}}}}


def expression(key: str, operator: str, *values: str) -> dict:
    entry: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        entry["values"] = list(values)
    return entry


def fits(spec: dict, facts: NodeFacts, kind: str = "Deployment") -> bool:
    return can_schedule(placement_of(kind, spec), facts)


GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


def test_a_spec_without_constraints_fits_an_untainted_node() -> None:
    assert fits({"containers": []}, node())
    assert placement_of("Deployment", {}).required_terms is None


def test_node_name_pins_the_pod() -> None:
    assert fits({"nodeName": "n1"}, node("n1")) and not fits({"nodeName": "n1"}, node("n2"))
    assert fits({"nodeName": ""}, node("n2"))  # empty: not pinned


def test_node_selector_needs_every_label_with_its_value() -> None:
    spec = {"nodeSelector": {"pool": "ci", "disk": "ssd"}}
    assert fits(spec, node(labels={"pool": "ci", "disk": "ssd", "zone": "a"}))
    assert not fits(spec, node(labels={"pool": "ci"}))
    assert not fits(spec, node(labels={"pool": "ci", "disk": "hdd"}))


def test_a_selector_value_that_is_not_a_string_matches_no_node() -> None:
    # `gpu: true` in a manifest is refused by the API: such a pod runs nowhere
    assert not fits({"nodeSelector": {"gpu": True}}, node(labels={"gpu": "true"}))
    assert not fits({"nodeSelector": {"gpu": True}}, node(labels={"gpu": "True"}))


@pytest.mark.parametrize("requirement, labels, expected", [
    (("pool", "In", "ci", "build"), {"pool": "build"}, True),
    (("pool", "In", "ci"), {"pool": "web"}, False),
    (("pool", "In", "ci"), {}, False),
    (("pool", "NotIn", "ci"), {"pool": "web"}, True),
    (("pool", "NotIn", "ci"), {}, True),  # an absent label is not in the set
    (("pool", "NotIn", "ci"), {"pool": "ci"}, False),
    (("pool", "Exists"), {"pool": ""}, True),
    (("pool", "Exists"), {}, False),
    (("pool", "DoesNotExist"), {}, True),
    (("pool", "DoesNotExist"), {"pool": "x"}, False),
    (("cores", "Gt", "8"), {"cores": "16"}, True),
    (("cores", "Gt", "8"), {"cores": "8"}, False),
    (("cores", "Lt", "8"), {"cores": "4"}, True),
    (("cores", "Lt", "8"), {"cores": "-20"}, True),
    (("cores", "Lt", "8"), {"cores": "16"}, False),
    (("cores", "Gt", "8"), {}, False),
    (("cores", "Gt", "eight"), {"cores": "16"}, False),  # malformed: matches nothing
    (("cores", "Gt", "8"), {"cores": "many"}, False),
    (("cores", "Gt", "1", "2"), {"cores": "16"}, False),  # Gt takes exactly one value
    (("pool", "In"), {"pool": "ci"}, False),  # In without values
    (("pool", "NotIn"), {"pool": "web"}, False),
    (("pool", "Like", "ci"), {"pool": "ci"}, False),  # unknown operator
    (("", "Exists"), {"": "x"}, False),
])
def test_requirement_operators(requirement: tuple[str, ...], labels: dict[str, str], expected: bool) -> None:
    key, operator, *values = requirement
    assert requirement_matches(Requirement(key, operator, tuple(values)), labels) is expected


def test_terms_are_ored_and_expressions_in_a_term_anded() -> None:
    spec = affinity({"matchExpressions": [expression("pool", "In", "ci"), expression("arch", "In", "amd64")]},
                    {"matchExpressions": [expression("karpenter.sh/nodepool", "Exists")]})
    assert fits(spec, node(labels={"pool": "ci", "arch": "amd64"}))
    assert not fits(spec, node(labels={"pool": "ci", "arch": "arm64"}))
    assert fits(spec, node(labels={"karpenter.sh/nodepool": "general"}))
    assert not fits(spec, node(labels={"pool": "web"}))


def test_match_fields_on_the_node_name() -> None:
    pinned = affinity({"matchFields": [expression("metadata.name", "In", "legacy-1")]})
    assert fits(pinned, node("legacy-1")) and not fits(pinned, node("legacy-2"))
    elsewhere = affinity({"matchFields": [expression("metadata.name", "NotIn", "legacy-1")]})
    assert fits(elsewhere, node("legacy-2")) and not fits(elsewhere, node("legacy-1"))
    other_field = affinity({"matchFields": [expression("spec.providerID", "In", "x")]})
    assert not fits(other_field, node("x"))
    both = affinity({"matchFields": [expression("metadata.name", "In", "n1")],
                     "matchExpressions": [expression("pool", "In", "ci")]})
    assert fits(both, node("n1", {"pool": "ci"})) and not fits(both, node("n1", {"pool": "web"}))


def test_an_empty_or_malformed_term_matches_no_node() -> None:
    assert not fits(affinity({}), node())
    assert not fits(affinity(), node())  # required, with no term at all
    assert not fits(affinity("pool=ci"), node(labels={"pool": "ci"}))
    assert not fits(affinity({"matchExpressions": ["pool"]}), node(labels={"pool": "ci"}))
    # a malformed term does not spoil a good one
    assert fits(affinity({}, {"matchExpressions": [expression("pool", "In", "ci")]}), node(labels={"pool": "ci"}))
    # preferred affinity is a preference, not a filter
    preferred = {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": [expression("pool", "In", "ci")]}}]}}}
    assert fits(preferred, node(labels={"pool": "web"}))


def test_node_selector_and_affinity_must_both_hold() -> None:
    spec = {"nodeSelector": {"disk": "ssd"}, **affinity({"matchExpressions": [expression("pool", "In", "ci")]})}
    assert fits(spec, node(labels={"pool": "ci", "disk": "ssd"}))
    assert not fits(spec, node(labels={"pool": "ci"}))
    assert not fits(spec, node(labels={"disk": "ssd"}))


@pytest.mark.parametrize("toleration, taint, expected", [
    (("nvidia.com/gpu", "Equal", "present", "NoSchedule"), ("nvidia.com/gpu", "present", "NoSchedule"), True),
    (("nvidia.com/gpu", "", "present", "NoSchedule"), ("nvidia.com/gpu", "present", "NoSchedule"), True),
    (("nvidia.com/gpu", "Equal", "absent", "NoSchedule"), ("nvidia.com/gpu", "present", "NoSchedule"), False),
    (("nvidia.com/gpu", "Exists", "", "NoSchedule"), ("nvidia.com/gpu", "present", "NoSchedule"), True),
    (("nvidia.com/gpu", "Exists", "", ""), ("nvidia.com/gpu", "present", "NoExecute"), True),  # every effect
    (("nvidia.com/gpu", "Exists", "", "NoExecute"), ("nvidia.com/gpu", "present", "NoSchedule"), False),
    (("", "Exists", "", ""), ("anything", "x", "NoSchedule"), True),  # tolerates everything
    (("", "Exists", "", "NoSchedule"), ("anything", "x", "NoExecute"), False),
    (("other", "Exists", "", ""), ("nvidia.com/gpu", "present", "NoSchedule"), False),
    (("nvidia.com/gpu", "Gt", "1", ""), ("nvidia.com/gpu", "2", "NoSchedule"), False),
])
def test_toleration_matching(toleration: tuple[str, str, str, str], taint: tuple[str, str, str],
                             expected: bool) -> None:
    assert tolerates(Toleration(*toleration), Taint(*taint)) is expected


def test_a_tainted_node_repels_what_does_not_tolerate_it() -> None:
    tainted = node(taints=[GPU_TAINT])
    assert not fits({}, tainted)
    assert not fits({}, tainted, kind="DaemonSet")  # a DaemonSet tolerating nothing does not land there
    assert fits({"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]}, tainted)
    assert fits({"tolerations": [{"operator": "Exists"}]}, tainted)
    assert untolerated_taints(placement_of("Pod", {}), tainted) == (Taint("nvidia.com/gpu", "present", "NoSchedule"),)


def test_prefer_no_schedule_repels_nothing() -> None:
    assert fits({}, node(taints=[{"key": "spot", "value": "", "effect": "PreferNoSchedule"}]))


def test_no_execute_repels_too() -> None:
    assert not fits({}, node(taints=[{"key": "dedicated", "value": "db", "effect": "NoExecute"}]))


def test_a_cordoned_node_repels_all_but_daemonsets() -> None:
    cordoned = node(unschedulable=True)
    assert not fits({}, cordoned)
    assert fits({}, cordoned, kind="DaemonSet")
    assert fits({"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                                  "effect": "NoSchedule"}]}, cordoned)
    # the node controller's own taint is not counted twice
    assert node(unschedulable=True, taints=[{"key": "node.kubernetes.io/unschedulable",
                                             "effect": "NoSchedule"}]).taints == cordoned.taints


@pytest.mark.parametrize("key, effect", [
    ("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule"),
])
def test_daemonsets_get_the_controllers_tolerations(key: str, effect: str) -> None:
    condition = node(taints=[{"key": key, "effect": effect}])
    assert fits({}, condition, kind="DaemonSet")


def test_every_pod_gets_the_admission_plugins_tolerations_and_only_those() -> None:
    assert fits({}, node(taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]))
    assert fits({}, node(taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]))
    assert not fits({}, node(taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]))
    assert not fits({}, node(taints=[{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}]))


def test_network_unavailable_is_tolerated_by_host_network_daemonsets_only() -> None:
    unavailable = node(taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}])
    assert fits({"hostNetwork": True}, unavailable, kind="DaemonSet")
    assert not fits({}, unavailable, kind="DaemonSet")
    assert not fits({"hostNetwork": True}, unavailable, kind="Deployment")


def test_odd_shapes_are_read_without_failing() -> None:
    odd = {"nodeSelector": "pool=ci", "tolerations": ["x", None, {"key": 3}],
           "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": "yes"}}}
    placement = placement_of("Pod", odd)
    assert placement.node_selector == () and placement.required_terms is None
    assert fits(odd, node())
    facts = node_facts({"metadata": {"name": 7, "labels": {"a": 1, "b": "2"}}, "spec": {"taints": "x"}})
    assert (facts.name, dict(facts.labels), facts.taints) == ("", {"b": "2"}, ())
    assert node_facts({}) == NodeFacts("", {}, ())


def test_placements_are_hashable_and_equal_for_equal_specs() -> None:
    spec = {"nodeSelector": {"pool": "ci"}, **affinity({"matchExpressions": [expression("a", "In", "b")]}),
            "tolerations": [{"operator": "Exists"}]}
    first, second = placement_of("DaemonSet", spec), placement_of("DaemonSet", dict(spec))
    assert first == second and len({first, second}) == 1
    assert isinstance(first, Placement) and first != placement_of("Deployment", spec)
