"""A lean install: `pip install .` brings no compiled package that the plugin never imports.

Every kubernetes 36.x wheel declares aiohttp (compiled, with multidict, yarl, frozenlist and
propcache), which only `kubernetes.aio` needs; the plugin pins 35.0.0, which declares none of
them. This test installs the project for real into a fresh virtual environment, finds every
distribution there that carries compiled extension modules, runs the installed plugin (an
offline scan and a cluster connection) and checks that each such distribution is one the
plugin really imports. pip's own cache makes a second run quick.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXTENSIONS = (".so", ".pyd")
# The tooling every new environment has, whatever is installed into it.
BOOTSTRAP = {"pip", "setuptools", "wheel"}

# Run inside the fresh environment: the plugin's real work, then the top-level modules it loaded.
PROBE = r"""
import contextlib, io, json, sys
from plugin import cli
sink = io.StringIO()
with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
    cli.main(["scan", "-f", sys.argv[1], "-o", "json"])
    cli.main(["scan", "-A", "--server", "https://127.0.0.1:9", "--token", "t", "--request-timeout", "2s"])
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with the project installed as a user would: `pip install .`."""
    env = tmp_path_factory.mktemp("install") / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return python


def _distributions_with_extensions(python: Path) -> dict[str, list[str]]:
    """Each installed distribution that ships compiled modules, with its top-level import names."""
    script = r"""
import json
from importlib import metadata
found = {}
for dist in metadata.distributions():
    files = [str(f) for f in dist.files or ()]
    if any(f.endswith((".so", ".pyd")) for f in files):
        tops = sorted({f.split("/")[0].split(".")[0] for f in files
                       if f.endswith((".py", ".so", ".pyd")) and ".dist-info" not in f})
        found[dist.metadata["Name"].lower()] = tops
print(json.dumps(found))
"""
    out = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_the_install_brings_no_compiled_package_the_plugin_never_imports(installed: Path) -> None:
    compiled = {name: tops for name, tops in _distributions_with_extensions(installed).items()
                if name not in BOOTSTRAP}
    probe = subprocess.run([str(installed), "-c", PROBE, str(ROOT / "examples")], capture_output=True, text=True,
                           timeout=120, cwd=installed.parent)
    assert probe.returncode == 0, probe.stderr
    imported = set(json.loads(probe.stdout.splitlines()[-1]))
    never_imported = {name for name, tops in compiled.items() if not imported & set(tops)}
    assert never_imported == set(), f"compiled and never imported: {sorted(never_imported)}"
    # The distributions 36.x would have brought are not there at all.
    assert not {"aiohttp", "multidict", "yarl", "frozenlist", "propcache"} & set(compiled)


def test_the_installed_client_is_the_pinned_one(installed: Path) -> None:
    version = subprocess.run([str(installed), "-c", "from importlib import metadata; print(metadata.version('kubernetes'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    pins = (ROOT / "krew" / "requirements.txt").read_text()
    assert f"kubernetes=={version} " in pins  # the krew archive vendors the same client
    assert sys.version_info >= (3, 10)
