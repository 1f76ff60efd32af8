"""Hostile kubeconfigs and names, in process (issue 12, items 7 and 8): the YAML guard's limits
(an alias bomb refused, ordinary anchors kept), context fields of the wrong type, and the
namespace and name rules with kubectl's wording. Through the real binary: tests/e2e/test_hostile_server.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plugin import safe_yaml
from plugin.errors import ConfigError, PluginError
from plugin.kubeconfig import ConnectionFlags, context_names, load_connection
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


def bomb(levels: int, width: int = 10) -> str:
    lines = ['l0: &l0 ["lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_ordinary_anchors_are_kept() -> None:
    document = safe_yaml.load_document(KUBECONFIG)
    assert document["clusters"][1]["cluster"]["server"] == "https://127.0.0.1:6443"


def test_an_alias_bomb_is_refused_before_anything_is_built() -> None:
    with pytest.raises(safe_yaml.UnsafeYaml, match="^document contains excessive aliasing$"):
        safe_yaml.load_document(bomb(9))


def test_the_alias_limit_is_the_nodes_aliases_add() -> None:
    # bomb(4) adds 11,100 nodes by expansion, bomb(5) 111,100: one below the limit, one above.
    assert safe_yaml.load_document(bomb(4))["l4"][0][0][0][0] == ["lol"]
    with pytest.raises(safe_yaml.UnsafeYaml):
        safe_yaml.load_document(bomb(5))


def test_a_document_that_contains_itself_is_refused() -> None:
    with pytest.raises(safe_yaml.UnsafeYaml):
        safe_yaml.load_document("a: &a [*a]\n")


def test_deep_nesting_by_aliases_is_refused() -> None:
    # Past 1,000 levels, aliases add more nodes than allowed too; the depth limit on its own:
    text = "\n".join(["l0: &l0 [x]"] + [f"l{n}: &l{n} [*l{n - 1}]" for n in range(1, 30)])
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    assert safe_yaml.expansion_problem(node, max_depth=31) is None
    assert safe_yaml.expansion_problem(node, max_depth=30) == "exceeded max depth of 30"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config"
    path.write_text(text)
    return str(path)


def test_the_kubeconfig_guard_is_kubectls_error(tmp_path: Path) -> None:
    path = write(tmp_path, KUBECONFIG + "preferences:\n  extensions:\n" +
                 "".join("    " + line + "\n" for line in bomb(9).splitlines()))
    with pytest.raises(ConfigError) as caught:
        context_names(ConnectionFlags(kubeconfig=path), {})
    assert caught.value.message == f'error: error loading config file "{path}": yaml: document contains excessive aliasing'


def test_a_kubeconfig_too_big_for_any_real_one_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_yaml, "MAX_BYTES", len(KUBECONFIG) - 1)
    path = write(tmp_path, KUBECONFIG)
    with pytest.raises(ConfigError, match=r"larger than 0 MiB, not read$"):
        context_names(ConnectionFlags(kubeconfig=path), {})


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


def test_the_guard_parses_what_the_loader_would(tmp_path: Path) -> None:
    assert safe_yaml.load_document(KUBECONFIG) == yaml.safe_load(KUBECONFIG)
    assert safe_yaml.load_document("") is None


def test_a_scalar_python_cannot_hold_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, KUBECONFIG + "preferences: {colors: " + "9" * 5000 + "}\n")
    with pytest.raises(ConfigError) as caught:
        context_names(ConnectionFlags(kubeconfig=path), {})
    assert caught.value.message == f'error: error loading config file "{path}": yaml: ValueError'
