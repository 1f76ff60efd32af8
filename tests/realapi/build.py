"""Builds the real kube-apiserver and etcd from the Go module proxy, once per version.

The wrapper module in `kube/` requires `k8s.io/kubernetes` at a pinned release (and its staging
modules at the matching v0.x.y); etcd is the `go.etcd.io/etcd/server/v3` that the same release
pins, so the two always match. The binaries go to a cache folder outside the checkout, keyed by
the Kubernetes version and a digest of the wrapper module and build flags: a second run finds
them and starts in seconds. Go module and build caches live beside them, so a build never
touches the user's own Go caches, and removing the folder removes all of it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MODULE = Path(__file__).resolve().parent / "kube"
APISERVER_PACKAGE = "k8s.io/kubernetes/cmd/kube-apiserver"
ETCD_PACKAGE = "go.etcd.io/etcd/server/v3"
MIN_GO = (1, 26)


class BuildError(RuntimeError):
    """The real servers cannot be built here: says what is missing, never skipped silently."""


@dataclass(frozen=True)
class Binaries:
    kube_apiserver: Path
    etcd: Path
    kubernetes_version: str
    etcd_version: str


def _required_version(module: str) -> str:
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", (MODULE / "go.mod").read_text(), re.M)
    if not match:
        raise BuildError(f"{module} is not required in {MODULE / 'go.mod'}")
    return match.group(1)


def kubernetes_version() -> str:
    return _required_version("k8s.io/kubernetes")


def etcd_version() -> str:
    return _required_version(ETCD_PACKAGE)


def cache_root() -> Path:
    """`$KUBECTL_DOCKERSHIM_REALAPI_CACHE`, else `$XDG_CACHE_HOME` or ~/.cache, then kubectl-dockershim/realapi."""
    explicit = os.environ.get("KUBECTL_DOCKERSHIM_REALAPI_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kubectl-dockershim" / "realapi"


def go_binary(candidates: list[str | None] | None = None) -> str:
    """The first Go of `candidates` (default: `go` on PATH, then /usr/local/go/bin/go) that is new enough."""
    if candidates is None:
        candidates = [shutil.which("go"), "/usr/local/go/bin/go"]
    found = next((c for c in candidates if c and Path(c).exists()), None)
    if not found:
        raise BuildError("Go is needed to build kube-apiserver for tests/realapi, and none was found "
                         "(on PATH or /usr/local/go/bin): install Go 1.26 or later")
    out = subprocess.run([found, "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()
    parts = re.match(r"go(\d+)\.(\d+)", out)
    if not parts or (int(parts.group(1)), int(parts.group(2))) < MIN_GO:
        raise BuildError(f"{found} is {out}; Kubernetes {kubernetes_version()} needs Go "
                         f"{MIN_GO[0]}.{MIN_GO[1]} or later")
    return found


def _ldflags() -> str:
    version = kubernetes_version()
    major, minor = version.lstrip("v").split(".")[:2]
    # What the release build stamps (hack/lib/version.sh): /version and kubectl's skew check read it.
    stamp = "k8s.io/component-base/version"
    return " ".join(["-s", "-w", f"-X {stamp}.gitVersion={version}", f"-X {stamp}.gitMajor={major}",
                     f"-X {stamp}.gitMinor={minor}", f"-X {stamp}.gitTreeState=clean"])


def _commands(out: Path) -> list[list[str]]:
    return [["build", "-trimpath", "-o", str(out / "etcd"), ETCD_PACKAGE],
            ["build", "-trimpath", "-ldflags", _ldflags(), "-o", str(out / "kube-apiserver"), APISERVER_PACKAGE]]


def _digest() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update((MODULE / name).read_bytes())
    digest.update(repr(_commands(Path("OUT"))).encode())
    return digest.hexdigest()[:16]


def target_dir() -> Path:
    return cache_root() / kubernetes_version()


def _found() -> Binaries | None:
    folder = target_dir()
    stamp = folder / "BUILT"
    if not stamp.exists() or stamp.read_text().strip() != _digest():
        return None
    return Binaries(folder / "kube-apiserver", folder / "etcd", kubernetes_version(), etcd_version())


def _go_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "GOMODCACHE": str(root / "gomod"), "GOCACHE": str(root / "gocache"),
        "CGO_ENABLED": "0",  # static binaries, as the release builds them
        "GOTOOLCHAIN": "local",  # never download another toolchain: fail on a too-old Go instead
        "GOFLAGS": "-mod=readonly -buildvcs=false",
    })
    env.setdefault("GOPROXY", "https://proxy.golang.org")
    return env


def ensure_built(log: object = None) -> Binaries:
    """The binaries of this version, building them first if the cache does not hold them."""
    found = _found()
    if found:
        return found
    go = go_binary()
    root = cache_root()
    folder = target_dir()
    partial = folder.with_name(folder.name + "-build")
    partial.mkdir(parents=True, exist_ok=True)
    env = _go_env(root)
    stream = log if log is not None else sys.stderr
    for args in _commands(partial):
        started = time.monotonic()
        print(f"realapi: go {' '.join(args[:2])} {args[-1]} (cold: several minutes)", file=stream, flush=True)  # type: ignore[call-overload]
        done = subprocess.run([go, *args], cwd=MODULE, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"building {args[-1]} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        print(f"realapi: built {args[-1]} in {time.monotonic() - started:.0f}s", file=stream, flush=True)  # type: ignore[call-overload]
    (partial / "BUILT").write_text(_digest() + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    result = _found()
    assert result is not None
    return result


if __name__ == "__main__":
    print(ensure_built())
