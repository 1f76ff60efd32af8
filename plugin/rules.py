"""Detection rules: pure functions of a pod spec, registered in one table.

A rule takes a `PodSpecView` and the scan's `RuleSettings` and yields `Finding`s. It does no
I/O and reads no globals, so the same rule runs on a live Pod, a DaemonSet template or a
manifest on disk. Adding a rule is one function and one row in `RULES`; the README's rule
table is checked against this registry by the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from plugin import paths
from plugin.models import Finding, lower_severity
from plugin.podspec import PodSpecView


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
    check: Callable[[PodSpecView, RuleSettings], Iterator[Finding]]


# A path classifier returns the reason a canonical host path matches, or None.
PathClassifier = Callable[[str, RuleSettings], "str | None"]


def _host_path_findings(rule: Rule, view: PodSpecView, settings: RuleSettings,
                        classify: PathClassifier) -> Iterator[Finding]:
    """Findings of one path rule: one per container mount whose effective host path matches,
    and one at a lower severity for a matching volume that no container mounts."""
    for volume in view.host_path_volumes:
        mounts = view.mounts_of(volume.name)
        for container, mount in mounts:
            effective = paths.canonical(paths.join(volume.path, mount.sub_path))
            reason = classify(effective, settings)
            if reason:
                yield Finding(
                    rule_id=rule.id, rule_name=rule.name, severity=rule.severity, reason=reason,
                    container=container.name, volume=volume.name, host_path=volume.path,
                    mount_path=mount.mount_path, sub_path=mount.sub_path, read_only=mount.read_only,
                )
        if not mounts:
            reason = classify(paths.canonical(volume.path), settings)
            if reason:
                yield Finding(
                    rule_id=rule.id, rule_name=rule.name, severity=lower_severity(rule.severity),
                    reason=f"{reason} (declared, but no container mounts it)",
                    volume=volume.name, host_path=volume.path,
                )


def _docker_socket(path: str, settings: RuleSettings) -> str | None:
    if path in paths.SOCKET_PATHS:
        name = path.rsplit("/", 1)[1]
        if name == "dockershim.sock":
            return "mounts dockershim's socket: talks to Docker through the kubelet's dockershim"
        if name == "cri-dockerd.sock":
            return "mounts cri-dockerd's socket: talks to Docker through cri-dockerd"
        return "mounts the Docker daemon's socket: talks to Docker on its node"
    if path in settings.extra_socket_paths:
        return "mounts a Docker socket location given with --host-path"
    return None


def _socket_directory(path: str, settings: RuleSettings) -> str | None:
    if path in paths.SOCKET_DIRECTORIES:
        return f"mounts {path}, the directory that holds the Docker socket"
    if any(path != extra and paths.is_within(extra, path) for extra in settings.extra_socket_paths):
        return f"mounts {path}, a directory that holds a Docker socket given with --host-path"
    return None


def _host_root(path: str, settings: RuleSettings) -> str | None:
    if path == paths.HOST_ROOT:
        return "mounts the node's root filesystem, which holds the Docker socket (weak signal)"
    return None


def _path_rule(rule_id: str, name: str, severity: str, summary: str, classify: PathClassifier) -> Rule:
    def check(view: PodSpecView, settings: RuleSettings) -> Iterator[Finding]:
        return _host_path_findings(rule, view, settings, classify)

    rule = Rule(rule_id, name, severity, summary, check)
    return rule


RULES: tuple[Rule, ...] = (
    _path_rule("DS001", "docker-socket", "high",
               "hostPath of Docker's socket: docker.sock, dockershim.sock or cri-dockerd.sock "
               "under /var/run or /run (also a parent directory mounted with that subPath)",
               _docker_socket),
    _path_rule("DS002", "docker-socket-directory", "medium",
               "hostPath of a directory that holds Docker's socket: /var/run, /run, /var, "
               "/var/run/docker, /run/docker",
               _socket_directory),
    _path_rule("DS003", "host-root", "low",
               "hostPath of the node's root filesystem `/` (node-exporter does this without "
               "talking to Docker)",
               _host_root),
)

RULES_BY_ID = {rule.id: rule for rule in RULES}


def run_rules(view: PodSpecView, settings: RuleSettings, rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """Every finding of every rule on one pod spec, in rule order."""
    return [finding for rule in rules for finding in rule.check(view, settings)]
