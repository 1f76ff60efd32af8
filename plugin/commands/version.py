"""`version`: the plugin's version; with -o json|yaml also Python's and the Kubernetes client's."""

from __future__ import annotations

from typing import TextIO

from plugin import __version__
from plugin.commands.arguments import check_output, parse_command
from plugin.errors import EXIT_OK
from plugin.flags import Flag

OUTPUTS = ("json", "yaml")

FLAGS: tuple[Flag, ...] = (
    Flag("--output", "Output format: json or yaml (default: the version alone).", short="-o",
         metavar="FORMAT", default=""),
)

HELP = """Print the plugin's version.

Examples:
  {cmd} version
  {cmd} version -o json

{flags}

Usage:
  {cmd} version [flags]
"""


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = parse_command(argv, FLAGS, HELP, out)
    if args is None:
        return EXIT_OK
    output = check_output(args.output, OUTPUTS)
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
