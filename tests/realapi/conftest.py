"""The real servers this tier starts (through `tests.realapi.pool.POOL`) stop when the session ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.realapi.pool import POOL


@pytest.fixture(scope="session", autouse=True)
def stop_real_servers() -> Iterator[None]:
    yield
    POOL.stop_all()
