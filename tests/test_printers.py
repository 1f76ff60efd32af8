"""The printers: kubectl's table layout, and the json/yaml document scripts rely on."""

from __future__ import annotations

import io
import json
import re

import yaml

from plugin.models import AgentRef, Finding, ObjectRef, Origin, Report, ReportItem
from plugin.printers import PRINTERS, PrintOptions, allowed_formats
from plugin.printers.document import report_document

SOCKET = Finding("DS001", "docker-socket", "high", "mounts the socket", container="agent", volume="sock",
                 host_path="/var/run", sub_path="docker.sock", mount_path="/var/run/docker.sock")
UNMOUNTED = Finding("DS002", "docker-socket-directory", "low", "declared", volume="run", host_path="/run")


CTX = (Origin(context="ctx"),)
DATADOG = AgentRef("datadog-agent", "Datadog Agent", "image gcr.io/datadoghq/agent:7.50.0", True)


def item(namespace: str, kind: str, name: str, finding: Finding, pods=(), nodes=(), api_version="apps/v1",
         origins=CTX, agent: AgentRef | None = None, runtimes=None) -> ReportItem:
    owner = ObjectRef(kind, name, namespace, api_version)
    runtimes = tuple(runtimes) if runtimes is not None else tuple("" for _ in nodes)
    return ReportItem(namespace, owner, (owner,), tuple(pods), tuple(nodes), finding, tuple(origins), agent,
                      runtimes=runtimes)


REPORT = Report(items=(
    item("monitoring", "DaemonSet", "datadog", SOCKET, pods=("dd-a", "dd-b"), nodes=("n1", "n2"), agent=DATADOG),
    item("ci", "Pod", "builder", UNMOUNTED, api_version="v1"),
    item("other", "DaemonSet", "datadog", SOCKET, pods=("dd-c",)),
), context="ctx", namespace=None, scanned={"Pod": 3})


def render(fmt: str, report: Report = REPORT, **options) -> str:
    out = io.StringIO()
    PRINTERS[fmt](report, out, PrintOptions(**options))
    return out.getvalue()


def test_table_is_kubectl_style_one_row_per_workload() -> None:
    lines = render("").splitlines()
    assert lines[0].split() == ["NAMESPACE", "OWNER", "AGENT", "PODS", "SEVERITY", "DEPENDS-ON"]
    assert lines[1] == "monitoring   DaemonSet/datadog   datadog-agent   2      high       docker.sock"
    # empty cells are <none>, unknown agents <unknown>, no line ends in spaces, columns aligned
    assert lines[2].split() == ["ci", "Pod/builder", "<unknown>", "0", "low", "/run"]
    assert all(line == line.rstrip() for line in lines)
    starts = [line.index("DaemonSet") if "DaemonSet" in line else line.index("Pod/") for line in lines[1:]]
    assert len(set(starts)) == 1 and lines[0].index("OWNER") == starts[0]


def test_a_workload_with_several_findings_is_one_row_worst_severity_first() -> None:
    env = Finding("DS005", "docker-host-env", "high", "env", container="agent", evidence="DOCKER_HOST=tcp://x:2375")
    logs = Finding("DS004", "docker-data-directory", "medium", "logs", container="agent", volume="logs",
                   host_path="/var/lib/docker/containers", mount_path="/logs")
    report = Report(items=tuple(item("m", "DaemonSet", "agent", f, pods=p) for f, p in
                                [(logs, ("a",)), (UNMOUNTED, ("b",)), (env, ("a",)), (SOCKET, ())]))
    (row,) = [re.split(r" {3,}", line) for line in render("", report).splitlines()[1:]]
    assert row == ["m", "DaemonSet/agent", "<unknown>", "2", "high",
                   "DOCKER_HOST, docker.sock, /var/lib/docker/containers, /run"]
    assert len(render("wide", report).splitlines()) == 5  # wide keeps a row per finding


def test_columns_are_separated_by_at_least_three_spaces() -> None:
    for fmt in ("", "wide"):
        for line in render(fmt).splitlines():
            assert re.split(r" {3,}", line) == line.split()


def test_namespace_column_only_when_asked_and_no_headers() -> None:
    lines = render("", show_namespace=False, no_headers=True).splitlines()
    assert lines[0].startswith("DaemonSet/datadog   datadog-agent   2")
    assert len(lines) == 3


def test_wide_adds_severity_evidence_pods_runtime_counts_and_sources_once_per_location() -> None:
    report = Report(items=(
        item("m", "DaemonSet", "dd", SOCKET, pods=("a", "b", "c"), nodes=("n1", "n2", "n3"),
             runtimes=("docker://20.10.24", "", "docker://24.0.7"),
             origins=(Origin(file="x.yaml", line=3), Origin(file="x.yaml", line=3, document=0),
                      Origin(file="x.yaml", line=40), Origin(file="y.yaml", line=9))),
        item("m", "Deployment", "idle", SOCKET),
    ))
    lines = render("wide", report, show_sources=True).splitlines()
    assert lines[0].split()[-6:] == ["SEVERITY", "EVIDENCE", "POD-NAMES", "NODES", "RUNTIMES", "SOURCE"]
    assert lines[1].split()[-6:] == ["high", "<none>", "a,b,c", "n1,n2,n3", "docker:2,<unknown>:1",
                                     "x.yaml:3,40,y.yaml:9"]
    assert lines[2].split()[-6:] == ["high", "<none>", "<none>", "<none>", "<none>", "<none>"]


def test_empty_report_prints_nothing_in_table_formats() -> None:
    assert render("", Report(items=())) == "" and render("name", Report(items=())) == ""


def test_json_document_contract() -> None:
    doc = json.loads(render("json"))
    assert doc["kind"] == "DockerDependencyReport" and doc["apiVersion"].endswith("/v1alpha1")
    first = doc["items"][0]
    assert first["owner"] == {"kind": "DaemonSet", "name": "datadog", "apiVersion": "apps/v1"}
    assert {k: first[k] for k in ("namespace", "pods", "container", "volume", "hostPath", "subPath",
                                  "mountPath", "rule", "severity", "reason")} == {
        "namespace": "monitoring", "pods": ["dd-a", "dd-b"], "container": "agent", "volume": "sock",
        "hostPath": "/var/run", "subPath": "docker.sock", "mountPath": "/var/run/docker.sock",
        "rule": "DS001", "severity": "high", "reason": "mounts the socket"}
    assert first["sources"] == [{"context": "ctx"}]
    assert first["agent"] == {"id": "datadog-agent", "name": "Datadog Agent", "strong": True, "migrated": [],
                              "evidence": "image gcr.io/datadoghq/agent:7.50.0"}
    assert doc["items"][1]["agent"] is None
    assert doc["metadata"]["complete"] is True and doc["metadata"]["scanned"] == {"Pod": 3}


def test_yaml_is_the_same_document() -> None:
    assert yaml.safe_load(render("yaml")) == report_document(REPORT) == json.loads(render("json"))


def test_name_prints_each_owner_once_per_namespace() -> None:
    assert render("name").splitlines() == ["daemonset.apps/datadog", "pod/builder", "daemonset.apps/datadog"]


def test_allowed_formats() -> None:
    assert allowed_formats() == ["json", "markdown", "name", "sarif", "table", "wide", "yaml", "jmespath=EXPR"]


def test_nodes_wide_with_probes_puts_each_cell_under_its_header() -> None:
    """Observed: `nodes -o wide --probes` printed the HOST-FINDINGS count under INTERNAL-IP and
    every wide column one place to the left of its header."""
    from plugin.nodes import NodeRuntime
    from plugin.printers.nodes import print_nodes
    from plugin.sources.probe_logs import NO_PROBE

    node = NodeRuntime("node-c", "Ready", "containerd", "1.7.11", "v1.29.0", "Ubuntu 22.04", "6.5.0", "10.0.0.3",
                       "unix:///run/containerd/containerd.sock", "no", "containerd: no dockershim", probe=NO_PROBE)
    for output in ("", "wide"):
        out = io.StringIO()
        print_nodes([node], out, output, no_headers=False)
        header, row = out.getvalue().splitlines()
        starts = [m.start() for m in re.finditer(r"\S+", header)]
        cells = {name: row[start:].split("   ")[0].strip() for name, start in zip(header.split(), starts, strict=True)}
        assert cells["NAME"] == "node-c" and cells["HOST-FINDINGS"] == "<no-probe>"
        if output == "wide":
            assert (cells["INTERNAL-IP"], cells["KERNEL-VERSION"], cells["REASON"]) == (
                "10.0.0.3", "6.5.0", "containerd: no dockershim")
