"""Hostile kubeconfigs and names, in process (issue 12, item 7): context fields of the wrong
type, and the namespace and name rules with kubectl's wording. Through the real binary: tests/e2e/test_hostile_server.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin.errors import ConfigError, PluginError
from plugin.kubeconfig import ConnectionFlags, load_connection
from plugin.validation import check_name, check_namespace, namespace_problems, path_segment_problems

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: a
clusters:
- name: shared
  cluster: &cluster {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: copy
  cluster: *cluster
users:
- name: u
  user: {token: abcdefgh}
contexts:
- name: a
  context: {cluster: shared, user: u, namespace: team-a}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("value", "kind"), [("123", "number"), ("1.5", "number"), ("true", "bool"),
                                             ("[a]", "array"), ("{a: b}", "object")])
def test_a_context_namespace_that_is_not_a_string(tmp_path: Path, value: str, kind: str) -> None:
    path = write(tmp_path, KUBECONFIG.replace("namespace: team-a", f"namespace: {value}"))
    with pytest.raises(ConfigError) as caught:
        load_connection(ConnectionFlags(kubeconfig=path), {})
    assert caught.value.message == (f'error: error loading config file "{path}": json: cannot unmarshal {kind} '
                                    "into Go struct field Context.contexts.context.namespace of type string")


def test_a_quoted_number_is_a_namespace(tmp_path: Path) -> None:
    path = write(tmp_path, KUBECONFIG.replace("namespace: team-a", 'namespace: "123"'))
    assert load_connection(ConnectionFlags(kubeconfig=path), {}).namespace == "123"


def test_the_context_namespace_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, KUBECONFIG.replace("namespace: team-a", 'namespace: ".."'))
    with pytest.raises(PluginError, match=r"""^invalid namespace "\.\.": \[may not be '\.\.'\]$"""):
        load_connection(ConnectionFlags(kubeconfig=path), {})
    # -n wins over the context's, and is checked the same way.
    assert load_connection(ConnectionFlags(kubeconfig=path, namespace="ok"), {}).namespace == "ok"
    with pytest.raises(PluginError, match="^invalid namespace"):
        load_connection(ConnectionFlags(kubeconfig=write(tmp_path, KUBECONFIG), namespace="ok,NO"), {})


# --- the rules, as apimachinery words them ----------------------------------------------------------


@pytest.mark.parametrize(("value", "problems"), [
    (".", ["may not be '.'"]),
    ("..", ["may not be '..'"]),
    ("a/b%c", ["may not contain '/'", "may not contain '%'"]),
    ("...", []),
    ("a.b", []),
    ("x" * 300, []),
])
def test_path_segments(value: str, problems: list[str]) -> None:
    assert path_segment_problems(value) == problems


@pytest.mark.parametrize("value", ["default", "kube-system", "a", "0", "a-1", "x" * 63])
def test_valid_namespaces(value: str) -> None:
    assert namespace_problems(value) == []
    assert check_namespace(value) == value


@pytest.mark.parametrize("value", ["A", "-a", "a-", "a.b", "a_b", "é", "", "x" * 64, "a\nb"])
def test_invalid_namespaces(value: str) -> None:
    assert namespace_problems(value)
    with pytest.raises(PluginError) as caught:
        check_namespace(value)
    assert "\n" not in caught.value.message


def test_two_problems_are_listed_as_go_lists_them() -> None:
    with pytest.raises(PluginError) as caught:
        check_name("a/%")
    assert caught.value.message == "error: invalid resource name \"a/%\": [may not contain '/' may not contain '%']"


def test_names_may_be_anything_that_is_one_segment() -> None:
    assert check_name("Foo_bar.baz") == "Foo_bar.baz"
