"""Run one command and measure it: wall time and peak RSS of its whole process tree.

`python bench/measure.py RESULT_FILE [--shell] [--sample] -- COMMAND...` runs COMMAND with the
standard streams it was given, waits for it with `wait4`, and writes
`{"exit": N, "wall": seconds, "cpu": seconds, "maxrss": bytes, "tree_rss": bytes}` to RESULT_FILE
(`cpu`: user and system time of the command and the descendants it waited for).

`maxrss` is the largest `ru_maxrss` of the command and every descendant it waited for (a shell
waits for each process of its pipeline). It has to be measured from a small, fresh process
like this one: Linux starts a child's peak RSS from its parent's at fork, so a child of the
benchmark (which holds the whole synthetic cluster in memory) would report the benchmark's
size. `--sample` also reads the RSS of the whole process tree from /proc every 50 ms and
records the largest sum (`tree_rss`, 0 without it): for pipelines, whose processes run at the
same time. Only the standard library is imported, to keep this process small.
"""

from __future__ import annotations

import json
import os
import sys
import time

_PAGE = os.sysconf("SC_PAGE_SIZE")
_SAMPLE_SECONDS = 0.05


def tree_rss(root: int) -> int:
    """The summed resident memory of `root` and its descendants, in bytes (0 if gone)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents[int(name)] = int(fields[1])
        rss[int(name)] = int(fields[21]) * _PAGE
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree)


def measure(command: list[str], shell: bool = False, sample: bool = False) -> dict[str, float]:
    argv = ["/bin/bash", "-c", " ".join(command)] if shell else command
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ)
    peak = 0
    while True:
        if sample:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done == 0:
                peak = max(peak, tree_rss(pid))
                time.sleep(_SAMPLE_SECONDS)
                continue
        else:
            done, status, usage = os.wait4(pid, 0)
        break
    wall = time.perf_counter() - start
    return {"exit": os.waitstatus_to_exitcode(status), "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss": usage.ru_maxrss * 1024, "tree_rss": peak}


def main(argv: list[str]) -> int:
    if "--" not in argv or len(argv) < 3:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    split = argv.index("--")
    result_file, options, command = argv[0], argv[1:split], argv[split + 1:]
    result = measure(command, shell="--shell" in options, sample="--sample" in options)
    with open(result_file, "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
