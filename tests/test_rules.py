"""The detection rules and the path handling they rely on: every rule with positive cases and
look-alikes that must not match."""

from __future__ import annotations

import pytest

from plugin import paths
from plugin.podspec import PodSpecView
from plugin.rules import RULES, RULES_BY_ID, RuleSettings, run_rules
from tests.podspecs import container, host_path_volume, mount, pod_spec, socket_spec


def findings(spec: dict, settings: RuleSettings | None = None):
    return run_rules(PodSpecView(spec), settings or RuleSettings())


def rule_ids(spec: dict, settings: RuleSettings | None = None) -> list[str]:
    return [f.rule_id for f in findings(spec, settings)]


@pytest.mark.parametrize("raw, normal", [
    ("/var/run/docker.sock", "/var/run/docker.sock"),
    ("//var//run/./docker.sock/", "/var/run/docker.sock"),
    ("/var/lib/../run/docker.sock", "/var/run/docker.sock"),
    ("/../..//", "/"),
    ("var/run", "/var/run"),
    ("/", "/"),
])
def test_normalize(raw: str, normal: str) -> None:
    assert paths.normalize(raw) == normal


def test_canonical_treats_var_run_as_run_but_not_look_alikes() -> None:
    assert paths.canonical("/var/run/docker.sock") == "/run/docker.sock"
    assert paths.canonical("/var/run") == "/run"
    assert paths.canonical("/var/run-data") == "/var/run-data"
    assert paths.canonical("/var/runner/x") == "/var/runner/x"


@pytest.mark.parametrize("path", [
    "/var/run/docker.sock", "/run/docker.sock", "/var/run/dockershim.sock", "/run/dockershim.sock",
    "/var/run/cri-dockerd.sock", "/run/cri-dockerd.sock", "//var/run/./docker.sock/",
    "/var/lib/../run/docker.sock", "/var/run/docker.sock/",
])
def test_docker_socket_paths(path: str) -> None:
    (finding,) = findings(socket_spec(path))
    assert (finding.rule_id, finding.severity) == ("DS001", "high")
    assert (finding.container, finding.volume, finding.host_path, finding.mount_path) == (
        "agent", "docker", path, "/var/run/docker.sock")


def test_reason_names_the_socket_kind() -> None:
    assert "dockershim" in findings(socket_spec("/var/run/dockershim.sock"))[0].reason
    assert "cri-dockerd" in findings(socket_spec("/run/cri-dockerd.sock"))[0].reason
    assert "Docker daemon" in findings(socket_spec("/var/run/docker.sock"))[0].reason


@pytest.mark.parametrize("path, sub_path", [
    ("/var/run", "docker.sock"), ("/run", "docker.sock"), ("/var", "run/docker.sock"),
    ("/", "var/run/docker.sock"), ("/var/run/", "./docker.sock"),
])
def test_parent_directory_mounted_with_sub_path_is_the_socket(path: str, sub_path: str) -> None:
    (finding,) = findings(socket_spec(path, "/var/run/docker.sock", sub_path))
    assert finding.rule_id == "DS001"
    assert finding.sub_path == sub_path


@pytest.mark.parametrize("path", ["/var/run", "/run", "/var", "/var/run/docker", "/run/docker",
                                  "/var/run/", "//run"])
def test_socket_directories(path: str) -> None:
    (finding,) = findings(socket_spec(path, "/host/var/run"))
    assert (finding.rule_id, finding.severity, finding.mount_path) == ("DS002", "medium", "/host/var/run")
    assert paths.canonical(path) in finding.reason


def test_sub_path_into_a_docker_subdirectory_is_the_directory_rule() -> None:
    assert rule_ids(socket_spec("/var/run", "/host/docker", "docker")) == ["DS002"]


@pytest.mark.parametrize("path", ["/", "//", "/.", "/var/.."])
def test_host_root_is_a_weak_signal(path: str) -> None:
    (finding,) = findings(socket_spec(path, "/host/root"))
    assert (finding.rule_id, finding.rule_name, finding.severity) == ("DS003", "host-root", "low")


@pytest.mark.parametrize("spec", [
    pod_spec([{"name": "docker-sock", "emptyDir": {}}],
             [container(mounts=[mount("docker-sock", "/var/run/docker.sock")])]),
    pod_spec([{"name": "docker-sock", "configMap": {"name": "docker-sock"}}],
             [container(mounts=[mount("docker-sock", "/var/run/docker.sock")])]),
    socket_spec("/run/containerd/containerd.sock"),
    socket_spec("/var/run/containerd/containerd.sock"),
    socket_spec("/var/log/pods"),
    socket_spec("/var/run-data"),
    socket_spec("/var/lib/docker-registry"),
    socket_spec("/var/run/docker.sock.bak"),
    socket_spec("/home/user/var/run/docker.sock"),
    socket_spec("/runner"),
    socket_spec("/var/run", "/host/containerd", "containerd"),
    socket_spec("/var/run", "/host/crio.sock", "crio/crio.sock"),
    socket_spec("/var/run/crio/crio.sock"),
    pod_spec(None, [container()]),
], ids=lambda s: str(s.get("volumes"))[:70])
def test_look_alikes_are_not_findings(spec: dict) -> None:
    assert findings(spec) == []


def test_unmounted_volume_is_reported_at_a_lower_severity() -> None:
    spec = pod_spec([host_path_volume("sock", "/var/run/docker.sock"), host_path_volume("run", "/run")],
                    [container()])
    by_rule = {f.rule_id: f for f in findings(spec)}
    assert by_rule["DS001"].severity == "medium" and by_rule["DS001"].container is None
    assert "no container mounts it" in by_rule["DS001"].reason
    assert by_rule["DS002"].severity == "low"


def test_every_container_kind_is_walked() -> None:
    spec = pod_spec(
        [host_path_volume("sock", "/var/run/docker.sock")],
        [container("main")],
        initContainers=[container("init", mounts=[mount("sock", "/s")])],
        ephemeralContainers=[container("debugger", mounts=[mount("sock", "/d", read_only=True)])],
    )
    found = findings(spec)
    assert [(f.container, f.mount_path, f.read_only) for f in found] == [
        ("init", "/s", False), ("debugger", "/d", True)]


def test_one_finding_per_container_mount() -> None:
    spec = pod_spec([host_path_volume("sock", "/var/run/docker.sock")],
                    [container("a", mounts=[mount("sock", "/a")]), container("b", mounts=[mount("sock", "/b")])])
    assert [(f.container, f.mount_path) for f in findings(spec)] == [("a", "/a"), ("b", "/b")]


@pytest.mark.parametrize("spec", [
    {"volumes": None, "containers": None},
    {"volumes": [None, "x", {"name": "v", "hostPath": None}, {"name": "w", "hostPath": {}}],
     "containers": [None, {"name": "c", "volumeMounts": None}]},
    {"volumes": [{"name": "v", "hostPath": {"path": 42}}], "containers": "nonsense"},
    {"volumes": {"not": "a list"}},
    {},
])
def test_odd_specs_never_crash(spec: dict) -> None:
    assert findings(spec) == []


def test_extra_host_path_flag() -> None:
    extra = RuleSettings(extra_socket_paths=(paths.canonical("/var/vcap/sys/run/docker/docker.sock"),))
    assert rule_ids(socket_spec("/var/vcap/sys/run/docker/docker.sock"), extra) == ["DS001"]
    assert rule_ids(socket_spec("/var/vcap/sys/run/docker", "/d"), extra) == ["DS002"]
    assert rule_ids(socket_spec("/var/vcap/sys/run/docker/docker.sock")) == []


def test_rule_registry_is_consistent() -> None:
    assert len({r.id for r in RULES}) == len(RULES) == len({r.name for r in RULES})
    assert all(r.severity in ("high", "medium", "low", "info") for r in RULES)
    assert RULES_BY_ID["DS001"].name == "docker-socket"
