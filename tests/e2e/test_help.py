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


@pytest.mark.parametrize("command", ["scan", "explain", "mounts", "nodes", "version"])
def test_help_command_prints_that_commands_help(plugin: Plugin, command: str) -> None:
    helped = plugin.run("help", command)
    assert helped.returncode == 0
    assert helped.stdout == plugin.run(command, "--help").stdout
    assert f"kubectl dockershim {command} [flags]" in helped.stdout or f"kubectl dockershim {command} " in helped.stdout
    assert plugin.run("help").stdout == plugin.run("--help").stdout != helped.stdout


@pytest.mark.parametrize("args, command", [
    (["scan", "--bogus"], "scan"), (["explain", "--severity", "x", "pod"], "explain"),
    (["nodes", "-o", "sarif"], "nodes"), (["scan", "--severity", "critical"], "scan"),
])
def test_a_usage_error_names_the_commands_help(plugin: Plugin, args: list[str], command: str) -> None:
    result = plugin.run(*args)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: ")
    assert result.stderr.endswith(f"See 'kubectl dockershim {command} --help' for usage.\n")
