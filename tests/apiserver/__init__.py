"""A test Kubernetes API server (HTTPS, JSON, read-only) for end-to-end tests and benchmarks.

Start an `ApiServer` with a list of Kubernetes objects, write a kubeconfig for it, run the real
`kubectl` or the plugin against it, and assert on `server.requests`. `Policy`/`Rule` restrict
what users may read; `Fault` injects errors for reliability tests.
"""

from tests.apiserver.faults import Fault
from tests.apiserver.policy import Policy, Rule
from tests.apiserver.server import ApiServer, RequestRecord

__all__ = ["ApiServer", "Fault", "Policy", "RequestRecord", "Rule"]
