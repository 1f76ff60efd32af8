"""A container's command line read as a shell reads it: the simple commands of an argv and of the
scripts it hands to `sh -c` (quotes respected, so `echo "chroot /host docker ps"` is one `echo`),
the word of each that is its program (past assignments and wrappers: `sudo`, `exec`, `env A=b`),
and the commands that enter the node itself: `nsenter` into another process's namespaces and
`chroot` into a directory. Whether that process or directory is the node's is the rules' to
decide (they know the pod's hostPID and mounts); this module only parses.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
# A shell's short options that include -c (`-c`, `-ec`, `-xc`): the next word is a script.
SCRIPT_OPTION = re.compile(r"-[a-zA-Z]*c[a-zA-Z]*")
# What separates the simple commands of a script: `;`, `&&`, `||`, `|`, `&`, newlines, the brackets
# of subshells and command substitutions, backquotes.
_PUNCTUATION = ";&|()`\n"
_NAIVE_SEPARATORS = re.compile(r"&&|\|\||\$\(|[;|&\n()`]")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# Words that run the command after them: `sudo docker ps`, `timeout 60 docker pull x`.
_WRAPPERS = frozenset({"sudo", "exec", "nohup", "env", "nice", "ionice", "time", "command", "xargs", "chronic",
                       "setsid", "stdbuf", "flock", "timeout", "runuser", "su", "doas", "then", "do", "else",
                       "if", "while", "until", "!", "{", "watch", "tini", "dumb-init", "catatonit"})
# Wrappers whose first plain word is an argument (a duration, a lock file), not the command.
_WRAPPERS_WITH_ARGUMENT = frozenset({"timeout", "flock"})
# Wrapper options that take the next word as their value: `sudo -u root docker ps`, `nice -n 10 ...`.
_OPTIONS_WITH_VALUE = frozenset({"-u", "-g", "-n", "-c", "-s", "-k", "-w", "--user", "--group", "--signal"})
# nsenter's options that take the next word as their value (util-linux nsenter(1)); its namespace
# options take a file only when attached: `-m/proc/1/ns/mnt`, `--mount=/proc/1/ns/mnt`.
_NSENTER_VALUE_OPTIONS = frozenset({"-t", "--target", "-S", "--setuid", "-G", "--setgid", "-W", "--wdns"})
_NSENTER_MOUNT = ("-m", "--mount")
_NSENTER_ALL = frozenset({"-a", "--all"})
_CHROOT_VALUE_OPTIONS = frozenset({"--userspec", "--groups"})
# Nesting of `sh -c` inside `sh -c` read at most; deeper scripts are not read.
_MAX_DEPTH = 4


def basename(word: str) -> str:
    """The program a word names: `/usr/bin/docker` and `C:\\docker\\docker.exe` are `docker`."""
    name = word.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:-4].lower() if name.lower().endswith(".exe") else name


def command_word(words: list[str]) -> int | None:
    """Index of the word that is the command of a simple command, past assignments and wrappers."""
    index = 0
    expect_argument = False
    while index < len(words):
        word = words[index]
        if _ASSIGNMENT.match(word) or (word.startswith("-") and index > 0):
            index += 2 if word in _OPTIONS_WITH_VALUE else 1
            continue
        name = basename(word)
        if expect_argument:
            expect_argument = False
            index += 1
            continue
        if name in _WRAPPERS:
            expect_argument = name in _WRAPPERS_WITH_ARGUMENT
            index += 1
            continue
        return index
    return None


def script_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, each as its words with quotes removed. A `#` that
    starts a word comments out the rest of the line. A script the shell could not parse either
    (an unclosed quote) is split at the separators and spaces instead."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=_PUNCTUATION)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""  # handled below: shlex would swallow the newline that ends the comment
    try:
        tokens = list(lexer)
    except ValueError:
        return [[w.strip("\"'") for w in part.split()] for part in _NAIVE_SEPARATORS.split(script)]
    commands: list[list[str]] = [[]]
    in_comment = False
    for token in tokens:
        if token and all(c in _PUNCTUATION for c in token):
            in_comment = in_comment and "\n" not in token
            if not in_comment and commands[-1]:
                commands.append([])
            continue
        if in_comment or token.startswith("#"):
            in_comment = True
            continue
        commands[-1].append(token)
    return [c for c in commands if c]


def simple_commands(words: list[str], depth: int = 0) -> Iterator[list[str]]:
    """`words` as one simple command, then each command of a script that its program, a shell, runs
    with -c (recursively). A -c that starts the words counts too: the image's entrypoint is then
    the shell. When an outer script was already split into words, the words after -c are the
    inner script's: they are one command."""
    yield words
    if depth >= _MAX_DEPTH:
        return
    start = command_word(words)
    if start is None:
        return
    if basename(words[start]) in SHELLS:
        script_at = next((i for i in range(start + 1, len(words)) if SCRIPT_OPTION.fullmatch(words[i])), None)
    elif start == 0 and SCRIPT_OPTION.fullmatch(words[0]):
        script_at = 0
    else:
        return
    if script_at is None or script_at + 1 >= len(words):
        return
    script = words[script_at + 1:]
    if len(script) == 1:
        for command in script_commands(script[0]):
            yield from simple_commands(command, depth + 1)
    else:
        yield from simple_commands(script, depth + 1)


@dataclass(frozen=True)
class HostEntry:
    """A command that runs another command in other namespaces or another root: `nsenter -t 1 -m
    --` or `chroot /host`, with what decides whether that is the node."""

    program: str  # "nsenter" or "chroot"
    phrase: str  # the entering words, as written: "nsenter -t 1 -m -u -n -i"
    command: tuple[str, ...]  # the command it runs, with its arguments
    target: str | None = None  # nsenter: the process whose namespaces it enters (`-t 1`)
    joins_mount: bool = False  # nsenter: enters the target's mount namespace (`-m`, `--mount`, `-a`)
    mount_file: str | None = None  # nsenter: the mount namespace file (`--mount=/proc/1/ns/mnt`)
    root: str | None = None  # chroot: the new root directory


def host_entry(words: list[str]) -> HostEntry | None:
    """The `nsenter` or `chroot` that is the program of this simple command, or None."""
    start = command_word(words)
    if start is None:
        return None
    name = basename(words[start])
    if name == "nsenter":
        return _nsenter(words, start)
    if name == "chroot":
        return _chroot(words, start)
    return None


def _nsenter(words: list[str], start: int) -> HostEntry | None:
    target, joins_mount, mount_file = None, False, None
    i = start + 1
    while i < len(words) and words[i].startswith("-"):
        word = words[i]
        if word == "--":
            i += 1
            break
        name, has_value, value = word.partition("=")
        if name in ("-t", "--target"):
            target = value if has_value else (words[i + 1] if i + 1 < len(words) else None)
        elif word.startswith("-t") and not word.startswith("--"):
            target = word[2:]
        elif word in _NSENTER_MOUNT or word in _NSENTER_ALL:
            joins_mount = True
        elif name == "--mount" and has_value:
            mount_file = value
        elif word.startswith("-m") and not word.startswith("--"):
            mount_file = word[2:]
        i += 2 if word in _NSENTER_VALUE_OPTIONS else 1
    if i >= len(words):
        return None
    return HostEntry("nsenter", " ".join(words[start:i]), tuple(words[i:]), target=target,
                     joins_mount=joins_mount, mount_file=mount_file)


def _chroot(words: list[str], start: int) -> HostEntry | None:
    i = start + 1
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in _CHROOT_VALUE_OPTIONS else 1
    if i + 1 >= len(words):
        return None  # `chroot DIR` alone runs a shell: nothing to read
    return HostEntry("chroot", " ".join(words[start:i + 1]), tuple(words[i + 1:]), root=words[i])
