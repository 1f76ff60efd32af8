"""A real etcd and kube-apiserver on loopback, loaded with test objects, for tests and benchmarks.

`RealApiServer` starts etcd and the real kube-apiserver (TLS from a throw-away CA, a static
token file, RBAC authorization, a service-account key pair, an audit log), waits for `/readyz`,
creates the given objects through the API as an admin, and stops both by PID. No controller or
kubelet runs: Pods are created with `nodeName` and `ownerReferences` already set, and each
reference is pointed at the uid the server gave its owner. It offers what the end-to-end tests
use of the test server (`write_kubeconfig`, `requests`, `clear_requests`), with the request log
read from the server's own audit log, and turns a `tests.apiserver.Policy` into real Roles and
bindings.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import trustme
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.apiserver import Policy, RequestRecord, Rule
from tests.apiserver.kubeconfig import write_kubeconfig
from tests.realapi.build import Binaries, ensure_built

ADMIN_TOKEN = "admin-token"
# Every token the end-to-end tests present; the static token file is read once, at start.
DEFAULT_TOKENS = {"admin-token": "admin", "alice-token": "alice", "bob-token": "bob", "viewer-token": "viewer"}
ADMIN_GROUPS = ("system:masters",)
START_TIMEOUT = 180.0
# Threads creating objects at once while loading (each over its own keep-alive connection):
# enough to keep both of the machine's cores busy with the server's work.
LOAD_WORKERS = 24

# kind -> (group/version path prefix, plural, namespaced)
KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("api/v1", "namespaces", False),
    "Node": ("api/v1", "nodes", False),
    "ServiceAccount": ("api/v1", "serviceaccounts", True),
    "Pod": ("api/v1", "pods", True),
    "PersistentVolume": ("api/v1", "persistentvolumes", False),
    "PersistentVolumeClaim": ("api/v1", "persistentvolumeclaims", True),
    "ReplicationController": ("api/v1", "replicationcontrollers", True),
    "Deployment": ("apis/apps/v1", "deployments", True),
    "ReplicaSet": ("apis/apps/v1", "replicasets", True),
    "DaemonSet": ("apis/apps/v1", "daemonsets", True),
    "StatefulSet": ("apis/apps/v1", "statefulsets", True),
    "Job": ("apis/batch/v1", "jobs", True),
    "CronJob": ("apis/batch/v1", "cronjobs", True),
    "ConfigMap": ("api/v1", "configmaps", True),
    "ClusterRole": ("apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "RoleBinding": ("apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "CustomResourceDefinition": ("apis/apiextensions.k8s.io/v1", "customresourcedefinitions", False),
}
CRD_ESTABLISHED_TIMEOUT = 30.0
_VERB_METHODS = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
                 "delete": "DELETE", "deletecollection": "DELETE"}
_AUDIT_POLICY = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
                 "rules": [{"level": "Metadata"}]}
_POLICY_LABEL = "kubectl-dockershim.test/policy"
# Kinds whose `status` the loader writes through the status subresource, as their controllers would.
_WITH_STATUS = frozenset({"Pod", "PersistentVolume", "PersistentVolumeClaim"})


class ServerError(RuntimeError):
    pass


def _first_name(rule: Rule) -> str | None:
    return rule.names[0] if rule.names else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def type_key(kind: str, api_version: str) -> str:
    """A kind with its API group when that group is a custom resource's (it has a dot), so that an
    OpenKruise StatefulSet and the built-in one are two kinds."""
    group = api_version.rpartition("/")[0]
    return f"{kind}.{group}" if "." in group else kind


def rest_path(obj: Mapping[str, Any], *, named: bool = False,
              custom: Mapping[str, tuple[str, str, bool]] | None = None) -> str:
    """The REST path of an object: a built-in kind's from KINDS, a custom resource's from
    `custom` (type key -> path prefix, plural, namespaced), as the CRDs created define them."""
    key = type_key(obj["kind"], str(obj.get("apiVersion") or ""))
    if key in (custom or {}):
        _, plural, namespaced = (custom or {})[key]
        prefix = f"apis/{obj['apiVersion']}"  # at the version the object is written in
    else:
        prefix, plural, namespaced = KINDS[obj["kind"]]
    metadata = obj.get("metadata") or {}
    path = f"/{prefix}"
    if namespaced:
        path += f"/namespaces/{quote(metadata.get('namespace') or 'default')}"
    path += f"/{plural}"
    return path + f"/{quote(metadata['name'])}" if named else path


class RealApiServer:
    """etcd and kube-apiserver as two child processes; `start()` blocks until both serve."""

    def __init__(self, objects: Sequence[Mapping[str, Any]] = (), tokens: Mapping[str, str] | None = None,
                 policy: Policy | None = None, *, binaries: Binaries | None = None,
                 workdir: str | os.PathLike[str] | None = None, log: Any = None,
                 extra_args: Sequence[str] = (), apiserver_env: Mapping[str, str] | None = None) -> None:
        self.objects = list(objects)
        # More environment for kube-apiserver (the benchmark's GOMEMLIMIT).
        self.apiserver_env = dict(apiserver_env or {})
        self._apiserver_args: list[str] = []
        self.tokens = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self.tokens.setdefault(ADMIN_TOKEN, "admin")
        self.policy = policy
        self.extra_args = tuple(extra_args)  # more kube-apiserver flags
        self._binaries = binaries
        self._log = log
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kubectl-dockershim-realapi-"))
        self._ca = trustme.CA()
        self._etcd: subprocess.Popen[bytes] | None = None
        self._apiserver: subprocess.Popen[bytes] | None = None
        self.etcd_url = ""
        self.url = ""
        self._audit_offset = 0
        # (type key, namespace, name) -> uid given by the server; the type key is the kind, with
        # its group for a custom resource
        self.uids: dict[tuple[str, str, str], str] = {}
        # Custom resources the CRDs created define: type key -> (path prefix of the storage
        # version, plural, namespaced); objects are created at their own apiVersion.
        self.custom_kinds: dict[str, tuple[str, str, bool]] = {}
        self.startup_seconds = 0.0
        self.load_seconds = 0.0
        self._local = threading.local()

    # --- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> RealApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def ca_pem(self) -> bytes:
        return self._ca.cert_pem.bytes()

    @property
    def audit_log(self) -> Path:
        return self.workdir / "audit.log"

    def start(self) -> RealApiServer:
        binaries = self._binaries or ensure_built(self._log)
        started = time.monotonic()
        try:
            self._start_etcd(binaries)
            self._start_apiserver(binaries)
            self._wait_ready()
            self.startup_seconds = time.monotonic() - started
            self.load(self.objects)
            if self.policy is None:
                self.allow_everyone()
            else:
                self.apply_policy(self.policy)
            self.clear_requests()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_etcd(self, binaries: Binaries) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        args = [str(binaries.etcd), "--name", "realapi", "--data-dir", str(self.workdir / "etcd"),
                "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
                "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-cluster", f"realapi=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync",  # a throw-away store: no need to wait for the disk
                "--log-level", "warn"]
        self._etcd = self._spawn(args, "etcd.log")
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.etcd_url}/health", timeout=2) as answer:
                    if json.loads(answer.read()).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            self._check_alive(self._etcd, "etcd", "etcd.log")
            if time.monotonic() > deadline:
                raise ServerError(f"etcd did not become healthy in 30s:\n{self._tail('etcd.log')}")
            time.sleep(0.1)

    def _start_apiserver(self, binaries: Binaries) -> None:
        pki = self.workdir / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        cert = self._ca.issue_cert("127.0.0.1", "localhost", "kubernetes.default.svc")
        cert.private_key_and_cert_chain_pem.write_to_path(str(pki / "serving.pem"))
        cert.private_key_pem.write_to_path(str(pki / "serving.key"))
        self._ca.cert_pem.write_to_path(str(pki / "ca.pem"))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (pki / "sa.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                                       serialization.NoEncryption()))
        (pki / "sa.pub").write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
        lines = []
        for token, user in self.tokens.items():
            groups = ",".join(ADMIN_GROUPS) if user == "admin" else ""
            lines.append(f'{token},{user},uid-{user},"{groups}"')
        (pki / "tokens.csv").write_text("\n".join(lines) + "\n")
        (self.workdir / "audit-policy.yaml").write_text(yaml.safe_dump(_AUDIT_POLICY))
        port = free_port()
        self.url = f"https://127.0.0.1:{port}"
        args = [str(binaries.kube_apiserver),
                "--etcd-servers", self.etcd_url,
                "--bind-address", "127.0.0.1", "--secure-port", str(port),
                "--advertise-address", "127.0.0.1",
                "--endpoint-reconciler-type", "none",  # no kube-proxy: nothing would use the endpoints
                "--tls-cert-file", str(pki / "serving.pem"), "--tls-private-key-file", str(pki / "serving.key"),
                "--client-ca-file", str(pki / "ca.pem"),
                "--token-auth-file", str(pki / "tokens.csv"),
                "--authorization-mode", "RBAC",
                "--service-account-key-file", str(pki / "sa.pub"),
                "--service-account-signing-key-file", str(pki / "sa.key"),
                "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
                "--service-cluster-ip-range", "10.96.0.0/16",
                "--allow-privileged=true",
                "--audit-policy-file", str(self.workdir / "audit-policy.yaml"),
                "--audit-log-path", str(self.audit_log), "--audit-log-mode", "blocking",
                # Never rotated (its size otherwise defaults to 100 MB): the request log is read
                # from an offset into this one file. Loading 150,000 objects writes 180 MB.
                "--audit-log-maxsize", "1000000",
                "--etcd-compaction-interval", "0",  # compacted only when a test says so
                "--cert-dir", str(pki), "--profiling=false", "-v", "1", *self.extra_args]
        self._apiserver_args = args
        self._apiserver = self._spawn(args, "kube-apiserver.log", self.apiserver_env)

    def _spawn(self, args: list[str], log_name: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.workdir / log_name, "ab")  # noqa: SIM115 - the child keeps it open
        try:
            # A session of its own, so Ctrl-C in a terminal reaches only `serve`, which stops both in order.
            return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, env={**os.environ, **env} if env else None)
        finally:
            log.close()

    def _tail(self, log_name: str, lines: int = 40) -> str:
        path = self.workdir / log_name
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _check_alive(self, process: subprocess.Popen[bytes] | None, name: str, log_name: str) -> None:
        if process is not None and process.poll() is not None:
            raise ServerError(f"{name} exited with {process.returncode}:\n{self._tail(log_name)}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            self._check_alive(self._apiserver, "kube-apiserver", "kube-apiserver.log")
            try:
                status, body = self.request("GET", "/readyz", timeout=5)
                if status == 200:
                    return
                last = body.decode(errors="replace")
            except (OSError, http.client.HTTPException) as err:
                last = str(err)
            time.sleep(0.25)
        raise ServerError(f"kube-apiserver not ready in {START_TIMEOUT:.0f}s: {last}\n"
                          f"{self._tail('kube-apiserver.log')}")

    def stop(self) -> None:
        """Stop kube-apiserver, then etcd, each by its PID: SIGTERM, then SIGKILL after 15s."""
        for process in (self._apiserver, self._etcd):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._apiserver = self._etcd = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def settle(self) -> None:
        """What a long-running cluster looks like after a large load: etcd compacted to its
        current revision and defragmented (kube-apiserver compacts every 5 minutes), and
        kube-apiserver restarted, so that its watch cache holds the objects and none of the
        event history and snapshots the load left behind (at 20,000 pods 2.5 GB of memory,
        against 1.5 GB for a fresh server of the same objects). Same port, certificates,
        tokens and audit log."""
        revision = self.etcd_revision()
        self._etcd_call("kv/compaction", {"revision": revision, "physical": True})
        self._etcd_call("maintenance/defragment", {}, timeout=600)  # rewrites the whole store
        process = self._apiserver
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._local.connection = None  # the old server closed it
        self._apiserver = self._spawn(self._apiserver_args, "kube-apiserver.log", self.apiserver_env)
        self._wait_ready()
        self.clear_requests()

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(p.pid for p in (self._etcd, self._apiserver) if p is not None)

    # --- requests as the admin ----------------------------------------------------------------------

    @property
    def ca_path(self) -> str:
        return str(self.workdir / "pki" / "ca.pem")

    def _connection(self, timeout: float) -> http.client.HTTPSConnection:
        """This thread's keep-alive connection: loading 100,000 objects must not pay a TLS handshake each."""
        connection: http.client.HTTPSConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            context = ssl.create_default_context(cadata=self.ca_pem.decode())
            host = urlsplit(self.url)
            connection = http.client.HTTPSConnection(host.hostname or "127.0.0.1", host.port, context=context,
                                                     timeout=timeout)
            self._local.connection = connection
        connection.timeout = timeout
        return connection

    def request(self, method: str, path: str, body: Any = None, *, token: str = ADMIN_TOKEN,
                timeout: float = 30, content_type: str = "application/json",
                headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        sent = {"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = content_type
        for attempt in (1, 2):
            connection = self._connection(timeout)
            try:
                connection.request(method, path, body=data, headers=sent)
                answer = connection.getresponse()
                return answer.status, answer.read()
            except (http.client.HTTPException, OSError):
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def create(self, obj: Mapping[str, Any], *, exist_ok: bool = False) -> dict[str, Any]:
        status, body = self.request("POST", rest_path(obj, custom=self.custom_kinds), obj)
        if status == 409 and exist_ok:
            status, body = self.request("GET", rest_path(obj, named=True, custom=self.custom_kinds))
        if status not in (200, 201):
            raise ServerError(f"creating {obj['kind']}/{obj['metadata']['name']}: {status} {body[:500]!r}")
        return dict(json.loads(body))

    # --- objects ------------------------------------------------------------------------------------

    def load(self, objects: Iterable[Mapping[str, Any]], workers: int = LOAD_WORKERS) -> None:
        """Create `objects`: namespaces and the ServiceAccounts that pods name first (what the
        service-account controller would have made: pods are admitted only with them), then the
        other objects, owners before what they own, then the pods. ownerReferences get the uids
        the server gave their owners; a pod's `status`, which create ignores, is written through
        the status subresource.

        Each of those steps sends its requests from `workers` threads at once, each thread over
        its own keep-alive connection: one at a time, the server and the client wait for each
        other and 100,000 pods took 40 minutes. Objects of one step never depend on each other:
        the non-pod objects go in levels, each level owned only by the levels before it."""
        started = time.monotonic()
        objects = list(objects)
        # CustomResourceDefinitions first, each served before anything else is created, so that
        # their objects can be (the server refuses a kind it does not serve yet).
        for crd in [o for o in objects if o["kind"] == "CustomResourceDefinition"]:
            self.define(crd)
        objects = [o for o in objects if o["kind"] != "CustomResourceDefinition"]
        namespaces = {str(o["metadata"]["namespace"]) for o in objects if self._namespaced(o)}
        namespaces |= {str(o["metadata"]["name"]) for o in objects if o["kind"] == "Namespace"}
        accounts = {(n, "default") for n in namespaces}
        for obj in objects:
            spec = obj.get("spec") or {}
            template = (spec.get("jobTemplate", {}).get("spec", {}) if obj["kind"] == "CronJob" else spec)
            pod_spec = spec if obj["kind"] == "Pod" else (template.get("template") or {}).get("spec") or {}
            if pod_spec.get("serviceAccountName"):
                accounts.add((str(obj["metadata"].get("namespace") or "default"), str(pod_spec["serviceAccountName"])))
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            def each(create: Any, items: Iterable[Any]) -> None:
                for _ in pool.map(create, items):  # an error of any of them is raised here
                    pass

            each(lambda name: self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                                          exist_ok=True), sorted(namespaces))
            each(lambda account: self.create({"apiVersion": "v1", "kind": "ServiceAccount",
                                              "metadata": {"name": account[1], "namespace": account[0]}},
                                             exist_ok=True), sorted(accounts))
            for level in self._owner_levels([obj for obj in objects if obj["kind"] not in ("Namespace", "Pod")]):
                each(self._create_recorded, level)
            each(self._create_recorded, [obj for obj in objects if obj["kind"] == "Pod"])
        self.load_seconds = time.monotonic() - started

    def _owner_key(self, reference: Mapping[str, Any], namespace: str) -> tuple[str, str, Any]:
        """(type key, namespace, name) of the owner a reference names, as `uids` keys it: an owner
        of a cluster-scoped kind has no namespace."""
        key = type_key(str(reference.get("kind")), str(reference.get("apiVersion") or ""))
        scope = namespace if (self.custom_kinds.get(key) or KINDS.get(reference.get("kind"), ("", "", True)))[2] else ""
        return key, scope, reference.get("name")

    def _owner_levels(self, objects: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
        """`objects` in levels: the first owned by none of them, each next one only by objects of
        the levels before it (Deployments, then their ReplicaSets). Within a level, objects keep
        their order; a reference cycle (which no server accepts anyway) ends where it closes."""
        index = {(type_key(o["kind"], str(o.get("apiVersion") or "")),
                  str(o["metadata"].get("namespace") or "") if self._namespaced(o) else "", o["metadata"]["name"]): i
                 for i, o in enumerate(objects)}
        depth: dict[int, int] = {}

        def level(i: int, seen: frozenset[int]) -> int:
            if i not in depth:
                metadata = objects[i]["metadata"]
                owners = {index.get(self._owner_key(ref, str(metadata.get("namespace") or "")))
                          for ref in metadata.get("ownerReferences") or [] if isinstance(ref, Mapping)}
                depth[i] = max((level(j, seen | {i}) + 1 for j in owners if j is not None and j not in seen | {i}),
                               default=0)
            return depth[i]

        levels: list[list[Mapping[str, Any]]] = []
        for i, obj in enumerate(objects):
            n = level(i, frozenset())
            while len(levels) <= n:
                levels.append([])
            levels[n].append(obj)
        return levels

    def _namespaced(self, obj: Mapping[str, Any]) -> bool:
        key = type_key(obj["kind"], str(obj.get("apiVersion") or ""))
        return (self.custom_kinds.get(key) or KINDS[obj["kind"]])[2]

    def define(self, crd: Mapping[str, Any]) -> None:
        """Create a CustomResourceDefinition and wait until the server serves its kind: the
        `Established` condition, then its resource in discovery (`/apis/GROUP/VERSION`), which the
        server updates a moment later."""
        created = self.create(crd, exist_ok=True)
        spec = created["spec"]
        group, names = spec["group"], spec["names"]
        storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
        deadline = time.monotonic() + CRD_ESTABLISHED_TIMEOUT
        path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{quote(created['metadata']['name'])}"
        while True:
            status, body = self.request("GET", path)
            conditions = (json.loads(body).get("status") or {}).get("conditions") or [] if status == 200 else []
            established = any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)
            if established:
                status, body = self.request("GET", f"/apis/{group}/{storage}")
                if status == 200 and any(r.get("name") == names["plural"]
                                         for r in json.loads(body).get("resources", [])):
                    break
            if time.monotonic() > deadline:
                raise ServerError(f"{created['metadata']['name']} not served after {CRD_ESTABLISHED_TIMEOUT:.0f}s")
            time.sleep(0.05)
        self.custom_kinds[f"{names['kind']}.{group}"] = (f"apis/{group}/{storage}", names["plural"],
                                                         spec["scope"] == "Namespaced")

    def _create_recorded(self, obj: Mapping[str, Any]) -> None:
        created = self.create(self._with_server_uids(obj))
        meta = created["metadata"]
        key = type_key(obj["kind"], str(obj.get("apiVersion") or ""))
        self.uids[(key, meta.get("namespace", ""), meta["name"])] = meta["uid"]
        if obj["kind"] == "Node":
            self._as_the_node_controller_would(obj, created)
        if obj["kind"] in _WITH_STATUS and obj.get("status"):
            # No controller runs to write a status (a pod's phase, a volume's Bound): it is written as
            # given. The status subresource takes only the metadata and the status from what it is
            # sent (the spec stays the server's), so a pod's spec is left out: 100,000 of them
            # decoded again cost the server more than their statuses. The metadata is the created
            # one, with what admission added (the node's topology labels), less managedFields,
            # which are then kept as they are rather than decoded and checked again. A pod's
            # qosClass is the server's to compute (from the resources) and may not change
            # afterwards: left empty, it stays as computed.
            wanted = dict(obj["status"])
            update: dict[str, Any] = {**created, "status": wanted}
            if obj["kind"] == "Pod":
                wanted.pop("qosClass", None)
                update = {"apiVersion": created.get("apiVersion", "v1"), "kind": "Pod", "spec": {}, "status": wanted,
                          "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
            status, body = self.request("PUT", rest_path(obj, named=True, custom=self.custom_kinds) + "/status",
                                        update)
            if status != 200:
                raise ServerError(f"status of {obj['kind']}/{meta['name']}: {status} {body[:300]!r}")

    def _as_the_node_controller_would(self, obj: Mapping[str, Any], created: dict[str, Any]) -> None:
        """The TaintNodesByCondition admission plugin gives every new Node the
        `node.kubernetes.io/not-ready:NoSchedule` taint, which the node lifecycle controller takes
        off once the node reports Ready. No controller runs here: for a Node created Ready, the
        loader takes it off, so the node is what a cluster's Ready node is (schedulable)."""
        conditions = (obj.get("status") or {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        wanted = list((obj.get("spec") or {}).get("taints") or [])
        if not ready or (created.get("spec") or {}).get("taints", []) == wanted:
            return
        body = {**created, "spec": {**(created.get("spec") or {}), "taints": wanted}}
        status, answer = self.request("PUT", rest_path(obj, named=True), body)
        if status != 200:
            raise ServerError(f"taints of Node/{created['metadata']['name']}: {status} {answer[:300]!r}")

    def _with_server_uids(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The body to create `obj` with: a copy of what is changed here, the rest shared with
        `obj`, which stays as it was (copying 100,000 pods whole cost the loader more than
        sending them)."""
        body = dict(obj)
        metadata = body["metadata"] = dict(body.get("metadata") or {})
        metadata.pop("uid", None)
        metadata.pop("resourceVersion", None)
        namespace = metadata.get("namespace", "")
        spec = body.get("spec") or {}
        if body["kind"] == "Job" and not spec.get("manualSelector"):
            # The server makes a Job's selector and its template's controller-uid labels from the uid
            # it gives the Job, and refuses ones made for another uid (as a dumped Job has).
            spec = body["spec"] = dict(spec)
            spec.pop("selector", None)
            template = spec["template"] = dict(spec.get("template") or {})
            template_metadata = template["metadata"] = dict(template.get("metadata") or {})
            labels = template_metadata["labels"] = dict(template_metadata.get("labels") or {})
            for key in ("controller-uid", "batch.kubernetes.io/controller-uid", "job-name",
                        "batch.kubernetes.io/job-name"):
                labels.pop(key, None)
        if body["kind"] == "Pod" and spec.get("priorityClassName"):
            # Priority admission computes both from the class and refuses values that differ.
            spec = body["spec"] = dict(spec)
            spec.pop("priority", None)
            spec.pop("preemptionPolicy", None)
        if metadata.get("ownerReferences"):
            metadata["ownerReferences"] = [dict(ref) for ref in metadata["ownerReferences"]]
        for ref in metadata.get("ownerReferences") or []:
            uid = self.uids.get(self._owner_key(ref, namespace))
            if uid:
                ref["uid"] = uid
        return body

    def apply(self, documents: Iterable[Mapping[str, Any]]) -> None:
        """Create manifests as they are written (e.g. deploy/rbac.yaml), in order; those that
        exist already are left as they are."""
        for doc in documents:
            self.create(doc, exist_ok=True)

    def service_account_token(self, namespace: str, name: str) -> str:
        """A bound token for the ServiceAccount, from the TokenRequest API, as a pod would be given."""
        status, body = self.request("POST", f"/api/v1/namespaces/{quote(namespace)}/serviceaccounts/"
                                            f"{quote(name)}/token",
                                    {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                     "spec": {"expirationSeconds": 3600}})
        if status != 201:
            raise ServerError(f"token for {namespace}/{name}: {status} {body[:300]!r}")
        return str(json.loads(body)["status"]["token"])

    # --- RBAC ---------------------------------------------------------------------------------------

    def allow_everyone(self) -> None:
        """What the test server does without a policy: every authenticated user may do anything."""
        self.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                     "metadata": {"name": "test-policy-everyone", "labels": {_POLICY_LABEL: "true"}},
                     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                   "name": "system:authenticated"}],
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                 "name": "cluster-admin"}}, exist_ok=True)
        self._wait_allowed("someone", "list", "pods", "")

    def apply_policy(self, policy: Policy) -> None:
        """Each user's rules as a ClusterRole, bound cluster-wide (rule without namespaces) or by
        a RoleBinding in each of its namespaces; returns once the authorizer enforces them."""
        checks: list[tuple[str, str, str, str, str | None]] = []
        for user, rules in policy.rules.items():
            if user == "admin":
                continue  # system:masters already
            for rule in rules:
                entry: dict[str, Any] = {"apiGroups": ["*"], "resources": list(rule.resources),
                                         "verbs": list(rule.verbs)}
                if rule.names is not None:
                    entry["resourceNames"] = list(rule.names)
                # Named after the user and the rule, so applying the same policy twice changes nothing
                # and two policies never overwrite each other's roles.
                digest = hashlib.sha256(repr((user, rule)).encode()).hexdigest()[:10]
                role_name = f"test-policy-{user}-{digest}".replace(":", "-")
                labels = {_POLICY_LABEL: "true"}
                self.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                             "metadata": {"name": role_name, "labels": labels}, "rules": [entry]}, exist_ok=True)
                subject = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
                role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name}
                if rule.namespaces is None:
                    self.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                                 "metadata": {"name": role_name, "labels": labels},
                                 "subjects": subject, "roleRef": role_ref}, exist_ok=True)
                    checks.append((user, rule.verbs[0], rule.resources[0], "", _first_name(rule)))
                for namespace in rule.namespaces or ():
                    self.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                 "metadata": {"name": role_name, "namespace": namespace, "labels": labels},
                                 "subjects": subject, "roleRef": role_ref}, exist_ok=True)
                    checks.append((user, rule.verbs[0], rule.resources[0], namespace, _first_name(rule)))
        for user, verb, resource, namespace, name in checks:
            self._wait_allowed(user, verb, resource, namespace, name)

    def _wait_allowed(self, user: str, verb: str, resource: str, namespace: str, name: str | None = None) -> None:
        # A rule limited to resourceNames allows nothing without a name: ask about one it names.
        attributes = {"verb": "get" if verb == "*" else verb, "resource": "pods" if resource == "*" else resource,
                      "namespace": namespace, **({"name": name} if name else {})}
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                  "spec": {"user": user, "groups": ["system:authenticated"], "resourceAttributes": attributes}}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, body = self.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
            if status == 201 and json.loads(body).get("status", {}).get("allowed"):
                return
            time.sleep(0.05)
        raise ServerError(f"RBAC for {user} ({verb} {resource} in {namespace or 'the cluster'}) not in force after 20s")

    # --- etcd ---------------------------------------------------------------------------------------

    def _etcd_call(self, method: str, body: Mapping[str, Any], timeout: float = 30) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.etcd_url}/v3/{method}", data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return dict(json.loads(answer.read()))

    def etcd_revision(self) -> int:
        answer = self._etcd_call("kv/range", {"key": base64.b64encode(b"/").decode(), "limit": 1})
        return int(answer["header"]["revision"])

    def compact(self) -> int:
        """Write one key and compact etcd to that revision: every older resourceVersion (and so
        every continue token handed out so far) is gone, as after the server's periodic compaction."""
        key = base64.b64encode(b"/kubectl-dockershim-test/compaction").decode()
        put = self._etcd_call("kv/put", {"key": key, "value": base64.b64encode(uuid.uuid4().bytes).decode()})
        revision = int(put["header"]["revision"])
        self._etcd_call("kv/compaction", {"revision": revision, "physical": True})
        return revision

    # --- what the end-to-end tests use of the test server -------------------------------------------

    def write_kubeconfig(self, path: str | os.PathLike[str], token: str | None = ADMIN_TOKEN,
                         context: str = "test", namespace: str | None = None,
                         extra_contexts: Mapping[str, Mapping[str, str]] | None = None,
                         client_cert: tuple[str, str] | None = None) -> str:
        """The test server's `write_kubeconfig`, for this server (same arguments, same meaning)."""
        return write_kubeconfig(path, server=self.url, ca_pem=self.ca_pem, token=token, context=context,
                                namespace=namespace, extra_contexts=extra_contexts, client_cert=client_cert)

    def issue_client_cert(self, user: str, group: str = "system:authenticated") -> tuple[str, str]:
        """(certificate, key) paths of a client certificate for `user` in `group` (CN and O), as
        the test server's: the server trusts this CA for clients too."""
        leaf = self._ca.issue_cert("client.invalid", common_name=user, organization_name=group)
        cert, key = self.workdir / f"client-{user}.crt", self.workdir / f"client-{user}.key"
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        return str(cert), str(key)

    def clear_requests(self) -> None:
        self._sync_audit()
        self._audit_offset = self.audit_log.stat().st_size if self.audit_log.exists() else 0

    def _sync_audit(self) -> str:
        """Send a marker request and wait until the audit log has it: every request answered
        before it is then in the log too."""
        marker = uuid.uuid4().hex
        self.request("GET", f"/version?audit-marker={marker}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.audit_log.exists():
                with open(self.audit_log, "rb") as log:  # only what was written since the offset
                    log.seek(self._audit_offset)
                    if marker.encode() in log.read():
                        return marker
            time.sleep(0.02)
        raise ServerError("the audit log did not record a request within 10s")

    @property
    def requests(self) -> list[RequestRecord]:
        """Requests since `clear_requests()`, from the audit log, as the test server records them
        (less the headers, which an audit event does not keep); the server's own loopback calls and
        the marker requests are left out."""
        marker = self._sync_audit()
        with open(self.audit_log, "rb") as log:
            log.seek(self._audit_offset)
            lines = log.read().decode(errors="replace").splitlines()
        records = []
        for line in lines:
            event = json.loads(line)
            user = event.get("user") or {}
            # A request that failed authentication is audited once, at ResponseStarted.
            if event.get("stage") != "ResponseComplete" and not (
                    event.get("stage") == "ResponseStarted" and not user.get("username")):
                continue
            if "audit-marker=" in event.get("requestURI", ""):
                if marker in event["requestURI"]:
                    break
                continue
            if user.get("username") == "system:apiserver":
                continue  # the server's own loopback client
            split = urlsplit(event["requestURI"])
            impersonated = event.get("impersonatedUser") or {}
            authenticated = user.get("username")
            records.append(RequestRecord(
                method=_VERB_METHODS.get(event.get("verb", ""), event.get("verb", "").upper()),
                path=split.path, query=parse_qs(split.query, keep_blank_values=True),
                user=impersonated.get("username") or authenticated,
                status=int((event.get("responseStatus") or {}).get("code") or 0),
                headers=[], groups=tuple(impersonated.get("groups") or ()),
                authenticated_user=authenticated))
        return records
