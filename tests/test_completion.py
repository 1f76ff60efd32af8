"""Completion offers what the CLI accepts: commands, flags and `-o` values read from the CLI's own
tables, contexts from the kubeconfig; it stays silent when anything fails, and it does not import
the Kubernetes client unless it asks the cluster something."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from plugin import cli, completion
from plugin.commands import load as load_command
from plugin.completion import (
    DIRECTIVE_DEFAULT,
    DIRECTIVE_FILTER_FILE_EXT,
    DIRECTIVE_NO_FILE_COMP,
    DIRECTIVE_NO_SPACE,
    complete,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def names(result: completion.Completion) -> list[str]:
    return [c.split("\t", 1)[0] for c in result.candidates]


def test_commands_come_from_the_cli() -> None:
    assert names(complete([], "")) == sorted(cli.COMMANDS)
    assert names(complete([], "sc")) == ["scan"]
    assert complete([], "sc").directive == DIRECTIVE_NO_FILE_COMP
    assert all("\t" in c and c.split("\t")[1] for c in complete([], "").candidates), "each command is described"
    assert names(complete([], "--")) == ["--help", "--version"]
    assert complete(["nope"], "").candidates == ()


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_flags_come_from_the_command_tables(command: str) -> None:
    table = load_command(command).FLAGS
    assert set(names(complete([command], "--"))) == {f.long for f in table} | {"--help"}
    shorts = set(names(complete([command], "-"))) - set(names(complete([command], "--")))
    assert shorts == {f.short for f in table if f.short} | {"-h"}


def test_a_flag_given_once_is_not_offered_again_unless_repeatable() -> None:
    offered = names(complete(["scan", "-A", "--host-path", "/x"], "--"))
    assert "--all-namespaces" not in offered and "--host-path" in offered
    assert "--output" not in names(complete(["scan", "-o", "json"], "--"))


def test_output_values_per_command() -> None:
    from plugin.printers import allowed_formats

    scan = names(complete(["scan", "-o"], ""))
    assert scan == [f.split("=")[0] + "=" if "=" in f else f for f in allowed_formats()]
    assert names(complete(["version", "--output"], "")) == ["json", "yaml"]
    assert names(complete(["explain", "-o"], "j")) == ["json"]
    assert names(complete(["scan", "-A"], "--output=y")) == ["--output=yaml"]
    assert complete(["scan", "-ojs"], "").candidates == ()  # the value was given inline
    only_expression = complete(["scan", "-o"], "jm")
    if only_expression.candidates:  # `jmespath=EXPR`: no space, the expression follows
        assert only_expression.directive == DIRECTIVE_NO_FILE_COMP | DIRECTIVE_NO_SPACE


def _run_cli(argv: list[str]) -> str:
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        cli.main(argv)
    return err.getvalue()


@pytest.mark.parametrize("command", sorted(c for c in cli.COMMANDS
                                            if any(f.long == "--output" for f in completion.command_flags(c))))
def test_every_offered_output_format_is_accepted(command: str, tmp_path: Path) -> None:
    flags = {f.long for f in completion.command_flags(command)}
    # Offline or unconfigured, so nothing reaches a cluster: only the format check matters.
    extra = ["--kubeconfig", str(tmp_path / "missing")] if "--kubeconfig" in flags else []
    if "--filename" in flags:
        extra = ["-f", str(EXAMPLES)]
    if command == "explain":
        extra.append("pod/none")
    refused = "unable to match a printer"
    assert refused in _run_cli([command, "-o", "bogus", *extra])  # the check below can see a refusal
    for value in names(complete([command, "-o"], "")):
        value = value + "[0]" if value.endswith("=") else value
        assert refused not in _run_cli([command, "-o", value, *extra]), value


def test_plan_completes_its_pool_labels_and_runtimes() -> None:
    from plugin.plan import POOL_LABELS

    assert names(complete(["plan", "--pool-label"], "")) == [*POOL_LABELS, "kubernetes.io/hostname"]
    assert names(complete(["plan", "--pool-label"], "karp")) == ["karpenter.sh/nodepool", "karpenter.sh/provisioner-name"]
    assert names(complete(["plan"], "--runtime=c")) == ["--runtime=containerd", "--runtime=cri-o"]
    assert names(complete(["plan", "-o"], "")) == ["json", "markdown", "wide", "yaml"]


def test_file_flags_leave_files_to_the_shell() -> None:
    result = complete(["scan", "-f"], "")
    assert (set(result.candidates), result.directive) == ({"yaml", "yml", "json"}, DIRECTIVE_FILTER_FILE_EXT)
    assert complete(["scan", "--kubeconfig"], "").directive == DIRECTIVE_DEFAULT
    assert complete(["scan", "--selector"], "") == completion.NOTHING


def kubeconfig(path: Path, contexts: list[str]) -> Path:
    path.write_text("apiVersion: v1\nkind: Config\ncurrent-context: " + contexts[0] + "\n"
                    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                    "users: [{name: u, user: {token: t}}]\n"
                    "contexts:\n" + "".join(f"- {{name: {c}, context: {{cluster: c, user: u}}}}\n" for c in contexts))
    return path


def test_contexts_come_from_the_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = kubeconfig(tmp_path / "config", ["prod", "dev", "staging"])
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert names(complete(["scan", "--context"], "")) == ["dev", "prod", "staging"]
    assert names(complete(["scan", "--context", "dev", "--context"], "")) == ["prod", "staging"]  # repeatable
    assert names(complete(["explain"], "--context=st")) == ["--context=staging"]
    other = kubeconfig(tmp_path / "other", ["lab"])
    assert names(complete(["scan", "--kubeconfig", str(other), "--context"], "")) == ["lab"]
    (tmp_path / "broken").write_text("{not yaml")
    assert complete(["scan", "--kubeconfig", str(tmp_path / "broken"), "--context"], "") == completion.NOTHING


def test_cluster_lookups_fail_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "config", ["gone"])))  # nothing listens on :1
    assert complete(["scan", "-n"], "") == completion.NOTHING
    result = complete(["explain"], "")
    assert names(result) == ["cronjobs/", "daemonsets/", "deployments/", "jobs/", "pods/", "replicasets/",
                             "replicationcontrollers/", "statefulsets/"]
    assert result.directive == DIRECTIVE_NO_FILE_COMP | DIRECTIVE_NO_SPACE
    assert complete(["explain"], "deploy/") == completion.NOTHING
    assert complete(["explain", "svc"], "") == completion.NOTHING
    assert complete(["explain", "pod/a"], "") == completion.NOTHING  # the target is complete
    assert capfd.readouterr().err == ""


def test_the_executable_prints_candidates_and_a_directive_and_nothing_on_stderr(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    for args, expected in ((["sc"], "scan\t"), (["explain", ""], "cronjobs/\n"), (["scan", "-n", ""], ":4\n")):
        result = subprocess.run([sys.executable, str(ROOT / "kubectl_complete-dockershim"), *args],
                                capture_output=True, text=True, env=env, check=True)
        assert result.stderr == "" and expected in result.stdout
        assert result.stdout.splitlines()[-1].startswith(":")


@pytest.mark.parametrize("argv", [[""], ["scan", "-"], ["scan", "-o", ""], ["explain", "-f", ""],
                                  ["scan", "--context", ""]])
def test_completion_without_the_cluster_does_not_import_the_kubernetes_client(argv: list[str],
                                                                             tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "config", ["a"])
    code = ("import sys; from plugin.completion import main; main(sys.argv[1:]); "
            "sys.stderr.write(repr(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'urllib3'))))")
    result = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True,
                            check=True, env={"KUBECONFIG": str(config), "PATH": "/usr/bin:/bin"})
    assert result.stderr == "[]"
