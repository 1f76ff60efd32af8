"""Fixtures of the real-server tier: the shared real servers, stopped when the session ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e import cluster
from tests.e2e.conftest import TOKENS  # the same users as the e2e suite
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer


@pytest.fixture(scope="session")
def real_server() -> Iterator[RealApiServer]:
    """The e2e test cluster on a real kube-apiserver, every authenticated user allowed all."""
    yield POOL.get("e2e", cluster.objects, tokens=TOKENS)
    POOL.stop_all()
