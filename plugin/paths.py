"""Host paths: normalization and the classification of Docker's socket and directories.

Paths are compared as whole segments after normalization, never as string prefixes, so
`/var/run-data` and `/var/lib/docker-registry` are not Docker paths. `/var/run` is a link to
`/run` on every current distribution, so both spellings are treated alike.
"""

from __future__ import annotations

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


def normalize(path: str) -> str:
    """Absolute, with `.`/`..` resolved and no doubled or trailing slash: `//var/run/./x/` -> `/var/run/x`."""
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts:
                parts.pop()
            continue
        parts.append(segment)
    return "/" + "/".join(parts)


def canonical(path: str) -> str:
    """Normalized, with `/var/run` spelled `/run`, for comparing against the known locations."""
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
    """True when `path` is `directory` or below it, segment-wise (both canonical)."""
    return directory == "/" or path == directory or path.startswith(directory + "/")
