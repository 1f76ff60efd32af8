"""`Status` error bodies worded as the real API server words them.

kubectl prints `Error from server (<reason>): <message>` from these bodies, so the reason and
message strings are what the end-to-end tests compare against.
"""

from __future__ import annotations

import json
from typing import Any

from tests.apiserver.resources import Resource

# Reasons the real server uses for each status code (k8s.io/apimachinery metav1.StatusReason).
REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list "
    "- objects that were created, modified, or deleted between the time the first chunk was returned "
    "and now may show up in the list."
)
DEFAULT_MESSAGES = {
    401: "Unauthorized",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected fault",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing "
         "the request",
}


def status_body(code: int, message: str | None = None, reason: str | None = None,
                details: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message if message is not None else DEFAULT_MESSAGES.get(code, ""),
        "reason": reason or REASONS.get(code, "Unknown"),
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return json.dumps(body, separators=(",", ":")).encode()


def _details(resource: Resource, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    return details


def not_found(resource: Resource, name: str) -> bytes:
    return status_body(404, f'{resource.qualified} "{name}" not found', details=_details(resource, name))


def forbidden(user: str, verb: str, resource: Resource | str, group: str, namespace: str,
              name: str | None) -> bytes:
    """403 as the apiserver's authorization filter writes it (responsewriters.forbiddenMessage)."""
    if isinstance(resource, Resource):
        plural, qualified, details = resource.plural, resource.qualified, _details(resource, name)
    else:  # impersonation targets (users, groups, uids) are not served resources
        plural = resource
        qualified = f"{resource}.{group}" if group else resource
        details = {**({"name": name} if name else {}), **({"group": group} if group else {}), "kind": resource}
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    reason = f'User "{user}" cannot {verb} resource "{plural}" in API group "{group}" {scope}'
    subject = f'{qualified} "{name}"' if name else qualified
    return status_body(403, f"{subject} is forbidden: {reason}", details=details)
