"""Benchmark of one node probe on a generated host: 1,000 processes' worth of /proc entries
(cmdline, comm, cgroup, exe, 24 open files each, some of them connections to Docker's socket) and
10,000 files under /etc (systemd units, cron, agent configurations, plain configuration files),
against the issue's target of 2 s and 64 MiB for an agent that runs on every node.

`python bench/probe.py [--runs R] [--out docs/benchmarks.md]` generates the host in a temporary
folder, then measures with bench/measure.py (wall time, peak RSS of a fresh process):
the command as the DaemonSet runs it (`kubectl-dockershim probe --root HOST -o json`, the kernel's
real socket table, in which no generated socket appears), and the probe through its Python API
with a generated socket table naming 50 of the processes' sockets as Docker clients, so the
/proc/PID/fd scan runs on every process. The results replace this script's own section of the
Markdown report (between its markers), leaving the rest of the file as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `bench` is imported from the checkout

from bench.sections import write_section  # noqa: E402

PROCESSES = 1000
ETC_FILES = 10_000
FDS = 24
CLIENTS = 50  # processes connected to Docker's socket
LISTENER_INODE = 900_000
SECTION = "bench/probe.py"  # its section of the report (bench/sections.py)
TARGET_SECONDS = 2.0
TARGET_BYTES = 64 * 1024 * 1024
LOAD: list[float] = [0.0]


def client_inode(pid: int) -> int:
    return 1_000_000 + pid


def generate(host: Path) -> None:
    """The generated host: /proc, /etc and a few files elsewhere."""
    for pid in range(1, PROCESSES + 1):
        proc = host / "proc" / str(pid)
        (proc / "fd").mkdir(parents=True)
        name = ["kubelet", "containerd", "sshd", "python3", "node_exporter", "bash"][pid % 6] if pid > 1 else "systemd"
        argv = [f"/usr/bin/{name}", "--flag=value", f"--instance={pid}"]
        (proc / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
        (proc / "comm").write_text(name + "\n")
        (proc / "cgroup").write_text(f"0::/system.slice/{name}-{pid}.service\n")
        (proc / "exe").symlink_to(f"/usr/bin/{name}")
        for fd in range(FDS):
            target = f"socket:[{client_inode(pid)}]" if fd == 3 and pid <= CLIENTS else \
                f"socket:[{2_000_000 + pid * FDS + fd}]" if fd % 3 == 0 else f"/var/log/app-{fd}.log"
            (proc / "fd" / str(fd)).symlink_to(target)
    etc = host / "etc"
    written = 0

    def write(path: str, text: str) -> None:
        nonlocal written
        target = etc / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written += 1

    for i in range(300):
        needs = "docker.service" if i % 30 == 0 else "network-online.target"
        write(f"systemd/system/app-{i}.service",
              f"[Unit]\nAfter={needs}\n[Service]\nExecStart=/usr/bin/app-{i} --serve\n")
    for i in range(100):
        command = "docker system prune -f" if i % 25 == 0 else f"/usr/bin/rotate-{i}"
        write(f"cron.d/job-{i}", f"SHELL=/bin/sh\n{i % 60} 3 * * * root {command}\n")
    write("crontab", "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n")
    for agent in ("datadog-agent/conf.d", "fluent-bit", "filebeat", "telegraf/telegraf.d", "otelcol"):
        for i in range(100):
            socket = "unix:///var/run/docker.sock" if i % 20 == 0 else "unix:///run/containerd/containerd.sock"
            write(f"{agent}/conf-{i}.yaml", f"# agent configuration {i}\nendpoint: {socket}\n" + "key: value\n" * 20)
    write("docker/daemon.json", json.dumps({"registry-mirrors": ["https://mirror.example"], "log-driver": "json-file"}))
    i = 0
    while written < ETC_FILES:
        write(f"app{i % 40}/conf.d/file-{i}.conf", f"# generated {i}\noption_{i} = {i}\n" + "setting = on\n" * 30)
        i += 1
    kubelet = host / "var/lib/kubelet"
    kubelet.mkdir(parents=True)
    (kubelet / "kubeadm-flags.env").write_text('KUBELET_KUBEADM_ARGS="--container-runtime=docker"\n')


def socket_table_code() -> str:
    return (f"from plugin.probe.sockdiag import UnixSocket\n"
            f"table = [UnixSocket({LISTENER_INODE}, 10, '/var/run/docker.sock', 0)]\n"
            f"for pid in range(1, {CLIENTS} + 1):\n"
            f"    table.append(UnixSocket({LISTENER_INODE} + pid, 1, '/var/run/docker.sock', 1_000_000 + pid))\n"
            f"    table.append(UnixSocket(1_000_000 + pid, 1, '', {LISTENER_INODE} + pid))\n")


def api_command(host: Path) -> list[str]:
    code = (socket_table_code() + "from plugin.probe.collect import ProbeOptions, collect\n"
            f"report = collect(ProbeOptions(root={str(host)!r}), socket_table=lambda: table)\n"
            "import collections, json\n"
            "print(json.dumps(collections.Counter(f.kind for f in report.findings)))\n")
    return [sys.executable, "-c", code]


def cli_command(host: Path) -> list[str]:
    return [sys.executable, str(ROOT / "kubectl-dockershim"), "probe", "--root", str(host), "-o", "json"]


def measure(command: list[str], runs: int) -> tuple[list[float], list[int], str]:
    walls, peaks = [], []
    output = ""
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(suffix=".json") as result, tempfile.TemporaryFile("w+") as out:
            subprocess.run([sys.executable, str(ROOT / "bench" / "measure.py"), result.name, "--", *command],
                           check=True, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
            measured = json.loads(Path(result.name).read_text())
            assert measured["exit"] == 0, measured
            out.seek(0)
            output = out.read()
        walls.append(measured["wall"])
        peaks.append(int(measured["maxrss"]))
    return walls, peaks, output


def section(rows: list[tuple[str, list[float], list[int]]], api_kinds: dict[str, int], cli_items: int,
            runs: int) -> str:
    def mib(n: float) -> str:
        return f"{n / 1024 / 1024:.0f} MiB"

    lines = ["## The node probe: `probe` on one host", "",
             "Written by `python bench/probe.py` into its own section of this file, which the other benchmark "
             "scripts leave as it is.", "",
             f"Generated by `bench/probe.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python "
             f"{platform.python_version()}, {os.cpu_count()} cores): a host with {PROCESSES:,} processes' /proc "
             f"entries ({FDS} open files each) and {ETC_FILES:,} files under /etc. Target: under "
             f"{TARGET_SECONDS:.0f} s and {mib(TARGET_BYTES)} (it runs on every node). Median of {runs} runs; "
             f"peak RSS of the whole process. Load average when the runs began: {LOAD[0]:.1f} (the cores are "
             "shared: the minimum is the uncontended figure).", "",
             "| run | median | min–max | peak RSS | verdict |", "|---|---:|---:|---:|---|"]
    for label, walls, peaks in rows:
        met = statistics.median(walls) < TARGET_SECONDS and max(peaks) < TARGET_BYTES
        lines.append(f"| {label} | {statistics.median(walls):.2f} s | {min(walls):.2f} s–{max(walls):.2f} s | "
                     f"{mib(max(peaks))} | {'**met**' if met else '**not met**'} |")
    lines += ["", f"The command reported {cli_items} findings; the API run "
              + ", ".join(f"{n} {kind}" for kind, n in sorted(api_kinds.items())) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="probe-bench-") as folder:
        host = Path(folder) / "host"
        generate(host)
        LOAD[:] = os.getloadavg()
        cli_walls, cli_peaks, cli_out = measure(cli_command(host), args.runs)
        api_walls, api_peaks, api_out = measure(api_command(host), args.runs)
    rows = [("`kubectl-dockershim probe --root HOST -o json` (the kernel's socket table)", cli_walls, cli_peaks),
            (f"the probe's API with {CLIENTS} Docker clients in the socket table (every /proc/PID/fd read)",
             api_walls, api_peaks)]
    text = section(rows, json.loads(api_out), len(json.loads(cli_out)["items"]), args.runs)
    write_section(Path(args.out), SECTION, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
