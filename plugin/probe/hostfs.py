"""Read-only, bounded access to a host's files under a root directory (`/` on the node, `/host` in
the DaemonSet, a test tree). Paths are host paths (`/etc/crontab`); links are followed the way a
`chroot` into the root would follow them (an absolute target is inside the root), and a link that
climbs out of the root with `..`, or a chain of more than 40 links, is refused. Only regular files
are read (never a FIFO or a device, so a read cannot block), each up to a size limit, and walks
stop after a number of files; whatever is skipped becomes a warning, grouped by reason so a host
full of binaries yields a few lines, not thousands. Nothing is ever opened for writing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

MAX_LINK_HOPS = 40
# Paths named in a warning per reason; the rest are counted.
WARNING_EXAMPLES = 3


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 1024 * 1024  # a configuration or script larger than this is skipped
    walk_files: int = 20_000  # files one walk (of /etc, /opt, an agent's folder) looks at
    walk_depth: int = 12
    total_bytes: int = 128 * 1024 * 1024  # read by one probe in all, /proc aside


DEFAULT_LIMITS = Limits()


class SkipLog:
    """Skipped paths, by reason, turned into a few warning lines at the end."""

    def __init__(self) -> None:
        self._skipped: dict[str, list[str]] = {}
        self._counts: dict[str, int] = {}
        self.notes: list[str] = []  # one-off warnings, kept as they are

    def skip(self, reason: str, path: str) -> None:
        self._counts[reason] = self._counts.get(reason, 0) + 1
        examples = self._skipped.setdefault(reason, [])
        if len(examples) < WARNING_EXAMPLES:
            examples.append(path)

    def count(self, reason: str) -> int:
        return self._counts.get(reason, 0)

    def warnings(self) -> list[str]:
        lines = list(self.notes)
        for reason, examples in self._skipped.items():
            count = self._counts[reason]
            more = f" and {count - len(examples)} more" if count > len(examples) else ""
            lines.append(f"skipped {', '.join(examples)}{more}: {reason}")
        return lines


class HostRoot:
    """The host's files under `root`, read-only and bounded."""

    def __init__(self, root: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.root = os.path.realpath(root)  # the root itself may be a link
        self._prefix = self.root.rstrip("/")
        self.limits = limits
        self.log = SkipLog()
        self.bytes_read = 0
        # Resolved folders, so the files of one folder cost one lstat each: a probe reads the host
        # as it is at one moment, and folders are far fewer than files.
        self._folders: dict[str, str | None] = {}

    def real(self, host_path: str) -> str:
        """Where a host path is on this machine, without resolving anything (for /proc links)."""
        if host_path.startswith("/") and len(host_path) > 1:
            return self._prefix + host_path
        return self._prefix + "/" + host_path.lstrip("/") if host_path.strip("/") else self.root

    def resolve(self, host_path: str) -> str | None:
        """The host path with every link resolved inside the root, as a host path; None when it does
        not exist, or (with a warning) when a link leaves the root or links loop."""
        parts = [p for p in host_path.split("/") if p]
        if len(parts) > 1 and "." not in parts and ".." not in parts:
            folder = "/" + "/".join(parts[:-1])
            if folder not in self._folders:
                self._folders[folder] = self._resolve(folder, folder.split("/")[1:], [])
            resolved_folder = self._folders[folder]
            if resolved_folder is None:
                return None
            return self._resolve(host_path, [parts[-1]], [p for p in resolved_folder.split("/") if p])
        return self._resolve(host_path, parts, [])

    def _resolve(self, host_path: str, pending: list[str], done: list[str]) -> str | None:
        hops = 0
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if not done:
                    self.log.skip("a link leads out of the root", host_path)
                    return None
                done.pop()
                continue
            candidate = "/" + "/".join([*done, part])
            try:
                info = os.lstat(self.real(candidate))
            except OSError:
                return None
            if not stat.S_ISLNK(info.st_mode):
                done.append(part)
                continue
            hops += 1
            if hops > MAX_LINK_HOPS:
                self.log.skip("too many levels of links", host_path)
                return None
            try:
                target = os.readlink(self.real(candidate))
            except OSError:
                return None
            if target.startswith("/"):
                done = []
            pending = [p for p in target.split("/") if p] + pending
        return "/" + "/".join(done)

    def exists(self, host_path: str) -> bool:
        return self.resolve(host_path) is not None

    def is_dir(self, host_path: str) -> bool:
        resolved = self.resolve(host_path)
        return resolved is not None and os.path.isdir(self.real(resolved))

    def read_bytes(self, host_path: str, limit: int | None = None, *, truncate: bool = False,
                   quiet: bool = False) -> bytes | None:
        """A regular file's bytes, at most `limit` (default: the file limit); None when missing, not a
        regular file, or larger (with a warning unless `quiet`). `truncate` keeps the first `limit`
        bytes of a larger file instead (a /proc cmdline)."""
        limit = self.limits.file_bytes if limit is None else limit
        resolved = self.resolve(host_path)
        if resolved is None:
            return None
        real = self.real(resolved)
        try:
            info = os.lstat(real)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            if not quiet and not stat.S_ISDIR(info.st_mode):
                self.log.skip("not a regular file (a FIFO, socket or device)", host_path)
            return None
        if info.st_size > limit and not truncate:
            if not quiet:
                self.log.skip(f"larger than {limit} bytes", host_path)
            return None
        if self.bytes_read > self.limits.total_bytes:
            if not quiet:
                self.log.skip(f"over the probe's {self.limits.total_bytes}-byte budget", host_path)
            return None
        try:
            # O_NONBLOCK and O_NOFOLLOW: should the file have become a FIFO or a link since lstat,
            # the open neither blocks nor follows it.
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        except OSError:
            if not quiet:
                self.log.skip("cannot be opened", host_path)
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            chunks: list[bytes] = []
            size = 0
            while size <= limit:
                chunk = os.read(fd, min(65536, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError:
            if not quiet:
                self.log.skip("cannot be read", host_path)
            return None
        finally:
            os.close(fd)
        data = b"".join(chunks)
        self.bytes_read += len(data)
        if len(data) > limit:
            if truncate:
                return data[:limit]
            if not quiet:
                self.log.skip(f"larger than {limit} bytes", host_path)
            return None
        return data

    def read_text(self, host_path: str, limit: int | None = None, *, quiet: bool = False) -> str | None:
        """A text file's contents; a binary file (a NUL in its first 8 KiB) is skipped with a warning."""
        data = self.read_bytes(host_path, limit, quiet=quiet)
        if data is None:
            return None
        if b"\0" in data[:8192]:
            if not quiet:
                self.log.skip("binary", host_path)
            return None
        return data.decode("utf-8", "replace")

    def list_dir(self, host_path: str, limit: int | None = None) -> list[str]:
        """The names in a directory (links resolved inside the root), sorted; at most `limit`."""
        resolved = self.resolve(host_path)
        if resolved is None:
            return []
        limit = self.limits.walk_files if limit is None else limit
        names: list[str] = []
        try:
            with os.scandir(self.real(resolved)) as entries:
                for entry in entries:
                    if len(names) >= limit:
                        self.log.skip(f"more than {limit} entries, the rest not read", host_path)
                        break
                    names.append(entry.name)
        except OSError:
            return []
        return sorted(names)

    def walk(self, host_dir: str, max_files: int | None = None, skip_dirs: frozenset[str] = frozenset()
             ) -> Iterator[str]:
        """Host paths of the files (and links to files) under a directory, depth first, in name order,
        without entering linked directories; at most `max_files`, then a warning."""
        max_files = self.limits.walk_files if max_files is None else max_files
        resolved = self.resolve(host_dir)
        if resolved is None:
            return
        seen = 0
        stack: list[tuple[str, int]] = [(resolved, 0)]
        while stack:
            directory, depth = stack.pop()
            try:
                with os.scandir(self.real(directory)) as scan:
                    entries = sorted(scan, key=lambda e: e.name, reverse=True)
            except OSError:
                continue
            subdirs: list[tuple[str, int]] = []
            for entry in reversed(entries):
                path = directory.rstrip("/") + "/" + entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir:
                    if path in skip_dirs:
                        continue
                    if depth + 1 >= self.limits.walk_depth:
                        self.log.skip(f"deeper than {self.limits.walk_depth} levels", path)
                        continue
                    subdirs.append((path, depth + 1))
                    continue
                seen += 1
                if seen > max_files:
                    self.log.notes.append(f"stopped reading {host_dir} after {max_files} files")
                    return
                yield path
            stack.extend(reversed(subdirs))
