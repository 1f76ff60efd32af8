"""Pod logs for the test API server: `GET /api/v1/namespaces/NS/pods/NAME/log`, the one subresource
it serves (`nodes --probes` reads the node-probe DaemonSet's reports there). A test sets the text
in `ApiServer.pod_logs[(namespace, name)]`; a pod that exists with no text set has an empty log, as
a container that printed nothing. `limitBytes` is honoured. Access needs verb `get` on `pods/log`, as RBAC has it."""

from __future__ import annotations

from collections.abc import Mapping

from tests.apiserver import status
from tests.apiserver.policy import Policy
from tests.apiserver.resources import POD
from tests.apiserver.store import Store


def log_target(segments: list[str]) -> tuple[str, str] | None:
    """(namespace, pod name) of a pod log path, or None for any other path."""
    if len(segments) == 7 and segments[:3] == ["api", "v1", "namespaces"] and segments[4] == "pods" \
            and segments[6] == "log":
        return segments[3], segments[5]
    return None


def pod_log(store: Store, logs: Mapping[tuple[str, str], str], policy: Policy | None, user: str,
            namespace: str, name: str, query: Mapping[str, list[str]]) -> tuple[int, bytes]:
    """(status, body) of a pod log request."""
    if policy is not None and not policy.allows(user, "get", "pods/log", namespace, name):
        message = (f'pods "{name}" is forbidden: User "{user}" cannot get resource "pods/log" in API group "" '
                   f'in the namespace "{namespace}"')
        return 403, status.status_body(403, message, details={"name": name, "kind": "pods"})
    if store.get(POD, namespace, name) is None:
        return 404, status.not_found(POD, name)
    body = logs.get((namespace, name), "").encode()
    limit = query.get("limitBytes", [""])[-1]
    if limit.isdigit():
        body = body[:int(limit)]
    return 200, body
