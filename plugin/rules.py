"""Detection rules: pure functions of a pod spec, registered in one table.

A rule takes a `PodSpecView` and the scan's `RuleSettings` and yields `Finding`s. It does no
I/O and reads no globals, so the same rule runs on a live Pod, a DaemonSet template or a
manifest on disk. Adding a rule is one function and one row in `RULES`; the README's rule
table is checked against this registry by the tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from plugin import commandline, paths
from plugin.models import Finding, lower_severity
from plugin.podspec import Container, EnvVar, HostPathVolume, Mount, PodSpecView

# Env vars that point a Docker client (the CLI's own, or an agent's) at a daemon. The value says
# whether a bare socket path is accepted too: DOCKER_HOST and DOCKER_URL need a scheme
# (`unix://`, `tcp://`), Prisma Cloud's DOCKER_CLIENT_ADDRESS and the *_SOCK(ET) conventions
# take a plain path.
DOCKER_ENDPOINT_ENV_VARS: Mapping[str, bool] = MappingProxyType({
    "DOCKER_HOST": False,
    "DOCKER_URL": False,
    "DOCKER_CLIENT_ADDRESS": True,
    "DOCKER_SOCKET": True,
    "DOCKER_SOCK": True,
})
# Pod fields the downward API fills with the node's own address: an endpoint built from one of
# them reaches a daemon on the node.
NODE_ADDRESS_FIELDS = frozenset({"status.hostIP", "status.hostIPs", "spec.nodeName"})
# Stands in for the node's address while expanding `$(VAR)`; a NUL cannot occur in a real value.
_NODE_ADDRESS = "\0node-address\0"
# The pod's own loopback addresses: its own network namespace, unless it uses the host's.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# Docker CLI commands that call the daemon's API (`docker --version`, `login` and `context` do
# not need the node's daemon, so they are left out).
DOCKER_DAEMON_SUBCOMMANDS = frozenset({
    "ps", "top", "logs", "inspect", "exec", "run", "info", "events", "stats", "images", "pull",
    "build", "rm", "kill", "stop", "start", "restart", "version", "system", "container", "image",
    "volume", "network",
    "attach", "commit", "cp", "create", "diff", "export", "history", "import", "load", "pause",
    "port", "push", "rename", "rmi", "save", "tag", "unpause", "update", "wait", "compose",
})
# The docker CLI's global options that take their value as the next word: `docker -H x ps`.
DOCKER_OPTIONS_WITH_VALUE = frozenset({
    "-H", "--host", "-c", "--context", "--config", "-l", "--log-level", "--tlscacert", "--tlscert",
    "--tlskey",
})
# A container that starts one of these runs its own daemon (Docker-in-Docker): its docker CLI
# talks to that daemon, not to the node's.
DOCKER_DAEMON_PROGRAMS = frozenset({"dockerd", "dockerd-entrypoint.sh"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
# Agent flags that turn their Docker integration on when true (Weave Scope, cAdvisor). Go's flag
# package takes one or two dashes, and a bare boolean flag means true.
DOCKER_AGENT_SWITCHES = frozenset({"probe.docker", "docker_only"})
GO_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})
# Agent flags whose value is a Docker endpoint (cAdvisor's --docker, --docker-endpoint).
DOCKER_AGENT_ENDPOINT_FLAGS = frozenset({"docker", "docker-endpoint"})
# Evidence is one line of about this many characters, so tables and SARIF stay readable.
EVIDENCE_LIMIT = 120

# What separates commands in a shell script: `&&`, `||`, `;`, `|`, `&`, newlines, and the
# brackets of subshells and command substitutions.
_SHELL_SEPARATORS = re.compile(r"&&|\|\||\$\(|[;|&\n()`]")
# A shell's short options that include -c (`-c`, `-ec`, `-xc`): the next word is a script.
_SHELL_SCRIPT_OPTION = re.compile(r"-[a-zA-Z]*c[a-zA-Z]*")
# One of Docker's sockets named as a file, not `docker.sock.bak` or `my-docker.sock`.
_SOCKET_NAME = re.compile(
    r"(?<![\w.-])(?:" + "|".join(re.escape(name) for name in paths.SOCKET_NAMES) + r")(?![\w.-])"
)


@dataclass(frozen=True)
class RuleSettings:
    """Per-scan inputs to the rules (from flags), kept explicit so rules stay pure."""

    extra_socket_paths: tuple[str, ...] = ()  # canonical paths added with --host-path


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    summary: str  # one line for the README's rule table and `-o wide`
    check: Callable[[PodSpecView, RuleSettings], Iterable[Finding]]
    # A PodSpecView property without which the rule finds nothing ("host_path_volumes",
    # "mentions_docker"): `run_rules` does not call the rule when it is empty or false, as it is
    # for most pods (a cached property read is cheaper than a call that returns nothing).
    needs: str | None = None


# A path classifier returns the reason a canonical host path matches, or None. The reason says
# PATH_PLACEHOLDER where it names the path: it is replaced by the path as the spec wrote it
# (normalized, but `/var/run` stays `/var/run`), so the reason names what was mounted.
PathClassifier = Callable[[str, RuleSettings], "str | None"]
PATH_PLACEHOLDER = "{path}"


def _host_path_findings(rule: Rule, view: PodSpecView, settings: RuleSettings,
                        classify: PathClassifier) -> Iterator[Finding]:
    """Findings of one path rule: one per container mount whose effective host path matches,
    and one at a lower severity for a matching volume that no container mounts."""
    for volume in view.host_path_volumes:
        mounts = view.mounts_of(volume.name)
        # A host path reached through a PersistentVolumeClaim says so, in the reason and as evidence.
        through = f" ({volume.claim.describe()})" if volume.claim else ""
        evidence = volume.claim.evidence() if volume.claim else None
        for container, mount in mounts:
            written = paths.join(volume.path, mount.sub_path)
            reason = classify(paths.canonical(written), settings)
            if reason:
                reason = reason.replace(PATH_PLACEHOLDER, paths.normalize(written))
                yield Finding(
                    rule_id=rule.id, rule_name=rule.name, severity=rule.severity, reason=reason + through,
                    container=container.name, volume=volume.name, host_path=volume.path,
                    mount_path=mount.mount_path, sub_path=mount.sub_path, read_only=mount.read_only,
                    evidence=evidence,
                )
        if not mounts:
            reason = classify(paths.canonical(volume.path), settings)
            if reason:
                reason = reason.replace(PATH_PLACEHOLDER, paths.normalize(volume.path))
                yield Finding(
                    rule_id=rule.id, rule_name=rule.name, severity=lower_severity(rule.severity),
                    reason=f"{reason}{through} (declared, but no container mounts it)",
                    volume=volume.name, host_path=volume.path, evidence=evidence,
                )


def _docker_socket(path: str, settings: RuleSettings) -> str | None:
    if path in paths.SOCKET_PATHS:
        name = path.rsplit("/", 1)[1]
        if name == "dockershim.sock":
            return "mounts dockershim's socket: talks to Docker through the kubelet's dockershim"
        if name == "cri-dockerd.sock":
            return "mounts cri-dockerd's socket: talks to Docker through cri-dockerd"
        return "mounts the Docker daemon's socket: talks to Docker on its node"
    if path in paths.WINDOWS_SOCKET_PATHS:
        name = path.rsplit("/", 1)[1]
        if name == "dockershim":
            return ("mounts dockershim's named pipe: talks to Docker through the kubelet's dockershim on its "
                    "Windows node")
        if name == "cri-dockerd":
            return "mounts cri-dockerd's named pipe: talks to Docker through cri-dockerd on its Windows node"
        return "mounts the Docker daemon's named pipe {path}: talks to Docker on its Windows node"
    if path in settings.extra_socket_paths:
        return "mounts a Docker socket location given with --host-path"
    return None


def _socket_directory(path: str, settings: RuleSettings) -> str | None:
    if path in paths.SOCKET_DIRECTORIES:
        return "mounts {path}, the directory that holds the Docker socket"
    if any(path != extra and paths.is_within(extra, path) for extra in settings.extra_socket_paths):
        return "mounts {path}, a directory that holds a Docker socket given with --host-path"
    return None


def _host_root(path: str, settings: RuleSettings) -> str | None:
    if path == paths.HOST_ROOT:
        return "mounts the node's root filesystem, which holds the Docker socket (weak signal)"
    return None


def _docker_data_directory(path: str, settings: RuleSettings) -> str | None:
    if paths.is_windows(path):
        return _windows_docker_data_directory(path)
    if paths.is_within(path, paths.DOCKER_CONTAINER_LOGS):
        return ("mounts {path}, where Docker writes container logs in its JSON format; under containerd "
                "and CRI-O /var/log/containers/*.log link into /var/log/pods in the CRI format, so a log "
                "shipper must read those and switch its parser to CRI")
    if path == paths.DOCKER_DATA_DIRECTORY:
        return ("mounts {path}, Docker's data directory: its images, volumes, container state and JSON "
                "container logs do not exist under containerd or CRI-O")
    if paths.is_within(path, paths.DOCKER_DATA_DIRECTORY):
        return ("mounts {path}, part of Docker's images, volumes and state, which do not exist under "
                "containerd or CRI-O")
    return None


def _windows_docker_data_directory(path: str) -> str | None:
    if any(paths.is_within(path, config) for config in paths.WINDOWS_CONFIG_DIRECTORIES):
        return None  # the daemon's configuration: DS007
    if paths.is_within(path, paths.WINDOWS_CONTAINER_LOGS):
        return ("mounts {path}, where Docker on Windows writes container logs in its JSON format; under "
                "containerd the kubelet's C:\\var\\log\\containers\\*.log link into C:\\var\\log\\pods in the CRI "
                "format, so a log shipper must read those and switch its parser to CRI")
    if path == paths.WINDOWS_DATA_DIRECTORY:
        return ("mounts {path}, Docker's data root on Windows: its images, volumes, container state and JSON "
                "container logs do not exist under containerd")
    if paths.is_within(path, paths.WINDOWS_DATA_DIRECTORY):
        return ("mounts {path}, part of Docker's images, volumes and state on Windows, which do not exist "
                "under containerd")
    return None


# What the runtimes read instead of /etc/docker, for DS007's reason.
_CONFIG_INSTEAD = ("containerd reads /etc/containerd (config.toml, and registry hosts in the directory its "
                   "config_path names, usually /etc/containerd/certs.d), CRI-O /etc/crio and /etc/containers "
                   "(it still falls back to /etc/docker/certs.d for registry certificates)")


def _docker_config_directory(path: str, settings: RuleSettings) -> str | None:
    if paths.is_windows(path):
        if any(paths.is_within(path, config) for config in paths.WINDOWS_CONFIG_DIRECTORIES):
            return ("mounts {path}, Docker's configuration on Windows (daemon.json, registry certificates in "
                    "certs.d): what the workload writes or reads there configures dockerd only; containerd on "
                    "Windows reads C:\\Program Files\\containerd\\config.toml")
        return None
    if any(paths.is_within(path, look_alike) for look_alike in paths.DOCKER_CONFIG_LOOK_ALIKES):
        return None
    if paths.is_within(path, paths.DOCKER_CONFIG_DIRECTORY):
        return ("mounts {path}, the Docker daemon's configuration (daemon.json, registry certificates in "
                "certs.d, TLS keys): what the workload writes or reads there configures dockerd only; "
                + _CONFIG_INSTEAD)
    return None


def _socket_description(path: str, settings: RuleSettings) -> str | None:
    """What the socket at a canonical host path is, or None when it is not a Docker socket."""
    if path in paths.SOCKET_PATHS:
        name = path.rsplit("/", 1)[1]
        if name == "dockershim.sock":
            return "dockershim's socket"
        if name == "cri-dockerd.sock":
            return "cri-dockerd's socket"
        return "the Docker daemon's socket"
    if path in paths.WINDOWS_SOCKET_PATHS:
        name = path.rsplit("/", 1)[1]
        if name == "dockershim":
            return "dockershim's named pipe"
        if name == "cri-dockerd":
            return "cri-dockerd's named pipe"
        return "the Docker daemon's named pipe"
    if path in settings.extra_socket_paths:
        return "a Docker socket location given with --host-path"
    return None


def _expand(value: str, known: Mapping[str, str]) -> str:
    """`value` as the kubelet expands it: `$(NAME)` of a known var is replaced, `$$` is a literal
    `$`, and anything else (an unknown name, an unclosed `$(`) stays as written."""
    if "$" not in value:
        return value
    out: list[str] = []
    i = 0
    while i < len(value):
        if value.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if value.startswith("$(", i):
            end = value.find(")", i + 2)
            if end != -1 and value[i + 2:end] in known:
                out.append(known[value[i + 2:end]])
                i = end + 1
                continue
        out.append(value[i])
        i += 1
    return "".join(out)


def _expanded_env(container: Container) -> Iterator[tuple[EnvVar, str | None]]:
    """Each env var with its value expanded against the vars before it, as the kubelet does. A var
    copied from a node address field becomes _NODE_ADDRESS; values from Secrets and ConfigMaps are
    never read, so they are None and a `$(NAME)` of them stays unexpanded."""
    known: dict[str, str] = {}
    for var in container.env_vars:
        value: str | None
        if var.value is not None:
            value = _expand(var.value, known)
        elif var.field_path in NODE_ADDRESS_FIELDS:
            value = _NODE_ADDRESS
        else:
            value = None
        if value is None:
            known.pop(var.name, None)
        else:
            known[var.name] = value
        yield var, value


def _unix_socket_path(env_name: str, value: str) -> str | None:
    """The socket path of a `unix://` value (or of a bare path where the variable takes one), or
    the named pipe of an `npipe://` one (`npipe:////./pipe/docker_engine`: `//./pipe/docker_engine`)."""
    if value.startswith("unix://"):
        path = value[len("unix://"):]
    elif value.startswith("npipe://"):
        # `npipe://` alone is the default pipe, as for the docker CLI.
        pipe = value[len("npipe://"):].lstrip("/\\") or "./pipe/docker_engine"
        return "//" + pipe
    elif DOCKER_ENDPOINT_ENV_VARS.get(env_name, False):
        path = value
    else:
        return None
    return path if path.startswith("/") else None


def _network_host(value: str) -> str | None:
    """The host of a `tcp://`, `http://` or `https://` address, or None for another kind of value."""
    scheme, separator, rest = value.partition("://")
    if not separator or scheme.lower() not in ("tcp", "http", "https"):
        return None
    authority = rest.split("/", 1)[0].rpartition("@")[2]
    if authority.startswith("["):  # an IPv6 literal carries colons of its own
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0] if ":" in authority else authority


def _host_path_behind(view: PodSpecView, container: Container,
                      path: str) -> tuple[HostPathVolume, Mount, str] | None:
    """Where a path inside the container lands on the node: the hostPath volume and mount that
    serve it and the canonical host path, or None when no hostPath volume serves it (a path in the
    image, or in an emptyDir shared with a sidecar)."""
    mount = container.mount_for(path)
    volume = view.host_path_volume(mount.volume) if mount else None
    if mount is None or mount.mount_path is None or volume is None:
        return None
    remainder = paths.canonical(path)[len(paths.canonical(mount.mount_path)):]
    return volume, mount, paths.canonical(paths.join(volume.path, mount.sub_path) + "/" + remainder)


def _docker_host_env(rule: Rule, view: PodSpecView, settings: RuleSettings) -> Iterable[Finding]:
    # Every DOCKER_* name says "docker"; most pods do not, and cost no generator.
    return _docker_host_env_findings(rule, view, settings) if view.mentions_docker else ()


def _docker_host_env_findings(rule: Rule, view: PodSpecView, settings: RuleSettings) -> Iterator[Finding]:
    for container in view.containers:
        for var, value in _expanded_env(container):
            if var.name not in DOCKER_ENDPOINT_ENV_VARS or var.value is None or value is None:
                continue
            evidence = _shorten(f"{var.name}={mask_credentials(var.value)}")
            socket = _unix_socket_path(var.name, value)
            if socket is not None:
                behind = _host_path_behind(view, container, socket)
                if behind is None:
                    continue
                volume, mount, host = behind
                described = _socket_description(host, settings)
                if described:
                    yield Finding(
                        rule_id=rule.id, rule_name=rule.name, severity=rule.severity,
                        reason=(f"{var.name} points the Docker client at {described} {host} on its node, "
                                f"through the hostPath mount at {mount.mount_path}"),
                        container=container.name, volume=volume.name, host_path=volume.path,
                        mount_path=mount.mount_path, sub_path=mount.sub_path, read_only=mount.read_only,
                        evidence=evidence,
                    )
            elif _network_host(value) == _NODE_ADDRESS:
                yield Finding(
                    rule_id=rule.id, rule_name=rule.name, severity=rule.severity,
                    reason=(f"{var.name} points the Docker client at a Docker daemon on its node's address "
                            "(from the downward API)"),
                    container=container.name, evidence=evidence,
                )
            elif _network_host(value) in LOOPBACK_HOSTS and view.spec.get("hostNetwork") is True:
                yield Finding(
                    rule_id=rule.id, rule_name=rule.name, severity=rule.severity,
                    reason=(f"{var.name} points the Docker client at {_network_host(value)}, which is its node "
                            "itself: the pod uses the host's network"),
                    container=container.name, evidence=evidence,
                )


# The password of a URL's user info (`tcp://user:secret@host`): shown as `***` wherever it is printed.
_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)[^/@\s]+@")


def mask_credentials(value: str) -> str:
    """`value` with a URL password replaced by `***`: evidence is printed in tables and tickets."""
    return _URL_PASSWORD.sub(r"\1***@", value)


def _basename(word: str) -> str:
    return commandline.basename(word)


def _command_words(argv: tuple[str, ...]) -> Iterator[list[str]]:
    """The words of each simple command in `argv`, read as a shell reads it (`commandline`):
    argv itself, then each command of a script that a shell runs with -c, and the command an
    `nsenter` or `chroot` runs. A quoted argument stays one word, so `echo "docker ps"` is an
    echo and a comment is no command."""
    for words in commandline.simple_commands(list(argv)):
        yield words
        entry = commandline.host_entry(words)
        if entry is not None:
            yield from _command_words(entry.command)


def _docker_invocation(words: list[str]) -> str | None:
    """`docker [global options] <daemon subcommand>` as one command's program (past assignments and
    wrappers: `sudo`, `tini --`, `watch -n 5`), as written; None when docker is only an argument
    (`echo docker ps`)."""
    i = commandline.command_word(words)
    if i is None or _basename(words[i]) != "docker":
        return None
    j = i + 1
    while j < len(words) and words[j].startswith("-"):
        j += 2 if words[j] in DOCKER_OPTIONS_WITH_VALUE else 1
    if j < len(words) and words[j] in DOCKER_DAEMON_SUBCOMMANDS:
        return " ".join(words[i:j + 1])
    return None


def _is_docker_agent_flag(word: str) -> bool:
    if not word.startswith("-"):
        return False
    name, has_value, value = word.lstrip("-").partition("=")
    if name in DOCKER_AGENT_SWITCHES:
        return not has_value or value in GO_TRUE
    return name in DOCKER_AGENT_ENDPOINT_FLAGS


def _docker_cli_use(argv: tuple[str, ...]) -> tuple[str, str] | None:
    """(the words that show it, reason) when `argv` uses a Docker daemon, or None."""
    for words in _command_words(argv):
        invocation = _docker_invocation(words)
        if invocation:
            return invocation, f"runs the docker CLI (`{invocation}`), which needs a Docker daemon"
        for word in words:
            socket = _SOCKET_NAME.search(word)
            if socket:
                return socket.group(0), f"names {socket.group(0)} in its command: talks to Docker"
            if _is_docker_agent_flag(word):
                return word, f"sets {word}, an agent flag that makes it read containers from Docker"
    return None


def _runs_dockers_entrypoint_daemon(image: str, container: Container) -> bool:
    """Docker's own image (`docker`, whose default variant is dind) left to its entrypoint with
    no arguments or with options only: dockerd-entrypoint.sh then starts dockerd. Its `cli`
    and `git` variants' entrypoint runs the CLI instead."""
    reference = image.lower().split("@", 1)[0]
    repository, _, tag = reference.rpartition(":") if ":" in reference.rsplit("/", 1)[-1] else (reference, "", "")
    # docker, library/docker, docker.io/library/docker, mirror.gcr.io/library/docker, ...
    if repository not in ("docker", "library/docker") and not repository.endswith("/library/docker"):
        return False
    if {"cli", "git"} & set(re.split(r"[._-]", tag)) or container.command:
        return False
    return not container.args or container.args[0].startswith("-")


def _runs_own_daemon(container: Container) -> bool:
    """True for a Docker-in-Docker container: a dind image, `dockerd` in its command, or Docker's
    own image started as its daemon."""
    image = container.image or ""
    if "dind" in re.split(r"[/:@._-]", image.lower()) or _runs_dockers_entrypoint_daemon(image, container):
        return True
    words = _command_words(container.command + container.args)
    return any(_basename(word) in DOCKER_DAEMON_PROGRAMS for command in words for word in command)


def _docker_host_value(container: Container) -> str | None:
    """The container's DOCKER_HOST as the kubelet expands it (the last definition wins), or None
    when it is unset, from a Secret or ConfigMap, or refers to a variable that cannot be expanded."""
    value = None
    for var, expanded in _expanded_env(container):
        if var.name == "DOCKER_HOST":
            value = expanded
    return None if value is None or "$(" in value else value


def _on_node_network(view: PodSpecView, host: str) -> bool:
    """Whether a TCP host is the node itself: its address from the downward API, or the loopback
    address of a pod that shares the node's network."""
    return host == _NODE_ADDRESS or (host in LOOPBACK_HOSTS and view.spec.get("hostNetwork") is True)


def _docker_host_elsewhere(view: PodSpecView, container: Container) -> bool:
    """True when the container's DOCKER_HOST sends its docker CLI to a daemon that is not the
    node's: a TCP address that is not the node's (a dind sidecar on localhost, a Service), or a
    socket not on a hostPath mount (an emptyDir shared with a dind sidecar)."""
    value = _docker_host_value(container)
    if value is None:
        return False
    socket = _unix_socket_path("DOCKER_HOST", value)
    if socket is not None:
        return _host_path_behind(view, container, socket) is None
    host = _network_host(value if "://" in value else f"tcp://{value}")  # the CLI reads a bare host as tcp
    return bool(host) and host is not None and not _on_node_network(view, host)


def _is_ip_literal(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def docker_host_away_from_node(view: PodSpecView) -> tuple[str, ...]:
    """Positive evidence that the pod's Docker clients use a daemon that is not the node's, for the
    catalogue's migrated signals: a DOCKER_HOST socket off the node's filesystem or on localhost,
    with a Docker-in-Docker container in the pod to serve it, or a Service name. Never the fact a
    rule reports as a dependency: an address of the node (from the downward API, or localhost with
    the host's network) is not evidence, and neither is an IP literal, which may be the node's."""
    dind = any(_runs_own_daemon(c) for c in view.containers)
    found: list[str] = []
    for container in view.containers:
        value = _docker_host_value(container)
        if value is None:
            continue
        evidence = f"env DOCKER_HOST={value}"
        socket = _unix_socket_path("DOCKER_HOST", value)
        if socket is not None:
            if dind and _host_path_behind(view, container, socket) is None:
                found.append(f"{evidence} (a Docker-in-Docker container in the pod)")
            continue
        host = _network_host(value)
        if host is None or _on_node_network(view, host):
            continue
        if host in LOOPBACK_HOSTS:
            if dind:
                found.append(f"{evidence} (a Docker-in-Docker container in the pod)")
        elif not _is_ip_literal(host):
            found.append(f"{evidence} (a daemon at a service address, not the node's)")
    return tuple(dict.fromkeys(found))


def shorten_evidence(text: str, phrase: str = "") -> str:
    """`text` as a finding's evidence: one line of at most EVIDENCE_LIMIT characters, `phrase` kept in view."""
    return _shorten(text, phrase)


def _shorten(text: str, phrase: str = "", limit: int = EVIDENCE_LIMIT) -> str:
    """`text` on one line and at most `limit` characters, keeping `phrase` in view."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    focus = max(text.find(phrase), 0) if phrase else 0
    # Start a little before the phrase when it would be cut off, but never past the text's end.
    start = 0 if focus + len(phrase) <= limit - 3 else max(0, min(focus - 20, len(text) - (limit - 3)))
    if start == 0:
        return text[:limit - 3] + "..."
    if start + limit - 3 >= len(text):
        return "..." + text[start:]
    return "..." + text[start:start + limit - 6] + "..."


def _docker_cli(rule: Rule, view: PodSpecView, settings: RuleSettings) -> Iterable[Finding]:
    # The CLI, the socket names and the agent flags all say "docker"; most pods do not.
    return _docker_cli_findings(rule, view) if view.mentions_docker else ()


def _docker_cli_findings(rule: Rule, view: PodSpecView) -> Iterator[Finding]:
    for container in view.containers:
        if _runs_own_daemon(container) or _docker_host_elsewhere(view, container):
            continue
        sources = [("", "", container.command + container.args)]
        sources += [(f"{probe.kind}: ", f"its {probe.kind} ", probe.command) for probe in container.exec_probes]
        for prefix, subject, argv in sources:
            use = _docker_cli_use(argv)
            if use is None or _host_docker_use(view, container, argv) is not None:
                continue  # DS008 says it better: the docker it runs is the node's own
            phrase, reason = use
            yield Finding(
                rule_id=rule.id, rule_name=rule.name, severity=rule.severity, reason=subject + reason,
                container=container.name,
                evidence=prefix + _shorten(" ".join(argv), phrase, EVIDENCE_LIMIT - len(prefix)),
            )


def _path_rule(rule_id: str, name: str, severity: str, summary: str, classify: PathClassifier) -> Rule:
    def check(view: PodSpecView, settings: RuleSettings) -> Iterable[Finding]:
        # Most pods have no hostPath volume: no generator is made for them, for any path rule.
        return _host_path_findings(rule, view, settings, classify) if view.host_path_volumes else ()

    rule = Rule(rule_id, name, severity, summary, check, needs="host_path_volumes")
    return rule


# A rule that builds its own findings, and so needs the rule's id, name and severity.
PodRuleCheck = Callable[[Rule, PodSpecView, RuleSettings], Iterable[Finding]]


def _pod_rule(rule_id: str, name: str, severity: str, summary: str, check: PodRuleCheck,
              needs: str | None = None) -> Rule:
    def bound(view: PodSpecView, settings: RuleSettings) -> Iterable[Finding]:
        return check(rule, view, settings)

    rule = Rule(rule_id, name, severity, summary, bound, needs)
    return rule


# Units of the Docker daemon (and of cri-dockerd, which needs it), as systemctl and service name them.
DOCKER_UNITS = frozenset({"docker", "docker.service", "docker.socket", "cri-docker", "cri-docker.service",
                          "cri-docker.socket", "cri-dockerd", "cri-dockerd.service"})
# How DS008 words a command that manages the Docker service (the table's DEPENDS-ON says docker.service).
MANAGES_DOCKER_SERVICE = "manages the node's Docker service"
# Where systemctl reaches the node's systemd: its private socket, or the system D-Bus.
SYSTEMD_SOCKETS = ("/run/systemd/private", "/run/dbus/system_bus_socket")
# The mount namespace of the node's init, as nsenter names it in a pod that shares the node's PIDs.
HOST_MOUNT_NAMESPACE = "/proc/1/ns/mnt"


def _service_use(words: list[str]) -> str | None:
    """`systemctl [options] VERB docker...`, `service docker VERB`, `/etc/init.d/docker VERB`, as
    written, when one simple command manages a Docker unit; None otherwise."""
    start = commandline.command_word(words)
    if start is None:
        return None
    program = words[start]
    name = _basename(program)
    operands = [w for w in words[start + 1:] if not w.startswith("-")]
    if name == "systemctl" and any(unit in DOCKER_UNITS for unit in operands[1:]):
        return " ".join(words[start:])
    if name == "service" and operands[:1] and operands[0] in DOCKER_UNITS:
        return " ".join(words[start:start + 3])
    if "/init.d/" in program and name in DOCKER_UNITS:
        return " ".join(words[start:start + 2])
    return None


def _docker_program_use(words: list[str]) -> str | None:
    """`docker [global options] <daemon subcommand>` when docker is the program of the command."""
    start = commandline.command_word(words)
    if start is None or _basename(words[start]) != "docker" or "/init.d/" in words[start]:
        return None
    return _docker_invocation(words[start:])


def _enters_node(view: PodSpecView, container: Container, entry: commandline.HostEntry) -> bool:
    """Whether nsenter or chroot lands on the node: nsenter into pid 1's mount namespace in a pod
    that shares the node's PIDs (or through the node's /proc on a hostPath), chroot into a
    directory that is a hostPath of the node's `/`."""
    if entry.program == "chroot" and entry.root:
        behind = _host_path_behind(view, container, entry.root)
        return behind is not None and behind[2] == paths.HOST_ROOT
    host_pids = view.spec.get("hostPID") is True
    if entry.joins_mount and entry.target == "1":
        return host_pids
    if entry.mount_file:
        if paths.canonical(entry.mount_file) == HOST_MOUNT_NAMESPACE and host_pids:
            return True
        behind = _host_path_behind(view, container, entry.mount_file)
        return behind is not None and behind[2] == HOST_MOUNT_NAMESPACE
    return False


def _host_docker_use(view: PodSpecView, container: Container, argv: tuple[str, ...]) -> tuple[str, str] | None:
    """(the words that show it, reason) when `argv` runs Docker's CLI on the node itself, or manages
    the node's Docker service, through nsenter, chroot or a mounted systemd socket; None otherwise."""
    for words in commandline.simple_commands(list(argv)):
        entry = commandline.host_entry(words)
        if entry is not None and _enters_node(view, container, entry):
            for inner in commandline.simple_commands(list(entry.command)):
                service = _service_use(inner)
                if service:
                    return service, (f"{MANAGES_DOCKER_SERVICE} (`{service}`) through `{entry.phrase}`: "
                                     "the node has no docker.service after the switch, and what this sets up for "
                                     "Docker must be set up for containerd or CRI-O instead")
                invocation = _docker_program_use(inner)
                if invocation and not _docker_host_elsewhere(view, container):
                    return invocation, (f"runs the node's own docker CLI (`{invocation}`) through `{entry.phrase}`: "
                                        "it needs Docker installed and running on the node")
            continue
        service = _service_use(words)
        if service:
            for socket in SYSTEMD_SOCKETS:
                behind = _host_path_behind(view, container, socket)
                if behind is not None and behind[2] == socket:
                    return service, (f"{MANAGES_DOCKER_SERVICE} (`{service}`) through the node's systemd "
                                     f"({socket} is the node's, from the hostPath {behind[0].path}): the node has "
                                     "no docker.service after the switch")
    return None


def _host_docker_command(rule: Rule, view: PodSpecView, settings: RuleSettings) -> Iterable[Finding]:
    # `docker`, `docker.service`, `cri-docker` all say "docker"; most pods do not, and cost no generator.
    return _host_docker_findings(rule, view) if view.mentions_docker else ()


def _host_docker_findings(rule: Rule, view: PodSpecView) -> Iterator[Finding]:
    for container in view.containers:
        sources = [("", "", container.command + container.args)]
        sources += [(f"{probe.kind}: ", f"its {probe.kind} ", probe.command) for probe in container.exec_probes]
        for prefix, subject, argv in sources:
            use = _host_docker_use(view, container, argv)
            if use is None:
                continue
            phrase, reason = use
            yield Finding(
                rule_id=rule.id, rule_name=rule.name, severity=rule.severity, reason=subject + reason,
                container=container.name,
                evidence=prefix + _shorten(" ".join(argv), phrase, EVIDENCE_LIMIT - len(prefix)),
            )


RULES: tuple[Rule, ...] = (
    _path_rule("DS001", "docker-socket", "high",
               "hostPath of Docker's socket: docker.sock, dockershim.sock or cri-dockerd.sock "
               "under /var/run or /run (also a parent directory mounted with that subPath); on Windows "
               "the named pipe `\\\\.\\pipe\\docker_engine` (or dockershim's, cri-dockerd's)",
               _docker_socket),
    _path_rule("DS002", "docker-socket-directory", "medium",
               "hostPath of a directory that holds Docker's socket: /var/run, /run, /var, "
               "/var/run/docker, /run/docker",
               _socket_directory),
    _path_rule("DS003", "host-root", "low",
               "hostPath of the node's root filesystem `/` (node-exporter does this without "
               "talking to Docker)",
               _host_root),
    _path_rule("DS004", "docker-data-directory", "medium",
               "hostPath of Docker's data directory /var/lib/docker or below it (containers/ holds "
               "Docker's JSON logs; also a parent directory mounted with that subPath); on Windows "
               "`C:\\ProgramData\\docker`",
               _docker_data_directory),
    _pod_rule("DS005", "docker-host-env", "high",
              "env var (DOCKER_HOST, DOCKER_URL, DOCKER_CLIENT_ADDRESS, DOCKER_SOCKET, DOCKER_SOCK) "
              "pointing at the node's Docker: a socket (or npipe:// named pipe) on a hostPath mount, or tcp:// "
              "to the node's IP",
              _docker_host_env, needs="mentions_docker"),
    _pod_rule("DS006", "docker-cli", "medium",
              "command, args or exec probe that runs the docker CLI against a daemon (`docker ps`, "
              "also in `sh -c`), names docker.sock, or sets --probe.docker, --docker_only or --docker",
              _docker_cli, needs="mentions_docker"),
    _path_rule("DS007", "docker-config-directory", "medium",
               "hostPath of the Docker daemon's configuration /etc/docker or below it (daemon.json, certs.d, "
               "TLS keys; `C:\\ProgramData\\docker\\config` and `certs.d` on Windows): it configures dockerd only",
               _docker_config_directory),
    _pod_rule("DS008", "host-docker-command", "high",
              "command or exec probe that runs the node's own docker CLI or manages its docker.service: "
              "`nsenter -t 1 -m ... docker ps` with hostPID, `chroot /host docker ...` or `chroot /host "
              "systemctl restart docker` into a hostPath of `/`, `systemctl ... docker` over the node's systemd socket",
              _host_docker_command, needs="mentions_docker"),
)



@dataclass(frozen=True)
class ConfigRule:
    """A rule about configuration text, not a pod spec: its detectors read ConfigMaps and Helm values
    (plugin/log_config.py), and its findings reach the workloads that mount the configuration
    (plugin/config_mounts.py). Listed with the pod-spec rules wherever rules are listed."""

    id: str
    name: str
    severity: str  # the usual severity; each detector sets its own (see the summary)
    summary: str


CONFIG_RULES: tuple[ConfigRule, ...] = (
    ConfigRule("DS009", "docker-agent-config", "medium",
               "configuration (a mounted ConfigMap, Helm values) that expects Docker: a log shipper parsing "
               "Docker's JSON lines (Fluent Bit `Parser docker`, Fluentd `@type json`, Filebeat `type: docker`, "
               "Promtail `docker: {}`) or reading /var/lib/docker/containers; high for Vector's `docker_logs` and "
               "Argo's docker executor, low for node-problem-detector's Docker monitor"),
)
# Every rule the plugin reports, in id order: the README's table and SARIF's rules.
ALL_RULES: tuple[Rule | ConfigRule, ...] = tuple(sorted((*RULES, *CONFIG_RULES), key=lambda rule: rule.id))
RULES_BY_ID: dict[str, Rule | ConfigRule] = {rule.id: rule for rule in ALL_RULES}


def run_rules(view: PodSpecView, settings: RuleSettings, rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """Every finding of every rule on one pod spec, in rule order."""
    findings: list[Finding] = []
    for rule in rules:
        if rule.needs is None or getattr(view, rule.needs):  # computed once per view, then read
            findings.extend(rule.check(view, settings))
    return findings
