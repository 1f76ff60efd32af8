"""`explain` output: a `kubectl describe`-like layout for people, and the same content as a
document for `-o json|yaml`. Every value in the layout passes `terminal_text`; the document
keeps exact values."""

from __future__ import annotations

import textwrap
from typing import Any, TextIO

from plugin.explain import Explanation, Migration, MigrationStep
from plugin.printers.document import ref_document
from plugin.printers.escape import terminal_text
from plugin.rules import CONFIG_RULES

CONFIG_RULE_IDS = frozenset(rule.id for rule in CONFIG_RULES)

_RUNTIME = {
    "auto": "finds containerd and CRI-O by itself",
    "config": "needs a setting changed to use containerd or CRI-O",
    "none": "does not use the Docker daemon (the mount is a false alarm)",
    "unsupported": "does not work without Docker",
}


def _step_document(step: MigrationStep) -> dict[str, Any]:
    return {"runtime": step.runtime, "text": step.text, "findings": list(step.findings), "always": step.general}


def migration_document(m: Migration | None) -> dict[str, Any] | None:
    """The migration as data: the same steps, in the same order, as the describe layout prints."""
    if m is None:
        return None
    return {"summary": m.summary, "versionNote": m.version_note,
            "containerd": [s.text for s in m.steps if s.runtime in ("containerd", "any")],
            "crio": [s.text for s in m.steps if s.runtime in ("cri-o", "any")],
            "steps": [_step_document(s) for s in m.steps],
            "sideEffects": [_step_document(s) for s in m.side_effects], "docs": m.docs}


def explanation_document(e: Explanation) -> dict[str, Any]:
    agent = None
    migration = migration_document(e.migration)
    if e.agent:
        a = e.agent
        agent = {"id": a.id, "name": a.name, "vendor": a.vendor, "evidence": a.evidence, "strong": a.strong,
                 "container": a.container, "detectsRuntime": a.detects_runtime, "autoSince": a.auto_since,
                 "migrated": list(a.migrated), "migration": migration}
    return {
        "kind": e.ref.kind, "name": e.ref.name, "namespace": e.ref.namespace, "node": e.node,
        **({"notFound": True} if not e.ref.found else {}), **({"note": e.note} if e.note else {}),
        "ownerChain": [ref_document(r) for r in e.owner_chain],
        "dockerDependency": bool(e.findings),
        "findings": [{"rule": f.rule_id, "ruleName": f.rule_name, "severity": f.severity, "reason": f.reason,
                      "container": f.container, "volume": f.volume, "hostPath": f.host_path,
                      "subPath": f.sub_path, "mountPath": f.mount_path, "readOnly": f.read_only,
                      "evidence": f.evidence} for f in e.findings],
        "agent": agent,
        "migration": migration,
        "images": [{"container": c, "image": i} for c, i in e.images],
        "pods": list(e.pods),
    }


def _field(out: TextIO, label: str, value: str, indent: int = 0) -> None:
    # Values line up at column 18, like kubectl describe's; a longer label keeps two spaces.
    label, value = terminal_text(label), terminal_text(value)
    out.write(f"{' ' * indent}{(label + ':').ljust(max(18 - indent, len(label) + 3))}{value}\n")


def _line(out: TextIO, indent: str, text: str) -> None:
    out.write(f"{indent}{terminal_text(text)}\n")


def _steps(out: TextIO, title: str, steps: tuple[MigrationStep, ...], numbered: bool = True) -> None:
    if not steps:
        return
    out.write(f"  {title}:\n")
    for number, step in enumerate(steps, 1):
        text = step.text if step.general else f"{step.text} [{', '.join(step.findings)}]"
        lines = textwrap.wrap(terminal_text(text), 92) or [""]
        mark = f"{number}." if numbered else "-"
        out.write(f"    {mark} {lines[0]}\n")
        for line in lines[1:]:
            out.write(f"    {' ' * len(mark)} {line}\n")


def _wrapped(out: TextIO, text: str) -> None:
    for line in textwrap.wrap(terminal_text(text), 96) or [""]:
        out.write(f"  {line}\n")


def print_migration(m: Migration, out: TextIO) -> None:
    """The `Migration:` block: summary, what the image's version means, the steps per runtime that
    apply to the findings above (each with the rules it answers), side effects, and the docs."""
    out.write("Migration:\n")
    _wrapped(out, m.summary)
    if m.version_note:
        _wrapped(out, f"Version: {m.version_note}")
    if m.agent is None:
        _steps(out, "Steps", m.steps)
    else:
        shared = tuple(s for s in m.steps if s.runtime == "any")
        _steps(out, "containerd", m.for_runtime("containerd") + shared)
        _steps(out, "CRI-O", m.for_runtime("cri-o") + shared)
    _steps(out, "Side effects", m.side_effects, numbered=False)
    _line(out, "  ", f"Docs: {m.docs}")


def print_explanation(e: Explanation, out: TextIO) -> None:
    _field(out, "Name", e.ref.name)
    _field(out, "Namespace", e.ref.namespace or "<none>")
    _field(out, "Kind", e.ref.kind + ("" if e.ref.found else " (not found)"))
    if e.note:
        _field(out, "Note", e.note)
    if e.ref.kind == "Pod":
        _field(out, "Node", e.node or "<none>")
    owners = e.owner_chain[1:]
    _field(out, "Owned by", " -> ".join(r.describe_marked() for r in owners) if owners else "<none>")
    if e.ref.kind != "Pod":
        _field(out, "Pods", ", ".join(e.pods) if e.pods else "<none>")
    out.write("Images:\n")
    for container, image in e.images:
        _field(out, container, image or "<none>", 2)
    if e.agent:
        a = e.agent
        out.write("Agent:\n")
        _field(out, "Name", f"{a.name} ({a.vendor})", 2)
        _field(out, "Identified by", a.evidence + ("" if a.strong else " (a hint, not an image match)"), 2)
        since = f" from {a.auto_since}" if a.auto_since and a.detects_runtime == "auto" else ""
        _field(out, "Runtime", _RUNTIME.get(a.detects_runtime, a.detects_runtime) + since, 2)
        if a.migrated:
            _field(out, "Migrated", "; ".join(a.migrated), 2)
    else:
        _field(out, "Agent", "<unknown> (no catalogue entry matches these images)")
    if not e.findings:
        out.write("Docker dependency: none found\n")
        return
    out.write("Docker dependency:\n")
    for f in e.findings:
        _line(out, "  ", f"{f.rule_id} {f.rule_name} ({f.severity})")
        _field(out, "Reason", f.reason, 4)
        _field(out, "Container", f.container or "<none> (no container mounts it)", 4)
        if f.volume and f.rule_id in CONFIG_RULE_IDS:  # a configuration finding (DS009): a ConfigMap volume
            _field(out, "Volume", f.volume + (f" (subPath {f.sub_path})" if f.sub_path else ""), 4)
        elif f.volume:
            host = f.host_path + (f" (subPath {f.sub_path})" if f.sub_path else "") if f.host_path else "<none>"
            _field(out, "Volume", f"{f.volume}, hostPath {host}", 4)
        if f.mount_path:
            _field(out, "Mount path", f.mount_path + (" (read-only)" if f.read_only else ""), 4)
        if f.evidence:
            _field(out, "Evidence", f.evidence, 4)
    if e.migration is not None:
        print_migration(e.migration, out)
