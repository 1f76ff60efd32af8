"""The few modules of the Kubernetes Python client the plugin uses, imported on their own.

The plugin uses the client's `Configuration`, its kubeconfig and in-cluster loaders and the
urllib3 pool its REST client builds: a dozen modules. Importing any of them the usual way runs
the package's `__init__`, which imports every API and model class the client has (some 800
modules): 0.3 s and 35 MiB of every scan, a third of the plugin's memory at 100,000 pods. So
`load()` registers the `kubernetes` and `kubernetes.client` packages without running their
`__init__` and imports the modules wanted from them. `kubernetes.client.ApiClient`, which only
an OIDC token refresh uses, imports the real class (and the models) when first called.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from typing import Any

# Contexts are scanned in threads (--all-contexts): one sets the packages up while the others wait.
_LOCK = threading.Lock()


def load() -> None:
    """Make `kubernetes.client.Configuration`, `kubernetes.client.rest` and `kubernetes.config.*`
    importable without the client's package `__init__`. Nothing is done when `kubernetes` is
    already imported (whole, or by an earlier call), or cannot be found (its import then fails
    as it would have)."""
    with _LOCK:
        if "kubernetes" in sys.modules:
            return
        specs = [importlib.util.find_spec("kubernetes")]
        if specs[0] is None:
            return
        package = importlib.util.module_from_spec(specs[0])  # its __init__ not run
        sys.modules["kubernetes"] = package
        spec = importlib.util.find_spec("kubernetes.client")
        if spec is None:
            del sys.modules["kubernetes"]
            return
        client = importlib.util.module_from_spec(spec)
        sys.modules["kubernetes.client"] = client
        package.client = client  # type: ignore[attr-defined]
        from kubernetes.client.configuration import Configuration

        client.Configuration = Configuration  # type: ignore[attr-defined]
        client.ApiClient = _ApiClient  # type: ignore[attr-defined]


class _ApiClient:
    """Stands for `kubernetes.client.ApiClient` (the kubeconfig loader names it at import):
    making one makes the real one."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.api_client import ApiClient

        return ApiClient(*args, **kwargs)
