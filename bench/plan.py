"""What `plan` costs over `scan -A`, on the synthetic cluster of `bench/synthetic.py` served by the
project's test API server over HTTPS on loopback.

`python bench/plan.py [--pods 100000] [--nodes 500] [--runs 5] [--out docs/benchmarks.md]`. The
cluster's nodes are split into five pools (EKS node-group labels): two on Docker (one of them
through cri-dockerd), two on containerd, and one Docker pool tainted so that only what tolerates
the taint lands there; everything else is `bench/synthetic.py`'s cluster as `bench/run.py` measures
it. `kubectl-dockershim scan -A -o json` and `kubectl-dockershim plan -o json` run round-robin,
each run a fresh process measured by `bench/measure.py` (wall time, peak RSS) and by its CPU time,
the server's request log cleared before it. It writes its own section of docs/benchmarks.md
(`bench/sections.py`: it replaces only that section, and the other scripts keep it). A benchmark,
not a test: it fails only when a command fails or answers what it should not, never because of a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import write_section  # noqa: E402
from bench.synthetic import Shape, cluster_objects  # noqa: E402
from tests.apiserver import ApiServer  # noqa: E402

PLUGIN = ROOT / "kubectl-dockershim"
MEASURE = ROOT / "bench" / "measure.py"
SECTION = "bench/plan.py"  # its section of the report (bench/sections.py)
TARGET_RATIO = 1.10  # the issue's: at most 10% more than scan -A
POOL_LABEL = "eks.amazonaws.com/nodegroup"
# (pool, containerRuntimeVersion, kubeletVersion, taints)
POOLS = (
    ("web", "docker://20.10.24", "v1.23.17", []),
    ("batch", "docker://24.0.7", "v1.27.3", []),
    ("general", "containerd://1.7.13", "v1.29.4", []),
    ("gpu", "docker://20.10.24", "v1.23.17", [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]),
    ("system", "containerd://1.7.13", "v1.29.4", []),
)


def with_pools(objects: Iterator[dict[str, Any]], nodes: int) -> Iterator[dict[str, Any]]:
    """The synthetic cluster with its worker nodes split into POOLS, in order of their names."""
    index = 0
    for obj in objects:
        if obj["kind"] == "Node" and "node-role.kubernetes.io/control-plane" not in obj["metadata"]["labels"]:
            name, runtime, kubelet, taints = POOLS[min(index * len(POOLS) // nodes, len(POOLS) - 1)]
            obj["metadata"]["labels"][POOL_LABEL] = name
            obj["status"]["nodeInfo"].update(containerRuntimeVersion=runtime, kubeletVersion=kubelet)
            if taints:
                obj["spec"]["taints"] = taints
            index += 1
        yield obj


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(command: list[str], env: dict[str, str], scratch: Path) -> tuple[dict[str, Any], str]:
    """(measure.py's result, stdout) of one run. The result gains `cpu`: the user and system time
    of the command (and of measure.py, a few ms), which other work on the machine delays but does
    not add to, unlike the wall time; the test API server runs in this process and is not in it."""
    result_path, out_path = scratch / "result.json", scratch / "out.json"
    cpu_before = _children_cpu()
    with open(out_path, "wb") as out:
        done = subprocess.run([sys.executable, str(MEASURE), str(result_path), "--", *command], stdout=out,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, check=False)
    result = json.loads(result_path.read_text())
    result["cpu"] = _children_cpu() - cpu_before
    if result["exit"] != 0:
        raise RuntimeError(f"{' '.join(command[1:])} exited {result['exit']}: {done.stderr.decode()[-1000:]}")
    return result, out_path.read_text()


def summary(key: str, stdout: str, pods: int) -> str:
    """What the run printed, in a few words; raises ValueError when it is not what it should be."""
    doc = json.loads(stdout)
    if doc["metadata"]["scanned"].get("Pod") != pods:
        raise ValueError(f"{key} read {doc['metadata']['scanned'].get('Pod')} pods, not {pods}")
    if key == "scan":
        return f"{len(doc['items'])} findings"
    statuses = Counter(p["status"] for p in doc["pools"])
    # the control-plane nodes carry no pool label: the group without a name
    if sorted(str(p["name"]) for p in doc["pools"]) != sorted([*(name for name, *_ in POOLS), "None"]):
        raise ValueError(f"plan found the pools {[p['name'] for p in doc['pools']]}")
    blockers = sum(len(p["blockers"]) for p in doc["pools"])
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) + f"; {blockers} blockers"


def plan_stage(kubeconfig: str, runs: int = 5) -> dict[str, float]:
    """The plan's own work on top of what `scan -A -o json` does, timed in this process on the
    report and nodes `plan_cluster` read (median of `runs`): the nodes into pools (`plan_node`),
    and the plan itself (pools, scheduling checks, first steps; `build_plan`)."""
    from plugin.api import ApiClient
    from plugin.kubeconfig import ConnectionFlags, load_connection
    from plugin.pipeline import plan_cluster
    from plugin.plan import build_plan, plan_node
    from plugin.report import DEFAULT_SEVERITIES, filter_severities
    from plugin.resources import NODES
    from plugin.rules import RuleSettings

    flags = ConnectionFlags(kubeconfig=kubeconfig)
    report = filter_severities(plan_cluster(flags, RuleSettings(), all_namespaces=True)[0], DEFAULT_SEVERITIES)
    raw = [n for page in ApiClient(load_connection(flags)).list_pages(NODES) for n in page]
    convert, build = [], []
    for _ in range(runs):
        started = time.perf_counter()
        converted = [plan_node(n) for n in raw]
        convert.append(time.perf_counter() - started)
        started = time.perf_counter()
        build_plan(report, converted, severities=DEFAULT_SEVERITIES)
        build.append(time.perf_counter() - started)
    return {"nodes": len(raw), "workloads": len({(i.namespace, i.owner.kind, i.owner.name) for i in report.items}),
            "convert": statistics.median(convert), "build": statistics.median(build)}


def _counted(requests: Counter[str]) -> str:
    """`/api/v1/nodes` (2 pages): the requests one run sent and the other did not."""
    return ", ".join(f"`{path}` ({n} page{'s' if n != 1 else ''})" for path, n in sorted(requests.items())) or "none"


def breakdown(paths: list[str]) -> str:
    counts = Counter(p.rstrip("/").rsplit("/", 1)[-1] for p in paths)
    return ", ".join(f"{k} {v}" for k, v in counts.most_common())


def section(shape: Shape, runs: int, results: dict[str, dict[str, Any]], table_paths: list[str], load: float,
            stage: dict[str, float]) -> str:
    scan, plan = results["scan"], results["plan"]
    ratio = statistics.median(plan["walls"]) / statistics.median(scan["walls"])
    cpu_ratio = statistics.median(plan["cpu"]) / statistics.median(scan["cpu"])
    extra = Counter(plan["paths"]) - Counter(table_paths)
    missing = Counter(table_paths) - Counter(plan["paths"])
    lines = [
        "## `plan` against `scan -A`", "",
        "Written by `python bench/plan.py` into its own section (`bench/sections.py`: the other scripts keep it).",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (Python {platform.python_version()}, "
        f"{os.cpu_count()} cores shared with the test API server, 1-minute load {load:.1f} when the runs began) on "
        f"`bench/synthetic.py`'s cluster of {shape.pods:,} pods and {shape.nodes} worker nodes, split into "
        f"{len(POOLS)} pools by `{POOL_LABEL}` (the 3 control-plane nodes have none): "
        + ", ".join(f"{n} ({r.split('://')[0]}{', tainted' if t else ''})" for n, r, _, t in POOLS)
        + f". Median of {runs} runs each, round-robin; peak RSS of the process.", "",
        "| command | median wall | min–max | median CPU | min–max | peak RSS | requests | output |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, label in (("scan", "`kubectl-dockershim scan -A -o json`"), ("plan", "`kubectl-dockershim plan -o json`")):
        r = results[key]
        lines.append(f"| {label} | {statistics.median(r['walls']):.2f} s | {min(r['walls']):.2f} s–"
                     f"{max(r['walls']):.2f} s | {statistics.median(r['cpu']):.2f} s | {min(r['cpu']):.2f} s–"
                     f"{max(r['cpu']):.2f} s | {max(r['rss']) / 2**20:.0f} MiB | {len(r['paths'])} | {r['output']} |")
    requests_ok = not missing and set(extra) == {"/api/v1/nodes"}
    lines += [
        "",
        "| target | measured | verdict |", "|---|---|---|",
        f"| plan costs at most {TARGET_RATIO - 1:.0%} more than scan -A: CPU time | {cpu_ratio:.3f}× scan's median "
        f"CPU time | {'**met**' if cpu_ratio <= TARGET_RATIO else '**not met**'} |",
        f"| plan costs at most {TARGET_RATIO - 1:.0%} more than scan -A: wall time | {ratio:.3f}× scan's median "
        f"wall time | {'**met**' if ratio <= TARGET_RATIO else '**not met**'} |",
        f"| requests: those of `scan -A` plus one node list | plan − scan: {_counted(extra)}; scan − plan: "
        f"{_counted(missing)} | {'**met**' if requests_ok else '**not met**'} |",
        "",
        "CPU time is the client's user and system time (the server runs in the benchmark's own process): "
        "the machine's other work delays a run, which shows in its wall time, but does not add to its CPU time.",
        "",
        f"`scan -A` (the table: {len(table_paths)} requests) lists no node; with `-o json` it lists them for "
        "`nodeRuntimes`, so the two json runs above send the same requests. 1-minute load average after the "
        f"runs: {os.getloadavg()[0]:.1f}.", "",
        f"Requests of plan by resource: {breakdown(plan['paths'])}.", "",
        f"The plan's own work beyond the scan, timed in the benchmark's process on the same cluster (median of 5): "
        f"reading the {stage['nodes']:.0f} nodes into pools {stage['convert'] * 1000:.0f} ms, building the plan "
        f"({stage['workloads']:.0f} workloads with findings placed on those nodes, their first steps) "
        f"{stage['build'] * 1000:.0f} ms: {(stage['convert'] + stage['build']) / statistics.median(scan['cpu']):.1%} "
        "of `scan -A`'s median CPU time (the node list itself, which `scan -A -o json` reads as well, not "
        "counted).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    shape = Shape.for_pods(args.pods, nodes=args.nodes)
    print(f"== {shape.pods:,} pods, {shape.nodes} nodes: generating and serving the cluster", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="plan-bench-") as folder, \
            ApiServer(with_pools(cluster_objects(shape), shape.nodes)) as server:
        scratch = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env["KUBECONFIG"] = str(server.write_kubeconfig(scratch / "kubeconfig"))
        print(f"   served in {time.perf_counter() - started:.0f} s", flush=True)
        commands = {"scan": [sys.executable, str(PLUGIN), "scan", "-A", "-o", "json"],
                    "plan": [sys.executable, str(PLUGIN), "plan", "-o", "json"]}
        results: dict[str, dict[str, Any]] = {k: {"walls": [], "cpu": [], "rss": [], "paths": [], "output": ""}
                                              for k in commands}
        load = os.getloadavg()[0]
        for run in range(args.runs):
            for key, command in commands.items():
                server.clear_requests()
                measured, stdout = measure(command, env, scratch)
                result = results[key]
                result["walls"].append(measured["wall"])
                result["cpu"].append(measured["cpu"])
                result["rss"].append(measured["maxrss"])
                result["paths"] = [r.path for r in server.requests]
                result["output"] = summary(key, stdout, shape.pods)
                print(f"   run {run + 1} {key}: {measured['wall']:6.2f} s wall {measured['cpu']:6.2f} s CPU "
                      f"{measured['maxrss'] / 2**20:5.0f} MiB "
                      f"{len(result['paths'])} requests; {result['output']}", flush=True)
        server.clear_requests()
        measure([sys.executable, str(PLUGIN), "scan", "-A"], env, scratch)
        table_paths = [r.path for r in server.requests]
        stage = plan_stage(env["KUBECONFIG"])
        print(f"   plan stage: nodes {stage['convert'] * 1000:.0f} ms, plan {stage['build'] * 1000:.0f} ms", flush=True)
    text = section(shape, args.runs, results, table_paths, load, stage)
    write_section(Path(args.out), SECTION, text)
    ratio = statistics.median(results["plan"]["walls"]) / statistics.median(results["scan"]["walls"])
    cpu = statistics.median(results["plan"]["cpu"]) / statistics.median(results["scan"]["cpu"])
    print(f"plan / scan -A: {ratio:.3f} wall, {cpu:.3f} CPU; written to {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
