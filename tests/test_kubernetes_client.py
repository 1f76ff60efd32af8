"""The plugin imports the few modules of the Kubernetes client it uses, not the whole client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """
import sys
from plugin.api import ApiClient
from plugin.kubeconfig import ConnectionFlags, load_connection

connection = load_connection(ConnectionFlags(server="https://127.0.0.1:6443", token="t"), {"HOME": sys.argv[1]})
ApiClient(connection)
print(sorted(m for m in sys.modules if m.startswith("kubernetes.client.models") or m == "kubernetes.client.api"))
import kubernetes.client
made = kubernetes.client.ApiClient(configuration=connection.configuration)  # what an OIDC refresh makes
print(type(made).__module__, type(made).__name__, "kubernetes.client.models" in sys.modules)
"""


def test_a_connection_loads_no_api_or_model_class_and_an_api_client_is_still_the_real_one(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.splitlines() == ["[]", "kubernetes.client.api_client ApiClient True"]


CONCURRENT = """
import sys, threading
from plugin.kubeconfig import ConnectionFlags, load_connection

errors = []
barrier = threading.Barrier(8)

def connect():
    barrier.wait()
    try:
        load_connection(ConnectionFlags(server="https://127.0.0.1:6443", token="t"), {"HOME": sys.argv[1]})
    except Exception as err:
        errors.append(repr(err))

threads = [threading.Thread(target=connect) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors)
"""


def test_contexts_connecting_at_once_all_get_the_client(tmp_path: Path) -> None:
    # --all-contexts connects from one thread per context: the first sets the client up, the others wait.
    for _ in range(3):
        result = subprocess.run([sys.executable, "-c", CONCURRENT, str(tmp_path)], cwd=ROOT, capture_output=True,
                                text=True, check=True)
        assert result.stdout.strip() == "[]"
