"""Read-only access to the API server: paginated lists and single gets, as raw JSON dicts.

Requests go straight through the urllib3 pool the Kubernetes client builds from a filled
`Configuration` (so TLS, client certificates and proxies are set up exactly as the client would),
but bodies are decoded with `json.loads` and never turned into the client's model classes, which
is both much faster and keeps every field the server sent. Lists are paged with `limit` and
`continue`, each page handed over as soon as it arrives. Only GET is ever sent. Every failure
becomes an `ApiError` worded the way kubectl words it, with the HTTP status and the Status reason
kept for callers that degrade instead of failing (a forbidden owner lookup).
"""

from __future__ import annotations

import errno
import json
import re
import socket
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from plugin import __version__
from plugin.errors import ApiError
from plugin.kubeconfig import Connection
from plugin.resources import Resource

USER_AGENT = f"kubectl-dockershim/{__version__}"
# kubectl's dialer gives up on a connection after 30 s even with --request-timeout=0.
CONNECT_TIMEOUT = 30.0
# How much of a non-Status error body goes into the message.
BODY_EXCERPT = 200

# client-go's wording when an error response carries no Status (NewGenericServerResponse).
_GENERIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    409: ("Conflict", "the server reported a conflict"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may still be "
                    "processing the request"),
}
_TLS_VERIFY_REASONS = {
    # OpenSSL verify codes -> Go's x509 wording, which is what kubectl users search for.
    18: "x509: certificate signed by unknown authority",
    19: "x509: certificate signed by unknown authority",
    20: "x509: certificate signed by unknown authority",
    21: "x509: certificate signed by unknown authority",
    9: "x509: certificate has expired or is not yet valid",
    10: "x509: certificate has expired or is not yet valid",
}


class ApiClient:
    """GETs against one API server, as one user; `request_count` counts what was sent."""

    def __init__(self, connection: Connection) -> None:
        import urllib3
        from kubernetes.client.rest import RESTClientObject

        self._connection = connection
        self._server = connection.server.rstrip("/")
        self._pool = RESTClientObject(connection.configuration).pool_manager
        timeout = connection.timeout
        self._timeout = urllib3.Timeout(
            connect=min(timeout, CONNECT_TIMEOUT) if timeout else CONNECT_TIMEOUT, read=timeout)
        if not connection.configuration.verify_ssl:
            import warnings

            # --insecure-skip-tls-verify was asked for; kubectl does not warn on every request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self.request_count = 0

    def list_pages(self, resource: Resource, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Each page's `items`, as the pages arrive; namespace None lists across all namespaces."""
        path = resource.path(_segment(namespace) if namespace else None)
        continue_token = ""
        while True:
            query: list[tuple[str, str]] = []
            if label_selector:
                query.append(("labelSelector", label_selector))
            if field_selector:
                query.append(("fieldSelector", field_selector))
            if limit > 0:
                query.append(("limit", str(limit)))
            if continue_token:
                query.append(("continue", continue_token))
            status, body = self._get(path, query)
            if status != 200:
                raise _error_for(status, body, resource, None)
            document = _decode(body, path)
            items = document.get("items")
            yield [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
            metadata = document.get("metadata") or {}
            continue_token = (metadata.get("continue") or "") if isinstance(metadata, dict) else ""
            if not continue_token:
                return

    def get(self, resource: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """One object, or None when the server says 404."""
        path = resource.path(_segment(namespace) if namespace else None, _segment(name))
        status, body = self._get(path, [])
        if status == 404:
            return None
        if status != 200:
            raise _error_for(status, body, resource, name)
        return _decode(body, path)

    def _get(self, path: str, query: list[tuple[str, str]]) -> tuple[int, bytes]:
        """Send one GET; returns (status, body bytes). The only place a request is made."""
        import urllib3

        url = self._server + path + (f"?{urlencode(query)}" if query else "")
        headers = urllib3.HTTPHeaderDict()
        headers.add("Accept", "application/json")
        headers.add("Accept-Encoding", "gzip")
        headers.add("User-Agent", USER_AGENT)
        authorization = self._connection.authorization()
        if authorization:
            headers.add("Authorization", authorization)
        for name, value in self._connection.headers:
            headers.add(name, value)  # add, not set: Impersonate-Group repeats once per group
        self.request_count += 1
        try:
            # retries=False: a failure surfaces at once as the underlying error, and a redirect
            # comes back as a response instead of being followed to another host with our token.
            response = self._pool.request("GET", url, headers=headers, retries=False, redirect=False,
                                          timeout=self._timeout, preload_content=True)
        except Exception as err:
            raise self._connection_error(err) from None
        return response.status, response.data

    def _connection_error(self, err: BaseException) -> ApiError:
        import urllib3

        parts = urlsplit(self._server)
        host = parts.hostname or ""
        address = parts.netloc.rpartition("@")[2]
        port = parts.port or (443 if parts.scheme == "https" else 80)
        dial = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
        causes = list(_causes(err))

        def first(kind: type[BaseException]) -> Any:
            return next((c for c in causes if isinstance(c, kind)), None)

        verify = first(ssl.SSLCertVerificationError)
        if verify is not None:
            return _unable(f"tls: failed to verify certificate: {_verify_reason(verify)}")
        resolution = first(socket.gaierror)
        if resolution is not None or first(urllib3.exceptions.NameResolutionError) is not None:
            code = getattr(resolution, "errno", None)
            if code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME), None):
                return _unable(f"dial tcp: lookup {host}: no such host")
            return _unable(f"dial tcp: lookup {host}: {_strerror(resolution)}")
        if first(ConnectionRefusedError) is not None:
            return ApiError(f"The connection to the server {address} was refused - did you specify the "
                            "right host or port?")
        if first(urllib3.exceptions.ProxyError) is not None:
            return _unable(f"proxyconnect tcp: {_short(causes[-1])}")
        if (first(TimeoutError) is not None or first(urllib3.exceptions.ReadTimeoutError) is not None
                or any(type(c) is urllib3.exceptions.ConnectTimeoutError for c in causes)):
            if self._connection.timeout is None and first(urllib3.exceptions.ReadTimeoutError) is None:
                return _unable(f"dial tcp {dial}: i/o timeout")
            return _unable("net/http: request canceled (Client.Timeout exceeded while awaiting headers)")
        tls = first(ssl.SSLError)
        if tls is not None:
            return _unable(_tls_reason(tls))
        if first(ConnectionResetError) is not None:
            return _unable(f"read tcp {dial}: connection reset by peer")
        oserror = next((c for c in causes if isinstance(c, OSError) and c.errno), None)
        if oserror is not None and oserror.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return _unable(f"dial tcp {dial}: connect: {_strerror(oserror)}")
        if first(ConnectionError) is not None or first(urllib3.exceptions.ProtocolError) is not None:
            return _unable("EOF")  # the server closed the connection without an answer
        return _unable(_short(causes[-1]))


def _segment(value: str) -> str:
    # Names come from the user's arguments and objects; keep them one path segment each.
    return quote(value, safe="")


def _decode(body: bytes, path: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ApiError(f"error: the server returned a response that is not a JSON object for GET {path}",
                       status=200)
    return document


def _error_for(status: int, body: bytes, resource: Resource, name: str | None) -> ApiError:
    """kubectl's line for an error response: from its Status if it sent one, else client-go's."""
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = None
    if isinstance(document, dict) and document.get("kind") == "Status" and document.get("status") != "Success":
        message = str(document.get("message") or "")
        reason = str(document.get("reason") or "")
        if reason == "Unauthorized" or (status == 401 and not reason):
            text = message or _GENERIC_ERRORS[401][1]
            return ApiError(f"error: You must be logged in to the server ({text})", status, "Unauthorized")
        if not message:
            message = _generic_message(status, body, resource, name)[1]
        if reason:
            return ApiError(f"Error from server ({reason}): {message}", status, reason)
        return ApiError(f"Error from server: {message}", status, reason)

    reason, message = _generic_message(status, body, resource, name)
    if status == 401:
        return ApiError(f"error: You must be logged in to the server ({message})", status, reason)
    return ApiError(f"Error from server ({reason}): {message}", status, reason)


def _generic_message(status: int, body: bytes, resource: Resource, name: str | None) -> tuple[str, str]:
    text = body.decode("utf-8", errors="replace").strip()[:BODY_EXCERPT]
    if status in _GENERIC_ERRORS:
        reason, message = _GENERIC_ERRORS[status]
    elif status == 403:
        reason, message = "Forbidden", text or "forbidden"
    elif status >= 500:
        reason, message = "InternalError", f"an error on the server ({json.dumps(text)}) has prevented " \
                                           "the request from succeeding"
    else:
        reason = "Unknown"
        message = f"the server responded with the status code {status} but did not return more information"
    if status == 401:
        return reason, message
    group_resource = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
    target = f"{group_resource} {name}" if name else group_resource
    return reason, f"{message} (get {target})"


def _unable(reason: str) -> ApiError:
    return ApiError(f"Unable to connect to the server: {reason}")


def _causes(err: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: urllib3 nests the socket or TLS error in args or reason."""
    seen: set[int] = set()
    stack = [err]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        stack.extend(e for e in linked if isinstance(e, BaseException))


def _verify_reason(err: ssl.SSLCertVerificationError) -> str:
    if err.verify_code in _TLS_VERIFY_REASONS:
        return _TLS_VERIFY_REASONS[err.verify_code]
    message = str(err.verify_message or err.reason or "")
    mismatch = re.search(r"not valid for '([^']*)'", message)
    if mismatch:
        return f"x509: certificate is not valid for {mismatch.group(1)}"
    return f"x509: {message[:1].lower()}{message[1:]}".rstrip(".")


def _tls_reason(err: ssl.SSLError) -> str:
    reason = err.reason or ""
    if reason == "WRONG_VERSION_NUMBER":
        return "http: server gave HTTP response to HTTPS client"
    # Client certificate problems surface here, when the pool first loads the pair.
    if reason == "KEY_VALUES_MISMATCH":
        return "tls: private key does not match public key"
    if "PEM lib" in str(err) or reason in ("NO_START_LINE", "PEM_LIB"):
        return "tls: failed to load the client certificate and key: not valid PEM data"
    if "ALERT_" in reason:
        # TLSV13_ALERT_CERTIFICATE_REQUIRED -> "remote error: tls: certificate required", as Go says it.
        return "remote error: tls: " + reason.split("ALERT_", 1)[1].lower().replace("_", " ")
    return f"tls: {reason.lower().replace('_', ' ')}" if reason else _short(err)


def _strerror(err: BaseException | None) -> str:
    text = getattr(err, "strerror", None) or str(err)
    return text[:1].lower() + text[1:]


def _short(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:BODY_EXCERPT]
