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


# --- Windows nodes: Docker's named pipe and data root, spelled as Windows manifests spell them ---

PIPE_SPELLINGS = [
    "\\\\.\\pipe\\docker_engine", "//./pipe/docker_engine", "\\\\\\\\.\\\\pipe\\\\docker_engine",
    "\\\\.\\PIPE\\Docker_Engine", "//./pipe/docker_engine/", "\\\\.\\pipe\\\\docker_engine\\",
    "\\/./pipe/docker_engine",
]


@pytest.mark.parametrize("path", PIPE_SPELLINGS)
def test_windows_docker_pipe_in_every_spelling(path: str) -> None:
    assert paths.canonical(path) == "//./pipe/docker_engine"
    (finding,) = findings(socket_spec(path, "\\\\.\\pipe\\docker_engine"))
    assert (finding.rule_id, finding.severity, finding.host_path) == ("DS001", "high", path)
    # The reason names the pipe as written, normalized: backslashes, no doubled or trailing separator.
    assert f"named pipe {paths.normalize(path)}:" in finding.reason and "Windows node" in finding.reason
    assert paths.normalize(path).lower() == "\\\\.\\pipe\\docker_engine"


@pytest.mark.parametrize("path, reason", [
    ("\\\\.\\pipe\\dockershim", "dockershim"), ("//./pipe/cri-dockerd", "cri-dockerd"),
])
def test_windows_dockershim_and_cri_dockerd_pipes(path: str, reason: str) -> None:
    (finding,) = findings(socket_spec(path, path))
    assert finding.rule_id == "DS001" and reason in finding.reason


@pytest.mark.parametrize("path, sub_path, rule, kind", [
    ("C:\\ProgramData\\docker", None, "DS004", "data root"),
    ("c:/programdata/docker/", None, "DS004", "data root"),
    ("C:\\\\ProgramData\\\\Docker\\\\containers", None, "DS004", "container logs"),
    ("C:\\ProgramData", "docker\\containers", "DS004", "container logs"),
    ("C:\\ProgramData\\docker\\image", None, "DS004", "part of Docker's images"),
    ("\\\\?\\C:\\ProgramData\\docker", None, "DS004", "data root"),
    ("C:\\ProgramData\\docker\\config", None, "DS007", "configuration on Windows"),
    ("C:/ProgramData/docker/certs.d/registry.example.com", None, "DS007", "configuration on Windows"),
])
def test_windows_docker_directories(path: str, sub_path: str | None, rule: str, kind: str) -> None:
    (finding,) = findings(socket_spec(path, "C:\\d", sub_path))
    assert finding.rule_id == rule and kind in finding.reason


@pytest.mark.parametrize("path", [
    "\\\\.\\pipe\\containerd-containerd", "//./pipe/containerd-containerd", "C:\\ProgramData\\containerd",
    "C:\\ProgramData\\docker-desktop", "C:\\ProgramData", "C:\\", "C:\\var\\log\\pods", "\\\\.\\pipe\\docker_engine2",
    "D:\\docker", "\\\\server\\share\\docker_engine", "/pipe/docker_engine",
])
def test_windows_look_alikes(path: str) -> None:
    assert findings(socket_spec(path, "C:\\x")) == []


def test_posix_paths_that_start_with_two_slashes_stay_posix() -> None:
    assert not paths.is_windows("//var/run/docker.sock")
    assert paths.canonical("//./var/run/docker.sock") == "/run/docker.sock"
    assert paths.normalize("C:/ProgramData//docker/") == "C:\\ProgramData\\docker"
    assert paths.is_within("c:/programdata/docker", "c:/")


@pytest.mark.parametrize("value", ["npipe:////./pipe/docker_engine", "npipe://./pipe/docker_engine", "npipe://"])
def test_docker_host_at_the_named_pipe(value: str) -> None:
    spec = pod_spec([host_path_volume("pipe", "\\\\.\\pipe\\docker_engine")],
                    [container("agent", mounts=[mount("pipe", "\\\\.\\pipe\\docker_engine")],
                               env=[{"name": "DOCKER_HOST", "value": value}])])
    assert [f.rule_id for f in findings(spec)] == ["DS001", "DS005"]
    assert "named pipe" in findings(spec)[1].reason


def test_docker_host_at_containerds_pipe_is_not_docker() -> None:
    spec = pod_spec([host_path_volume("pipe", "\\\\.\\pipe\\containerd-containerd")],
                    [container("agent", mounts=[mount("pipe", "\\\\.\\pipe\\containerd-containerd")],
                               env=[{"name": "DOCKER_HOST", "value": "npipe:////./pipe/containerd-containerd"}])])
    assert findings(spec) == []


def test_the_windows_docker_cli() -> None:
    spec = pod_spec(None, [container("ci", command=["C:\\docker\\docker.exe", "ps"])])
    assert rule_ids(spec) == ["DS006"]


# --- DS007: the Docker daemon's configuration ---

@pytest.mark.parametrize("path, sub_path", [
    ("/etc/docker", None), ("/etc/docker/", None), ("/etc/docker/daemon.json", None), ("/etc/docker/certs.d", None),
    ("/etc", "docker"), ("/etc", "docker/certs.d/registry.example.com:5000"), ("//etc/./docker", None),
])
def test_docker_config_directory(path: str, sub_path: str | None) -> None:
    (finding,) = findings(socket_spec(path, "/host/etc/docker", sub_path))
    assert (finding.rule_id, finding.rule_name, finding.severity) == ("DS007", "docker-config-directory", "medium")
    assert "daemon.json" in finding.reason and "/etc/containerd" in finding.reason


@pytest.mark.parametrize("path, sub_path", [
    ("/etc/containerd", None), ("/etc", None), ("/etc/docker-ce", None), ("/etc/dockerd", None),
    ("/etc/docker/registry", None), ("/etc/docker", "registry/config.yml"), ("/etc/containers", None),
    ("/root/.docker", None),
])
def test_docker_config_look_alikes(path: str, sub_path: str | None) -> None:
    assert of_rule_ids(socket_spec(path, "/x", sub_path), "DS007") == []


def test_docker_config_declared_but_not_mounted_is_lower() -> None:
    (finding,) = findings(pod_spec([host_path_volume("conf", "/etc/docker")], [container("c")]))
    assert (finding.rule_id, finding.severity, finding.container) == ("DS007", "low", None)


def of_rule_ids(spec: dict, rule_id: str) -> list[str]:
    return [f.rule_id for f in findings(spec) if f.rule_id == rule_id]


# --- DS008: the node's own docker, through nsenter, chroot or its systemd ---

ROOT_AT_HOST = [host_path_volume("host", "/")]


def host_spec(command: list[str], volumes: list[dict] | None = None, mounts: list[dict] | None = None,
              **extra) -> dict:
    return pod_spec(volumes, [container("setup", mounts=mounts, command=command)], **extra)


def ds008(spec: dict) -> list[tuple[str, str]]:
    return [(f.evidence or "", f.reason) for f in findings(spec) if f.rule_id == "DS008"]


@pytest.mark.parametrize("command, phrase", [
    (["nsenter", "-t", "1", "-m", "-u", "-n", "-i", "docker", "ps"], "(`docker ps`) through `nsenter -t 1 -m -u -n -i`"),
    (["nsenter", "--target", "1", "--mount", "--", "docker", "info"], "`docker info`"),
    (["nsenter", "--target=1", "-a", "--", "/usr/bin/docker", "-H", "unix:///run/docker.sock", "ps"], "`/usr/bin/"),
    (["nsenter", "-t1", "-m", "sudo", "docker", "restart", "x"], "`docker restart`"),
    (["nsenter", "--mount=/proc/1/ns/mnt", "--", "docker", "ps"], "`docker ps`"),
    (["sh", "-c", "nsenter -t 1 -m -u -n -i -- sh -c 'docker ps -q | wc -l'"], "`docker ps`"),
    (["/bin/bash", "-ec", "exec nsenter -t 1 -m -- bash -c \"systemctl restart docker\""],
     "Docker service (`systemctl restart docker`)"),
    (["nsenter", "-t", "1", "-m", "--", "systemctl", "--no-block", "restart", "docker.service"], "docker.service`"),
    (["nsenter", "-t", "1", "-m", "--", "service", "docker", "restart"], "(`service docker restart`)"),
    (["nsenter", "-t", "1", "-m", "--", "/etc/init.d/docker", "restart"], "(`/etc/init.d/docker restart`)"),
    (["nsenter", "-t", "1", "-m", "--", "systemctl", "stop", "cri-docker.socket"], "cri-docker.socket"),
])
def test_nsenter_into_the_nodes_namespaces(command: list[str], phrase: str) -> None:
    ((evidence, reason),) = ds008(host_spec(command, hostPID=True))
    assert phrase in reason and "node" in reason
    assert findings(host_spec(command, hostPID=True))[0].severity == "high"
    # Without the node's PIDs, pid 1 is the pod's own: that is no way to the node.
    assert ds008(host_spec(command)) == []


def test_nsenter_through_the_nodes_proc_on_a_host_path() -> None:
    spec = host_spec(["nsenter", "--mount=/host/proc/1/ns/mnt", "--", "docker", "ps"],
                     [host_path_volume("proc", "/proc")], [mount("proc", "/host/proc")])
    assert len(ds008(spec)) == 1
    spec = host_spec(["nsenter", "--mount=/host/proc/1/ns/mnt", "--", "docker", "ps"],
                     [host_path_volume("proc", "/srv/proc")], [mount("proc", "/host/proc")])
    assert ds008(spec) == []


@pytest.mark.parametrize("command", [
    ["chroot", "/host", "docker", "ps"],
    ["chroot", "/host/", "/usr/bin/docker", "image", "prune", "-af"],
    ["sh", "-c", "set -e; chroot /host systemctl restart docker"],
    ["sh", "-c", "chroot --userspec root:root /host sh -c 'docker system prune -f'"],
    ["/bin/sh", "-c", "if chroot /host systemctl is-active --quiet docker; then echo ok; fi"],
])
def test_chroot_into_the_nodes_root(command: list[str]) -> None:
    spec = host_spec(command, ROOT_AT_HOST, [mount("host", "/host")])
    assert len(ds008(spec)) == 1
    assert ds008(host_spec(command)) == []  # /host is the image's own directory
    assert ds008(host_spec(command, [host_path_volume("host", "/srv")], [mount("host", "/host")])) == []


def test_systemctl_over_the_nodes_systemd_socket() -> None:
    command = ["systemctl", "restart", "docker"]
    for volume, mount_path in (("/run/systemd", "/run/systemd"), ("/var/run/dbus", "/var/run/dbus"),
                               ("/run", "/run")):
        spec = host_spec(command, [host_path_volume("sd", volume)], [mount("sd", mount_path)])
        ((_, reason),) = ds008(spec)
        assert "through the node's systemd" in reason
    assert ds008(host_spec(command)) == []  # the container's own systemctl: nothing to reach
    assert ds008(host_spec(command, [host_path_volume("sd", "/run/systemd")], [mount("sd", "/host/run/systemd")])) == []


@pytest.mark.parametrize("command", [
    ["nsenter", "-t", "1", "-m", "--", "systemctl", "restart", "containerd"],
    ["nsenter", "-t", "1", "-m", "--", "ctr", "-n", "k8s.io", "containers", "ls"],
    ["nsenter", "-t", "1", "-m", "--", "crictl", "ps"],
    ["nsenter", "-t", "1", "-m", "--", "docker", "--version"],
    ["nsenter", "-t", "1", "-m", "--", "systemctl", "daemon-reload"],
    ["nsenter", "-t", "1", "-m", "--", "journalctl", "-u", "containerd"],
    ["nsenter", "-t", "1", "-m", "--", "cat", "/etc/docker/daemon.json"],
    ["nsenter", "-t", "1", "-m", "--", "systemctl", "restart", "dockerd-exporter"],
    ["sh", "-c", "echo 'nsenter -t 1 -m -- systemctl restart docker'"],
    ["sh", "-c", "echo \"remember to run: chroot /host systemctl restart docker\" >&2"],
    ["sh", "-c", "# nsenter -t 1 -m -- systemctl restart docker\nsleep infinity"],
    ["sh", "-c", "grep -q docker /proc/1/cgroup && nsenter -t 1 -m -- crictl ps"],
    ["nsenter", "-t", "1", "-m"],
    ["chroot", "/host"],
    ["chroot", "/host", "crictl", "ps"],
])
def test_host_commands_that_are_not_docker(command: list[str]) -> None:
    spec = host_spec(command, ROOT_AT_HOST, [mount("host", "/host")], hostPID=True)
    assert ds008(spec) == []


def test_the_node_entry_is_read_in_exec_probes_too() -> None:
    probe = {"exec": {"command": ["nsenter", "-t", "1", "-m", "--", "docker", "info"]}, "periodSeconds": 60}
    spec = pod_spec(None, [container("watch", livenessProbe=probe)], hostPID=True)
    (finding,) = [f for f in findings(spec) if f.rule_id == "DS008"]
    assert finding.evidence.startswith("livenessProbe: nsenter") and finding.reason.startswith("its livenessProbe ")


def test_the_nodes_docker_is_reported_once_as_ds008_not_also_as_ds006() -> None:
    spec = host_spec(["nsenter", "-t", "1", "-m", "--", "docker", "ps"], hostPID=True)
    assert rule_ids(spec) == ["DS008"]
    # Without hostPID the same command is the pod's own docker CLI: DS006, as before.
    assert rule_ids(host_spec(["nsenter", "-t", "1", "-m", "--", "docker", "ps"])) == ["DS006"]


def test_an_unclosed_quote_is_still_read() -> None:
    spec = host_spec(["sh", "-c", "nsenter -t 1 -m -- docker ps 'unclosed"], hostPID=True)
    assert len(ds008(spec)) == 1
