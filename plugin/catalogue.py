"""The agent catalogue: which telemetry or security agent a pod spec runs, and whether it already
shows signs of working without Docker.

The facts live in `agents.json` next to this module (data, not code, so that adding an agent is
one JSON entry). `identify` matches container images against each agent's repository patterns,
ignoring the registry host, the tag and the digest, so a mirror or a private registry does not
hide a known agent. An agent run from a stock image (the plugin's own node probe, on
python:3.12-slim) is matched by the command it runs instead, which is as strong. Pod-name and label
hints are used only when neither matches and are marked as weak evidence. It then checks the
agent's machine-readable "migrated" signals (env vars, arguments, hostPaths, image versions) so
the report can say "already handled" rather than "will break". Everything here is pure apart
from reading the packaged JSON once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from plugin import paths

DATA_FILE = "agents.json"
DETECTS_RUNTIME = ("auto", "config", "none", "unsupported")
# What a migrated signal may look at. ConfigMap contents are deliberately absent: an offline
# scan of a pod spec cannot read them, so a signal there could never fire.
# `docker_host: elsewhere` is computed by the rules module (`docker_host_away_from_node`), so a
# migrated signal and the DS005 rule read DOCKER_HOST with one definition of "the node".
SIGNAL_KINDS = ("env", "arg_contains", "host_path", "min_version", "image_tag", "docker_host")
# A step may name the findings it answers by rule id; the ids are checked against the rules' registry
# by the tests (importing the rules here would make loading the catalogue pull in the rule engine).
# A tag is a rule id, optionally narrowed to one kind of its findings ("DS004:logs" for Docker's
# container-log directory, "DS004:data" for the rest of /var/lib/docker).
_RULE_ID = re.compile(r"DS\d{3}(?::[a-z]+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)")


class CatalogueError(ValueError):
    """agents.json does not have the shape this module expects (a packaging bug, not user input)."""


@dataclass(frozen=True)
class Signal:
    """One machine-checkable fact about a pod spec, e.g. env DD_CRI_SOCKET_PATH containing "containerd"."""

    kind: str  # one of SIGNAL_KINDS
    value: str  # env name, argument substring, host path, minimum version or tag glob
    value_contains: str | None = None  # env only: the value must contain this (case-insensitive)


@dataclass(frozen=True)
class Step:
    """One migration step and when it applies: to which findings (rule ids; none means whatever was
    found) and to which versions of the agent's image (`before`: only below that version or when the
    tag says no version; `since`: only from that version, read from the tag)."""

    text: str
    findings: tuple[str, ...] = ()  # rule ids or narrowed tags ("DS004:logs")
    before: str | None = None
    since: str | None = None

    def applies(self, rule_ids: Iterable[str], version: tuple[int, ...] | None) -> bool:
        if self.findings and not set(self.findings) & set(rule_ids):
            return False
        if self.since is not None:
            since = _version(self.since)
            if version is None or since is None or not _at_least(version, since):
                return False
        if self.before is not None:
            before = _version(self.before)
            if version is not None and before is not None and _at_least(version, before):
                return False
        return True


@dataclass(frozen=True)
class Source:
    """A vendor page, chart or manifest the entry was checked against, and the day it was read
    (None: kept from an earlier version of the catalogue, not re-read)."""

    url: str
    read: str | None


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    vendor: str
    detects_runtime: str  # "auto", "config", "none" or "unsupported"
    auto_since: str | None  # first version that finds containerd/CRI-O by itself, if known
    docker_uses: tuple[str, ...]
    migration_summary: str
    containerd_steps: tuple[Step, ...]
    crio_steps: tuple[Step, ...]
    docs: str
    images: tuple[str, ...] = ()
    # Regular expressions searched in a container's command and args, joined by spaces: the
    # program it runs, for an agent whose image says nothing (a stock python image).
    commands: tuple[re.Pattern[str], ...] = ()
    pod_name_hints: tuple[str, ...] = ()
    label_hints: tuple[tuple[str, str], ...] = ()
    migrated_signals: tuple[Signal, ...] = ()
    docker_env: tuple[Signal, ...] = ()
    docker_args: tuple[str, ...] = ()
    side_effects: tuple[Step, ...] = ()  # what changes for the people who use the agent's data
    sources: tuple[Source, ...] = ()

    @property
    def guidance(self) -> str:
        """Summary, every step and side effect as one text, for printers that show a single field."""
        steps = (*self.containerd_steps, *self.crio_steps, *self.side_effects)
        return "\n".join([self.migration_summary, *(s.text for s in steps)])


@dataclass(frozen=True)
class GenericGuidance:
    """Vendor-neutral advice for a workload no catalogue entry matches: steps per rule, the docker
    CLI's crictl equivalents, and the Kubernetes documentation page on migrating agents."""

    summary: str
    steps: tuple[Step, ...]
    cli_equivalents: tuple[tuple[str, str], ...]  # (docker subcommand, what to use instead)
    docs: str


@dataclass(frozen=True)
class AgentMatch:
    agent: Agent
    evidence: str  # "image gcr.io/datadoghq/agent:7.50.0", "command ..." or "pod name hint datadog-agent"
    container: str | None  # the container whose image or command matched; None for a hint
    strong: bool  # image or command match = True; name/label hint = False
    migrated: tuple[str, ...]  # migrated signals found, human-readable
    docker_signals: tuple[str, ...] = ()  # this agent's own signs of using Docker (env, args) found
    image: str | None = None  # the image that matched; None for a hint


# ---------------------------------------------------------------------------------------------
# Image references


def _split_image(image: str) -> tuple[str | None, str, str | None]:
    """(registry host or None, repository path, tag or None), following Docker's reference rules:
    the first segment is a host only if it has a dot or a port, or is `localhost`."""
    name = image.strip().split("@", 1)[0]
    host: str | None = None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, name = first.lower(), rest
    tag: str | None = None
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1:] or None
    path = name.lower().strip("/")
    # Docker Hub's official images are `library/NAME`; `docker:24` and `docker.io/library/docker:24`
    # are the same image and must compare equal.
    if path.startswith("library/"):
        path = path[len("library/"):]
    return host, path, tag


def image_repository(image: str) -> str:
    """Repository path without registry host, tag or digest: "gcr.io/datadoghq/agent:7.50.0" -> "datadoghq/agent"."""
    return _split_image(image)[1]


def image_tag(image: str) -> str | None:
    """The tag of an image reference, if it has one: "falcosecurity/falco:0.37.1" -> "0.37.1"."""
    return _split_image(image)[2]


def _segment_regex(pattern: str) -> str:
    # `*` stays inside one path segment, so `*/oneagent` cannot swallow a whole registry path.
    return "/".join(re.escape(part).replace(r"\*", "[^/]*") for part in pattern.split("/"))


@dataclass(frozen=True)
class _ImagePattern:
    """A compiled `images` entry. Three forms:
    `org/name` matches the repository path's trailing segments (any registry);
    `/name` matches the whole repository path (for one-segment names such as Docker Hub's `docker`);
    `host.tld/path` (first segment with a dot) also pins the registry host, `*` allowed in it."""

    source: str
    regex: re.Pattern[str]
    with_host: bool

    @classmethod
    def compile(cls, pattern: str) -> _ImagePattern:
        first = pattern.split("/", 1)[0]
        if pattern.startswith("/"):
            return cls(pattern, re.compile(_segment_regex(pattern[1:].lower())), False)
        if "." in first or ":" in first:
            return cls(pattern, re.compile(_segment_regex(pattern.lower())), True)
        return cls(pattern, re.compile(r"(?:.*/)?" + _segment_regex(pattern.lower())), False)

    def matches(self, host: str | None, path: str) -> bool:
        if self.with_host:
            return host is not None and self.regex.fullmatch(f"{host}/{path}") is not None
        return self.regex.fullmatch(path) is not None


def _version(text: str | None) -> tuple[int, ...] | None:
    """Leading dotted number of a tag or version ("7.50.0-jmx" -> (7, 50, 0)), None for "latest"."""
    if not text:
        return None
    found = _VERSION.match(text)
    return tuple(int(part) for part in found.group(1).split(".")) if found else None


def _at_least(version: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    width = max(len(version), len(minimum))
    return version + (0,) * (width - len(version)) >= minimum + (0,) * (width - len(minimum))


# ---------------------------------------------------------------------------------------------
# Loading agents.json


def _read_data() -> str:
    # importlib.resources also covers zipped installs; a plain folder on sys.path (the krew
    # archive) works with either, and the path fallback covers a module loaded outside its package.
    if __package__:
        try:
            return resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
        except (FileNotFoundError, ModuleNotFoundError):
            pass
    return Path(__file__).with_name(DATA_FILE).read_text(encoding="utf-8")


def _field(entry: dict[str, Any], key: str, kind: type, where: str, *, optional: bool = False) -> Any:
    value = entry.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise CatalogueError(f"{where}: {key!r} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _field(entry, key, list, where, optional=True) or []
    if not all(isinstance(v, str) and v for v in values):
        raise CatalogueError(f"{where}: {key!r} must be a list of non-empty strings")
    return tuple(values)


def _command_patterns(entry: dict[str, Any], key: str, where: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for value in _strings(entry, key, where):
        try:
            compiled.append(re.compile(value))
        except re.error as error:
            raise CatalogueError(f"{where}: {key} {value!r} is not a regular expression: {error}") from None
    return tuple(compiled)


def _step(raw: object, where: str) -> Step:
    if isinstance(raw, str) and raw:
        return Step(raw)
    if not isinstance(raw, dict) or set(raw) - {"text", "findings", "before", "since"}:
        raise CatalogueError(f"{where}: a step is a string or {{'text', 'findings', 'before', 'since'}}")
    text = _field(raw, "text", str, where)
    findings = _strings(raw, "findings", where)
    if not text or not all(_RULE_ID.fullmatch(f) for f in findings):
        raise CatalogueError(f"{where}: bad step {raw!r}")
    bounds = {key: _field(raw, key, str, where, optional=True) for key in ("before", "since")}
    if any(v is not None and _version(v) is None for v in bounds.values()):
        raise CatalogueError(f"{where}: before/since must be versions in {raw!r}")
    return Step(text, findings, bounds["before"], bounds["since"])


def _steps(entry: dict[str, Any], key: str, where: str) -> tuple[Step, ...]:
    return tuple(_step(raw, f"{where}.{key}") for raw in _field(entry, key, list, where, optional=True) or [])


def _sources(entry: dict[str, Any], where: str) -> tuple[Source, ...]:
    found = []
    for raw in _field(entry, "sources", list, where, optional=True) or []:
        url = raw.get("url") if isinstance(raw, dict) else None
        read = raw.get("read") if isinstance(raw, dict) else None
        if not isinstance(url, str) or not url.startswith("https://") \
                or not (read is None or (isinstance(read, str) and _DATE.fullmatch(read))):
            raise CatalogueError(f"{where}: a source is {{'url': 'https://...', 'read': 'YYYY-MM-DD' or null}}")
        found.append(Source(url, read))
    return tuple(found)


def _signal(raw: object, where: str, allowed: Iterable[str]) -> Signal:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: a signal must be an object")
    kinds = [k for k in SIGNAL_KINDS if k in raw]
    extra = set(raw) - set(SIGNAL_KINDS) - {"value_contains"}
    if len(kinds) != 1 or extra or kinds[0] not in allowed:
        raise CatalogueError(f"{where}: bad signal {raw!r}")
    kind = kinds[0]
    value = _field(raw, kind, str, where)
    contains = _field(raw, "value_contains", str, where, optional=True)
    if contains is not None and kind != "env":
        raise CatalogueError(f"{where}: value_contains only applies to env signals")
    if kind == "docker_host" and value != "elsewhere":
        raise CatalogueError(f"{where}: docker_host signals take the value 'elsewhere'")
    if kind == "min_version" and _version(value) is None:
        raise CatalogueError(f"{where}: min_version {value!r} is not a version")
    return Signal(kind, value, contains)


def _agent(raw: object, index: int) -> Agent:
    if not isinstance(raw, dict):
        raise CatalogueError(f"agents[{index}] must be an object")
    where = f"agents[{index}] ({raw.get('id', '?')})"
    detects = _field(raw, "detects_runtime", str, where)
    if detects not in DETECTS_RUNTIME:
        raise CatalogueError(f"{where}: detects_runtime must be one of {DETECTS_RUNTIME}")
    migration = _field(raw, "migration", dict, where)
    labels = []
    for hint in _field(raw, "label_hints", list, where, optional=True) or []:
        if not isinstance(hint, dict) or not isinstance(hint.get("key"), str) or not isinstance(hint.get("value"), str):
            raise CatalogueError(f"{where}: a label hint is {{'key': str, 'value': str}}")
        labels.append((hint["key"], hint["value"]))
    return Agent(
        id=_field(raw, "id", str, where),
        name=_field(raw, "name", str, where),
        vendor=_field(raw, "vendor", str, where),
        detects_runtime=detects,
        auto_since=_field(raw, "auto_since", str, where, optional=True),
        docker_uses=_strings(raw, "docker_uses", where),
        migration_summary=_field(migration, "summary", str, where + ".migration"),
        containerd_steps=_steps(migration, "containerd", where + ".migration"),
        crio_steps=_steps(migration, "crio", where + ".migration"),
        side_effects=_steps(migration, "side_effects", where + ".migration"),
        sources=_sources(raw, where),
        docs=_field(raw, "docs", str, where),
        images=_strings(raw, "images", where),
        commands=_command_patterns(raw, "commands", where),
        pod_name_hints=_strings(raw, "pod_name_hints", where),
        label_hints=tuple(labels),
        migrated_signals=tuple(_signal(s, where, SIGNAL_KINDS)
                               for s in _field(raw, "migrated_signals", list, where, optional=True) or []),
        docker_env=tuple(_signal(s, where, ("env",))
                         for s in _field(raw, "docker_env", list, where, optional=True) or []),
        docker_args=_strings(raw, "docker_args", where),
    )


@cache
def _document() -> dict[str, Any]:
    document = json.loads(_read_data())
    if not isinstance(document, dict) or document.get("version") != 1:
        raise CatalogueError(f"{DATA_FILE}: expected an object with version 1")
    return document


@cache
def load_catalogue() -> tuple[Agent, ...]:
    """Every agent of agents.json, in file order (which is also the order of precedence)."""
    raw_agents = _document().get("agents")
    if not isinstance(raw_agents, list):
        raise CatalogueError(f"{DATA_FILE}: 'agents' must be a list")
    agents = tuple(_agent(raw, i) for i, raw in enumerate(raw_agents))
    ids = [a.id for a in agents]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{DATA_FILE}: duplicate agent ids")
    return agents


@cache
def generic_guidance() -> GenericGuidance:
    """The advice for workloads of unknown images (the `generic` object of agents.json)."""
    raw = _field(_document(), "generic", dict, DATA_FILE)
    mapping = _field(raw, "cli_equivalents", dict, "generic")
    if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()):
        raise CatalogueError("generic.cli_equivalents maps docker subcommands to strings")
    return GenericGuidance(summary=_field(raw, "summary", str, "generic"), steps=_steps(raw, "steps", "generic"),
                           cli_equivalents=tuple(mapping.items()), docs=_field(raw, "docs", str, "generic"))


def image_version(image: str | None) -> tuple[int, ...] | None:
    """The version an image tag spells ("gcr.io/datadoghq/agent:7.50.3-jmx" -> (7, 50, 3)), None
    without a tag or for a tag such as "latest"."""
    return _version(image_tag(image)) if image else None


def applicable(steps: Iterable[Step], rule_ids: Iterable[str], image: str | None) -> tuple[Step, ...]:
    """The steps that apply to these findings and to the version of this image."""
    found, version = tuple(rule_ids), image_version(image)
    return tuple(s for s in steps if s.applies(found, version))


def version_note(agent: Agent, image: str | None) -> str | None:
    """What the image's version means for an agent that finds the runtime by itself from
    `auto_since`: "7.50.3 is newer than 7.27: ...", or why it does not yet; None otherwise."""
    if agent.detects_runtime != "auto" or not agent.auto_since:
        return None
    since, tag = agent.auto_since, image_tag(image) if image else None
    version, minimum = _version(tag), _version(since)
    if minimum is None:
        return None
    if version is None:
        return (f"the image tag ({tag or 'none'}) does not say its version: {agent.name} finds containerd "
                f"and CRI-O by itself from {since}; check the version it runs")
    if not _at_least(version, minimum):
        return (f"{tag} is older than {since}: upgrade to {since} or later and {agent.name} finds containerd "
                "and CRI-O by itself, or configure it as below")
    relation = f"{since} itself" if _at_least(minimum, version) else f"newer than {since}"
    return f"{tag} is {relation}: {agent.name} finds containerd and CRI-O by itself"


# `docker ps`, `/usr/bin/docker -H unix:///s logs x`, `sh -c 'docker top x'`: the subcommand after
# the global options (an option's value may follow it as the next word).
_DOCKER_WORD = re.compile(r"(?:^|[\s;&|(`'\"])(?:[\w./-]*/)?docker\s+"
                          r"(?:-{1,2}[\w-]+(?:=\S+|\s+[^-\s]\S*)?\s+)*([a-z]+)")


def cli_equivalents(evidence: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """For the docker commands named in findings' evidence ("docker ps -q", "sh -c 'docker logs x'"),
    what to run instead, in the order of the catalogue's mapping."""
    named = {m.group(1) for text in evidence for m in _DOCKER_WORD.finditer(text)}
    return tuple((command, instead) for command, instead in generic_guidance().cli_equivalents if command in named)


@cache
def extra_socket_paths() -> tuple[str, ...]:
    """Known non-default Docker socket locations (may hold `*` for one path segment)."""
    entries = _document().get("extra_socket_paths") or []
    return tuple(e["path"] if isinstance(e, dict) else e for e in entries)


@cache
def _patterns() -> tuple[tuple[Agent, tuple[_ImagePattern, ...]], ...]:
    return tuple((a, tuple(_ImagePattern.compile(p) for p in a.images)) for a in load_catalogue())


def agent_by_id(agent_id: str) -> Agent | None:
    return next((a for a in load_catalogue() if a.id == agent_id), None)


def match_image(image: str) -> Agent | None:
    """The first catalogue agent whose image patterns match this image reference, or None."""
    host, path, _ = _split_image(image)
    if not path:
        return None
    for agent, patterns in _patterns():
        if any(p.matches(host, path) for p in patterns):
            return agent
    return None


# ---------------------------------------------------------------------------------------------
# Reading a pod spec (tolerant: anything missing, null or mistyped is skipped)


@dataclass(frozen=True)
class _Container:
    name: str | None
    image: str | None
    arguments: tuple[str, ...]  # command then args
    env: tuple[tuple[str, str | None], ...]  # (name, value); value None when it comes from valueFrom


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _containers(pod_spec: dict[str, Any]) -> list[_Container]:
    found = []
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in _list(pod_spec.get(key)):
            if not isinstance(c, dict):
                continue
            arguments = tuple(str(a) for a in _list(c.get("command")) + _list(c.get("args"))
                              if isinstance(a, (str, int, float)))
            env = tuple(
                (e["name"], e["value"] if isinstance(e.get("value"), str) else None)
                for e in _list(c.get("env")) if isinstance(e, dict) and isinstance(e.get("name"), str)
            )
            found.append(_Container(
                name=c["name"] if isinstance(c.get("name"), str) else None,
                image=c["image"] if isinstance(c.get("image"), str) else None,
                arguments=arguments, env=env,
            ))
    return found


def _host_paths(pod_spec: dict[str, Any]) -> list[str]:
    return [v["hostPath"]["path"] for v in _list(pod_spec.get("volumes"))
            if isinstance(v, dict) and isinstance(v.get("hostPath"), dict)
            and isinstance(v["hostPath"].get("path"), str) and v["hostPath"]["path"]]


# ---------------------------------------------------------------------------------------------
# Signals


def _env_hits(signal: Signal, containers: list[_Container]) -> Iterator[str]:
    for c in containers:
        for name, value in c.env:
            if name != signal.value:
                continue
            if signal.value_contains is None:
                yield f"env {name}={value}" if value is not None else f"env {name} (from valueFrom)"
            elif value is not None and signal.value_contains.lower() in value.lower():
                yield f"env {name}={value}"


def _arg_hits(needle: str, containers: list[_Container]) -> Iterator[str]:
    for c in containers:
        items = c.arguments
        for i, arg in enumerate(items):
            if needle in arg:
                # Show a flag with its separate value (`--cri /run/...`), as a reader would type it.
                if arg.startswith("-") and "=" not in arg and i + 1 < len(items) and not items[i + 1].startswith("-"):
                    yield f"arg {arg} {items[i + 1]}"
                else:
                    yield f"arg {arg}"
                break
        else:
            if needle in " ".join(items):
                yield f"arg {needle}"


def _signal_hits(signal: Signal, agent: Agent, containers: list[_Container], host_paths: list[str],
                 matched: _Container | None, spec: dict[str, Any]) -> Iterator[str]:
    if signal.kind == "docker_host":
        from plugin.podspec import PodSpecView
        from plugin.rules import docker_host_away_from_node

        yield from docker_host_away_from_node(PodSpecView(spec))
    elif signal.kind == "env":
        yield from _env_hits(signal, containers)
    elif signal.kind == "arg_contains":
        yield from _arg_hits(signal.value, containers)
    elif signal.kind == "host_path":
        wanted = paths.canonical(signal.value)
        yield from (f"hostPath {p}" for p in host_paths if paths.canonical(p) == wanted)
    elif signal.kind == "min_version" and matched is not None and matched.image:
        tag = image_tag(matched.image)
        version, minimum = _version(tag), _version(signal.value)
        if version is not None and minimum is not None and _at_least(version, minimum):
            yield f"image tag {tag} >= {signal.value}"
    elif signal.kind == "image_tag":
        # Only images of this agent count: a `dind` tag on some unrelated sidecar says nothing.
        for c in containers:
            tag = image_tag(c.image) if c.image else None
            if tag and fnmatchcase(tag.lower(), signal.value.lower()) and match_image(c.image or "") is agent:
                yield f"image {c.image}"


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _command_match(containers: list[_Container]) -> tuple[Agent, _Container, str] | None:
    """The first container whose command and args an agent's `commands` match: the agent, the
    container and the evidence ("command kubectl-dockershim probe": the matched words, without the
    quotes and commas of a script's argument list)."""
    agents = [a for a in load_catalogue() if a.commands]
    for c in containers:
        line = " ".join(c.arguments)
        for agent in agents:
            for pattern in agent.commands:
                hit = pattern.search(line)
                if hit:
                    return agent, c, "command " + " ".join(re.findall(r"[\w./-]+", hit.group(0)))
    return None


def _hint(agent: Agent, metadata: dict[str, Any]) -> str | None:
    names = [n for n in (metadata.get("name"), metadata.get("generateName")) if isinstance(n, str) and n]
    for hint in agent.pod_name_hints:
        hint_tokens = hint.lower().split("-")
        for name in names:
            tokens = name.lower().split("-")
            # Whole dash-separated words only: `falco` matches `falco-x7k2p` and `my-falco-0`,
            # never `falcon-sensor-abc`.
            if any(tokens[i:i + len(hint_tokens)] == hint_tokens for i in range(len(tokens))):
                return f"pod name hint {hint}"
    labels = metadata.get("labels")
    if isinstance(labels, dict):
        for key, value in agent.label_hints:
            if labels.get(key) == value:
                return f"label hint {key}={value}"
    return None


def identify(pod_spec: dict[str, Any], metadata: dict[str, Any]) -> AgentMatch | None:
    """The catalogue agent this pod spec runs, with the evidence and any migrated signals, or None.

    Containers are tried in order (containers, then initContainers, then ephemeralContainers) and
    the first one whose image is in the catalogue decides; then the first whose command an agent's
    `commands` match; hints on the name or labels count only when neither matched, and unknown
    images with no hint give None rather than a guess.
    """
    spec = pod_spec if isinstance(pod_spec, dict) else {}
    meta = metadata if isinstance(metadata, dict) else {}
    containers = _containers(spec)
    found: tuple[Agent, _Container] | None = None
    for c in containers:
        agent = match_image(c.image) if c.image else None
        if agent is not None:
            found = (agent, c)
            break
    command = None if found is not None else _command_match(containers)
    if found is not None:
        agent, matched = found
        evidence, container, strong = f"image {matched.image}", matched.name, True
        matched_container: _Container | None = matched
    elif command is not None:
        agent, matched, evidence = command
        container, strong, matched_container = matched.name, True, matched
    else:
        hinted = next(((a, e) for a in load_catalogue() if (e := _hint(a, meta))), None)
        if hinted is None:
            return None
        agent, evidence = hinted
        container, strong, matched_container = None, False, None
    host_paths = _host_paths(spec)
    migrated = _unique(hit for signal in agent.migrated_signals
                       for hit in _signal_hits(signal, agent, containers, host_paths, matched_container, spec))
    docker = _unique([*(hit for signal in agent.docker_env for hit in _env_hits(signal, containers)),
                      *(hit for needle in agent.docker_args for hit in _arg_hits(needle, containers))])
    return AgentMatch(agent=agent, evidence=evidence, container=container, strong=strong,
                      migrated=migrated, docker_signals=docker,
                      image=matched_container.image if matched_container else None)
