"""`scan -f` through the real kubectl binary on the inputs of issues 11 and 12: a document PyYAML
rejects, a path that does not exist, pipes and devices, a big file holding a large text, a
number too long for Python, List items, a million documents that are not objects, and a Python
without libyaml. Each runs `kubectl dockershim ...` exactly as a user does."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import Plugin
from tests.kubectl import kubectl_binary
from tests.test_files import UNHASHABLE  # from a published chart: a mapping used as a mapping key

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: ci
spec:
  containers:
  - name: c
    image: docker:24
  volumes:
  - name: sock
    hostPath: {{path: /var/run/docker.sock}}
"""
DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ci
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - name: agent
        image: agent:1
      volumes:
      - name: sock
        hostPath: {path: /var/run/docker.sock}
"""


def owners(result: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted({f'{i["owner"]["kind"]}/{i["owner"]["name"]}' for i in json.loads(result.stdout)["items"]})


def test_one_document_pyyaml_rejects_hides_nothing_else(plugin: Plugin, tmp_path: Path) -> None:
    chart = tmp_path / "chart.yaml"
    chart.write_text(UNHASHABLE + "---\n" + DAEMONSET + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
                     "spec: [unclosed\n---\n" + POD.format(name="builder"))
    result = plugin.run("scan", "-f", str(chart), "-o", "json")
    assert result.returncode == 4  # incomplete: two documents were not read
    assert owners(result) == ["DaemonSet/agent", "Pod/builder"]
    assert result.stderr == (
        f"error: {chart}: line 6: invalid YAML: found unhashable key; the document is not read\n"
        f"error: {chart}: line 29, column 1: invalid YAML: did not find expected ',' or ']'; the document is not read\n")
    table = plugin.run("scan", "-f", str(chart), "-o", "wide")
    assert f"{chart}:8" in table.stdout and f"{chart}:30" in table.stdout  # the lines after the bad ones are right


@pytest.mark.parametrize("command", ["scan", "explain"])
def test_a_path_that_does_not_exist_is_an_error_as_in_kubectl(plugin: Plugin, tmp_path: Path, command: str) -> None:
    good = tmp_path / "pod.yaml"
    good.write_text(POD.format(name="builder"))
    missing = tmp_path / "missing.yaml"
    args = ["explain", "pod/builder", "-n", "ci"] if command == "explain" else ["scan"]
    result = plugin.run(*args, "-f", str(good), "-f", str(missing))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f'error: the path "{missing}" does not exist\n'  # kubectl's words, and nothing else
    kubectl = plugin.kubectl("create", "--dry-run=client", "-o", "name", "-f", str(good), "-f", str(missing))
    assert (kubectl.returncode, kubectl.stderr) == (result.returncode, result.stderr)


def test_a_file_that_exists_but_cannot_be_read_is_still_incomplete(plugin: Plugin, tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "pod.yaml").write_text(POD.format(name="builder"))
    (folder / "broken.yaml").symlink_to(tmp_path / "nowhere.yaml")  # inside a folder: a problem, not an error
    result = plugin.run("scan", "-f", str(folder), "-o", "json")
    assert result.returncode == 4 and owners(result) == ["Pod/builder"]
    assert result.stderr == f"error: {folder / 'broken.yaml'}: a broken or looping link, not read\n"


def shell(plugin: Plugin, command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=plugin.env(), cwd=cwd,
                          timeout=60)


@pytest.mark.parametrize("command", [
    "{kubectl} dockershim scan -o json -f <(cat pod.yaml)",
    "cat pod.yaml | {kubectl} dockershim scan -o json -f /dev/stdin",
    "{kubectl} dockershim scan -o json -f /dev/stdin < pod.yaml",
    "cat pod.yaml | {kubectl} dockershim scan -o json -f -",
], ids=["process-substitution", "dev-stdin-pipe", "dev-stdin-file", "dash"])
def test_pipes_are_read_as_kubectl_reads_them(plugin: Plugin, tmp_path: Path, command: str) -> None:
    (tmp_path / "pod.yaml").write_text(POD.format(name="builder"))
    result = shell(plugin, command.format(kubectl=shlex.quote(kubectl_binary())), tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert owners(result) == ["Pod/builder"]


def test_an_endless_device_is_refused_at_64_mib(plugin: Plugin) -> None:
    result = plugin.run("scan", "-f", "/dev/zero")
    assert result.returncode == 4
    assert result.stderr == "error: /dev/zero: larger than 64 MiB, not read\nNo resources found\n"


def test_a_big_file_with_a_large_text_is_scanned(plugin: Plugin, tmp_path: Path) -> None:
    """Issue 12: 35 MB holding a Pod and a ConfigMap with a large block of text was refused as
    "too many nodes" (an estimate from its bytes) and the Pod's docker.sock finding was lost."""
    big = tmp_path / "big.yaml"
    with open(big, "w") as out:
        out.write(POD.format(name="builder") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n"
                  "data:\n  text: |\n")
        for i in range(1_000_000):
            out.write(f"    k{i}: a, b, c, d, e, f, [x], {{y}} ?-\n")
    assert big.stat().st_size > 35_000_000
    result = plugin.run("scan", "-f", str(big), "-o", "json")
    assert (result.returncode, result.stderr) == (0, "")
    assert owners(result) == ["Pod/builder"]


def test_a_file_of_more_than_8_million_nodes_is_refused(plugin: Plugin, tmp_path: Path) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text(POD.format(name="builder") + "---\n[" + "a," * 8_000_000 + "a]\n")
    result = plugin.run("scan", "-f", str(flat), timeout=180)
    assert result.returncode == 4
    assert result.stderr == (f"error: {flat}: more than 8,000,000 nodes, too many to parse safely, not read\n"
                             "No resources found\n")


@pytest.mark.parametrize("name, text, where", [
    ("big.yaml", POD.format(name="p") + "  priority: " + "1" * 5000 + "\n", "line 13: invalid YAML"),
    ("big.json", '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "x": ' + "1" * 5000 + "\n}\n", "line 4: invalid JSON"),
])
def test_a_number_too_long_for_python_is_reported_on_its_line(plugin: Plugin, tmp_path: Path, name: str,
                                                               text: str, where: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = plugin.run("scan", "-f", str(path))
    assert result.returncode == 4
    assert result.stderr.startswith(f"error: {path}: {where}: Exceeds the limit (4300 digits) for integer string ")


def test_list_items_keep_their_document_index(plugin: Plugin, tmp_path: Path) -> None:
    dump = tmp_path / "dump.yaml"
    items = [yaml.safe_load(POD.format(name=n)) for n in ("a", "b")]
    dump.write_text(DAEMONSET + "---\n" + json.dumps({"apiVersion": "v1", "kind": "List", "items": items}) + "\n")
    result = plugin.run("scan", "-f", str(dump), "-o", "json")
    assert result.returncode == 0
    sources = {i["owner"]["name"]: i["sources"] for i in json.loads(result.stdout)["items"]}
    assert sources["agent"] == [{"file": str(dump), "line": 1, "document": 0}]
    assert [s[0]["document"] for s in (sources["a"], sources["b"])] == [1, 1]
    assert [s[0]["item"] for s in (sources["a"], sources["b"])] == [0, 1]


def test_a_million_documents_that_are_not_objects_print_a_few_lines(plugin: Plugin, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("---\n{}\n" * 1_000_000 + "---\n" + POD.format(name="builder"))
    result = plugin.run("scan", "-f", str(values), "-o", "name", timeout=180)
    assert (result.returncode, result.stdout) == (0, "pod/builder\n")
    assert result.stderr == "".join(
        f"Warning: {values}: line {line}: not a Kubernetes object (no apiVersion and kind), skipped\n"
        for line in (2, 4, 6)) + (f"Warning: {values}: … and 999,997 more documents that are not Kubernetes objects, "
                                  "skipped\n")


def test_without_libyaml_the_same_report_and_not_a_word_more(plugin: Plugin, tmp_path: Path) -> None:
    """PyYAML built without libyaml (a krew archive of pure-Python wheels): the C loader is used
    when it is there, PyYAML's own otherwise, silently, with the same result."""
    (tmp_path / "pod.yaml").write_text(POD.format(name="builder") + "---\n" + UNHASHABLE + "---\n" + DAEMONSET)
    hide = tmp_path / "hide-libyaml"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['yaml._yaml'] = None  # PyYAML without libyaml\n")
    probe = "import yaml; print(yaml.__with_libyaml__)"
    env = plugin.env(PYTHONPATH=str(hide))
    assert subprocess.run(["python3", "-c", probe], env=env, capture_output=True, text=True).stdout == "False\n"
    with_c = plugin.run("scan", "-f", str(tmp_path / "pod.yaml"), "-o", "json")
    without = plugin.run("scan", "-f", str(tmp_path / "pod.yaml"), "-o", "json", env=env)
    assert owners(with_c) == ["DaemonSet/agent", "Pod/builder"]
    assert (without.returncode, without.stdout, without.stderr) == (with_c.returncode, with_c.stdout, with_c.stderr)
