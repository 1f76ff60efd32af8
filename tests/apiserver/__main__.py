"""Run the test API server by hand: `python -m tests.apiserver --objects FILE [FILE ...]`.

Loads Kubernetes objects from JSON or YAML files (List objects are flattened), serves them,
writes a kubeconfig when asked, prints the server URL and serves until interrupted or killed.
Run it from the repository root so that `tests` is importable.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from tests.apiserver.server import ApiServer


def flatten(documents: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Objects from parsed documents; `List` and `<Kind>List` documents yield their items."""
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind", "")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
            # Items of a typed list (PodList) carry no kind, as the API server sends them.
            item_kind = kind[: -len("List")] or None
            for item in doc["items"]:
                if isinstance(item, dict):
                    if item_kind and "kind" not in item:
                        item = {"apiVersion": doc.get("apiVersion"), "kind": item_kind, **item}
                    yield from flatten([item])
        else:
            yield doc


def load_objects(paths: Iterable[str]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if path.endswith(".json"):
            documents: Iterable[Any] = [json.loads(text)]  # much faster than YAML for big files
        else:
            documents = list(yaml.safe_load_all(text))
        objects.extend(flatten(documents))
    return objects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.apiserver", description=__doc__)
    parser.add_argument("--objects", nargs="+", default=[], metavar="FILE", help="JSON or YAML files")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--kubeconfig", metavar="OUT", help="write a kubeconfig (token admin-token) here")
    args = parser.parse_args(argv)

    server = ApiServer(load_objects(args.objects), port=args.port).start()
    stopped = threading.Event()
    # SIGTERM must end the process through the cleanup below (temporary certificate files).
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        if args.kubeconfig:
            server.write_kubeconfig(args.kubeconfig)
        print(server.url, flush=True)
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
