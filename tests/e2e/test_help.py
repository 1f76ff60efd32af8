"""Help and usage errors as cobra prints them, through the real kubectl (issue 14)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Plugin


def test_a_mistyped_command_gets_cobras_suggestions(plugin: Plugin) -> None:
    result = plugin.run("scna")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ('error: unknown command "scna" for "kubectl dockershim"\n\nDid you mean this?\n'
                             "\tscan\n\nSee 'kubectl dockershim --help' for usage.\n")
    far = plugin.run("frobnicate")
    assert far.stderr == ('error: unknown command "frobnicate" for "kubectl dockershim"\n'
                          "See 'kubectl dockershim --help' for usage.\n")


@pytest.mark.parametrize("command", ["scan", "explain", "mounts", "nodes", "plan", "version"])
def test_help_command_prints_that_commands_help(plugin: Plugin, command: str) -> None:
    helped = plugin.run("help", command)
    assert helped.returncode == 0
    assert helped.stdout == plugin.run(command, "--help").stdout
    assert f"kubectl dockershim {command} [flags]" in helped.stdout or f"kubectl dockershim {command} " in helped.stdout
    assert plugin.run("help").stdout == plugin.run("--help").stdout != helped.stdout


@pytest.mark.parametrize("args, command", [
    (["scan", "--bogus"], "scan"), (["explain", "--severity", "x", "pod"], "explain"),
    (["nodes", "-o", "sarif"], "nodes"), (["scan", "--severity", "critical"], "scan"),
    (["plan", "--pool-label", ""], "plan"),
])
def test_a_usage_error_names_the_commands_help(plugin: Plugin, args: list[str], command: str) -> None:
    result = plugin.run(*args)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: ")
    assert result.stderr.endswith(f"See 'kubectl dockershim {command} --help' for usage.\n")


def _help_examples(text: str) -> list[str]:
    """The command lines of a help page's Examples section (up to its Options block)."""
    section = text.split("Examples:\n", 1)[1].split("Options:", 1)[0]
    return [line.strip() for line in section.splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("command", ["scan", "explain", "mounts", "nodes", "plan", "version"])
def test_each_help_lists_its_own_flags_then_kubectls_in_a_block(plugin: Plugin, command: str) -> None:
    text = plugin.run(command, "--help").stdout
    own, _, connection = text.partition("Connection options (as kubectl's):\n")
    assert "Options:\n" in own
    if command == "version":
        assert connection == "" and "--kubeconfig" not in text
        return
    assert "--kubeconfig FILE" in connection and "--kubeconfig" not in own
    namespace = next(line for line in connection.splitlines() if "--namespace" in line)
    # -n says what it means for this command, never what other commands do with it
    assert "scan and mounts" not in namespace
    if command in ("scan", "mounts"):
        assert "comma-separated list" in namespace and "--all-contexts" in connection
    elif command == "plan":  # several namespaces, one context
        assert "comma-separated list" in namespace and "--all-contexts" not in text
    else:
        assert "comma-separated" not in namespace and "--all-contexts" not in text


@pytest.mark.parametrize("command", ["scan", "explain", "mounts"])
def test_help_examples_that_read_examples_run_as_written(plugin: Plugin, command: str) -> None:
    import subprocess

    from tests.e2e.conftest import ROOT

    runnable = [line for line in _help_examples(plugin.run(command, "--help").stdout) if "examples/" in line]
    assert runnable, command
    for line in runnable:
        result = subprocess.run(line, shell=True, capture_output=True, text=True, cwd=ROOT,
                                env=plugin.env(), timeout=120)
        # 0 or, for --exit-code, 3: never an error (1) or an unreadable input (4)
        assert result.returncode in (0, 3), (line, result.stderr)
        assert result.stdout, line
        assert "Traceback" not in result.stderr


def test_the_readme_shows_what_scan_prints_on_the_test_cluster(plugin: Plugin) -> None:
    """The README's first screen is the real output of `scan -A` on the end-to-end test cluster
    (stderr's warning first, as a terminal shows it)."""
    from tests.e2e.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    shown = readme.split("$ kubectl dockershim scan -A\n", 1)[1].split("\n\n", 1)[0] + "\n"
    result = plugin.run("scan", "-A")
    assert shown == result.stderr + result.stdout
