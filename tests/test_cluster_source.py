"""The live source reads one page ahead in a background thread: same pages, same order, the
producer's errors where they happened, and never more than one page ahead of the caller."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from plugin.errors import ApiError
from plugin.sources.cluster import read_ahead


def test_pages_come_in_order_from_another_thread() -> None:
    threads: list[str] = []

    def pages() -> Iterator[int]:
        for page in range(5):
            threads.append(threading.current_thread().name)
            yield page

    assert list(read_ahead(pages())) == [0, 1, 2, 3, 4]
    assert set(threads) == {"read-ahead"}


def test_an_error_is_raised_at_the_page_it_replaced() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ApiError("the server is gone", 503, "ServiceUnavailable")

    received: list[int] = []
    with pytest.raises(ApiError, match="the server is gone"):
        for page in read_ahead(pages()):
            received.append(page)
    assert received == [1, 2]


def test_only_one_page_is_read_ahead() -> None:
    produced = 0

    def pages() -> Iterator[int]:
        nonlocal produced
        for page in range(6):
            produced += 1
            yield page

    ahead = []
    for page in read_ahead(pages()):
        # The page in hand plus at most the next one, which may still be in flight.
        ahead.append(produced - page - 1)
    assert max(ahead) <= 1 and produced == 6


def test_a_caller_that_stops_early_does_not_wait_for_the_rest() -> None:
    release = threading.Event()

    def pages() -> Iterator[int]:
        yield 0
        release.wait(10)  # a slow server: the next page takes long
        yield 1

    reader = read_ahead(pages())
    assert next(reader) == 0
    reader.close()  # returns at once; the page in flight is abandoned
    release.set()
