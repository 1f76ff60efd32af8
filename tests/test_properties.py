"""Property tests: odd objects never crash the scan, and a Docker socket mount is found wherever it
hides.

Pods and workloads are generated with every field possibly missing, null or of the wrong type
(`volumes: null`, no namespace, ownerReferences without `controller`, a hostPath without a path,
env entries with `valueFrom`, numbers where strings belong), then run through the whole offline
pipeline: the scan with the catalogue's identification, the owner walk over the same objects,
the report, every printer, `mounts` and `explain`. Manifest text is generated too, mixed with one
known DaemonSet, and read from disk."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin import queries
from plugin.models import ObjectRef, Origin, Report, SourceObject
from plugin.owners import Missing, ObjectsLookup, resolve_chains
from plugin.podspec import TEMPLATE_KINDS
from plugin.report import build_report
from plugin.rules import RuleSettings
from plugin.scan import scan_objects
from plugin.sources.files import read_manifests

# The strategies below are big; Hypothesis warns when it writes their description out.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KINDS = ("Pod", *sorted(TEMPLATE_KINDS))
API_VERSIONS = {"Pod": "v1", "ReplicationController": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}
MISSING = object()  # a key left out of its mapping

# The target of the finding property; generated junk names (at most 8 characters) never equal them.
TARGET_VOLUME = "docker-sock-target"
TARGET_CONTAINER = "target-container"
SOCKET_PATHS = ("/var/run/docker.sock", "/run/docker.sock", "/var/run//docker.sock", "/var/run/docker.sock/")

# --- strategies -------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(), st.text(max_size=8))
junk = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=6)
paths = st.one_of(st.sampled_from(["/", "/var/run", "/run", "/var/run/docker.sock", "/var/lib/docker",
                                   "/var/lib/docker/containers", "/run/containerd/containerd.sock",
                                   "relative/path", "", "/var/run/docker.sock/..", "/var/./run", "~"]),
                  st.text(max_size=12))
names = st.one_of(st.sampled_from(["docker", "sock", "c", "run", "agent"]), st.text(max_size=8))
words = st.one_of(st.sampled_from(["docker", "ps", "sh", "-c", "docker ps", "dockerd", "--docker",
                                   "unix:///var/run/docker.sock", "tcp://$(HOST_IP):2375", "-H"]),
                  st.text(max_size=8))


def odd(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: usually valid, else missing, null, or anything at all."""
    return st.one_of(valid, valid, st.just(MISSING), st.none(), junk)


@st.composite
def mapping(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]],
            scalar_only: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A mapping of these fields, each possibly odd; those in `scalar_only` are never a list or
    a mapping (see the namespace below)."""
    built = {key: draw(st.one_of(value, value, st.just(MISSING), scalars) if key in scalar_only else odd(value))
             for key, value in fields.items()}
    built = {k: v for k, v in built.items() if v is not MISSING}
    built.update(draw(st.dictionaries(st.text(max_size=6), junk, max_size=1)))  # an unknown field
    return built


def odd_list(item: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.one_of(item, item, junk), max_size=max_size)


volumes = mapping({"name": names, "hostPath": mapping({"path": paths, "type": st.sampled_from(
    ["Socket", "Directory", "", "DirectoryOrCreate"])}), "emptyDir": st.just({})})
mounts = mapping({"name": names, "mountPath": paths, "subPath": st.sampled_from(["", "docker.sock", "x"]),
                  "subPathExpr": st.just("$(POD)"), "readOnly": st.booleans()})
env = mapping({"name": st.sampled_from(["DOCKER_HOST", "DOCKER_SOCK", "HOST_IP", "X"]), "value": words,
               "valueFrom": mapping({"fieldRef": mapping({"fieldPath": st.sampled_from(
                   ["status.hostIP", "spec.nodeName", "metadata.name"])}),
                   "secretKeyRef": mapping({"name": names, "key": names})})})
probe = mapping({"exec": mapping({"command": odd_list(words)})})
containers = mapping({"name": names, "image": st.sampled_from(["docker:24-cli", "gcr.io/datadoghq/agent:7.50.0",
                                                                 "nginx", "", "falcosecurity/falco:0.37.0"]),
                      "command": odd_list(words), "args": odd_list(words), "env": odd_list(env),
                      "volumeMounts": odd_list(mounts), "livenessProbe": probe, "startupProbe": probe})
pod_specs = mapping({"volumes": odd_list(volumes, 4), "containers": odd_list(containers),
                     "initContainers": odd_list(containers, 2), "ephemeralContainers": odd_list(containers, 1),
                     "nodeName": names, "hostNetwork": st.booleans()})
owner_refs = mapping({"kind": st.sampled_from([*KINDS, "Node", "Rollout", ""]), "name": names,
                      "controller": st.booleans(), "apiVersion": st.sampled_from(["apps/v1", "v1", "x"]),
                      "uid": names})
metadata = mapping({"name": names, "namespace": st.sampled_from(["default", "ci", ""]),
                    "uid": names, "labels": st.dictionaries(names, names, max_size=2),
                    "annotations": st.dictionaries(names, names, max_size=1),
                    "ownerReferences": odd_list(owner_refs)})


@st.composite
def workload_objects(draw: st.DrawFn, spec: st.SearchStrategy[Any] = pod_specs) -> tuple[str, dict[str, Any]]:
    """(kind, object) of a Pod or workload, the pod spec where that kind keeps it."""
    kind = draw(st.sampled_from(KINDS))
    body = draw(spec)
    template = draw(mapping({"metadata": metadata}))
    template["spec"] = body
    if kind == "Pod":
        spec_field: Any = body
    elif kind == "CronJob":
        spec_field = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        spec_field = {"template": template, **draw(mapping({"selector": st.just({"matchLabels": {"app": "x"}})}))}
    obj = {"apiVersion": API_VERSIONS.get(kind, "apps/v1"), "kind": kind, "metadata": draw(metadata),
           "spec": draw(st.one_of(st.just(spec_field), st.just(spec_field), junk))}
    return kind, obj


# --- the pipeline, every stage and printer ----------------------------------------------------


def everything(objects: list[tuple[str, dict[str, Any]]]) -> Report:
    """Run `scan -f`, `mounts -f` and `explain -f` as the CLI does, printing every format."""
    from plugin.explain import explain_object, pods_owned_by
    from plugin.mounts import LISTING_RULES
    from plugin.pipeline import identify_agent
    from plugin.printers import PRINTERS, PrintOptions, describe
    from plugin.printers.table import print_mounts

    sources = [SourceObject(kind, str(obj.get("apiVersion")), obj, Origin(file="in.yaml", line=i + 1, document=i))
               for i, (kind, obj) in enumerate(objects)]
    lookup = ObjectsLookup((s.kind, s.obj) for s in sources)
    rule_settings = RuleSettings(extra_socket_paths=("/custom/docker.sock",))

    def report(rules: Any = None, identify: Any = identify_agent) -> Report:
        extra = {"rules": rules} if rules else {}
        result = scan_objects(sources, rule_settings, default_namespace="default", identify=identify, **extra)
        chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned], lookup)
        return build_report(result.scanned, chains, complete=True, counts=result.counts,
                            warnings=["in.yaml: line 1: not a Kubernetes object, skipped"])

    scanned = report()
    for options in (PrintOptions(), PrintOptions(no_headers=True, show_namespace=False, show_sources=True)):
        for printer in PRINTERS.values():
            printer(scanned, io.StringIO(), options)
    listing = report(LISTING_RULES, None)
    print_mounts(listing, io.StringIO(), PrintOptions(show_sources=True))
    PRINTERS["json"](listing, io.StringIO(), PrintOptions())

    pods = [obj for kind, obj in objects if kind == "Pod"]
    for kind, obj in objects:
        explanation = explain_object(kind, obj, "default", lookup, rule_settings,
                                     lambda ref: pods_owned_by(ref, pods, lookup))
        describe.print_explanation(explanation, io.StringIO())
        json.dumps(describe.explanation_document(explanation))
        yaml.safe_dump(describe.explanation_document(explanation))
    return scanned


@SETTINGS
@given(st.lists(workload_objects(), min_size=1, max_size=4))
def test_odd_objects_never_crash_the_scan(objects: list[tuple[str, dict[str, Any]]]) -> None:
    everything(objects)


def test_the_named_odd_shapes_are_scanned_for_what_they_have() -> None:
    socket = {"name": TARGET_VOLUME, "hostPath": {"path": "/var/run/docker.sock"}}
    mount = {"name": TARGET_VOLUME, "mountPath": "/var/run/docker.sock"}
    shapes = [
        {"metadata": {"name": "no-namespace"}, "spec": {"volumes": None, "containers": [{"name": "c"}]}},
        {"metadata": {"name": "null-volumes", "namespace": None},
         "spec": {"volumes": None, "containers": None, "initContainers": [{"name": "i", "volumeMounts": None}]}},
        {"metadata": {"name": "no-path"}, "spec": {"volumes": [{"name": "v", "hostPath": {}}, socket],
                                                   "containers": [{"name": "c", "volumeMounts": [mount]}]}},
        {"metadata": {"name": "refs", "ownerReferences": [{"kind": "ReplicaSet", "name": "rs"}, "junk", {}]},
         "spec": {"volumes": [socket], "containers": [{"name": "c", "volumeMounts": [mount],
                                                     "env": [{"name": "X", "valueFrom": {"secretKeyRef": {}}}]}]}},
        {"metadata": {"name": 5, "namespace": 7, "labels": None},
         "spec": {"volumes": [{"name": 1, "hostPath": {"path": 2}}, socket],
                  "containers": [{"name": "c", "image": 3, "command": [1, None, "docker"],
                                  "volumeMounts": [{"name": None}, mount]}]}},
    ]
    report = everything([("Pod", {"apiVersion": "v1", "kind": "Pod", **shape}) for shape in shapes])
    found = {(i.owner.name, i.finding.rule_id) for i in report.items if i.finding.volume == TARGET_VOLUME}
    assert found == {("no-path", "DS001"), ("rs", "DS001"), ("<unnamed>", "DS001")}


# --- the offline owner index ---------------------------------------------------------------------


class WholeObjectsLookup:
    """The offline owner index as it was before it kept only what the walk reads: the objects."""

    def __init__(self, objects: list[tuple[str, dict[str, Any]]]) -> None:
        self.index: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        for kind, obj in objects:
            name, namespace = queries.NAME.search(obj), queries.NAMESPACE.search(obj)
            if isinstance(name, str):
                self.index.setdefault((kind, namespace if isinstance(namespace, str) else None, name), obj)

    def prefetch(self, wanted: Any) -> None:
        pass

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | Missing:
        found = self.index.get((kind, namespace, name))
        if found is None and namespace is not None:
            found = self.index.get((kind, None, name))
        return found if found is not None else Missing.NOT_FOUND


# Few names and kinds, so that references find their owners (or another object of the name).
family_uids = st.one_of(st.sampled_from(["u1", "u2", ""]), st.integers(0, 2), junk)
family_references = st.fixed_dictionaries(
    {"kind": st.sampled_from(["ReplicaSet", "Deployment", "Node", ""]), "name": st.sampled_from(["a", "b", ""])},
    optional={"uid": family_uids, "controller": st.booleans(), "apiVersion": st.just("apps/v1")})
family = st.tuples(st.sampled_from(["Pod", "ReplicaSet", "Deployment"]), st.fixed_dictionaries(
    {"metadata": st.fixed_dictionaries(
        {"name": st.sampled_from(["a", "b"]), "uid": family_uids,
         "ownerReferences": st.lists(st.one_of(family_references, family_references, junk), max_size=2)},
        optional={"namespace": st.sampled_from(["default", "ci"])})}))


@settings(SETTINGS, max_examples=400)
@given(st.lists(family, min_size=1, max_size=6))
def test_the_compact_owner_index_walks_like_the_whole_objects(objects: list[tuple[str, dict[str, Any]]]) -> None:
    # Odd uids (numbers, lists), references with an empty kind or name, duplicates: every chain
    # must be the one the whole objects give.
    starts = []
    for kind, obj in objects:
        name, namespace = queries.NAME.search(obj), queries.NAMESPACE.search(obj)
        references = queries.OWNER_REFERENCES.search(obj)
        starts.append((ObjectRef(kind, name if isinstance(name, str) else "<unnamed>",
                                 namespace if isinstance(namespace, str) and namespace else "default"),
                       tuple(r for r in references if isinstance(r, dict)) if isinstance(references, list) else ()))
    assert resolve_chains(starts, ObjectsLookup(objects)) == resolve_chains(starts, WholeObjectsLookup(objects))


# --- a known finding, wherever it is placed ------------------------------------------------------


@st.composite
def socket_somewhere(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    """(kind, object, role) with one container mounting the docker.sock hostPath, among junk."""
    host_path: dict[str, Any] = {"path": draw(st.sampled_from(SOCKET_PATHS))}
    if draw(st.booleans()):
        host_path["type"] = draw(st.one_of(st.sampled_from(["Socket", ""]), junk))
    volume = {"name": TARGET_VOLUME, "hostPath": host_path, **draw(st.dictionaries(
        st.sampled_from(["x", "emptyDir", "extra"]), junk, max_size=1))}
    mount: dict[str, Any] = {"name": TARGET_VOLUME, "mountPath": draw(st.sampled_from(
        ["/var/run/docker.sock", "/host/docker.sock", "/x"])), "readOnly": draw(st.one_of(st.booleans(), junk))}
    if draw(st.booleans()):
        mount["subPath"] = draw(st.sampled_from(["", None]))
    target = draw(mapping({"image": st.sampled_from(["docker:24", "nginx"]), "command": odd_list(words),
                           "env": odd_list(env), "livenessProbe": probe}))
    sibling_mounts = draw(odd_list(mounts, 3))
    at = draw(st.integers(0, len(sibling_mounts)))
    target.update(name=TARGET_CONTAINER, volumeMounts=[*sibling_mounts[:at], mount, *sibling_mounts[at:]])

    spec = draw(pod_specs)
    sibling_volumes = [v for v in (spec.get("volumes") if isinstance(spec.get("volumes"), list) else [])]
    at = draw(st.integers(0, len(sibling_volumes)))
    spec["volumes"] = [*sibling_volumes[:at], volume, *sibling_volumes[at:]]
    role = draw(st.sampled_from(["containers", "initContainers", "ephemeralContainers"]))
    siblings = spec.get(role) if isinstance(spec.get(role), list) else []
    at = draw(st.integers(0, len(siblings)))
    spec[role] = [*siblings[:at], target, *siblings[at:]]

    kind, obj = draw(workload_objects(st.just(spec)))
    # The spec must stay where the kind keeps it for there to be anything to find.
    if kind == "Pod":
        obj["spec"] = spec
    elif kind == "CronJob":
        obj["spec"] = {"jobTemplate": {"spec": {"template": {"spec": spec}}}}
    elif not isinstance(obj["spec"], dict) or not isinstance(obj["spec"].get("template"), dict):
        obj["spec"] = {"template": {"spec": spec}}
    return kind, obj, role


@SETTINGS
@given(socket_somewhere(), st.lists(workload_objects(), max_size=3))
def test_a_docker_socket_mount_is_found_wherever_it_is(target: tuple[str, dict[str, Any], str],
                                                       others: list[tuple[str, dict[str, Any]]]) -> None:
    kind, obj, _ = target
    report = everything([*others, (kind, obj)])
    assert any(i.finding.rule_id == "DS001" and i.finding.container == TARGET_CONTAINER
               and i.finding.volume == TARGET_VOLUME for i in report.items), report.items


# --- manifest text --------------------------------------------------------------------------------

DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: known-agent
  namespace: monitoring
spec:
  selector: {matchLabels: {app: known-agent}}
  template:
    metadata: {labels: {app: known-agent}}
    spec:
      containers:
      - name: agent
        image: example/agent:1
        volumeMounts: [{name: sock, mountPath: /var/run/docker.sock}]
      volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}]
"""

yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10)
k8s_like = st.fixed_dictionaries({"apiVersion": st.sampled_from(["v1", "apps/v1", 5]),
                                  "kind": st.sampled_from([*KINDS, "List", "ConfigMap", "PodList"])},
                                 optional={"metadata": yaml_values, "spec": yaml_values, "items": yaml_values})
yaml_documents = st.one_of(yaml_values.map(yaml.safe_dump), k8s_like.map(yaml.safe_dump),
                           workload_objects().map(lambda ko: yaml.safe_dump(ko[1])))
json_documents = workload_objects().map(lambda ko: json.dumps(ko[1]))
garbage = st.one_of(st.text(max_size=200), st.binary(max_size=200), st.sampled_from([
    "a: [b", "{", "---\n- &a [*a]", "key: !!python/object:os.system x", "\ufeff{}", "x: !!binary ===",
    "- - - - - -", "? [a]\n: b", "a: *undefined", "%YAML 1.1\n---\nx", "\t- tab", "'unterminated"]))


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(st.lists(yaml_documents, max_size=4), st.integers(0, 4), st.lists(json_documents, max_size=2),
       st.lists(garbage, max_size=3), st.sampled_from([".yaml", ".json", ".yml"]))
def test_random_manifests_never_escape_and_the_known_daemonset_is_found(
        tmp_path_factory: Any, docs: list[str], at: int, json_docs: list[str], bad: list[str | bytes],
        suffix: str) -> None:
    folder: Path = tmp_path_factory.mktemp("manifests")
    (folder / "all.yaml").write_text("\n---\n".join([*docs[:at], DAEMONSET, *docs[at:]]))
    for i, content in enumerate(json_docs):
        (folder / f"doc-{i}.json").write_text(content)
    for i, content in enumerate(bad):
        target = folder / f"bad-{i}{suffix}"
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    scan = read_manifests([str(folder)])
    # A document whose metadata.namespace is not a string is refused by itself, as kubectl refuses
    # it (read as `default`, it would land in the wrong namespace); any other junk is tolerated.
    assert not any("/bad-" not in p.path and "metadata.namespace must be a string" not in p.message
                   for p in scan.problems), scan.problems
    report = everything([(o.kind, o.obj) for o in scan.objects])
    assert any(i.owner.kind == "DaemonSet" and i.owner.name == "known-agent" and i.finding.rule_id == "DS001"
               for i in report.items)
