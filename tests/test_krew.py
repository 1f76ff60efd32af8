"""The krew release: `krew/build.py` output checked against krew's own validation rules, then
installed the way krew installs it and run through the real kubectl with an interpreter that
sees nothing but the standard library.

The build runs once per module (twice, to prove it reproducible). Its wheels come from
build/wheels; a checkout without them downloads the pinned, hash-checked wheels once with pip.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
import yaml

import plugin
from tests.apiserver import ApiServer
from tests.e2e import cluster
from tests.kubectl import kubectl_binary

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / "build" / "wheels"
PLATFORMS = {("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")}
# krew's rules (internal/index/validation): plugin names, sha256 form; semver.org's strict grammar.
SAFE_NAME = re.compile(r"^[\w-]+$")
SHA256 = re.compile(r"^[a-f0-9]{64}$")
STRICT_SEMVER = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$")


@dataclass(frozen=True)
class Release:
    out: Path
    manifest: dict
    manifest_text: str


def run_build(out: Path) -> Release:
    result = subprocess.run([sys.executable, str(ROOT / "krew" / "build.py"), "--out", str(out),
                             "--wheels", str(WHEELS)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    text = (out / "dockershim.yaml").read_text()
    return Release(out, yaml.safe_load(text), text)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    return run_build(tmp_path_factory.mktemp("krew"))


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory, release: Release) -> Release:
    return run_build(tmp_path_factory.mktemp("krew-again"))


def archives(release: Release) -> list[Path]:
    return [release.out / PurePosixPath(p["uri"]).name for p in release.manifest["spec"]["platforms"]]


# --- the manifest, by krew's rules -------------------------------------------------------


def test_manifest_header_name_and_version(release: Release) -> None:
    manifest = release.manifest
    assert manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert manifest["kind"] == "Plugin"
    name = manifest["metadata"]["name"]
    assert name == "dockershim" and SAFE_NAME.match(name)
    assert (release.out / f"{name}.yaml").exists()  # krew-index wants the file named after the plugin
    version = manifest["spec"]["version"]
    assert STRICT_SEMVER.match(version), version
    pyproject = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert pyproject is not None
    assert version == f"v{plugin.__version__}" == f"v{pyproject.group(1)}"


def test_manifest_documentation_fields(release: Release) -> None:
    spec = release.manifest["spec"]
    short = spec["shortDescription"]
    assert short and len(short) < 50 and not re.search(r"[\r\n]", short)
    description = spec["description"]
    assert "Docker" in description and "containerd" in description
    # krew asks for no command list: commands belong in --help.
    assert "kubectl dockershim" not in description and not re.search(r"^\s*[-*] ", description, re.M)
    caveats = spec["caveats"]
    assert "python3" in caveats and "3.10" in caveats and "kubectl_complete-dockershim" in caveats
    assert spec["homepage"].startswith("https://")
    assert set(spec) == {"version", "homepage", "shortDescription", "description", "caveats", "platforms"}


def test_platforms_are_distinct_os_arch_pairs_with_the_archives_sha256(release: Release) -> None:
    platforms = release.manifest["spec"]["platforms"]
    pairs = []
    for platform in platforms:
        selector = platform["selector"]
        assert set(selector) == {"matchLabels"} and set(selector["matchLabels"]) == {"os", "arch"}
        pairs.append((selector["matchLabels"]["os"], selector["matchLabels"]["arch"]))
        assert platform["bin"] == "kubectl-dockershim"
        assert SHA256.match(platform["sha256"])
        uri = platform["uri"]
        assert uri.startswith("https://") and uri.endswith(".tar.gz") and release.manifest["spec"]["version"] in uri
        archive = release.out / PurePosixPath(uri).name
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == platform["sha256"]
        assert platform["files"] and all(f["from"] and f["to"] == "." for f in platform["files"])
    # Selectors made only of exact os/arch labels overlap exactly when two pairs are equal.
    assert sorted(pairs) == sorted(PLATFORMS)
    assert len({p["uri"] for p in platforms}) == len(platforms)


# --- the archives ----------------------------------------------------------------------------


def members(archive: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def test_archive_content_modes_and_license(release: Release) -> None:
    for archive in archives(release):
        entries = members(archive)
        for name, info in entries.items():
            path = PurePosixPath(name)
            assert not path.is_absolute() and ".." not in path.parts
            assert info.isreg() or info.isdir(), f"{name}: krew extracts only files and folders"
            assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
            assert not name.endswith((".so", ".pyd", ".dylib", ".pyc")), f"compiled file {name}"
        for executable in ("kubectl-dockershim", "kubectl_complete-dockershim"):
            assert entries[executable].isreg() and entries[executable].mode == 0o755
        assert entries["LICENSE"].isreg() and entries["LICENSE"].mode == 0o644
        with tarfile.open(archive, "r:gz") as tar:
            license_file = tar.extractfile("LICENSE")
            assert license_file is not None and license_file.read() == (ROOT / "LICENSE").read_bytes()
        assert "Apache License" in (ROOT / "LICENSE").read_text()
        assert {"plugin/__init__.py", "plugin/cli.py", "plugin/completion.py", "plugin/agents.json"} <= set(entries)
        top = {PurePosixPath(n).parts[0] for n in entries}
        files_from = {f["from"] for f in release.manifest["spec"]["platforms"][0]["files"]}
        assert top == files_from == {"LICENSE", "kubectl-dockershim", "kubectl_complete-dockershim", "plugin", "vendor"}


def pinned() -> dict[str, str]:
    text = (ROOT / "krew" / "requirements.txt").read_text()
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_vendor_holds_exactly_the_pinned_pure_python_packages(release: Release) -> None:
    entries = members(archives(release)[0])
    dist_infos = {PurePosixPath(n).parts[1] for n in entries if n.startswith("vendor/") and n.endswith("/METADATA")}
    found = {}
    for dist_info in dist_infos:
        name, version = dist_info.removesuffix(".dist-info").rsplit("-", 1)
        found[name.lower().replace("_", "-")] = version
    assert found == pinned()
    assert found["kubernetes"] == "35.0.0"
    assert "vendor/yaml/__init__.py" in entries and not any(n.startswith("vendor/_yaml") for n in entries)
    assert not any(n.startswith("vendor/kubernetes/aio/") for n in entries)
    assert not any(re.search(r"/(tests?)/|_test\.py$", n) for n in entries if n.startswith("vendor/"))
    assert all(m.mode == 0o644 for n, m in entries.items() if m.isreg() and n.startswith(("vendor/", "plugin/")))


def test_build_is_reproducible(release: Release, rebuilt: Release) -> None:
    first = {p.name: p.read_bytes() for p in archives(release)}
    again = {p.name: p.read_bytes() for p in archives(rebuilt)}
    assert first == again
    assert release.manifest_text == rebuilt.manifest_text
    data = next(iter(first.values()))
    assert data[4:8] == b"\0\0\0\0" and not data[3] & 0x08  # gzip: no mtime, no file name
    with tarfile.open(archives(release)[0], "r:gz") as tar:
        names = tar.getnames()
        assert names == sorted(names)
        assert len({m.mtime for m in tar.getmembers()}) == 1


# --- installed the way krew installs it --------------------------------------------------------


def extract_like_krew(archive: Path, into: Path) -> None:
    """krew's extractTARGZ: folders and regular files only, each file with the archive's mode."""
    with tarfile.open(archive, "r:gz") as tar:
        for info in tar.getmembers():
            target = into / info.name
            if info.isdir():
                target.mkdir(parents=True, exist_ok=True, mode=info.mode)
                continue
            assert info.isreg(), info.name
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(info)
            assert source is not None
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, info.mode)
            with os.fdopen(fd, "wb") as stream:
                shutil.copyfileobj(source, stream)


def install_like_krew(release: Release, root: Path) -> Path:
    """Download (here: copy), extract, apply the manifest's `files`, link `bin` into krew's bin
    folder as kubectl-dockershim; returns that bin folder."""
    platform = next(p for p in release.manifest["spec"]["platforms"]
                    if p["selector"]["matchLabels"] == {"os": "linux", "arch": "amd64"})
    archive = release.out / PurePosixPath(platform["uri"]).name
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == platform["sha256"]
    extracted, store, bin_dir = root / "extract", root / "store" / "dockershim" / "v0", root / "bin"
    for folder in (extracted, store, bin_dir):
        folder.mkdir(parents=True)
    extract_like_krew(archive, extracted)
    for operation in platform["files"]:
        source = extracted / operation["from"]
        source.rename(store / (source.name if operation["to"] == "." else operation["to"]))
    (bin_dir / "kubectl-dockershim").symlink_to(store / platform["bin"])
    # What the caveats tell users to do for completion.
    (bin_dir / "kubectl_complete-dockershim").symlink_to("kubectl-dockershim")
    return bin_dir


@functools.cache
def interpreters() -> dict[str, str]:
    """The interpreter running the tests ("base"), and Python 3.10, the lowest supported, when it
    is installed somewhere usual and is not the base one."""
    found = {"base": getattr(sys, "_base_executable", sys.executable)}
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [*sorted(pyenv.glob("3.10*/bin/python3.10")), Path("/usr/bin/python3.10"),
                  Path(shutil.which("python3.10") or "/nonexistent")]
    if sys.version_info[:2] != (3, 10):
        for candidate in candidates:
            try:
                probe = subprocess.run([str(candidate), "-I", "-S", "-c", "import sys; print(sys.version_info[:2])"],
                                       capture_output=True, text=True, timeout=30)
            except OSError:
                continue
            if probe.returncode == 0 and probe.stdout.strip() == "(3, 10)":
                found["3.10"] = str(candidate)
                break
    return found


@pytest.fixture(scope="module")
def server() -> Iterator[ApiServer]:
    with ApiServer(cluster.objects(), tokens={"admin-token": "admin"}) as srv:
        yield srv


@dataclass
class Installed:
    env: dict[str, str]
    python: str
    home: Path

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([kubectl_binary(), *args], capture_output=True, text=True, env=self.env,
                              cwd=self.home, timeout=120)


@pytest.fixture(scope="module", params=["base", "3.10"])
def installed(request: pytest.FixtureRequest, release: Release, server: ApiServer,
              tmp_path_factory: pytest.TempPathFactory) -> Installed:
    found = interpreters()
    # The archive claims Python 3.10 and newer: that claim is tested, not skipped.
    assert request.param in found, "Python 3.10 is needed to test the lowest supported Python (pyenv install 3.10)"
    root = tmp_path_factory.mktemp(f"krew-root-{request.param}")
    bin_dir = install_like_krew(release, root)
    # `python3` on PATH is the chosen interpreter with -I -S: no site-packages of any kind, no
    # PYTHON* variables, no user site; the standard library and the archive are all there is.
    python_dir = root / "python"
    python_dir.mkdir()
    wrapper = python_dir / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec "{found[request.param]}" -I -S "$@"\n')
    wrapper.chmod(0o755)
    home = root / "home"
    home.mkdir()
    kubeconfig = server.write_kubeconfig(str(home / "kubeconfig"), token="admin-token", context="test",
                                         namespace="ci")
    env = {"PATH": f"{bin_dir}{os.pathsep}{python_dir}", "HOME": str(home), "KUBECONFIG": kubeconfig}
    return Installed(env, found[request.param], home)


def test_the_interpreter_is_isolated(installed: Installed) -> None:
    probe = subprocess.run(["python3", "-c", "import yaml"], capture_output=True, text=True, env=installed.env)
    assert probe.returncode == 1 and "No module named 'yaml'" in probe.stderr


def test_kubectl_runs_the_installed_plugin(installed: Installed) -> None:
    listed = installed.kubectl("plugin", "list")
    assert listed.returncode == 0, listed.stderr
    assert "kubectl-dockershim" in listed.stdout and "warning" not in listed.stderr.lower()

    version = installed.kubectl("dockershim", "version")
    assert (version.returncode, version.stderr) == (0, ""), version.stderr
    assert f"v{plugin.__version__}" in version.stdout
    document = json.loads(installed.kubectl("dockershim", "version", "-o", "json").stdout)
    assert document["kubernetesClient"] == pinned()["kubernetes"]
    python = subprocess.run([installed.python, "-c", "import platform; print(platform.python_version())"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert document["python"] == python


def test_scan_from_the_installed_archive(installed: Installed, server: ApiServer) -> None:
    server.clear_requests()
    result = installed.kubectl("dockershim", "scan", "-A")
    assert result.returncode == 0, result.stderr
    assert result.stderr == cluster.MISSING_OWNER_WARNING
    rows = cluster.table_rows(result.stdout)
    assert rows == cluster.EXPECTED_ROWS
    assert server.requests and {r.method for r in server.requests} == {"GET"}


def test_completion_from_the_installed_archive(installed: Installed, server: ApiServer) -> None:
    result = installed.kubectl("__complete", "dockershim", "explain", "-n", "monitoring", "datadog-")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["datadog-0x7k", "datadog-1x7k"]
    assert installed.kubectl("__complete", "dockershim", "sc").stdout.startswith("scan\t")



# --- the build's rules, without building -------------------------------------------------------


def load_build_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("krew_build", ROOT / "krew" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["krew_build"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def test_what_is_vendored_from_a_wheel() -> None:
    build = load_build_module()
    kept = ["yaml/__init__.py", "kubernetes/client/rest.py", "certifi/cacert.pem", "six.py",
            "kubernetes-35.0.0.dist-info/METADATA", "kubernetes-35.0.0.dist-info/licenses/LICENSE",
            "six-1.17.0.dist-info/LICENSE", "requests-2.34.2.dist-info/licenses/NOTICE"]
    dropped = ["yaml/_yaml.cpython-310-x86_64-linux-gnu.so", "_yaml/__init__.py", "kubernetes/aio/__init__.py",
               "kubernetes/config/kube_config_test.py", "kubernetes/dynamic/test_client.py", "certifi/tests/x.py",
               "jmespath-1.1.0.data/scripts/jp.py", "kubernetes-36.0.3.dist-info/RECORD",
               "kubernetes-36.0.3.dist-info/WHEEL", "pkg/__pycache__/m.cpython-311.pyc", "pkg/"]
    assert [n for n in kept if build.vendored_name(n) != n] == []
    assert [n for n in dropped if build.vendored_name(n) is not None] == []


def test_requirements_must_be_pinned_with_hashes(tmp_path: Path) -> None:
    build = load_build_module()
    assert {r.name for r in build.read_requirements()} == set(pinned())
    for line in ("kubernetes>=36\n", "kubernetes==36.0.3\n", "kubernetes==36.0.3 --hash=md5:00\n"):
        (tmp_path / "r.txt").write_text(line)
        with pytest.raises(build.BuildError):
            build.read_requirements(tmp_path / "r.txt")


def test_offline_build_without_the_wheels_says_what_is_missing(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "krew" / "build.py"), "--offline", "--out", str(tmp_path / "o"),
                             "--wheels", str(tmp_path / "empty")], capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: no wheel with the pinned hash") and "kubernetes==35.0.0" in result.stderr
    assert not (tmp_path / "o").exists()


def test_the_krew_readme_names_every_pin() -> None:
    readme = (ROOT / "krew" / "README.md").read_text()
    rows = {line for line in readme.splitlines() if line.startswith("| ")}
    for name, version in pinned().items():
        assert any(name in row and version in row for row in rows), f"{name} {version} is not in krew/README.md"
