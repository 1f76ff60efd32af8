"""One YAML document loaded safely from text nobody vouches for (a kubeconfig from a ticket, a
download): bounded in size, and refused when its aliases would expand it beyond what any real
file holds (the "billion laughs"), before anything is built from it.

PyYAML builds an alias as a shared reference, so loading a bomb is cheap; the cost comes later,
when something walks the tree as if each reference were its own copy (the Kubernetes client
serialising a cluster's `extensions` for an exec plugin, impersonation headers built from
`as-user-extra`). So the composed node graph is checked first: each collection's size and depth
as if every alias were expanded, computed once per node, children first and without recursion.
This is the idea `plugin/sources/files.py` applies to manifests, with limits for a config file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A kubeconfig of a thousand contexts with embedded certificates is a few megabytes.
MAX_BYTES = 16 * 1024 * 1024
# Nodes the aliases of one document may add once expanded. Anchors in real kubeconfigs share a
# few settings between entries: hundreds of nodes. go-yaml refuses well below a million too.
MAX_ALIAS_NODES = 100_000
MAX_DEPTH = 1_000

EXCESSIVE_ALIASING = "document contains excessive aliasing"  # go-yaml's words, which kubectl prints


class UnsafeYaml(Exception):
    """The text was refused; `problem` is the reason, worded like go-yaml's (without `yaml: `)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def load_document(text: str) -> Any:
    """The single YAML document of `text` as plain Python values (safe tags only), or UnsafeYaml.
    yaml.YAMLError passes through for the caller to word."""
    import yaml

    if len(text) > MAX_BYTES:
        raise UnsafeYaml(f"the file is larger than {MAX_BYTES >> 20} MiB")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Without an anchor and an alias nothing can be shared, and the walk is skipped.
        if "&" in text and "*" in text:
            problem = expansion_problem(node)
            if problem:
                raise UnsafeYaml(problem)
        return loader.construct_document(node)
    finally:
        loader.dispose()


@dataclass(frozen=True)
class Expansion:
    """A composed YAML node graph measured as if every alias were expanded."""

    recursive: bool  # an alias inside what it names: it would expand for ever
    added: int  # nodes the aliases add to the nodes as written
    depth: int


def measure_expansion(root: Any, scalar_depth: int = 0) -> Expansion | None:
    """The expanded size and depth of a composed document (None for a lone scalar), computed once
    per node, children first and without recursion, so the walk is linear in the nodes parsed.
    A scalar counts `scalar_depth` levels: go-yaml's depth (the kubeconfig's limit) counts only
    collections, the manifest reader's counts the leaves too. A recursive graph stops the walk."""
    if root.id == "scalar":
        return None
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    entered: set[int] = set()  # collections on the path from the root to the one on top
    written = 1  # nodes as written, an alias counting as one
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in size:
            stack.pop()
            continue
        node_children = children(node)
        if key not in entered:
            entered.add(key)
            waiting = False
            for child in node_children:
                if child.id != "scalar" and id(child) not in size:
                    if id(child) in entered:
                        return Expansion(recursive=True, added=0, depth=0)
                    stack.append(child)
                    waiting = True
            if waiting:
                continue
        total, deepest = 1, 0
        for child in node_children:
            if child.id == "scalar":
                total += 1
                deepest = max(deepest, scalar_depth)
            else:
                total += size[id(child)]
                deepest = max(deepest, depth[id(child)])
        size[key], depth[key] = total, deepest + 1
        written += len(node_children)
        entered.discard(key)
        stack.pop()
    return Expansion(recursive=False, added=size[id(root)] - written, depth=depth[id(root)])


def expansion_problem(root: Any, max_alias_nodes: int = MAX_ALIAS_NODES, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a composed YAML node graph must not be built, worded as go-yaml does, or None."""
    measured = measure_expansion(root)
    if measured is None:
        return None
    if measured.recursive or measured.added > max_alias_nodes:
        return EXCESSIVE_ALIASING
    if measured.depth > max_depth:
        return f"exceeded max depth of {max_depth}"
    return None


def children(node: Any) -> list[Any]:
    """The child nodes of a composed sequence or mapping (keys and values, in order)."""
    if node.id == "sequence":
        return node.value  # type: ignore[no-any-return]
    return [part for pair in node.value for part in pair]
