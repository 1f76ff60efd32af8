"""Where a pod may run: the scheduler's node filters that depend only on the pod spec and the node,
so that `plan` can tell which node pools a workload would land on when it has no pod there today
(a DaemonSet whose pods are elsewhere, an idle CronJob, a Deployment at zero).

The filters are kube-scheduler's and the DaemonSet controller's: `spec.nodeName`, `nodeSelector`,
required node affinity (`nodeSelectorTerms`, ORed; in each term `matchExpressions` with In,
NotIn, Exists, DoesNotExist, Gt, Lt and `matchFields` on `metadata.name`, ANDed), and taints with
the NoSchedule or NoExecute effect against the tolerations; a cordoned node (`spec.unschedulable`)
repels pods as the `node.kubernetes.io/unschedulable:NoSchedule` taint would (the scheduler's
NodeUnschedulable filter). The tolerations a pod gets without asking are modelled: the
DefaultTolerationSeconds admission plugin's (not-ready and unreachable, NoExecute) for every pod,
and the DaemonSet controller's (those, plus disk-, memory- and pid-pressure and unschedulable,
NoSchedule; network-unavailable too with hostNetwork) for DaemonSet pods. Left out on purpose:
resources, ports, pod (anti-)affinity and topology spread, which depend on what else runs and
change by the minute. A malformed term (an unknown operator, Gt with a word) matches no node, as
the scheduler treats it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plugin import queries

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
_NODE_NAME_FIELD = "metadata.name"  # the only field matchFields may name


@dataclass(frozen=True)
class Requirement:
    """One `matchExpressions` (or `matchFields`) entry."""

    key: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Term:
    """One `nodeSelectorTerms` entry: its expressions on labels and on fields, all of which must match."""

    expressions: tuple[Requirement, ...]
    fields: tuple[Requirement, ...]


@dataclass(frozen=True)
class Toleration:
    key: str  # "" with Exists: every key
    operator: str  # "Exists" or "Equal" ("" is Equal)
    value: str
    effect: str  # "" tolerates every effect


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class Placement:
    """What of a pod spec decides its nodes. Hashable: report items carry the placements of the
    templates (and pending pods) of their workload."""

    node_name: str | None
    node_selector: tuple[tuple[str, str], ...]
    required_terms: tuple[Term, ...] | None  # None: no required node affinity
    tolerations: tuple[Toleration, ...]


@dataclass(frozen=True)
class NodeFacts:
    """What of a node the filters read."""

    name: str
    labels: Mapping[str, str]
    taints: tuple[Taint, ...]  # with the unschedulable taint of a cordoned node


def _exists(key: str, effect: str) -> Toleration:
    return Toleration(key, "Exists", "", effect)


# The DefaultTolerationSeconds admission plugin gives every pod these (for 300 s, which does not
# matter to where it may be scheduled).
ADMISSION_TOLERATIONS = (_exists("node.kubernetes.io/not-ready", NO_EXECUTE),
                         _exists("node.kubernetes.io/unreachable", NO_EXECUTE))
# The DaemonSet controller's (AddOrUpdateDaemonPodTolerations), for every pod it creates.
DAEMON_TOLERATIONS = ADMISSION_TOLERATIONS + tuple(
    _exists(key, NO_SCHEDULE) for key in ("node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure",
                                          "node.kubernetes.io/pid-pressure", UNSCHEDULABLE_TAINT))
DAEMON_HOST_NETWORK_TOLERATIONS = (_exists("node.kubernetes.io/network-unavailable", NO_SCHEDULE),)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _requirements(raw: object) -> tuple[Requirement, ...] | None:
    """The entries of matchExpressions or matchFields; None when one is not even a mapping."""
    found = []
    for entry in _list(raw):
        if not isinstance(entry, dict):
            return None
        values = tuple(v for v in _list(entry.get("values")) if isinstance(v, str))
        found.append(Requirement(_text(entry.get("key")), _text(entry.get("operator")), values))
    return tuple(found)


_UNMATCHABLE = Term((Requirement("", "", ()),), ())  # a term that cannot be read matches nothing


def _term(raw: object) -> Term:
    if not isinstance(raw, dict):
        return _UNMATCHABLE
    expressions, fields = _requirements(raw.get("matchExpressions")), _requirements(raw.get("matchFields"))
    if expressions is None or fields is None:
        return _UNMATCHABLE
    return Term(expressions, fields)


def _tolerations(raw: object) -> tuple[Toleration, ...]:
    return tuple(Toleration(_text(t.get("key")), _text(t.get("operator")), _text(t.get("value")),
                            _text(t.get("effect")))
                 for t in _list(raw) if isinstance(t, dict))


def placement_of(kind: str, spec: dict) -> Placement:
    """The placement of a pod spec of `kind`'s object (a Pod, or a workload's template): a
    DaemonSet's pods get the controller's tolerations, every pod the admission plugin's."""
    selector = queries.NODE_SELECTOR.search(spec)
    # A value that is not a string (`gpu: true` in a manifest) is refused by the API: such a pod
    # exists nowhere, so its selector is given a value no label can have (labels hold no newline).
    pairs = tuple(sorted((str(k), v if isinstance(v, str) else f"\n{v!r}") for k, v in selector.items())) \
        if isinstance(selector, dict) else ()
    required = queries.REQUIRED_NODE_AFFINITY.search(spec)
    terms = tuple(_term(t) for t in _list(required.get("nodeSelectorTerms"))) if isinstance(required, dict) else None
    granted: tuple[Toleration, ...] = ADMISSION_TOLERATIONS
    if kind == "DaemonSet":
        granted = DAEMON_TOLERATIONS + (DAEMON_HOST_NETWORK_TOLERATIONS if spec.get("hostNetwork") is True else ())
    node_name = queries.SPEC_NODE_NAME.search(spec)
    return Placement(node_name=node_name if isinstance(node_name, str) and node_name else None,
                     node_selector=pairs, required_terms=terms,
                     tolerations=_tolerations(queries.TOLERATIONS.search(spec)) + granted)


def node_facts(node: dict) -> NodeFacts:
    """A Node object as the filters see it."""
    labels = queries.LABELS.search(node)
    taints = tuple(Taint(_text(t.get("key")), _text(t.get("value")), _text(t.get("effect")))
                   for t in _list(queries.NODE_TAINTS.search(node)) if isinstance(t, dict))
    if queries.NODE_UNSCHEDULABLE.search(node) is True \
            and not any(t.key == UNSCHEDULABLE_TAINT and t.effect == NO_SCHEDULE for t in taints):
        taints += (Taint(UNSCHEDULABLE_TAINT, "", NO_SCHEDULE),)
    return NodeFacts(name=_text(queries.NAME.search(node)),
                     labels={k: v for k, v in labels.items() if isinstance(v, str)} if isinstance(labels, dict) else {},
                     taints=taints)


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """Whether one toleration tolerates one taint (the API's ToleratesTaint)."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == "Exists":
        return True
    if toleration.operator in ("", "Equal"):
        return toleration.value == taint.value
    return False


def untolerated_taints(placement: Placement, node: NodeFacts) -> tuple[Taint, ...]:
    """The node's NoSchedule and NoExecute taints that no toleration of the placement tolerates."""
    return tuple(t for t in node.taints if t.effect in (NO_SCHEDULE, NO_EXECUTE)
                 and not any(tolerates(tol, t) for tol in placement.tolerations))


def _integer(text: str) -> int | None:
    try:
        return int(text, 10)
    except ValueError:
        return None


def requirement_matches(requirement: Requirement, labels: Mapping[str, str]) -> bool:
    """One matchExpressions entry against a node's labels; a malformed one matches nothing."""
    op, values = requirement.operator, requirement.values
    present = requirement.key in labels
    value = labels.get(requirement.key, "")
    if not requirement.key:
        return False
    if op == "In":
        return bool(values) and present and value in values
    if op == "NotIn":
        return bool(values) and (not present or value not in values)
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        wanted = _integer(values[0]) if len(values) == 1 else None
        have = _integer(value) if present else None
        if wanted is None or have is None:
            return False
        return have > wanted if op == "Gt" else have < wanted
    return False


def _field_matches(requirement: Requirement, node: NodeFacts) -> bool:
    if requirement.key != _NODE_NAME_FIELD or not requirement.values:
        return False
    if requirement.operator == "In":
        return node.name in requirement.values
    if requirement.operator == "NotIn":
        return node.name not in requirement.values
    return False


def term_matches(term: Term, node: NodeFacts) -> bool:
    """An empty term matches no node, as the API defines it."""
    if not term.expressions and not term.fields:
        return False
    return all(requirement_matches(r, node.labels) for r in term.expressions) \
        and all(_field_matches(r, node) for r in term.fields)


def can_schedule(placement: Placement, node: NodeFacts) -> bool:
    """Whether a pod of this placement may be scheduled on the node (or, for a DaemonSet, be run there)."""
    if placement.node_name is not None and placement.node_name != node.name:
        return False
    if any(node.labels.get(key) != value for key, value in placement.node_selector):
        return False
    if placement.required_terms is not None and not any(term_matches(t, node) for t in placement.required_terms):
        return False
    return not untolerated_taints(placement, node)
