"""The scan's hand-written field readers agree with the queries they stand for.

`plugin.podspec.mentions_docker` and `plugin.podspec.host_path_volumes` run on every pod, so
they walk the spec by hand instead of evaluating `queries.CLIENT_WORDS` and
`queries.HOST_PATH_VOLUMES`; these tests hold each to its query (evaluated by jmespath's own
interpreter) on random documents shaped like pod specs and unlike them: missing, null and
mistyped fields, lists inside lists, containers that are a mapping."""

from __future__ import annotations

from typing import Any

import jmespath
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jmespath.visitor import TreeInterpreter

from plugin import podspec, queries
from plugin.podspec import HostPathVolume

SETTINGS = settings(max_examples=1500, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
INTERPRETER = TreeInterpreter()
KEYS = ("containers", "initContainers", "ephemeralContainers", "env", "name", "command", "args",
        "livenessProbe", "readinessProbe", "startupProbe", "exec", "volumes", "hostPath", "path", "type", "value")
WORDS = st.sampled_from(["", "x", "docker", "DOCKER_HOST", "run-docker.sh", "dockerd", "Docker", "d\u212aocker",
                         "DOC\u212aER", "sh", "/"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-1, 1), WORDS)
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)), max_leaves=40)


def interpreted(query: queries.Query, document: Any) -> Any:
    return INTERPRETER.visit(jmespath.compile(query.expression).parsed, document)


def said_docker_by_query(spec: dict) -> bool:
    words = interpreted(queries.CLIENT_WORDS, spec) or []
    return any(isinstance(w, str) and "docker" in w.lower() for w in words)


def host_path_volumes_by_query(spec: dict) -> tuple[HostPathVolume, ...]:
    found = interpreted(queries.HOST_PATH_VOLUMES, spec) or []
    return tuple(HostPathVolume(v["name"], v["path"], v["type"] if isinstance(v["type"], str) else None)
                 for v in found if isinstance(v.get("name"), str) and isinstance(v.get("path"), str) and v["path"])


@st.composite
def specs(draw: st.DrawFn) -> dict:
    """A spec whose container, env and volume fields are random documents, often well formed."""
    def container() -> st.SearchStrategy[Any]:
        env = st.lists(st.one_of(st.fixed_dictionaries({"name": WORDS}), documents), max_size=3)
        probe = st.one_of(documents, st.fixed_dictionaries({"exec": st.fixed_dictionaries({"command": documents})}))
        return st.one_of(documents, st.fixed_dictionaries({}, optional={
            "name": WORDS, "env": st.one_of(env, documents), "command": documents, "args": documents,
            "livenessProbe": probe, "readinessProbe": probe, "startupProbe": probe}))
    volume = st.one_of(documents, st.fixed_dictionaries({"name": WORDS}, optional={
        "hostPath": st.one_of(documents, st.fixed_dictionaries({"path": WORDS}, optional={"type": WORDS}))}))
    spec = draw(st.dictionaries(st.sampled_from(KEYS), documents, max_size=3))
    for key in ("containers", "initContainers", "ephemeralContainers"):
        if draw(st.booleans()):
            spec[key] = draw(st.one_of(st.lists(st.one_of(container(), st.lists(container(), max_size=2)),
                                                max_size=3), container()))
    if draw(st.booleans()):
        spec["volumes"] = draw(st.one_of(st.lists(volume, max_size=4), documents))
    return spec


@SETTINGS
@given(spec=specs())
def test_mentions_docker_is_the_client_words_query(spec: dict) -> None:
    assert podspec.mentions_docker(spec) is said_docker_by_query(spec)


@SETTINGS
@given(spec=specs())
def test_host_path_volumes_are_the_query_s(spec: dict) -> None:
    assert podspec.host_path_volumes(spec) == host_path_volumes_by_query(spec)


def test_the_readers_on_a_pod() -> None:
    spec = {"volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
                        {"name": "tmp", "emptyDir": {}}, {"name": "zero", "hostPath": 0},
                        {"name": "root", "hostPath": {"path": "/"}}],
            "containers": [{"name": "a", "env": [{"name": "HOME"}], "command": ["sleep"]},
                           {"name": "b", "livenessProbe": {"exec": {"command": ["sh", "-c", "docker ps"]}}}]}
    assert podspec.host_path_volumes(spec) == (HostPathVolume("sock", "/var/run/docker.sock", "Socket"),
                                               HostPathVolume("root", "/", None))
    assert podspec.mentions_docker(spec) is True
    assert podspec.mentions_docker({"containers": [{"command": [["docker"]]}]}) is False  # flattened once only
    assert podspec.mentions_docker({"containers": {"env": [{"name": "DOCKER_HOST"}]}}) is True
