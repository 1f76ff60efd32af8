"""Read-only access to the API server: paginated lists and single gets, as raw JSON dicts.

Requests go straight through the urllib3 pool the Kubernetes client builds from a filled
`Configuration` (so TLS, client certificates and proxies are set up exactly as the client would),
but bodies are decoded with `json.loads` and never turned into the client's model classes, which
is both much faster and keeps every field the server sent. Lists are paged with `limit` and
`continue`, each page handed over as soon as it arrives. Only GET is ever sent. Every failure
becomes an `ApiError` worded the way kubectl words it, with the HTTP status and the Status reason
kept for callers that degrade instead of failing (a forbidden owner lookup), and with every
credential of the connection masked, since an error body can echo what was sent.

Transient failures are retried (`RetryPolicy`): 429 and 500/502/503/504 answers and connections
the server dropped before answering completely, with exponential backoff or the server's
`Retry-After`. GETs are idempotent, so a retry can never change anything. Failures that another
try would only repeat, or that would make the user wait twice as long as they asked (refused
connections, TLS and DNS failures, TLS alerts such as a server demanding a client certificate,
timeouts), fail at once. A list whose `continue` token has expired (410) is restarted from the
beginning once, without handing over any object twice.

The server is not trusted to be sane: `--request-timeout` bounds each whole request, headers and
body, however slowly they trickle in; one response may hold at most `MAX_RESPONSE_BYTES` once
decoded (gzip included), read in bounded chunks; a 200 answer that is not the list or object
asked for (a failed Status, `items` that is not a list) is an error, never an empty or partial
answer; and a list whose `continue` token repeats, or that runs past `MAX_LIST_PAGES` pages, is
an error instead of an endless loop. Names and namespaces are checked (`plugin.validation`)
before they become a segment of a URL.
"""

from __future__ import annotations

import errno
import http.client
import json
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from plugin import __version__
from plugin.errors import ApiError, PluginError
from plugin.kubeconfig import Connection
from plugin.resources import PODS, Resource
from plugin.validation import check_name, check_namespace

USER_AGENT = f"kubectl-dockershim/{__version__}"
# kubectl's dialer gives up on a connection after 30 s even with --request-timeout=0.
CONNECT_TIMEOUT = 30.0
# How much of a non-Status error body goes into the message.
BODY_EXCERPT = 200
# Answers worth asking again: throttling and the server's (or its load balancer's) transient errors.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
JSON = "application/json"
# Lists of only the objects' metadata (the API server has served them since 1.15), with whole
# objects as the fallback for a server or proxy that does not know the form.
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
# Objects per page: kubectl's default chunk size. A metadata-only item is a few hundred bytes
# where clients never wrote managedFields, so metadata pages grow to 2,000 items while they stay
# within 4 MiB (about what 500 pods weigh); a real server's ReplicaSet metadata is 5 KB, most of
# it managedFields listing every field of the template, and 2,000 of them decoded to 130 MB.
PAGE = 500
METADATA_PAGE = 2000
METADATA_PAGE_BYTES = 4 << 20
# The most one response may hold once decoded. The largest real answer is a page of 500 pods of
# 64 KB each (big annotations, many containers): 32 MB. Eight times that leaves room for
# fatter objects and whole-object fallbacks of metadata lists, and still fails long before memory
# does: decoding 256 MiB of JSON takes about 1 GB, an unbounded read took 4 to 8 GB.
MAX_RESPONSE_BYTES = 256 << 20
# The most pages of one list. 150,000 pods (the largest cluster Kubernetes supports) are 300
# pages of 500; 10,000 pages also cover a server that pages by 15 objects. A list past it is a
# server that never says it is done.
MAX_LIST_PAGES = 10_000
# Bytes asked for per read of a body: each read returns what one TLS record holds (16 KB) or
# less, so the deadline is checked at least that often.
READ_CHUNK = 1 << 20
# How long to wait for a TLS alert when a connection broke during the handshake (see _tls_alert).
TLS_ALERT_WAIT = 2.0
# kubectl's lines when a body, or the status line and headers, are not read within --request-timeout.
BODY_TIMEOUT = ("unexpected error when reading response body. Please retry. Original error: context deadline "
                "exceeded (Client.Timeout or context cancellation while reading body)")
HEADERS_TIMEOUT = "Unable to connect to the server: context deadline exceeded"
# When the request being sent must be over (time.monotonic()), for the connection reading its
# status line and headers; per thread, as --all-contexts reads each context in its own.
_request_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


@dataclass(frozen=True)
class RetryPolicy:
    """At most `retries` more tries after the first; before try n+1 wait `base_delay * 2**n`
    seconds, or what the server's `Retry-After` asks, never more than `max_delay`. The defaults
    give up after 0.5 + 1 + 2 + 4 = 7.5 s of backoff (32 s at most if the server asks for more):
    long enough to ride out an API server restart or a throttling burst, short enough for a CLI."""

    retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (0 for the first)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return min(self.base_delay * 2 ** attempt, self.max_delay)


DEFAULT_RETRY = RetryPolicy()

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


@dataclass
class _SentEarly:
    """A GET sent before its answer is wanted (the next page of a list): the response, with its
    body still to read, or what sending it raised; its deadline, and when it was handed over."""

    deadline: float | None
    response: Any = None
    error: Exception | None = None
    handed_over: float = 0.0

    def discard(self) -> None:
        if self.response is not None:
            self.response.close()  # its body unread: the connection cannot carry another request
            self.response.release_conn()


def _list_query(label_selector: str | None, field_selector: str | None, limit: int,
                continue_token: str) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    if limit > 0:
        query.append(("limit", str(limit)))
    if continue_token:
        query.append(("continue", continue_token))
    return query


class ApiClient:
    """GETs against one API server, as one user; `request_count` counts what was sent (every
    try). `retry` and `sleep` are replaceable so tests need not wait."""

    def __init__(self, connection: Connection, *, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        import urllib3
        from kubernetes.client.rest import RESTClientObject

        self._connection = connection
        self._retry = retry if retry is not None else DEFAULT_RETRY
        self._sleep = sleep if sleep is not None else time.sleep
        # Credentials sent so far (an exec plugin may hand out a new token mid-run), to mask.
        self._sent_secrets: set[str] = set()
        self._server = connection.server.rstrip("/")
        self._pool = RESTClientObject(connection.configuration).pool_manager
        # Connections that cut themselves off at the request's deadline while awaiting headers.
        self._pool.pool_classes_by_scheme = _deadline_pool_classes()
        self._tls_checked = False  # _tls_alert looks once per client
        if not connection.configuration.verify_ssl:
            import warnings

            # --insecure-skip-tls-verify was asked for; kubectl does not warn on every request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self.request_count = 0

    def list_pages(self, resource: Resource, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, metadata_only: bool = False,
                   prefetch: bool = False) -> Iterator[list[dict[str, Any]]]:
        """Each page's `items`, as the pages arrive; namespace None lists across all namespaces.
        `metadata_only` asks for PartialObjectMetadata items (metadata, no spec or status): a
        caller must still accept whole objects, which an older server or a proxy may send.
        `limit` defaults to `PAGE` objects per page; metadata pages then grow up to
        `METADATA_PAGE` objects while they stay within `METADATA_PAGE_BYTES`. 0 is no limit.

        `prefetch` asks for the next page as soon as this one is decoded, before it is handed
        over: the server prepares and sends it, into the connection's buffers, while the caller
        works on this one (for a caller that sends no other request meanwhile, such as a scan).
        The time the caller spends between the two does not count against the request timeout.

        When the server expires the `continue` token (410) the list starts over once, and the
        objects already handed over are left out of the new pages: the caller sees every object
        at most once, those read before the restart as they were then and the others as they
        are now. To know which, the keys of the objects handed over are remembered as hashes
        while a list spans several pages (a few dozen bytes per object, against kilobytes for
        the object itself)."""
        path = resource.path(_namespace_segment(namespace) if namespace else None)
        what = f"the list of {resource.qualified_plural}"
        accept = METADATA_LIST if metadata_only else JSON
        growing = limit is None and metadata_only
        if limit is None:
            limit = PAGE
        continue_token = ""
        restarted = False
        handed_over: set[int] = set()
        tokens_seen: set[str] = set()  # of this pass over the list: a token seen again loops
        pages = 0
        early: _SentEarly | None = None
        try:
            while True:
                query = _list_query(label_selector, field_selector, limit, continue_token)
                status, body = self._get(path, query, accept, what=what, early=early)
                early = None
                if status == 410 and continue_token:
                    if restarted:
                        raise self._masked(_expired_twice(resource))
                    restarted, continue_token = True, ""
                    tokens_seen.clear()
                    continue
                if status != 200:
                    raise self._masked(_error_for(status, body, resource, None))
                document = self._decoded(body, path, resource, None)
                items = _list_items(document, resource, path)
                if growing and items:
                    limit = max(PAGE, min(METADATA_PAGE, METADATA_PAGE_BYTES * len(items) // max(len(body), 1)))
                del body  # the caller's work on this page need not keep its bytes too
                pages += 1
                metadata = document.get("metadata") or {}
                next_token = (metadata.get("continue") or "") if isinstance(metadata, dict) else ""
                next_token = next_token if isinstance(next_token, str) else ""
                if next_token:
                    # Checked before this page is handed over: what a looping list read so far must
                    # not look like the whole answer.
                    if next_token in tokens_seen or next_token == continue_token:
                        raise ApiError(f"error: the server sent the same continue token twice while listing "
                                       f"{resource.qualified_plural} (page {pages}): the list would never end")
                    if pages >= MAX_LIST_PAGES:
                        raise ApiError(f"error: {what} has more than {MAX_LIST_PAGES:,} pages, more than any "
                                       "cluster holds: not completed")
                    tokens_seen.add(next_token)
                if restarted:
                    items = [item for item in items if _object_key(item) not in handed_over]
                elif next_token or continue_token:  # a list of several pages: it may have to restart
                    handed_over.update(_object_key(item) for item in items)
                if next_token and prefetch:
                    early = self._send_early(path, _list_query(label_selector, field_selector, limit, next_token),
                                             accept)
                if items or not restarted:
                    yield items
                # One page at a time: this one is let go before the next is decoded.
                del items, document, metadata
                continue_token = next_token
                if not continue_token:
                    return
        finally:
            if early is not None:  # the caller stopped reading: the page asked for is not wanted
                early.discard()

    def get(self, resource: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """One object, or None when the server says 404."""
        path = resource.path(_namespace_segment(namespace) if namespace else None, _name_segment(name))
        group = f".{resource.group}" if resource.group else ""
        status, body = self._get(path, [], what=f'{resource.plural}{group} "{name}"')
        if status == 404:
            return None
        if status != 200:
            raise self._masked(_error_for(status, body, resource, name))
        return self._decoded(body, path, resource, name)

    def _decoded(self, body: bytes, path: str, resource: Resource, name: str | None) -> dict[str, Any]:
        """The JSON object of a 200 answer; a failed Status sent with 200 is the error it says."""
        document = _decode(body, path)
        if document.get("kind") == "Status" and document.get("status") == "Failure":
            code = document.get("code")
            status = code if isinstance(code, int) and not isinstance(code, bool) and code >= 400 else 500
            raise self._masked(_error_for(status, body, resource, name))
        return document

    def get_document(self, path: str, accept: str = JSON) -> dict[str, Any] | None:
        """A discovery document (`/apis`, `/apis/GROUP/VERSION`), or None when the server says 404.
        `path` is the plugin's own, never built from user input."""
        about = Resource("", path.strip("/") or "/", "", "", False)  # names the path in error messages
        status, body = self._get(path, [], accept, what=f"GET {path}")
        if status == 404:
            return None
        if status != 200:
            raise self._masked(_error_for(status, body, about, None))
        return self._decoded(body, path, about, None)

    def get_log(self, namespace: str, name: str, *, limit_bytes: int) -> str | None:
        """A pod's log (GET pods/NAME/log, the node-probe reports), at most `limit_bytes` of it;
        None when the server says 404."""
        path = PODS.path(_namespace_segment(namespace), _name_segment(name)) + "/log"
        status, body = self._get(path, [("limitBytes", str(limit_bytes))], "text/plain, */*",
                                 what=f'pods "{name}" log')
        if status == 404:
            return None
        if status != 200:
            raise self._masked(_error_for(status, body, PODS, name))
        return body[:limit_bytes].decode("utf-8", "replace")

    def _send_early(self, path: str, query: list[tuple[str, str]], accept: str) -> _SentEarly:
        """Send the first try of a GET whose answer is read later, by `_get(..., early=...)`:
        whatever sending raised is kept to be raised there, where the retries are decided."""
        timeout = self._connection.timeout
        deadline = time.monotonic() + timeout if timeout else None
        early = _SentEarly(deadline)
        try:
            early.response = self._send(self._server + path + (f"?{urlencode(query)}" if query else ""), accept,
                                        deadline)
        except Exception as err:  # noqa: BLE001 - raised again by _get, which words it
            early.error = err
        early.handed_over = time.monotonic()
        return early

    def _get(self, path: str, query: list[tuple[str, str]], accept: str = JSON, *,
             what: str, early: _SentEarly | None = None) -> tuple[int, bytes]:
        """Send one GET, retrying what `RetryPolicy` covers; returns the last (status, body).
        The only place a request is made. `what` names the answer in errors (`the list of pods`).
        Each try must be over, body included, within the request timeout."""
        url = self._server + path + (f"?{urlencode(query)}" if query else "")
        attempt = 0
        while True:
            if early is not None:
                sent, early = early, None
                # Sent while the caller was busy: only the time since it came back to it counts.
                deadline = None if sent.deadline is None else sent.deadline + time.monotonic() - sent.handed_over
            else:
                sent = None
                timeout = self._connection.timeout
                deadline = time.monotonic() + timeout if timeout else None
            try:
                if sent is None:
                    response = self._send(url, accept, deadline)
                elif sent.error is not None:
                    raise sent.error
                else:
                    response = sent.response
                body = _read_body(response, deadline, what)
            except _NotSent as err:
                raise self._masked(err.error) from None
            except PluginError:
                raise  # credentials could not be had (a failed exec plugin), a body too big: worded
            except Exception as err:
                if deadline is not None and time.monotonic() >= deadline and not _timed_out(err):
                    # Cut at the deadline while the status line and headers trickled in (a
                    # server that sent nothing is a read timeout, worded below as such).
                    raise ApiError(HEADERS_TIMEOUT) from None
                # A TLS alert can arrive as a broken connection: say what the server wanted
                # instead of asking again for the same refusal.
                alert = self._tls_alert(err)
                if alert is not None:
                    raise self._masked(_unable(alert)) from None
                if attempt < self._retry.retries and _connection_dropped(err):
                    self._sleep(self._retry.delay(attempt))
                    attempt += 1
                    continue
                raise self._masked(self._connection_error(err)) from None
            if response.status in RETRY_STATUSES and attempt < self._retry.retries:
                self._sleep(self._retry.delay(attempt, _retry_after(response.headers, body)))
                attempt += 1
                continue
            return response.status, body

    def _tls_alert(self, err: BaseException) -> str | None:
        """Go's line for the TLS alert behind a connection that broke during or right after the
        handshake, or None.

        A TLS 1.3 server that requires a client certificate checks it after the client thinks
        the handshake is done, then sends its alert and closes: a client that sends its request
        first sees a broken pipe (SSLEOFError), not the alert. So, once per client, a second
        handshake is made and nothing sent on it: the server's alert is then read as such.
        No HTTP request is sent on that connection."""
        if self._tls_checked or not any(isinstance(c, ssl.SSLEOFError) for c in _causes(err)):
            return None
        self._tls_checked = True
        try:
            pool = self._pool.connection_from_url(self._server)
            connection = pool._new_conn()
            connection.timeout = TLS_ALERT_WAIT
            try:
                connection.connect()
                connection.sock.settimeout(TLS_ALERT_WAIT)
                connection.sock.recv(1)
            finally:
                connection.close()
        except ssl.SSLError as alert:
            if "ALERT_" in (alert.reason or ""):
                return _tls_reason(alert)
        except Exception:  # noqa: S110 - no alert to be had: the failure is reported as it came
            pass
        return None

    def _send(self, url: str, accept: str, deadline: float | None) -> Any:
        """One try: the urllib3 response with its body still to read, or the exception the
        pool raised."""
        import urllib3

        headers = urllib3.HTTPHeaderDict()
        headers.add("Accept", accept)
        if self._connection.compression:
            headers.add("Accept-Encoding", "gzip")
        headers.add("User-Agent", USER_AGENT)
        authorization = self._connection.authorization()  # a failed exec plugin: ConfigError, not retried
        if authorization:
            self._sent_secrets.add(authorization)
            self._sent_secrets.add(authorization.partition(" ")[2])
            headers.add("Authorization", authorization)
        for name, value in self._connection.headers:
            headers.add(name, value)  # add, not set: Impersonate-Group repeats once per group
        for name, value in headers.items():
            if not _valid_header_value(value):
                # http.client's own error would quote the value, which may be the token.
                raise _NotSent(_unable(f'net/http: invalid header field value for "{name}"'))
        if deadline is None:
            timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=None)
        else:
            # What is left of the request's time: headers too must come within it.
            left = max(deadline - time.monotonic(), 0.001)
            timeout = urllib3.Timeout(connect=min(left, CONNECT_TIMEOUT), read=left)
        self.request_count += 1
        # retries=False: a failure surfaces at once as the underlying error (this class decides
        # what is retried), and a redirect comes back as a response instead of being followed to
        # another host with our token. The body is read by _read_body, bounded, and decoded
        # there (decode_content=False): urllib3 would inflate a gzip bomb whole.
        token = _request_deadline.set(deadline)
        try:
            return self._pool.request("GET", url, headers=headers, retries=False, redirect=False,
                                      timeout=timeout, preload_content=False, decode_content=False)
        finally:
            _request_deadline.reset(token)

    def _masked(self, err: ApiError) -> ApiError:
        """The error with every credential of the connection replaced by `<redacted>`."""
        message = self._connection.redact(err.message, extra=self._sent_secrets)
        if message == err.message:
            return err
        return ApiError(message, err.status, err.reason)

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
        if first(urllib3.exceptions.ProxyError) is not None:
            return _unable(f"proxyconnect tcp: {self._proxy_reason(causes)}")
        if first(http.client.RemoteDisconnected) is not None:
            return _unable("EOF")  # closed without an answer; Go's wording for it
        resolution = first(socket.gaierror)
        if resolution is not None or first(urllib3.exceptions.NameResolutionError) is not None:
            code = getattr(resolution, "errno", None)
            if code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME), None):
                return _unable(f"dial tcp: lookup {host}: no such host")
            return _unable(f"dial tcp: lookup {host}: {_strerror(resolution)}")
        if first(ConnectionRefusedError) is not None:
            return ApiError(f"The connection to the server {address} was refused - did you specify the "
                            "right host or port?")
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

    def _proxy_reason(self, causes: list[BaseException]) -> str:
        """Why the proxy could not be used, about the proxy (never the API server), as Go says it."""
        proxy = urlsplit(str(self._connection.configuration.proxy or ""))
        host = proxy.hostname or ""
        dial = f"{host}:{proxy.port or (443 if proxy.scheme == 'https' else 80)}"
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            return f"dial tcp {dial}: connect: connection refused"
        if any(isinstance(c, socket.gaierror) for c in causes):
            return f"dial tcp: lookup {host}: no such host"
        return _short(causes[-1])


@lru_cache(maxsize=1)
def _deadline_pool_classes() -> dict[str, Any]:
    """urllib3's pool classes, with connections that keep to `_request_deadline` while reading a
    response's status line and headers. urllib3 bounds each read of them, not all of them, so a
    server sending a byte a second would hold a request for ever; at the deadline a timer shuts
    the socket down and the blocked read ends. (The body is bounded in _read_bounded.)"""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def within_deadline(connection: Any, read: Callable[[], Any]) -> Any:
        deadline = _request_deadline.get()
        if deadline is None:
            return read()
        # A little after the deadline, so that a server that sends nothing at all ends in the
        # socket's own timeout, which is reported as kubectl reports it.
        timer = threading.Timer(max(deadline - time.monotonic(), 0.0) + _CUT_GRACE, _cut, (connection,))
        timer.daemon = True
        timer.start()
        try:
            return read()
        finally:
            timer.cancel()

    class DeadlineHTTPConnection(HTTPConnection):
        def getresponse(self) -> Any:  # type: ignore[override]
            return within_deadline(self, super().getresponse)

    class DeadlineHTTPSConnection(HTTPSConnection):
        def getresponse(self) -> Any:  # type: ignore[override]
            return within_deadline(self, super().getresponse)

    class DeadlineHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = DeadlineHTTPConnection

    class DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = DeadlineHTTPSConnection

    return {"http": DeadlineHTTPConnectionPool, "https": DeadlineHTTPSConnectionPool}


_CUT_GRACE = 0.05


def _timed_out(err: BaseException) -> bool:
    import urllib3

    return any(isinstance(c, (TimeoutError, urllib3.exceptions.TimeoutError)) for c in _causes(err))


def _cut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            # The plain socket's shutdown: the TLS layer's would tear down state the reading
            # thread is still using. The blocked read then ends with an EOF.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _NotSent(Exception):
    """A request refused before sending; carries the error to report."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def _connection_dropped(err: BaseException) -> bool:
    """True when the server (or something between) closed a connection that was working: worth
    another try. Not for failures another try would repeat or that mean the server was never
    reached: refused, DNS, TLS handshake or verification, timeouts."""
    import urllib3

    causes = list(_causes(err))
    final = (ConnectionRefusedError, socket.gaierror, TimeoutError, urllib3.exceptions.TimeoutError,
             urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError,
             urllib3.exceptions.ProxyError, urllib3.exceptions.LocationParseError)
    if any(isinstance(c, final) for c in causes):
        return False
    eof = (ssl.SSLEOFError, ssl.SSLZeroReturnError)
    if any(isinstance(c, ssl.SSLError) and not isinstance(c, eof) for c in causes):
        return False  # a TLS failure (handshake, certificate), not a dropped connection
    dropped = (http.client.RemoteDisconnected, http.client.IncompleteRead, ConnectionResetError,
               ConnectionAbortedError, BrokenPipeError, urllib3.exceptions.ProtocolError, *eof)
    return any(isinstance(c, dropped) for c in causes)


def _read_body(response: Any, deadline: float | None, what: str) -> bytes:
    """The decoded body of `response`, read in bounded chunks: at most `MAX_RESPONSE_BYTES` once
    decoded, and over by `deadline` (None: no time limit). The connection goes back to the pool
    only when the body was read whole."""
    try:
        body = _read_bounded(response, deadline, what)
    except BaseException:
        response.close()  # half read: the connection cannot carry another request
        raise
    finally:
        response.release_conn()
    return body


def _read_bounded(response: Any, deadline: float | None, what: str) -> bytes:
    import urllib3

    declared = (response.headers.get("Content-Length") or "").strip()
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _too_big(what)  # said so up front: not a byte of it is read
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    gunzip = _Gunzip() if encoding in ("gzip", "x-gzip") else None
    sock = getattr(getattr(response, "connection", None), "sock", None)
    parts: list[bytes] = []
    size = 0
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ApiError(BODY_TIMEOUT)
            if sock is not None:
                sock.settimeout(left)  # a read never waits past the deadline
        try:
            chunk = response.read1(READ_CHUNK, decode_content=False)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            if deadline is None:
                raise
            raise ApiError(BODY_TIMEOUT) from None
        if not chunk:
            break
        try:
            decoded = gunzip.feed(chunk, MAX_RESPONSE_BYTES - size + 1) if gunzip else [chunk]
            for data in decoded:
                size += len(data)
                if size > MAX_RESPONSE_BYTES:
                    raise _too_big(what)
                parts.append(data)
        except zlib.error:
            raise ApiError(f"error: the server's answer to {what} is not valid gzip") from None
    return b"".join(parts)


class _Gunzip:
    """gzip decoding that never produces more than asked at once, over any number of members
    (one after the other, as gzip allows and Go reads them)."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        """The bytes `data` decodes to, in pieces of at most `limit` (> 0) bytes; the caller
        stops reading as soon as it has too many."""
        while data:
            out = self._inflate.decompress(data, limit)
            if out:
                yield out
            if self._inflate.eof:
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                data = self._inflate.unconsumed_tail
                if not out and not data:
                    return


def _too_big(what: str) -> ApiError:
    return ApiError(f"error: the server's answer to {what} is larger than {MAX_RESPONSE_BYTES >> 20} MiB, the "
                    "most one response may hold: not read; read less at once with -n NAMESPACE or -l SELECTOR")


def _list_items(document: dict[str, Any], resource: Resource, path: str) -> list[dict[str, Any]]:
    """The `items` of a list answer; anything but a list of objects is an error, as for kubectl
    (a missing or null `items` is an empty list, as for kubectl)."""
    found = document.get("items")
    if found is None:
        return []
    problem = None
    if not isinstance(found, list):
        problem = f'"items" is {_json_kind(found)}, not a list'
    else:
        bad = next((i for i, item in enumerate(found) if not isinstance(item, dict)), None)
        if bad is not None:
            problem = f'"items[{bad}]" is {_json_kind(found[bad])}, not an object'
    if problem:
        raise ApiError(f"error: the server sent a malformed list of {resource.qualified_plural}: {problem} "
                       f"(GET {path})", status=200)
    return found  # type: ignore[return-value]


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "null"


def _retry_after(headers: Any, body: bytes) -> float | None:
    """Seconds the server asked to wait: the `Retry-After` header (whole seconds, as client-go
    reads it), else the Status's `details.retryAfterSeconds`; None when it asked nothing."""
    header = (headers.get("Retry-After") or "").strip()
    if header.isascii() and header.isdigit():
        return float(header)
    try:
        document = json.loads(body) if body else None
    except ValueError:
        return None
    details = document.get("details") if isinstance(document, dict) else None
    seconds = details.get("retryAfterSeconds") if isinstance(details, dict) else None
    return float(seconds) if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds >= 0 else None


def _object_key(item: dict[str, Any]) -> int:
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        return hash(("", ""))
    return hash((str(metadata.get("namespace") or ""), str(metadata.get("name") or "")))


def _expired_twice(resource: Resource) -> ApiError:
    group_resource = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
    return ApiError(f"Error from server (Expired): the list of {group_resource} expired twice while it "
                    "was read page by page (it was restarted once); try again, or read less at once "
                    "with -n NAMESPACE or -l SELECTOR", 410, "Expired")


def _valid_header_value(value: str) -> bool:
    """What Go's net/http accepts in a header value (and http.client can encode): no control
    characters but tab, nothing beyond Latin-1."""
    return all(c == "\t" or (0x20 <= ord(c) <= 0xFF and ord(c) != 0x7F) for c in value)


def _namespace_segment(value: str) -> str:
    # Checked here too, whatever the caller checked: `..` would make it another URL.
    return quote(check_namespace(value), safe="")


def _name_segment(value: str) -> str:
    # Names come from the user's arguments and objects; keep them one path segment each.
    return quote(check_name(value), safe="")


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
