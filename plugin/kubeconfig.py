"""kubectl's connection flags and kubeconfig semantics, turned into a filled client `Configuration`.

The Python client's own loader differs from kubectl in ways users notice (which file's
`current-context` wins, the context's namespace, writing refreshed tokens back, printing on
fallback, swallowing exec-plugin failures), so this module reads and merges the kubeconfig files
itself, applies the command-line overrides to a copy of the selected cluster and user, and only
then hands that one-context dict to `KubeConfigLoader` for the authentication mechanics (tokens,
certificates, exec plugins, auth providers). Without a kubeconfig it falls back to the pod's
service account. It never writes a file and never prints; every failure is a `ConfigError`
carrying kubectl's wording, with the user's credentials (tokens, passwords, keys, an exec
plugin's env values) masked wherever a message could quote them. The Kubernetes client and
PyYAML are imported only when a connection is actually loaded, so `--help` and `version` stay
fast.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from plugin.errors import ConfigError, PluginError, UsageError

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# kubectl's wording for a bad --request-timeout (client-go's ParseTimeout).
_TIMEOUT_ERROR = ("Invalid timeout value. Timeout must be a single integer in seconds, or an integer "
                  "followed by a corresponding time unit (e.g. 1s | 2m | 3h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
                   "h": 3600.0}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")

# Keys of a kubeconfig user that authenticate it; `--token` replaces all of them.
_CREDENTIAL_KEYS = ("token", "tokenFile", "exec", "auth-provider", "username", "password",
                    "client-certificate", "client-certificate-data", "client-key", "client-key-data")
# Placeholder names for a cluster or user that exists only through flags.
_FLAGS_CLUSTER = "kubectl-dockershim-flags-cluster"
_FLAGS_USER = "kubectl-dockershim-flags-user"
# What a credential becomes in a message; shorter values are left alone (masking every "ab"
# would garble messages, and so short a value protects nothing).
REDACTED = "<redacted>"
_MIN_SECRET_LENGTH = 4
# Names of auth-provider config keys and exec-plugin env vars whose values are credentials
# (id-token, client-secret, API_KEY, VAULT_TOKEN, ...). Other env values (AWS_PROFILE=default,
# a region) are not masked: they are not secret, and masking "default" would garble messages.
_SECRET_KEY_PARTS = ("token", "secret", "password", "passwd", "key", "credential")
# Swapping the root logger's handlers is process-wide: two threads doing it at once could leave
# a collector installed for good. Re-entrant because a refresh may happen while loading.
_LOG_CAPTURE_LOCK = threading.RLock()


@dataclass(frozen=True)
class ConnectionFlags:
    """kubectl's connection flags, as typed (None = not given)."""

    kubeconfig: str | None = None
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    namespace: str | None = None
    server: str | None = None
    token: str | None = None
    as_user: str | None = None
    as_groups: tuple[str, ...] = ()
    as_uid: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    request_timeout: str | None = None  # kubectl form: "0" (none), "30", "30s", "1m", "2h"
    disable_compression: bool = False


@dataclass(frozen=True)
class InClusterFiles:
    """Where a pod finds its service account; replaceable so tests need no real pod."""

    token: str = f"{SERVICE_ACCOUNT_DIR}/token"
    ca: str = f"{SERVICE_ACCOUNT_DIR}/ca.crt"
    namespace: str = f"{SERVICE_ACCOUNT_DIR}/namespace"


@dataclass
class Connection:
    """Everything needed to talk to one API server as one user."""

    configuration: Any  # kubernetes.client.Configuration, filled
    context: str | None  # None for in-cluster, or --server without a kubeconfig
    namespace: str
    server: str  # e.g. https://127.0.0.1:6443
    headers: list[tuple[str, str]]  # impersonation, one pair per group
    timeout: float | None  # seconds; None = no timeout
    # The user's exec plugin settings, so a failed refresh can name the command.
    exec_config: dict[str, Any] | None = field(default=None, repr=False)
    # Every credential value known for this user, masked in any message (see `redact`).
    secrets: frozenset[str] = field(default=frozenset(), repr=False)
    # Whether to ask for gzip answers: as kubectl, unless the cluster's `disable-compression`
    # or --disable-compression says not to (on a fast link, compressing only costs the server).
    compression: bool = True

    def authorization(self) -> str | None:
        """The `Authorization` header value, or None.

        Goes through the client's refresh hook, which re-runs an exec plugin or re-reads the
        service-account token once the old one expires; a failed refresh is a ConfigError rather
        than a silently stale token and a line on stderr."""
        return authorization_header(self.configuration, self.exec_config)

    def redact(self, text: str, extra: Iterable[str] = ()) -> str:
        """`text` with this connection's credentials (and `extra` ones) replaced by `<redacted>`."""
        return redact(text, self.secrets.union(extra))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (of at least 4 characters) replaced by `<redacted>`, longest first
    so a token containing a shorter secret is masked whole."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def secret_values(user: Mapping[str, Any], configuration: Any = None) -> frozenset[str]:
    """The credential values of a kubeconfig user and of the Configuration loaded from it: what
    must never be printed. Multi-line values count line by line as well (a PEM key's lines, a
    token file with a stray line break)."""
    found: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            text = str(value)
            found.add(text)
            found.add(text.strip())
            found.update(line.strip() for line in text.splitlines())

    for key in ("token", "password", "client-key-data"):
        add(user.get(key))
    key_data = user.get("client-key-data")
    if isinstance(key_data, str):
        try:
            add(base64.b64decode(key_data, validate=False).decode("utf-8", errors="replace"))
        except (binascii.Error, ValueError):
            pass
    exec_config = user.get("exec")
    if isinstance(exec_config, dict) and isinstance(exec_config.get("env"), list):
        for entry in exec_config["env"]:
            if isinstance(entry, dict) and _looks_secret(entry.get("name")):
                add(entry.get("value"))
    provider = user.get("auth-provider")
    provider_config = provider.get("config") if isinstance(provider, dict) else None
    if isinstance(provider_config, dict):
        for key, value in provider_config.items():
            if _looks_secret(key):
                add(value)
    if configuration is not None:
        for value in (getattr(configuration, "api_key", None) or {}).values():
            add(value)
            if isinstance(value, str):
                add(value.partition(" ")[2])  # "Bearer TOKEN", "Basic BASE64"
        add(getattr(configuration, "password", None))
        for value in (getattr(configuration, "proxy_headers", None) or {}).values():
            add(value)
            if isinstance(value, str):
                add(value.partition(" ")[2])
                try:
                    add(base64.b64decode(value.partition(" ")[2]).decode("utf-8", errors="replace")
                        .partition(":")[2])
                except (binascii.Error, ValueError):
                    pass
    return frozenset(s for s in found if len(s) >= _MIN_SECRET_LENGTH)


def _looks_secret(name: Any) -> bool:
    return any(part in str(name).lower() for part in _SECRET_KEY_PARTS)


@dataclass
class _Kubeconfig:
    """The merged view of the kubeconfig files: first definition of every name wins."""

    files: list[str]
    current_context: str
    clusters: dict[str, dict[str, Any]]
    users: dict[str, dict[str, Any]]
    contexts: dict[str, dict[str, Any]]


def parse_request_timeout(value: str) -> float | None:
    """Seconds for kubectl's `--request-timeout` ("0", "30", "30s", "1m30s"); None means no timeout."""
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"[0-9]+", text):
        seconds = float(int(text))
    else:
        # Go's time.ParseDuration syntax, without negative durations: they make no sense here.
        body = text[1:] if text.startswith("+") else text
        if not body:
            raise UsageError(_TIMEOUT_ERROR)
        if body == "0":
            return None
        pos, seconds = 0, 0.0
        while pos < len(body):
            match = _DURATION_PART.match(body, pos)
            if not match:
                raise UsageError(_TIMEOUT_ERROR)
            seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            pos = match.end()
    return seconds or None


def context_names(flags: ConnectionFlags, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every context of the merged kubeconfig, sorted as `kubectl config get-contexts` sorts them."""
    env = os.environ if environ is None else environ
    return sorted(_load_kubeconfig(flags, env).contexts)


def load_connection(flags: ConnectionFlags, environ: Mapping[str, str] | None = None, *,
                    in_cluster_files: InClusterFiles | None = None) -> Connection:
    """Resolve flags + kubeconfig (or the pod's service account) into a ready Connection."""
    env = os.environ if environ is None else environ
    files = in_cluster_files or InClusterFiles()
    timeout = parse_request_timeout(flags.request_timeout) if flags.request_timeout else None
    kubeconfig = _load_kubeconfig(flags, env)

    context_name = flags.context or kubeconfig.current_context or None
    if context_name is not None:
        context = kubeconfig.contexts.get(context_name)
        if context is None:
            if flags.context:
                raise ConfigError(f'error: context "{context_name}" does not exist')
            raise ConfigError("error: context was not found for specified "
                              f"context: {context_name}")
        cluster_name = flags.cluster or _str(context.get("cluster"))
        user_name = flags.user or _str(context.get("user"))
        namespace = flags.namespace or _str(context.get("namespace")) or "default"
    elif flags.server or flags.cluster:
        # No context chosen, but the flags say where to go (kubectl accepts this too).
        cluster_name, user_name = flags.cluster or "", flags.user or ""
        namespace = flags.namespace or "default"
    elif _in_cluster_possible(env, files):
        return _in_cluster_connection(flags, env, files, timeout)
    elif kubeconfig.files:
        raise ConfigError("error: no context is selected: the kubeconfig sets no current-context; "
                          "use --context NAME (or --server URL)")
    else:
        raise ConfigError("error: no configuration has been provided: no kubeconfig found "
                          "(KUBECONFIG, ~/.kube/config) and not running in a pod; "
                          "use --kubeconfig FILE or --server URL")

    _check_namespaces(namespace)
    cluster = _cluster_with_overrides(kubeconfig, cluster_name, flags)
    user = _user_with_overrides(kubeconfig, user_name, flags)
    headers = _impersonation_headers(user, flags, user_name)
    server = cluster["server"] = _normalize_server(cluster["server"], _wants_tls(cluster, user))

    effective_context = context_name or "kubectl-dockershim-flags"
    cluster_key = cluster_name or _FLAGS_CLUSTER
    user_key = user_name or _FLAGS_USER
    one_context = {
        "current-context": effective_context,
        "contexts": [{"name": effective_context, "context": {"cluster": cluster_key, "user": user_key}}],
        "clusters": [{"name": cluster_key, "cluster": cluster}],
        "users": [{"name": user_key, "user": user}],
    }
    configuration = _new_configuration()
    _run_loader(one_context, effective_context, configuration, user)
    _set_proxy(configuration, server, cluster, env)
    exec_config = user.get("exec")
    return Connection(configuration=configuration, context=context_name, namespace=namespace,
                      server=server, headers=headers, timeout=timeout,
                      exec_config=exec_config if isinstance(exec_config, dict) else None,
                      secrets=secret_values(user, configuration),
                      compression=cluster.get("disable-compression") is not True)


def _check_namespaces(namespace: str) -> str:
    """`namespace` (scan's `-n` may list several, comma-separated), each a valid namespace, else
    kubectl's error: before any request, so `-n ..` never becomes another URL."""
    from plugin.validation import check_namespace

    for part in namespace.split(","):
        if part.strip():
            check_namespace(part.strip())
    return namespace


def authorization_header(configuration: Any, exec_config: dict[str, Any] | None = None) -> str | None:
    """The Authorization value from a filled Configuration (refreshing it if due), or None."""
    with _client_log_captured() as records:
        settings = configuration.auth_settings()
    user = {"exec": exec_config} if exec_config else None
    _raise_for_records(records, user, secret_values(user or {}, configuration))
    value = (settings.get("BearerToken") or {}).get("value")
    # Token files often end with a newline, which is not allowed in a header; kubectl trims too.
    return (str(value).strip() or None) if value else None


# --- reading and merging -------------------------------------------------------------------


def _load_kubeconfig(flags: ConnectionFlags, env: Mapping[str, str]) -> _Kubeconfig:
    if flags.kubeconfig:
        path = flags.kubeconfig
        if not os.path.exists(path):
            raise ConfigError(f"error: stat {path}: no such file or directory")
        paths = [path]
    else:
        listed = env.get("KUBECONFIG", "")
        if listed:
            # Same file twice is read once, as kubectl dedupes the list; missing files are skipped.
            paths = [p for p in dict.fromkeys(listed.split(os.pathsep)) if p and os.path.exists(p)]
        else:
            home = env.get("HOME")
            default = os.path.join(home, ".kube", "config") if home else ""
            paths = [default] if default and os.path.exists(default) else []

    merged = _Kubeconfig(files=[], current_context="", clusters={}, users={}, contexts={})
    for path in paths:
        document = _read_yaml(path)
        merged.files.append(path)
        base = os.path.dirname(os.path.abspath(path))
        if not merged.current_context and document.get("current-context"):
            merged.current_context = str(document["current-context"])
        for list_key, item_key, target in (("clusters", "cluster", merged.clusters),
                                           ("users", "user", merged.users),
                                           ("contexts", "context", merged.contexts)):
            for name, body in _named_entries(document, list_key, item_key, path):
                _check_strings(body, list_key, item_key, path)
                if name not in target:
                    target[name] = _resolve_paths(item_key, body, base)
    return merged


def _read_yaml(path: str) -> dict[str, Any]:
    import yaml

    from plugin.safe_yaml import MAX_BYTES, UnsafeYaml, load_document

    def failed(reason: str) -> ConfigError:
        return ConfigError(f'error: error loading config file "{path}": {reason}')

    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read(MAX_BYTES + 1)  # bounded: the path may name /dev/zero or a huge file
        if len(text) > MAX_BYTES:
            raise failed(f"larger than {MAX_BYTES >> 20} MiB, not read")
        document = load_document(text)
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        op = "read" if isinstance(err, IsADirectoryError) else "open"
        raise failed(f"{op} {path}: {reason}") from None
    except UnsafeYaml as err:
        raise failed(f"yaml: {err.problem}") from None
    except yaml.YAMLError as err:
        # Only the problem and its line: the YAML snippet could show a token or a key.
        problem = getattr(err, "problem", None) or "invalid YAML"
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise failed(f"yaml: {where}{problem}") from None
    except UnicodeDecodeError:
        raise failed("not a UTF-8 text file") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as err:
        # A scalar Python cannot hold (an integer of 5,000 digits), nesting the parser cannot follow.
        raise failed(f"yaml: {type(err).__name__}") from None
    if document is None:
        return {}  # an empty file is an empty config, as for kubectl
    if not isinstance(document, dict):
        raise failed("not a kubeconfig (the document is not a mapping)")
    return document


def _named_entries(document: dict[str, Any], list_key: str, item_key: str,
                   path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    entries = document.get(list_key) or []
    if not isinstance(entries, list):
        raise ConfigError(f'error: error loading config file "{path}": {list_key} is not a list')
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f'error: error loading config file "{path}": '
                              f"{list_key}[{index}] has no name")
        body = entry.get(item_key) or {}
        if not isinstance(body, dict):
            raise ConfigError(f'error: error loading config file "{path}": '
                              f'{item_key} "{entry["name"]}" is not a mapping')
        yield entry["name"], body


# Fields of a context that kubectl reads as strings: YAML `namespace: 123` is a number, which
# kubectl refuses; taking it for "no namespace" would silently scan `default` instead.
_CONTEXT_STRINGS = ("cluster", "user", "namespace")
_JSON_TYPES = ((bool, "bool"), (int, "number"), (float, "number"), (list, "array"), (dict, "object"))


def _check_strings(body: dict[str, Any], list_key: str, item_key: str, path: str) -> None:
    if item_key != "context":
        return
    for key in _CONTEXT_STRINGS:
        value = body.get(key)
        if value is None or isinstance(value, str):
            continue
        kind = next((name for t, name in _JSON_TYPES if isinstance(value, t)), type(value).__name__)
        # kubectl's (encoding/json's) wording.
        raise ConfigError(f'error: error loading config file "{path}": json: cannot unmarshal {kind} into Go '
                          f"struct field Context.{list_key}.{item_key}.{key} of type string")


def _resolve_paths(item_key: str, body: dict[str, Any], base: str) -> dict[str, Any]:
    """A copy of one entry with its file references made absolute against its own file's folder,
    which is only known here: the merged dict mixes entries from several files."""
    resolved = dict(body)

    def absolute(value: Any) -> Any:
        if isinstance(value, str) and value and not os.path.isabs(value):
            return os.path.normpath(os.path.join(base, value))
        return value

    if item_key == "cluster":
        if "certificate-authority" in resolved:
            resolved["certificate-authority"] = absolute(resolved["certificate-authority"])
    elif item_key == "user":
        for key in ("client-certificate", "client-key", "tokenFile"):
            if key in resolved:
                resolved[key] = absolute(resolved[key])
        exec_config = resolved.get("exec")
        if isinstance(exec_config, dict):
            command = exec_config.get("command")
            # A bare command name is looked up on PATH; one with a slash is a path (kubectl's rule).
            if isinstance(command, str) and os.sep in command:
                resolved["exec"] = {**exec_config, "command": absolute(command)}
    return resolved


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- selection and overrides ---------------------------------------------------------------


def _cluster_with_overrides(kubeconfig: _Kubeconfig, name: str, flags: ConnectionFlags) -> dict[str, Any]:
    found = kubeconfig.clusters.get(name) if name else None
    if found is None and name and not flags.server:
        raise ConfigError(f'error: no server found for cluster "{name}"')
    cluster = dict(found or {})
    if flags.server:
        cluster["server"] = flags.server
    if flags.certificate_authority:
        cluster["certificate-authority"] = os.path.abspath(flags.certificate_authority)
        # The client prefers *-data over a file: the flag must win over the file's embedded CA.
        cluster.pop("certificate-authority-data", None)
    if flags.insecure_skip_tls_verify:
        cluster["insecure-skip-tls-verify"] = True
        if not flags.certificate_authority:
            # As kubectl: skipping verification drops the configured CA instead of conflicting with it.
            cluster.pop("certificate-authority", None)
            cluster.pop("certificate-authority-data", None)
    if flags.tls_server_name:
        cluster["tls-server-name"] = flags.tls_server_name
    if flags.disable_compression:
        cluster["disable-compression"] = True
    if not cluster.get("server"):
        if name:
            raise ConfigError(f'error: no server found for cluster "{name}"')
        raise ConfigError("error: invalid configuration: no server defined; use --server URL")
    _check_file(cluster, "certificate-authority", "certificate-authority", name)
    return cluster


def _user_with_overrides(kubeconfig: _Kubeconfig, name: str, flags: ConnectionFlags) -> dict[str, Any]:
    found = kubeconfig.users.get(name) if name else None
    if found is None and name:
        raise ConfigError(f'error: auth info "{name}" does not exist')
    user = dict(found or {})
    if flags.token:
        # An explicit token is the identity to use: left next to a client certificate or an exec
        # plugin, the server would authenticate the other credential instead.
        user = {k: v for k, v in user.items() if k not in _CREDENTIAL_KEYS}
        user["token"] = flags.token
    if flags.client_certificate:
        user["client-certificate"] = os.path.abspath(flags.client_certificate)
        user.pop("client-certificate-data", None)
    if flags.client_key:
        user["client-key"] = os.path.abspath(flags.client_key)
        user.pop("client-key-data", None)
    has_cert = bool(user.get("client-certificate") or user.get("client-certificate-data"))
    has_key = bool(user.get("client-key") or user.get("client-key-data"))
    if has_cert != has_key:
        missing = "client-key-data or client-key" if has_cert else "client-cert-data or client-cert"
        raise ConfigError(f"error: {missing} must be specified for {name or 'the user'} to use the "
                          "clientCert authentication method")
    _check_file(user, "client-certificate", "client-cert", name)
    _check_file(user, "client-key", "client-key", name)
    _check_file(user, "tokenFile", "token file", name)
    return user


def _check_file(entry: dict[str, Any], key: str, label: str, owner: str) -> None:
    """kubectl's message for a referenced file that is missing (the client's is vaguer)."""
    if f"{key}-data" in entry and entry[f"{key}-data"]:
        return
    path = entry.get(key)
    if isinstance(path, str) and path and not os.path.isfile(path):
        owner_part = f" for {owner}" if owner else ""
        raise ConfigError(f"error: unable to read {label} {path}{owner_part} due to open {path}: "
                          "no such file or directory")


def _impersonation_headers(user: dict[str, Any], flags: ConnectionFlags, user_name: str) -> list[tuple[str, str]]:
    as_user = flags.as_user or _str(user.get("as"))
    groups = list(flags.as_groups) or [str(g) for g in user.get("as-groups") or []]
    uid = flags.as_uid or _str(user.get("as-uid"))
    extra = user.get("as-user-extra") or {}
    if not as_user:
        if groups or uid or extra:
            # kubectl's wording; it names the kubeconfig user whose identity would be used.
            raise ConfigError(f"error: requesting uid, groups or user-extra for {user_name or 'the user'} without "
                              "impersonating a user (use --as)")
        return []
    headers = [("Impersonate-User", as_user)]
    headers += [("Impersonate-Group", group) for group in groups]
    if uid:
        headers.append(("Impersonate-Uid", uid))
    if isinstance(extra, dict):
        for key, values in extra.items():
            for value in values if isinstance(values, list) else [values]:
                # Header names cannot carry every character a key may have; the API percent-decodes.
                headers.append((f"Impersonate-Extra-{quote(str(key), safe='')}", str(value)))
    return headers


def _wants_tls(cluster: dict[str, Any], user: dict[str, Any]) -> bool:
    """client-go's default scheme for a server given without one: https when TLS is configured."""
    keys = ("certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify")
    return any(cluster.get(k) for k in keys) or any(
        user.get(k) for k in ("client-certificate", "client-certificate-data"))


def _normalize_server(server: Any, tls: bool) -> str:
    text = str(server).strip()
    if "://" not in text:
        text = ("https://" if tls else "http://") + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("error: invalid configuration: the server URL is not valid "
                          "(expected https://HOST[:PORT])") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("error: invalid configuration: the server URL is not valid "
                          "(expected https://HOST[:PORT])")
    return text.rstrip("/")


# --- the client's loaders ------------------------------------------------------------------


def _new_configuration() -> Any:
    from kubernetes.client import Configuration

    # A fresh object per connection; Configuration.set_default is never used, so nothing global
    # changes and two connections (--all-contexts) cannot share credentials.
    return Configuration()


def _run_loader(one_context: dict[str, Any], context: str, configuration: Any, user: dict[str, Any]) -> None:
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader

    try:
        with _client_log_captured() as records:
            # No config_persister: a refreshed token must never be written to the user's file.
            # config_base_path "" because every relative path was already resolved per file.
            loader = KubeConfigLoader(config_dict=one_context, active_context=context,
                                      config_base_path="", config_persister=None)
            loader.load_and_set(configuration)
    except ConfigError:
        raise
    except ConfigException as err:
        raise ConfigError(redact(f"error: invalid configuration: {_first_line(str(err))}",
                                 secret_values(user, configuration))) from None
    except Exception as err:  # bad base64, odd types: a config problem, not a crash
        raise ConfigError(redact(f"error: invalid configuration: {type(err).__name__}: "
                                 f"{_first_line(str(err))}", secret_values(user, configuration))) from None
    _raise_for_records(records, user, secret_values(user, configuration))


@contextmanager
def _client_log_captured() -> Iterator[list[logging.LogRecord]]:
    """Collect what the client logs while loading instead of letting it reach stderr.

    The client reports exec-plugin failures only through `logging.error`, and with no handler
    configured that call would install one printing to stderr. For the duration, the root logger
    has our collector as its only handler."""
    records: list[logging.LogRecord] = []

    class Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    with _LOG_CAPTURE_LOCK:
        saved_handlers, saved_level = root.handlers[:], root.level
        root.handlers = [Collector(logging.ERROR)]
        root.setLevel(logging.WARNING)
        try:
            yield records
        finally:
            root.handlers = saved_handlers
            root.setLevel(saved_level)


def _raise_for_records(records: list[logging.LogRecord], user: dict[str, Any] | None,
                       secrets: Iterable[str] = ()) -> None:
    failures = [r for r in records if r.levelno >= logging.ERROR]
    if not failures:
        return
    detail = _first_line(failures[0].getMessage())
    exec_config = (user or {}).get("exec")
    command = exec_config.get("command") if isinstance(exec_config, dict) else None
    # A plugin's stderr may well echo what it was given (its env) or the token it got.
    detail = redact(detail, secrets)
    if command is None and not detail.startswith("exec:"):
        raise ConfigError(f"error: getting credentials: {detail}")
    raise ConfigError(_exec_failure(str(command or "(unknown)"), detail, exec_config))


def _exec_failure(command: str, detail: str, exec_config: Any) -> str:
    """kubectl's wording for a credential plugin that did not give credentials."""
    prefix = "error: getting credentials: exec:"
    text = detail[len("exec:"):].strip() if detail.startswith("exec:") else detail
    returned = re.match(r"process returned (-?\d+)\.?\s*(.*)", text)
    if returned:
        stderr = returned.group(2).strip()
        tail = f": {stderr[:200]}" if stderr else ""
        return f"{prefix} executable {command} failed with exit code {returned.group(1)}{tail}"
    if text.startswith("[Errno 2]"):
        hint = exec_config.get("installHint") if isinstance(exec_config, dict) else None
        message = (f"{prefix} executable {command} not found\n\nIt looks like you are trying to use "
                   "a client-go credential plugin that is not installed.")
        return f"{message}\n\n{str(hint).strip()}" if hint else message
    text = re.sub(r"^\[Errno \d+\]\s*", "", text)
    return f"{prefix} executable {command} failed: {text}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# --- in-cluster ----------------------------------------------------------------------------


def _in_cluster_possible(env: Mapping[str, str], files: InClusterFiles) -> bool:
    """client-go's test: the service env variables and a token file, nothing more."""
    return bool(env.get("KUBERNETES_SERVICE_HOST") and env.get("KUBERNETES_SERVICE_PORT")
                and os.path.isfile(files.token))


def _in_cluster_connection(flags: ConnectionFlags, env: Mapping[str, str], files: InClusterFiles,
                           timeout: float | None) -> Connection:
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader

    if flags.user:
        raise ConfigError(f'error: auth info "{flags.user}" does not exist')
    configuration = _new_configuration()
    try:
        InClusterConfigLoader(token_filename=files.token, cert_filename=files.ca,
                              environ=env).load_and_set(configuration)
    except ConfigException as err:
        raise ConfigError(f"error: in-cluster configuration: {_first_line(str(err))}") from None
    except OSError as err:
        raise ConfigError(f"error: in-cluster configuration: {err.strerror or err}") from None

    # The same flags kubectl applies on top of the in-cluster config.
    if flags.token:
        configuration.refresh_api_key_hook = None  # it would put the service-account token back
        # The client keeps the token under "authorization" (35.x) or "BearerToken" (36.x).
        for key in ("authorization", "BearerToken"):
            configuration.api_key[key] = f"Bearer {flags.token}"
    if flags.certificate_authority:
        configuration.ssl_ca_cert = os.path.abspath(flags.certificate_authority)
    if flags.insecure_skip_tls_verify:
        configuration.verify_ssl = False
    if flags.tls_server_name:
        configuration.tls_server_name = flags.tls_server_name
    if flags.client_certificate:
        configuration.cert_file = os.path.abspath(flags.client_certificate)
    if flags.client_key:
        configuration.key_file = os.path.abspath(flags.client_key)

    server = str(configuration.host).rstrip("/")
    _set_proxy(configuration, server, {}, env)
    namespace = _check_namespaces(flags.namespace or _in_cluster_namespace(env, files))
    return Connection(configuration=configuration, context=None, namespace=namespace, server=server,
                      headers=_impersonation_headers({}, flags, ""), timeout=timeout,
                      secrets=secret_values({}, configuration), compression=not flags.disable_compression)


def _in_cluster_namespace(env: Mapping[str, str], files: InClusterFiles) -> str:
    # client-go's order: the downward-API variable, then the service account's namespace file.
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    try:
        with open(files.namespace, encoding="utf-8") as stream:
            return stream.read().strip() or "default"
    except OSError:
        return "default"


# --- proxies -------------------------------------------------------------------------------


def _set_proxy(configuration: Any, server: str, cluster: dict[str, Any], env: Mapping[str, str]) -> None:
    """Go's proxy rules instead of the client's (which reads os.environ, lets HTTP_PROXY override
    HTTPS_PROXY for https, and proxies loopback): the cluster's proxy-url, else HTTPS_PROXY or
    HTTP_PROXY by scheme, never for localhost, never for a NO_PROXY match."""
    proxy = _str(cluster.get("proxy-url")) or _proxy_from_env(server, env)
    configuration.no_proxy = None
    configuration.proxy = None
    configuration.proxy_headers = None
    if not proxy:
        return
    if "://" not in proxy:
        proxy = "http://" + proxy
    parts = urlsplit(proxy)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f'error: proxy scheme "{parts.scheme}" is not supported (use http or https)')
    if parts.username is not None:
        import urllib3

        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        configuration.proxy_headers = urllib3.make_headers(proxy_basic_auth=credentials)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        netloc += f":{parts.port}" if parts.port else ""
        proxy = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    configuration.proxy = proxy


def _proxy_from_env(server: str, env: Mapping[str, str]) -> str:
    parts = urlsplit(server)
    host = (parts.hostname or "").lower()
    if _is_loopback(host):
        return ""
    names = ("HTTPS_PROXY", "https_proxy") if parts.scheme == "https" else ("HTTP_PROXY", "http_proxy")
    proxy = next((env[n] for n in names if env.get(n)), "")
    if not proxy:
        return ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    return "" if _no_proxy_matches(host, port, no_proxy) else proxy


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _no_proxy_matches(host: str, port: int, no_proxy: str) -> bool:
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry and address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry_host, _, entry_port = entry.rpartition(":") if re.search(r":\d+$", entry) else (entry, "", "")
        entry_host = entry_host.strip("[]")
        if entry_port and int(entry_port) != port:
            continue
        if entry_host.startswith("."):
            if host.endswith(entry_host):
                return True
        elif host == entry_host or host.endswith("." + entry_host):
            return True
    return False


def offline_namespace(flags: ConnectionFlags, environ: Mapping[str, str] | None = None) -> str:
    """The namespace kubectl would use for objects of `-f` files that name none: `-n`, else the
    current context's, else `default`. Offline input needs no cluster, so a missing or unusable
    kubeconfig simply means `default`."""
    if flags.namespace:
        return flags.namespace
    env = os.environ if environ is None else environ
    try:
        kubeconfig = _load_kubeconfig(flags, env)
    except (PluginError, OSError, ValueError):
        return "default"
    context = kubeconfig.contexts.get(flags.context or kubeconfig.current_context or "")
    return (_str(context.get("namespace")) if isinstance(context, dict) else None) or "default"
