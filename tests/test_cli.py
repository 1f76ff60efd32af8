"""The command line without a cluster: flags parsed like kubectl, offline scans end to end through
`main()`, messages and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from plugin.cli import main
from plugin.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UsageError
from plugin.flags import SELECTION_FLAGS, parse

ROOT = Path(__file__).resolve().parent.parent

DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: monitoring
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: example/agent:1
        volumeMounts:
        - {name: sock, mountPath: /var/run/docker.sock}
      volumes:
      - name: sock
        hostPath: {path: /var/run/docker.sock}
"""
CLEAN = DAEMONSET.replace("/var/run/docker.sock", "/run/containerd/containerd.sock").replace("agent", "clean")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    (tmp_path / "agent.yaml").write_text(DAEMONSET)
    (tmp_path / "clean.yaml").write_text(CLEAN)
    return tmp_path


def test_offline_scan_table(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["scan", "-f", str(manifests)], capsys)
    assert code == EXIT_OK and err == ""
    assert out.splitlines()[1].split() == ["monitoring", "DaemonSet/agent", "<unknown>", "0", "high", "docker.sock"]


def test_exit_code_flag_marks_findings(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", "-f", str(manifests), "--exit-code"], capsys)[0] == EXIT_FINDINGS
    assert run(["scan", "-f", str(manifests / "clean.yaml"), "--exit-code"], capsys)[0] == EXIT_OK


def test_nothing_found_says_so_on_stderr(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["scan", "-f", str(manifests / "clean.yaml")], capsys)
    assert (code, out, err) == (EXIT_OK, "", "No resources found\n")
    code, out, err = run(["scan", "-f", str(manifests / "clean.yaml"), "-o", "json"], capsys)
    assert json.loads(out)["items"] == [] and err == ""


def test_broken_file_is_reported_and_the_rest_scanned(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (manifests / "broken.yaml").write_text("kind: Pod\nmetadata: [\n")
    code, out, err = run(["scan", "-f", str(manifests), "-o", "json", "--exit-code"], capsys)
    assert code == EXIT_INCOMPLETE
    assert err.startswith(f"error: {manifests / 'broken.yaml'}: line 3, column 1: invalid YAML")
    doc = json.loads(out)
    assert [i["owner"]["name"] for i in doc["items"]] == ["agent"] and doc["metadata"]["complete"] is False


def test_sources_in_json_name_file_and_line(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(run(["scan", "-f", str(manifests / "agent.yaml"), "-o", "json"], capsys)[1])
    assert doc["items"][0]["sources"] == [{"file": str(manifests / "agent.yaml"), "line": 1, "document": 0}]


def test_stdin(manifests: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(DAEMONSET.encode())))
    code, out, _ = run(["scan", "-f", "-", "-o", "name"], capsys)
    assert (code, out) == (EXIT_OK, "daemonset.apps/agent\n")


@pytest.mark.parametrize("argv, message", [
    (["scan", "--bogus"], "error: unknown flag: --bogus"),
    (["scan", "-x"], "error: unknown shorthand flag: 'x' in -x"),
    (["scan", "-o", "xml"], 'error: unable to match a printer suitable for the output format "xml", '
                            "allowed formats are: json,markdown,name,sarif,table,wide,yaml,jmespath=EXPR"),
    (["scan", "-o"], "error: flag needs an argument: --output"),
    (["scan", "extra"], 'error: unexpected argument "extra"'),
    (["frobnicate"], 'error: unknown command "frobnicate" for "kubectl-dockershim"'),
    (["scan", "--all-namespaces=maybe"], 'error: invalid argument "maybe" for "--all-namespaces" flag'),
    (["scan", "--all"], "error: unknown flag: --all"),  # no abbreviations, like kubectl
])
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECTL_PATH", raising=False)
    code, out, err = run(argv, capsys)
    assert code == EXIT_ERROR and out == ""
    assert err.startswith(message)
    # A usage error inside a command names that command's help, as cobra does.
    where = "kubectl-dockershim" if argv[0] == "frobnicate" else f"kubectl-dockershim {argv[0]}"
    assert err.rstrip().endswith(f"See '{where} --help' for usage.")
    assert "Traceback" not in err


def test_bool_flags_accept_kubectl_values() -> None:
    assert parse(["--all-namespaces=false"], SELECTION_FLAGS).all_namespaces is False
    assert parse(["--all-namespaces=true"], SELECTION_FLAGS).all_namespaces is True
    assert parse(["-A", "-f", "a", "--filename=b"], SELECTION_FLAGS).filename == ["a", "b"]
    with pytest.raises(UsageError):
        parse(["--all-namespaces=2"], SELECTION_FLAGS)


def test_help_names_the_kubectl_command_when_run_by_kubectl(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECTL_PATH", "/usr/local/bin/kubectl")
    code, out, _ = run(["scan", "--help"], capsys)
    assert code == EXIT_OK and "kubectl dockershim scan -A" in out and "kubectl-dockershim" not in out
    assert "--as-group GROUP" in out and "-n, --namespace NAMESPACE" in out
    monkeypatch.delenv("KUBECTL_PATH")
    assert "kubectl-dockershim scan" in run(["--help"], capsys)[1]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from plugin import __version__

    assert run(["version"], capsys)[1] == f"kubectl-dockershim v{__version__}\n"
    assert run(["--version"], capsys)[1] == f"kubectl-dockershim v{__version__}\n"
    doc = json.loads(run(["version", "-o", "json"], capsys)[1])
    assert doc["version"] == f"v{__version__}" and doc["kubernetesClient"] == "35.0.0"


@pytest.mark.parametrize("argv", [["--help"], ["version"], ["scan", "--help"], ["scan", "-f", "{manifests}"]])
def test_help_version_and_offline_scans_do_not_import_the_kubernetes_client(argv: list[str], manifests: Path) -> None:
    argv = [a.replace("{manifests}", str(manifests)) for a in argv]
    code = (f"import sys; from plugin.cli import main; main({argv!r}); "
            "sys.stderr.write(repr(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'urllib3'))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stderr.endswith("[]")
