"""The compiled queries evaluate exactly as jmespath's own interpreter does.

`plugin.queries` turns each parsed expression into Python closures for speed; these tests hold
it to jmespath's `TreeInterpreter` on every query the plugin declares and on random expressions
built from the node types it compiles, over random documents shaped like (and unlike) pods."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jmespath.visitor import TreeInterpreter

from plugin import queries

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
INTERPRETER = TreeInterpreter()
DECLARED = sorted((name, value) for name, value in vars(queries).items() if isinstance(value, queries.Query))

KEYS = ("a", "b", "spec", "containers", "env", "name", "hostPath", "path", "type", "volumes")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False),
                    st.sampled_from(["", "x", "Ready", "docker", "True"]))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=25)


def interpreted(expression: str, document: Any) -> Any:
    return INTERPRETER.visit(jmespath.compile(expression).parsed, document)


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    """A random expression of the node types `compile_node` compiles (plus a comparator, which
    it leaves to the interpreter), nested up to four levels."""
    field = draw(st.sampled_from(KEYS))
    if depth >= 4:
        return field
    inner = expressions(depth + 1)
    shape = draw(st.integers(0, 10))
    if shape == 0:
        return field
    if shape == 1:
        return f"{draw(inner)}.{draw(inner)}"
    if shape == 2:
        return f"{draw(inner)}[*].{draw(inner)}"
    if shape == 3:
        return f"{draw(inner)}[]"
    if shape == 4:
        return f"{draw(inner)}[?{draw(inner)}].{draw(inner)}"
    if shape == 5:
        return f"[{draw(inner)}, {draw(inner)}]"
    if shape == 6:
        return f"{{first: {draw(inner)}, second: {draw(inner)}}}"
    if shape == 7:
        return f"{draw(inner)}[{draw(st.integers(-3, 3))}]"
    if shape == 8:
        return f"{draw(inner)} | {draw(inner)}"
    if shape == 9:
        return f"{draw(inner)}[?{field}=='x'].{draw(inner)}"
    return f"{draw(inner)} | @"


@pytest.mark.parametrize("name, query", DECLARED, ids=[name for name, _ in DECLARED])
@SETTINGS
@given(document=documents)
def test_every_declared_query_agrees_with_the_interpreter(name: str, query: queries.Query, document: Any) -> None:
    assert query.search(document) == interpreted(query.expression, document)
    # Wrapped where a pod keeps its spec, so the deeper paths are reached too.
    wrapped = {"spec": document, "metadata": document}
    assert query.search(wrapped) == interpreted(query.expression, wrapped)


@SETTINGS
@given(expression=expressions(), document=documents)
def test_random_expressions_agree_with_the_interpreter(expression: str, document: Any) -> None:
    assert queries.Query(expression).search(document) == interpreted(expression, document)


def test_queries_read_a_pod_as_kubectls_jsonpath_would() -> None:
    pod = {"metadata": {"name": "agent-x", "namespace": "monitoring"},
           "spec": {"nodeName": "n1", "volumes": [
               {"name": "sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
               {"name": "tmp", "emptyDir": {}},
               {"name": "root", "hostPath": {"path": "/"}}]}}
    assert queries.NAME.search(pod) == "agent-x"
    assert queries.NODE_NAME.search(pod) == "n1"
    assert queries.HOST_PATH_VOLUMES.search(pod["spec"]) == [
        {"name": "sock", "path": "/var/run/docker.sock", "type": "Socket"},
        {"name": "root", "path": "/", "type": None}]
    # Missing and mistyped levels read as None, never raise.
    assert queries.TEMPLATE_SPEC.search({"spec": ["not", "a", "mapping"]}) is None
    assert queries.HOST_PATH_VOLUMES.search({"volumes": "x"}) is None
