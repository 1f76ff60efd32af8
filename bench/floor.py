"""The benchmark's floors: the least work any client must do, to measure the plugin against.

`python bench/floor.py pods --server URL --certificate-authority CA --token TOKEN` lists
`/api/v1/pods` across all namespaces with `limit=500` over one keep-alive HTTPS connection
(the same bearer token the other clients use), `json.loads` each page, drops it, and prints
`{"pages": P, "items": N, "bytes": B}`, with the cycle collector off (a decoded page holds no
reference cycle, and the collector's walks over each page's 150,000 objects would cost a fifth
of the run). It imports only the standard library, so start-up costs what the interpreter costs.

`python bench/floor.py files FOLDER` parses every .yaml, .yml and .json file of FOLDER with
PyYAML's stock libyaml-based `CSafeLoader` (and `json.loads`), what any Python tool would spend,
and prints `{"documents": N}`. With `--reader plugin` it reads them with the plugin's own reader
(`plugin.sources.files`, which is faster than the stock loader) and runs no rule: the floor of
offline scans.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import ssl
import sys
from urllib.parse import urlencode, urlsplit


def fetch_all(server: str, ca_file: str, token: str, limit: int = 500) -> tuple[int, int, int]:
    """(pages, items, bytes) of every pod page."""
    url = urlsplit(server)
    context = ssl.create_default_context(cafile=ca_file)
    connection = http.client.HTTPSConnection(url.hostname or "127.0.0.1", url.port or 443, context=context)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    pages = items = size = 0
    continue_token = ""
    try:
        while True:
            query = {"limit": str(limit)}
            if continue_token:
                query["continue"] = continue_token
            connection.request("GET", f"/api/v1/pods?{urlencode(query)}", headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET /api/v1/pods: HTTP {response.status}: {body[:200]!r}")
            page = json.loads(body)
            pages += 1
            size += len(body)
            items += len(page["items"])
            continue_token = page["metadata"].get("continue") or ""
            if not continue_token:
                return pages, items, size
    finally:
        connection.close()


def parse_all(folder: str) -> int:
    """The number of documents (List items counted one by one) in the manifests of `folder`."""
    import yaml  # only this mode needs it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    documents = 0
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith((".yaml", ".yml", ".json")):
                continue
            with open(os.path.join(root, name), encoding="utf-8") as f:
                text = f.read()
            parsed = [json.loads(text)] if name.endswith(".json") else yaml.load_all(text, Loader=loader)
            for doc in parsed:
                if isinstance(doc, dict) and isinstance(doc.get("items"), list):
                    documents += len(doc["items"])
                elif doc is not None:
                    documents += 1
    return documents


def read_all(folder: str) -> int:
    """The number of objects the plugin's reader yields from `folder`, each dropped at once."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from plugin.pipeline import settle_garbage_collector
    from plugin.sources.files import FileScan, stream_manifests

    settle_garbage_collector()  # as `scan -f` runs
    read = FileScan()
    documents = sum(1 for _ in stream_manifests([folder], read))
    if read.problems:
        raise SystemExit(f"unreadable manifests: {read.problems[:3]}")
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    pods = modes.add_parser("pods", help="list every pod page")
    pods.add_argument("--server", required=True, help="https://HOST:PORT")
    pods.add_argument("--certificate-authority", required=True, metavar="CA_FILE")
    pods.add_argument("--token", required=True)
    pods.add_argument("--limit", type=int, default=500)
    files = modes.add_parser("files", help="parse every manifest of a folder")
    files.add_argument("folder")
    files.add_argument("--reader", choices=("pyyaml", "plugin"), default="pyyaml",
                       help="PyYAML's stock CSafeLoader, or the plugin's own reader (default: pyyaml)")
    args = parser.parse_args(argv)
    if args.mode == "files":
        documents = read_all(args.folder) if args.reader == "plugin" else parse_all(args.folder)
        print(json.dumps({"documents": documents}))
        return 0
    gc.disable()
    pages, items, size = fetch_all(args.server, args.certificate_authority, args.token, args.limit)
    print(json.dumps({"pages": pages, "items": items, "bytes": size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
