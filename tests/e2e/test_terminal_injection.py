"""No terminal injection (issue 12, item 1), through the real kubectl against a cluster whose names,
images, paths, env values and annotations carry escape sequences, carriage returns, line breaks,
C1 controls and bidi overrides, and through `-f` files and file names that do the same.

Every human format of every command must show them as visible escapes (`\\x1b`, `\\n`,
`\\u202e`): nothing raw reaches stdout or stderr, and a line break in a pod name cannot add a
row. json and yaml keep the exact values."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.apiserver import ApiServer
from tests.e2e.conftest import Plugin
from tests.loopback import closed_port
from tests.podspecs import container, host_path_volume, mount, owner_ref, pod, pod_spec, workload

ESC = "\x1b[31mRED\x1b[0m"
OSC8 = "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07"
C1 = "\x9b2J\x85"
BIDI = "\u202egnp.exe"
# A pod name that, printed raw, ends its row and prints a forged one in the table's layout.
FORGED = "forged   <unknown>   9   agent   /var/run/docker.sock   /var/run/docker.sock   docker-socket"
ROW_NAME = "bare\rhostile   DaemonSet/" + FORGED + "\n" + "hostile   DaemonSet/" + FORGED
# Raw, these would be interpreted by a terminal or break a line (a newline only ends our own lines).
RAW = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
                        0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029) if c != 0x0A]

SPEC = pod_spec(
    [host_path_volume("sock", "/var/run/docker.sock"), host_path_volume("etc", "/etc/x" + OSC8)],
    [container("agent" + ESC, "registry.example/tool:1" + OSC8,
               mounts=[mount("sock", "/var/run/docker.sock"), mount("etc", "/x" + BIDI, read_only=True)],
               command=["sh", "-c", "docker ps " + ESC],
               env=[{"name": "DOCKER_HOST", "value": "unix:///var/run/docker.sock"}, {"name": "X", "value": OSC8}])])
# A Datadog image, so explain shows an agent, its evidence (the image) and its migrated signals.
AGENT_SPEC = pod_spec(
    [host_path_volume("run" + C1, "/var/run")],
    [container("dd" + ESC, "gcr.io/datadoghq/agent:7.50.0" + ESC,
               mounts=[mount("run" + C1, "/host/var/run" + BIDI, read_only=True)],
               env=[{"name": "DD_CRI_SOCKET_PATH", "value": "/run/containerd" + OSC8}])])


def _node(name: str, runtime: str, os_image: str, cri_socket: str) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": cri_socket}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "10.0.0.1" + ESC}],
                       "nodeInfo": {"containerRuntimeVersion": runtime, "kubeletVersion": "v1.23.0" + C1,
                                    "architecture": "amd64", "bootID": "", "kernelVersion": "6.1" + OSC8,
                                    "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux",
                                    "osImage": os_image, "systemUUID": ""}}}


def hostile_objects() -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hostile"}},
        _node("node" + ESC, "docker://20.10" + OSC8, "Debian" + BIDI, "unix:///var/run/dockershim.sock" + C1),
        _node("node\n" + "node-9   Ready   containerd   1.7   v1.29   Debian   false", "containerd://1.7",
              "Debian\r", "/run/containerd/containerd.sock"),
        pod(ROW_NAME, SPEC, "hostile", node="node" + ESC),
        workload("DaemonSet", "ds" + ESC, SPEC, "hostile"),
        # a safe workload name: explain of a workload selects its pods by a selector built from it
        workload("DaemonSet", "datadog", AGENT_SPEC, "hostile"),
        pod("victim", AGENT_SPEC, "hostile", [owner_ref("DaemonSet", "datadog")], "node" + ESC),
        pod("p", SPEC, "ns" + ESC),  # a namespace only -A reads: the NAMESPACE column and summary's rows
    ]


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[ApiServer]:
    srv = ApiServer(hostile_objects(), tokens={"admin-token": "admin"}).start()
    yield srv
    srv.stop()


@pytest.fixture
def hostile(hostile_server: ApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    kubeconfig = hostile_server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token",
                                                 context="test", namespace="hostile")
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": hostile_objects()[3:]}))
    return path


def assert_no_raw_control(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        raw = sorted({f"U+{ord(c):04X}" for c in text if c in RAW})
        assert not raw, f"raw {raw} on {stream}:\n{text!r}"


def assert_no_forged_row(result: subprocess.CompletedProcess[str]) -> None:
    """The forged text shows only inside the cell of the name that carries it, never as a row."""
    for line in result.stdout.splitlines():
        # the escaped name: Pod/bare\r (tables), pod/bare\r (-o name), Pod/bare\\r (markdown)
        assert "DaemonSet/forged" not in line or "od/bare\\" in line, line
        assert "node-9" not in line or "node\\nnode-9" in line, line


HUMAN_FORMATS = [[], ["-o", "table"], ["-o", "wide"], ["-o", "name"], ["-o", "markdown"]]
COMMAND_FORMATS = ([("scan", f) for f in HUMAN_FORMATS] + [("scan", ["--summary"])]
                   + [("mounts", f) for f in HUMAN_FORMATS])


@pytest.mark.parametrize("source", ["cluster", "file"])
@pytest.mark.parametrize(("command", "fmt"), COMMAND_FORMATS, ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_human_formats_show_control_characters_visibly(hostile: Plugin, hostile_file: Path, source: str,
                                                       command: str, fmt: list[str]) -> None:
    where = ["-A"] if source == "cluster" else ["-f", str(hostile_file)]
    result = hostile.run(command, *where, *fmt)
    assert_no_raw_control(result)
    assert_no_forged_row(result)
    assert result.returncode == 0, result.stderr
    if "markdown" not in fmt:
        assert "\\x1b[31mRED\\x1b[0m" in result.stdout  # shown, not dropped


@pytest.mark.parametrize("source", ["cluster", "file"])
def test_a_line_break_in_a_pod_name_cannot_add_a_row(hostile: Plugin, hostile_file: Path, source: str) -> None:
    where = ["-A"] if source == "cluster" else ["-f", str(hostile_file)]  # both with the NAMESPACE column
    result = hostile.run("scan", *where)
    assert result.returncode == 0, result.stderr
    owners = [re.split(" {3,}", line)[1] for line in result.stdout.splitlines()[1:]]
    # one row per finding of the three owners, each owner a single cell
    assert set(owners) == {"Pod/bare\\rhostile", "DaemonSet/ds\\x1b[31mRED\\x1b[0m", "DaemonSet/datadog", "Pod/p"}
    full = next(line for line in result.stdout.splitlines() if re.match("hostile +Pod/bare", line))
    assert "Pod/bare\\rhostile   DaemonSet/" + FORGED + "\\nhostile   DaemonSet/" + FORGED in full
    names = hostile.run("scan", *where, "-o", "name").stdout.splitlines()
    assert len(names) == 4 and "pod/" + ROW_NAME.replace("\r", "\\r").replace("\n", "\\n") in names


@pytest.mark.parametrize("target", [["pod/victim"], ["daemonset/datadog"]])
def test_explain_shows_control_characters_visibly(hostile: Plugin, target: list[str]) -> None:
    result = hostile.run("explain", *target, "-n", "hostile")
    assert_no_raw_control(result)
    assert result.returncode == 0, result.stderr
    assert "gcr.io/datadoghq/agent:7.50.0\\x1b[31mRED\\x1b[0m" in result.stdout
    assert "/host/var/run\\u202egnp.exe" in result.stdout


def test_explain_offline_shows_control_characters_visibly(hostile: Plugin, hostile_file: Path) -> None:
    result = hostile.run("explain", "pod", ROW_NAME, "-n", "hostile", "-f", str(hostile_file))
    assert_no_raw_control(result)
    assert result.returncode == 0, result.stderr
    assert "Name:             bare\\rhostile   DaemonSet/forged" in result.stdout.splitlines()[0]
    assert "registry.example/tool:1\\x1b]8;;https://evil.example/\\x07click" in result.stdout


@pytest.mark.parametrize("fmt", [[], ["-o", "wide"], ["-o", "name"]], ids=lambda f: " ".join(f) or "default")
def test_nodes_show_control_characters_visibly(hostile: Plugin, fmt: list[str]) -> None:
    result = hostile.run("nodes", *fmt)
    assert_no_raw_control(result)
    assert_no_forged_row(result)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == (2 if fmt == ["-o", "name"] else 3)


def test_error_lines_show_control_characters_visibly(hostile: Plugin, tmp_path: Path) -> None:
    # a file that cannot be parsed, whose name is hostile: its `error:` line names it
    bad = tmp_path / f"bad{ESC}\nerror: forged.yaml"
    bad.write_text("kind: [unclosed\n")
    result = hostile.run("scan", "-f", str(bad))
    assert_no_raw_control(result)
    assert not any(line.startswith("error: forged") for line in result.stderr.splitlines())
    assert "bad\\x1b[31mRED\\x1b[0m\\nerror: forged.yaml" in result.stderr
    # an object that is not there, named with a line break: the message is one line
    missing = hostile.run("explain", "pod", "x" + ESC + "\nerror: forged", "-f", str(tmp_path / "hostile.json"))
    assert_no_raw_control(missing)
    assert missing.returncode != 0 and not any(line.startswith("error: forged") for line in missing.stderr.splitlines())


def test_warning_and_no_resources_lines_show_control_characters_visibly(hostile_server: ApiServer,
                                                                        plugin_bin: Path, tmp_path: Path) -> None:
    # a context whose namespace is hostile: whatever the answer (nothing found, or refused), one line each
    kubeconfig = hostile_server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token",
                                                 context="test", namespace="ns" + ESC)
    result = Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path).run("scan")
    assert_no_raw_control(result)
    assert len(result.stderr.splitlines()) <= 2
    # an owner reference to a ReplicaSet that is not there, named with escapes: a warning may name it
    orphan = tmp_path / "orphan.json"
    orphan.write_text(json.dumps(pod("orphan", SPEC, "hostile", [owner_ref("ReplicaSet", "rs" + OSC8 + "\nWarning: x")])))
    offline = Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path).run("scan", "-f", str(orphan))
    assert_no_raw_control(offline)
    assert not any(line.startswith("Warning: x") for line in offline.stderr.splitlines())


def test_a_warning_naming_a_hostile_context_is_one_visible_line(hostile_server: ApiServer, plugin_bin: Path,
                                                                tmp_path: Path) -> None:
    bad = "bad" + ESC + "\nWarning: forged"
    kubeconfig = hostile_server.write_kubeconfig(
        str(tmp_path / "kubeconfig"), token="admin-token", context="test", namespace="hostile",
        extra_contexts={bad: {"server": f"https://127.0.0.1:{closed_port()}"}})
    result = Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path).run("scan", "--all-contexts")
    assert_no_raw_control(result)
    assert result.returncode == 4, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1 and warnings[0].startswith('Warning: context "bad\\x1b[31mRED\\x1b[0m\\nWarning: forged"')
    assert "test" in result.stdout  # the other context is still reported, in the CONTEXT column


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_machine_formats_keep_exact_values(hostile: Plugin, fmt: str) -> None:
    result = hostile.run("scan", "-A", "-o", fmt)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    assert {i["owner"]["name"] for i in doc["items"]} == {ROW_NAME, "ds" + ESC, "datadog", "p"}
    assert {i["container"] for i in doc["items"]} >= {"agent" + ESC, "dd" + ESC}
    if fmt == "json":  # yaml writes bidi controls as they are (printable to YAML), json as \\u escapes
        assert_no_raw_control(result)
    nodes = hostile.run("nodes", "-o", fmt)
    nodes_doc = json.loads(nodes.stdout) if fmt == "json" else yaml.safe_load(nodes.stdout)
    assert {n["name"] for n in nodes_doc["items"]} == {"node" + ESC, hostile_objects()[2]["metadata"]["name"]}
