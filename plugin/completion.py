"""Shell completion through kubectl: the `kubectl_complete-dockershim` executable.

kubectl (1.26+) completes a plugin by running `kubectl_complete-dockershim ARGS... WORD`, where
ARGS are the words typed after `dockershim` and WORD is the one being completed, and reads one
candidate per line (`candidate<TAB>description`), optionally followed by a `:<directive>` line
with cobra's directive bits. Commands, flags and `-o` values come from the CLI's own tables, so
completion cannot offer what the parser refuses; contexts come from the kubeconfig; namespaces
and the pod or workload names of `explain` come from the cluster. Only those cluster lookups
import the Kubernetes client. Completion never prints an error: whatever fails yields no
candidates, since anything written would land in the middle of the user's command line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugin.flags import Flag
    from plugin.kubeconfig import ConnectionFlags
    from plugin.resources import Resource

# cobra's ShellCompDirective bits.
DIRECTIVE_DEFAULT = 0  # the shell completes file names
DIRECTIVE_NO_SPACE = 2  # no space after the completed word (`deployments/`)
DIRECTIVE_NO_FILE_COMP = 4
DIRECTIVE_FILTER_FILE_EXT = 8  # the candidates are the file extensions to offer

# kubectl gives up on a completion lookup that hangs; so do we, unless --request-timeout says otherwise.
LOOKUP_TIMEOUT = "5s"
# One page is plenty for a completion menu, and keeps the lookup one request long.
LOOKUP_LIMIT = 500
MANIFEST_EXTENSIONS = ("json", "yaml", "yml")
# Flags whose value is a local file: the shell's own file completion is the right one.
FILE_FLAGS = ("--kubeconfig", "--certificate-authority", "--client-certificate", "--client-key")


@dataclass(frozen=True)
class Completion:
    candidates: tuple[str, ...]
    directive: int = DIRECTIVE_NO_FILE_COMP

    def render(self) -> str:
        """What kubectl reads: the candidates, one per line, then the directive line."""
        return "".join(f"{c}\n" for c in self.candidates) + f":{self.directive}\n"


NOTHING = Completion(())


@dataclass
class _Typed:
    """What the words typed so far say: flag values by dest, positionals, a flag awaiting its value."""

    values: dict[str, list[str]] = field(default_factory=dict)
    positionals: list[str] = field(default_factory=list)
    pending: Flag | None = None
    command: str = ""

    def last(self, dest: str) -> str | None:
        found = self.values.get(dest)
        return found[-1] if found else None


def command_flags(command: str) -> tuple[Flag, ...]:
    """The flags a command accepts: its module's `FLAGS` table, plus -h/--help."""
    from plugin import commands
    from plugin.flags import Flag

    table: tuple[Flag, ...] = commands.load(command).FLAGS if command in commands.NAMES else ()
    return table + (Flag("--help", f"Help for {command}.", short="-h", kind="bool"),)


def command_descriptions() -> dict[str, str]:
    """Each command's one-line description, as the main help lists it."""
    from plugin import cli

    described: dict[str, str] = {}
    for line in cli.MAIN_HELP.splitlines():
        name, _, text = line.strip().partition(" ")
        if name in cli.COMMANDS and line.startswith("  ") and text.strip():
            described.setdefault(name, text.strip())
    return {name: described.get(name, "") for name in cli.COMMANDS}


def complete(args: Sequence[str], word: str, environ: Mapping[str, str] | None = None) -> Completion:
    """Candidates for `word`, given the words typed before it (after `kubectl dockershim`)."""
    if not args:
        if word.startswith("-"):
            return _matching([("--help", "Help for kubectl dockershim."),
                              ("--version", "Print the plugin's version.")], word)
        return _matching(sorted(command_descriptions().items()), word)
    from plugin import cli

    command = args[0]
    if command not in cli.COMMANDS:
        return NOTHING
    flags = command_flags(command)
    typed = _read_typed(args[1:], flags)
    typed.command = command
    if typed.pending is not None:
        return _flag_values(typed.pending, word, "", typed, environ)
    if word.startswith("--") and "=" in word:
        name, _, value = word.partition("=")
        flag = next((f for f in flags if f.long == name), None)
        if flag is None or flag.kind == "bool":
            return NOTHING
        return _flag_values(flag, value, name + "=", typed, environ)
    if word.startswith("-") and "--" not in args[1:]:
        return _flag_names(flags, typed, word)
    if command == "explain":
        return _explain_target(typed, word, environ)
    return NOTHING


def _matching(pairs: Sequence[tuple[str, str]], word: str, directive: int = DIRECTIVE_NO_FILE_COMP) -> Completion:
    return Completion(tuple(f"{name}\t{text}" if text else name for name, text in pairs if name.startswith(word)),
                      directive)


def _read_typed(words: Sequence[str], flags: tuple[Flag, ...]) -> _Typed:
    """A forgiving reading of the words: unknown flags are skipped, nothing is ever refused."""
    by_long = {f.long: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    typed = _Typed()
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            typed.positionals.extend(words[index:])
            break
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            flag = by_long.get(name)
            inline: str | None = value if eq else None
        elif word.startswith("-") and len(word) > 1:
            flag = by_short.get(word[:2])
            inline = word[2:].removeprefix("=") if len(word) > 2 else None
        else:
            typed.positionals.append(word)
            continue
        if flag is None:
            continue
        if flag.kind == "bool":
            typed.values.setdefault(flag.dest, []).append(inline or "true")
        elif inline is not None:
            typed.values.setdefault(flag.dest, []).append(inline)
        elif index < len(words):
            typed.values.setdefault(flag.dest, []).append(words[index])
            index += 1
        else:
            typed.pending = flag
    return typed


def _flag_names(flags: tuple[Flag, ...], typed: _Typed, word: str) -> Completion:
    """cobra's rule: `-` offers long and short names, `--` long ones; a flag given once is not
    offered again unless it is repeatable."""
    pairs: list[tuple[str, str]] = []
    for flag in flags:
        if flag.dest in typed.values and flag.kind != "list":
            continue
        pairs.append((flag.long, flag.help))
        if flag.short and len(word) == 1:
            pairs.append((flag.short, flag.help))
    return _matching(pairs, word)


def _flag_values(flag: Flag, word: str, prefix: str, typed: _Typed,
                 environ: Mapping[str, str] | None) -> Completion:
    if flag.long == "--output":
        found = _prefixed(_output_formats(typed.command), word, prefix)
        if found.candidates and all(c.endswith("=") for c in found.candidates):
            return Completion(found.candidates, DIRECTIVE_NO_FILE_COMP | DIRECTIVE_NO_SPACE)
        return found
    if flag.long == "--filename":
        return Completion(MANIFEST_EXTENSIONS, DIRECTIVE_FILTER_FILE_EXT)
    if flag.long == "--pool-label":  # plan: the labels it knows, and a pool per node
        from plugin.plan import POOL_LABELS

        return _prefixed([*POOL_LABELS, "kubernetes.io/hostname"], word, prefix)
    if flag.long == "--runtime":
        from plugin.plan import TARGET_RUNTIMES

        return _prefixed(TARGET_RUNTIMES, word, prefix)
    if flag.long in FILE_FLAGS:
        return Completion((), DIRECTIVE_DEFAULT)
    if flag.long == "--context":
        from plugin.kubeconfig import context_names

        try:
            names = context_names(_connection_flags(typed), environ)
        except Exception:  # a broken kubeconfig: no candidates, and no message mid-line
            return NOTHING
        if flag.kind == "list":  # scan several contexts: do not offer one twice
            names = [n for n in names if n not in typed.values.get(flag.dest, ())]
        return _prefixed(names, word, prefix)
    if flag.long == "--namespace":
        from plugin.resources import NAMESPACES

        # `-n a,b` scans several namespaces: complete the last one.
        done, comma, last = word.rpartition(",")
        head = prefix + done + comma
        taken = set(done.split(",")) if comma else set()
        names = [n for n in _names(typed, NAMESPACES, environ, all_namespaces=True) if n not in taken]
        return _prefixed(names, last, head)
    return NOTHING


def _output_formats(command: str) -> list[str]:
    """The `-o` values of a command: its module's `OUTPUTS`, else (scan, mounts) every registered
    printer. `jmespath=EXPR` is offered as `jmespath=`, for the expression to follow."""
    from plugin import commands
    from plugin.printers import allowed_formats

    outputs = commands.load(command).OUTPUTS
    if outputs is not None:
        return list(outputs)
    return [f.split("=", 1)[0] + "=" if "=" in f else f for f in allowed_formats()]


def _prefixed(names: Sequence[str], word: str, prefix: str) -> Completion:
    return Completion(tuple(prefix + n for n in names if n.startswith(word)))


def _explain_target(typed: _Typed, word: str, environ: Mapping[str, str] | None) -> Completion:
    """`POD`, `TYPE/NAME` or `TYPE NAME`, completed the way kubectl completes `kubectl logs`."""
    from plugin.resources import PODS, WORKLOAD_RESOURCES, resource_for_type

    explainable = (PODS, *WORKLOAD_RESOURCES)
    if len(typed.positionals) == 1 and "/" not in typed.positionals[0]:
        resource = resource_for_type(typed.positionals[0])
        if resource is None or resource not in explainable:
            return NOTHING
        return _prefixed(_names(typed, resource, environ), word, "")
    if typed.positionals:
        return NOTHING
    if "/" in word:
        type_name, _, name = word.partition("/")
        resource = resource_for_type(type_name)
        if resource is None or resource not in explainable:
            return NOTHING
        return _prefixed(_names(typed, resource, environ), name, type_name + "/")
    pods = [n for n in _names(typed, PODS, environ) if n.startswith(word)]
    types = [f"{r.plural}/" for r in sorted(explainable, key=lambda r: r.plural) if r.plural.startswith(word)]
    # With no pod to offer, the menu holds only `TYPE/`: no space after it, the name comes next.
    directive = DIRECTIVE_NO_FILE_COMP | (0 if pods else DIRECTIVE_NO_SPACE)
    return Completion(tuple(pods + types), directive)


def _connection_flags(typed: _Typed) -> ConnectionFlags:
    from plugin.kubeconfig import ConnectionFlags

    return ConnectionFlags(
        kubeconfig=typed.last("kubeconfig"), context=typed.last("context"), cluster=typed.last("cluster"),
        user=typed.last("user"), namespace=typed.last("namespace"), server=typed.last("server"),
        token=typed.last("token"), as_user=typed.last("as"), as_groups=tuple(typed.values.get("as_group", ())),
        as_uid=typed.last("as_uid"), certificate_authority=typed.last("certificate_authority"),
        client_certificate=typed.last("client_certificate"), client_key=typed.last("client_key"),
        insecure_skip_tls_verify=(typed.last("insecure_skip_tls_verify") or "false").lower() in ("true", "1", "t"),
        tls_server_name=typed.last("tls_server_name"),
        request_timeout=typed.last("request_timeout") or LOOKUP_TIMEOUT,
    )


def _names(typed: _Typed, resource: Resource, environ: Mapping[str, str] | None, *,
           all_namespaces: bool = False) -> list[str]:
    """Sorted names of one page of `resource` in the namespace the typed flags select; [] on any failure."""
    try:
        from plugin.api import ApiClient, RetryPolicy
        from plugin.kubeconfig import load_connection

        connection = load_connection(_connection_flags(typed), environ)
        namespace = None if all_namespaces or not resource.namespaced else connection.namespace.split(",")[0]
        # One try only: Tab must not hang through the retry backoff of a failing server.
        page = next(iter(ApiClient(connection, retry=RetryPolicy(retries=0)).list_pages(
            resource, namespace, limit=LOOKUP_LIMIT)), [])
    except Exception:  # unreachable, forbidden, unauthenticated: nothing to offer
        return []
    names = {(item.get("metadata") or {}).get("name") for item in page}
    return sorted(n for n in names if isinstance(n, str) and n)


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args, word = (list(words[:-1]), words[-1]) if words else ([], "")
    try:
        with _stderr_silenced():
            result = complete(args, word)
    except Exception:
        result = NOTHING
    try:
        sys.stdout.write(result.render())
        sys.stdout.flush()
    except (BrokenPipeError, OSError):
        pass
    return 0


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """kubectl hands its own stderr to the completer, and that is the user's terminal: anything a
    library might print there (warnings, log records, an exec plugin's chatter) goes to /dev/null."""
    saved_stream, saved_fd = sys.stderr, None
    with open(os.devnull, "w") as devnull:
        try:
            saved_fd = os.dup(2)
            os.dup2(devnull.fileno(), 2)
        except OSError:
            pass
        sys.stderr = devnull
        try:
            yield
        finally:
            sys.stderr = saved_stream
            if saved_fd is not None:
                os.dup2(saved_fd, 2)
                os.close(saved_fd)


if __name__ == "__main__":
    sys.exit(main())
