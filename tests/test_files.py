"""The offline source: manifests, folders, stdin, Lists and dumps, and bad input that must not
stop the other files from being read; and the YAML loader's shortcuts, which must give PyYAML's
own result."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.sources import files
from plugin.sources.files import MAX_FILE_BYTES, FileProblem, FileScan, read_manifests, stream_manifests

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


def test_objects_stream_file_by_file_with_problems_noted(tmp_path: Path) -> None:
    first = write(tmp_path / "a.yaml", POD.format(name="a") + "---\nimage: docker:24\n")
    bad = write(tmp_path / "b.yaml", "a: [b")
    scan = FileScan()
    stream = stream_manifests([first, bad, str(tmp_path / "missing.yaml")], scan)
    assert next(stream).obj["metadata"]["name"] == "a"
    assert scan.problems == [FileProblem(str(tmp_path / "missing.yaml"), "no such file or directory")]
    assert list(stream) == [] and scan.objects == []
    assert [p.path for p in scan.problems] == [str(tmp_path / "missing.yaml"), bad]
    assert "invalid YAML" in scan.problems[1].message
    assert scan.skipped == [FileProblem(first, "line 10: not a Kubernetes object (no apiVersion and kind)")]
    listed = read_manifests([first, bad, str(tmp_path / "missing.yaml")])
    assert (listed.problems, listed.skipped) == (scan.problems, scan.skipped)


# --- the loader's shortcuts give PyYAML's own result ---------------------------------------------


def loader_pair(base: Any) -> tuple[Any, Any]:
    """The manifest loader over `base`, and `base` with the same implicit types and nothing else."""
    manifest_loader = files._manifest_loader(base)
    return manifest_loader, type("Reference", (base,), {"yaml_implicit_resolvers": manifest_loader.yaml_implicit_resolvers})


# Made once, so that the remembered tags carry from one example to the next, as from file to file.
LOADERS = [loader_pair(base) for base in (yaml.SafeLoader, *([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else []))]
TRICKY_SCALARS = [
    "yes", "No", "ON", "off", "y", "n", "true", "True", "FALSE", "null", "Null", "~", "", "0", "-0", "+1", "0o17",
    "017", "0x1F", "0b101", "1_000", "1:30", "190:20:30.15", "1e3", "1.5e-3", "6.02E+23", "1.", ".5", ".inf",
    "-.Inf", "+.INF", ".nan", ".NaN", "2024-01-01", "2024-13-45", "2001-12-14t21:59:43.10-05:00", "<<", "=",
    "0x_1", "._", "--", "- a", "a #b", "/var/run/docker.sock", "docker:24", "12:30", "-.5", "+12.5", "1__0"]
plain_scalars = st.one_of(
    st.sampled_from(TRICKY_SCALARS),
    st.text(alphabet="0123456789+-_.:eExXoObBaAfFnNlLsStTrRuUyY~<=/ ", max_size=10),
    st.text(max_size=10))
scalar_forms = st.one_of(plain_scalars, st.sampled_from([
    '"quoted 1"', "'yes'", "!!str 5", "!!int 12", "!!int abc", "!!int ''", "!!float 1", "!!bool yes",
    "!!bool maybe", "!!null ''", "!!binary aGk=", "!custom x", "!!timestamp 2024-01-01", "!!set {a, b}",
    "!!omap [a: 1]", "*anchor", "&anchor anchored", "&anchor [1, two]", "&anchor {k: v}", "&anchor [a, *anchor]",
    "[1, two, 3.0, *anchor]", "{a: 1, b: [x, ~]}", "{? [a]: b}", "|\n  literal", "!!map {a: 1}", "!!seq [a]", "!!str {a: 1}"]))
yaml_trees = st.recursive(scalar_forms, lambda inner: st.one_of(
    st.lists(st.tuples(st.one_of(plain_scalars, st.sampled_from(["<<", "=", "name", "name", "[a]", "? x"])), inner),
             min_size=1, max_size=4).map(lambda pairs: ("map", pairs)),
    st.lists(inner, min_size=1, max_size=3).map(lambda items: ("seq", items))), max_leaves=12)


def render(tree: Any, indent: str = "") -> list[str]:
    """A block mapping or sequence as lines of YAML, every leaf written as it was drawn."""
    lines = []
    for key, child in tree[1] if tree[0] == "map" else [("-", item) for item in tree[1]]:
        prefix = key if tree[0] == "seq" else f"{key}:"
        if isinstance(child, str):
            lines.append(f"{indent}{prefix} {child}")
        else:
            lines.append(f"{indent}{prefix}")
            lines.extend(render(child, indent + "  "))
    return lines


def loaded(loader: Any, text: str) -> str:
    """Every document's value, to the type (True is not 1, '1' is not 1), or the error."""
    try:
        return repr(list(yaml.load_all(text, Loader=loader)))
    except Exception as err:
        return f"{type(err).__name__}: {err}"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(plain_scalars)
def test_a_plain_scalar_loads_as_pyyaml_loads_it(scalar: str) -> None:
    # Quoted, the same text is a string: what is remembered of the plain one must not apply.
    quoted = ("'" + scalar.replace("'", "''") + "'", json.dumps(scalar))
    for text in (f"key: {scalar}\n", f"- {scalar}\n", f"{scalar}: v\n", f"[{scalar}, {scalar}]\n", scalar,
                 *(f"key: {q}\nagain: {scalar}\n" for q in quoted)):
        for manifest_loader, reference in LOADERS:
            assert loaded(manifest_loader, text) == loaded(reference, text), text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(yaml_trees, min_size=1, max_size=3))
def test_a_manifest_loads_as_pyyaml_loads_it(trees: list[Any]) -> None:
    # Aliases, merge keys, explicit tags, unhashable keys and scalars that fail to construct take
    # PyYAML's own way; the value (or the error) must not tell which way was taken.
    text = "---\n".join("apiVersion: v1\nkind: Pod\n" + "\n".join(render(("map", [("spec", tree)]))) + "\n"
                        for tree in trees)
    for manifest_loader, reference in LOADERS:
        assert loaded(manifest_loader, text) == loaded(reference, text), text


def test_aliases_still_share_their_object() -> None:
    for manifest_loader, _ in LOADERS:
        value = yaml.load("a: &x {b: [1]}\nc: *x\n", Loader=manifest_loader)
        assert value["a"] is value["c"]


def test_remembered_tags_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_REMEMBERED_SCALARS", 10)
    manifest_loader, reference = LOADERS[-1]
    text = "".join(f"k{i}: {i}\n" for i in range(100)) + f"long: {'1' * 1000}\n"
    assert loaded(manifest_loader, text) == loaded(reference, text)
    assert 0 < len(manifest_loader._plain_scalar_tags) <= 10
    assert "1" * 1000 not in manifest_loader._plain_scalar_tags
