"""`scan`: every workload that depends on the Docker daemon, live or offline. Also the shared
report pipeline of `mounts`, which swaps the rules for its listing rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from plugin.commands.arguments import connection_of, parse_command, rule_settings, severities_of, write_document
from plugin.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, PluginError, UsageError
from plugin.flags import OUTPUT_FLAGS, SELECTION_FLAGS, Flag, connection_flags

if TYPE_CHECKING:
    from plugin.models import Report
    from plugin.rules import RuleSettings

OUTPUTS = None  # every printer: table, wide, json, yaml, name, sarif, markdown, jmespath=EXPR

SORT_BY_FLAG = Flag("--sort-by", "Sort by a field, as kubectl: a JSONPath into each json item (e.g. .owner.name, "
                    "{.namespace}) or namespace, owner, kind, severity (worst first), pods (count), agent, rule.",
                    metavar="FIELD")
READ_CONFIGMAPS_FLAG = Flag(
    "--read-configmaps", "Also read (one GET each) the ConfigMaps mounted by workloads with findings or by known "
    "log agents, for log shipper settings that expect Docker (rule DS009); needs get on configmaps. Offline "
    "scans always read the ConfigMaps of the input.", kind="bool")
NAMESPACES = connection_flags("The namespaces to scan: one, or a comma-separated list (default: the context's "
                              "namespace, else default); with -f, where objects that name none are placed.",
                              several_contexts=True)

FLAGS: tuple[Flag, ...] = SELECTION_FLAGS + OUTPUT_FLAGS + (SORT_BY_FLAG,) + (
    Flag("--pods-only", "Scan running pods only, not the pod templates of workloads (idle CronJobs, "
         "Deployments at 0 replicas, DaemonSets without pods).", kind="bool"),
    Flag("--summary", "Print counts only: per rule, per agent and per namespace (table, json or yaml).",
         kind="bool"),
    Flag("--severity", "Show only findings of these severities: a comma list of high, medium, low, info, "
         "or all (default: high,medium,low; info findings are not Docker dependencies).", metavar="LIST"),
    Flag("--exit-code", f"Exit with code {EXIT_FINDINGS} when a Docker dependency of the shown severities is "
         "found (for CI).", kind="bool"),
    Flag("--host-path", "Also treat PATH as a Docker socket location (e.g. /var/vcap/sys/run/docker/"
         "docker.sock); repeatable.", kind="list", metavar="PATH"),
    READ_CONFIGMAPS_FLAG,
) + NAMESPACES

HELP = """List every workload whose pods depend on the Docker daemon on their node, one row per
workload: its owner, the agent it is, its pods, the worst severity and what it uses of Docker
(the socket or Windows named pipe, a directory that holds it, Docker's data, log or configuration
directory, also behind a PersistentVolumeClaim, DOCKER_HOST, the docker CLI, the node's own docker
through nsenter or chroot). Running pods and the pod templates of workloads are read; with -f,
manifests and dumps.

Examples:
  # Every namespace of the cluster
  {cmd} scan -A

  # Offline: a folder of manifests or a cluster dump, a row per finding
  {cmd} scan -f examples/ -o wide

  # helm template output (or any manifest) on stdin
  cat examples/manifests/falco.yaml | {cmd} scan -f -

  # Fail a CI job when a Docker dependency is found, worst first
  {cmd} scan -f examples/manifests/ --exit-code --sort-by severity

  # Counts per rule, agent and namespace, with info findings too
  {cmd} scan -f examples/ --summary --severity all

  # Also check the log shippers' ConfigMaps for Docker's log format (needs get on configmaps)
  {cmd} scan -A --read-configmaps

{flags}

Exit codes: 0 done, 1 error, {findings} Docker dependencies found (only with --exit-code),
{incomplete} incomplete (part of the input could not be read).

Usage:
  {cmd} scan [flags]
"""

# Counts have no wider form: --summary -o wide (or name, sarif, ...) is refused.
SUMMARY_FORMATS = ("", "json", "yaml")


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse_command(argv, FLAGS, HELP, out)
    if args is None:
        return EXIT_OK
    return report_command(args, out, err, listing=False)


def report_command(args: Any, out: TextIO, err: TextIO, listing: bool) -> int:
    """`scan` and `mounts`: the same pipeline; `mounts` swaps the rules for its listing rule."""
    from plugin.printers import TABLE_FORMATS, PrintOptions, printer_for
    from plugin.printers.escape import terminal_text

    printer = printer_for(args.output)
    output = "" if args.output == "table" else args.output
    settings = rule_settings(args)
    severities = severities_of(args.severity) if not listing else None
    if args.sort_by:
        from plugin.models import Report as ReportType

        _sorted(ReportType(items=()), args.sort_by)  # a bad expression is a usage error before any I/O
    if getattr(args, "summary", False) and output not in SUMMARY_FORMATS:
        raise UsageError(f'--summary prints a table, json or yaml, not "{output}"')
    choice: dict = {}
    if listing:
        from plugin.mounts import LISTING_RULES

        choice = {"rules": LISTING_RULES, "identify": None}
    if args.filename:
        from plugin.kubeconfig import offline_namespace
        from plugin.pipeline import scan_files

        report, problems = scan_files(args.filename, settings, offline_namespace(connection_of(args)), **choice)
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


def _scan_contexts(args: Any, settings: RuleSettings, choice: dict, node_runtimes: bool) -> Report:
    """One cluster, or several at once (--context repeated, --all-contexts): each context is
    scanned in its own thread; one that fails becomes a warning and an incomplete result, and
    the others are still reported, sorted by context so the output does not depend on timing."""
    from plugin.pipeline import scan_cluster

    def scan(context: str | None) -> Report:
        return scan_cluster(connection_of(args, context), settings, all_namespaces=args.all_namespaces,
                            label_selector=args.selector, field_selector=args.field_selector,
                            pods_only=getattr(args, "pods_only", False), node_runtimes=node_runtimes,
                            read_configmaps=getattr(args, "read_configmaps", False), **choice)

    contexts: list[str] = list(dict.fromkeys(args.context))
    if args.all_contexts:
        from plugin.kubeconfig import context_names

        contexts = context_names(connection_of(args))
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


def _print_summary(report: Report, output: str, no_headers: bool, out: TextIO) -> None:
    from plugin.printers.summary import print_summary, summary_document

    if output in ("json", "yaml"):
        write_document(summary_document(report), output, out)
    else:
        print_summary(report, out, no_headers)


def _sorted(report: Report, expression: str) -> Report:
    from plugin.report import sort_items

    try:
        return sort_items(report, expression)
    except ValueError as err:
        raise UsageError(str(err)) from None

