"""The cluster-scale benchmark: the plugin against the floor and kubectl, on one synthetic cluster.

`python bench/run.py [--pods N ...] [--runs R] [--out docs/benchmarks.md] [--profile] [--smoke]`,
from anywhere (it finds the repository from its own path). For each N it generates a synthetic
cluster (`bench/synthetic.py`), serves it from the project's test API server over HTTPS on
loopback, and measures on that one server: (a) the floor (`bench/floor.py`: every pod page with
`limit=500`, parsed, nothing else); (b) `kubectl-dockershim scan -A -o json` over pods only;
(c) the same with workload templates and owners (the default `scan -A` once `--pods-only`
exists); (d) the Kubernetes docs' jsonpath query through the real `kubectl`, as a shell
pipeline, and again with `--chunk-size=0`; (e) `kubectl get pods -A -o json`. Each case runs R
times, round-robin; each run is a fresh process measured by `bench/measure.py` (wall time, peak
RSS of the process tree), and the server's request log is cleared before it. It also times the
plugin's `--help` and `version`, and `scan -f` (next to a parse-only floor) on a folder of 10,000
generated manifest documents.

`--server real` serves the same cluster from a real kube-apiserver and etcd instead
(`tests/realapi/`, built on first use): the objects are created through the API (the load rate
is reported), kubectl negotiates protobuf as it does in production, the request counts come from
the server's audit log, and the server's own CPU time and memory are reported; the start-up and
`scan -f` cases, which never reach a server, are left to the test-server report.

It writes a Markdown report (machine, cluster, table, start-up, throughput, and the issue's
targets met or not) as its own section of the file (`bench/sections.py`: the sections other
scripts write there, such as `bench/probe.py`'s, are kept) and prints ratios to the floor. It
is a benchmark, not a test: it fails (exit 1) only when a case fails to run, never because of a
time. `--smoke` is a tiny run for CI.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import pstats
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `tests.apiserver` and `bench` are imported from the checkout

from bench.sections import write_section  # noqa: E402
from bench.synthetic import Shape, cluster_objects, write_manifests  # noqa: E402
from tests.apiserver import ApiServer, RequestRecord  # noqa: E402
from tests.realapi.server import LOAD_WORKERS  # noqa: E402

PAGE_SIZE = 500  # what the floor, the plugin and kubectl's default --chunk-size ask for
PLUGIN = ROOT / "kubectl-dockershim"
MEASURE = ROOT / "bench" / "measure.py"
FLOOR = ROOT / "bench" / "floor.py"
BREAKDOWN = ROOT / "bench" / "breakdown.py"
TOKEN = "admin-token"  # the test server's default admin token, which write_kubeconfig uses
# The Kubernetes docs' query ("Find out what container runtime is used on a node" /
# "Migrating telemetry and security agents from dockershim"), verbatim but for the kubectl path.
DOCS_JSONPATH = ('{range .items[*]}{"\\n"}{.metadata.namespace}{":\\t"}{.metadata.name}{":\\t"}'
                 '{range .spec.volumes[*]}{.hostPath.path}{", "}{end}{end}')
# The issues' targets (issue 13 for the scans: 1.15x the floor; the others from the first benchmark).
TARGET_RATIO = 1.15
TARGET_RSS = 150 * 2**20
TARGET_HELP_SECONDS = 0.150
TARGET_DOCS_PER_SECOND = 2000
# "A small constant per namespace scope": requests beyond the pages of the lists themselves.
TARGET_EXTRA_REQUESTS = 20


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    command: list[str] | None  # None: not available in this checkout
    shell: bool = False  # command is one shell pipeline
    quiet: bool = False  # stdout to /dev/null (the output would be hundreds of MB)
    note: str = ""
    capped: bool = False  # run under the memory cap (kubectl, whose memory grows with the cluster)


@dataclass
class Run:
    wall: float
    rss: int
    requests: list[RequestRecord]
    output: str
    server_cpu: float | None = None  # CPU seconds of the server's processes during the run (real server)
    cpu: float = 0.0  # user and system time of the command (and what it waited for)


@dataclass
class CaseResult:
    case: Case
    runs: list[Run] = field(default_factory=list)
    error: str | None = None
    # (seconds until killed, the cap) when the memory cap stopped it: a lower bound of both.
    capped_out: tuple[float, int] | None = None

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def rss(self) -> int:
        return max(r.rss for r in self.runs)

    @property
    def requests(self) -> int:
        return max(len(r.requests) for r in self.runs)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.runs)


@dataclass
class SizeResult:
    shape: Shape
    objects: Counter[str]
    pod_bytes: tuple[int, int, int]  # mean, min, max of one pod's JSON
    build_seconds: float
    cases: list[CaseResult]
    throttling: str
    load: tuple[float, float]  # 1-minute load average before and after the runs
    profile: str = ""
    server: str = "test"  # "test" or "real"
    load_seconds: float = 0.0  # real server: creating the objects through the API
    server_memory: str = ""  # real server: peak and final RSS of kube-apiserver and etcd
    memory_cap: int = 0  # what kubectl could use (MemoryCap), 0 for none
    breakdown: dict[str, Any] = field(default_factory=dict)  # bench/breakdown.py's answer for scan -A
    kubectl_runs: int | None = None  # rounds the kubectl cases ran in (None: every round)

    def case(self, key: str) -> CaseResult | None:
        return next((c for c in self.cases if c.case.key == key), None)


# -- running things ------------------------------------------------------------------------------

class MemoryCap:
    """A memory cgroup (v1) that the commands measured with `capped` run in: past `limit` bytes
    the kernel kills them, and only them. At 100,000 pods kubectl needs 8 to 21 GB, on a machine
    whose memory others share: an unbounded run could take the whole machine down with it.
    `create` returns None where no cgroup can be made (then nothing is capped)."""

    ROOT = Path("/sys/fs/cgroup/memory")

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit

    @classmethod
    def create(cls, limit: int) -> MemoryCap | None:
        path = cls.ROOT / f"kubectl-dockershim-bench-{os.getpid()}"
        try:
            path.mkdir(exist_ok=True)
            (path / "memory.limit_in_bytes").write_text(str(limit))
        except OSError:
            return None
        return cls(path, limit)

    def join(self) -> None:
        """Put the calling process in the cgroup (run in the child, before exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def kills(self) -> int:
        """How many processes the kernel killed for the cap so far."""
        for line in (self.path / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return int((self.path / "memory.failcnt").read_text())  # an older kernel: any failure counts

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass


def default_memory_cap() -> int:
    """What the capped commands may take: the memory available now, less 4 GiB for everyone
    else on the machine, at most 16 GiB."""
    with open("/proc/meminfo", encoding="ascii") as f:
        fields = dict(line.split(":", 1) for line in f)
    available = int(fields["MemAvailable"].split()[0]) * 1024
    return max(1 << 30, min(available - (4 << 30), 16 << 30))


class Runner:
    """Runs commands through `bench/measure.py` with one environment and one scratch folder."""

    def __init__(self, scratch: Path, env: dict[str, str], cap: MemoryCap | None = None) -> None:
        self.scratch = scratch
        self.env = env
        self.count = 0
        self.cap = cap

    def measure(self, command: list[str], shell: bool = False, quiet: bool = False, capped: bool = False
                ) -> tuple[dict[str, Any], str, str]:
        """(measure.py's result, stdout path, stderr text) of one run."""
        self.count += 1
        result_path = self.scratch / f"run-{self.count}.json"
        stdout_path = self.scratch / f"run-{self.count}.out"
        stderr_path = self.scratch / f"run-{self.count}.err"
        options = ["--shell", "--sample"] if shell else []
        with open(os.devnull if quiet else stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            cap = self.cap if capped else None
            subprocess.run([sys.executable, str(MEASURE), str(result_path), *options, "--", *command],
                           stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env, check=False,
                           preexec_fn=cap.join if cap else None)
        stderr = stderr_path.read_text(errors="replace")
        stderr_path.unlink()
        if not result_path.exists():
            raise RuntimeError(f"bench/measure.py failed: {stderr[-2000:]}")
        result = json.loads(result_path.read_text())
        result_path.unlink()
        return result, ("" if quiet else str(stdout_path)), stderr


def summarize_output(key: str, path: str, pods: int) -> str:
    """What the case printed, in a few words; raises ValueError when it is not what it should be."""
    if not path:
        return ""
    text = Path(path).read_text(errors="replace")
    Path(path).unlink()
    if key == "a":
        floor = json.loads(text)
        if floor["items"] != pods:
            raise ValueError(f"the floor read {floor['items']} pods, not {pods}")
        return f"{floor['items']} pods, {floor['pages']} pages, {floor['bytes'] / 2**20:.0f} MiB"
    if key in ("b", "c", "cz", "b0", "c0"):
        report = json.loads(text)
        scanned = dict(report.get("metadata", {}).get("scanned") or {})
        if "Pod" in scanned and scanned["Pod"] != pods:
            raise ValueError(f"the scan read {scanned['Pod']} pods, not {pods}")
        templates = sum(n for kind, n in scanned.items() if kind != "Pod")
        return f"{len(report['items'])} findings" + (f"; {templates} workloads" if templates else "")
    lines = [line for line in text.splitlines() if line.strip()]
    return f"{len(lines)} lines"


def server_cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time so far of these processes (/proc/PID/stat, clock ticks)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def server_memory(named_pids: Iterable[tuple[str, int]]) -> str:
    """Peak (VmHWM) and current (VmRSS) resident memory of each process, for the report."""
    parts = []
    for name, pid in named_pids:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        status = dict(line.split(":", 1) for line in lines if ":" in line)
        peak, now = (int(status[k].split()[0]) * 1024 for k in ("VmHWM", "VmRSS"))
        parts.append(f"{name} peak {_mib(peak)}, {_mib(now)} at the end")
    return "; ".join(parts)


def run_cases(cases: list[Case], runs: int, runner: Runner, server: Any, pods: int,
              on_run: Callable[[CaseResult, Run], None], kubectl_runs: int | None = None) -> list[CaseResult]:
    """Every available case `runs` times, round-robin so that drift hits all of them alike; the
    kubectl cases (those run under the memory cap) only in the first `kubectl_runs` rounds."""
    results = [CaseResult(c) for c in cases]
    for round_index in range(runs):
        for result in results:
            case = result.case
            if case.command is None or result.error is not None:
                continue
            if case.capped and kubectl_runs is not None and round_index >= kubectl_runs:
                continue
            server.clear_requests()
            pids = getattr(server, "pids", ())
            cpu_before = server_cpu_seconds(pids) if pids else 0.0
            cap = runner.cap if case.capped else None
            kills_before = cap.kills() if cap else 0
            measured, stdout_path, stderr = runner.measure(case.command, case.shell, case.quiet, case.capped)
            server_cpu = server_cpu_seconds(pids) - cpu_before if pids else None
            requests = list(server.requests)
            if cap and cap.kills() > kills_before:
                if stdout_path:
                    Path(stdout_path).unlink(missing_ok=True)
                result.capped_out = (measured["wall"], cap.limit)
                result.error = (f"killed by the memory cap ({_mib(cap.limit)}) after {_seconds(measured['wall'])}: "
                                "it needs more")
                continue
            if measured["exit"] != 0:
                result.error = f"exit {measured['exit']}: {stderr.strip()[-500:]}"
                continue
            try:
                output = summarize_output(case.key, stdout_path, pods)
            except (ValueError, KeyError, TypeError) as e:
                result.error = f"unexpected output: {e}"
                continue
            run = Run(measured["wall"], max(measured["maxrss"], measured["tree_rss"]), requests, output, server_cpu,
                      measured.get("cpu", 0.0))
            result.runs.append(run)
            on_run(result, run)
    return results


def kubectl_throttling(runner: Runner, kubectl: str) -> str:
    """Whether kubectl delayed its own paginated list (client-go's client-side rate limiter)."""
    kills = runner.cap.kills() if runner.cap else 0
    measured, stdout_path, stderr = runner.measure([kubectl, "get", "pods", "-A", "-o", "name", "-v=3"], quiet=True,
                                                   capped=True)
    if runner.cap and runner.cap.kills() > kills:
        return f"not measured (`kubectl get pods -A -o name` was killed by the memory cap of {_mib(runner.cap.limit)})"
    waits = [line for line in stderr.splitlines() if "client-side throttling" in line]
    total = 0.0
    for line in waits:
        match = re.search(r'(?:Waited for |delay=")([0-9.]+)(ms|s|µs)', line)
        if match:
            total += float(match.group(1)) / {"ms": 1e3, "s": 1.0, "µs": 1e6}[match.group(2)]
    if measured["exit"] != 0:
        return f"not measured (kubectl exited {measured['exit']})"
    if not waits:
        return (f"kubectl did not wait for its client-side rate limiter (no \"client-side throttling\" "
                f"line at -v=3; `kubectl get pods -A -o name` took {measured['wall']:.1f} s)")
    return (f"kubectl waited {len(waits)} times for its client-side rate limiter, {total:.1f} s in all "
            f"(`kubectl get pods -A -o name -v=3`, {measured['wall']:.1f} s)")


def pod_pages(requests: Iterable[RequestRecord]) -> int:
    return sum(1 for r in requests if r.path.endswith("/pods"))


_PLURALS = frozenset({"pods", "replicasets", "deployments", "daemonsets", "statefulsets", "jobs", "cronjobs",
                      "replicationcontrollers", "nodes", "namespaces"})


def request_breakdown(requests: Iterable[RequestRecord]) -> str:
    """`pods 200, replicasets 71, daemonsets (get) 2, discovery 5`: requests by resource."""
    counts: Counter[str] = Counter()
    for r in requests:
        segments = [s for s in r.path.split("/") if s]
        if segments and segments[-1] in _PLURALS:
            counts[segments[-1]] += 1
        elif len(segments) >= 2 and segments[-2] in _PLURALS:
            counts[f"{segments[-2]} (get)"] += 1
        else:
            counts["discovery"] += 1
    return ", ".join(f"{k} {v}" for k, v in counts.most_common())


# -- the cluster and the cases ---------------------------------------------------------------------

def counted(objects: Iterable[dict[str, Any]], kinds: Counter[str], sizes: list[int]) -> Iterator[dict[str, Any]]:
    """Pass objects through, counting kinds and sampling every 50th pod's JSON size as served."""
    for obj in objects:
        kinds[obj["kind"]] += 1
        if obj["kind"] == "Pod" and kinds["Pod"] % 50 == 1:
            item = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
            sizes.append(len(json.dumps(item, separators=(",", ":"))))
        yield obj


def baseline_label(checkout: Path | None) -> str:
    """`git 1234abc`, the revision of another checkout, for the cases' titles."""
    if checkout is None:
        return ""
    found = subprocess.run(["git", "-C", str(checkout), "describe", "--always", "--dirty"], capture_output=True,
                           text=True, check=False).stdout.strip()
    return f"git {found}" if found else str(checkout)


def plugin_has_pods_only() -> bool:
    help_text = subprocess.run([sys.executable, str(PLUGIN), "scan", "--help"], capture_output=True,
                               text=True, check=False).stdout
    return "--pods-only" in help_text


def cluster_cases(server: Any, kubectl: str | None, pods_only: bool, compressed: Path | None = None,
                  baseline: Path | None = None) -> list[Case]:
    """The cases, in the order they run. `compressed`: a kubeconfig without `disable-compression`,
    for the case that measures what compression costs (the real server compresses, the test
    server does not). `baseline`: another checkout of the plugin, whose (b) and (c) run too, as
    (b0) and (c0), to compare two versions on one server in one round-robin."""
    plugin = [sys.executable, str(PLUGIN)]
    before = [sys.executable, str(baseline / "kubectl-dockershim")] if baseline else []
    docs_query = (f"{shlex.quote(kubectl or 'kubectl')} get pods --all-namespaces "
                  f"-o=jsonpath={shlex.quote(DOCS_JSONPATH)} | sort | grep /var/run/docker.sock")
    chunkless = docs_query.replace(" get pods --all-namespaces ", " get pods --all-namespaces --chunk-size=0 ")
    no_kubectl = None if kubectl else "kubectl not found"
    return [
        Case("a", "floor: every pod page (`limit=500`), `json.loads`, nothing else",
             [sys.executable, str(FLOOR), "pods", "--server", server.url, "--certificate-authority", server.ca_path,
              "--token", TOKEN]),
        Case("b", "`kubectl-dockershim scan -A -o json`" + (" `--pods-only`" if pods_only else ""),
             [*plugin, "scan", "-A", "-o", "json", *(["--pods-only"] if pods_only else [])]),
        Case("c", "`kubectl-dockershim scan -A -o json`, with workload templates and owners",
             [*plugin, "scan", "-A", "-o", "json"] if pods_only else None,
             note="" if pods_only else "not available yet: this checkout's `scan` has no `--pods-only`"),
        *([Case("b0", f"(b) by the plugin of {baseline_label(baseline)}", [*before, "scan", "-A", "-o", "json",
                                                                         "--pods-only"]),
           Case("c0", f"(c) by the plugin of {baseline_label(baseline)}", [*before, "scan", "-A", "-o", "json"])]
          if baseline else []),
        *([Case("cz", "(c) with the answers gzip-compressed, as without `disable-compression` (the default)",
                [*plugin, "scan", "-A", "-o", "json", "--kubeconfig", str(compressed)])] if compressed else []),
        Case("d", "the docs' query: `kubectl get pods --all-namespaces -o=jsonpath=… | sort | grep`",
             [docs_query] if kubectl else None, shell=True, note=no_kubectl or "", capped=True),
        Case("d0", "the docs' query with `--chunk-size=0` (one request)",
             [chunkless] if kubectl else None, shell=True, note=no_kubectl or "", capped=True),
        Case("e", "`kubectl get pods -A -o json > /dev/null`",
             [kubectl, "get", "pods", "-A", "-o", "json"] if kubectl else None, quiet=True, note=no_kubectl or "",
             capped=True),
    ]


def cpu_breakdown(runner: Runner) -> dict[str, Any]:
    """bench/breakdown.py on `scan -A -o json`: its CPU time list by list (empty if it failed)."""
    completed = subprocess.run([sys.executable, str(BREAKDOWN), "-A", "-o", "json"], env=runner.env,
                               capture_output=True, text=True, check=False)
    try:
        return dict(json.loads(completed.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        print(f"   breakdown failed: {completed.stderr.strip()[-300:]}", flush=True)
        return {}


def breakdown_lines(size: SizeResult) -> list[str]:
    """The breakdown as a table, next to the floor's CPU time."""
    found = size.breakdown
    floor = size.case("a")
    if not found or not floor or not floor.ok:
        return []
    floor_cpu = statistics.median(run.cpu for run in floor.runs)
    lines = ["CPU time of one `scan -A -o json` (with templates), run in-process by `bench/breakdown.py`, "
             f"against the floor's median CPU time ({_seconds(floor_cpu)}, reading and decoding the pod pages "
             "and freeing each). \"Listing\" is reading and decoding a resource's pages (and freeing the "
             "previous one), \"scanning\" what the scan did with its objects between pages:", "",
             "| stage | CPU | vs floor |", "|---|---:|---:|"]
    rows: list[tuple[str, float]] = []
    small = 0.0
    for key, numbers in found["lists"].items():
        stages = numbers["list"] + numbers["scan"]
        if stages < 0.05:
            small += stages
            continue
        rows.append((f"{key}: listing ({numbers['pages']} pages)", numbers["list"]))
        rows.append((f"{key}: scanning", numbers["scan"]))
    rows.append(("the other lists (DaemonSets, StatefulSets, Jobs, CronJobs, ReplicationControllers, Nodes)", small))
    rows.append(("start-up (imports, kubeconfig), owners, report and its JSON", found["rest"]))
    rows.append(("**total**", found["cpu"]))
    lines += [f"| {label} | {_seconds(cpu)} | {cpu / floor_cpu:.0%} |" for label, cpu in rows]
    return lines + [""]


def profile_scan(runner: Runner, command: list[str], top: int = 25) -> str:
    """cProfile of one plugin run: the top functions by cumulative time, as pstats prints them."""
    path = runner.scratch / "scan.prof"
    profiled = [sys.executable, "-m", "cProfile", "-o", str(path), *command[1:]]
    measured, stdout_path, stderr = runner.measure(profiled, quiet=True)
    if measured["exit"] != 0 or not path.exists():
        return f"(profiling failed: exit {measured['exit']}: {stderr.strip()[-300:]})"
    out = _PstatsText()
    stats = pstats.Stats(str(path), stream=out)  # type: ignore[arg-type]
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(15)
    path.unlink()
    text = "".join(out.parts)
    return text[text.find("   ncalls"):].rstrip() if "   ncalls" in text else text


class _PstatsText:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


def without_compression(kubeconfig: str | Path) -> Path:
    """The kubeconfig with `disable-compression: true` on its cluster, which kubectl (1.26+) and
    the plugin honour: client and server share the loopback, where compressing only costs."""
    import yaml

    path = Path(kubeconfig)
    document = yaml.safe_load(path.read_text())
    for cluster in document["clusters"]:
        cluster["cluster"]["disable-compression"] = True
    path.write_text(yaml.safe_dump(document))
    return path


def apiserver_memory_limit(pods: int) -> str:
    """GOMEMLIMIT for kube-apiserver: a soft limit its garbage collector keeps the heap under,
    twice what its watch cache held of the benchmark's cluster (40 KB a pod, measured at 20,000)
    and 1 GiB more. Without it the heap grows to twice what is live before each collection:
    2.5 GB at 20,000 pods, so some 12 GB at 100,000, on a machine shared by others."""
    return f"{(1 << 30) + pods * 80 * 1024}B"


def measure_size(shape: Shape, runs: int, runner_env: dict[str, str], scratch: Path, kubectl: str | None,
                 pods_only: bool, profile: bool, server_kind: str = "test", memory_cap: int | None = None,
                 baseline: Path | None = None, kubectl_runs: int | None = None) -> SizeResult:
    kinds: Counter[str] = Counter()
    sizes: list[int] = []
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    print(f"\n== {shape.pods:,} pods, {shape.namespaces} namespaces, {shape.nodes} nodes: generating and "
          "serializing the cluster", flush=True)
    server: Any
    if server_kind == "real":
        from tests.realapi.server import RealApiServer

        objects = list(counted(cluster_objects(shape), kinds, sizes))
        server = RealApiServer(objects, tokens={TOKEN: "admin"}, log=sys.stdout,
                               apiserver_env={"GOMEMLIMIT": apiserver_memory_limit(shape.pods)})
        del objects  # the server's copy goes once loaded
        print(f"   creating {sum(kinds.values()):,} objects in a real kube-apiserver "
              f"(GOMEMLIMIT={server.apiserver_env['GOMEMLIMIT']})", flush=True)
    else:
        server = ApiServer(counted(cluster_objects(shape), kinds, sizes))
    build_seconds = time.perf_counter() - started
    with server:
        load_seconds = getattr(server, "load_seconds", 0.0)
        compressed = None
        memory_loading = ""
        if server_kind == "real":
            total = sum(kinds.values())
            print(f"   loaded {total:,} objects in {load_seconds:.0f} s ({total / load_seconds:,.0f} objects/s)",
                  flush=True)
            server.objects = []
            memory_loading = server_memory(zip(("etcd", "kube-apiserver"), server.pids, strict=True))
            print(f"   while loading: {memory_loading}; compacting etcd and restarting kube-apiserver", flush=True)
            settled = time.perf_counter()
            server.settle()
            print(f"   settled in {time.perf_counter() - settled:.0f} s", flush=True)
            compressed = Path(server.write_kubeconfig(scratch / f"kubeconfig-{shape.pods}-gzip"))
        kubeconfig = without_compression(server.write_kubeconfig(scratch / f"kubeconfig-{shape.pods}"))
        env = dict(runner_env, KUBECONFIG=str(kubeconfig))
        # Sized now, with the server up: what is left is what kubectl may have.
        cap = MemoryCap.create(memory_cap or default_memory_cap()) if kubectl else None
        runner = Runner(scratch, env, cap)
        throttling = "not measured (no kubectl)"
        if kubectl:
            # Discovery is cached per server; fill the cache as a user's kubectl would have it.
            subprocess.run([kubectl, "api-resources"], env=env, capture_output=True, check=False)
        cases = cluster_cases(server, kubectl, pods_only, compressed, baseline)
        print(f"   served {sum(kinds.values()):,} objects ({build_seconds:.1f} s); {runs} run(s) per case", flush=True)
        floor: list[float] = []

        def report_run(result: CaseResult, run: Run) -> None:
            if result.case.key == "a":
                floor.append(run.wall)
            ratio = f"{run.wall / statistics.median(floor):5.2f}x floor" if floor else ""
            cpu = f"  server {run.server_cpu:5.1f} s CPU" if run.server_cpu is not None else ""
            print(f"   ({result.case.key:>2}) {run.wall:8.2f} s  {run.rss / 2**20:7.0f} MiB  "
                  f"{len(run.requests):4d} requests  {ratio}{cpu}  {run.output}", flush=True)

        results = run_cases(cases, runs, runner, server, shape.pods, report_run, kubectl_runs)
        for r in results:
            if r.error:
                print(f"   ({r.case.key:>2}) FAILED: {r.error}", flush=True)
        if kubectl:
            throttling = kubectl_throttling(runner, kubectl)
            print(f"   {throttling}", flush=True)
        if cap:
            print(f"   kubectl ran under a memory cap of {_mib(cap.limit)}", flush=True)
        breakdown = cpu_breakdown(runner)
        profile_text = ""
        if profile:
            main = next(r for r in reversed(results[1:3]) if r.case.command)
            print(f"   profiling ({main.case.key}) under cProfile", flush=True)
            assert main.case.command is not None
            profile_text = profile_scan(runner, main.case.command)
        if cap:
            cap.remove()
        memory = ""
        if server_kind == "real":
            memory = (f"while loading, {memory_loading}; after kube-apiserver's restart, during the runs: "
                      + server_memory(zip(("etcd", "kube-apiserver"), server.pids, strict=True)))
            print(f"   {memory}", flush=True)
    pod_bytes = (round(statistics.mean(sizes)), min(sizes), max(sizes)) if sizes else (0, 0, 0)
    return SizeResult(shape, kinds, pod_bytes, build_seconds, results, throttling,
                      (load_before, os.getloadavg()[0]), profile_text, server_kind, load_seconds, memory,
                      cap.limit if cap else 0, breakdown, kubectl_runs)


# -- start-up and offline throughput -----------------------------------------------------------------

@dataclass
class Timing:
    label: str
    walls: list[float]
    rss: int
    detail: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def measure_startup(runner: Runner, runs: int) -> list[Timing]:
    commands = [
        ("`python -c pass` (the interpreter alone)", [sys.executable, "-c", "pass"]),
        ("`kubectl-dockershim --help`", [sys.executable, str(PLUGIN), "--help"]),
        ("`kubectl-dockershim version`", [sys.executable, str(PLUGIN), "version"]),
    ]
    timings = []
    for label, command in commands:
        walls, rss = [], 0
        for _ in range(runs):
            measured, stdout_path, stderr = runner.measure(command)
            Path(stdout_path).unlink(missing_ok=True)
            if measured["exit"] != 0:
                raise RuntimeError(f"{label} exited {measured['exit']}: {stderr[-500:]}")
            walls.append(measured["wall"])
            rss = max(rss, measured["maxrss"])
        timings.append(Timing(label, walls, rss))
        print(f"   {label}: median {statistics.median(walls) * 1000:.0f} ms", flush=True)
    return timings


def measure_files(runner: Runner, scratch: Path, documents: int, runs: int) -> list[Timing]:
    """`scan -f` on a generated folder, next to PyYAML's stock loader and the plugin's reader alone
(`bench/floor.py files`) on it."""
    folder = scratch / "manifests"
    folder.mkdir()
    manifests = write_manifests(str(folder), documents)
    detail = (f"{manifests.documents:,} documents in {manifests.files:,} files ({manifests.bytes / 2**20:.1f} MiB; "
              f"{manifests.with_findings} depend on Docker)")
    commands = [
        ("reference: PyYAML's stock `CSafeLoader` (and `json.loads`) on every file, nothing else",
         [sys.executable, str(FLOOR), "files", str(folder)]),
        ("floor: the plugin's own reader (`plugin.sources.files`) on every file, no rule run",
         [sys.executable, str(FLOOR), "files", "--reader", "plugin", str(folder)]),
        ("`kubectl-dockershim scan -f FOLDER -o json`", [sys.executable, str(PLUGIN), "scan", "-f", str(folder),
                                                          "-o", "json"]),
    ]
    timings = [Timing(label, [], 0, detail) for label, _ in commands]
    for _ in range(runs):
        for timing, (label, command) in zip(timings, commands, strict=True):
            measured, stdout_path, stderr = runner.measure(command)
            if measured["exit"] != 0:
                raise RuntimeError(f"{label} exited {measured['exit']}: {stderr[-500:]}")
            output = json.loads(Path(stdout_path).read_text())
            Path(stdout_path).unlink()
            if "items" in output:
                timing.detail = f"{detail}; {len(output['items'])} findings reported"
            elif output["documents"] != manifests.documents:
                raise RuntimeError(f"the parsing floor read {output['documents']} documents, not {documents}")
            timing.walls.append(measured["wall"])
            timing.rss = max(timing.rss, measured["maxrss"])
    shutil.rmtree(folder)
    for timing in timings:
        print(f"   {timing.label}: {documents / timing.median:,.0f} documents/s", flush=True)
    return timings


# -- the report --------------------------------------------------------------------------------------

def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def _seconds(value: float) -> str:
    return f"{value:,.2f} s" if value >= 1 else f"{value * 1000:,.0f} ms"


def machine_lines(kubectl: str | None, revision: str, server_kind: str = "test") -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        memory_kib = int(f.readline().split()[1])
    kubectl_version = "not found"
    if kubectl:
        out = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True,
                             check=False).stdout
        try:
            kubectl_version = json.loads(out)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError):
            kubectl_version = "unknown"
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {memory_kib / 2**20:.1f} GiB; {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()} ({sys.executable}); kubectl {kubectl_version}",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; plugin from {ROOT} "
        f"(git {revision} when the run started)",
        "- Client and server on the same machine over loopback HTTPS: the server (the project's test API "
        "server, Python, pre-serialized objects) competes with the client for the same cores."
        if server_kind == "test" else _real_server_line(),
    ]


def _real_server_line() -> str:
    from tests.realapi.build import etcd_version, kubernetes_version

    return (f"- Client and server on the same machine over loopback HTTPS: kube-apiserver {kubernetes_version()} "
            f"and etcd {etcd_version()} (built by tests/realapi/; watch cache on, audit log at Metadata level, "
            "etcd without fsync, kube-apiserver's GOMEMLIMIT at 1 GiB + 80 KiB a pod) compete with the client for "
            "the same cores.")


def _git_revision() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                         text=True, check=False).stdout.strip()
    return out or "unknown"


def size_table(size: SizeResult) -> list[str]:
    floor = size.case("a")
    floor_median = floor.median if floor and floor.ok else None
    real = size.server == "real"
    lines = [
        "| case | median wall | min–max | peak RSS | requests (pod pages) | vs floor | "
        + ("server CPU | " if real else "") + "output |",
        "|---|---:|---:|---:|---:|---:|" + ("---:|" if real else "") + "---|",
    ]
    for r in size.cases:
        title = f"({r.case.key}) {r.case.title}".replace("|", "\\|")  # a pipe would end the cell
        if r.capped_out:
            seconds, cap = r.capped_out
            ratio = f"> {seconds / floor_median:.2f}×" if floor_median else "—"
            lines.append(f"| {title} | > {_seconds(seconds)} | — | > {_mib(cap)} | — | {ratio} | "
                         + ("— | " if real else "") + f"killed by the memory cap after {_seconds(seconds)} |")
            continue
        if not r.ok:
            reason = r.error or r.case.note or "not run"
            lines.append(f"| {title} | — | — | — | — | — | " + ("— | " if real else "") + f"{reason} |")
            continue
        ratio = f"{r.median / floor_median:.2f}×" if floor_median else "—"
        pages = max(pod_pages(run.requests) for run in r.runs)
        cpu = ""
        if real:
            cpu = f"{_seconds(statistics.median(run.server_cpu or 0.0 for run in r.runs))} | "
        lines.append(f"| {title} | {_seconds(r.median)} | {_seconds(min(r.walls))}–{_seconds(max(r.walls))} | "
                     f"{_mib(r.rss)} | {r.requests} ({pages}) | {ratio} | {cpu}{r.runs[-1].output} |")
    return lines


def size_section(size: SizeResult, runs: int) -> list[str]:
    shape = size.shape
    kinds = ", ".join(f"{n:,} {k}s" for k, n in size.objects.most_common())
    mean, low, high = size.pod_bytes
    lines = [
        f"### {shape.pods:,} pods",
        "",
        f"{shape.namespaces} namespaces of ordinary services and {shape.nodes} worker nodes: {kinds}. "
        f"A pod is {mean / 1000:.1f} KB of JSON on average ({low / 1000:.1f}–{high / 1000:.1f} KB); "
        f"{math.ceil(shape.pods / PAGE_SIZE)} page(s) of {PAGE_SIZE}. Median of {runs} run(s), round-robin"
        + (f"; the kubectl cases (d), (d0) and (e) {size.kubectl_runs} run(s), in the first round(s)."
           if size.kubectl_runs is not None and size.kubectl_runs < runs else "."),
        "",
        *size_table(size),
        "",
        "Requests by resource (last run of each case):",
        "",
    ]
    lines += [f"- ({r.case.key}) {request_breakdown(r.runs[-1].requests)}" for r in size.cases if r.ok]
    lines += ["", *breakdown_lines(size)]
    lines += ["", "Every client was told not to ask for compressed answers (`disable-compression: true` in the "
                  "kubeconfig, which kubectl and the plugin honour): client and server share the loopback, where "
                  "compressing only costs CPU"
                  + (", and the test server never compresses." if size.server == "test" else
                     "; case (cz) shows what the real server's gzip costs (kubectl's and the plugin's default).")]
    if size.memory_cap:
        lines += ["", f"kubectl ran in a memory cgroup of {_mib(size.memory_cap)} (`--kubectl-memory`; by default what "
                      "the machine had available once the server was up, less 4 GiB for the others sharing it): a "
                      "case killed by it needs more memory than that, and more time than it ran."]
    if size.server == "real":
        total = sum(size.objects.values())
        lines += ["", f"Loading: {total:,} objects created through the API in {_seconds(size.load_seconds)} "
                      f"({total / size.load_seconds:,.0f} objects/s: {LOAD_WORKERS} requests at a time over "
                      "keep-alive connections, owners before what they own, each pod's status written through "
                      "the status subresource). Then etcd was compacted and defragmented and kube-apiserver "
                      "restarted, as a server that has run for a while is: its watch cache holds the objects, not "
                      "the event history of the load. Server CPU is the user and system time of kube-apiserver "
                      f"and etcd during each run (median); memory: {size.server_memory}."]
    lines += ["", f"kubectl's client-side rate limiting: {size.throttling}.", "",
              f"1-minute load average before and after these runs: {size.load[0]:.2f} and {size.load[1]:.2f} "
              f"({os.cpu_count()} cores; anything else running on the machine shows in the min–max spread).", ""]
    return lines


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def targets_section(size: SizeResult, startup: list[Timing], files: Timing | None, documents: int) -> list[str]:
    """The issue's targets, each met or not, with the numbers."""
    floor, docs = size.case("a"), size.case("d")
    lines = [f"## The issue's targets (at {size.shape.pods:,} pods)", "",
             "| target | measured | verdict |", "|---|---|---|"]
    for key in ("b", "c"):
        scan = size.case(key)
        if scan is None or not scan.ok:
            continue
        with_templates = size.case("c")
        label = f"({key}) " + ("scan -A --pods-only" if key == "b" and with_templates and with_templates.ok
                               else "scan -A")
        if floor and floor.ok:
            ratio = scan.median / floor.median
            lines.append(f"| {label}: ≤ {TARGET_RATIO}× the floor's wall time | {_seconds(scan.median)} vs "
                         f"{_seconds(floor.median)}: {ratio:.2f}× | {verdict(ratio <= TARGET_RATIO)} |")
        lines.append(f"| {label}: peak RSS < {_mib(TARGET_RSS)} | {_mib(scan.rss)} | "
                     f"{verdict(scan.rss < TARGET_RSS)} |")
        run = scan.runs[-1]
        pages = pod_pages(run.requests)
        listed = _list_pages(run.requests)
        extra = len(run.requests) - pages - listed
        lines.append(f"| {label}: requests ≤ pod pages + a small constant per namespace scope "
                     f"(≤ {TARGET_EXTRA_REQUESTS}) | {len(run.requests)} = {pages} pod pages"
                     + (f" + {listed} workload-list pages" if listed else "")
                     + f" + {extra} other (owners, nodes) | {verdict(extra <= TARGET_EXTRA_REQUESTS)} |")
        if docs and docs.ok:
            faster = scan.median < docs.median
            smaller = scan.rss < docs.rss
            lines.append(f"| {label}: ahead of the docs' query (d) in time and memory | {_seconds(scan.median)} "
                         f"vs {_seconds(docs.median)}; {_mib(scan.rss)} vs {_mib(docs.rss)} | "
                         f"{verdict(faster and smaller)} |")
        elif docs and docs.capped_out:
            seconds, cap = docs.capped_out
            lines.append(f"| {label}: ahead of the docs' query (d) in time and memory | {_seconds(scan.median)} "
                         f"vs more than {_seconds(seconds)}; {_mib(scan.rss)} vs more than {_mib(cap)} (killed by "
                         f"the memory cap) | {verdict(scan.median < seconds and scan.rss < cap)} |")
    help_timing = next((t for t in startup if "--help" in t.label), None)
    if help_timing:
        lines.append(f"| `--help` < {TARGET_HELP_SECONDS * 1000:.0f} ms | {_seconds(help_timing.median)} | "
                     f"{verdict(help_timing.median < TARGET_HELP_SECONDS)} |")
    if files:
        rate = documents / files.median
        lines.append(f"| `scan -f` ≥ {TARGET_DOCS_PER_SECOND:,} documents/s | {rate:,.0f} documents/s | "
                     f"{verdict(rate >= TARGET_DOCS_PER_SECOND)} |")
    return lines + [""]


def _list_pages(requests: Iterable[RequestRecord]) -> int:
    """Pages of cluster-wide workload lists: what `scan -A` reads for templates (owner lookups,
    by contrast, are namespaced)."""
    workloads = ("/replicasets", "/deployments", "/daemonsets", "/statefulsets", "/jobs", "/cronjobs",
                 "/replicationcontrollers")
    return sum(1 for r in requests if r.path.endswith(workloads) and "/namespaces/" not in r.path)


# What the numbers owe to which design choice, measured when each was made (docs/benchmarks.md
# is regenerated whole, so this text lives here).
HOW_SECTION = [
    "## Where the time goes, and what was done about it",
    "",
    "- **Decoding JSON is the floor.** Case (a) is almost all `json.loads` (with the cycle collector off); "
    "the plugin decodes the same bytes the same way, into plain dicts (never the client's model classes).",
    "- **The server works while the plugin scans.** The next page is asked for as soon as a page is decoded, "
    "before it is scanned (`ApiClient.list_pages(prefetch=True)`): the server prepares and sends it into the "
    "connection's buffers meanwhile. Only one page is held at a time: the previous one is let go before the "
    "next is decoded.",
    "- **Queries are compiled**, and the two that run on every pod are walked by hand. Every field is read "
    "through a jmespath expression, parsed once and turned into Python closures (`plugin/queries.py`); the "
    "Docker-client words (env names, commands, args, exec probes) and the hostPath volumes are read by two "
    "loops (`plugin/podspec.py`) that tests hold equal to their queries, 2× faster than the closures. Rules "
    "that cannot match a pod (no hostPath, no \"docker\" anywhere) make no generator.",
    "- **The ReplicaSets Deployments made are not listed** (`labelSelector=!pod-template-hash`, the label "
    "their controller gives them): their templates are their Deployment's, which is scanned, and their pods "
    "are scanned as pods; the owner walk of the pods with findings reads the few it needs. A real server's "
    "ReplicaSet metadata is 5 KB (managedFields list every field of the template), ten revisions per "
    "Deployment by default.",
    "- **The other ReplicaSets and the Jobs are listed as metadata only** (`as=PartialObjectMetadataList`): "
    "those owned by a listed workload (a CronJob's Jobs, a Rollout's ReplicaSets) repeat its template, which "
    "is scanned instead; the few standalone ones are then read whole. Metadata pages grow from 500 to 2,000 "
    "items only while a page stays within 4 MiB: 2,000 of a real server's ReplicaSets decoded to 130 MB.",
    "- **The owner index keeps one copy of each string** (namespaces, owners' kinds, names and uids, which "
    "every ReplicaSet of a Deployment repeats): 20 MiB instead of 29 for 53,000 workloads.",
    "- **Only the Kubernetes client's modules the plugin uses are imported** (`plugin/kubernetes_client.py`), "
    "not the 800 API and model modules its package imports: 0.3 s and 35 MiB less for every scan.",
    "- **The cycle collector is tuned** (`plugin.pipeline.settle_garbage_collector`): imports are frozen and "
    "young objects are collected every 50,000 allocations instead of 700. Decoded pages hold no reference "
    "cycles; the default made the collector walk each 150,000-object page over and over, about a quarter "
    "of the scan.",
    "- **Offline, documents stream** through the rules and only findings are kept; the YAML loader "
    "remembers the type of each plain scalar and builds plain trees itself, leaving aliases, merge keys "
    "and explicit tags to PyYAML (`plugin/sources/files.py`), which makes it faster than PyYAML's stock "
    "`CSafeLoader`.",
    "",
]


def write_report(path: Path, sizes: list[SizeResult], startup: list[Timing], files: list[Timing],
                 documents: int, runs: int, kubectl: str | None, command: str, revision: str) -> None:
    real = bool(sizes) and sizes[0].server == "real"
    lines = [
        "# Benchmarks against a real kube-apiserver" if real else "# Benchmarks",
        "",
        ("The same cluster and cases as [the test-server report](benchmarks.md), served by a real "
         "kube-apiserver and etcd: kubectl reads protobuf from it, as in production. " if real else "")
        + "How fast and how small `kubectl dockershim scan` is on a large cluster, next to the least work any "
        "client must do (the floor) and to what users run today (the Kubernetes docs' query through "
        "`kubectl`). Generated by `bench/run.py`; rerun it with:",
        "",
        "```sh",
        command,
        "```",
        "",
        *([] if real else ["The same cases against a real kube-apiserver and etcd (`--server real`): "
                           "[benchmarks-realapi.md](benchmarks-realapi.md).", ""]),
        "## Machine",
        "",
        *machine_lines(kubectl, revision, sizes[0].server if sizes else "test"),
        "",
        *targets_section(sizes[0], startup, files[-1] if files else None, documents),
        *([] if real else HOW_SECTION),
        "## Cluster scans",
        "",
        "Each case is a fresh process, timed from its start to its exit (`bench/measure.py`). Peak RSS is "
        "the largest `ru_maxrss` of the process and its descendants, and for the shell pipelines at least "
        "the largest sum over the pipeline's processes sampled every 50 ms. Requests are those the server "
        "logged during the run (its log is cleared before each). kubectl runs with a warm discovery cache.",
        "",
    ]
    for size in sizes:
        lines += size_section(size, runs)
    if startup:
        lines += ["## Start-up", "", "| command | median | min–max | peak RSS |", "|---|---:|---:|---:|"]
        for t in startup:
            lines.append(f"| {t.label} | {_seconds(t.median)} | {_seconds(min(t.walls))}–{_seconds(max(t.walls))} | "
                         f"{_mib(t.rss)} |")
        lines += ["", f"Median of {len(startup[0].walls)} runs each.", ""]
    if files:
        lines += ["## Offline throughput: `scan -f`", "", f"On {files[-1].detail}; median of {runs} run(s).", "",
                  "| command | median | min–max | documents/s | peak RSS |", "|---|---:|---:|---:|---:|"]
        for t in files:
            lines.append(f"| {t.label} | {_seconds(t.median)} | {_seconds(min(t.walls))}–{_seconds(max(t.walls))} | "
                         f"{documents / t.median:,.0f} | {_mib(t.rss)} |")
        lines.append("")
    for size in sizes:
        if size.profile:
            lines += [f"## Profile of the plugin's scan at {size.shape.pods:,} pods", "",
                      "One run under cProfile (which slows it down): top functions by cumulative time, then by "
                      "own time.", "", "```", size.profile, "```", ""]
    # Its own section of the file: the other scripts' sections (bench/probe.py's, ...) stay.
    write_section(path, "bench/run.py", "\n".join(lines), head=True)


# -- main --------------------------------------------------------------------------------------------

def find_kubectl() -> str | None:
    search = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    return shutil.which("kubectl", path=search)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, action="append", metavar="N",
                        help="pods in the synthetic cluster; repeat for several sizes, the first is judged "
                             "against the targets (default: 100000)")
    parser.add_argument("--runs", type=int, default=3, metavar="R", help="runs per case (default: 3)")
    parser.add_argument("--kubectl-runs", type=int, metavar="K",
                        help="runs of the kubectl cases, which take minutes each at 100,000 pods: in the first K "
                             "rounds only (default: --runs)")
    parser.add_argument("--documents", type=int, default=10_000, help="manifest documents for scan -f")
    parser.add_argument("--out", help="the Markdown report (default: docs/benchmarks.md, with --server real "
                                      "docs/benchmarks-realapi.md)")
    parser.add_argument("--profile", action="store_true", help="also profile the plugin's scan under cProfile")
    parser.add_argument("--server", choices=("test", "real"), default="test",
                        help="serve the cluster from the test API server (default) or a real kube-apiserver "
                             "(built on first use; report: docs/benchmarks-realapi.md)")
    parser.add_argument("--kubectl-memory", type=float, metavar="GIB",
                        help="the memory cap of the kubectl cases, in GiB (default: what the machine has "
                             "available once the server is up, less 4 GiB, at most 16)")
    parser.add_argument("--baseline", metavar="CHECKOUT",
                        help="also run (b) and (c) with the plugin of another checkout (e.g. a worktree of main), "
                             "as (b0) and (c0): before and after, on the same server and machine")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run for CI (300 pods, 1 run, 200 documents; report in a temporary file)")
    args = parser.parse_args(argv)
    pod_counts = args.pods or [100_000]
    startup_runs = 10
    if args.out is None:
        args.out = str(ROOT / "docs" / ("benchmarks-realapi.md" if args.server == "real" else "benchmarks.md"))
    if args.smoke:
        pod_counts, args.runs, args.documents, startup_runs = [300], 1, 200, 3
        args.out = os.path.join(tempfile.gettempdir(), f"kubectl-dockershim-bench-smoke-{args.server}.md")
    kubectl = find_kubectl()
    pods_only = plugin_has_pods_only()
    revision = _git_revision()
    command = "python bench/run.py " + " ".join(
        [f"--pods {n}" for n in pod_counts] + ([f"--runs {args.runs}"] if args.runs != 3 else [])
        + (["--profile"] if args.profile else []) + (["--server real"] if args.server == "real" else [])
        + ([f"--kubectl-runs {args.kubectl_runs}"] if args.kubectl_runs is not None else [])
        + ([f"--baseline {args.baseline}"] if args.baseline else []) + (["--smoke"] if args.smoke else []))
    print(f"kubectl: {kubectl or 'not found'}; scan --pods-only: {'yes' if pods_only else 'no'}", flush=True)

    failed = False
    with tempfile.TemporaryDirectory(prefix="kubectl-dockershim-bench-") as scratch_name:
        scratch = Path(scratch_name)
        env = dict(os.environ, KUBECACHEDIR=str(scratch / "kube-cache"))
        env.pop("KUBECONFIG", None)
        sizes = []
        for pods in pod_counts:
            size = measure_size(Shape.for_pods(pods), args.runs, env, scratch, kubectl, pods_only, args.profile,
                                args.server, None if args.kubectl_memory is None else int(args.kubectl_memory * 2**30),
                                Path(args.baseline).resolve() if args.baseline else None, args.kubectl_runs)
            # A case the memory cap stopped was measured (it needs more than the cap), not failed.
            failed |= any(r.error and not r.capped_out for r in size.cases) or not kubectl
            sizes.append(size)
        runner = Runner(scratch, env)
        startup: list[Timing] = []
        files: list[Timing] = []
        try:
            if args.server == "test":  # neither reaches a server: measured once, with the test server
                print("\n== start-up", flush=True)
                startup = measure_startup(runner, startup_runs)
                print(f"== scan -f on {args.documents:,} documents", flush=True)
                files = measure_files(runner, scratch, args.documents, args.runs)
        except RuntimeError as e:
            print(f"FAILED: {e}", flush=True)
            failed = True
        out = Path(args.out)
        write_report(out, sizes, startup, files, args.documents, args.runs, kubectl, command, revision)

    print("\n== ratios to the floor (median wall time)")
    for size in sizes:
        floor = size.case("a")
        for r in size.cases:
            if r.ok and floor and floor.ok:
                print(f"   {size.shape.pods:>7,} pods ({r.case.key:>2}) {r.median / floor.median:6.2f}x  "
                      f"{_seconds(r.median):>10}  {_mib(r.rss):>10}  {r.case.title}")
            elif not r.ok:
                print(f"   {size.shape.pods:>7,} pods ({r.case.key:>2})      —  {r.error or r.case.note}")
    print(f"\nreport: {out}")
    if failed:
        print("FAILED: a case did not run (see above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
