"""Host paths reached through PersistentVolumeClaims: which claims bind to which volumes, the
rules on claimed volumes, and the offline scan and explain of the manifests in
tests/manifests/volumes/ (look-alikes included), whatever order the input comes in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from plugin.claims import ClaimIndex, ClusterClaims, OfflineClaims, pod_spec_view, uses_claims
from plugin.errors import ApiError
from plugin.pipeline import explain_files, scan_files
from plugin.podspec import pod_spec_of
from plugin.rules import RuleSettings, run_rules
from plugin.sources.files import read_manifests
from tests.k8s_validate import validate_objects
from tests.podspecs import container, host_path_volume, mount, pod, pod_spec, workload

MANIFESTS = Path(__file__).parent / "manifests" / "volumes"


def persistent_volume(name: str, path: str, *, claim: tuple[str, str] | None = None, local: bool = False,
                      phase: str | None = None, type_: str | None = None) -> dict:
    spec: dict = {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "manual"}
    if local:
        spec["local"] = {"path": path}
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}]}]}}
    else:
        spec["hostPath"] = {"path": path, **({"type": type_} if type_ else {})}
    if claim:
        spec["claimRef"] = {"namespace": claim[0], "name": claim[1]}
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec}
    if phase:
        pv["status"] = {"phase": phase}
    return pv


def claim(name: str, namespace: str = "default", volume: str | None = None) -> dict:
    spec: dict = {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"],
                  "resources": {"requests": {"storage": "1Gi"}}}
    if volume:
        spec["volumeName"] = volume
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def claim_volume(name: str, claim_name: str) -> dict:
    return {"name": name, "persistentVolumeClaim": {"claimName": claim_name}}


def socket_claim_spec(claim_name: str = "docker") -> dict:
    return pod_spec([claim_volume("sock", claim_name)],
                    [container("agent", mounts=[mount("sock", "/var/run/docker.sock")])])


def index_of(*objects: dict) -> ClaimIndex:
    index = ClaimIndex()
    for obj in objects:
        if obj["kind"] == "PersistentVolume":
            index.add_volume(obj)
        else:
            index.add_claim(obj)
    return index


class Given:
    def __init__(self, index: ClaimIndex) -> None:
        self._index = index

    def index(self) -> ClaimIndex:
        return self._index


def findings(obj: dict, *objects: dict):
    spec, metadata = pod_spec_of(obj["kind"], obj)
    view = pod_spec_view(obj["kind"], obj, spec, metadata, "default", Given(index_of(*objects)))
    return run_rules(view, RuleSettings())


def test_fixtures_are_valid() -> None:
    validate_objects([persistent_volume("a", "/x", claim=("n", "c"), local=True, phase="Bound"), claim("c", "n", "a"),
                      pod("p", socket_claim_spec())])


def test_a_claim_bound_to_a_host_path_volume_is_the_same_dependency_as_the_host_path() -> None:
    (finding,) = findings(pod("runner", socket_claim_spec()),
                          persistent_volume("docker-pv", "/var/run/docker.sock", claim=("default", "docker")))
    assert (finding.rule_id, finding.severity, finding.container, finding.volume) == ("DS001", "high", "agent", "sock")
    assert (finding.host_path, finding.mount_path) == ("/var/run/docker.sock", "/var/run/docker.sock")
    assert finding.evidence == "pvc/docker -> pv/docker-pv"
    assert finding.reason.endswith("(through the PersistentVolumeClaim docker, bound to the hostPath "
                                   "PersistentVolume docker-pv)")


def test_the_claim_may_name_its_volume_instead() -> None:
    assert [f.rule_id for f in findings(pod("runner", socket_claim_spec()), claim("docker", volume="docker-pv"),
                                        persistent_volume("docker-pv", "/var/run/docker.sock"))] == ["DS001"]


def test_a_local_volume_counts_and_sub_path_applies_as_for_host_path() -> None:
    spec = pod_spec([claim_volume("run", "run")],
                    [container("agent", mounts=[mount("run", "/var/run/docker.sock", sub_path="docker.sock")])])
    (finding,) = findings(pod("p", spec), persistent_volume("run-pv", "/var/run", claim=("default", "run"), local=True))
    assert (finding.rule_id, finding.sub_path) == ("DS001", "docker.sock")
    assert "local PersistentVolume run-pv" in finding.reason


@pytest.mark.parametrize("objects", [
    # released: the claim that held it is gone, and a new claim of that name does not get it back
    [persistent_volume("pv", "/var/run/docker.sock", claim=("default", "docker"), phase="Released")],
    [persistent_volume("pv", "/var/run/docker.sock", claim=("default", "docker"), phase="Failed")],
    # reserved for a claim of another namespace or name
    [persistent_volume("pv", "/var/run/docker.sock", claim=("other", "docker"))],
    [claim("docker", volume="pv"), persistent_volume("pv", "/var/run/docker.sock", claim=("default", "someone"))],
    # no binding at all: the volume controller decides by class, size and selector, which is not known here
    [claim("docker"), persistent_volume("pv", "/var/run/docker.sock")],
    # the claim names a volume that is no host path
    [claim("docker", volume="csi-disk")],
])
def test_claims_that_are_not_bound_to_the_host_path(objects: list[dict]) -> None:
    assert findings(pod("runner", socket_claim_spec()), *objects) == []


def test_a_volume_bound_to_a_claim_of_another_namespace_is_not_this_one() -> None:
    runner = pod("runner", socket_claim_spec(), namespace="ci")
    assert findings(runner, persistent_volume("pv", "/var/run/docker.sock", claim=("default", "docker"))) == []
    assert [f.rule_id for f in findings(runner, persistent_volume("pv", "/var/run/docker.sock",
                                                                  claim=("ci", "docker")))] == ["DS001"]


def test_look_alike_volumes_behind_claims() -> None:
    spec = pod_spec([claim_volume("state", "state")],
                    [container("agent", mounts=[mount("state", "/var/lib/docker")])])
    assert findings(pod("p", spec), persistent_volume("pv", "/var/lib/containerd", claim=("default", "state"))) == []
    assert findings(pod("p", spec), persistent_volume("pv", "/var/lib/docker-registry",
                                                      claim=("default", "state"))) == []


def test_every_rule_that_reads_host_paths_sees_claimed_ones() -> None:
    """DOCKER_HOST at a socket on a claimed mount is DS005; the docker CLI is then the node's (DS006
    no longer assumes a daemon elsewhere)."""
    spec = pod_spec([claim_volume("sock", "docker")], [container(
        "build", mounts=[mount("sock", "/var/run/dind")], env=[{"name": "DOCKER_HOST",
                                                                 "value": "unix:///var/run/dind/docker.sock"}],
        command=["docker", "build", "."])])
    without = findings(pod("p", spec))
    assert without == []  # a socket on some other volume: a daemon elsewhere
    found = findings(pod("p", spec), persistent_volume("pv", "/var/run", claim=("default", "docker")))
    assert sorted(f.rule_id for f in found) == ["DS002", "DS005", "DS006"]


def test_a_template_uses_its_claims_too() -> None:
    deployment = workload("Deployment", "runner", socket_claim_spec(), namespace="ci")
    assert [f.rule_id for f in findings(deployment, persistent_volume("pv", "/run/docker.sock",
                                                                      claim=("ci", "docker")))] == ["DS001"]


def test_an_ephemeral_volume_is_the_claim_named_after_the_pod_and_the_volume() -> None:
    spec = pod_spec([{"name": "cache", "ephemeral": {"volumeClaimTemplate": {"spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}}],
        [container("builder", mounts=[mount("cache", "/var/lib/docker")])])
    volume = persistent_volume("pv", "/var/lib/docker", claim=("default", "build-7-cache"))
    (finding,) = findings(pod("build-7", spec), volume)
    assert (finding.rule_id, finding.evidence) == ("DS004", "pvc/build-7-cache -> pv/pv")
    assert findings(pod("build-8", spec), volume) == []  # another pod's claim
    # A template has no pod name: its ephemeral claims cannot be known.
    assert findings(workload("Deployment", "build", spec), volume) == []


def test_a_statefulset_template_finds_the_retained_claims_of_its_pods() -> None:
    sts = workload("StatefulSet", "cache", pod_spec(None, [container("c", mounts=[mount("images", "/images")])]))
    sts["spec"]["replicas"] = 0
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "images"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    validate_objects([sts])
    volumes = [persistent_volume(f"pv-{i}", "/var/lib/docker", claim=("default", f"images-cache-{i}"), local=True)
               for i in range(2)]
    # Claims of other StatefulSets whose names start alike, and a name that is no ordinal, are not its own.
    volumes += [persistent_volume("pv-x", "/var/lib/docker", claim=("default", "images-cache-web-0")),
                persistent_volume("pv-y", "/var/lib/docker", claim=("default", "images-cache-0b"))]
    found = findings(sts, *volumes)
    assert [(f.rule_id, f.evidence) for f in found] == [("DS004", "pvc/images-cache-0 -> pv/pv-0"),
                                                         ("DS004", "pvc/images-cache-1 -> pv/pv-1")]
    assert uses_claims("StatefulSet", sts, sts["spec"]["template"]["spec"])


def test_a_pod_without_claims_never_reads_the_index() -> None:
    class Unread:
        def index(self) -> ClaimIndex:
            raise AssertionError("the PersistentVolumes were read for a pod without claims")

    spec = pod_spec([host_path_volume("sock", "/var/run/docker.sock"), {"name": "tmp", "emptyDir": {}}],
                    [container("agent", mounts=[mount("sock", "/var/run/docker.sock")])])
    obj = pod("p", spec)
    view = pod_spec_view("Pod", obj, spec, {}, "default", Unread())
    assert [f.rule_id for f in run_rules(view, RuleSettings())] == ["DS001"]
    assert not uses_claims("Pod", obj, spec)
    assert not uses_claims("Pod", obj, {"volumes": [None, "x", 3, {"name": "y"}]})
    assert not uses_claims("Pod", obj, {"volumes": "persistentVolumeClaim"})


def test_volumes_without_a_host_path_are_not_kept() -> None:
    index = index_of({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "disk"},
                      "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"},
                               "claimRef": {"namespace": "default", "name": "data"}}},
                     {"kind": "PersistentVolume", "metadata": {"name": "odd"}, "spec": {"hostPath": {"path": ""}}},
                     {"kind": "PersistentVolume", "metadata": {"name": "odder"}, "spec": {"hostPath": "x",
                                                                                          "local": {"path": 3}}},
                     {"kind": "PersistentVolume", "metadata": None, "spec": None})
    assert not index and index.volume_of("default", "data") is None


class FakeApi:
    """Answers the one list ClusterClaims sends: PersistentVolumes, or a 403 for them."""

    def __init__(self, pages: list[list[dict]] | None = None, status: int | None = None) -> None:
        self.pages, self.status, self.lists = pages or [], status, []

    def list_pages(self, resource, namespace=None, **_kwargs):
        self.lists.append((resource.plural, namespace))
        if self.status is not None:
            raise ApiError(f"{resource.plural} is forbidden", self.status, "Forbidden")
        yield from self.pages


def test_the_cluster_is_asked_once_for_every_persistent_volume_page_by_page() -> None:
    api = FakeApi([[persistent_volume("a", "/var/run/docker.sock", claim=("ci", "a"))],
                   [persistent_volume("b", "/var/lib/docker", claim=("ci", "b"))]])
    claims = ClusterClaims(api, [])  # type: ignore[arg-type]
    assert claims.index().volume_of("ci", "b") is not None and claims.index().volume_of("ci", "a") is not None
    assert api.lists == [("persistentvolumes", None)]


def test_a_forbidden_list_is_a_problem_that_names_it_and_checks_no_claim() -> None:
    problems: list[str] = []
    claims = ClusterClaims(FakeApi(status=403), problems)  # type: ignore[arg-type]
    assert not claims.index() and not claims.index()
    assert problems == ["cannot list persistentvolumes (Forbidden): volumes that pods claim are not checked for "
                        "Docker's host paths"]
    with pytest.raises(ApiError):
        ClusterClaims(FakeApi(status=500), []).index()  # type: ignore[arg-type]


def _rows(paths: list[str]) -> list[tuple]:
    report, problems = scan_files(paths, RuleSettings(), None)
    assert problems == []
    return sorted((i.namespace, i.owner.describe(), i.finding.rule_id, i.finding.host_path, i.finding.evidence)
                  for i in report.items)


EXPECTED = [
    ("cache", "StatefulSet/layer-cache", "DS004", "/var/lib/docker", "pvc/images-layer-cache-0 -> pv/local-docker-node-a"),
    ("cache", "StatefulSet/layer-cache", "DS004", "/var/lib/docker", "pvc/images-layer-cache-1 -> pv/local-docker-node-b"),
    ("ci", "Deployment/build-runner", "DS001", "/var/run/docker.sock", "pvc/docker-socket -> pv/ci-docker-socket"),
    ("ci", "Deployment/build-runner", "DS005", "/var/run/docker.sock", "DOCKER_HOST=unix:///run/docker.sock"),
    ("kube-system", "CronJob/image-prune", "DS003", "/", None),
    ("kube-system", "CronJob/image-prune", "DS008", None,
     'sh -c chroot /host docker image prune --all --force --filter "until=168h" && chroot /host systemctl restart '
     "docker.se..."),
    ("kube-system", "DaemonSet/registry-mirror-setup", "DS007", "/etc/docker", None),
    ("kube-system", "DaemonSet/registry-mirror-setup", "DS008", None,
     "... /config/daemon.json /etc/docker/daemon.json nsenter --target 1 --mount --uts --ipc --net -- systemctl "
     "restart docker"),
    ("logging", "Pod/log-collector", "DS004", "/var/lib/docker/containers",
     "pvc/log-collector-logs -> pv/pvc-1b7e0d2c-0c55-4b8e-9a35-6f0a2f9f7d10"),
    ("monitoring", "DaemonSet/win-agent", "DS001", "\\\\.\\pipe\\docker_engine", None),
    ("monitoring", "DaemonSet/win-agent", "DS004", "C:/ProgramData/Docker/containers", None),
    ("monitoring", "DaemonSet/win-agent", "DS005", "\\\\.\\pipe\\docker_engine",
     "DOCKER_HOST=npipe:////./pipe/docker_engine"),
    ("monitoring", "DaemonSet/win-agent", "DS007", "C:\\ProgramData\\docker\\config", None),
    # The look-alikes: only the weak signal of the node's `/`, which the chroot needs.
    ("tools", "DaemonSet/containerd-mirror-setup", "DS003", "/", None),
]


def test_the_volume_manifests_offline() -> None:
    assert _rows([str(MANIFESTS)]) == EXPECTED


def test_the_manifests_are_valid() -> None:
    objects = [o.obj for o in read_manifests([str(MANIFESTS)]).objects]
    validate_objects(objects)
    assert {o["kind"] for o in objects} >= {"PersistentVolume", "PersistentVolumeClaim", "StatefulSet", "Pod"}


def test_volumes_and_claims_may_come_after_the_pods_that_use_them(tmp_path: Path) -> None:
    objects = [o.obj for o in read_manifests([str(MANIFESTS)]).objects]
    # Pods and workloads first, then claims and volumes, in one stream (as `helm template | scan -f -`).
    objects.sort(key=lambda o: o["kind"] in ("PersistentVolume", "PersistentVolumeClaim"))
    (tmp_path / "reversed.yaml").write_text(yaml.safe_dump_all(objects))
    (tmp_path / "dump.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects[::-1]}))
    assert _rows([str(tmp_path / "reversed.yaml")]) == EXPECTED
    assert _rows([str(tmp_path / "dump.json")]) == EXPECTED


def test_objects_held_for_their_claims_are_counted_once() -> None:
    report, _ = scan_files([str(MANIFESTS)], RuleSettings(), None)
    assert report.scanned == {"Deployment": 2, "StatefulSet": 1, "Pod": 2, "DaemonSet": 4, "CronJob": 1}


def test_offline_claims_hold_only_objects_that_use_claims() -> None:
    claims = OfflineClaims("default")
    sources = read_manifests([str(MANIFESTS / "claimed-docker-socket.yaml"),
                              str(MANIFESTS / "windows-docker-pipe.yaml")]).objects
    passed = list(claims.divert(sources))
    assert [s.kind for s in passed] == ["DaemonSet"]
    assert [s.kind for s in claims.held] == ["Deployment"]
    assert claims.index().volume_of("ci", "docker-socket") is not None


@pytest.mark.parametrize("target, namespace", [
    (["pod/log-collector"], "logging"), (["sts/layer-cache"], "cache"), (["deploy/build-runner"], "ci"),
])
def test_explain_says_what_scan_says(target: list[str], namespace: str) -> None:
    explanation, problems = explain_files([str(MANIFESTS)], RuleSettings(), namespace, target)
    assert problems == []
    explained = sorted((f.rule_id, f.host_path, f.evidence, f.reason) for f in explanation.findings)
    report, _ = scan_files([str(MANIFESTS)], RuleSettings(), None)
    scanned = sorted((i.finding.rule_id, i.finding.host_path, i.finding.evidence, i.finding.reason)
                     for i in report.items if i.owner.describe() == explanation.ref.describe())
    assert explained == scanned and explained
