"""Hostile and broken manifests for `scan -f`: YAML bombs, deep nesting, huge and binary files,
link loops, numbers and dates Python cannot hold. Each must give one clear message naming the
file, keep memory bounded, and leave every other file (and document) read."""

from __future__ import annotations

import json
import os
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugin.safe_yaml import children
from plugin.sources import files
from plugin.sources.files import MAX_ALIAS_NODES, MAX_DEPTH, MAX_NODES, read_manifests
from tests.test_files import write

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: c\n    image: nginx\n"


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic: each level an anchored list of `width` aliases to the level before."""
    lines = ['  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n" + "\n".join(lines) + "\n"


def names(scan: files.FileScan) -> list[str]:
    return [o.obj["metadata"]["name"] for o in scan.objects]


def peak_mib(read: Callable[[], files.FileScan]) -> tuple[files.FileScan, float]:
    """The scan and the most memory Python held while reading it."""
    tracemalloc.start()
    try:
        scan = read()
        return scan, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# --- alias expansion --------------------------------------------------------------------------


def test_billion_laughs_is_refused_and_the_rest_of_the_file_is_read(tmp_path: Path) -> None:
    bomb = write(tmp_path / "bomb.yaml", POD.format(name="before") + "---\n" + billion_laughs()
                 + "---\n" + POD.format(name="after"))
    good = write(tmp_path / "good.yaml", POD.format(name="good"))
    scan, peak = peak_mib(lambda: read_manifests([bomb, good]))
    assert peak < 5  # nothing was expanded
    assert names(scan) == ["before", "after", "good"]
    (problem,) = scan.problems
    assert problem.path == bomb
    # a0 is 10 nodes, each further level 1 + 9 times the one before; written, each level is 10.
    sizes = [10]
    for _ in range(8):
        sizes.append(1 + 9 * sizes[-1])
    added = sum(sizes) - 10 * 9
    assert problem.message == (f"line 10: refused: its aliases expand it by {added:,} nodes, more than the "
                               f"{MAX_ALIAS_NODES:,} allowed (a YAML bomb?); the document is not read")


def test_billion_laughs_through_merge_keys_is_refused(tmp_path: Path) -> None:
    lines = ["  m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for i in range(1, 12):
        lines.append(f"  m{i}: &m{i} {{<<: [" + ", ".join([f"*m{i - 1}"] * 8) + "]}")
    f = write(tmp_path / "merge.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n"
              + "\n".join(lines) + "\n")
    (problem,) = read_manifests([f]).problems
    assert "refused: its aliases expand it by" in problem.message


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    f = write(tmp_path / "self.yaml", "apiVersion: v1\nkind: Pod\nmetadata: &m\n  name: x\n  again: *m\n"
              + "---\n" + POD.format(name="next"))
    scan = read_manifests([f])
    assert names(scan) == ["next"]
    assert [p.message for p in scan.problems] == [
        "line 1: refused: an alias refers to a node that contains it (a recursive document); the document "
        "is not read"]


def test_aliases_nesting_too_deep_are_refused(tmp_path: Path) -> None:
    # Each level is written 10 deep around the previous one: far deeper than written once expanded.
    lines = ["  a0: &a0 [x]"] + [f"  a{i}: &a{i} " + "[" * 10 + f"*a{i - 1}" + "]" * 10 for i in range(1, 120)]
    f = write(tmp_path / "deep-alias.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata:\n"
              + "\n".join(lines) + "\n")
    (problem,) = read_manifests([f]).problems
    assert problem.message.startswith("line 1: refused: its aliases nest it ")
    assert f"levels deep, more than the {MAX_DEPTH:,} allowed" in problem.message


def test_ordinary_anchors_and_merge_keys_are_read(tmp_path: Path) -> None:
    f = write(tmp_path / "anchors.yaml", """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, labels: &labels {app: agent}}
spec:
  selector: {matchLabels: *labels}
  template:
    metadata: {labels: *labels}
    spec:
      containers:
      - &base {name: agent, image: "agent:1", command: [sh, -c, "a && b"]}
      - <<: *base
        name: sidecar
      volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}]
""")
    scan = read_manifests([f])
    assert scan.problems == []
    (obj,) = scan.objects
    spec = obj.obj["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["agent", "sidecar"]
    assert spec["containers"][1]["image"] == "agent:1"


def test_the_alias_walk_is_not_needed_without_anchor_and_alias(tmp_path: Path, monkeypatch) -> None:
    calls: list[object] = []
    real = files._expansion_problem
    monkeypatch.setattr(files, "_expansion_problem", lambda node: calls.append(node) or real(node))
    cron = POD.format(name="cron") + "  schedule: '*/5 * * * *'\n"  # a star but no anchor
    shell = POD.format(name="shell") + "  args: ['a && b']\n"  # an ampersand but no star
    both = POD.format(name="both") + "  args: ['a && b', '*']\n"
    scan = read_manifests([write(tmp_path / "a.yaml", "---\n".join([cron, shell, both]))])
    assert names(scan) == ["cron", "shell", "both"]
    assert len(calls) == 1  # only the document holding both characters is walked


# --- nesting --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Pod\nspec: " + "[" * 5000 + "]" * 5000 + "\n",
    "apiVersion: v1\nkind: Pod\nspec:\n" + "".join(" " * i + "- \n" for i in range(1, 1500)),
], ids=["flow", "block"])
def test_deep_yaml_nesting_is_a_message(tmp_path: Path, text: str) -> None:
    f = write(tmp_path / "deep.yaml", text)
    good = write(tmp_path / "good.yaml", POD.format(name="good"))
    scan = read_manifests([f, good])
    assert names(scan) == ["good"]
    (problem,) = scan.problems
    assert problem.path == f
    assert "nest" in problem.message  # libyaml: "exceeded maximum nesting depth"; else our recursion message


def test_deep_yaml_nesting_with_the_pure_python_loader(tmp_path: Path, monkeypatch) -> None:
    # The krew archive may ship PyYAML without libyaml; its parser recurses once per level.
    files._loader_class.cache_clear()
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    try:
        f = write(tmp_path / "deep.yaml", "apiVersion: v1\nkind: Pod\nspec: " + "[" * 5000 + "]" * 5000 + "\n")
        bomb = write(tmp_path / "bomb.yaml", billion_laughs())
        scan = read_manifests([f, bomb, write(tmp_path / "good.yaml", POD.format(name="good"))])
    finally:
        files._loader_class.cache_clear()
    assert names(scan) == ["good"]
    assert [p.message for p in scan.problems][0] == ("nested too deeply to read (deeper than the parser's "
                                                     "recursion limit), not read")
    assert "(a YAML bomb?)" in scan.problems[1].message


def test_deep_json_is_a_message(tmp_path: Path) -> None:
    f = write(tmp_path / "deep.json", '{"apiVersion": "v1", "kind": "Pod", "spec": ' + "[" * 100_000
              + "]" * 100_000 + "}")
    scan = read_manifests([f, write(tmp_path / "good.yaml", POD.format(name="good"))])
    assert names(scan) == ["good"]
    assert [str(p) for p in scan.problems] == [
        f"{f}: nested too deeply to read (deeper than the parser's recursion limit), not read"]


# --- size -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("node", ["a", "!a a", "{}", "!!str"], ids=["plain", "tagged", "flow", "tag-only"])
def test_a_file_of_tiny_nodes_is_refused_before_any_is_built(tmp_path: Path, monkeypatch, node: str) -> None:
    # The real limit (8,000,000 nodes) is the same code, only slower to reach: see the e2e test.
    monkeypatch.setattr(files, "MAX_NODES", 100_000)
    f = write(tmp_path / "flat.yaml", POD.format(name="before") + "---\n[" + f"{node}," * 150_000 + "a]\n")
    good = write(tmp_path / "good.yaml", POD.format(name="good"))
    scan, peak = peak_mib(lambda: read_manifests([f, good]))
    assert names(scan) == ["good"]  # the file is refused whole, before its first document is built
    assert [str(p) for p in scan.problems] == [f"{f}: more than 100,000 nodes, too many to parse safely, not read"]
    assert peak < 15  # the text (1 MB) and one chunk's count, never a node graph (some 50 MB)


def test_nodes_are_counted_across_documents_and_bad_documents(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(files, "MAX_NODES", 10_000)
    document = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: [" + "a, " * 1_500 + "a]\n"
    bad = "a: [unclosed\n"
    under = write(tmp_path / "under.yaml", "---\n".join([document] * 6))  # about 9,000 nodes
    over = write(tmp_path / "over.yaml", "---\n".join([document] * 4 + [bad] + [document] * 3))
    scan = read_manifests([under, over])
    assert len(scan.objects) == 6
    assert [(p.path, p.message) for p in scan.problems] == [
        (over, "more than 10,000 nodes, too many to parse safely, not read")]


def test_a_control_character_counts_the_text_before_it_at_its_bound(tmp_path: Path, monkeypatch) -> None:
    # The reader stops at a bad character before the parser reaches it: the nodes it did not
    # count are still bounded, so a bad character cannot hide a huge document from the count.
    monkeypatch.setattr(files, "MAX_NODES", 10_000)
    f = write(tmp_path / "hidden.yaml", "# a flow sequence\n[" + "a," * 6_000 + "a]\n---\nbell: \x07\n---\n[" + "a," * 6_000 + "a]\n")
    (problem,) = read_manifests([f]).problems
    assert problem.message == "more than 10,000 nodes, too many to parse safely, not read"


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_a_big_file_with_a_large_text_is_read(tmp_path: Path, suffix: str) -> None:
    """Issue 12: a 35 MB file holding a Pod and a ConfigMap with a large block of text was refused
    as "too many nodes" (estimated from its bytes) and the Pod's finding was lost."""
    # 36 MB; by the syntax alone, every line could hold ten nodes.
    text = "".join(f"k{i}: a, b, c, d, e, f, [x], {{y}} ?-\n" for i in range(1_000_000))
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "builder"},
           "spec": {"containers": [{"name": "c", "image": "docker:24"}],
                    "volumes": [{"name": "s", "hostPath": {"path": "/var/run/docker.sock"}}]}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"text": text}}
    if suffix == "json":
        content = json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod, config]})
    else:
        content = (yaml.safe_dump(pod) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
                   "  text: |\n" + "".join("    " + line + "\n" for line in text.splitlines()))
    assert len(content) > 35_000_000 and files._node_bound(content, is_json=suffix == "json") > MAX_NODES
    f = write(tmp_path / f"big.{suffix}", content)
    scan = read_manifests([f])
    assert scan.problems == []
    assert [(o.kind, o.obj["metadata"]["name"]) for o in scan.objects] == [("Pod", "builder"), ("ConfigMap", "big")]
    assert scan.objects[1].obj["data"]["text"] == text


def test_the_node_bound_is_an_upper_bound() -> None:
    for text in ["a: b\nc: [d, e]\n", "- - - x\n", "{a: {b: [1, 2, {c: d}]}}", "? a\n: b\n", "x",
                 "[!a a,!!str b,!c {}]", "{!a a: !b ~}"]:
        composed = yaml.compose(text, Loader=yaml.SafeLoader)
        count, stack = 0, [composed]
        while stack:
            node = stack.pop()
            count += 1
            stack.extend(children(node) if node.id != "scalar" else [])
        assert count <= files._node_bound(text, is_json=False), text
    doc = json.dumps({"a": [1, 2, {"b": None}], "c": "x,y"})
    assert files._node_bound(doc, is_json=True) >= 7


# --- values Python cannot hold -------------------------------------------------------------------


@pytest.mark.parametrize("name, text, message", [
    ("big.json", '{"apiVersion": "v1", "kind": "Pod", "x": ' + "1" * 5000 + "}",
     "line 1: invalid JSON: Exceeds the limit (4300 digits) for integer string conversion"),
    ("big.yaml", "apiVersion: v1\nkind: Pod\nx: " + "1" * 5000 + "\n",
     "line 3: invalid YAML: Exceeds the limit (4300 digits) for integer string conversion"),
    ("bigger.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  a: [1, 2,\n    " + "1" * 5000 + "]\n",
     "line 7: invalid YAML: Exceeds the limit (4300 digits) for integer string conversion"),
    ("big-indented.json", '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "x": ' + "1" * 5000 + "\n}",
     "line 4: invalid JSON: Exceeds the limit (4300 digits) for integer string conversion"),
    ("date.yaml", "apiVersion: v1\nkind: Pod\nx: !!timestamp 2024-13-45\n",
     "line 3: invalid YAML: month must be in 1..12"),
    ("bool.yaml", "apiVersion: v1\nkind: Pod\nx: !!bool maybe\n",
     "line 3: invalid YAML: a value its explicit tag cannot hold ('maybe')"),
    ("int.yaml", 'apiVersion: v1\nkind: Pod\nx: !!int ""\n',
     "line 3: invalid YAML: a value its explicit tag cannot hold (string index out of range)"),
])
def test_unrepresentable_values_are_a_message(tmp_path: Path, name: str, text: str, message: str) -> None:
    f = write(tmp_path / name, text)
    scan = read_manifests([f, write(tmp_path / "good.yaml", POD.format(name="good"))])
    assert names(scan) == ["good"]
    (problem,) = scan.problems
    assert problem.path == f and problem.message.startswith(message)


def test_date_like_values_stay_strings_as_the_api_server_reads_them(tmp_path: Path) -> None:
    f = write(tmp_path / "dates.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: 2024-01-01\n"
              "  namespace: 2024-13-45\n  labels: {built: 2001-12-14t21:59:43.10-05:00}\n")
    (obj,) = read_manifests([f]).objects
    assert obj.obj["metadata"] == {"name": "2024-01-01", "namespace": "2024-13-45",
                                   "labels": {"built": "2001-12-14t21:59:43.10-05:00"}}


# --- files that are not manifests ----------------------------------------------------------------


def test_binary_and_random_bytes(tmp_path: Path) -> None:
    elf = write(tmp_path / "a.yaml", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    noise = write(tmp_path / "b.yaml", bytes(range(1, 256)) * 40)  # no NUL: fails as UTF-8
    utf16 = write(tmp_path / "c.yaml", POD.format(name="x").encode("utf-16"))
    scan = read_manifests([elf, noise, utf16, write(tmp_path / "good.yaml", POD.format(name="good"))])
    assert names(scan) == ["good"]
    assert [(p.path, p.message.split(" (")[0]) for p in scan.problems] == [
        (elf, "binary file, not a manifest"), (noise, "not UTF-8 text"), (utf16, "binary file, not a manifest")]


@pytest.mark.parametrize("c_loader", [True, False])
def test_control_characters_in_text(tmp_path: Path, monkeypatch, c_loader: bool) -> None:
    files._loader_class.cache_clear()
    if not c_loader:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    try:
        f = write(tmp_path / "ctl.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: \"é\x07bell\"}\n")
        (problem,) = read_manifests([f]).problems
    finally:
        files._loader_class.cache_clear()
    # libyaml and the Python reader word it differently and may be a column apart inside quotes.
    assert re.fullmatch(r"line 3, column 2[01]: invalid YAML: (special|control) characters are not allowed "
                        r"\(#x0007\); the rest of the file is not read", problem.message), problem.message


def test_links_in_folders(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root / "app" / "pod.yaml", POD.format(name="app"))
    os.symlink("loop.yaml", root / "loop.yaml")  # a link to itself
    os.symlink(tmp_path / "nowhere.yaml", root / "broken.yml")
    os.symlink("..", root / "app" / "up")  # a folder loop
    os.symlink(root / "app", root / "again")  # a second way to the same folder
    os.symlink(root / "app" / "pod.yaml", root / "linked.yaml")  # a link to a file is read
    write(root / "notes.txt", "not a manifest")
    scan = read_manifests([str(root)])
    assert names(scan) == ["app", "app"]  # app/pod.yaml and linked.yaml
    assert [(p.path, p.message) for p in scan.problems] == [
        (str(root / "broken.yml"), "a broken or looping link, not read"),
        (str(root / "loop.yaml"), "a broken or looping link, not read")]
    assert sorted((p.path, p.message) for p in scan.skipped) == [
        (str(root / "again"), "a link to a folder (links inside folders are not followed)"),
        (str(root / "app" / "up"), "a link to a folder (links inside folders are not followed)")]


def test_an_unreadable_folder_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "repo" / "ok.yaml", POD.format(name="ok"))
    (tmp_path / "repo" / "locked").mkdir()
    real = os.scandir

    def scandir(path: Any) -> Any:  # what a folder without read permission does (tests may run as root)
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    scan = read_manifests([str(tmp_path / "repo")])
    assert names(scan) == ["ok"]
    assert [(p.path, p.message) for p in scan.problems] == [
        (str(tmp_path / "repo" / "locked"), "permission denied, folder not read")]


def test_special_files_in_a_folder_are_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would block forever: only a pipe given by name is read
    write(tmp_path / "good.yaml", POD.format(name="good"))
    scan = read_manifests([str(tmp_path)])
    assert names(scan) == ["good"] and scan.problems == []


def test_a_socket_given_by_name_is_a_problem(tmp_path: Path) -> None:
    import socket

    path = str(tmp_path / "s.yaml")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        scan = read_manifests([path, write(tmp_path / "good.yaml", POD.format(name="good"))])
    assert names(scan) == ["good"]
    assert [(p.path, p.message) for p in scan.problems] == [
        (path, "not a file, folder, pipe or device (a socket?), not read")]


def test_an_endless_device_is_refused_at_the_limit(tmp_path: Path) -> None:
    scan, peak = peak_mib(lambda: read_manifests(["/dev/zero", write(tmp_path / "good.yaml", POD.format(name="good"))]))
    assert names(scan) == ["good"]
    assert [str(p) for p in scan.problems] == ["/dev/zero: larger than 64 MiB, not read"]
    assert peak < 200  # the chunks and their join, once


def test_every_problem_names_its_file_and_the_rest_is_scanned(tmp_path: Path) -> None:
    """One folder holding every kind of bad file next to good ones, read in one go."""
    folder = tmp_path / "mixed"
    write(folder / "01-good.yaml", POD.format(name="one"))
    write(folder / "02-bomb.yaml", billion_laughs())
    write(folder / "03-deep.json", "[" * 50_000 + "]" * 50_000)
    write(folder / "04-binary.yaml", b"\0\1\2\3")
    write(folder / "05-invalid.yaml", "a: [b\n")
    write(folder / "06-values.yaml", "replicaCount: 3\nimage: nginx\n")
    write(folder / "07-list.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two"}}, "junk", 5]}))
    write(folder / "08-good.yml", POD.format(name="three"))
    os.symlink("09-self.yaml", folder / "09-self.yaml")
    scan = read_manifests([str(folder)])
    assert names(scan) == ["one", "two", "three"]
    assert sorted(Path(p.path).name for p in scan.problems) == [
        "02-bomb.yaml", "03-deep.json", "04-binary.yaml", "05-invalid.yaml", "09-self.yaml"]
    assert all(str(folder) in str(p) for p in scan.problems + scan.skipped)
    assert sorted(Path(p.path).name for p in scan.skipped) == ["06-values.yaml", "07-list.json", "07-list.json"]


def test_huge_stdin_is_refused_without_holding_more_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    class Endless(io.RawIOBase):
        """A pipe that never ends: only a bounded read can stop."""

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            buffer[:] = b"a" * len(buffer)
            return len(buffer)

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    scan, peak = peak_mib(lambda: read_manifests(["-"]))
    assert [str(p) for p in scan.problems] == ["<stdin>: larger than 64 MiB, not read"]
    assert peak < 200  # the chunks and their join, once


@pytest.mark.parametrize("value, nodes", [("[]", 1), ("{}", 1), ('"a,b:[{"', 1), ("[1, [], {}]", 4),
                                          ('{"a": {"b": [1, "x:y", {}]}, "c": []}', 10)])
def test_json_nodes_are_counted_exactly_when_the_bound_is_too_high(monkeypatch, value: str, nodes: int) -> None:
    monkeypatch.setattr(files, "MAX_NODES", nodes)
    files._check_json_size(value)  # exactly at the limit: read
    monkeypatch.setattr(files, "MAX_NODES", nodes - 1)
    with pytest.raises(files._ParseError, match="too many to parse safely"):
        files._check_json_size(value)
