"""Command-line flags, parsed the way kubectl parses them.

kubectl hands every argument after `dockershim` to the plugin unparsed, so the plugin reads
kubectl's own connection flags (`--context`, `-n`, `--as`, ...) itself. Flags come from one
table that both builds the parser and renders `--help`, so the two cannot disagree. Booleans
accept kubectl's `--flag=true|false` form; abbreviations are refused, as kubectl refuses them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

from plugin.errors import UsageError


@dataclass(frozen=True)
class Flag:
    long: str
    help: str
    short: str | None = None
    kind: str = "str"  # "str", "bool" or "list" (repeatable)
    metavar: str = ""
    default: object = None
    connection: bool = False  # one of kubectl's connection flags: listed in their own block of --help

    @property
    def dest(self) -> str:
        return self.long.lstrip("-").replace("-", "_")


_CONNECTION_FLAGS = (
    Flag("--kubeconfig", "Path to the kubeconfig file to use (only that file).", metavar="FILE"),
    Flag("--context", "The name of the kubeconfig context to use."),
    Flag("--cluster", "The name of the kubeconfig cluster to use."),
    Flag("--user", "The name of the kubeconfig user to use."),
    Flag("--namespace", "The namespace (default: the context's namespace, else default).",
         short="-n", metavar="NAMESPACE"),
    Flag("--server", "The address and port of the Kubernetes API server.", short="-s", metavar="URL"),
    Flag("--token", "Bearer token for authentication to the API server."),
    Flag("--as", "Username to impersonate for the operation.", metavar="USER"),
    Flag("--as-group", "Group to impersonate for the operation; repeat for several groups.",
         kind="list", metavar="GROUP"),
    Flag("--as-uid", "UID to impersonate for the operation.", metavar="UID"),
    Flag("--certificate-authority", "Path to a cert file for the certificate authority.", metavar="FILE"),
    Flag("--client-certificate", "Path to a client certificate file for TLS.", metavar="FILE"),
    Flag("--client-key", "Path to a client key file for TLS.", metavar="FILE"),
    Flag("--insecure-skip-tls-verify", "Do not check the server's certificate (insecure).", kind="bool"),
    Flag("--tls-server-name", "Server name to use for certificate validation.", metavar="NAME"),
    Flag("--request-timeout", "How long to wait for one request (e.g. 30s, 1m; 0 = no timeout).",
         metavar="DURATION"),
    Flag("--disable-compression", "Do not ask the server to compress its answers (gzip).", kind="bool"),
)

CONNECTION_FLAGS = tuple(replace(f, connection=True) for f in _CONNECTION_FLAGS)


def connection_flags(namespace_help: str | None = None, several_contexts: bool = False) -> tuple[Flag, ...]:
    """kubectl's connection flags as one command takes them: `-n` described for that command
    (None: the generic text), and for scan and mounts a repeatable --context and --all-contexts."""
    flags = []
    for flag in CONNECTION_FLAGS:
        if flag.long == "--namespace" and namespace_help:
            flag = replace(flag, help=namespace_help)
        if flag.long == "--context" and several_contexts:
            flag = replace(flag, help="The kubeconfig context to use; repeat it to scan several clusters at once.",
                           kind="list", metavar="CONTEXT")
        flags.append(flag)
    if several_contexts:
        flags.append(Flag("--all-contexts", "Scan every context of the kubeconfig, concurrently.", kind="bool",
                          connection=True))
    return tuple(flags)


# scan and mounts read several clusters at once: --context repeats, --all-contexts reads them all.
MULTI_CONTEXT_FLAGS = connection_flags(several_contexts=True)

SELECTION_FLAGS = (
    Flag("--all-namespaces", "Scan every namespace.", short="-A", kind="bool"),
    Flag("--selector", "Label selector for the pods (e.g. app=agent,tier!=web).", short="-l",
         metavar="SELECTOR"),
    Flag("--field-selector", "Field selector for the pods (e.g. spec.nodeName=node-1).",
         metavar="SELECTOR"),
    Flag("--filename", "Scan manifests offline instead of a cluster: a file, a folder (recursive) "
         "or - for stdin; repeatable.", short="-f", kind="list", metavar="PATH"),
)

OUTPUT_FLAGS = (
    Flag("--output", "Output format: table (default), wide, json, yaml, name, sarif, markdown or "
         "jmespath=EXPR.", short="-o",
         metavar="FORMAT", default=""),
    Flag("--no-headers", "Print the table without its header line.", kind="bool"),
)


class _Parser(argparse.ArgumentParser):
    """argparse, but every complaint becomes a kubectl-style UsageError instead of an exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith("argument "):
            # "argument -o/--output: expected one argument" -> "flag needs an argument: --output"
            name = message.split(":", 1)[0].split()[-1].split("/")[-1]
            if "expected one argument" in message:
                raise UsageError(f"flag needs an argument: {name}")
            raise UsageError(f"invalid argument for {name}: {message.split(':', 1)[1].strip()}")
        raise UsageError(message)


_TRUE = ("true", "1", "t", "yes")
_FALSE = ("false", "0", "f", "no")


def _bool_flags(flags: tuple[Flag, ...]) -> dict[str, Flag]:
    return {f.long: f for f in flags if f.kind == "bool"}


def _split_bool_values(argv: list[str], flags: tuple[Flag, ...]) -> tuple[list[str], dict[str, bool]]:
    """kubectl accepts `--all-namespaces=false`: strip such values before argparse sees them."""
    booleans = _bool_flags(flags)
    explicit: dict[str, bool] = {}
    out: list[str] = []
    for arg in argv:
        name, eq, value = arg.partition("=")
        if eq and name in booleans:
            if value.lower() in _TRUE:
                out.append(name)
            elif value.lower() in _FALSE:
                explicit[booleans[name].dest] = False
            else:
                raise UsageError(f'invalid argument "{value}" for "{name}" flag: '
                                 'strconv.ParseBool: parsing "{value}": invalid syntax'.replace("{value}", value))
        else:
            out.append(arg)
    return out, explicit


def parse(argv: list[str], flags: tuple[Flag, ...], positionals: int = 0) -> argparse.Namespace:
    """Parse `argv` against `flags`, allowing up to `positionals` arguments (in `args.args`)."""
    argv, explicit = _split_bool_values(argv, flags)
    parser = _Parser(add_help=False, allow_abbrev=False)
    for flag in flags:
        names = [n for n in (flag.short, flag.long) if n]
        if flag.kind == "bool":
            parser.add_argument(*names, dest=flag.dest, action="store_true", default=False)
        elif flag.kind == "list":
            parser.add_argument(*names, dest=flag.dest, action="append", default=[])
        else:
            parser.add_argument(*names, dest=flag.dest, default=flag.default)
    parser.add_argument("-h", "--help", dest="help", action="store_true", default=False)
    args, rest = parser.parse_known_args(argv)
    positional: list[str] = []
    for index, arg in enumerate(rest):
        if arg == "--":
            positional.extend(rest[index + 1:])
            break
        if arg.startswith("-") and arg != "-":
            raise UsageError(f"unknown flag: {arg.split('=', 1)[0]}" if arg.startswith("--")
                             else f"unknown shorthand flag: '{arg[1:2]}' in {arg}")
        positional.append(arg)
    if len(positional) > positionals:
        extra = positional[positionals]
        raise UsageError(f'unexpected argument "{extra}"')
    args.args = positional
    for dest, value in explicit.items():
        setattr(args, dest, value)
    return args


def render_flags(flags: tuple[Flag, ...]) -> str:
    """The flags of --help, aligned like kubectl's `Options:` block: the command's own flags, then
    kubectl's connection flags in a block of their own."""
    lines = []
    for flag in flags:
        head = f"{flag.short}, {flag.long}" if flag.short else f"    {flag.long}"
        if flag.kind != "bool":
            head += f" {flag.metavar or flag.dest.upper()}"
        lines.append((head, flag.help, flag.connection))
    width = max(len(h) for h, _, _ in lines) + 3
    own = [f"  {h.ljust(width)}{text}" for h, text, connection in lines if not connection]
    kubectl = [f"  {h.ljust(width)}{text}" for h, text, connection in lines if connection]
    blocks = ["Options:\n" + "\n".join(own)] if own else []
    if kubectl:
        blocks.append("Connection options (as kubectl's):\n" + "\n".join(kubectl))
    return "\n\n".join(blocks)
