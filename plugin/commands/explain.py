"""`explain`: why one pod or workload (or any owner `scan` prints) depends on Docker, which agent
it is, and how to migrate it. The stage itself is plugin.explain; this module parses, picks the
live or offline pipeline and prints."""

from __future__ import annotations

from typing import TextIO

from plugin.commands.arguments import check_output, connection_of, parse_command, rule_settings, write_document
from plugin.errors import EXIT_INCOMPLETE, EXIT_OK
from plugin.flags import Flag, connection_flags

OUTPUTS = ("json", "yaml")

FLAGS: tuple[Flag, ...] = (
    Flag("--filename", "Explain an object of these manifests or dumps instead of the cluster; repeatable.",
         short="-f", kind="list", metavar="PATH"),
    Flag("--output", "Output format: json or yaml (default: a describe-like text).", short="-o",
         metavar="FORMAT", default=""),
    Flag("--host-path", "Also treat PATH as a Docker socket location; repeatable.", kind="list", metavar="PATH"),
    Flag("--read-configmaps", "Also read (one GET each) the ConfigMaps the object mounts, for log shipper "
         "settings that expect Docker (rule DS009); needs get on configmaps. Offline, the input's are read.",
         kind="bool"),
) + connection_flags("The namespace of the object (default: the context's namespace, else default); with -f, "
                     "objects that name none are in it.")

HELP = """Explain why a pod or workload depends on the Docker daemon: its owner chain, every finding
with its evidence, the agent it is (from the built-in catalogue of telemetry, logging and security
agents) and the steps to migrate that agent to containerd or CRI-O. Any owner that scan prints is
accepted: one the plugin does not read (rollout/NAME, node/NAME) is explained from its pods.

Examples:
  # A pod of the current namespace, and a workload with its pods
  {cmd} explain datadog-agent-x7k2p
  {cmd} explain ds/datadog -n monitoring

  # Offline, from manifests or a cluster dump
  {cmd} explain daemonset/falco -n security -f examples/
  {cmd} explain deployment drone-runner -n ci -f examples/cluster-dump.json -o json

{flags}

Usage:
  {cmd} explain (POD | TYPE/NAME | TYPE NAME) [flags]
"""


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse_command(argv, FLAGS, HELP, out, positionals=2)
    if args is None:
        return EXIT_OK
    output = check_output(args.output, OUTPUTS)
    from plugin.explain import parse_target

    parse_target(args.args)  # usage errors before any I/O
    problems: list = []
    if args.filename:
        from plugin.kubeconfig import offline_namespace
        from plugin.pipeline import explain_files
        from plugin.printers.escape import terminal_text

        explanation, problems = explain_files(args.filename, rule_settings(args),
                                              offline_namespace(connection_of(args)), args.args)
        for problem in problems:
            err.write(f"error: {terminal_text(problem)}\n")
    else:
        from plugin.pipeline import explain_cluster
        from plugin.printers.escape import terminal_text

        explanation = explain_cluster(connection_of(args), rule_settings(args), args.args,
                                      read_configmaps=args.read_configmaps)
        for warning in explanation.warnings:
            err.write(f"Warning: {terminal_text(warning)}\n")
        problems = []
    from plugin.printers import describe

    if output:
        write_document(describe.explanation_document(explanation), output, out)
    else:
        describe.print_explanation(explanation, out)
    return EXIT_INCOMPLETE if problems or explanation.warnings else EXIT_OK
