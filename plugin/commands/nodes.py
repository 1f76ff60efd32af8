"""`nodes`: which container runtime each node runs, and whether it still uses dockershim."""

from __future__ import annotations

from typing import TextIO

from plugin.commands.arguments import check_output, connection_of, parse_command, write_document
from plugin.errors import EXIT_OK
from plugin.flags import Flag, connection_flags

OUTPUTS = ("json", "name", "wide", "yaml")

FLAGS: tuple[Flag, ...] = (
    Flag("--selector", "Label selector for the nodes.", short="-l", metavar="SELECTOR"),
    Flag("--output", "Output format: wide, json, yaml or name (default: the table).", short="-o",
         metavar="FORMAT", default=""),
    Flag("--no-headers", "Print the table without its header line.", kind="bool"),
    Flag("--probes", "Add each node's host findings from the node-probe DaemonSet (deploy/node-probe.yaml).",
         kind="bool"),
) + connection_flags("Accepted as kubectl accepts it; nodes belong to no namespace.")

HELP = """One row per node: its container runtime (status.nodeInfo.containerRuntimeVersion), the
kubelet version, and whether it still uses dockershim. Docker on kubelet 1.23 or older is dockershim,
which the removal breaks; from 1.24 Docker is only reachable through cri-dockerd, which is not
affected. kubeadm's kubeadm.alpha.kubernetes.io/cri-socket annotation is used as extra evidence.

Examples:
  {cmd} nodes
  {cmd} nodes -l node-role.kubernetes.io/worker -o wide
  {cmd} nodes --probes

{flags}

Usage:
  {cmd} nodes [flags]
"""


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse_command(argv, FLAGS, HELP, out)
    if args is None:
        return EXIT_OK
    output = check_output(args.output, OUTPUTS)
    from plugin.nodes import list_node_runtimes

    context, nodes = list_node_runtimes(connection_of(args), args.selector, probes=args.probes)
    if output in ("json", "yaml"):
        from plugin.printers.nodes import nodes_document

        write_document(nodes_document(context, nodes), output, out)
        return EXIT_OK
    from plugin.printers.nodes import print_nodes

    print_nodes(nodes, out, output, args.no_headers)
    if not nodes:
        err.write("No resources found\n")
    return EXIT_OK
