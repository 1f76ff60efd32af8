"""The node probe on generated host trees under tmp_path: each kind of evidence (systemd units, cron
and the scripts it calls, kubelet flags and config, agent configurations, Docker's settings) is
reported with its evidence and advice, the clean look-alikes next to them are not, and hostile
files (huge, binary, FIFOs, links out of the root) are skipped with a warning, never read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from plugin.cli import main
from plugin.printers.probe import probe_document, report_from_document
from plugin.probe.collect import ProbeOptions, collect
from plugin.probe.findings import HostFinding, ProbeReport
from plugin.probe.hostfs import HostRoot, Limits
from plugin.probe.processes import docker_sockets, unit_of
from plugin.probe.shell import docker_invocation
from plugin.probe.sockdiag import UnixSocket


def write(root: Path, path: str, text: str, mode: int = 0o644) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)
    return target


def no_sockets() -> list[UnixSocket]:
    return []


def probe(root: Path, **options: object) -> ProbeReport:
    return collect(ProbeOptions(root=str(root), **options), socket_table=no_sockets)  # type: ignore[arg-type]


def at(report: ProbeReport, path: str) -> list[HostFinding]:
    return [f for f in report.findings if f.path == path]


def test_units_that_need_docker_and_look_alikes(tmp_path: Path) -> None:
    write(tmp_path, "/etc/systemd/system/backup.service",
          "[Unit]\nRequires=docker.service\nAfter=network.target docker.service\n[Service]\nExecStart=/opt/backup.sh\n")
    write(tmp_path, "/opt/backup.sh", "#!/bin/sh\n# docker ps would list them\nset -e\nsudo -u root docker save app > /b\n")
    write(tmp_path, "/lib/systemd/system/registry.service",
          "[Service]\nExecStartPre=-/usr/bin/docker pull registry:2\nExecStart=/usr/bin/docker run --rm registry:2\n")
    write(tmp_path, "/etc/systemd/system/agent.service.d/10-docker.conf", "[Unit]\nBindsTo=docker.socket\n")
    # look-alikes: the runtime's own units, a unit needing containerd, paths that only mention docker
    write(tmp_path, "/lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/bin/dockerd -H fd://\n")
    write(tmp_path, "/lib/systemd/system/containerd.service", "[Service]\nExecStart=/usr/bin/containerd\n")
    write(tmp_path, "/etc/systemd/system/kubelet-helper.service",
          "[Unit]\nRequires=containerd.service\nAfter=containerd.service\n# Requires=docker.service\n"
          "[Service]\nExecStart=/usr/bin/crictl ps\nExecStop=/bin/sh -c 'du -sh /var/lib/docker; echo docker ps'\n")
    (tmp_path / "etc/systemd/system/masked.service").symlink_to("/dev/null")

    report = probe(tmp_path)
    backup = at(report, "/etc/systemd/system/backup.service")
    assert [(f.kind, f.evidence, f.severity, f.unit) for f in backup] == [
        ("systemd-unit", "Requires=docker.service", "high", "backup.service"),
        ("systemd-unit", "After=docker.service", "low", "backup.service")]
    script = at(report, "/opt/backup.sh")
    assert [(f.kind, f.evidence, f.unit) for f in script] == [
        ("script", "line 4: runs `docker save` (called from /etc/systemd/system/backup.service)", "backup.service")]
    registry = at(report, "/lib/systemd/system/registry.service")
    assert sorted(f.evidence for f in registry) == ["runs `/usr/bin/docker pull`", "runs `/usr/bin/docker run`"]
    assert all("crictl" in f.advice or "docker" in f.advice for f in registry)
    assert [f.evidence for f in at(report, "/etc/systemd/system/agent.service.d/10-docker.conf")] == [
        "BindsTo=docker.socket"]
    for clean in ("/lib/systemd/system/docker.service", "/lib/systemd/system/containerd.service",
                  "/etc/systemd/system/kubelet-helper.service"):
        assert at(report, clean) == [], clean
    assert report.warnings == ("processes were not inspected: no readable proc under " + str(tmp_path),)
    assert not report.processes_inspected


def test_cron_entries_and_the_scripts_they_call(tmp_path: Path) -> None:
    write(tmp_path, "/etc/crontab", "SHELL=/bin/sh\n# m h dom mon dow user command\n"
          "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n"
          "*/5 * * * * root docker system prune -f >/dev/null 2>&1\n")
    write(tmp_path, "/etc/cron.d/images", "PATH=/usr/bin\n@daily root /usr/local/bin/refresh-images\n"
          "0 3 * * * root /usr/local/bin/clean-logs\n")
    write(tmp_path, "/usr/local/bin/refresh-images", "#!/bin/bash\nfor i in a b; do\n  docker pull \"$i\"\ndone\n")
    write(tmp_path, "/usr/local/bin/clean-logs", "#!/bin/sh\nfind /var/log/pods -mtime +7 -delete\n")
    write(tmp_path, "/var/spool/cron/crontabs/ci", "0 * * * * curl --unix-socket /var/run/docker.sock http://x/info\n"
          "30 * * * * crictl rmi --prune\n")
    write(tmp_path, "/etc/cron.daily/docker-gc", "#!/bin/sh\nexec docker image prune -af\n")
    write(tmp_path, "/etc/cron.daily/logrotate", "#!/bin/sh\n/usr/sbin/logrotate /etc/logrotate.conf\n")

    report = probe(tmp_path)
    assert [(f.kind, f.evidence) for f in at(report, "/etc/crontab")] == [("cron", "runs `docker system`")]
    assert [(f.kind, f.evidence) for f in at(report, "/usr/local/bin/refresh-images")] == [
        ("script", "line 3: runs `docker pull` (called from /etc/cron.d/images)")]
    assert at(report, "/usr/local/bin/clean-logs") == [] and at(report, "/etc/cron.d/images") == []
    assert [f.evidence for f in at(report, "/var/spool/cron/crontabs/ci")] == ["names /var/run/docker.sock"]
    assert [f.evidence for f in at(report, "/etc/cron.daily/docker-gc")] == ["line 2: runs `docker image`"]
    assert at(report, "/etc/cron.daily/logrotate") == []
    assert {f.severity for f in report.findings} == {"high"}


def test_kubelet_flags_config_and_credentials(tmp_path: Path) -> None:
    write(tmp_path, "/var/lib/kubelet/kubeadm-flags.env",
          'KUBELET_KUBEADM_ARGS="--container-runtime=docker --network-plugin=cni --pod-infra-container-image=pause:3.6"\n')
    write(tmp_path, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=--docker-endpoint=unix:///var/run/docker.sock\n")
    write(tmp_path, "/etc/systemd/system/kubelet.service.d/20-cri.conf",
          '[Service]\nEnvironment="KUBELET_CONFIG_ARGS=--config /etc/kubernetes/kubelet.yaml"\n')
    write(tmp_path, "/etc/kubernetes/kubelet.yaml",
          "kind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///run/cri-dockerd.sock\n")
    write(tmp_path, "/var/lib/kubelet/config.json", '{"auths": {}}')
    write(tmp_path, "/root/.docker/config.json", '{"auths": {"registry.example": {"auth": "c2VjcmV0"}}}')
    write(tmp_path, "/var/lib/cloud/instance/user-data.txt",
          "#!/bin/bash\n/etc/eks/bootstrap.sh prod --container-runtime dockerd --docker-config-json '{}'\n")

    report = probe(tmp_path)
    flags = at(report, "/var/lib/kubelet/kubeadm-flags.env")
    assert [(f.evidence, f.severity) for f in flags] == [
        ("--container-runtime=docker", "high"), ("--network-plugin=cni: a dockershim-only flag", "medium")]
    assert "containerd.sock" in flags[0].advice
    assert [f.evidence for f in at(report, "/etc/default/kubelet")] == [
        "--docker-endpoint=unix:///var/run/docker.sock: a dockershim-only flag"]
    config = at(report, "/etc/kubernetes/kubelet.yaml")
    assert [(f.evidence, f.severity) for f in config] == [
        ("containerRuntimeEndpoint unix:///run/cri-dockerd.sock: Docker through cri-dockerd", "low")]
    assert [f.severity for f in at(report, "/var/lib/kubelet/config.json")] == ["info"]
    assert [f.severity for f in at(report, "/root/.docker/config.json")] == ["medium"]
    assert "c2VjcmV0" not in json.dumps(probe_document(report))  # credentials are named, never copied
    eks = at(report, "/var/lib/cloud/instance/user-data.txt")
    assert sorted(f.evidence for f in eks) == ["bootstrap.sh --container-runtime", "bootstrap.sh --docker-config-json"]


def test_a_kubelet_on_containerd_is_clean(tmp_path: Path) -> None:
    write(tmp_path, "/var/lib/kubelet/kubeadm-flags.env",
          'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n')
    write(tmp_path, "/var/lib/kubelet/config.yaml",
          "containerRuntimeEndpoint: unix:///run/containerd/containerd.sock\n# was unix:///var/run/dockershim.sock\n")
    assert probe(tmp_path).findings == ()


def test_agent_configurations_from_the_table_and_the_generic_search(tmp_path: Path) -> None:
    write(tmp_path, "/etc/datadog-agent/datadog.yaml", "api_key: x\ndocker_host: unix:///var/run/docker.sock\n")
    write(tmp_path, "/etc/fluent-bit/fluent-bit.conf", "[INPUT]\n    Path /var/lib/docker/containers/*/*.log\n")
    write(tmp_path, "/etc/otelcol-contrib/config.yaml", "receivers:\n  docker_stats:\n    endpoint: "
          "unix:///var/run/docker.sock\n")
    write(tmp_path, "/opt/acme/etc/agent.ini", "[docker]\nsocket=/run/docker.sock\n")
    # look-alikes
    write(tmp_path, "/etc/filebeat/filebeat.yml", "filebeat.inputs:\n- type: container\n  paths: [/var/log/pods/*/*/*.log]\n"
          "# - /var/lib/docker/containers/*/*.log\n")
    write(tmp_path, "/etc/containerd/config.toml", "# migrated from /var/run/docker.sock\n")
    write(tmp_path, "/etc/docker/daemon.json", "{}")

    report = probe(tmp_path)
    datadog = at(report, "/etc/datadog-agent/datadog.yaml")
    assert [(f.kind, f.evidence) for f in datadog] == [
        ("agent-config", "Datadog Agent: line 2 names /var/run/docker.sock")]
    assert "cri_socket_path" in datadog[0].advice
    assert [f.evidence for f in at(report, "/etc/fluent-bit/fluent-bit.conf")] == [
        "Fluent Bit: line 2 names /var/lib/docker/containers"]
    assert [f.kind for f in at(report, "/etc/otelcol-contrib/config.yaml")] == ["agent-config"]  # a glob in the table
    generic = at(report, "/opt/acme/etc/agent.ini")
    assert [(f.kind, f.evidence) for f in generic] == [("config", "line 2 names /run/docker.sock")]
    assert at(report, "/etc/filebeat/filebeat.yml") == [] and at(report, "/etc/containerd/config.toml") == []


def test_docker_settings_to_carry_over(tmp_path: Path) -> None:
    write(tmp_path, "/etc/docker/daemon.json", json.dumps({
        "registry-mirrors": ["https://mirror.example"], "insecure-registries": ["10.0.0.5:5000"],
        "data-root": "/data/docker", "log-driver": "json-file", "log-opts": {"max-size": "10m"},
        "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 65536, "Soft": 65536}},
        "exec-opts": ["native.cgroupdriver=systemd"], "features": {"buildkit": True}}))
    write(tmp_path, "/etc/systemd/system/docker.service.d/http-proxy.conf",
          '[Service]\nEnvironment="HTTP_PROXY=http://user:s3cret@proxy:3128" "NO_PROXY=localhost,10.0.0.0/8"\n')
    write(tmp_path, "/etc/systemd/system/docker.service.d/override.conf",
          "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --registry-mirror=https://m2.example --bip=172.20.0.1/16\n")

    report = probe(tmp_path)
    settings = {f.evidence.split(":")[0]: f for f in at(report, "/etc/docker/daemon.json")}
    assert set(settings) == {"registry-mirrors", "insecure-registries", "data-root", "log-driver", "log-opts",
                             "default-ulimits", "exec-opts", "features"}
    assert "certs.d" in settings["registry-mirrors"].advice and "registries.conf" in settings["registry-mirrors"].advice
    assert "containerLogMaxSize" in settings["log-opts"].advice
    assert "SystemdCgroup" in settings["exec-opts"].advice
    assert settings["features"].severity == "info"
    proxy = at(report, "/etc/systemd/system/docker.service.d/http-proxy.conf")
    assert len(proxy) == 1 and "s3cret" not in proxy[0].evidence and "user:***@proxy" in proxy[0].evidence
    assert "containerd.service.d" in proxy[0].advice
    override = at(report, "/etc/systemd/system/docker.service.d/override.conf")
    assert [f.evidence for f in override] == ["dockerd --registry-mirror=https://m2.example", "dockerd --bip=172.20.0.1/16"]
    assert [f.severity for f in override] == ["medium", "info"]
    assert all(f.kind == "docker-setting" for f in report.findings)


def test_hostile_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "host"
    outside = write(tmp_path, "/outside/secret.conf", "socket=/var/run/docker.sock\n")
    write(root, "/etc/telegraf/telegraf.conf", "[[inputs.docker]]\n  endpoint = \"unix:///var/run/docker.sock\"\n")
    (root / "etc/telegraf/telegraf.d").mkdir()
    (root / "etc/telegraf/telegraf.d/escape.conf").symlink_to("../../../../outside/secret.conf")
    (root / "etc/telegraf/telegraf.d/inside.conf").symlink_to("/etc/telegraf/telegraf.conf")  # absolute: in the root
    (root / "etc/telegraf/telegraf.d/loop.conf").symlink_to("loop.conf")
    os.mkfifo(root / "etc/telegraf/telegraf.d/fifo.conf")
    write(root, "/etc/telegraf/telegraf.d/huge.conf", "x" * (2 * 1024 * 1024) + "\n/var/run/docker.sock\n")
    (root / "etc/telegraf/telegraf.d/binary.conf").write_bytes(b"\x7fELF\0\0/var/run/docker.sock")
    os.mkfifo(root / "etc/crontab")
    (root / "etc/docker").mkdir()
    (root / "etc/docker/daemon.json").symlink_to("../../../outside/secret.conf")

    report = probe(root)  # a FIFO read would block this test forever
    assert {f.path for f in report.findings} == {"/etc/telegraf/telegraf.conf"}
    assert outside.read_text() == "socket=/var/run/docker.sock\n"
    warnings = "\n".join(report.warnings)
    assert "a link leads out of the root" in warnings and "escape.conf" in warnings and "daemon.json" in warnings
    assert "not a regular file" in warnings and "fifo.conf" in warnings and "/etc/crontab" in warnings
    assert "larger than" in warnings and "huge.conf" in warnings
    assert "binary" in warnings and "binary.conf" in warnings
    assert "too many levels of links" in warnings


def test_reads_and_walks_are_bounded(tmp_path: Path) -> None:
    for i in range(50):
        write(tmp_path, f"/etc/many/f{i:02}.conf", "nothing\n")
    host = HostRoot(str(tmp_path), Limits(walk_files=10, file_bytes=16))
    assert len(list(host.walk("/etc/many"))) == 10
    assert any("after 10 files" in w for w in host.log.warnings())
    write(tmp_path, "/etc/big", "y" * 17)
    assert host.read_bytes("/etc/big") is None and host.read_bytes("/etc/big", truncate=True) == b"y" * 16


def test_nothing_is_written_under_the_root(tmp_path: Path) -> None:
    write(tmp_path, "/etc/crontab", "* * * * * root docker ps\n")
    write(tmp_path, "/etc/docker/daemon.json", '{"data-root": "/d"}')
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.rglob("*")}
    tmp_path.chmod(0o555)
    try:
        assert probe(tmp_path).findings
    finally:
        tmp_path.chmod(0o755)
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.rglob("*")} == before


@pytest.mark.parametrize(("line", "found"), [
    ("docker ps", "docker ps"),
    ("/usr/bin/docker -H unix:///x run img", "/usr/bin/docker -H unix:///x run"),
    ("sudo -u root docker save app", "docker save"),
    ("timeout 60 docker pull x && echo ok", "docker pull"),
    ("FOO=1 docker-compose up -d", "docker-compose up"),
    ("x=$(docker inspect -f '{{.Id}}' c)", "docker inspect"),
    ("echo docker ps", None),
    ("du -sh /var/lib/docker", None),
    ("crictl ps", None),
    ("nerdctl run img", None),
    ("docker --version", None),
    ("docker login registry", None),
    ("# docker ps", None),
])
def test_docker_invocations_in_shell(line: str, found: str | None) -> None:
    assert docker_invocation(line) == found


def test_units_and_containers_from_cgroups() -> None:
    assert unit_of("0::/system.slice/docker.service\n") == "docker.service"
    assert unit_of("12:pids:/user.slice\n1:name=systemd:/user.slice/user-0.slice/session-4.scope\n") == "session-4.scope"
    uid, cid = "1a2b3c4d-0000-1111-2222-333344445555", "ab" * 32
    assert unit_of(f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid.replace('-', '_')}.slice/"
                   f"cri-containerd-{cid}.scope\n") == f"pod {uid} container {cid[:12]}"
    assert unit_of(f"0::/kubepods/besteffort/pod{uid}/{cid}\n") == f"pod {uid} container {cid[:12]}"
    assert unit_of("0::/\n") == ""


def test_clients_of_a_docker_socket_from_the_socket_table() -> None:
    table = [
        # listening; one connection not accepted yet, which sock_diag lists by its client's inode
        UnixSocket(10, 10, "/var/run/docker.sock", 0, pending=(23,)),
        UnixSocket(11, 1, "/var/run/docker.sock", 21),  # accepted: the daemon's end
        UnixSocket(21, 1, "", 11),  # its client
        UnixSocket(23, 1, "", 0),  # the waiting client: no peer to show yet
        UnixSocket(30, 10, "/run/containerd/containerd.sock", 0),
        UnixSocket(31, 1, "/run/containerd/containerd.sock", 41),
        UnixSocket(41, 1, "", 31),
        UnixSocket(50, 10, "/tmp/x/docker.sock", 0),
    ]
    found = docker_sockets(table)
    assert found.listeners == {10: "/var/run/docker.sock"}
    assert set(found.client_side) == {21, 23}
    assert docker_sockets(table, ["/tmp/x/docker.sock"]).listeners == {10: "/var/run/docker.sock",
                                                                        50: "/tmp/x/docker.sock"}


def test_the_document_reads_back_and_the_command_prints_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "/etc/crontab", "* * * * * root docker ps\n")
    write(tmp_path, "/etc/hostname", "node-7\n")
    report = probe(tmp_path)
    document = probe_document(report)
    assert document["kind"] == "NodeProbeReport" and document["metadata"]["node"] == "node-7"
    assert report_from_document(json.loads(json.dumps(document))) == report
    assert set(document["items"][0]) == {"kind", "path", "pid", "command", "unit", "evidence", "severity", "advice"}

    assert main(["probe", "--root", str(tmp_path), "-o", "yaml"]) == 0
    captured = capsys.readouterr()
    assert yaml.safe_load(captured.out)["items"][0]["evidence"] == "runs `docker ps`"
    assert "processes were not inspected" in captured.err
    assert main(["probe", "--root", str(tmp_path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["SEVERITY", "KIND", "PROCESS/PATH", "UNIT", "EVIDENCE"]
    assert table[1].split()[:3] == ["high", "cron", "/etc/crontab"]
    assert main(["probe", "--root", str(tmp_path / "missing")]) == 1


def proc_entry(root: Path, pid: int, argv: list[str], exe: str, cgroup: str, sockets: tuple[int, ...] = ()) -> None:
    proc = root / "proc" / str(pid)
    (proc / "fd").mkdir(parents=True)
    (proc / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (proc / "comm").write_text(exe.rsplit("/", 1)[-1][:15] + "\n")
    (proc / "cgroup").write_text(cgroup)
    (proc / "exe").symlink_to(exe)  # never followed: only read with readlink
    (proc / "fd" / "0").symlink_to("/dev/null")
    for fd, inode in enumerate(sockets, 3):
        (proc / "fd" / str(fd)).symlink_to(f"socket:[{inode}]")


def test_processes_and_kubelet_flags_from_a_generated_proc(tmp_path: Path) -> None:
    uid, cid = "1a2b3c4d-0000-1111-2222-333344445555", "cd" * 32
    proc_entry(tmp_path, 1, ["/sbin/init"], "/lib/systemd/systemd", "0::/init.scope\n")
    proc_entry(tmp_path, 700, ["/usr/bin/dockerd", "-H", "fd://"], "/usr/bin/dockerd",
               "0::/system.slice/docker.service\n", (10, 11, 12))
    proc_entry(tmp_path, 800, ["/usr/bin/kubelet", "--container-runtime=docker", "--network-plugin=cni"],
               "/usr/bin/kubelet", "0::/system.slice/kubelet.service\n", (21,))
    proc_entry(tmp_path, 900, ["/opt/agent/bin/agent", "run"], "/opt/agent/bin/agent",
               f"0::/kubepods/besteffort/pod{uid}/{cid}\n", (22,))
    proc_entry(tmp_path, 901, ["docker", "ps"], "/usr/bin/docker", "0::/user.slice/user-0.slice/session-2.scope\n")
    proc_entry(tmp_path, 902, ["/usr/bin/metrics"], "/usr/bin/metrics", "0::/system.slice/metrics.service\n", (31,))
    table = [UnixSocket(10, 10, "/var/run/docker.sock", 0), UnixSocket(11, 1, "/var/run/docker.sock", 21),
             UnixSocket(12, 1, "/var/run/docker.sock", 22), UnixSocket(21, 1, "", 11), UnixSocket(22, 1, "", 12),
             UnixSocket(30, 10, "/run/metrics.sock", 0), UnixSocket(31, 1, "", 0)]

    report = collect(ProbeOptions(root=str(tmp_path)), socket_table=lambda: table)
    found = {(f.pid, f.kind): f for f in report.findings if f.pid is not None}
    assert sorted(found) == [(700, "docker-daemon"), (800, "kubelet"), (800, "process"), (900, "process"),
                             (901, "docker-cli")]
    assert (found[(700, "docker-daemon")].evidence, found[(700, "docker-daemon")].unit) == (
        "dockerd listens on /var/run/docker.sock", "docker.service")
    assert found[(800, "process")].severity == "info"  # the kubelet's dockershim: expected
    agent = found[(900, "process")]
    assert (agent.severity, agent.command, agent.unit) == ("high", "/opt/agent/bin/agent run",
                                                           f"pod {uid} container {cid[:12]}")
    assert found[(901, "docker-cli")].unit == "session-2.scope"
    kubelet = [f for f in report.findings if f.kind == "kubelet"]
    assert [(f.path, f.evidence) for f in kubelet] == [
        ("/proc/800/cmdline", "--container-runtime=docker"),
        ("/proc/800/cmdline", "--network-plugin=cni: a dockershim-only flag")]
    assert report.sockets == ("/var/run/docker.sock",) and report.processes_inspected
