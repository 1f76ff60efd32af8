"""Where one `kubectl-dockershim scan` spends its CPU time, list by list.

`python bench/breakdown.py SCAN-ARGUMENTS...` (with KUBECONFIG set, from anywhere) runs the
plugin's `scan` in this process with `ApiClient.list_pages` wrapped, and prints, as JSON, the
CPU time of the whole run and, for each resource listed, its pages, the CPU time spent inside
`list_pages` (sending, reading and decoding the pages, and freeing the one before) and the CPU
time the scan spent on its objects between two pages. What is left is start-up (imports, the
kubeconfig), owners, the report and its printing. `bench/run.py` runs it once per cluster size
for its report: the difference between the floor and `scan -A`, stage by stage.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_START = time.process_time()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    import plugin.api
    from plugin.cli import main as plugin_main

    listed: Counter[str] = Counter()
    scanned: Counter[str] = Counter()
    pages: Counter[str] = Counter()
    original = plugin.api.ApiClient.list_pages

    def timed(self: Any, resource: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        key = resource.plural + (" (metadata)" if kwargs.get("metadata_only") else "")
        inner = original(self, resource, *args, **kwargs)
        handed_over = None
        while True:
            started = time.process_time()
            if handed_over is not None:
                scanned[key] += started - handed_over
            try:
                page = next(inner)
            except StopIteration:
                listed[key] += time.process_time() - started
                return
            listed[key] += time.process_time() - started
            pages[key] += 1
            handed_over = time.process_time()
            yield page

    plugin.api.ApiClient.list_pages = timed  # type: ignore[method-assign]
    stdout = sys.stdout
    with open(os.devnull, "w", encoding="utf-8") as sink:
        sys.stdout = sink
        try:
            code = plugin_main(["scan", *argv])
        finally:
            sys.stdout = stdout
    total = time.process_time() - _START
    print(json.dumps({"exit": code, "cpu": total,
                      "lists": {k: {"pages": pages[k], "list": listed[k], "scan": scanned[k]} for k in listed},
                      "rest": total - sum(listed.values()) - sum(scanned.values())}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
