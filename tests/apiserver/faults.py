"""Injected failures, so reliability tests can see how a client copes with a misbehaving server.

A `Fault` matches requests by path prefix (and optionally only page requests carrying
`continue`); each match uses up one of its `times`. It can delay, answer an error `Status`
with extra headers (e.g. 429 with `Retry-After`), or drop the connection without answering.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Fault:
    path_prefix: str = "/"
    status: int | None = 500  # None: only `delay`, then the request is served normally
    times: int | None = 1  # None: every matching request, for as long as the fault is listed
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None  # default: the reason the real server uses for `status`
    message: str | None = None
    close_connection: bool = False
    delay: float = 0.0
    on_continue_only: bool = False
    hits: int = 0  # how many requests this fault has affected

    def matches(self, path: str, is_continue: bool) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.on_continue_only and not is_continue:
            return False
        return path.startswith(self.path_prefix)


_lock = threading.Lock()


def take_fault(faults: Sequence[Fault], path: str, is_continue: bool) -> Fault | None:
    """The first fault matching this request, with one use consumed; None if none matches."""
    with _lock:  # concurrent requests must not both consume the last use
        for fault in faults:
            if fault.matches(path, is_continue):
                if fault.times is not None:
                    fault.times -= 1
                fault.hits += 1
                return fault
    return None
