"""Host paths: normalization and the classification of Docker's socket and directories.

Paths are compared as whole segments after normalization, never as string prefixes, so
`/var/run-data` and `/var/lib/docker-registry` are not Docker paths. `/var/run` is a link to
`/run` on every current distribution, so both spellings are treated alike. Windows nodes name
their paths with a drive (`C:\\ProgramData\\docker`) or in the device namespace
(`\\\\.\\pipe\\docker_engine`, Docker's named pipe): those are compared case-insensitively, with
`\\` and `/` alike, in one canonical spelling (`c:/programdata/docker`, `//./pipe/docker_engine`).
"""

from __future__ import annotations

import re

# The sockets through which a pod reaches Docker on its node: the daemon itself, the
# dockershim socket of kubelet <= 1.23, and cri-dockerd's socket.
SOCKET_NAMES = ("docker.sock", "dockershim.sock", "cri-dockerd.sock")
SOCKET_PATHS = frozenset(f"/run/{name}" for name in SOCKET_NAMES)
# Directories that hold one of those sockets; mounting them exposes the socket too.
SOCKET_DIRECTORIES = frozenset({"/run", "/var", "/run/docker"})
HOST_ROOT = "/"
# Docker's data directory: images, volumes and container state that only Docker writes, so
# they do not exist on a containerd or CRI-O node.
DOCKER_DATA_DIRECTORY = "/var/lib/docker"
# Where Docker keeps each container's log in its JSON format. Under containerd and CRI-O the
# kubelet's /var/log/containers/*.log link into /var/log/pods instead, in the CRI format.
DOCKER_CONTAINER_LOGS = "/var/lib/docker/containers"
# The Docker daemon's configuration: daemon.json, certs.d (registry certificates), the TLS keys
# of a daemon that listens on TCP. `/etc/docker/registry` is not the daemon's: it is where the
# registry image (distribution) reads its config.yml, a look-alike on a host as in an image.
DOCKER_CONFIG_DIRECTORY = "/etc/docker"
DOCKER_CONFIG_LOOK_ALIKES = frozenset({"/etc/docker/registry"})

# Windows nodes (canonical spellings, see `canonical`). Docker listens on a named pipe; the
# kubelet's dockershim (<= 1.23) and cri-dockerd have their own. Containerd's pipe
# (//./pipe/containerd-containerd) and data root (c:/programdata/containerd) are not Docker's.
WINDOWS_PIPE_NAMES = ("docker_engine", "dockershim", "cri-dockerd")
WINDOWS_SOCKET_PATHS = frozenset(f"//./pipe/{name}" for name in WINDOWS_PIPE_NAMES)
# Docker's data root on Windows (`data-root` in daemon.json); its config/ holds daemon.json and
# certs.d the registry certificates, as /etc/docker does on Linux.
WINDOWS_DATA_DIRECTORY = "c:/programdata/docker"
WINDOWS_CONTAINER_LOGS = "c:/programdata/docker/containers"
WINDOWS_CONFIG_DIRECTORIES = frozenset({"c:/programdata/docker/config", "c:/programdata/docker/certs.d"})

# A Windows path: a drive (`C:`, `c:\x`, `C:/x`), a named pipe in the device namespace (`\\.\pipe\x`,
# `//./pipe/x`, with doubled separators as YAML escapes leave them), a long-path prefix (`\\?\C:\x`)
# or a UNC path written with backslashes. A POSIX path may start with `//` too (`//var/run`): only
# these shapes are Windows'.
_WINDOWS = re.compile(r"[A-Za-z]:(?:[\\/]|$)|[\\/]{2,}[.?][\\/]+(?:pipe[\\/]|[A-Za-z]:)|\\\\", re.IGNORECASE)
_DEVICE_PREFIX = re.compile(r"[\\/]{2,}([.?])[\\/]+")
_SEPARATORS = re.compile(r"[\\/]+")


def is_windows(path: str) -> bool:
    """Whether `path` is spelled as a Windows node's path (a drive, a named pipe, a UNC path)."""
    # The cheap tests first: this runs for every hostPath of every pod.
    if "\\" not in path and ":" not in path[1:2] and not path.startswith("//"):
        return False
    return _WINDOWS.match(path) is not None


def _segments(parts: list[str]) -> list[str]:
    """`.` and empty segments dropped, `..` resolved (never above the root)."""
    resolved: list[str] = []
    for segment in parts:
        if segment in ("", "."):
            continue
        if segment == "..":
            if resolved:
                resolved.pop()
            continue
        resolved.append(segment)
    return resolved


def _windows_parts(path: str) -> tuple[str, list[str]]:
    r"""(root, segments) of a Windows path: root is `\\.\` for the device namespace, `C:` for a
    drive (a long-path prefix `\\?\C:` is the drive itself) or `\\` for a UNC path."""
    device = _DEVICE_PREFIX.match(path)
    if device:
        rest = path[device.end():]
        if device.group(1) == "?" or re.match(r"[A-Za-z]:", rest):
            drive, _, tail = rest.partition(":")
            return drive.upper() + ":", _segments(_SEPARATORS.split(tail))
        return "\\\\.\\", _segments(_SEPARATORS.split(rest))
    if path[1:2] == ":":
        return path[0].upper() + ":", _segments(_SEPARATORS.split(path[2:]))
    return "\\\\", _segments(_SEPARATORS.split(path))


def normalize(path: str) -> str:
    r"""Absolute, with `.`/`..` resolved and no doubled or trailing slash: `//var/run/./x/` -> `/var/run/x`.
    A Windows path keeps its case and is spelled with backslashes: `C:\ProgramData\docker`,
    `\\.\pipe\docker_engine`."""
    if is_windows(path):
        root, parts = _windows_parts(path)
        if root.endswith(":"):
            return root + "\\" + "\\".join(parts)
        return root + "\\".join(parts)
    return "/" + "/".join(_segments(path.split("/")))


def canonical(path: str) -> str:
    """Normalized, with `/var/run` spelled `/run`, for comparing against the known locations. A
    Windows path is lower-cased with `/` separators: `c:/programdata/docker`, `//./pipe/docker_engine`."""
    if is_windows(path):
        root, parts = _windows_parts(path)
        prefix = "//./" if root == "\\\\.\\" else "//" if root == "\\\\" else root.lower() + "/"
        return prefix + "/".join(parts).lower()
    normal = normalize(path)
    if normal == "/var/run" or normal.startswith("/var/run/"):
        return "/run" + normal[len("/var/run"):]
    return normal


def join(host_path: str, sub_path: str | None) -> str:
    """The host path a container really sees when it mounts `sub_path` of a hostPath volume."""
    if not sub_path:
        return host_path
    return host_path.rstrip("/") + "/" + sub_path


def is_within(path: str, directory: str) -> bool:
    """True when `path` is `directory` or below it, segment-wise (both canonical). A Windows drive's
    root is `c:/`, with its separator."""
    return directory == "/" or path == directory or path.startswith(directory.rstrip("/") + "/")


def base_name(path: str) -> str:
    """The last segment of a POSIX or Windows path: `docker.sock`, `docker_engine`."""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or path
