"""The offline source: manifests, folders, stdin, Lists and dumps, and bad input that must not
stop the other files from being read; and the YAML loader's shortcuts, which must give PyYAML's
own result."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.errors import EXIT_ERROR
from plugin.sources import files
from plugin.sources.files import (
    MAX_FILE_BYTES,
    SHOWN_PER_FILE,
    FileProblem,
    FileScan,
    PathError,
    read_manifests,
    stream_manifests,
)

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
    assert [(o.kind, o.api_version, o.origin.document, o.origin.item) for o in scan.objects] == [
        ("Pod", "v1", 0, 0), ("DaemonSet", "apps/v1", 0, 1)]


def test_list_items_keep_the_index_of_their_document(tmp_path: Path) -> None:
    # `document` counts documents, as for every other object; a List item's place is `item`.
    items = "".join("- " + POD.format(name=n).replace("\n", "\n  ").rstrip() + "\n" for n in ("a", "b"))
    f = write(tmp_path / "mixed.yaml", POD.format(name="first") + "---\napiVersion: v1\nkind: List\nitems:\n"
              + items + "---\n" + POD.format(name="last"))
    scan = read_manifests([f])
    assert [(o.obj["metadata"]["name"], o.origin.line, o.origin.document, o.origin.item) for o in scan.objects] == [
        ("first", 1, 0, None), ("a", 13, 1, 0), ("b", 21, 1, 1), ("last", 30, 2, None)]


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


def test_a_folder_link_loop_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    write(tmp_path / "d" / "p.yaml", POD.format(name="p"))
    scan = read_manifests([str(tmp_path / "d")])
    assert [o.obj["metadata"]["name"] for o in scan.objects] == ["p"]
    assert scan.problems == []


@pytest.mark.parametrize("name, message", [
    ("missing.yaml", 'error: the path "{path}" does not exist'),
    ("broken.yaml", 'error: the path "{path}" does not exist'),  # kubectl stats the path: the link's target
    ("loop.yaml", 'error: the path "{path}" cannot be accessed: stat {path}: too many levels of symbolic links'),
    ("file.yaml/x.yaml", 'error: the path "{path}" cannot be accessed: stat {path}: not a directory'),
])
def test_a_path_that_cannot_be_found_is_an_error_as_in_kubectl(tmp_path: Path, name: str, message: str) -> None:
    os.symlink(tmp_path / "nowhere", tmp_path / "broken.yaml")
    os.symlink(tmp_path / "loop.yaml", tmp_path / "loop.yaml")
    good = write(tmp_path / "file.yaml", POD.format(name="p"))
    path = str(tmp_path / name)
    opened: list[str] = []
    scan = FileScan()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "_read_text", lambda p: opened.append(p) or "")
        with pytest.raises(PathError) as raised:
            next(stream_manifests([good, path], scan))
    assert (str(raised.value), raised.value.exit_code) == (message.format(path=path), EXIT_ERROR)
    assert opened == []  # refused before any file is read, as kubectl does


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
    stream = stream_manifests([first, bad], scan)
    assert next(stream).obj["metadata"]["name"] == "a"
    assert scan.problems == []
    assert list(stream) == [] and scan.objects == []
    assert [p.path for p in scan.problems] == [bad]
    assert "invalid YAML" in scan.problems[0].message
    assert scan.skipped == [FileProblem(first, "line 10: not a Kubernetes object (no apiVersion and kind)")]
    listed = read_manifests([first, bad])
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


# --- one bad document hides nothing else (issue 11) ----------------------------------------------

DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  template:
    spec:
      containers:
      - name: agent
        image: agent:1
      volumes:
      - name: sock
        hostPath: {path: /var/run/docker.sock}
"""
# From a published chart: a mapping used as a mapping key, which Python cannot hash.
UNHASHABLE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  value: {? {region_name: ''} : ''}
"""


@pytest.fixture(params=["c", "python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test once with libyaml's loader and once with PyYAML's own (the krew archive may lack libyaml)."""
    files._loader_class.cache_clear()
    if request.param == "python":
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    yield request.param
    files._loader_class.cache_clear()


def names_and_lines(scan: FileScan) -> list[tuple[str, int | None, int | None]]:
    return [(o.obj["metadata"]["name"], o.origin.line, o.origin.document) for o in scan.objects]


def test_a_document_that_cannot_be_built_is_refused_alone(tmp_path: Path, loader: str) -> None:
    f = write(tmp_path / "chart.yaml", POD.format(name="before") + "---\n" + UNHASHABLE + "---\n" + DAEMONSET)
    scan = read_manifests([f])
    assert names_and_lines(scan) == [("before", 1, 0), ("agent", 17, 2)]
    assert scan.problems == [FileProblem(f, "line 15: invalid YAML: found unhashable key; the document is not read")]


@pytest.mark.parametrize("bad, line, problem", [
    # the line in the bad document (0: the next document's `---`, where the parser noticed)
    ("spec: [unclosed\n", 0, "column 1: invalid YAML: did not find expected ',' or ']'"),
    ("metadata:\n  name: 'unclosed\n", 0, "column 1: invalid YAML: found unexpected document indicator"),
    ("metadata:\n  name: x\n bad: indent\n", 3, "column 2: invalid YAML: did not find expected key"),
    ("metadata: *nowhere\n", 1, "column 11: invalid YAML: found undefined alias"),
    ("{a: 1}}\n", 1, "column 7: invalid YAML: did not find expected <document start>"),
    # libyaml and PyYAML may be a column apart
    ("a: 1\n\x1b[31mred\n", 2, r"column [12]: invalid YAML: (special|control) characters are not allowed \(#x001b\)"),
], ids=["unclosed-flow", "unclosed-quote", "indentation", "undefined-alias", "junk-after", "control-character"])
def test_a_document_that_cannot_be_parsed_is_refused_and_reading_resumes_at_the_next(
        tmp_path: Path, loader: str, bad: str, line: int, problem: str) -> None:
    before = "# Source: chart/templates/pod.yaml\n" + POD.format(name="é-before")  # not ASCII: lines, not bytes
    lines = (before + "---\n").count("\n")
    text = before + "---\n" + bad + "---\n" + DAEMONSET + "---\n" + POD.format(name="after")
    f = write(tmp_path / "chart.yaml", text)
    scan = read_manifests([f])
    after = lines + bad.count("\n") + 2
    assert names_and_lines(scan) == [("é-before", 2, 0), ("agent", after, 2), ("after", after + 14, 3)]
    (refused,) = scan.problems
    expected = f"line {lines + line if line else after - 1}, {problem}"
    # libyaml and PyYAML word some errors differently; the position and the outcome are the same.
    if loader == "python":
        expected = expected.split(": invalid YAML: ")[0] + ": invalid YAML: .*"
    assert re.fullmatch(expected + "; the document is not read", refused.message), refused.message


def test_several_bad_documents_are_each_refused(tmp_path: Path, loader: str) -> None:
    text = "---\n".join([POD.format(name="a"), "a: [\n", UNHASHABLE, "b: 'x\n", POD.format(name="b"), "c: {\n"])
    f = write(tmp_path / "bad.yaml", text)
    scan = read_manifests([f])
    assert names_and_lines(scan) == [("a", 1, 0), ("b", 21, 4)]
    # Each is noticed where it ends: at the next document's `---`, or at the end of the file.
    assert [p.message.split(":")[0] for p in scan.problems] == [
        "line 11, column 1", "line 17", "line 20, column 1", "… and 1 more document that could not be read"]
    scan = read_manifests([write(tmp_path / "last.yaml", "---\n".join([POD.format(name="a"), "c: {\n"]))])
    (problem,) = scan.problems
    assert problem.message.startswith("line 11, column 1: invalid YAML: ")
    assert problem.message.endswith("; the rest of the file is not read")


def test_a_bad_document_at_the_end_says_the_rest_is_not_read(tmp_path: Path) -> None:
    f = write(tmp_path / "x.yaml", POD.format(name="kept") + "---\nspec: [unclosed\n  more: text\n")
    scan = read_manifests([f])
    assert names_and_lines(scan) == [("kept", 1, 0)]
    assert [p.message for p in scan.problems] == [
        "line 11, column 7: invalid YAML: did not find expected ',' or ']'; the rest of the file is not read"]


def test_a_json_looking_yaml_file_keeps_the_json_error_and_reads_the_next_documents(tmp_path: Path) -> None:
    f = write(tmp_path / "gen.yaml", '{"apiVersion": "v1", "kind": "Pod",\n "x": ]}\n---\n' + POD.format(name="next"))
    scan = read_manifests([f])
    assert names_and_lines(scan) == [("next", 4, 1)]
    assert [p.message for p in scan.problems] == [
        "line 2, column 7: invalid JSON: Expecting value; the document is not read"]


# --- pipes and devices (issue 12, item 9) --------------------------------------------------------


def test_a_pipe_given_by_name_is_read_as_a_stream(tmp_path: Path) -> None:
    fifo = str(tmp_path / "pipe")  # what `-f <(helm template ...)` passes: /dev/fd/63
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w") as pipe:
            pipe.write(POD.format(name="piped") + "---\n" + DAEMONSET)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        scan = read_manifests([fifo])
    finally:
        writer.join(10)
    assert names_and_lines(scan) == [("piped", 1, 0), ("agent", 10, 1)]
    assert scan.problems == [] and scan.objects[0].origin.file == fifo


def test_dev_stdin_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    read, write_end = os.pipe()
    os.write(write_end, POD.format(name="from-stdin").encode())
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read, 0)
    try:
        scan = read_manifests(["/dev/stdin"])
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read)
    assert [(o.obj["metadata"]["name"], o.origin.file) for o in scan.objects] == [("from-stdin", "/dev/stdin")]


def test_an_empty_device_holds_nothing() -> None:
    scan = read_manifests(["/dev/null"])
    assert (scan.objects, scan.problems, scan.skipped) == ([], [], [])


# --- repeated notes are summarized (issue 12, item 11) -------------------------------------------


def test_repeated_notes_about_a_file_are_summarized(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.yaml", "---\n{}\n" * 10_000)
    bad = write(tmp_path / "bad.yaml", "---\n".join([UNHASHABLE] * 5 + [POD.format(name="kept")]))
    other = write(tmp_path / "other.yaml", "a: 1\n")
    scan = read_manifests([empty, bad, other])
    assert [p.message for p in scan.skipped] == [
        *(f"line {2 * i + 2}: not a Kubernetes object (no apiVersion and kind)" for i in range(SHOWN_PER_FILE)),
        f"… and {10_000 - SHOWN_PER_FILE:,} more documents that are not Kubernetes objects",
        "line 1: not a Kubernetes object (no apiVersion and kind)"]
    assert [p.path for p in scan.skipped] == [empty] * (SHOWN_PER_FILE + 1) + [other]
    assert [p.message.split(":")[0] for p in scan.problems] == [
        *(f"line {7 * i + 6}" for i in range(SHOWN_PER_FILE)), f"… and {5 - SHOWN_PER_FILE} more documents that could not be read"]
    assert [o.obj["metadata"]["name"] for o in scan.objects] == ["kept"]


def test_items_of_a_json_dump_name_their_own_lines(tmp_path) -> None:
    """`kubectl get -o json` output: each item's finding names the line where the item starts,
    not line 1 for all; invalid JSON still gets json's own message."""
    import json as json_module

    from plugin.sources.files import _json_with_item_lines, read_manifests

    items = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"}, "spec": {"containers": []}}
             for i in range(3)]
    text = json_module.dumps({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items}, indent=4)
    path = tmp_path / "dump.json"
    path.write_text(text)
    lines = text.splitlines()
    found = [(o.obj["metadata"]["name"], o.origin.line) for o in read_manifests([str(path)]).objects]
    assert [name for name, _ in found] == ["p0", "p1", "p2"]
    assert all(lines[line - 1].strip() == "{" and f'"p{i}"' in "\n".join(lines[line:line + 8])
               for i, (_, line) in enumerate(found))
    assert len({line for _, line in found}) == 3
    for bad in ('{"items": [1,]}', '{"a": 1,}', '{"a": 1} x', '{"a" 1}'):
        with pytest.raises(json_module.JSONDecodeError) as caught:
            _json_with_item_lines(bad)
        with pytest.raises(json_module.JSONDecodeError) as expected:
            json_module.loads(bad)
        assert str(caught.value) == str(expected.value)
    assert _json_with_item_lines('{"kind": "List", "items": []}') == ({"kind": "List", "items": []}, [])


def test_a_namespace_that_is_a_number_refuses_its_document_not_the_others(tmp_path) -> None:
    """`namespace: 123` is not silently `default` (kubectl refuses it too): that document is
    reported with its line, the others are read, and the scan is incomplete."""
    from plugin.sources.files import read_manifests

    path = tmp_path / "m.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: 123\n---\n"
                    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  namespace: '123'\n")
    read = read_manifests([str(path)])
    assert [o.obj["metadata"]["name"] for o in read.objects] == ["b"]
    assert [str(p) for p in read.problems] == [
        f"{path}: line 1: metadata.namespace must be a string, not int 123: the document is not read"]
