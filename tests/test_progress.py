"""Progress lines appear only on a terminal, only after a moment, and are erased at the end."""

from __future__ import annotations

import io

from plugin.models import Origin, SourceObject
from plugin.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(stream: io.StringIO, seconds_per_object: float, n: int = 1000) -> Progress:
    """Scan n objects, each taking `seconds_per_object` of a fake clock."""
    now = [0.0]

    def objects():
        for _ in range(n):
            now[0] += seconds_per_object
            yield SourceObject("Pod", "v1", {}, Origin())

    progress = Progress(stream, lambda: now[0])
    assert len(list(progress.track(objects(), "prod"))) == n
    progress.done()
    return progress


def test_a_slow_scan_on_a_terminal_shows_progress_then_erases_it() -> None:
    stream = Terminal()
    progress = run(stream, seconds_per_object=0.008)
    text = stream.getvalue()
    # nothing during the first second (100 objects = 0.8 s), then a line every 100 objects
    assert "\r\x1b[2Kprod: read 100 Pods ..." not in text
    assert "\r\x1b[2Kprod: read 200 Pods ..." in text and "\r\x1b[2Kprod: read 1,000 Pods ..." in text
    assert text.endswith("\r\x1b[2K")
    assert progress.counts == {"Pod": 1000}


def test_quick_scans_and_pipes_show_nothing() -> None:
    quick = Terminal()
    run(quick, seconds_per_object=0.0000001)
    assert quick.getvalue() == ""
    pipe = io.StringIO()  # not a terminal
    run(pipe, seconds_per_object=0.01)
    assert pipe.getvalue() == ""
