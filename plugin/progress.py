"""Progress on stderr for long scans: shown only when stderr is a terminal, and only once a
scan has taken longer than a moment, so scripts, pipes and quick scans never see it."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from plugin.models import SourceObject
from plugin.printers.escape import terminal_text

DELAY = 1.0  # seconds before the first line: most scans finish sooner
INTERVAL = 0.25  # seconds between updates


class Progress:
    """Counts the objects flowing through a scan and redraws one status line."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._enabled = _is_terminal(self._stream)
        self._start = clock()
        self._last = self._start
        self._shown = False
        self.counts: Counter[str] = Counter()

    def track(self, objects: Iterable[SourceObject], label: str = "") -> Iterator[SourceObject]:
        for source in objects:
            self.counts[source.kind] += 1
            if self._enabled and sum(self.counts.values()) % 100 == 0:
                self._maybe_draw(label)
            yield source

    def _maybe_draw(self, label: str) -> None:
        now = self._clock()
        if now - self._start < DELAY or now - self._last < INTERVAL:
            return
        self._last = now
        read = ", ".join(f"{n:,} {kind}s" for kind, n in sorted(self.counts.items()))
        prefix = f"{label}: " if label else ""
        # kinds come from files and the label from the kubeconfig: only our own \r and ESC are raw
        self._stream.write(f"\r\x1b[2K{terminal_text(prefix + 'read ' + read)} ...")
        self._stream.flush()
        self._shown = True

    def done(self) -> None:
        """Erase the status line, so the report starts on a clean line."""
        if self._shown:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()
            self._shown = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
