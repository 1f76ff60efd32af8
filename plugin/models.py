"""The plain data that flows through the pipeline: where an object came from, what was scanned,
what a rule found, and the finished report.

All frozen dataclasses: easy to test, to compare and to serialize. No behaviour beyond
small derived properties lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from plugin.scheduling import Placement

SEVERITIES = ("high", "medium", "low", "info")


def lower_severity(severity: str) -> str:
    """One step down the scale (`high` -> `medium`), `info` stays `info`."""
    index = SEVERITIES.index(severity)
    return SEVERITIES[min(index + 1, len(SEVERITIES) - 1)]


@dataclass(frozen=True)
class Origin:
    """Where an object was read: a cluster context, or a file with its line, document index and,
    for an item of a `List`, its index in `items`."""

    context: str | None = None
    file: str | None = None
    line: int | None = None  # 1-based line where the object starts
    document: int | None = None  # 0-based index of the document in the file
    item: int | None = None  # 0-based index in `items` when the object is an item of a List

    def describe(self) -> str:
        if self.file is None:
            return self.context or ""
        if self.line is not None:
            return f"{self.file}:{self.line}"
        return f"{self.file}#{self.document}" if self.document is not None else self.file


class SourceObject(NamedTuple):
    """A Kubernetes object as a source yields it. `kind` is set even when the API omitted it
    (list items carry no kind), so later stages never have to guess. A named tuple, not a
    dataclass: one is made per object of the cluster, and a tuple is built several times faster
    than a frozen dataclass."""

    kind: str
    api_version: str
    obj: dict
    origin: Origin


@dataclass(frozen=True)
class ObjectRef:
    """Identifies an object: a scanned pod, or one link of an owner chain."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str = ""
    uid: str = ""
    # False for an owner that a reference names but that does not exist (deleted, or absent from
    # the input files): it is still the owner, as the garbage collector sees it.
    found: bool = True

    def describe(self) -> str:
        return f"{self.kind}/{self.name}"

    def describe_marked(self) -> str:
        """`describe()`, plus `(not found)` for an owner that does not exist: for wide tables and
        explain, where a reader looks at one owner; the default table keeps one word per cell."""
        return self.describe() if self.found else f"{self.kind}/{self.name} (not found)"


@dataclass(frozen=True)
class Finding:
    """One reason a pod spec depends on Docker, as a rule reported it."""

    rule_id: str
    rule_name: str
    severity: str
    reason: str
    container: str | None = None
    volume: str | None = None
    host_path: str | None = None  # as written in the spec
    host_path_type: str | None = None  # the hostPath volume's `type` (Socket, Directory, ...)
    mount_path: str | None = None
    sub_path: str | None = None
    read_only: bool = False
    evidence: str | None = None  # the env var, argument or probe that triggered a non-mount rule

    def key(self) -> tuple:
        """What makes two findings the same across the pods of one workload."""
        return (self.rule_id, self.container, self.volume, self.host_path, self.mount_path,
                self.sub_path, self.evidence)


@dataclass(frozen=True)
class AgentRef:
    """The agent a workload was identified as, from the catalogue (plugin/agents.json)."""

    id: str
    name: str
    evidence: str  # what matched: "image gcr.io/datadoghq/agent:7.50.0" or a name/label hint
    strong: bool  # an image match; False for a pod-name or label hint
    migrated: tuple[str, ...] = ()  # signs that it already runs on containerd/CRI-O

    def describe(self) -> str:
        return self.id if self.strong else f"{self.id}?"

    @property
    def image(self) -> str | None:
        """The image that identified it (a strong match's evidence is "image REF"); its tag decides
        the catalogue's version-bound steps. None for a name or label hint."""
        return self.evidence.removeprefix("image ") if self.strong and self.evidence.startswith("image ") else None


@dataclass(frozen=True)
class ScannedObject:
    """A pod or workload template that produced findings, with what the owner walk needs."""

    ref: ObjectRef
    owner_references: tuple[dict, ...]
    is_pod: bool
    node: str | None
    origin: Origin
    findings: tuple[Finding, ...]
    agent: AgentRef | None = None
    # Where its pods may be scheduled: set for a workload's template and a pod not yet on a node
    # (`plan` places workloads with no pod on a pool by it); None for a pod on its node.
    placement: Placement | None = None


@dataclass(frozen=True)
class ReportItem:
    """One row of the report: an owning workload and one finding, pods aggregated."""

    namespace: str | None
    owner: ObjectRef
    owner_chain: tuple[ObjectRef, ...]  # from the first scanned object up to `owner`
    pods: tuple[str, ...]
    nodes: tuple[str, ...]
    finding: Finding
    origins: tuple[Origin, ...]
    agent: AgentRef | None = None
    context: str | None = None  # set when several contexts were scanned
    runtimes: tuple[str, ...] = ()  # containerRuntimeVersion of each of `nodes`, "" if unknown
    # The placements of the workload's templates and pending pods, for `plan`; no printer shows them.
    placements: tuple[Placement, ...] = ()


@dataclass(frozen=True)
class WorkloadSummary:
    """One workload and everything found on it: a row of the default table."""

    context: str | None
    namespace: str | None
    owner: ObjectRef
    agent: AgentRef | None
    pods: tuple[str, ...]
    severity: str  # the worst of its findings
    depends_on: tuple[str, ...]  # what it uses of Docker, worst first: "docker.sock", "DOCKER_HOST", ...
    rules: tuple[str, ...]  # rule ids, in rule order


@dataclass(frozen=True)
class Report:
    """The finished scan: sorted items, plus what could not be seen."""

    items: tuple[ReportItem, ...]
    warnings: tuple[str, ...] = ()
    complete: bool = True
    context: str | None = None
    namespace: str | None = None  # None when every namespace was scanned
    scanned: dict[str, int] = field(default_factory=dict)  # objects read, by kind
    contexts: tuple[str, ...] = ()  # set when several contexts were scanned
    # Findings left out by `--severity`, per severity: summaries and markdown say how many.
    hidden: dict[str, int] = field(default_factory=dict)
