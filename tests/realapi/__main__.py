"""`python -m tests.realapi serve`: a real kube-apiserver and etcd on loopback, by hand.

Builds whatever is missing, starts both servers loaded with the end-to-end test cluster
(`--empty` for none), prints the path of an admin kubeconfig as the first line of standard
output, and runs until SIGINT or SIGTERM, then stops both. `python -m tests.realapi build` only
builds, and prints where the binaries are.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.realapi.build import BuildError, ensure_built


def serve(empty: bool) -> int:
    from tests.e2e.cluster import objects
    from tests.realapi.server import RealApiServer

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    # The servers' data, certificates and the kubeconfig live in one temporary folder, removed at the end.
    server = RealApiServer([] if empty else objects(), log=sys.stderr)
    try:
        server.start()
        kubeconfig = server.write_kubeconfig(server.workdir / "admin.kubeconfig", context="realapi")
        print(kubeconfig, flush=True)
        print(f"realapi: kube-apiserver {server.url} ready in {server.startup_seconds:.1f}s (pids {' '.join(map(str, server.pids))}); "
              f"tokens: {', '.join(server.tokens)}; Ctrl-C stops", file=sys.stderr, flush=True)
        while not stop.wait(1):
            pass
    finally:
        server.stop()
        print("realapi: stopped", file=sys.stderr, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.realapi", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="build if needed, run until interrupted")
    serve_parser.add_argument("--empty", action="store_true", help="load no test objects")
    commands.add_parser("build", help="build kube-apiserver and etcd if missing, print their paths")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            built = ensure_built(sys.stderr)
            print(built.kube_apiserver)
            print(built.etcd)
            return 0
        return serve(args.empty)
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
