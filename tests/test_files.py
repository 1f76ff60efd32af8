"""The offline source: manifests, folders, stdin, Lists and dumps, and bad input that must not
stop the other files from being read."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from plugin.sources.files import MAX_FILE_BYTES, read_manifests

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: c
    image: nginx
"""


def write(path: Path, text: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def test_multi_document_yaml_keeps_lines_and_indexes(tmp_path: Path) -> None:
    f = write(tmp_path / "a.yaml", "# Source: chart/templates/pod.yaml\n---\n" + POD.format(name="one")
              + "---\n# comment mentioning /var/run/docker.sock\n" + POD.format(name="two") + "---\n")
    scan = read_manifests([f])
    assert [(o.obj["metadata"]["name"], o.origin.line, o.origin.document) for o in scan.objects] == [
        ("one", 3, 0), ("two", 13, 1)]
    assert scan.problems == [] and scan.skipped == []


def test_list_objects_are_flattened_with_item_lines(tmp_path: Path) -> None:
    items = "".join("- " + POD.format(name=n).replace("\n", "\n  ").rstrip() + "\n" for n in ("a", "b"))
    f = write(tmp_path / "list.yaml", "apiVersion: v1\nkind: List\nitems:\n" + items)
    scan = read_manifests([f])
    assert [(o.kind, o.obj["metadata"]["name"], o.origin.line) for o in scan.objects] == [
        ("Pod", "a", 4), ("Pod", "b", 12)]


def test_json_dump_is_flattened(tmp_path: Path) -> None:
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"}}]}
    f = write(tmp_path / "dump.json", json.dumps(doc, indent=2))
    scan = read_manifests([f])
    assert [(o.kind, o.api_version, o.origin.document) for o in scan.objects] == [
        ("Pod", "v1", 0), ("DaemonSet", "apps/v1", 1)]


def test_folders_are_walked_recursively_in_a_stable_order(tmp_path: Path) -> None:
    write(tmp_path / "b" / "x.yml", POD.format(name="x"))
    write(tmp_path / "a.yaml", POD.format(name="a"))
    write(tmp_path / "b" / "c" / "y.json", json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "y"}}))
    write(tmp_path / "README.md", "hostPath: /var/run/docker.sock\n")
    scan = read_manifests([str(tmp_path)])
    assert [o.obj["metadata"]["name"] for o in scan.objects] == ["a", "x", "y"]


def test_a_broken_file_is_named_with_its_position_and_the_rest_is_read(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", POD.format(name="kept") + "---\nspec: [unclosed\n")
    badjson = write(tmp_path / "bad.json", '{"kind": "Pod",\n "x": }')
    good = write(tmp_path / "good.yaml", POD.format(name="good"))
    scan = read_manifests([bad, badjson, good])
    assert [o.obj["metadata"]["name"] for o in scan.objects] == ["kept", "good"]
    assert [(p.path, p.message.split(":")[0]) for p in scan.problems] == [
        (bad, "line 11, column 1"), (badjson, "line 2, column 7")]


@pytest.mark.parametrize("content, message", [
    (b"\x7fELF\x00\x00binary", "binary file"),
    (b"apiVersion: v1\nkind: Pod\nmetadata: {name: \xff}\n", "not UTF-8"),
])
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    f = write(tmp_path / "x.yaml", content)
    (problem,) = read_manifests([f]).problems
    assert message in problem.message


def test_missing_path_and_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    os.symlink(tmp_path / "nowhere", tmp_path / "broken.yaml")
    write(tmp_path / "d" / "p.yaml", POD.format(name="p"))
    scan = read_manifests([str(tmp_path / "d"), str(tmp_path / "missing.yaml"), str(tmp_path / "broken.yaml")])
    assert [o.obj["metadata"]["name"] for o in scan.objects] == ["p"]
    assert [p.message for p in scan.problems] == [
        "no such file or directory", "not a regular file or folder (a broken or looping link?)"]


def test_huge_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "huge.yaml"
    with open(f, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 10)
    (problem,) = read_manifests([str(f)]).problems
    assert "larger than" in problem.message


def test_non_objects_are_skipped_with_a_note(tmp_path: Path) -> None:
    f = write(tmp_path / "values.yaml", "image: docker:24\nsocket: /var/run/docker.sock\n---\n- a\n- b\n")
    scan = read_manifests([f])
    assert scan.objects == [] and scan.problems == []
    assert [p.message for p in scan.skipped] == [
        "line 1: not a Kubernetes object (no apiVersion and kind)",
        "line 4: not a Kubernetes object (no apiVersion and kind)"]


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.TextIOWrapper(io.BytesIO(POD.format(name="piped").encode()))
    monkeypatch.setattr(sys, "stdin", stream)
    (obj,) = read_manifests(["-"]).objects
    assert (obj.obj["metadata"]["name"], obj.origin.file) == ("piped", "<stdin>")


def test_python_tags_are_not_constructed(tmp_path: Path) -> None:
    f = write(tmp_path / "evil.yaml", "apiVersion: v1\nkind: Pod\nmetadata: !!python/object/apply:os.system ['true']\n")
    (problem,) = read_manifests([f]).problems
    assert "invalid YAML" in problem.message
