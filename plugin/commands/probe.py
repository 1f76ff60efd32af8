"""`probe`: what on this node itself still talks to Docker. Runs on the node (as root, or in the
node-probe DaemonSet with the host's filesystem at /host and its PID namespace) and reports
processes connected to Docker's socket or running the docker CLI, systemd units, cron jobs and
scripts, kubelet flags and config, agent configurations and Docker's own settings to carry over,
as a table or a `NodeProbeReport` document. It reads and never writes; see `plugin.probe`."""

from __future__ import annotations

from typing import TextIO

from plugin.commands.arguments import check_output, parse_command, write_document
from plugin.errors import EXIT_OK, UsageError
from plugin.flags import Flag

OUTPUTS = ("json", "wide", "yaml")

FLAGS: tuple[Flag, ...] = (
    Flag("--root", "Read the host under DIR instead of / (the host mounted at /host, a disk image, a test "
         "tree).", metavar="DIR", default="/"),
    Flag("--socket", "Also treat PATH as a Docker socket to look for connections to; repeatable.", kind="list",
         metavar="PATH"),
    Flag("--node-name", "The node's name in the report (default: $NODE_NAME, else the root's /etc/hostname).",
         metavar="NAME", default=""),
    Flag("--output", "Output format: wide, json or yaml (default: the table).", short="-o", metavar="FORMAT",
         default=""),
    Flag("--no-headers", "Print the table without its header line.", kind="bool"),
)

HELP = """Report what on this node itself still talks to Docker: processes connected to Docker's socket
(docker.sock, dockershim.sock, cri-dockerd.sock, and --socket) or running the docker CLI, systemd
units that need docker.service, cron jobs and the scripts they call, kubelet flags and config,
agent configurations naming Docker's socket or log folder, and Docker's own settings
(daemon.json, docker.service.d proxies) with the containerd and CRI-O settings that replace them.

Run it on the node as root, or as the DaemonSet of deploy/node-probe.yaml, whose reports
`{cmd} nodes --probes` reads. It only reads: it never writes, never signals a process,
never follows a link out of --root, and skips huge, binary and special files with a warning.

Examples:
  # This node
  sudo {cmd} probe

  # A host mounted elsewhere, as JSON
  {cmd} probe --root /host -o json

  # A Docker socket at a place of its own
  {cmd} probe --socket /var/vcap/sys/run/docker/docker.sock

{flags}

Usage:
  {cmd} probe [flags]
"""


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse_command(argv, FLAGS, HELP, out)
    if args is None:
        return EXIT_OK
    output = check_output(args.output, OUTPUTS)
    import os

    if not os.path.isdir(args.root):
        raise UsageError(f"--root {args.root}: not a directory")
    from plugin.printers import probe as printer
    from plugin.printers.escape import terminal_text
    from plugin.probe.collect import ProbeOptions, collect

    sockets = tuple(os.path.abspath(p) for p in args.socket)
    report = collect(ProbeOptions(root=args.root, extra_sockets=sockets, node=args.node_name))
    for warning in report.warnings:
        err.write(f"Warning: {terminal_text(warning)}\n")
    if output in ("json", "yaml"):
        write_document(printer.probe_document(report), output, out)
        return EXIT_OK
    printer.print_probe(report, out, wide=output == "wide", no_headers=args.no_headers)
    if not report.findings:
        err.write("No Docker dependencies found on this node\n")
    return EXIT_OK
