"""`mounts`: every hostPath volume of every workload, Docker's or not: the Kubernetes docs' query
without its grep. The same pipeline as `scan` (plugin.commands.scan.report_command) with the
listing rule instead of the detection rules."""

from __future__ import annotations

from typing import TextIO

from plugin.commands.arguments import parse_command
from plugin.commands.scan import SORT_BY_FLAG, report_command
from plugin.errors import EXIT_OK
from plugin.flags import OUTPUT_FLAGS, SELECTION_FLAGS, Flag, connection_flags

OUTPUTS = None  # every printer; sarif and markdown have their own hostPath-inventory forms

FLAGS: tuple[Flag, ...] = SELECTION_FLAGS + OUTPUT_FLAGS + (SORT_BY_FLAG,) + connection_flags(
    "The namespaces to list: one, or a comma-separated list (default: the context's namespace, else "
    "default); with -f, where objects that name none are placed.", several_contexts=True)

HELP = """List every hostPath volume of every workload, Docker's or not, owner first: the host path,
its type, the container and mount path, and whether it is read-only. This is the query the
Kubernetes docs suggest for reviewing host mounts, without its grep.

Examples:
  # Every namespace of the cluster
  {cmd} mounts -A

  # Offline, for a review of what a chart mounts from its nodes
  {cmd} mounts -f examples/manifests/ -o json

{flags}

Usage:
  {cmd} mounts [flags]
"""


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse_command(argv, FLAGS, HELP, out)
    if args is None:
        return EXIT_OK
    args.host_path, args.exit_code, args.severity = [], False, None
    return report_command(args, out, err, listing=True)
