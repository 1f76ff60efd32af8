#!/usr/bin/env python3
"""Build the krew release: one `.tar.gz` per platform and the `dockershim.yaml` manifest for them.

    python krew/build.py [--out DIR] [--wheels DIR] [--base-url URL] [--homepage URL] [--offline]

The archive holds the two launchers, LICENSE, the `plugin/` package and a `vendor/` folder with
the pure-Python part of the wheels pinned (with hashes) in krew/requirements.txt. Wheels are taken
from the cache folder (default build/wheels) and fetched with `pip download --require-hashes`
only when one is missing; every wheel is checked against its pinned sha256 before use. The build
is reproducible: entries sorted, fixed mtimes (SOURCE_DATE_EPOCH, else 1980-01-01), owner 0:0
with no names, normalized modes, gzip without name or time; the same checkout and wheels give
byte-identical archives. The manifest is rendered from krew/dockershim.yaml.in with the version
of plugin/__init__.py and the sha256 of the archives just written, so they cannot disagree; a copy
of deploy/cronjob.yaml gets the same URL and sha256.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import re
import string
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
KREW = ROOT / "krew"
REQUIREMENTS = KREW / "requirements.txt"
TEMPLATE = KREW / "dockershim.yaml.in"
CRONJOB = ROOT / "deploy" / "cronjob.yaml"
NODE_PROBE = ROOT / "deploy" / "node-probe.yaml"  # the same placeholders, filled in the same way
# The placeholders of deploy/cronjob.yaml that a release fills in.
CRONJOB_URL = "REPLACE-WITH-THE-RELEASE-ARCHIVE-URL"
CRONJOB_SHA256 = "REPLACE-WITH-ITS-SHA256"

PLUGIN_NAME = "dockershim"
BIN = "kubectl-dockershim"
LAUNCHERS = ("kubectl-dockershim", "kubectl_complete-dockershim")
# The same pure-Python payload serves every platform; one archive per platform keeps the
# release layout conventional and lets a platform diverge later without changing the manifest.
PLATFORMS = (("darwin", "amd64"), ("darwin", "arm64"), ("linux", "amd64"), ("linux", "arm64"))
# Top-level archive entries krew copies into the plugin's folder (the manifest's `files`).
INSTALLED = ("LICENSE", *LAUNCHERS, "plugin", "vendor")

# Placeholders until the project's public repository is decided: override them with the options.
DEFAULT_HOMEPAGE = "https://github.com/kubectl-dockershim/kubectl-dockershim"
DEFAULT_BASE_URL = DEFAULT_HOMEPAGE + "/releases/download/v{version}"

# 1980-01-01: the earliest time every archive format (zip included) can store.
DEFAULT_EPOCH = 315532800
# The plugin package as pyproject.toml installs it: code plus its data files.
PLUGIN_SUFFIXES = (".py", ".json", ".yaml")
# pip's target for the downloads: every pin must be installable on the lowest supported Python.
PIP_TARGET = ("--platform", "manylinux2014_x86_64", "--python-version", "3.10", "--implementation", "cp",
              "--abi", "cp310")
# What Python cannot import from plain files, or never needs here.
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll", ".c", ".h", ".pyx", ".pxd")
DROPPED_PREFIXES = (
    "kubernetes/aio/",  # the asyncio client: needs aiohttp, and the plugin never imports it
    "_yaml/",  # PyYAML's shim for its C extension, which is not shipped
)
# Kept from each wheel's .dist-info: the metadata `importlib.metadata.version()` reads, and licenses.
KEPT_METADATA = re.compile(r"^(METADATA|top_level\.txt|(licenses/.+)|((LICEN[CS]E|COPYING|NOTICE|AUTHORS)[^/]*))$",
                           re.IGNORECASE)
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")


class BuildError(Exception):
    """Something the person running the build must fix; printed without a traceback."""


@dataclass(frozen=True)
class Requirement:
    name: str
    version: str
    hashes: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One regular file of the archive."""

    path: str
    data: bytes
    mode: int


@dataclass(frozen=True)
class Artifact:
    os: str
    arch: str
    path: Path
    sha256: str
    uri: str


# --- inputs ----------------------------------------------------------------------------------


def plugin_version(root: Path = ROOT) -> str:
    """The version in plugin/__init__.py, checked against pyproject.toml and strict semver."""
    found = re.search(r'^__version__ = "([^"]+)"$', (root / "plugin" / "__init__.py").read_text(), re.M)
    if not found:
        raise BuildError("plugin/__init__.py sets no __version__")
    version = found.group(1)
    project = re.search(r'^\[project\][^\[]*?^version = "([^"]+)"', (root / "pyproject.toml").read_text(), re.M | re.S)
    if project and project.group(1) != version:
        raise BuildError(f"pyproject.toml says version {project.group(1)}, plugin/__init__.py says {version}")
    if not SEMVER.match(version):
        raise BuildError(f"version {version!r} is not strict semver (MAJOR.MINOR.PATCH)")
    return version


def read_requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    """`name==version --hash=sha256:...` lines, with backslash continuations and comments."""
    logical = re.sub(r"\\\n", " ", path.read_text())
    requirements = []
    for line in logical.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        name, eq, version = words[0].partition("==")
        hashes = tuple(w.split(":", 1)[1].lower() for w in words[1:] if w.startswith("--hash=sha256:"))
        if not eq or not hashes or len(hashes) != len(words) - 1:
            raise BuildError(f"{path.name}: every line must be NAME==VERSION --hash=sha256:HEX: {line.strip()}")
        requirements.append(Requirement(name, version, hashes))
    return requirements


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate_wheels(requirements: list[Requirement], cache: Path) -> dict[Requirement, Path]:
    """The cached wheel of each requirement, found by its pinned hash (file names are not trusted)."""
    by_hash: dict[str, Path] = {}
    if cache.is_dir():
        for wheel in sorted(cache.glob("*.whl")):
            by_hash.setdefault(sha256_of(wheel), wheel)
    found: dict[Requirement, Path] = {}
    for requirement in requirements:
        cached = next((by_hash[h] for h in requirement.hashes if h in by_hash), None)
        if cached is not None:
            found[requirement] = cached
    return found


def fetch_wheels(requirements: list[Requirement], cache: Path, offline: bool,
                 requirements_file: Path = REQUIREMENTS) -> dict[Requirement, Path]:
    found = locate_wheels(requirements, cache)
    missing = [r for r in requirements if r not in found]
    if missing and not offline:
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                   "--no-deps", "--only-binary=:all:", "--require-hashes", *PIP_TARGET,
                   "--dest", str(cache), "-r", str(requirements_file)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError("pip download failed:\n" + (result.stderr or result.stdout).strip())
        found = locate_wheels(requirements, cache)
        missing = [r for r in requirements if r not in found]
    if missing:
        names = ", ".join(f"{r.name}=={r.version}" for r in missing)
        raise BuildError(f"no wheel with the pinned hash in {cache} for: {names}"
                         + (" (--offline: run once without it to download them)" if offline else ""))
    return found


# --- payload ---------------------------------------------------------------------------------


def _safe(path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise BuildError(f"refusing an unsafe path in a wheel: {path!r}")
    return str(pure)


def vendored_name(name: str) -> str | None:
    """Where a wheel member goes under vendor/, or None when it is left out."""
    if name.endswith("/") or "/__pycache__/" in f"/{name}" or name.endswith(".pyc"):
        return None
    if name.endswith(COMPILED_SUFFIXES) or ".so." in name or name.startswith(DROPPED_PREFIXES):
        return None
    top, _, rest = name.partition("/")
    if top.endswith(".data"):
        return None  # scripts and headers meant for an installer, not importable code
    if top.endswith(".dist-info"):
        return name if KEPT_METADATA.match(rest) else None
    parts = name.split("/")
    if "tests" in parts[:-1] or "test" in parts[:-1]:
        return None
    leaf = parts[-1]
    if top == "kubernetes" and (leaf.endswith("_test.py") or leaf.startswith("test_")):
        return None
    return name


def wheel_entries(wheel: Path) -> Iterator[Entry]:
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            kept = vendored_name(_safe(member.filename) + ("/" if member.is_dir() else ""))
            if kept is not None:
                yield Entry(f"vendor/{kept}", archive.read(member), 0o644)


def plugin_entries(root: Path = ROOT) -> Iterator[Entry]:
    yield Entry("LICENSE", (root / "LICENSE").read_bytes(), 0o644)
    for launcher in LAUNCHERS:
        yield Entry(launcher, (root / launcher).read_bytes(), 0o755)
    package = root / "plugin"
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and path.suffix in PLUGIN_SUFFIXES and "__pycache__" not in path.parts:
            yield Entry(relative, path.read_bytes(), 0o644)


def payload(wheels: Iterable[Path], root: Path = ROOT) -> list[Entry]:
    """Every file of the archive, sorted; two sources writing one path is an error."""
    entries: dict[str, Entry] = {}
    sources = [plugin_entries(root), *(wheel_entries(w) for w in sorted(wheels))]
    for source in sources:
        for entry in source:
            if entry.path in entries:
                raise BuildError(f"two inputs provide {entry.path}")
            entries[entry.path] = entry
    compiled = [p for p in entries if p.endswith(COMPILED_SUFFIXES)]
    if compiled:
        raise BuildError(f"compiled files would enter the archive: {', '.join(compiled)}")
    return [entries[p] for p in sorted(entries)]


def archive_bytes(entries: list[Entry], epoch: int) -> bytes:
    """A .tar.gz of the entries with their parent directories, identical for identical input."""
    directories = sorted({str(parent) for e in entries for parent in PurePosixPath(e.path).parents
                          if str(parent) != "."})
    members: list[tuple[str, Entry | None]] = [(d, None) for d in directories]
    members += [(e.path, e) for e in entries]
    members.sort(key=lambda m: m[0])
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, entry in members:
            info = tarfile.TarInfo(path)
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if entry is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.mode, info.size = entry.mode, len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, compresslevel=9, mtime=0) as stream:
        stream.write(raw.getvalue())
    return compressed.getvalue()


# --- manifest --------------------------------------------------------------------------------


def archive_name(version: str, os_name: str, arch: str) -> str:
    return f"kubectl-dockershim_v{version}_{os_name}_{arch}.tar.gz"


def render_manifest(version: str, homepage: str, artifacts: list[Artifact], template: Path = TEMPLATE) -> str:
    files = "".join(f"    - from: {name}\n      to: .\n" for name in INSTALLED)
    platforms = "".join(
        f"  - selector:\n"
        f"      matchLabels:\n"
        f"        os: {a.os}\n"
        f"        arch: {a.arch}\n"
        f"    uri: {a.uri}\n"
        f"    sha256: {a.sha256}\n"
        f"    bin: {BIN}\n"
        f"    files:\n{files}"
        for a in artifacts)
    return string.Template(template.read_text()).substitute(
        name=PLUGIN_NAME, version=f"v{version}", homepage=homepage, platforms=platforms.rstrip("\n"))


def render_cronjob(version: str, artifact: Artifact, template: Path = CRONJOB) -> str:
    """deploy/cronjob.yaml with the archive's URL and sha256 in place of its placeholders."""
    text = template.read_text()
    if text.count(CRONJOB_URL) != 1 or text.count(CRONJOB_SHA256) != 1:
        raise BuildError(f"{template} must hold the placeholders {CRONJOB_URL} and {CRONJOB_SHA256} once each")
    header = (f"# Rendered by krew/build.py for v{version}: the archive below is the "
              f"{artifact.os}/{artifact.arch} one.\n")
    return header + text.replace(CRONJOB_URL, artifact.uri).replace(CRONJOB_SHA256, artifact.sha256)


# --- the build -------------------------------------------------------------------------------


def build(out: Path, wheels_dir: Path, base_url: str = DEFAULT_BASE_URL, homepage: str = DEFAULT_HOMEPAGE,
          offline: bool = False, epoch: int | None = None) -> tuple[Path, list[Artifact]]:
    """Write the archives, the manifest and the filled-in CronJob into `out`; returns (manifest path,
    artifacts)."""
    version = plugin_version()
    if epoch is None:
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    requirements = read_requirements()
    wheels = fetch_wheels(requirements, wheels_dir, offline)
    data = archive_bytes(payload(wheels.values()), epoch)
    digest = hashlib.sha256(data).hexdigest()
    out.mkdir(parents=True, exist_ok=True)
    url = base_url.format(version=version).rstrip("/")
    artifacts = []
    for os_name, arch in PLATFORMS:
        name = archive_name(version, os_name, arch)
        path = out / name
        path.write_bytes(data)
        artifacts.append(Artifact(os_name, arch, path, digest, f"{url}/{name}"))
    manifest = out / f"{PLUGIN_NAME}.yaml"
    manifest.write_text(render_manifest(version, homepage, artifacts))
    linux = next(a for a in artifacts if (a.os, a.arch) == ("linux", "amd64"))
    (out / "cronjob.yaml").write_text(render_cronjob(version, linux))
    (out / "node-probe.yaml").write_text(render_cronjob(version, linux, NODE_PROBE))
    return manifest, artifacts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the krew archives and manifest of kubectl-dockershim.")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "krew",
                        help="where the archives and dockershim.yaml go (default: build/krew)")
    parser.add_argument("--wheels", type=Path, default=ROOT / "build" / "wheels",
                        help="cache of the pinned wheels (default: build/wheels)")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL,
                        help="where the archives will be published; {version} is replaced "
                             f"(default: {DEFAULT_BASE_URL})")
    parser.add_argument("--homepage", default=DEFAULT_HOMEPAGE, help=f"the manifest's homepage (default: "
                                                                     f"{DEFAULT_HOMEPAGE})")
    parser.add_argument("--offline", action="store_true",
                        help="never run pip: fail if a pinned wheel is not in the cache")
    args = parser.parse_args(argv)
    try:
        manifest, artifacts = build(args.out, args.wheels, args.base_url, args.homepage, args.offline)
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for artifact in artifacts:
        print(f"{artifact.sha256}  {artifact.path}")
    print(f"manifest: {manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
