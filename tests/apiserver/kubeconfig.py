"""The kubeconfig the tests hand to kubectl and the plugin, for either server they run against
(the test API server here, or the real kube-apiserver of tests/realapi/): one writer, so both
servers' kubeconfigs mean the same for the same arguments."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

import yaml

CONTEXT_KEYS = frozenset({"token", "namespace", "server", "client_certificate", "client_key"})


def write_kubeconfig(path: str | os.PathLike[str], *, server: str, ca_pem: bytes, token: str | None,
                     context: str = "test", namespace: str | None = None,
                     extra_contexts: Mapping[str, Mapping[str, str]] | None = None,
                     client_cert: tuple[str, str] | None = None) -> str:
    """Write a kubeconfig whose current context `context` reaches `server` (trusting `ca_pem`).

    `token=None` (and no `client_cert`) leaves the user without credentials; kubectl then prompts
    for a password, so run it with stdin closed. Each entry of `extra_contexts` maps a context
    name to optional keys `token`, `namespace`, `server` (another URL, e.g. a closed port),
    `client_certificate` and `client_key` (paths); a context that names no credentials gets the
    main context's."""
    ca_b64 = base64.b64encode(ca_pem).decode()
    clusters = [{"name": context, "cluster": {"server": server, "certificate-authority-data": ca_b64}}]
    users: list[dict[str, Any]] = []
    contexts: list[dict[str, Any]] = []

    def add_context(name: str, cluster: str, spec: Mapping[str, str | None]) -> None:
        user: dict[str, str] = {}
        if spec.get("token"):
            user["token"] = str(spec["token"])
        if spec.get("client_certificate"):
            user["client-certificate"] = str(spec["client_certificate"])
            user["client-key"] = str(spec.get("client_key") or "")
        users.append({"name": name, "user": user})
        ctx: dict[str, str] = {"cluster": cluster, "user": name}
        if spec.get("namespace"):
            ctx["namespace"] = str(spec["namespace"])
        contexts.append({"name": name, "context": ctx})

    main: dict[str, str | None] = {"token": token, "namespace": namespace}
    if client_cert:
        main["client_certificate"], main["client_key"] = client_cert
    add_context(context, context, main)
    for name, given in (extra_contexts or {}).items():
        unknown = set(given) - CONTEXT_KEYS
        if unknown:
            raise ValueError(f"extra context {name!r}: unknown keys {sorted(unknown)}")
        spec: dict[str, str | None] = dict(given)
        if "token" not in spec and "client_certificate" not in spec:
            spec.update({k: v for k, v in main.items() if k != "namespace"})
        cluster = context
        if spec.get("server"):
            cluster = f"{name}-cluster"
            clusters.append({"name": cluster, "cluster": {"server": spec["server"], "certificate-authority-data": ca_b64}})
        add_context(name, cluster, spec)
    config = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": clusters,
              "users": users, "contexts": contexts, "current-context": context}
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    return os.fspath(path)
