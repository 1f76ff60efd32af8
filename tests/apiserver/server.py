"""A read-only Kubernetes API server over HTTPS on loopback, for end-to-end tests and benchmarks.

It speaks enough of the real REST API (discovery, get, list with selectors and pagination,
`Status` errors, bearer-token and client-certificate authentication, impersonation, a small
RBAC-like policy) that the real `kubectl` and the Python client work against it unchanged.
Every request is recorded, and `faults` inject errors, delays and dropped connections.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
import traceback
import uuid
import weakref
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import trustme

from tests.apiserver import faults, resources, status
from tests.apiserver.faults import Fault, take_fault
from tests.apiserver.kubeconfig import write_kubeconfig
from tests.apiserver.logs import log_target, pod_log
from tests.apiserver.policy import Policy
from tests.apiserver.resources import BY_PATH, NAMESPACE, Resource
from tests.apiserver.selectors import SelectorError, parse_field_selector, parse_label_selector
from tests.apiserver.store import BadContinue, Store, decode_continue, encode_continue

DEFAULT_TOKENS = {"admin-token": "admin"}
# Items joined per socket write when sending a list: big enough to keep syscalls and TLS
# records few, small enough not to copy a 100,000-item list into one buffer.
_ITEMS_PER_WRITE = 2000


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    user: str | None  # effective user (the impersonated one, if any); None if unauthenticated
    status: int  # 0 when a fault dropped the connection without an answer
    headers: list[tuple[str, str]]  # as received, so repeated headers show
    groups: tuple[str, ...] = ()  # Impersonate-Group values, or the client certificate's O
    authenticated_user: str | None = None  # who presented the credentials, before impersonation


@dataclass
class _Answer:
    status: int
    # Concatenated on the wire; a list so big lists are never joined whole. Any iterable (an
    # endless one, for faults) when `length` is given or `chunked` is set.
    body: Iterable[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    length: int | None = None  # Content-Length to announce; None: the body's length
    chunked: bool = False  # Transfer-Encoding: chunked, each part one chunk
    pace: float = 0.0  # seconds to wait after writing each part
    header_pace: float = 0.0  # seconds to wait after writing each byte of the status line and headers


def _json(doc: Mapping[str, Any]) -> list[bytes]:
    return [json.dumps(doc, separators=(",", ":")).encode()]


def _error(body: bytes) -> _Answer:
    return _Answer(json.loads(body)["code"], [body])


@dataclass(frozen=True)
class _Target:
    """A resource request: which resource, and the namespace and name from the path."""

    resource: Resource
    namespace: str
    name: str | None


def _route(segments: list[str], by_path: Mapping[tuple[str, str, str], Resource] = BY_PATH) -> _Target | None:
    if segments[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", segments[2:]
    elif len(segments) >= 3 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not 1 <= len(rest) <= 2:
        return None  # subresources (pods/x/log, ...) are not served
    resource = by_path.get((group, version, rest[0]))
    if resource is None or (namespace and not resource.namespaced):
        return None
    name = rest[1] if len(rest) == 2 else None
    if name is not None and resource.namespaced and not namespace:
        return None  # /api/v1/pods/NAME does not exist on a real server either
    return _Target(resource, namespace, name)


_PARTIAL = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
_AGGREGATED = "aggregated"  # the key of the aggregated discovery documents


class _Mismatch(ValueError):
    """`as=PartialObjectMetadata` on a list, or `as=PartialObjectMetadataList` on a get: the real
    server answers 406 at once, without trying the next alternative of the Accept header."""


def _negotiate(accept: str, *, is_list: bool, partial_metadata: bool) -> str | None:
    """The form of the answer, from the Accept header's alternatives in order, as the real server
    picks it: "full" (the objects), "metadata" or "metadata-v1beta1" (PartialObjectMetadata[List]
    of that version of meta.k8s.io), or None (406).
    `as=PartialObjectMetadataList` is for lists and `as=PartialObjectMetadata` for gets; the other
    one raises `_Mismatch`; an unknown `as=` is passed over for the next alternative."""
    if not accept.strip():
        return "full"
    for alternative in accept.split(","):
        media, *parameters = [part.strip() for part in alternative.split(";")]
        if media not in ("application/json", "application/*", "*/*"):
            continue
        options = dict(p.partition("=")[::2] for p in parameters)
        wanted = options.get("as")
        if wanted is None:
            return "full"
        if not partial_metadata:
            continue
        if options.get("g") == "meta.k8s.io" and options.get("v") in ("v1", "v1beta1"):
            if wanted == ("PartialObjectMetadataList" if is_list else "PartialObjectMetadata"):
                return "metadata" if options["v"] == "v1" else "metadata-v1beta1"
            if wanted in ("PartialObjectMetadataList", "PartialObjectMetadata"):
                raise _Mismatch(wanted)
    return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: ApiServer, context: ssl.SSLContext) -> None:
        self.app = app
        self.tls = context
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # The handshake runs in the connection's own thread (see _Handler.setup), so a slow or
        # broken client cannot stall the accept loop.
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return  # clients hanging up, failed handshakes: normal in tests that provoke them
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as client-go expects
    timeout = 60  # idle keep-alive connections end eventually
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _HTTPServer

    def setup(self) -> None:
        self.request.settimeout(10)
        try:
            self.request.do_handshake()
        except ssl.SSLError:
            self.server.app._count_failed_handshake()
            raise
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is ApiServer.requests

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain the body so the connection stays usable
        cert = self.request.getpeercert()
        try:
            answer = self.server.app._answer(self.command, self.path, self.headers, cert)
        except Exception as e:  # a bug here must reach the client as a 500, not a hang
            traceback.print_exc()
            answer = _error(status.status_body(500, f"Internal error occurred: {e!r}"))
        if answer.drop:
            self.close_connection = True
            return
        if self.server.app.gzip_responses and isinstance(answer.body, list) and "Content-Encoding" not in \
                answer.headers and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            answer = self.server.app._gzipped(answer)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Audit-Id", str(uuid.uuid4()))
            for name, value in answer.headers.items():
                if name != "Content-Type":
                    self.send_header(name, value)
            if answer.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                length = answer.length
                if length is None:
                    length = sum(len(part) for part in answer.body)
                self.send_header("Content-Length", str(length))
            if answer.header_pace:
                self._headers_buffer.append(b"\r\n")  # what end_headers() would write, dripped
                head, self._headers_buffer = b"".join(self._headers_buffer), []
                for i in range(len(head)):
                    self.wfile.write(head[i:i + 1])
                    self.wfile.flush()
                    time.sleep(answer.header_pace)
            else:
                self.end_headers()
            if self.command != "HEAD":  # a body after HEAD would corrupt the keep-alive stream
                for part in answer.body:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if answer.chunked else part)
                    if answer.pace:
                        self.wfile.flush()
                        time.sleep(answer.pace)
                if answer.chunked:
                    self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle


def _cert_subject(cert: Mapping[str, Any] | None) -> tuple[str | None, tuple[str, ...]]:
    """(CN, Os) of a verified client certificate: the user and groups, as the real server reads them."""
    if not cert:
        return None, ()
    common_name, organizations = None, []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                common_name = value
            elif key == "organizationName":
                organizations.append(value)
    return common_name, tuple(organizations)


def _list_body(kind: str, api_version: str, metadata: Mapping[str, Any], items: Sequence[bytes]) -> list[bytes]:
    head = json.dumps({"kind": kind, "apiVersion": api_version, "metadata": metadata},
                      separators=(",", ":")).encode()
    parts = [head[:-1] + b',"items":[']
    for i in range(0, len(items), _ITEMS_PER_WRITE):
        chunk = b",".join(items[i:i + _ITEMS_PER_WRITE])
        parts.append(chunk if i == 0 else b"," + chunk)
    parts.append(b"]}")
    return parts


_HOSTILE_HEAD = b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":['
_MIB = 1 << 20


def _huge_body(size: int) -> Iterator[bytes]:
    """`size` bytes of valid JSON: a list of one pod whose name is one huge string."""
    head, tail = _HOSTILE_HEAD + b'{"metadata":{"name":"', b'"}}]}'
    yield head
    filler = b"x" * _MIB
    remaining = size - len(head) - len(tail)
    while remaining > 0:
        part = filler[:remaining]
        yield part
        remaining -= len(part)
    yield tail


def _endless_body() -> Iterator[bytes]:
    yield _HOSTILE_HEAD
    filler = b" " * _MIB
    while True:  # until the client hangs up (the write fails)
        yield filler


_GZIP_THRESHOLD = 128 * 1024  # the real server compresses answers larger than this
_GZIP_MEMBER = 64 * _MIB  # decoded bytes per gzip member of a bomb


@lru_cache(maxsize=1)
def _gzip_member() -> bytes:
    """One gzip member of 64 MiB of spaces (about 64 KB compressed), computed once."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    filler = b" " * _MIB
    return b"".join([compressor.compress(filler) for _ in range(_GZIP_MEMBER // _MIB)] + [compressor.flush()])


def _gzip_bomb(size: int) -> list[bytes]:
    """A gzip body decoding to at least `size` bytes: a small head member, then 64 MiB members."""
    head = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [head.compress(_HOSTILE_HEAD) + head.flush()]
    parts += [_gzip_member()] * max(1, -(-size // _GZIP_MEMBER))
    return parts


class ApiServer:
    """See the module docstring; `start()` it, point kubectl at `write_kubeconfig()`, read `requests`."""

    def __init__(self, objects: Iterable[Mapping[str, Any]], tokens: Mapping[str, str] | None = None,
                 policy: Policy | None = None, *, port: int = 0, partial_metadata: bool = True,
                 require_client_certificate: bool = False, gzip_responses: bool = False) -> None:
        self.tokens = dict(DEFAULT_TOKENS if tokens is None else tokens)
        # True: the TLS handshake fails without a client certificate (a TLS 1.3 server then sends
        # the `certificate_required` alert), as for an API server behind a proxy that demands one.
        self.require_client_certificate = require_client_certificate
        # True: answers over 128 KiB are sent gzip-compressed to clients that accept it, as the
        # real server does (its threshold); `gzipped_answers` counts them.
        self.gzip_responses = gzip_responses
        self.gzipped_answers = 0
        self.policy = policy  # None: every authenticated user may do everything
        # False: ignore `Accept: ...;as=PartialObjectMetadataList` and send whole objects, as an
        # aggregated API or a proxy that does not know the metadata-only form would.
        self.partial_metadata = partial_metadata
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self.failed_handshakes = 0  # TLS handshakes that failed (no client certificate, ...)
        self.pod_logs: dict[tuple[str, str], str] = {}  # (namespace, pod) -> its log, see logs.py
        self._store = Store.build(objects)  # before mkdtemp: invalid objects must not leak a directory
        self._port = port
        self._lock = threading.Lock()
        self._dir = tempfile.mkdtemp(prefix="test-apiserver-")
        # A server never stopped (a failing test) still removes its certificate files.
        weakref.finalize(self, shutil.rmtree, self._dir, True)
        self._ca = trustme.CA()
        self.ca_path = os.path.join(self._dir, "ca.crt")
        self._ca.cert_pem.write_to_path(self.ca_path)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._discovery: tuple[Store, dict[tuple[str, ...], list[bytes]]] | None = None  # of one store
        # False: answer discovery in the legacy form only, whatever the Accept header asks, as an
        # API server before 1.26 (or a proxy that drops the media type) does.
        self.aggregated_discovery = True

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ApiServer:
        if self._httpd is not None:
            return self
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._ca.configure_trust(context)
        # Client certificates are one way to log in, or the only one.
        context.verify_mode = ssl.CERT_REQUIRED if self.require_client_certificate else ssl.CERT_OPTIONAL
        self._httpd = _HTTPServer(("127.0.0.1", self._port), self, context)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"test-apiserver-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the test API server is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    # -- objects and log ---------------------------------------------------------------------

    def set_objects(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Replace every served object (resourceVersions keep increasing)."""
        with self._lock:
            self._store = Store.build(objects, previous=self._store, keep_previous=False)

    def add_objects(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Add objects; one with the kind, namespace and name of a served object replaces it."""
        with self._lock:  # two concurrent adds must both land
            self._store = Store.build(objects, previous=self._store)

    def _gzipped(self, answer: _Answer) -> _Answer:
        whole = b"".join(answer.body)
        if len(whole) <= _GZIP_THRESHOLD:
            return answer
        with self._lock:
            self.gzipped_answers += 1
        compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
        body = compressor.compress(whole) + compressor.flush()
        return _Answer(answer.status, [body], {**answer.headers, "Content-Encoding": "gzip"})

    def _count_failed_handshake(self) -> None:
        with self._lock:
            self.failed_handshakes += 1

    def clear_requests(self) -> None:
        with self._lock:
            del self.requests[:]

    def issue_client_cert(self, user: str, group: str = "system:authenticated") -> tuple[str, str]:
        """(cert_path, key_path) of a client certificate the server accepts: CN `user`, O `group`."""
        # trustme needs a SAN; the name is never checked for client certificates.
        leaf = self._ca.issue_cert("client.invalid", common_name=user, organization_name=group)
        stem = os.path.join(self._dir, f"client-{uuid.uuid4().hex[:8]}")
        leaf.cert_chain_pems[0].write_to_path(stem + ".crt")
        leaf.private_key_pem.write_to_path(stem + ".key")
        return stem + ".crt", stem + ".key"

    def write_kubeconfig(self, path: str | os.PathLike[str], token: str | None = "admin-token",
                         context: str = "test", namespace: str | None = None,
                         extra_contexts: Mapping[str, Mapping[str, str]] | None = None,
                         client_cert: tuple[str, str] | None = None) -> str:
        """Write a kubeconfig whose current context `context` reaches this server (see
        `tests.apiserver.kubeconfig.write_kubeconfig` for the arguments)."""
        return write_kubeconfig(path, server=self.url, ca_pem=self._ca.cert_pem.bytes(), token=token,
                                context=context, namespace=namespace, extra_contexts=extra_contexts,
                                client_cert=client_cert)

    # -- request handling ----------------------------------------------------------------------

    def _discovery_of(self, store: Store) -> dict[tuple[str, ...], list[bytes]]:
        """The discovery documents of a store (the CRDs it holds add groups), made once per store.
        The aggregated forms of `/api` and `/apis` are under the keys `("api", AGGREGATED)`."""
        cached = self._discovery
        if cached is not None and cached[0] is store:
            return cached[1]
        address = f"127.0.0.1:{self.port}"
        docs: dict[tuple[str, ...], Mapping[str, Any] | None] = {
            ("version",): resources.KUBERNETES_VERSION,
            ("api",): resources.api_versions(address),
            ("api", "v1"): resources.api_resource_list("", "v1"),
            ("apis",): resources.api_group_list(store.custom),
            ("api", _AGGREGATED): resources.aggregated_discovery(True),
            ("apis", _AGGREGATED): resources.aggregated_discovery(False, store.custom),
        }
        for group, versions in resources.served_groups(store.custom).items():
            docs[("apis", group)] = resources.api_group(group, versions)
            for version in versions:
                docs[("apis", group, version)] = resources.api_resource_list(group, version, store.custom)
        built = {k: _json(v) for k, v in docs.items() if v is not None}
        self._discovery = (store, built)
        return built

    def _answer(self, method: str, raw_path: str, headers: Message, cert: Mapping[str, Any] | None) -> _Answer:
        """Decide the response to one request, and record it before anything is sent."""
        split = urlsplit(raw_path)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        received = [(str(k), str(v)) for k, v in headers.items()]
        user, groups = _cert_subject(cert)
        if user is None:
            scheme, _, token = (headers.get("Authorization") or "").partition(" ")
            user = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        authenticated, effective = user, user

        def record(answer: _Answer) -> _Answer:
            with self._lock:
                self.requests.append(RequestRecord(
                    method, path, query, effective, 0 if answer.drop else answer.status, received,
                    groups, authenticated))
            return answer

        fault = take_fault(self.faults, path, "continue" in query)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.close_connection:
                return record(_Answer(0, [], drop=True))
            if fault.mode is not None and user is not None:
                return record(self._hostile_answer(fault, user, path, query, headers.get("Accept") or ""))
            if fault.status is not None and fault.mode is None:
                return record(self._fault_answer(fault, "continue" in query))
        if user is None:
            return record(_error(status.status_body(401)))

        impersonated_user = headers.get("Impersonate-User")
        impersonated_groups = tuple(headers.get_all("Impersonate-Group") or ())
        impersonated_uid = headers.get("Impersonate-Uid")
        if impersonated_user or impersonated_groups or impersonated_uid:
            if not impersonated_user:
                # Go's %#v of the user.DefaultInfo asked for, as the real server words it.
                go_groups = ("[]string{" + ", ".join(json.dumps(g) for g in impersonated_groups) + "}"
                             if impersonated_groups else "[]string(nil)")
                return record(_error(status.status_body(
                    400, f'requested &user.DefaultInfo{{Name:"", UID:{json.dumps(impersonated_uid or "")}, '
                         f"Groups:{go_groups}, Extra:map[string][]string(nil)}} without impersonating a user name")))
            targets = [("users", "", impersonated_user)]
            targets += [("groups", "", g) for g in impersonated_groups]
            if impersonated_uid:
                targets.append(("uids", "authentication.k8s.io", impersonated_uid))
            for plural, group, name in targets:
                if self.policy is not None and not self.policy.allows(user, "impersonate", plural, "", name):
                    if plural == "users":
                        # 1.37 then tries constrained impersonation, and names what the request was for.
                        denied = self._impersonation_denied(user, path, query)
                        if denied is not None:
                            return record(denied)
                    return record(_error(status.forbidden(user, "impersonate", plural, group, "", name)))
            effective, groups = impersonated_user, impersonated_groups

        if method != "GET":
            return record(_error(status.status_body(405)))
        return record(self._serve(impersonated_user or user, path, query, headers.get("Accept") or ""))

    def _impersonation_denied(self, user: str, path: str, query: dict[str, list[str]]) -> _Answer | None:
        """403 for a user who may not impersonate users, as kube-apiserver 1.37 words it: the verb
        `impersonate-on:user-info:VERB` on the resource requested. None for a non-resource path."""
        target = _route([unquote(s) for s in path.split("/") if s], self._store.by_path)
        if target is None:
            return None
        watch = query.get("watch", [""])[-1] in ("true", "1")
        verb = "get" if target.name else "watch" if watch else "list"
        scope = target.name if target.resource is NAMESPACE and target.name else target.namespace
        return _error(status.forbidden(user, f"impersonate-on:user-info:{verb}", target.resource,
                                       target.resource.group, scope, target.name))

    def _fault_answer(self, fault: Fault, is_continue: bool) -> _Answer:
        reason, message = fault.reason, fault.message
        details: dict[str, Any] | None = None
        if fault.status == 410 and is_continue:
            reason, message = reason or "Expired", message or status.EXPIRED_MESSAGE
        elif fault.status == 410:
            message = message or "too old resource version"
        retry_after = fault.headers.get("Retry-After")
        if retry_after and retry_after.isdigit():
            details = {"retryAfterSeconds": int(retry_after)}
        body = status.status_body(fault.status or 500, message, reason, details)
        return _Answer(fault.status or 500, [body], dict(fault.headers))

    def _hostile_answer(self, fault: Fault, user: str, path: str, query: dict[str, list[str]],
                        accept: str) -> _Answer:
        """The answer of `fault.mode` (see `faults`), built from the real answer where it needs one."""
        mode = fault.mode
        if mode == faults.HUGE_BODY:
            return _Answer(200, _huge_body(fault.size), length=fault.size)
        if mode == faults.ENDLESS_CHUNKED:
            return _Answer(200, _endless_body(), chunked=True)
        if mode == faults.GZIP_BOMB:
            parts = _gzip_bomb(fault.size)
            return _Answer(200, parts, headers={"Content-Encoding": "gzip"})
        if mode == faults.FAILED_STATUS_200:
            body = json.loads(status.status_body(500, fault.message or "Internal error occurred: injected fault"))
            return _Answer(200, _json(body))
        if mode in (faults.REPEATING_CONTINUE, faults.ENDLESS_PAGES):
            query = {k: v for k, v in query.items() if k != "continue"}  # the token is ours: page 1 again
        real = self._serve(user, path, query, accept)
        if mode == faults.SLOW_HEADERS:
            return _Answer(real.status, real.body, dict(real.headers), header_pace=fault.interval)
        if mode == faults.SLOW_BODY:
            whole = b"".join(real.body)
            return _Answer(real.status, (whole[i:i + 1] for i in range(len(whole))), dict(real.headers),
                           length=len(whole), pace=fault.interval)
        document = json.loads(b"".join(real.body))
        if real.status != 200 or not isinstance(document.get("items"), list):
            return real  # not a list: nothing to break
        if mode == faults.ITEMS_OBJECT:
            document["items"] = {str(i.get("metadata", {}).get("name")): i for i in document["items"]}
        elif mode == faults.ITEMS_NOT_A_LIST:
            document["items"] = "not a list"
        elif mode == faults.REPEATING_CONTINUE:
            document["metadata"]["continue"] = "the-same-token"
        elif mode == faults.ENDLESS_PAGES:
            document["items"] = []  # cheap pages, so a test can afford thousands
            document["metadata"]["continue"] = f"page-{fault.hits}"
        return _Answer(200, _json(document), dict(real.headers))

    def _serve(self, user: str, path: str, query: dict[str, list[str]], accept: str = "") -> _Answer:
        segments = [unquote(s) for s in path.split("/") if s]
        store = self._store  # one snapshot for the whole request
        discovery_docs = self._discovery_of(store)
        if segments in (["api"], ["apis"]):
            # Discovery is open to every authenticated user. /api and /apis come in two forms, by
            # the Accept header's first acceptable alternative, as on a real server.
            aggregated = resources.wants_aggregated(accept) if self.aggregated_discovery else False
            if aggregated is None:
                return _error(status.status_body(406, "only the following media types are accepted: "
                                                      f"application/json, {resources.AGGREGATED_TYPE}",
                                                 "NotAcceptable"))
            if aggregated:
                return _Answer(200, discovery_docs[(segments[0], _AGGREGATED)],
                               {"Content-Type": resources.AGGREGATED_TYPE})
        discovery = discovery_docs.get(tuple(segments))
        if discovery is not None:
            return _Answer(200, discovery)
        log = log_target(segments)
        if log is not None:
            code, body = pod_log(store, self.pod_logs, self.policy, user, *log, query)
            return _Answer(code, [body])
        target = _route(segments, store.by_path)
        if target is None:
            if segments[:1] == ["apis"] and len(segments) >= 3 and ("apis", *segments[1:3]) not in discovery_docs:
                # A group or version nobody serves: the real server's mux answers, in plain text.
                return _Answer(404, [b"404 page not found\n"], {"Content-Type": "text/plain; charset=utf-8"})
            return _error(status.status_body(404, details={}))
        resource, namespace, name = target.resource, target.namespace, target.name
        watch = query.get("watch", [""])[-1] in ("true", "1")
        verb = "get" if name else "watch" if watch else "list"
        # For namespaces the real server takes the namespace from the name (namespaces/NAME).
        scope = name if resource is NAMESPACE and name else namespace
        if self.policy is not None and not self.policy.allows(user, verb, resource.plural, scope, name):
            return _error(status.forbidden(user, verb, resource, resource.group, scope, name))
        if watch:
            return _error(status.status_body(405, "watch is not supported by the test API server"))
        try:
            form = _negotiate(accept, is_list=name is None, partial_metadata=self.partial_metadata)
        except _Mismatch as wanted:
            # The Go type in the message: the internal package's name and the kind, as the real server prints it.
            go_type = f"*{resource.group.split('.')[0] or 'core'}.{resource.kind}"
            message = (f"you requested {wanted}, but the requested object is a list ({go_type}List)" if name is None
                       else f"you requested {wanted}, but the requested object is not a list ({go_type})")
            return _error(status.status_body(406, message, "NotAcceptable"))
        if form is None:
            return _error(status.status_body(406, f"only the following media types are accepted: "
                                                  f"application/json, {_PARTIAL}"))
        metadata_only = form.startswith("metadata")
        if name is not None:
            body = store.get(resource, namespace, name, metadata_only=metadata_only)
            if body is None:
                return _error(status.not_found(resource, name))
            answer = _Answer(200, [body])
        else:
            answer = self._list(store, resource, namespace, query, metadata_only=metadata_only)
        if form == "metadata-v1beta1" and answer.status == 200:
            # The stored metadata items say meta.k8s.io/v1; the real server answers in the version asked for.
            answer.body = [part.replace(b'"apiVersion":"meta.k8s.io/v1"', b'"apiVersion":"meta.k8s.io/v1beta1"')
                           for part in answer.body]
        return answer

    def _list(self, store: Store, resource: Resource, namespace: str, query: dict[str, list[str]],
              metadata_only: bool = False) -> _Answer:
        def param(name: str) -> str:
            return query.get(name, [""])[-1]

        try:
            labels = parse_label_selector(param("labelSelector"))
            fields = parse_field_selector(param("fieldSelector"), resource)
        except SelectorError as e:
            return _error(status.status_body(400, str(e)))
        limit_text = param("limit")
        if limit_text and not re.fullmatch(r"[-+]?\d+", limit_text):
            return _error(status.status_body(400, f'strconv.ParseInt: parsing "{limit_text}": invalid syntax'))
        limit = int(limit_text) if limit_text and int(limit_text) > 0 else None  # 0 or less: no limit
        rv, start_after = store.resource_version, None
        if param("continue"):
            try:
                rv, start_after = decode_continue(param("continue"), resource)
            except BadContinue as e:
                return _error(status.status_body(400, str(e)))
        page = store.list_page(resource, namespace or None, limit=limit, start_after=start_after,
                               labels=labels, fields=fields, metadata_only=metadata_only)
        metadata: dict[str, Any] = {"resourceVersion": str(rv)}
        if page.continue_after is not None:
            metadata["continue"] = encode_continue(rv, page.continue_after)
            if page.remaining is not None:
                metadata["remainingItemCount"] = page.remaining
        if metadata_only:
            return _Answer(200, _list_body("PartialObjectMetadataList", "meta.k8s.io/v1", metadata, page.items))
        if resource.custom and "continue" not in metadata:
            metadata["continue"] = ""  # the real server's (unstructured) lists of custom resources carry it
        return _Answer(200, _list_body(f"{resource.kind}List", resource.api_version, metadata, page.items))

