"""Hostile names, namespaces and kubeconfigs, through the real kubectl (issue 12, items 7 and 8):
what would become another URL (`-n ..`, `explain pod ..`), a namespace of the wrong type, and
YAML alias bombs in a kubeconfig are refused before any request, with kubectl's own lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.apiserver import ApiServer
from tests.e2e.conftest import Plugin


def assert_one_clean_line(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr
    assert stderr == expected + "\n"


@pytest.fixture(scope="module")
def names_server() -> Iterator[ApiServer]:
    srv = ApiServer([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "build"}}]).start()
    yield srv
    srv.stop()


@pytest.fixture
def hostile(names_server: ApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    names_server.clear_requests()
    config = names_server.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="build")
    return Plugin(kubeconfig=config, bin_dir=plugin_bin, home=tmp_path)


# --- item 7: names and namespaces ---------------------------------------------------------------


@pytest.mark.parametrize(("namespace", "expected"), [
    ("..", "invalid namespace \"..\": [may not be '..']"),
    (".", "invalid namespace \".\": [may not be '.']"),
    ("a/b", "invalid namespace \"a/b\": [may not contain '/']"),
    ("a%2fb", "invalid namespace \"a%2fb\": [may not contain '%']"),
    ("Build", "invalid namespace \"Build\": [a lowercase RFC 1123 label must consist of lower case alphanumeric "
              "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
              "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')]"),
    ("a" * 64, f"invalid namespace \"{'a' * 64}\": [must be no more than 63 characters]"),
    ("build,..", "invalid namespace \"..\": [may not be '..']"),
])
def test_an_invalid_namespace_is_refused_before_any_request(hostile: Plugin, names_server: ApiServer,
                                                            namespace: str, expected: str) -> None:
    result = hostile.run("scan", "-n", namespace)
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, expected)
    assert names_server.requests == []


@pytest.mark.parametrize(("target", "expected"), [
    (["pod", ".."], "error: invalid resource name \"..\": [may not be '..']"),
    (["pod/."], "error: invalid resource name \".\": [may not be '.']"),
    (["ds", "a%2f.."], "error: invalid resource name \"a%2f..\": [may not contain '%']"),
])
def test_explain_refuses_a_name_that_is_not_one_path_segment(hostile: Plugin, names_server: ApiServer,
                                                             target: list[str], expected: str) -> None:
    result = hostile.run("explain", *target)
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, expected)
    assert names_server.requests == []


def edit_kubeconfig(plugin: Plugin, change) -> None:  # type: ignore[no-untyped-def]
    config = yaml.safe_load(Path(plugin.kubeconfig).read_text())
    change(config)
    Path(plugin.kubeconfig).write_text(yaml.safe_dump(config))


def test_the_context_namespace_is_validated_too(hostile: Plugin, names_server: ApiServer) -> None:
    edit_kubeconfig(hostile, lambda c: c["contexts"][0]["context"].update(namespace=".."))
    result = hostile.run("scan")
    assert (result.returncode, result.stdout) == (1, "")
    assert_one_clean_line(result.stderr, "invalid namespace \"..\": [may not be '..']")
    assert names_server.requests == []


def test_a_context_namespace_that_is_a_number_is_an_error_not_default(hostile: Plugin,
                                                                      names_server: ApiServer) -> None:
    edit_kubeconfig(hostile, lambda c: c["contexts"][0]["context"].update(namespace=123))
    result = hostile.run("scan")
    assert (result.returncode, result.stdout) == (1, "")
    # kubectl's line for the same file.
    assert_one_clean_line(result.stderr, f'error: error loading config file "{hostile.kubeconfig}": json: cannot '
                                         "unmarshal number into Go struct field Context.contexts.context.namespace "
                                         "of type string")
    assert names_server.requests == []


# --- item 8: the kubeconfig's YAML guard ----------------------------------------------------------


def bomb_lines(indent: str, levels: int = 9, width: int = 9) -> str:
    """YAML anchors that, once expanded, hold width**levels (387 million) strings, in a few lines."""
    lines = [f'{indent}l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        lines.append(f"{indent}l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def bomb_kubeconfig(plugin: Plugin, server: ApiServer, *, in_extensions: bool) -> None:
    """The plugin's kubeconfig with a bomb under clusters[].cluster.extensions (and an exec plugin
    asking for the cluster's information, extensions included) or under users[].user.as-user-extra."""
    config = yaml.safe_load(Path(plugin.kubeconfig).read_text())
    ca = config["clusters"][0]["cluster"]["certificate-authority-data"]
    text = ("apiVersion: v1\nkind: Config\ncurrent-context: test\n"
            "contexts:\n- name: test\n  context: {cluster: test, user: test, namespace: build}\n"
            f"clusters:\n- name: test\n  cluster:\n    server: {server.url}\n"
            f"    certificate-authority-data: {ca}\n")
    if in_extensions:
        text += "    extensions:\n    - name: bomb\n      extension:\n" + bomb_lines(" " * 8)
        text += ("users:\n- name: test\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                 "      command: /bin/false\n      interactiveMode: Never\n      provideClusterInfo: true\n")
    else:
        text += "users:\n- name: test\n  user:\n    token: admin-token\n    as: someone\n    as-user-extra:\n"
        text += bomb_lines(" " * 6)
    Path(plugin.kubeconfig).write_text(text)
    yaml.safe_load(text)  # valid YAML, small as written (PyYAML shares what an alias names)


@pytest.mark.parametrize("in_extensions", [True, False], ids=["cluster-extensions", "as-user-extra"])
def test_a_kubeconfig_with_an_alias_bomb_is_refused_at_once(hostile: Plugin, names_server: ApiServer,
                                                            in_extensions: bool) -> None:
    bomb_kubeconfig(hostile, names_server, in_extensions=in_extensions)
    result = hostile.run("scan", timeout=30)
    assert (result.returncode, result.stdout) == (1, "")
    # kubectl's line for the same file.
    assert_one_clean_line(result.stderr, f'error: error loading config file "{hostile.kubeconfig}": yaml: document '
                                         "contains excessive aliasing")
    assert names_server.requests == []
