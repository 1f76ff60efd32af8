"""The command line: parse kubectl's flags, build the pipeline, print, and map every expected
failure to a kubectl-style message and exit code. No detection logic lives here.

Heavy imports (the Kubernetes client, YAML, tabulate) happen inside the commands that need
them, so `--help` and `version` start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from plugin import __version__
from plugin.errors import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    EXIT_OK,
    PluginError,
    UsageError,
)

if TYPE_CHECKING:
    from plugin.kubeconfig import ConnectionFlags
    from plugin.models import Report
    from plugin.rules import RuleSettings
from plugin.flags import (
    CONNECTION_FLAGS,
    MULTI_CONTEXT_FLAGS,
    OUTPUT_FLAGS,
    SELECTION_FLAGS,
    Flag,
    parse,
    render_flags,
)
from plugin.printers.escape import terminal_message, terminal_text  # every stderr line passes it


def command_name() -> str:
    """`kubectl dockershim` when kubectl ran us (it sets KUBECTL_PATH), else the executable's name."""
    return "kubectl dockershim" if os.environ.get("KUBECTL_PATH") else "kubectl-dockershim"


SORT_BY_FLAG = Flag("--sort-by", "Sort by a field, as kubectl: a JSONPath into each json item (e.g. .owner.name, "
                    "{.namespace}) or namespace, owner, kind, severity (worst first), pods (count), agent, rule.",
                    metavar="FIELD")

SCAN_FLAGS: tuple[Flag, ...] = SELECTION_FLAGS + OUTPUT_FLAGS + (SORT_BY_FLAG,) + (
    Flag("--pods-only", "Scan running pods only, not the pod templates of workloads (idle CronJobs, "
         "Deployments at 0 replicas, DaemonSets without pods).", kind="bool"),
    Flag("--summary", "Print counts only: per rule, per agent and per namespace.", kind="bool"),
    Flag("--severity", "Show only findings of these severities: a comma list of high, medium, low, info, "
         "or all (default: high,medium,low; info findings are not Docker dependencies).", metavar="LIST"),
    Flag("--exit-code", f"Exit with code {EXIT_FINDINGS} when a Docker dependency of the shown severities is "
         "found (for CI).", kind="bool"),
    Flag("--host-path", "Also treat PATH as a Docker socket location (e.g. /var/vcap/sys/run/docker/"
         "docker.sock); repeatable.", kind="list", metavar="PATH"),
) + MULTI_CONTEXT_FLAGS

MOUNTS_FLAGS: tuple[Flag, ...] = SELECTION_FLAGS + OUTPUT_FLAGS + (SORT_BY_FLAG,) + MULTI_CONTEXT_FLAGS

NODES_FLAGS: tuple[Flag, ...] = (
    Flag("--selector", "Label selector for the nodes.", short="-l", metavar="SELECTOR"),
    Flag("--output", "Output format: wide, json, yaml or name (default: the table).", short="-o",
         metavar="FORMAT", default=""),
    Flag("--no-headers", "Print the table without its header line.", kind="bool"),
) + CONNECTION_FLAGS

EXPLAIN_FLAGS: tuple[Flag, ...] = (
    Flag("--filename", "Explain an object of these manifests or dumps instead of the cluster; repeatable.",
         short="-f", kind="list", metavar="PATH"),
    Flag("--output", "Output format: json or yaml (default: a describe-like text).", short="-o",
         metavar="FORMAT", default=""),
    Flag("--host-path", "Also treat PATH as a Docker socket location; repeatable.", kind="list", metavar="PATH"),
) + CONNECTION_FLAGS

VERSION_FLAGS: tuple[Flag, ...] = (
    Flag("--output", "Output format: json or yaml (default: the version alone).", short="-o",
         metavar="FORMAT", default=""),
)

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
  version     Print the plugin's version

Usage:
  {cmd} COMMAND [flags]

Use "{cmd} COMMAND --help" for more information about a command.
"""

SCAN_HELP = """List every workload whose pods depend on the Docker daemon on their node: hostPath
mounts of Docker's socket or of a directory that holds it, found in running pods (or, with -f, in
manifests and cluster dumps), grouped by the workload that owns them.

Examples:
  # The current namespace
  {cmd} scan

  # Every namespace, with pod and node names
  {cmd} scan -A -o wide

  # Offline: a folder of manifests, helm template output on stdin, a cluster dump
  helm template ./chart | {cmd} scan -f -
  {cmd} scan -f examples/

  # Fail a CI job when a Docker dependency is found
  {cmd} scan -f k8s/ --exit-code

Flags:
{flags}

Exit codes: 0 done, 1 error, {findings} Docker dependencies found (only with --exit-code),
{incomplete} incomplete (part of the input could not be read).

Usage:
  {cmd} scan [flags]
"""

MOUNTS_HELP = """List every hostPath volume of every workload, Docker's or not, owner first: the host path,
its type, the container and mount path, and whether it is read-only. This is the query the
Kubernetes docs suggest for reviewing host mounts, without its grep.

Examples:
  {cmd} mounts -A
  {cmd} mounts -f manifests/ -o json

Flags:
{flags}

Usage:
  {cmd} mounts [flags]
"""

NODES_HELP = """One row per node: its container runtime (status.nodeInfo.containerRuntimeVersion), the
kubelet version, and whether it still uses dockershim. Docker on kubelet 1.23 or older is dockershim,
which the removal breaks; from 1.24 Docker is only reachable through cri-dockerd, which is not
affected. kubeadm's kubeadm.alpha.kubernetes.io/cri-socket annotation is used as extra evidence.

Examples:
  {cmd} nodes
  {cmd} nodes -l node-role.kubernetes.io/worker -o wide

Flags:
{flags}

Usage:
  {cmd} nodes [flags]
"""

EXPLAIN_HELP = """Explain why a pod or workload depends on the Docker daemon: its owner chain, every finding
with its evidence, the agent it is (from the built-in catalogue of telemetry, logging and security
agents) and the steps to migrate that agent to containerd or CRI-O.

Examples:
  # A pod of the current namespace
  {cmd} explain datadog-agent-x7k2p

  # A workload: explains its pod template and lists its pods
  {cmd} explain ds/datadog -n monitoring
  {cmd} explain deployment gitlab-runner -n ci

  # Offline, from manifests or a cluster dump
  {cmd} explain daemonset/falco -f examples/

Flags:
{flags}

Usage:
  {cmd} explain (POD | TYPE/NAME | TYPE NAME) [flags]
"""

VERSION_HELP = """Print the plugin's version.

Flags:
{flags}

Usage:
  {cmd} version [flags]
"""


def _connection_flags(args, context: str | None = None) -> ConnectionFlags:
    from plugin.kubeconfig import ConnectionFlags

    if context is None and isinstance(args.context, str):
        context = args.context
    return ConnectionFlags(
        kubeconfig=args.kubeconfig, context=context, cluster=args.cluster, user=args.user,
        namespace=args.namespace, server=args.server, token=args.token, as_user=getattr(args, "as"),
        as_groups=tuple(args.as_group), as_uid=args.as_uid,
        certificate_authority=args.certificate_authority, client_certificate=args.client_certificate,
        client_key=args.client_key, insecure_skip_tls_verify=args.insecure_skip_tls_verify,
        tls_server_name=args.tls_server_name, request_timeout=args.request_timeout,
    )


# `-o` values of the commands with their own output flag (scan and mounts take every printer).
OUTPUT_FORMATS: dict[str, tuple[str, ...]] = {
    "nodes": ("json", "name", "wide", "yaml"),
    "explain": ("json", "yaml"),
    "version": ("json", "yaml"),
}


def _check_output(value: str, allowed: tuple[str, ...]) -> str:
    if value in ("", *allowed):
        return value
    raise UsageError(f'unable to match a printer suitable for the output format "{value}", '
                     f"allowed formats are: {','.join(allowed)}")


def cmd_scan(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse(argv, SCAN_FLAGS)
    if args.help:
        out.write(SCAN_HELP.format(cmd=command_name(), flags=render_flags(SCAN_FLAGS),
                                   findings=EXIT_FINDINGS, incomplete=EXIT_INCOMPLETE))
        return EXIT_OK
    return _report_command(args, out, err, listing=False)


def cmd_mounts(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse(argv, MOUNTS_FLAGS)
    if args.help:
        out.write(MOUNTS_HELP.format(cmd=command_name(), flags=render_flags(MOUNTS_FLAGS)))
        return EXIT_OK
    args.host_path, args.exit_code = [], False
    return _report_command(args, out, err, listing=True)


def _report_command(args, out: TextIO, err: TextIO, listing: bool) -> int:
    """`scan` and `mounts`: the same pipeline; `mounts` swaps the rules for its listing rule."""
    from plugin.printers import TABLE_FORMATS, PrintOptions, printer_for

    printer = printer_for(args.output)
    output = "" if args.output == "table" else args.output
    settings = _rule_settings(args)
    severities = _severities(args) if not listing else None
    if args.sort_by:
        _sorted(_empty_report(), args.sort_by)  # a bad expression is a usage error before any I/O
    if getattr(args, "summary", False) and output not in SUMMARY_FORMATS:
        raise UsageError(f'--summary prints a table, json or yaml, not "{output}"')  # before any I/O
    choice: dict = {}
    if listing:
        from plugin.mounts import LISTING_RULES

        choice = {"rules": LISTING_RULES, "identify": None}
    if args.filename:
        from plugin.kubeconfig import offline_namespace
        from plugin.pipeline import scan_files

        report, problems = scan_files(args.filename, settings, offline_namespace(_connection_flags(args)), **choice)
        for problem in problems:
            err.write(f"error: {terminal_text(problem)}\n")
        options = PrintOptions(no_headers=args.no_headers, show_namespace=True, show_sources=True, listing=listing)
        nothing = "No resources found"
    else:
        report = _scan_contexts(args, settings, choice, node_runtimes=output in ("wide", "json", "yaml"))
        several_namespaces = args.all_namespaces or "," in (args.namespace or "") or bool(report.contexts)
        options = PrintOptions(no_headers=args.no_headers, show_namespace=several_namespaces, listing=listing)
        nothing = ("No resources found" if report.namespace is None or report.contexts
                   else f"No resources found in {report.namespace} namespace.")
    if severities is not None:
        from plugin.report import filter_severities

        report = filter_severities(report, severities)
    if args.sort_by:
        report = _sorted(report, args.sort_by)
    for warning in report.warnings:
        err.write(f"Warning: {terminal_text(warning)}\n")
    if getattr(args, "summary", False):
        _print_summary(report, output, args.no_headers, out)
    else:
        printer(report, out, options)
    if not report.items and output in TABLE_FORMATS:
        err.write(terminal_text(nothing) + "\n")
    if not report.complete:
        return EXIT_INCOMPLETE
    if args.exit_code and report.items:
        return EXIT_FINDINGS
    return EXIT_OK


def _scan_contexts(args, settings: RuleSettings, choice: dict, node_runtimes: bool) -> Report:
    """One cluster, or several at once (--context repeated, --all-contexts): each context is
    scanned in its own thread; one that fails becomes a warning and an incomplete result, and
    the others are still reported, sorted by context so the output does not depend on timing."""
    from plugin.pipeline import scan_cluster

    def scan(context: str | None) -> Report:
        return scan_cluster(_connection_flags(args, context), settings, all_namespaces=args.all_namespaces,
                            label_selector=args.selector, field_selector=args.field_selector,
                            pods_only=getattr(args, "pods_only", False), node_runtimes=node_runtimes, **choice)

    contexts: list[str] = list(dict.fromkeys(args.context))
    if args.all_contexts:
        from plugin.kubeconfig import context_names

        contexts = context_names(_connection_flags(args))
        if not contexts:
            raise UsageError("--all-contexts: the kubeconfig has no contexts")
    if len(contexts) <= 1 and not args.all_contexts:
        return scan(contexts[0] if contexts else None)

    from concurrent.futures import ThreadPoolExecutor

    from plugin.models import Report as ReportType
    from plugin.report import merge_reports

    def scan_or_warn(context: str) -> Report:
        try:
            return scan(context)
        except PluginError as e:
            message = e.message.removeprefix("error: ")
            return ReportType(items=(), warnings=(f'context "{context}": {message}',), complete=False,
                              context=context)

    with ThreadPoolExecutor(max_workers=min(8, len(contexts))) as pool:
        reports = list(pool.map(scan_or_warn, contexts))
    return merge_reports(reports)


def _write_document(document: dict, output: str, out: TextIO) -> None:
    """A plain document as `-o json` (indented like kubectl's) or `-o yaml` (keys in order)."""
    if output == "json":
        from plugin.printers.json import dump_json

        dump_json(document, out)
    else:
        from plugin.printers.yaml import dump_yaml

        dump_yaml(document, out)


# Counts have no wider form: --summary -o wide (or name, sarif, ...) is refused.
SUMMARY_FORMATS = ("", "json", "yaml")


def _print_summary(report: Report, output: str, no_headers: bool, out: TextIO) -> None:
    from plugin.printers.summary import print_summary, summary_document

    if output in ("json", "yaml"):
        document = summary_document(report)
        _write_document(document, output, out)
    else:
        print_summary(report, out, no_headers)


def cmd_nodes(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse(argv, NODES_FLAGS)
    if args.help:
        out.write(NODES_HELP.format(cmd=command_name(), flags=render_flags(NODES_FLAGS)))
        return EXIT_OK
    output = _check_output(args.output, OUTPUT_FORMATS["nodes"])
    from plugin.nodes import list_node_runtimes

    context, nodes = list_node_runtimes(_connection_flags(args), args.selector)
    if output in ("json", "yaml"):
        from plugin.printers.nodes import nodes_document

        document = nodes_document(context, nodes)
        _write_document(document, output, out)
        return EXIT_OK
    from plugin.printers.nodes import print_nodes

    print_nodes(nodes, out, output, args.no_headers)
    if not nodes:
        err.write("No resources found\n")
    return EXIT_OK


def _empty_report() -> Report:
    from plugin.models import Report as ReportType

    return ReportType(items=())


def _sorted(report: Report, expression: str) -> Report:
    from plugin.report import sort_items

    try:
        return sort_items(report, expression)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _severities(args) -> tuple[str, ...]:
    from plugin.report import parse_severities

    try:
        return parse_severities(args.severity)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _rule_settings(args) -> RuleSettings:
    from plugin import paths
    from plugin.rules import RuleSettings

    return RuleSettings(extra_socket_paths=tuple(paths.canonical(p) for p in args.host_path))


def cmd_explain(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse(argv, EXPLAIN_FLAGS, positionals=2)
    if args.help:
        out.write(EXPLAIN_HELP.format(cmd=command_name(), flags=render_flags(EXPLAIN_FLAGS)))
        return EXIT_OK
    output = _check_output(args.output, OUTPUT_FORMATS["explain"])
    from plugin.explain import parse_target

    parse_target(args.args)  # usage errors before any I/O
    problems: list = []
    if args.filename:
        from plugin.kubeconfig import offline_namespace
        from plugin.pipeline import explain_files

        explanation, problems = explain_files(args.filename, _rule_settings(args),
                                              offline_namespace(_connection_flags(args)), args.args)
        for problem in problems:
            err.write(f"error: {terminal_text(problem)}\n")
    else:
        from plugin.pipeline import explain_cluster

        explanation = explain_cluster(_connection_flags(args), _rule_settings(args), args.args)
    from plugin.printers import describe

    if output:
        document = describe.explanation_document(explanation)
        _write_document(document, output, out)
    else:
        describe.print_explanation(explanation, out)
    return EXIT_INCOMPLETE if problems else EXIT_OK


def cmd_version(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse(argv, VERSION_FLAGS)
    if args.help:
        out.write(VERSION_HELP.format(cmd=command_name(), flags=render_flags(VERSION_FLAGS)))
        return EXIT_OK
    output = _check_output(args.output, OUTPUT_FORMATS["version"])
    if not output:
        out.write(f"kubectl-dockershim v{__version__}\n")
        return EXIT_OK
    import platform
    from importlib import metadata

    try:
        client = metadata.version("kubernetes")
    except metadata.PackageNotFoundError:
        client = "unknown"
    doc = {"version": f"v{__version__}", "python": platform.python_version(), "kubernetesClient": client}
    if output == "json":
        import json

        out.write(json.dumps(doc, indent=4) + "\n")
    else:
        out.write("".join(f"{k}: {v}\n" for k, v in doc.items()))
    return EXIT_OK


COMMANDS: dict[str, Callable[[list[str], TextIO, TextIO], int]] = {
    "scan": cmd_scan,
    "explain": cmd_explain,
    "mounts": cmd_mounts,
    "nodes": cmd_nodes,
    "version": cmd_version,
}


class CommandUsageError(UsageError):
    """A usage error inside one command: the hint names that command's help, as cobra does."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
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
        return cmd_version([], out, err)
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
        raise CommandUsageError(e.message, name) from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out, err = sys.stdout, sys.stderr
    try:
        return run(argv, out, err)
    except UsageError as e:
        where = f"{command_name()} {e.command}" if isinstance(e, CommandUsageError) else command_name()
        err.write(f"error: {terminal_message(e.message)}\n")
        if isinstance(e, UnknownCommandError) and e.suggestions:
            # cobra's layout; the typed word is not repeated, so nothing from it is printed raw.
            err.write("\nDid you mean this?\n" + "".join(f"\t{n}\n" for n in e.suggestions) + "\n")
        err.write(f"See '{where} --help' for usage.\n")
        return EXIT_ERROR
    except PluginError as e:
        err.write(f"{terminal_message(e.message)}\n")
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
