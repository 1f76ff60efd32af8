"""What the commands share between parsing and their pipeline: the parse that answers --help,
kubectl's connection flags as `ConnectionFlags`, the rules' settings, --severity, `-o` checks for
commands with few formats, and the json/yaml writer for the documents that are not reports
(explain, nodes, summary)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from plugin.commands import command_name
from plugin.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, UsageError
from plugin.flags import parse, render_flags

if TYPE_CHECKING:
    from plugin.flags import Flag
    from plugin.kubeconfig import ConnectionFlags
    from plugin.rules import RuleSettings


def parse_command(argv: list[str], flags: tuple[Flag, ...], help_text: str, out: TextIO,
                  positionals: int = 0) -> Any | None:
    """The parsed arguments of a command, or None once its --help is written to `out`. The help
    text's fields: {cmd} (how the plugin was called), {flags}, {findings} and {incomplete} (exit codes)."""
    args = parse(argv, flags, positionals)
    if not args.help:
        return args
    out.write(help_text.format(cmd=command_name(), flags=render_flags(flags), findings=EXIT_FINDINGS,
                               incomplete=EXIT_INCOMPLETE))
    return None


def severities_of(value: str | None) -> tuple[str, ...]:
    """--severity as the severities to show; a bad value is a usage error."""
    from plugin.report import parse_severities

    try:
        return parse_severities(value)
    except ValueError as err:
        raise UsageError(str(err)) from None


def connection_of(args: Any, context: str | None = None) -> ConnectionFlags:
    """The parsed connection flags; `context` overrides --context (one of several scanned)."""
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
        disable_compression=args.disable_compression,
    )


def rule_settings(args: Any) -> RuleSettings:
    from plugin import paths
    from plugin.rules import RuleSettings

    return RuleSettings(extra_socket_paths=tuple(paths.canonical(p) for p in args.host_path))


def check_output(value: str, allowed: tuple[str, ...]) -> str:
    """`value` if it is "" or one of `allowed`, else kubectl's message listing them."""
    if value in ("", *allowed):
        return value
    raise UsageError(f'unable to match a printer suitable for the output format "{value}", '
                     f"allowed formats are: {','.join(allowed)}")


def write_document(document: dict, output: str, out: TextIO) -> None:
    """A plain document as `-o json` (indented like kubectl's) or `-o yaml` (keys in order)."""
    if output == "json":
        from plugin.printers.json import dump_json

        dump_json(document, out)
    else:
        from plugin.printers.yaml import dump_yaml

        dump_yaml(document, out)
