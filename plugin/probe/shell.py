"""Does a line of shell (a cron entry, a unit's `ExecStart=`, a script's line) run the docker CLI
against a daemon, or name Docker's socket? The docker subcommands that need the daemon are the
rules' own (`plugin.rules.DOCKER_DAEMON_SUBCOMMANDS`), so the cluster and node sides agree; here
the word must be a command (first in a simple command, after `sudo`, `exec`, `env A=b`, ...: the
definition of `plugin.commandline`, which DS008 uses too), so `echo docker ps`, `du -sh
/var/lib/docker` and `crictl ps` are not taken for it.
"""

from __future__ import annotations

import re

from plugin.commandline import basename, command_word
from plugin.rules import DOCKER_DAEMON_SUBCOMMANDS, DOCKER_OPTIONS_WITH_VALUE

_SEPARATORS = re.compile(r"\|\||&&|[;|&\n`()]|\$\(")
DOCKER_SOCKET = re.compile(r"(?:/var)?/run/(?:docker|dockershim|cri-dockerd)\.sock|\bdocker\.sock\b")
COMPOSE = frozenset({"docker-compose"})


def docker_invocation(line: str) -> str | None:
    """`docker [options] SUBCOMMAND` (or `docker-compose ...`) as written in the line, or None."""
    code = line.split(" #", 1)[0]
    if code.lstrip().startswith("#"):
        return None
    for command in _SEPARATORS.split(code):
        words = [w.strip("\"'") for w in command.split()]
        start = command_word(words)
        if start is None:
            continue
        name = basename(words[start])
        if name in COMPOSE:
            return " ".join(words[start:start + 2])
        if name != "docker":
            continue
        j = start + 1
        while j < len(words) and words[j].startswith("-"):
            j += 2 if words[j] in DOCKER_OPTIONS_WITH_VALUE else 1
        if j < len(words) and words[j] in DOCKER_DAEMON_SUBCOMMANDS:
            return " ".join(words[start:j + 1])
    return None


def docker_socket(line: str) -> str | None:
    """The Docker socket a (non-comment) line names, or None."""
    if line.lstrip().startswith("#"):
        return None
    match = DOCKER_SOCKET.search(line)
    return match.group(0) if match else None


def called_scripts(line: str) -> list[str]:
    """Absolute paths a line runs or names as words (candidates for scripts it calls)."""
    paths = []
    for word in re.split(r"[\s;|&()`'\"=]+", line):
        if word.startswith("/") and len(word) > 1 and not word.startswith("/dev/"):
            paths.append(word)
    return paths
