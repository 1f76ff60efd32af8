"""The command line: what comes before a command (`--help`, `--version`, `help CMD`), the
dispatch to the command's module in plugin/commands/, and the mapping of every expected failure
to a kubectl-style message and exit code. No detection logic lives here, and no command's.

Each command's module is imported only when it runs, and heavy imports (the Kubernetes client,
YAML, tabulate) happen inside the commands that need them, so `--help` and `version` start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

from plugin import commands
from plugin.commands import command_name
from plugin.errors import EXIT_ERROR, EXIT_OK, PluginError, UsageError

__all__ = ["COMMANDS", "command_name", "main", "run"]

MAIN_HELP = """Find the workloads that still depend on the Docker daemon on their node, the ones that
break when nodes move from Docker (dockershim) to containerd or CRI-O.

Examples:
  # Every workload in the cluster that depends on Docker, owner first
  {cmd} scan -A

  # The same for manifests and cluster dumps, offline (CI, air-gapped reviews)
  {cmd} scan -f ./manifests/ -f dump.json

  # For scripts
  {cmd} scan -A -o json

Commands:
  scan        List the workloads that depend on the Docker daemon
  explain     Why one pod or workload depends on Docker, which agent it is, how to migrate it
  mounts      List every hostPath volume of every workload, Docker's or not
  nodes       Which container runtime each node runs, and whether it still uses dockershim
  plan        Per node pool: can it switch to containerd or CRI-O now, and what blocks it
  probe       What on this node itself still talks to Docker (run on the node)
  version     Print the plugin's version

Usage:
  {cmd} COMMAND [flags]

Use "{cmd} COMMAND --help" for more information about a command.
"""


def _runner(name: str) -> Callable[[list[str], TextIO, TextIO], int]:
    def run_command(argv: list[str], out: TextIO, err: TextIO) -> int:
        return int(commands.load(name).run(argv, out, err))

    return run_command


COMMANDS: dict[str, Callable[[list[str], TextIO, TextIO], int]] = {name: _runner(name) for name in commands.NAMES}


class CommandUsageError(UsageError):
    """A usage error inside one command: the hint names that command's help, as cobra does."""

    def __init__(self, message: str, command: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.command = command


class UnknownCommandError(UsageError):
    """An unknown command, with the commands cobra would suggest instead."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, as cobra's suggestions use it."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def suggestions(typed: str) -> list[str]:
    """The commands cobra would suggest for a mistyped one: within an edit distance of 2, or
    starting with what was typed (case-insensitive)."""
    lower = typed.lower()
    return [name for name in COMMANDS
            if _edit_distance(lower, name) <= 2 or name.startswith(lower)]


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    cmd = command_name()
    if argv[:1] == ["help"] and len(argv) > 1:
        argv = [argv[1], "--help"]  # `help scan` is `scan --help`, as cobra's help command
    if not argv or argv[0] in ("-h", "--help", "help"):
        out.write(MAIN_HELP.format(cmd=cmd))
        return EXIT_OK
    if argv[0] == "--version":
        return COMMANDS["version"]([], out, err)
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        if name.startswith("-"):
            raise UsageError(f"unknown flag: {name} (flags go after the command: '{cmd} scan {name}')")
        raise UnknownCommandError(f'unknown command "{name}" for "{cmd}"', suggestions(name))
    try:
        return COMMANDS[name](rest, out, err)
    except CommandUsageError:
        raise
    except UsageError as e:
        raise CommandUsageError(e.message, name, e.hint) from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out, err = sys.stdout, sys.stderr
    try:
        return run(argv, out, err)
    except UsageError as e:
        where = f"{command_name()} {e.command}" if isinstance(e, CommandUsageError) else command_name()
        from plugin.printers.escape import terminal_message  # every stderr line passes it

        err.write(f"error: {terminal_message(e.message, e.hint)}\n")
        if isinstance(e, UnknownCommandError) and e.suggestions:
            # cobra's layout; the typed word is not repeated, so nothing from it is printed raw.
            err.write("\nDid you mean this?\n" + "".join(f"\t{n}\n" for n in e.suggestions) + "\n")
        err.write(f"See '{where} --help' for usage.\n")
        return EXIT_ERROR
    except PluginError as e:
        from plugin.printers.escape import terminal_message

        err.write(f"{terminal_message(e.message, e.hint)}\n")
        return e.exit_code
    except KeyboardInterrupt:
        err.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        # `... | head`: the reader left; exit quietly like kubectl does.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter exit quiet
        except OSError:
            pass
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
