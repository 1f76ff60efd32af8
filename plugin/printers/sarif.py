"""`-o sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One SARIF rule per detection rule (from the registry), one result per report item, with the
file and line of each source when the scan read files (`scan -f`). Cluster findings carry a
logical location (namespace/Kind/name) instead, since they have no file.

`mounts -o sarif` lists hostPath volumes, not problems: its one rule is the listing rule HP000,
and each result is `kind: informational` with `level: none`, so code scanning shows the
inventory without raising alerts.
"""

from __future__ import annotations

import json
import os
from typing import Any, TextIO

from plugin import __version__
from plugin.models import Report, ReportItem
from plugin.rules import ALL_RULES, ConfigRule, Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"high": "error", "medium": "warning", "low": "note", "info": "note"}


def _uri(path: str) -> str:
    """A URI reference: relative paths stay relative (resolved against the checkout by viewers)."""
    if os.path.isabs(path):
        return "file://" + path
    return path.replace(os.sep, "/")


def _result(item: ReportItem, rule_index: dict[str, int], listing: bool) -> dict[str, Any]:
    f = item.finding
    where = f" in container {f.container}" if f.container else ""
    templates = list(dict.fromkeys(o.path for o in item.origins if o.path is not None))
    if templates:
        where += f" of {', '.join(templates)}"  # the pod templates of a custom resource
    text = f"{item.owner.describe()}{where}: {f.reason}"
    if f.host_path:
        text += f" (hostPath {f.host_path}" + (f", subPath {f.sub_path}" if f.sub_path else "") + ")"
    if f.evidence:
        text += f" [{f.evidence}]"
    result: dict[str, Any] = {"ruleId": f.rule_id, "message": {"text": text}}
    if listing:
        result.update(kind="informational", level="none")
    else:
        result["level"] = _LEVELS.get(f.severity, "note")
    if f.rule_id in rule_index:
        result["ruleIndex"] = rule_index[f.rule_id]
    locations: list[dict[str, Any]] = []
    for origin in item.origins:
        if origin.file and origin.file != "<stdin>":
            physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(origin.file)}}
            if origin.line:
                physical["region"] = {"startLine": origin.line}
            locations.append({"physicalLocation": physical})
    logical = {"fullyQualifiedName": f"{item.namespace}/{item.owner.describe()}",
               "name": item.owner.name, "kind": "resource"}
    if locations:
        locations[0]["logicalLocations"] = [logical]
    else:
        locations.append({"logicalLocations": [logical]})
    result["locations"] = locations
    result["properties"] = {"severity": f.severity, "pods": list(item.pods),
                            "agent": item.agent.id if item.agent else None}
    return result


def _rule(rule: Rule | ConfigRule, listing: bool) -> dict[str, Any]:
    if listing:
        level = "none"
        help_text = (f"{rule.summary}: an inventory for review, not a Docker dependency. Run `kubectl "
                     "dockershim scan` for the mounts that depend on Docker.")
    else:
        level = _LEVELS[rule.severity]
        help_text = (f"{rule.summary}. Run `kubectl dockershim explain` on the workload for the agent and "
                     "its migration steps.")
    return {"id": rule.id, "name": rule.name, "shortDescription": {"text": rule.name.replace("-", " ")},
            "fullDescription": {"text": rule.summary}, "defaultConfiguration": {"level": level},
            "help": {"text": help_text}, "properties": {"severity": rule.severity}}


def sarif_document(report: Report, listing: bool = False) -> dict[str, Any]:
    """`listing`: the report of `mounts`, whose one rule is the listing rule."""
    if listing:
        from plugin.mounts import LISTING_RULES

        registry: tuple[Rule | ConfigRule, ...] = LISTING_RULES
    else:
        registry = ALL_RULES
    rule_index = {rule.id: index for index, rule in enumerate(registry)}
    rules = [_rule(rule, listing) for rule in registry]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kubectl-dockershim", "version": __version__,
                                "informationUri": "https://github.com/kubectl-dockershim/kubectl-dockershim",
                                "rules": rules}},
            "results": [_result(item, rule_index, listing) for item in report.items],
            "invocations": [{"executionSuccessful": report.complete,
                             "toolExecutionNotifications": [{"message": {"text": w}, "level": "warning"}
                                                            for w in report.warnings]}],
        }],
    }


def print_sarif(report: Report, out: TextIO, listing: bool = False) -> None:
    out.write(json.dumps(sarif_document(report, listing), indent=2) + "\n")
