"""Injected failures, so reliability tests can see how a client copes with a misbehaving server.

A `Fault` matches requests by path prefix (and optionally only page requests carrying
`continue`); each match uses up one of its `times`. It can delay, answer an error `Status`
with extra headers (e.g. 429 with `Retry-After`), drop the connection without answering, or
(`mode`) send one of the hostile answers below instead of the real one. Each mode is one failure
a server on the Internet can send and the client must survive, bounded and with a clear error:

- `SLOW_BODY`: the real answer's headers at once, then its body one byte every `interval` seconds.
- `SLOW_HEADERS`: the real answer, its status line and headers sent one byte every `interval` seconds.
- `HUGE_BODY`: a 200 whose body is `size` bytes of JSON (one object with one huge string),
  announced by its Content-Length.
- `ENDLESS_CHUNKED`: a 200 with a chunked body that never ends (megabytes of JSON whitespace).
- `GZIP_BOMB`: a 200 with `Content-Encoding: gzip` whose body is small on the wire and decodes to
  `size` bytes (gzip members of whitespace, one after the other, as gzip allows).
- `ITEMS_OBJECT`: the real list page with `items` turned into an object keyed by name (combine
  with `on_continue_only` to break page 2 and later only).
- `ITEMS_NOT_A_LIST`: the real list page with `items` a string.
- `FAILED_STATUS_200`: HTTP 200 carrying a failed `Status` (an aggregated API or proxy's bug).
- `REPEATING_CONTINUE`: the first page, with a `continue` token that is always the same; requests
  carrying it get the first page again (use `times=None`).
- `ENDLESS_PAGES`: an empty page with a new `continue` token each time, for ever (use `times=None`).

A server that requires a client certificate is not a fault but a server option
(`ApiServer(require_client_certificate=True)`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

SLOW_BODY = "slow-body"
SLOW_HEADERS = "slow-headers"
HUGE_BODY = "huge-body"
ENDLESS_CHUNKED = "endless-chunked"
GZIP_BOMB = "gzip-bomb"
ITEMS_OBJECT = "items-object"
ITEMS_NOT_A_LIST = "items-not-a-list"
FAILED_STATUS_200 = "failed-status-200"
REPEATING_CONTINUE = "repeating-continue"
ENDLESS_PAGES = "endless-pages"
MODES = frozenset({SLOW_BODY, SLOW_HEADERS, HUGE_BODY, ENDLESS_CHUNKED, GZIP_BOMB, ITEMS_OBJECT, ITEMS_NOT_A_LIST,
                   FAILED_STATUS_200, REPEATING_CONTINUE, ENDLESS_PAGES})


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
    mode: str | None = None  # one of MODES: a hostile answer instead of `status`
    size: int = 2 << 30  # bytes of body (HUGE_BODY) or of decoded body (GZIP_BOMB)
    interval: float = 1.0  # SLOW_BODY, SLOW_HEADERS: seconds between two bytes
    hits: int = 0  # how many requests this fault has affected

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(f"unknown fault mode {self.mode!r}; known: {sorted(MODES)}")

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
