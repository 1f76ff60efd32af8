"""Real servers shared across a test session, one per named object set, started on first use.

Starting etcd and kube-apiserver costs seconds, so each object set (the e2e cluster, the edge
cluster, the big one) gets one instance for the whole session; policies of different test modules
are added to it as RBAC for their own users. Everything started is stopped at exit, by PID.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tests.apiserver import Policy
from tests.realapi.server import RealApiServer


class ServerPool:
    def __init__(self) -> None:
        self._servers: dict[str, RealApiServer] = {}

    def get(self, name: str, objects: Callable[[], list[dict[str, Any]]], *,
            tokens: Mapping[str, str] | None = None, policy: Policy | None = None,
            extra_args: Sequence[str] = ()) -> RealApiServer:
        server = self._servers.get(name)
        if server is None:
            server = RealApiServer(objects(), tokens=tokens, policy=policy, extra_args=extra_args).start()
            self._servers[name] = server
        elif policy is not None:
            server.apply_policy(policy)
        return server

    def stop_all(self) -> None:
        while self._servers:
            _, server = self._servers.popitem()
            server.stop()


POOL = ServerPool()
atexit.register(POOL.stop_all)
