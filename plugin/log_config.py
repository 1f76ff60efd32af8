"""Rule DS009's detectors: configuration text that still expects Docker, one small detector per tool.

After the switch to containerd or CRI-O, container logs are CRI text under /var/log/pods
(`2024-01-01T00:00:00.000000000Z stdout F message`, linked from /var/log/containers), and
nothing answers on Docker's API. A log shipper still parsing Docker's JSON lines drops or
garbles every line without an error anyone sees, and one reading through the daemon collects
nothing. Each detector below knows one tool's real syntax (checked against the vendor's
documentation and Helm charts) and yields a `ConfigMatch`: the line that shows it, a reason that
says what breaks and what to write instead, and a severity. Detectors look only at the
structure that gives a setting its meaning (a Fluent Bit `Parser docker` counts in a tail input
of container logs, not in a `[PARSER]` section that merely defines a parser of that name), and
never at comments. `config_texts` takes the texts out of a ConfigMap's `data`, and
`helm_values_texts` out of a log shipper chart's values file; everything here is pure.

Evidence is only ever the matching line (trimmed, shortened, a URL password masked): a
ConfigMap may hold credentials next to the parser setting, and none of it is printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from plugin.rules import mask_credentials, shorten_evidence

# The pseudo-kind of a Helm values file the file source recognised (`helm_values_texts`): not a
# Kubernetes object, but the configuration of one.
HELM_VALUES_KIND = "HelmValues"
CONFIG_KINDS = frozenset({"ConfigMap", HELM_VALUES_KIND})

# Directories that hold container logs: Docker's own, and the kubelet's CRI layout with its links.
CONTAINER_LOG_DIRECTORIES = ("/var/log/containers", "/var/log/pods", "/var/lib/docker/containers")
DOCKER_LOG_DIRECTORY = re.compile(r"/var/lib/docker/containers(?![\w.-])")

# What a CRI line looks like to a regular expression: its stream field.
_CRI_EXPRESSION = re.compile(r"stdout\|stderr|stderr\|stdout")
# A comment after a value: ` # note`. `#{...}` is Ruby interpolation in Fluentd's config, not a comment.
_TRAILING_COMMENT = re.compile(r"\s#(?!\{).*$")


@dataclass(frozen=True)
class ConfigLine:
    number: int  # 1-based, in the text it came from
    text: str  # without its comment and trailing blanks
    indent: int  # leading spaces (a tab counts as one)

    @property
    def stripped(self) -> str:
        return self.text.strip()


@dataclass(frozen=True)
class ConfigMatch:
    """One setting that expects Docker: where it is, what it means, and what to write instead."""

    tool: str
    line: int  # 1-based, in the text
    evidence: str  # the matching line, trimmed and shortened: nothing else of the text
    reason: str  # what breaks, then the step that fixes it
    severity: str
    # Fluentd's daemonset image picks its parser from an env var that defaults to json: the setting
    # is what the pod's env makes it. None: the line alone decides.
    unless_env: str | None = None


def _config_lines(text: str) -> list[ConfigLine]:
    """The text's lines that say something: blank lines and `#` comments (whole-line or after
    a value) left out, as every format here (YAML, TOML, Fluent Bit's, Fluentd's, Logstash's)
    writes them."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith("#"):
            continue
        cleaned = _TRAILING_COMMENT.sub("", raw).rstrip()
        if cleaned.strip():
            lines.append(ConfigLine(number, cleaned, len(cleaned) - len(cleaned.lstrip())))
    return lines


def _match(tool: str, line: ConfigLine, reason: str, severity: str, unless_env: str | None = None) -> ConfigMatch:
    return ConfigMatch(tool, line.number, shorten_evidence(mask_credentials(line.stripped)), reason, severity,
                       unless_env)


def _is_container_log_path(value: str) -> bool:
    return any(directory in value for directory in CONTAINER_LOG_DIRECTORIES)


def _unquoted(value: str) -> str:
    return value.strip().strip("'\"").strip()


# ---------------------------------------------------------------------------------------------
# Fluent Bit: the tail input of container logs, in the classic format ([INPUT] sections) and in
# the YAML format (`pipeline.inputs`, items `- name: tail`).

_FLUENT_BIT_PARSER = (
    "Fluent Bit parses container logs as Docker's JSON (`Parser docker` on the tail input): under "
    "containerd and CRI-O each line is CRI text, so every record arrives unparsed, without its time or "
    "stream; use `multiline.parser docker, cri` instead (Fluent Bit 1.8+, it reads both formats)")
_FLUENT_BIT_DOCKER_MODE = (
    "Fluent Bit's `Docker_Mode On` rejoins the lines Docker split in its JSON format and nothing else: "
    "CRI's partial lines stay split; use `multiline.parser docker, cri` instead, which replaces Docker_Mode")
_FLUENT_BIT_MULTILINE = (
    "Fluent Bit's `multiline.parser docker` reads Docker's JSON lines only: under containerd and CRI-O "
    "every line is CRI text; add cri: `multiline.parser docker, cri`")
_TRUE = frozenset({"on", "true", "yes", "1"})

Settings = dict[str, tuple[str, ConfigLine]]  # key (lower case) -> (value, its line)


def _fluent_bit_classic_inputs(lines: list[ConfigLine]) -> Iterator[Settings]:
    """The settings of each `[INPUT]` section; a section ends at the next `[...]` header."""
    settings: Settings | None = None
    for line in lines:
        text = line.stripped
        if text.startswith("[") and text.endswith("]"):
            if settings is not None:
                yield settings
            settings = {} if text[1:-1].strip().upper() == "INPUT" else None
            continue
        if settings is None or text.startswith("@"):
            continue
        key, *value = text.split(None, 1)
        settings.setdefault(key.lower(), (value[0].strip() if value else "", line))
    if settings is not None:
        yield settings


_YAML_ITEM_KEY = re.compile(r"^(-\s+)?([\w.@-]+)\s*:\s*(.*)$")


def _yaml_items(lines: list[ConfigLine], starts: Callable[[str], bool]) -> Iterator[Settings]:
    """The settings of each YAML list item whose first line `starts` accepts (`- name: tail`):
    its keys, the values of a key written as a nested list (`multiline.parser:` then `- cri`)
    joined with commas."""
    for index, first in enumerate(lines):
        if not first.stripped.startswith("- ") or not starts(first.stripped[2:].strip()):
            continue
        settings: Settings = {}
        last_key: str | None = None
        key_indent: int | None = None
        for line in lines[index:]:
            if line is not first and line.indent <= first.indent:
                break
            text = line.stripped[2:].strip() if line is first else line.stripped
            indent = first.indent + 2 if line is first else line.indent
            found = _YAML_ITEM_KEY.match(text)
            if key_indent is None:
                key_indent = indent
            if found and indent == key_indent and not text.startswith("-"):
                last_key = found.group(2).lower()
                settings.setdefault(last_key, (_unquoted(found.group(3)), line))
            elif last_key is not None and text.startswith("- ") and indent > key_indent:
                value, at = settings[last_key]
                settings[last_key] = (",".join(v for v in (value, _unquoted(text[2:])) if v), at)
        yield settings


def _tail_input_findings(settings: Settings) -> Iterator[ConfigMatch]:
    name = settings.get("name")
    path = settings.get("path")
    if name is None or _unquoted(name[0]).lower() != "tail" or path is None or not _is_container_log_path(path[0]):
        return
    multiline = settings.get("multiline.parser")
    if multiline is not None:
        parsers = {p.lower() for p in re.split(r"[\s,\[\]'\"]+", multiline[0]) if p}
        if "docker" in parsers and "cri" not in parsers:
            yield _match("fluent-bit", multiline[1], _FLUENT_BIT_MULTILINE, "medium")
        return  # the multiline parser takes over: Parser and Docker_Mode are not used with it
    parser = settings.get("parser")
    if parser is not None and _unquoted(parser[0]).lower() == "docker":
        yield _match("fluent-bit", parser[1], _FLUENT_BIT_PARSER, "medium")
    docker_mode = settings.get("docker_mode")
    if docker_mode is not None and _unquoted(docker_mode[0]).lower() in _TRUE:
        yield _match("fluent-bit", docker_mode[1], _FLUENT_BIT_DOCKER_MODE, "medium")


def _fluent_bit(lines: list[ConfigLine], text: str) -> Iterator[ConfigMatch]:
    for settings in _fluent_bit_classic_inputs(lines):
        yield from _tail_input_findings(settings)
    for settings in _yaml_items(lines, lambda first: re.fullmatch(r"name:\s*['\"]?tail['\"]?", first) is not None):
        yield from _tail_input_findings(settings)


# ---------------------------------------------------------------------------------------------
# Fluentd: a `<source>` of `@type tail` on container logs, parsed as JSON.

_FLUENTD_JSON = (
    "Fluentd tails container logs and parses them as JSON: CRI lines are not JSON, so under containerd and "
    "CRI-O every line is a parse error and is dropped; switch the tail parser to `cri` (`<parse> @type cri`, "
    "fluent-plugin-parser-cri) or to a regexp of the CRI format")
_FLUENTD_ENV_JSON = (
    "Fluentd's tail of container logs takes its parser from {env}, which defaults to json: CRI lines are not "
    "JSON, so under containerd and CRI-O every line is dropped; set {env}=cri on the DaemonSet")
_FLUENTD_TAG = re.compile(r"^<(/?)([\w@.-]+)[^>]*>$")
# `@type "#{ENV['FLUENT_CONTAINER_TAIL_PARSER_TYPE'] || 'json'}"`: the parser is an env var, json by default.
_FLUENTD_ENV_DEFAULT = re.compile(r"ENV\[['\"](\w+)['\"]\]\s*\|\|\s*['\"]json['\"]")
# The env vars a pod may set to change what such a setting means (fluentd-kubernetes-daemonset's):
# the only env a workload's record keeps for DS009.
PARSER_ENV_VARS = frozenset({"FLUENT_CONTAINER_TAIL_PARSER_TYPE"})


@dataclass
class _FluentdSource:
    type: str = ""
    path: str = ""
    format: tuple[str, ConfigLine] | None = None  # `format json` directly in the source (the old syntax)
    parse: tuple[str, ConfigLine] | None = None  # the `@type` of its `<parse>`
    json_pattern: ConfigLine | None = None  # a `<pattern>` of multi_format that is JSON
    cri: bool = False  # a pattern or an expression that reads CRI lines

    def findings(self) -> Iterator[ConfigMatch]:
        if self.type != "tail" or not _is_container_log_path(self.path) or self.cri:
            return
        if self.parse is not None:
            parser, line = self.parse
            env = _FLUENTD_ENV_DEFAULT.search(parser)
            if env:
                yield _match("fluentd", line, _FLUENTD_ENV_JSON.format(env=env.group(1)), "medium",
                             unless_env=env.group(1) if env.group(1) in PARSER_ENV_VARS else None)
            elif parser == "json":
                yield _match("fluentd", line, _FLUENTD_JSON, "medium")
            elif parser == "multi_format" and self.json_pattern is not None:
                yield _match("fluentd", self.json_pattern, _FLUENTD_JSON, "medium")
        elif self.format is not None and self.format[0] == "json":
            yield _match("fluentd", self.format[1], _FLUENTD_JSON, "medium")


def _fluentd(lines: list[ConfigLine], text: str) -> Iterator[ConfigMatch]:
    tags: list[str] = []
    source: _FluentdSource | None = None
    for line in lines:
        text_line = line.stripped
        tag = _FLUENTD_TAG.match(text_line)
        if tag:
            closing, name = tag.group(1), tag.group(2).lower()
            if not closing:
                tags.append(name)
                if name == "source":
                    source = _FluentdSource()
            else:
                if tags:
                    tags.pop()
                if name == "source" and source is not None:
                    yield from source.findings()
                    source = None
            continue
        if source is None or not tags:
            continue
        key, _, raw_value = text_line.partition(" ")
        value = _unquoted(raw_value)
        where = tags[tags.index("source") + 1:] if "source" in tags else []
        if where == []:
            if key in ("@type", "type"):
                source.type = value
            elif key == "path":
                source.path = value
            elif key == "format":
                source.format = (value, line)
        elif where == ["parse"] and key in ("@type", "type"):
            source.parse = (value, line)
            source.cri |= value == "cri"
        elif where == ["parse", "pattern"] and key in ("format", "@type", "type"):
            if value == "json":
                source.json_pattern = source.json_pattern or line
            source.cri |= value == "cri"
        if where[:1] == ["parse"] and _CRI_EXPRESSION.search(raw_value):
            source.cri = True


# ---------------------------------------------------------------------------------------------
# Filebeat: the docker input, and a container input or parser forced to Docker's format.

_FILEBEAT_DOCKER = (
    "Filebeat's `docker` input reads Docker's JSON log files under /var/lib/docker/containers "
    "(containers.ids), which containerd and CRI-O never write (the input was removed in Filebeat 8); use "
    "`type: filestream` with the `container` parser (or `type: container`) on /var/log/containers/*.log")
_FILEBEAT_FORMAT = (
    "Filebeat's container parser is forced to Docker's format (`format: docker`): CRI lines are not read; "
    "remove it (the default `auto` reads both formats) or set `format: cri`")
_TYPE_DOCKER = re.compile(r"^(-\s+)?type\s*:\s*['\"]?docker['\"]?$")
_FORMAT_DOCKER = re.compile(r"^(-\s+)?format\s*:\s*['\"]?docker['\"]?$")
# Filebeat's own configuration says so: `filebeat.inputs`, `filebeat.autodiscover`, `containers.ids`.
_FILEBEAT_TEXT = re.compile(r"filebeat\.|containers\.ids")
_CONTAINER_INPUT = re.compile(r"type\s*:\s*['\"]?(container|filestream)['\"]?|-\s+container\s*:")


def _filebeat(lines: list[ConfigLine], text: str) -> Iterator[ConfigMatch]:
    if not _FILEBEAT_TEXT.search(text):  # `type: docker` means something else to other tools (Datadog's logs)
        return
    container_input = _CONTAINER_INPUT.search(text) is not None
    for line in lines:
        if _TYPE_DOCKER.match(line.stripped):
            yield _match("filebeat", line, _FILEBEAT_DOCKER, "medium")
        elif container_input and _FORMAT_DOCKER.match(line.stripped):
            yield _match("filebeat", line, _FILEBEAT_FORMAT, "medium")


# ---------------------------------------------------------------------------------------------
# Promtail: the docker pipeline stage, and discovery through the Docker daemon.

_PROMTAIL_DOCKER = (
    "Promtail's `docker: {}` stage parses each line as Docker's JSON: under containerd and CRI-O the lines "
    "are CRI text and pass unparsed, without their time or stream; use the `cri: {}` stage")
_PROMTAIL_DOCKER_SD = (
    "Promtail's `docker_sd_configs` find containers through the Docker daemon's API, which containerd and "
    "CRI-O nodes do not have: nothing is collected; use kubernetes_sd_configs with the `cri: {}` stage")
_DOCKER_STAGE = re.compile(r"^-\s+docker\s*:\s*(\{\s*\})?$")
_CRI_STAGE = re.compile(r"^\s*-\s+cri\s*:", re.MULTILINE)
_DOCKER_SD = re.compile(r"^(-\s+)?docker_sd_configs\s*:")


def _promtail(lines: list[ConfigLine], text: str) -> Iterator[ConfigMatch]:
    # A pipeline with a cri stage too reads both formats: the docker stage leaves CRI lines alone.
    cri_stage = _CRI_STAGE.search(text) is not None
    for line in lines:
        if not cri_stage and _DOCKER_STAGE.match(line.stripped):
            yield _match("promtail", line, _PROMTAIL_DOCKER, "medium")
        elif _DOCKER_SD.match(line.stripped):
            yield _match("promtail", line, _PROMTAIL_DOCKER_SD, "high")


# ---------------------------------------------------------------------------------------------
# Vector: the docker_logs source (YAML, TOML or JSON), and its old name `docker` (TOML).

_VECTOR_DOCKER_LOGS = (
    "Vector's `docker_logs` source reads logs through the Docker daemon's API: on containerd and CRI-O nodes "
    "there is none, so it collects nothing; use the `kubernetes_logs` source, which reads /var/log/pods in "
    "either format")
_VECTOR_SOURCE = re.compile(
    r"""^(-\s+)?["']?type["']?\s*(:\s*["']?docker_logs["']?|=\s*["']docker(_logs)?["'])\s*,?$""")


def _vector(lines: list[ConfigLine], text: str) -> Iterator[ConfigMatch]:
    for line in lines:
        if _VECTOR_SOURCE.match(line.stripped):
            yield _match("vector", line, _VECTOR_DOCKER_LOGS, "high")


# ---------------------------------------------------------------------------------------------
# Any shipper (Logstash, Fluentd, Fluent Bit, Filebeat, Promtail, Vector): a path under Docker's log directory.

_DOCKER_LOG_PATH = (
    "reads /var/lib/docker/containers, where only Docker writes container logs (in its JSON format): under "
    "containerd and CRI-O they are in /var/log/pods (linked from /var/log/containers) as CRI lines; read "
    "those and parse the CRI format")


_NOT_A_LOG_PATH = re.compile(r"exclude|pos_file|\bdb\b", re.IGNORECASE)


def _docker_log_paths(lines: list[ConfigLine], text: str) -> Iterator[ConfigMatch]:
    for line in lines:
        # Excluding Docker's directory is harmless; a position or buffer file kept there is not a log path.
        if DOCKER_LOG_DIRECTORY.search(line.text) and not _NOT_A_LOG_PATH.search(line.text):
            yield _match("log shipper", line, _DOCKER_LOG_PATH, "medium")


# ---------------------------------------------------------------------------------------------
# Argo Workflows' controller: the docker executor.

_ARGO_DOCKER_EXECUTOR = (
    "Argo Workflows' docker executor (`containerRuntimeExecutor: docker` in the workflow-controller-configmap) "
    "runs every workflow step through the node's Docker daemon: on containerd and CRI-O nodes workflow pods "
    "fail; set `containerRuntimeExecutor: emissary` (Argo 3.1+) or upgrade to 3.4+, where emissary is the "
    "only executor")
_ARGO_EXECUTOR = re.compile(r"^containerRuntimeExecutor\s*:\s*['\"]?docker['\"]?$")


def _argo(lines: list[ConfigLine], text: str) -> Iterator[ConfigMatch]:
    for line in lines:
        if _ARGO_EXECUTOR.match(line.stripped):
            yield _match("argo-workflows", line, _ARGO_DOCKER_EXECUTOR, "high")


# ---------------------------------------------------------------------------------------------
# node-problem-detector: the Docker monitor (a journald log monitor of the docker unit) and the
# health checker of the docker component.

_NPD_DOCKER_MONITOR = (
    "node-problem-detector's Docker monitor reads the journal of Docker's unit: without Docker it reports "
    "nothing, and the DockerHung and CorruptDockerOverlay2 conditions never change; drop docker-monitor.json "
    "from --config.system-log-monitor and monitor containerd or CRI-O instead")
_NPD_DOCKER_HEALTH = (
    "node-problem-detector's health checker watches the docker component (`--component=docker`): there is "
    "no Docker to check after the switch; check `--component=cri` instead")
_JOURNALD_PLUGIN = re.compile(r"""["']plugin["']\s*:\s*["']journald["']""")
_CUSTOM_PLUGIN = re.compile(r"""["']plugin["']\s*:\s*["']custom["']""")
_DOCKER_JOURNAL = re.compile(r"""["']source["']\s*:\s*["']dockerd?["']""")


def _node_problem_detector(lines: list[ConfigLine], text: str) -> Iterator[ConfigMatch]:
    journald, custom = _JOURNALD_PLUGIN.search(text) is not None, _CUSTOM_PLUGIN.search(text) is not None
    for line in lines:
        if journald and _DOCKER_JOURNAL.search(line.text):
            yield _match("node-problem-detector", line, _NPD_DOCKER_MONITOR, "low")
        elif custom and "--component=docker" in line.text:
            yield _match("node-problem-detector", line, _NPD_DOCKER_HEALTH, "low")


# ---------------------------------------------------------------------------------------------

Detector = Callable[[list[ConfigLine], str], Iterator[ConfigMatch]]
DETECTORS: tuple[Detector, ...] = (
    _fluent_bit, _fluentd, _filebeat, _promtail, _vector, _docker_log_paths, _argo, _node_problem_detector,
)


def detect(text: str) -> list[ConfigMatch]:
    """Every setting of one configuration text that expects Docker, in line order, one per line
    (the first detector's when two name the same line)."""
    lowered = text.lower()
    # Every detector's syntax says "docker" or "json": most configuration texts are skipped here.
    if "docker" not in lowered and "json" not in lowered:
        return []
    lines = _config_lines(text)
    found: dict[int, ConfigMatch] = {}
    for detector in DETECTORS:
        for match in detector(lines, text):
            found.setdefault(match.line, match)
    return [found[line] for line in sorted(found)]


# ---------------------------------------------------------------------------------------------
# Where configuration text lives: a ConfigMap's data, a log shipper chart's values.


def config_texts(config_map: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, text) of each `data` entry of a ConfigMap. A one-line value is read as `key: value`,
    the way a controller reading one setting per key sees it (Argo's `containerRuntimeExecutor`)."""
    data = config_map.get("data")
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        yield key, value if "\n" in value.strip() else f"{key}: {value.strip()}"


# The values of the log shippers' official charts that hold their configuration, as dotted paths:
# fluent/helm-charts fluent-bit (`config.inputs`, ...) and fluentd (`fileConfigs`), elastic/helm-charts
# filebeat (`filebeatConfig`, `daemonset.filebeatConfig`), grafana/helm-charts promtail
# (`config.snippets.*`, `config.file`; the old chart's `pipelineStages`), vector (`customConfig`) and
# argo/argo-helm argo-workflows (`controller.containerRuntimeExecutor`).
HELM_CONFIG_VALUES = (
    "config.service", "config.inputs", "config.filters", "config.outputs", "config.customParsers",
    "config.extraFiles", "fileConfigs", "filebeatConfig", "daemonset.filebeatConfig",
    "deployment.filebeatConfig", "config.snippets", "config.file", "pipelineStages", "customConfig",
    "controller.containerRuntimeExecutor",
)


def _value_at(values: Mapping[str, Any], dotted: str) -> Any:
    found: Any = values
    for key in dotted.split("."):
        if not isinstance(found, dict) or key not in found:
            return None
        found = found[key]
    return found


def _as_text(path: str, value: Any) -> str | None:
    """A chart value as the configuration text the chart renders from it: a string as it is, a
    structure (promtail's pipelineStages, vector's customConfig) as YAML, a scalar as `key: value`."""
    if isinstance(value, str):
        return value if "\n" in value.strip() else f"{path.rsplit('.', 1)[-1]}: {value.strip()}"
    if isinstance(value, (dict, list)) and value:
        import yaml

        return str(yaml.dump(value, Dumper=yaml.SafeDumper, sort_keys=False, default_flow_style=False))
    return None


def _scopes(values: dict) -> list[tuple[str, dict]]:
    """The values themselves, and each subchart's (an umbrella chart's `fluent-bit:` key)."""
    return [("", values)] + [(f"{key}.", sub) for key, sub in values.items()
                             if isinstance(key, str) and isinstance(sub, dict)]


def is_helm_values(document: object) -> bool:
    """Whether a document that is not a Kubernetes object is a log shipper chart's values file."""
    if not isinstance(document, dict) or "apiVersion" in document or "kind" in document:
        return False
    return any(_value_at(scope, path) is not None for _, scope in _scopes(document) for path in HELM_CONFIG_VALUES)


def helm_values_texts(values: object) -> list[tuple[str, str]]:
    """(values path, text) of each configuration a log shipper chart's values file holds, or []
    when it is not one. The values of a subchart (an umbrella chart's `fluent-bit:` key) count
    too, with that key in their path."""
    if not is_helm_values(values):
        return []
    assert isinstance(values, dict)
    found: list[tuple[str, str]] = []
    seen: set[int] = set()  # a value reached through two paths (`daemonset.filebeatConfig`) is read once
    for prefix, scope in _scopes(values):
        for path in HELM_CONFIG_VALUES:
            value = _value_at(scope, path)
            if value is None or id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, dict) and path in ("fileConfigs", "filebeatConfig", "daemonset.filebeatConfig",
                                                    "deployment.filebeatConfig", "config.snippets",
                                                    "config.extraFiles"):
                # A map of file names (or snippet names) to their text: each is one text.
                for key, item in value.items():
                    text = _as_text(f"{path}.{key}", item)
                    if text is not None:
                        found.append((f"{prefix}{path}.{key}", text))
                continue
            text = _as_text(path, value)
            if text is not None:
                found.append((prefix + path, text))
    return found
