"""The probe on this machine's own /proc and kernel socket table: a small Unix-socket server at a
temporary docker.sock, clients connected to it (one accepted, one still waiting in the listen
queue), a process connected to an unrelated socket, and a process running a file named `docker`.
`probe --socket PATH` must report the clients' pids and commands, the server as the daemon, the
`docker` process, and nothing about the unrelated ones. The probe runs as the real command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

SERVER = """
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
print("ready", flush=True)
kept = [s.accept()]  # the first connection is accepted; later ones wait in the queue
time.sleep(120)
"""
CLIENT = """
import socket, sys, time
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
print("connected", flush=True)
time.sleep(120)
"""
PROBE = [sys.executable, str(ROOT / "kubectl-dockershim"), "probe"]


class Processes:
    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, *argv: str, wait_for: str | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, text=True)
        self.started.append(process)
        if wait_for is not None:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == wait_for
        return process


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    for process in started.started:  # only the processes this test started, by their own handle
        process.kill()
        process.wait()


def probe(*args: str) -> dict:
    result = subprocess.run([*PROBE, *args, "-o", "json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def by_pid(document: dict) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    for item in document["items"]:
        if item["pid"] is not None:
            found.setdefault(item["pid"], []).append(item)
    return found


def test_clients_of_a_docker_socket_are_reported_by_pid_and_command(tmp_path: Path, processes: Processes) -> None:
    socket_path = str(tmp_path / "docker.sock")
    other_path = str(tmp_path / "metrics.sock")
    server = processes.start(sys.executable, "-c", SERVER, socket_path, wait_for="ready")
    other_server = processes.start(sys.executable, "-c", SERVER, other_path, wait_for="ready")
    accepted = processes.start(sys.executable, "-c", CLIENT, socket_path, "accepted-client", wait_for="connected")
    waiting = processes.start(sys.executable, "-c", CLIENT, socket_path, "waiting-client", wait_for="connected")
    unrelated = processes.start(sys.executable, "-c", CLIENT, other_path, "unrelated-client", wait_for="connected")

    document = probe("--socket", socket_path)
    found = by_pid(document)
    for client, marker in ((accepted, "accepted-client"), (waiting, "waiting-client")):
        items = found.get(client.pid, [])
        assert [(i["kind"], i["path"], i["severity"]) for i in items] == [("process", socket_path, "high")], items
        assert items[0]["command"].endswith(f"{socket_path} {marker}")
        assert "connected to " + socket_path in items[0]["evidence"]
    assert [i["kind"] for i in found.get(server.pid, [])] == ["docker-daemon"]
    assert socket_path in document["metadata"]["dockerSockets"]
    assert unrelated.pid not in found and other_server.pid not in found
    assert not any(other_path in (i["path"] or "") for i in document["items"])

    # Without --socket the temporary socket is not one of Docker's: its clients are not reported.
    assert accepted.pid not in by_pid(probe())


def test_a_process_running_a_file_named_docker_is_reported(tmp_path: Path, processes: Processes) -> None:
    sleep = shutil.which("sleep")
    assert sleep is not None
    (tmp_path / "bin").mkdir()
    docker = tmp_path / "bin" / "docker"
    shutil.copy(sleep, docker)
    running = processes.start(str(docker), "117")
    look_alike = processes.start(sleep, "118", "docker")  # `docker` only as an argument
    document = probe()
    found = by_pid(document)
    items = found.get(running.pid, [])
    assert [(i["kind"], i["path"], i["severity"]) for i in items] == [("docker-cli", str(docker), "high")]
    assert items[0]["command"] == f"{docker} 117"
    assert "crictl" in items[0]["advice"]
    assert look_alike.pid not in found
    assert document["metadata"]["processesInspected"] is True
