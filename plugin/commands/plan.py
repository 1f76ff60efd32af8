"""`plan`: per node pool, whether it can switch from Docker to containerd or CRI-O now, and what
blocks it. The stage is plugin.plan; this module parses, reads the cluster (or the files) through
plugin.pipeline and prints."""

from __future__ import annotations

from typing import TextIO

from plugin.commands.arguments import (
    check_output,
    connection_of,
    parse_command,
    rule_settings,
    severities_of,
    write_document,
)
from plugin.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, PluginError, UsageError
from plugin.flags import Flag, connection_flags

OUTPUTS = ("json", "markdown", "wide", "yaml")

FLAGS: tuple[Flag, ...] = (
    Flag("--all-namespaces", "Consider the workloads of every namespace (the default).", short="-A", kind="bool"),
    Flag("--selector", "Consider only the workloads (and pods) with these labels; nodes are never narrowed.",
         short="-l", metavar="SELECTOR"),
    Flag("--filename", "Plan offline from a cluster dump that includes the Nodes "
         "(kubectl get nodes,pods,deploy,... -A -o yaml); repeatable.", short="-f", kind="list", metavar="PATH"),
    Flag("--output", "Output format: wide, json, yaml or markdown (default: the table).", short="-o",
         metavar="FORMAT", default=""),
    Flag("--no-headers", "Print the tables without their header lines.", kind="bool"),
    Flag("--pool-label", "Group the nodes by this label instead of the well-known pool labels "
         "(e.g. kubernetes.io/hostname: a pool per node).", metavar="KEY"),
    Flag("--runtime", "The runtime the Docker pools switch to, whose migration steps are shown: containerd "
         "(default) or cri-o.", metavar="RUNTIME"),
    Flag("--probes", "Also block a pool on its hosts' own findings, from the node-probe DaemonSet "
         "(deploy/node-probe.yaml).", kind="bool"),
    Flag("--severity", "Findings of these severities block: a comma list of high, medium, low, info, or all "
         "(default: high,medium,low, as scan shows them).", metavar="LIST"),
    Flag("--exit-code", f"Exit with code {EXIT_FINDINGS} when a pool is blocked or broken (for CI).", kind="bool"),
    Flag("--host-path", "Also treat PATH as a Docker socket location; repeatable.", kind="list", metavar="PATH"),
    Flag("--read-configmaps", "Also read (one GET each) the ConfigMaps mounted by workloads with findings or by "
         "known log agents, so log shipper settings that expect Docker (DS009) block too; needs get on "
         "configmaps. Offline plans always read the ConfigMaps of the input.", kind="bool"),
) + connection_flags("Consider only the workloads of these namespaces (one, or a comma-separated list); nodes "
                     "are cluster-scoped and always all read. With -f, where objects that name none are placed.")

HELP = """Per node pool, whether it can switch from Docker to containerd or CRI-O now, and what blocks
it. Pools come from the well-known node labels (EKS, GKE, AKS, Karpenter, kOps, OpenShift machine
sets, Cluster API) or --pool-label; nodes without one form one group, shown as <none>. A pool is:
  ready      on Docker today, and nothing that runs or would run there depends on Docker
  blocked    on Docker, and workloads that run or would run there depend on Docker
  broken     already on containerd or CRI-O, yet a workload there still mounts or calls Docker
  migrated   on containerd or CRI-O, and nothing there needs Docker
A workload blocks a pool where its pods run, and where its template may be scheduled (nodeSelector,
required node affinity, taints and tolerations): an idle CronJob, a Deployment at zero or a
DaemonSet whose pods are elsewhere blocks the pools it would land on. Each blocker comes with the
catalogue's first migration step. Nodes are cluster-scoped: -n and -l only narrow the workloads.

Examples:
  # Every pool of the cluster, those that can switch now first
  {cmd} plan

  # A change ticket for the pools, with the steps for CRI-O
  {cmd} plan -o markdown --runtime cri-o > ticket.md

  # A pool per node (a cluster without pool labels), with the hosts' own findings
  {cmd} plan --pool-label kubernetes.io/hostname --probes

  # Offline, from a dump that includes the Nodes; fail when a pool is blocked or broken
  kubectl get nodes,pods,deploy,rs,ds,sts,jobs,cronjobs,rc -A -o yaml > dump.yaml
  {cmd} plan -f dump.yaml --exit-code

{flags}

Exit codes: 0 done, 1 error, {findings} a pool is blocked or broken (only with --exit-code),
{incomplete} incomplete (part of the input could not be read).

Usage:
  {cmd} plan [flags]
"""


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse_command(argv, FLAGS, HELP, out)
    if args is None:
        return EXIT_OK
    output = check_output(args.output, OUTPUTS)
    from plugin.plan import TARGET_RUNTIMES, build_plan
    from plugin.printers.escape import terminal_text
    from plugin.report import filter_severities

    runtime = (args.runtime or "containerd").lower()
    if runtime not in TARGET_RUNTIMES:
        raise UsageError(f'invalid --runtime "{args.runtime}": use containerd or cri-o')
    severities = severities_of(args.severity)
    if args.pool_label is not None and not args.pool_label.strip():
        raise UsageError("--pool-label needs a label key, e.g. kubernetes.io/hostname")
    every_namespace = args.all_namespaces or args.namespace is None
    namespaces = None if every_namespace else tuple(
        dict.fromkeys(n.strip() for n in args.namespace.split(",") if n.strip()))
    problems: list = []
    if args.filename:
        if args.probes:
            raise UsageError("--probes reads the node probes' logs from the cluster: it cannot be used with -f")
        if args.selector:
            raise UsageError("-l selects what the cluster lists: with -f, give only the files to consider")
        from plugin.kubeconfig import offline_namespace
        from plugin.pipeline import plan_files

        placed = namespaces[0] if namespaces else offline_namespace(connection_of(args))
        report, nodes, problems = plan_files(args.filename, rule_settings(args), placed)
        for problem in problems:
            err.write(f"error: {terminal_text(problem)}\n")
        if namespaces is not None:
            from dataclasses import replace

            report = replace(report, items=tuple(i for i in report.items if i.namespace in namespaces))
        if not nodes and not problems:
            raise PluginError("error: the input holds no Node: a plan needs the nodes of the cluster",
                              hint="dump them with the workloads: kubectl get nodes,pods,deploy,rs,ds,sts,jobs,"
                                   "cronjobs,rc -A -o yaml")
    else:
        from plugin.pipeline import plan_cluster

        report, nodes = plan_cluster(connection_of(args), rule_settings(args), all_namespaces=every_namespace,
                                     label_selector=args.selector, probes=args.probes,
                                     read_configmaps=args.read_configmaps)
    plan = build_plan(filter_severities(report, severities), nodes, pool_label=args.pool_label, runtime=runtime,
                      severities=severities, namespaces=namespaces, selector=args.selector, probes=args.probes)
    for warning in plan.warnings:
        err.write(f"Warning: {terminal_text(warning)}\n")
    if output in ("json", "yaml"):
        from plugin.printers.plan import plan_document

        write_document(plan_document(plan), output, out)
    elif output == "markdown":
        from plugin.printers.plan import print_plan_markdown

        print_plan_markdown(plan, out)
    else:
        from plugin.printers.plan import print_plan

        print_plan(plan, out, wide=output == "wide", no_headers=args.no_headers)
        if not plan.pools:
            err.write("No resources found\n")
    if not plan.complete or problems:
        return EXIT_INCOMPLETE
    if args.exit_code and not plan.can_switch:
        return EXIT_FINDINGS
    return EXIT_OK
