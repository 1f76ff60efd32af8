"""Who may do what on the test API server: a small stand-in for RBAC.

A `Policy` maps a user name to `Rule`s; a request is allowed when one of the user's rules covers
its verb, resource, namespace and name. Users without an entry are denied everything but
discovery. Impersonation is checked like on a real server: verb `impersonate` on resource
`users`, `groups` or `uids`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    verbs: tuple[str, ...] = ("get", "list")
    resources: tuple[str, ...] = ("*",)  # plurals, e.g. "pods", "daemonsets"; "*" for any
    # None: every namespace and the cluster scope (like a ClusterRoleBinding); a tuple: only
    # these namespaces (like RoleBindings), so cluster-wide lists are denied.
    namespaces: tuple[str, ...] | None = None
    names: tuple[str, ...] | None = None  # like RBAC resourceNames

    def covers(self, verb: str, resource: str, namespace: str, name: str | None) -> bool:
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        if "*" not in self.resources and resource not in self.resources:
            return False
        if self.namespaces is not None and namespace not in self.namespaces:
            return False
        return self.names is None or name in self.names


@dataclass(frozen=True)
class Policy:
    rules: Mapping[str, Sequence[Rule]] = field(default_factory=dict)

    def allows(self, user: str, verb: str, resource: str, namespace: str = "",
               name: str | None = None) -> bool:
        return any(rule.covers(verb, resource, namespace, name) for rule in self.rules.get(user, ()))
