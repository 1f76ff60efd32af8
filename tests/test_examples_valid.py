"""The bundled examples are real Kubernetes objects, and the cluster dump is self-consistent.

`kubectl-dockershim scan -f examples/` is the README's first command and the tests' input, so every
document of every file under examples/ (YAML streams, JSON, `List` items flattened) must validate
strictly against the Kubernetes 1.30 schema, and the dump's ownerReferences must point at the uids
of the owners it contains. The dump leaves out three owners on purpose: a Deployment deleted before
its ReplicaSet, an Argo Rollout (a custom resource) and a Node (the owner of a mirror pod).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DUMP = EXAMPLES / "cluster-dump.json"
SCHEMA_VERSION = "1.30"

# (kind, namespace, name) of the owners the dump references but does not contain, by design.
ABSENT_OWNERS = {
    ("Deployment", "ci", "drone-runner"),
    ("Rollout", "security", "image-scanner"),
    ("Node", None, "worker-2"),
}


def _documents(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return [json.loads(text)]
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def _objects(path: Path) -> list[dict]:
    objects: list[dict] = []
    for doc in _documents(path):
        assert isinstance(doc, dict), f"{path}: a document is not a mapping"
        if doc.get("kind") == "List":
            assert isinstance(doc.get("items"), list), f"{path}: a List without items"
            objects.extend(doc["items"])
        else:
            objects.append(doc)
    return objects


def _example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())


def _cases() -> list[Any]:
    cases = []
    for path in _example_files():
        for index, obj in enumerate(_objects(path)):
            name = (obj.get("metadata") or {}).get("name", "?")
            label = f"{path.relative_to(EXAMPLES)}#{index}:{obj.get('kind')}/{name}"
            cases.append(pytest.param(obj, id=label))
    return cases


def _key(kind: str, namespace: str | None, name: str) -> tuple[str, str | None, str]:
    return (kind, namespace, name)


def test_examples_exist() -> None:
    files = {p.relative_to(EXAMPLES).as_posix() for p in _example_files()}
    assert "cluster-dump.json" in files
    assert sum(f.startswith("manifests/") for f in files) >= 10


@pytest.mark.parametrize("obj", _cases())
def test_object_is_valid(obj: dict) -> None:
    assert isinstance(obj.get("apiVersion"), str) and isinstance(obj.get("kind"), str)
    try:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path) or "."
        pytest.fail(f"invalid at {where}: {err.message}")


def test_dump_has_the_shape_kubectl_prints() -> None:
    dump = json.loads(DUMP.read_text(encoding="utf-8"))
    assert set(dump) == {"apiVersion", "kind", "items", "metadata"}
    assert (dump["apiVersion"], dump["kind"], dump["metadata"]) == ("v1", "List", {"resourceVersion": ""})
    for item in dump["items"]:
        metadata = item["metadata"]
        assert item["apiVersion"] and item["kind"]
        assert metadata["namespace"] and metadata["uid"] and metadata["resourceVersion"]
        assert metadata["creationTimestamp"]
        if item["kind"] == "Pod":
            assert item["spec"]["nodeName"] and item["status"]["phase"]
    uids = [item["metadata"]["uid"] for item in dump["items"]]
    assert len(uids) == len(set(uids)), "uids are not unique"


def test_dump_owner_references_are_consistent() -> None:
    items = json.loads(DUMP.read_text(encoding="utf-8"))["items"]
    present = {_key(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o for o in items}
    absent_seen = set()
    for item in items:
        namespace = item["metadata"]["namespace"]
        for ref in item["metadata"].get("ownerReferences", []):
            assert {"apiVersion", "kind", "name", "uid", "controller"} <= set(ref), ref
            # Owners share their dependent's namespace; a Node is cluster-scoped.
            key = _key(ref["kind"], None if ref["kind"] == "Node" else namespace, ref["name"])
            owner = present.get(key)
            if owner is None:
                dependent = f"{item['kind']} {namespace}/{item['metadata']['name']}"
                assert key in ABSENT_OWNERS, f"{dependent}: owner {key} is not in the dump"
                absent_seen.add(key)
                continue
            assert ref["uid"] == owner["metadata"]["uid"], f"uid of {key} does not match"
            assert ref["apiVersion"] == owner["apiVersion"], f"apiVersion of {key} does not match"
    assert absent_seen == ABSENT_OWNERS, "a deliberately missing owner is no longer referenced"


def test_dump_covers_every_owner_shape() -> None:
    items = json.loads(DUMP.read_text(encoding="utf-8"))["items"]
    by_uid = {o["metadata"]["uid"]: o for o in items}

    def chain(pod: dict) -> list[str]:
        kinds, current = [], pod
        while current is not None:
            refs = current["metadata"].get("ownerReferences") or []
            if not refs:
                break
            kinds.append(refs[0]["kind"])
            current = by_uid.get(refs[0]["uid"])
        return kinds

    chains = {tuple(chain(o)) for o in items if o["kind"] == "Pod"}
    for expected in [("ReplicaSet", "Deployment"), ("Job", "CronJob"), ("DaemonSet",), ("StatefulSet",),
                     ("ReplicationController",), ("Node",), (), ("ReplicaSet", "Rollout")]:
        assert expected in chains, expected
    mirror = [o for o in items if "kubernetes.io/config.mirror" in (o["metadata"].get("annotations") or {})]
    assert mirror and all(o["metadata"]["ownerReferences"][0]["kind"] == "Node" for o in mirror)
