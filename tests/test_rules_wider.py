"""The rules beyond the socket paths: Docker's data directory (DS004), env vars that point a
Docker client at the node (DS005) and the docker CLI or Docker flags in commands and probes
(DS006), each with positive cases, look-alikes that must not match and odd inputs; plus the
registry's order and numbering."""

from __future__ import annotations

from typing import Any

import pytest

from plugin import paths
from plugin.models import Finding
from plugin.podspec import PodSpecView
from plugin.rules import RULES, RULES_BY_ID, RuleSettings, run_rules
from tests.podspecs import container, host_path_volume, mount, pod_spec, socket_spec


def findings(spec: dict, settings: RuleSettings | None = None) -> list[Finding]:
    return run_rules(PodSpecView(spec), settings or RuleSettings())


def of_rule(rule_id: str, spec: dict, settings: RuleSettings | None = None) -> list[Finding]:
    return [f for f in findings(spec, settings) if f.rule_id == rule_id]


def rule_ids(spec: dict, settings: RuleSettings | None = None) -> list[str]:
    return [f.rule_id for f in findings(spec, settings)]


def env(name: str, value: str) -> dict:
    return {"name": name, "value": value}


def field_env(name: str, field_path: str = "status.hostIP") -> dict:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": field_path}}}


def env_spec(*entries: Any, volumes: list[dict] | None = None, mounts: list[dict] | None = None) -> dict:
    """One container `agent` with these env entries and mounts."""
    return pod_spec(volumes, [container("agent", mounts=mounts, env=list(entries))])


def run_spec(mount_path: str = "/host/var/run", host: str = "/var/run", *entries: Any,
             sub_path: str | None = None) -> dict:
    """The Datadog chart's shape: the node's /var/run mounted into the agent, plus env entries."""
    return env_spec(*entries, volumes=[host_path_volume("runtimesocketdir", host)],
                    mounts=[mount("runtimesocketdir", mount_path, sub_path, read_only=True)])


def command_spec(image: str = "alpine:3.20", **fields: Any) -> dict:
    return pod_spec(None, [container("agent", image=image, **fields)])


# DS004 docker-data-directory

@pytest.mark.parametrize("path", [
    "/var/lib/docker", "/var/lib/docker/", "/var/lib/docker/containers", "//var/lib/docker/containers/",
    "/var/lib/docker/volumes", "/var/lib/docker/overlay2", "/var/lib/docker/containers/abc123",
    "/var/lib/./docker/containers",
])
def test_docker_data_directory(path: str) -> None:
    (finding,) = findings(socket_spec(path, "/var/lib/docker"))
    assert (finding.rule_id, finding.rule_name, finding.severity) == ("DS004", "docker-data-directory", "medium")
    assert (finding.container, finding.volume, finding.host_path, finding.mount_path) == (
        "agent", "docker", path, "/var/lib/docker")


def test_container_logs_reason_says_to_switch_to_the_cri_format() -> None:
    reason = findings(socket_spec("/var/lib/docker/containers", "/var/lib/docker/containers"))[0].reason
    assert "JSON" in reason and "/var/log/pods" in reason and "parser to CRI" in reason


@pytest.mark.parametrize("path", ["/var/lib/docker/volumes", "/var/lib/docker"])
def test_data_directory_reason_names_what_containerd_lacks(path: str) -> None:
    reason = findings(socket_spec(path, "/data"))[0].reason
    assert "images" in reason and "volumes" in reason and "containerd" in reason


@pytest.mark.parametrize("path, sub_path, logs", [
    ("/var/lib", "docker/containers", True), ("/var/lib", "docker", False), ("/", "var/lib/docker/volumes", False),
    ("/var", "lib/docker/containers/x", True), ("/var/lib/", "./docker", False),
])
def test_parent_directory_mounted_with_sub_path_is_the_data_directory(path: str, sub_path: str, logs: bool) -> None:
    (finding,) = findings(socket_spec(path, "/var/lib/docker/containers", sub_path))
    assert (finding.rule_id, finding.host_path, finding.sub_path) == ("DS004", path, sub_path)
    assert ("CRI format" in finding.reason) is logs


@pytest.mark.parametrize("path", [
    "/var/lib/docker-registry", "/var/lib/dockershim", "/var/lib/containerd", "/var/log/pods",
    "/var/log/containers", "/var/lib", "/var/log", "/home/user/var/lib/docker", "/var/lib/docker.bak",
    "/var/lib/containers",
])
def test_data_directory_look_alikes(path: str) -> None:
    assert findings(socket_spec(path, "/var/lib/docker")) == []


def test_log_shipper_that_also_reads_var_log_is_reported_once() -> None:
    spec = pod_spec(
        [host_path_volume("varlog", "/var/log"), host_path_volume("dockerlogs", "/var/lib/docker/containers")],
        [container("fluentd", mounts=[mount("varlog", "/var/log"),
                                      mount("dockerlogs", "/var/lib/docker/containers", read_only=True)])])
    (finding,) = findings(spec)
    assert (finding.rule_id, finding.volume, finding.read_only) == ("DS004", "dockerlogs", True)


def test_unmounted_data_directory_is_reported_at_a_lower_severity() -> None:
    spec = pod_spec([host_path_volume("docker", "/var/lib/docker/containers"), host_path_volume("lib", "/var/lib")],
                    [container()])
    (finding,) = findings(spec)
    assert (finding.rule_id, finding.severity, finding.container, finding.volume) == ("DS004", "low", None, "docker")
    assert "no container mounts it" in finding.reason


# DS005 docker-host-env

def test_docker_host_through_a_mounted_run_directory() -> None:
    spec = run_spec("/host/var/run", "/var/run", env("DOCKER_HOST", "unix:///host/var/run/docker.sock"))
    assert rule_ids(spec) == ["DS002", "DS005"]
    (finding,) = of_rule("DS005", spec)
    assert (finding.rule_name, finding.severity, finding.container, finding.volume, finding.host_path,
            finding.mount_path, finding.read_only) == (
        "docker-host-env", "high", "agent", "runtimesocketdir", "/var/run", "/host/var/run", True)
    assert finding.evidence == "DOCKER_HOST=unix:///host/var/run/docker.sock"
    assert "/run/docker.sock" in finding.reason and "/host/var/run" in finding.reason


@pytest.mark.parametrize("name, value", [
    ("DOCKER_CLIENT_ADDRESS", "/var/run/docker.sock"),  # Prisma Cloud Defender
    ("DOCKER_SOCKET", "/var/run/docker.sock"),
    ("DOCKER_SOCK", "/run/docker.sock"),
    ("DOCKER_URL", "unix:///var/run/docker.sock"),
    ("DOCKER_HOST", "unix:///run/docker.sock"),  # /run and /var/run are alike in the container too
    ("DOCKER_HOST", "unix:///var/run/./docker.sock"),
    ("DOCKER_CLIENT_ADDRESS", "unix:///var/run/docker.sock"),
])
def test_endpoint_env_vars(name: str, value: str) -> None:
    (finding,) = of_rule("DS005", run_spec("/var/run", "/var/run", env(name, value)))
    assert finding.evidence == f"{name}={value}"


@pytest.mark.parametrize("name", ["DOCKER_HOST", "DOCKER_URL"])
def test_bare_path_needs_a_scheme_where_docker_needs_one(name: str) -> None:
    assert of_rule("DS005", run_spec("/var/run", "/var/run", env(name, "/var/run/docker.sock"))) == []


@pytest.mark.parametrize("socket, kind", [
    ("dockershim.sock", "dockershim"), ("cri-dockerd.sock", "cri-dockerd"), ("docker.sock", "Docker daemon")])
def test_reason_names_the_socket_behind_the_env_var(socket: str, kind: str) -> None:
    (finding,) = of_rule("DS005", run_spec("/host/run", "/run", env("DOCKER_HOST", f"unix:///host/run/{socket}")))
    assert kind in finding.reason


def test_socket_file_mounted_directly() -> None:
    spec = env_spec(env("DOCKER_HOST", "unix:///var/run/docker.sock"),
                    volumes=[host_path_volume("sock", "/var/run/docker.sock", "Socket")],
                    mounts=[mount("sock", "/var/run/docker.sock")])
    assert rule_ids(spec) == ["DS001", "DS005"]


def test_sub_path_is_part_of_the_host_path() -> None:
    spec = run_spec("/host/run", "/var", env("DOCKER_HOST", "unix:///host/run/docker.sock"), sub_path="run")
    (finding,) = of_rule("DS005", spec)
    assert (finding.host_path, finding.sub_path, finding.mount_path) == ("/var", "run", "/host/run")


def test_host_root_mounted_as_a_whole() -> None:
    spec = env_spec(env("DOCKER_HOST", "unix:///host/var/run/docker.sock"),
                    volumes=[host_path_volume("root", "/")], mounts=[mount("root", "/host")])
    (finding,) = of_rule("DS005", spec)
    assert (finding.volume, finding.host_path) == ("root", "/")


def test_the_longest_mount_path_serves_the_socket() -> None:
    volumes = [host_path_volume("root", "/"), host_path_volume("run", "/var/run")]
    spec = env_spec(env("DOCKER_HOST", "unix:///host/var/run/docker.sock"), volumes=volumes,
                    mounts=[mount("root", "/host"), mount("run", "/host/var/run")])
    (finding,) = of_rule("DS005", spec)
    assert (finding.volume, finding.mount_path) == ("run", "/host/var/run")


def test_an_empty_dir_over_a_host_path_hides_it() -> None:
    volumes = [host_path_volume("root", "/"), {"name": "dind", "emptyDir": {}}]
    spec = env_spec(env("DOCKER_HOST", "unix:///host/var/run/docker.sock"), volumes=volumes,
                    mounts=[mount("root", "/host"), mount("dind", "/host/var/run")])
    assert of_rule("DS005", spec) == []


def test_socket_in_an_empty_dir_shared_with_a_dind_sidecar() -> None:
    spec = pod_spec([{"name": "dind-sock", "emptyDir": {}}], [
        container("build", image="docker:27", mounts=[mount("dind-sock", "/var/run/dind")],
                  env=[env("DOCKER_HOST", "unix:///var/run/dind/docker.sock")], command=["docker", "build", "."]),
        container("dind", image="docker:27-dind", mounts=[mount("dind-sock", "/var/run/dind")],
                  securityContext={"privileged": True}),
    ])
    assert findings(spec) == []


@pytest.mark.parametrize("value", [
    "unix:///hostile/docker.sock",  # /host is not a prefix of /hostile
    "unix:///var/run/docker.sock",  # not under the mount at all
    "unix:///host/var/run/containerd/containerd.sock",
    "unix:///host/var/run/docker.sock.bak",
    "unix://host/var/run/docker.sock",  # relative: not a path Docker accepts
    "npipe:////./pipe/docker_engine",
    "",
])
def test_env_look_alikes(value: str) -> None:
    assert of_rule("DS005", run_spec("/host/var/run", "/var/run", env("DOCKER_HOST", value))) == []


@pytest.mark.parametrize("name", ["CONTAINERD_HOST", "DOCKER_HOST_PATH", "docker_host", "DD_CRI_SOCKET_PATH"])
def test_other_env_var_names_are_not_endpoints(name: str) -> None:
    assert of_rule("DS005", run_spec("/host/var/run", "/var/run", env(name, "unix:///host/var/run/docker.sock"))) == []


def test_only_the_containers_own_mounts_resolve_its_env() -> None:
    spec = pod_spec([host_path_volume("run", "/var/run")], [
        container("mounter", mounts=[mount("run", "/host/var/run")]),
        container("client", env=[env("DOCKER_HOST", "unix:///host/var/run/docker.sock")]),
    ])
    assert of_rule("DS005", spec) == []


def test_extra_socket_path_flag() -> None:
    extra = RuleSettings(extra_socket_paths=(paths.canonical("/var/vcap/sys/run/docker/docker.sock"),))
    spec = run_spec("/host/docker", "/var/vcap/sys/run/docker", env("DOCKER_HOST", "unix:///host/docker/docker.sock"))
    assert [f.reason for f in of_rule("DS005", spec, extra)] == [
        "DOCKER_HOST points the Docker client at a Docker socket location given with --host-path "
        "/var/vcap/sys/run/docker/docker.sock on its node, through the hostPath mount at /host/docker"]
    assert of_rule("DS005", spec) == []


def test_literal_env_vars_are_expanded_in_order() -> None:
    spec = run_spec("/host/var/run", "/var/run", env("SOCKET_DIR", "/host/var/run"),
                    env("DOCKER_HOST", "unix://$(SOCKET_DIR)/docker.sock"))
    (finding,) = of_rule("DS005", spec)
    assert finding.evidence == "DOCKER_HOST=unix://$(SOCKET_DIR)/docker.sock"


@pytest.mark.parametrize("value", [
    "tcp://$(HOST_IP):2375", "tcp://$(HOST_IP):2376", "https://$(HOST_IP):2376", "http://$(HOST_IP):2375/",
    "tcp://$(HOST_IP)",
])
def test_tcp_to_the_nodes_address(value: str) -> None:
    (finding,) = findings(env_spec(field_env("HOST_IP"), env("DOCKER_HOST", value)))
    assert (finding.rule_id, finding.severity, finding.container, finding.volume, finding.mount_path) == (
        "DS005", "high", "agent", None, None)
    assert finding.evidence == f"DOCKER_HOST={value}"


@pytest.mark.parametrize("field_path", ["spec.nodeName", "status.hostIPs"])
def test_other_node_address_fields(field_path: str) -> None:
    assert rule_ids(env_spec(field_env("NODE", field_path), env("DOCKER_HOST", "tcp://$(NODE):2375"))) == ["DS005"]


def test_node_address_through_another_literal_var() -> None:
    spec = env_spec(field_env("HOST_IP"), env("DOCKER_ADDR", "$(HOST_IP):2375"), env("DOCKER_HOST", "tcp://$(DOCKER_ADDR)"))
    assert rule_ids(spec) == ["DS005"]


@pytest.mark.parametrize("entries", [
    [env("DOCKER_HOST", "tcp://localhost:2375")],  # a dind sidecar: the right way to keep Docker
    [env("DOCKER_HOST", "tcp://127.0.0.1:2375")],
    [env("DOCKER_HOST", "tcp://[::1]:2375")],
    [env("DOCKER_HOST", "tcp://docker:2376")],
    [env("DOCKER_HOST", "tcp://10.0.0.7:2375")],
    [env("DOCKER_HOST", "tcp://$(HOST_IP):2375")],  # HOST_IP is not defined
    [env("DOCKER_HOST", "tcp://$(HOST_IP):2375"), field_env("HOST_IP")],  # defined after: not expanded
    [field_env("HOST_IP"), env("DOCKER_HOST", "tcp://$$(HOST_IP):2375")],  # `$$` escapes the reference
    [field_env("POD_IP", "status.podIP"), env("DOCKER_HOST", "tcp://$(POD_IP):2375")],
    [field_env("HOST_IP"), env("HOST_IP", "127.0.0.1"), env("DOCKER_HOST", "tcp://$(HOST_IP):2375")],
    [field_env("HOST_IP"), env("DOCKER_HOST", "ssh://$(HOST_IP)")],
    [field_env("HOST_IP"), env("NOT_DOCKER", "tcp://$(HOST_IP):2375")],
])
def test_tcp_look_alikes(entries: list[dict]) -> None:
    assert findings(env_spec(*entries)) == []


SECRET = {"name": "DOCKER_HOST", "valueFrom": {"secretKeyRef": {"name": "top-secret-docker", "key": "host-key"}}}
CONFIG_MAP = {"name": "DOCKER_SOCK", "valueFrom": {"configMapKeyRef": {"name": "docker-config", "key": "sock"}}}


@pytest.mark.parametrize("entries", [
    [SECRET],
    [CONFIG_MAP],
    [{"name": "SECRET_HOST", "valueFrom": SECRET["valueFrom"]}, env("DOCKER_HOST", "unix://$(SECRET_HOST)")],
    [{"name": "DOCKER_HOST", "value": "unix:///host/var/run/docker.sock", "valueFrom": SECRET["valueFrom"]}],
])
def test_values_from_secrets_and_config_maps_are_never_read(entries: list[dict]) -> None:
    spec = run_spec("/host/var/run", "/var/run", *entries)
    found = findings(spec)
    assert "top-secret-docker" not in repr(found) and "host-key" not in repr(found)
    assert "docker-config" not in repr(found)
    assert all(f.rule_id != "DS005" or f.evidence == "DOCKER_HOST=unix:///host/var/run/docker.sock" for f in found)


def test_every_container_kind_is_walked_for_env() -> None:
    docker_host = [env("DOCKER_HOST", "unix:///host/var/run/docker.sock")]
    spec = pod_spec([host_path_volume("run", "/var/run")], [container("main")],
                    initContainers=[container("init", mounts=[mount("run", "/host/var/run")], env=docker_host)],
                    ephemeralContainers=[container("debug", mounts=[mount("run", "/host/var/run")], env=docker_host)])
    assert [f.container for f in of_rule("DS005", spec)] == ["init", "debug"]


@pytest.mark.parametrize("entries", [
    None, "DOCKER_HOST=unix:///var/run/docker.sock", {"name": "DOCKER_HOST"},
    [None, "x", 42, [], {}, {"value": "unix:///host/var/run/docker.sock"}, {"name": None, "value": "x"},
     {"name": "", "value": "unix:///host/var/run/docker.sock"}, {"name": "DOCKER_HOST"},
     {"name": "DOCKER_HOST", "value": None}, {"name": "DOCKER_HOST", "value": 42},
     {"name": "DOCKER_HOST", "value": ["unix:///host/var/run/docker.sock"]},
     {"name": "DOCKER_HOST", "valueFrom": None}, {"name": "HOST_IP", "valueFrom": {"fieldRef": None}},
     {"name": "HOST_IP", "valueFrom": "status.hostIP"}, {"name": "X", "valueFrom": {"fieldRef": {"fieldPath": 7}}},
     {"name": "DOCKER_HOST", "value": "tcp://$(HOST_IP"}, {"name": "DOCKER_HOST", "value": "tcp://["},
     {"name": "DOCKER_HOST", "value": "tcp://"}, {"name": "DOCKER_HOST", "value": "unix://"}],
])
def test_odd_env_entries_never_crash(entries: object) -> None:
    spec = pod_spec([host_path_volume("run", "/var/run")],
                    [container("agent", mounts=[mount("run", "/host/var/run")], env=entries)])
    assert [f.rule_id for f in findings(spec)] == ["DS002"]


def test_mount_without_mount_path_never_serves_a_socket() -> None:
    spec = pod_spec([host_path_volume("run", "/var/run")],
                    [container("agent", mounts=[{"name": "run", "mountPath": None}, {"name": "run"}],
                               env=[env("DOCKER_HOST", "unix:///var/run/docker.sock")])])
    assert of_rule("DS005", spec) == []


# DS006 docker-cli

@pytest.mark.parametrize("fields, evidence", [
    ({"command": ["docker", "ps"]}, "docker ps"),
    ({"command": ["/usr/local/bin/docker", "info"]}, "/usr/local/bin/docker info"),
    ({"command": ["docker"], "args": ["events", "--format", "{{json .}}"]}, "docker events --format {{json .}}"),
    ({"command": ["docker", "-H", "unix:///host/docker.sock", "stats"]}, "docker -H unix:///host/docker.sock stats"),
    ({"command": ["docker", "--log-level=debug", "inspect", "x"]}, "docker --log-level=debug inspect x"),
    ({"command": ["sudo", "docker", "system", "prune", "-f"]}, "sudo docker system prune -f"),
    ({"command": ["sh", "-c", "docker ps -q | wc -l"]}, "sh -c docker ps -q | wc -l"),
    ({"command": ["/bin/bash", "-ec", "set -x; docker image prune -af && echo ok"]},
     "/bin/bash -ec set -x; docker image prune -af && echo ok"),
    ({"command": ["sh"], "args": ["-c", "while true; do\n  docker stats --no-stream\n  sleep 5\ndone"]},
     "sh -c while true; do docker stats --no-stream sleep 5 done"),
    ({"args": ["-c", "echo start;docker logs -f app"]}, "-c echo start;docker logs -f app"),
    ({"command": ["/sbin/tini", "--", "bash", "-c", "id=$(docker run -d busybox)"]},
     "/sbin/tini -- bash -c id=$(docker run -d busybox)"),
    ({"command": ["sh", "-c", "exec 'docker' version"]}, "sh -c exec 'docker' version"),
    ({"command": ["sh", "-c", "if ! docker info >/dev/null 2>&1; then exit 1; fi"]},
     "sh -c if ! docker info >/dev/null 2>&1; then exit 1; fi"),
    ({"args": ["--docker=unix:///var/run/docker.sock", "--housekeeping_interval=10s"]},  # cAdvisor
     "--docker=unix:///var/run/docker.sock --housekeeping_interval=10s"),
    ({"args": ["--docker=tcp://10.0.0.1:2375"]}, "--docker=tcp://10.0.0.1:2375"),
    ({"args": ["--docker_only"]}, "--docker_only"),
    ({"args": ["--docker_only=true"]}, "--docker_only=true"),
    ({"args": ["-docker_only=1"]}, "-docker_only=1"),
    ({"args": ["--probe.docker=true", "--probe.docker.bridge=docker0"]},  # Weave Scope
     "--probe.docker=true --probe.docker.bridge=docker0"),
    ({"args": ["--probe.docker"]}, "--probe.docker"),
    ({"args": ["--docker-endpoint", "unix:///var/run/docker.sock"]}, "--docker-endpoint unix:///var/run/docker.sock"),
    ({"args": ["--container-runtime-endpoint=unix:///var/run/dockershim.sock"]},
     "--container-runtime-endpoint=unix:///var/run/dockershim.sock"),
    ({"command": ["agent", "--socket", "/host/run/cri-dockerd.sock"]}, "agent --socket /host/run/cri-dockerd.sock"),
    ({"command": ["sh", "-c", "curl --unix-socket /var/run/docker.sock http://localhost/containers/json"]},
     "sh -c curl --unix-socket /var/run/docker.sock http://localhost/containers/json"),
    ({"command": ["watch", "-n", "5", "docker", "ps"]}, "watch -n 5 docker ps"),
    ({"command": ["dumb-init", "docker", "events"]}, "dumb-init docker events"),
    ({"command": ["/sbin/tini", "--", "docker", "ps"]}, "/sbin/tini -- docker ps"),
    ({"command": ["sh", "-c", "echo 'checking'; docker info"]}, "sh -c echo 'checking'; docker info"),
])
def test_docker_cli_in_command_and_args(fields: dict, evidence: str) -> None:
    (finding,) = findings(command_spec(**fields))
    assert (finding.rule_id, finding.rule_name, finding.severity, finding.container) == (
        "DS006", "docker-cli", "medium", "agent")
    assert finding.evidence == evidence
    assert (finding.volume, finding.host_path, finding.mount_path) == (None, None, None)


@pytest.mark.parametrize("probe", ["livenessProbe", "readinessProbe", "startupProbe"])
def test_exec_probes_are_reported_with_their_kind(probe: str) -> None:
    spec = command_spec(command=["agent"], **{probe: {"exec": {"command": ["docker", "ps"]}, "periodSeconds": 10}})
    (finding,) = findings(spec)
    assert (finding.rule_id, finding.evidence) == ("DS006", f"{probe}: docker ps")
    assert finding.reason.startswith(f"its {probe} runs the docker CLI")


def test_command_and_each_probe_are_separate_findings() -> None:
    spec = command_spec(command=["sh", "-c", "docker events"],
                        livenessProbe={"exec": {"command": ["sh", "-c", "docker info"]}},
                        readinessProbe={"httpGet": {"path": "/healthz", "port": 8080}},
                        startupProbe={"exec": {"command": ["docker", "version"]}})
    assert [f.evidence for f in findings(spec)] == [
        "sh -c docker events", "livenessProbe: sh -c docker info", "startupProbe: docker version"]


def test_the_existing_probes_field_still_lists_exec_commands() -> None:
    spec = command_spec(livenessProbe={"exec": {"command": ["docker", "ps"]}},
                        startupProbe={"exec": {"command": ["true"]}})
    (agent,) = PodSpecView(spec).containers
    assert agent.probes == (("docker", "ps"), ("true",))
    assert [(p.kind, p.command) for p in agent.exec_probes] == [("livenessProbe", ("docker", "ps")),
                                                                 ("startupProbe", ("true",))]


@pytest.mark.parametrize("fields", [
    {"command": ["dockerd"]},
    {"command": ["dockerd", "--host=tcp://0.0.0.0:2375"]},
    {"command": ["docker-entrypoint.sh", "postgres"]},
    {"command": ["/usr/local/bin/docker-entrypoint.sh"], "args": ["mysqld"]},
    {"command": ["sh", "-c", "echo docker is gone"]},
    {"command": ["echo", "docker", "is", "gone"]},
    {"args": ["--probe.docker=false"]},
    {"args": ["--probe.docker=0", "--probe.cri=true"]},
    {"args": ["--docker_only=false"]},
    {"command": ["/usr/bin/docker-credential-gcr", "configure-docker"]},
    {"command": ["containerd"]},
    {"command": ["crictl", "ps"]},
    {"command": ["nerdctl", "ps"]},
    {"command": ["sh", "-c", "crictl ps; nerdctl images | grep docker"]},
    {"command": ["docker", "--version"]},
    {"command": ["docker", "login", "-u", "me"]},
    {"command": ["docker"]},
    {"command": ["docker-compose", "ps"]},
    {"command": ["mydocker", "ps"]},
    {"args": ["--containerd=/run/containerd/containerd.sock"]},
    {"args": ["--config=/etc/docker.sock.conf", "/backup/docker.sock.bak", "my-docker.sock"]},
    {"args": ["--docker-registry=registry.example.com"]},
    {"command": ["run", "-c", "docker ps"]},  # -c of a program that is not a shell: not a script
    # Observed: text that only mentions the CLI, printed or written, was a finding.
    {"command": ["sh", "-c", "echo 'hint: run docker ps to debug'; sleep 3600"]},
    {"command": ["sh", "-c", "printf '%s\\n' \"docker logs x\"; exec app"]},
    {"command": ["sh", "-c", 'echo "docker ps" > /tmp/hint && cat /tmp/hint']},
    {"command": ["echo", "docker", "ps"]},
    {"command": ["sh", "-c", "# docker ps was here\nexec app"]},
    {"livenessProbe": {"exec": {"command": ["crictl", "info"]}}},
    {"readinessProbe": {"httpGet": {"path": "/docker/ps", "port": 80}}},
])
def test_docker_cli_look_alikes(fields: dict) -> None:
    assert findings(command_spec(**fields)) == []


@pytest.mark.parametrize("image", ["docker:27-dind", "docker:dind", "docker:27.3-dind-rootless",
                                   "summerwind/actions-runner-dind:latest"])
def test_a_dind_container_talks_to_its_own_daemon(image: str) -> None:
    spec = command_spec(image, args=["--host=unix:///var/run/docker.sock", "--host=tcp://0.0.0.0:2375"],
                        livenessProbe={"exec": {"command": ["docker", "info"]}})
    assert findings(spec) == []


@pytest.mark.parametrize("image, args", [
    # Docker's own image (its default variant is dind) started with dockerd's options or none:
    # its entrypoint, dockerd-entrypoint.sh, runs dockerd. Tekton's dind example does this.
    ("docker:27", ["--storage-driver=vfs", "--userland-proxy=false"]),
    ("mirror.gcr.io/library/docker@sha256:0752ca4e936da012c173c119217c0f9599b3b191c1557e53206d5d06d2627580",
     ["--storage-driver=vfs"]),
    ("docker.io/library/docker:latest", []),
])
def test_dockers_own_image_run_as_its_daemon_talks_to_itself(image: str, args: list[str]) -> None:
    spec = command_spec(image, args=args, readinessProbe={"exec": {"command": ["docker", "info"]}})
    assert findings(spec) == []


@pytest.mark.parametrize("image, fields", [
    ("docker:27-cli", {"args": ["--version"]}),  # the cli variant's entrypoint runs the CLI
    ("docker:27", {"command": ["docker", "ps"]}),  # a command of its own: the CLI
    ("mycorp/docker:1", {"args": ["--debug"]}),  # not Docker's image
])
def test_docker_images_that_run_the_cli_are_not_a_daemon(image: str, fields: dict) -> None:
    spec = command_spec(image, readinessProbe={"exec": {"command": ["docker", "info"]}}, **fields)
    assert rule_ids(spec) and set(rule_ids(spec)) == {"DS006"}


@pytest.mark.parametrize("docker_host", ["127.0.0.1", "localhost:2375", "docker:2376"])
def test_a_docker_host_without_a_scheme_is_a_tcp_address_elsewhere(docker_host: str) -> None:
    # The docker CLI reads a bare host as tcp://HOST (Argo's sidecar-dind example sets 127.0.0.1).
    spec = command_spec("docker:19.03.13", command=["sh", "-c"], args=["until docker ps; do sleep 3; done"],
                        env=[env("DOCKER_HOST", docker_host)])
    assert findings(spec) == []


def test_a_bare_docker_host_on_the_hosts_network_is_still_the_node() -> None:
    spec = command_spec("docker:27", command=["docker", "ps"], env=[env("DOCKER_HOST", "127.0.0.1")])
    spec["hostNetwork"] = True
    assert rule_ids(spec) == ["DS006"]


def test_a_script_that_starts_dockerd_talks_to_its_own_daemon() -> None:
    spec = command_spec("ubuntu:24.04", command=["bash", "-c", "dockerd & sleep 5; docker build -t x ."])
    assert findings(spec) == []


@pytest.mark.parametrize("docker_host", [
    "tcp://localhost:2375", "tcp://127.0.0.1:2376", "tcp://docker:2376",
])
def test_a_docker_host_elsewhere_is_not_the_nodes_daemon(docker_host: str) -> None:
    spec = command_spec("docker:27", command=["sh", "-c", "docker build -t app . && docker push app"],
                        env=[env("DOCKER_HOST", docker_host)])
    assert findings(spec) == []


def test_docker_host_from_the_node_is_reported_by_both_rules() -> None:
    spec = command_spec("docker:27", command=["docker", "ps"],
                        env=[field_env("HOST_IP"), env("DOCKER_HOST", "tcp://$(HOST_IP):2375")])
    assert rule_ids(spec) == ["DS005", "DS006"]


@pytest.mark.parametrize("docker_host", [
    [SECRET],  # unknown: cannot tell where it points
    [env("DOCKER_HOST", "tcp://$(UNKNOWN):2375")],
    [env("DOCKER_HOST", "unix:///host/run/other.sock")],  # on the node, but not a known socket
])
def test_a_docker_host_that_may_be_the_node_keeps_the_cli_finding(docker_host: list[dict]) -> None:
    spec = pod_spec([host_path_volume("run", "/run")],
                    [container("agent", command=["docker", "ps"], env=docker_host, mounts=[mount("run", "/host/run")])])
    assert rule_ids(spec) == ["DS002", "DS006"]


def test_long_scripts_are_shortened_around_the_match() -> None:
    script = "set -eu; " + "echo waiting for the world to settle; " * 10 + "docker ps --format '{{.Names}}'; sleep 1"
    (finding,) = findings(command_spec(command=["sh", "-c", script]))
    assert finding.evidence is not None and len(finding.evidence) <= 120
    assert "docker ps" in finding.evidence and finding.evidence.startswith("...")


def test_long_commands_keep_their_start_when_the_match_is_early() -> None:
    (finding,) = findings(command_spec(command=["docker", "run", "--rm"] + ["--env=A=" + "x" * 40] * 5))
    assert finding.evidence is not None and len(finding.evidence) == 120
    assert finding.evidence.startswith("docker run --rm") and finding.evidence.endswith("...")


def test_long_probe_evidence_keeps_the_probe_kind() -> None:
    probe = {"exec": {"command": ["sh", "-c", "true; " * 40 + "docker info"]}}
    (finding,) = findings(command_spec(command=["agent"], livenessProbe=probe))
    assert finding.evidence is not None and finding.evidence.startswith("livenessProbe: ...")
    assert finding.evidence.endswith("docker info") and len(finding.evidence) <= 120


@pytest.mark.parametrize("fields", [
    {"command": "docker ps"},
    {"command": None, "args": None},
    {"command": [None, {"docker": "ps"}, ["docker", "ps"]]},
    {"args": [1, 2.5, True, None]},
    {"args": ["-c"]},
    {"command": ["sh", "-c"]},
    {"command": ["sh", "-c", ""]},
    {"livenessProbe": {"exec": {"command": "docker ps"}}},
    {"livenessProbe": {"exec": None}},
    {"livenessProbe": "docker ps"},
    {"startupProbe": {"exec": {"command": [None, 7]}}},
    {"image": None, "command": ["docker", "info"]},
    {"image": 42},
])
def test_odd_commands_never_crash(fields: dict) -> None:
    spec = pod_spec(None, [{"name": "agent", **fields}])
    found = findings(spec)
    assert all(f.rule_id == "DS006" for f in found)
    assert len(found) == (1 if fields.get("command") == ["docker", "info"] else 0)


def test_non_string_args_around_a_docker_command_are_skipped() -> None:
    (finding,) = findings(command_spec(command=["docker"], args=[None, "ps", {"a": 1}]))
    assert finding.evidence == "docker ps"


# The registry

def test_rule_ids_are_unique_and_sequential() -> None:
    assert [r.id for r in RULES] == [f"DS{n:03d}" for n in range(1, len(RULES) + 1)]
    assert [r.id for r in RULES][:6] == ["DS001", "DS002", "DS003", "DS004", "DS005", "DS006"]
    assert len({r.name for r in RULES}) == len(RULES)
    assert all(r.summary and "\n" not in r.summary for r in RULES)
    assert [(r.name, r.severity) for r in RULES[3:6]] == [
        ("docker-data-directory", "medium"), ("docker-host-env", "high"), ("docker-cli", "medium")]
    assert RULES_BY_ID["DS005"] is RULES[4]


def test_run_rules_returns_findings_in_rule_order() -> None:
    # A Datadog-style agent that trips every rule; the spec lists them in reverse.
    spec = pod_spec(
        [host_path_volume("logs", "/var/lib/docker/containers"), host_path_volume("root", "/"),
         host_path_volume("run", "/var/run"), host_path_volume("sock", "/var/run/docker.sock")],
        [container("agent", command=["docker", "ps"],
                   env=[env("DOCKER_HOST", "unix:///host/var/run/docker.sock")],
                   mounts=[mount("logs", "/var/lib/docker/containers"), mount("root", "/host/root"),
                           mount("run", "/host/var/run"), mount("sock", "/var/run/docker.sock")])])
    assert rule_ids(spec) == ["DS001", "DS002", "DS003", "DS004", "DS005", "DS006"]
    view = PodSpecView(spec)
    subset = (RULES_BY_ID["DS006"], RULES_BY_ID["DS001"])
    assert [f.rule_id for f in run_rules(view, RuleSettings(), subset)] == ["DS006", "DS001"]
