"""Rule DS009: the detectors on each tool's real configuration syntax, the join of ConfigMaps to the
workloads that mount them, and what an offline scan reports of tests/manifests/log-configs/ (the
official charts' configurations of the Docker era and of today, and look-alikes)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from plugin import catalogue
from plugin.config_mounts import LOG_AGENT_IDS, ConfigIndex, config_uses
from plugin.log_config import HELM_VALUES_KIND, config_texts, detect, helm_values_texts, is_helm_values
from plugin.models import Origin, SourceObject
from plugin.pipeline import explain_files, scan_files
from plugin.printers import PrintOptions, printer_for
from plugin.printers.describe import explanation_document, print_explanation
from plugin.rules import ALL_RULES, CONFIG_RULES, RULES, RULES_BY_ID, RuleSettings
from tests.podspecs import container, mount, pod_spec, workload

MANIFESTS = Path(__file__).resolve().parent / "manifests" / "log-configs"
SECRET = "kds-configmap-secret-3b9f0c1e"  # an output password next to the parser settings

# file -> the DS009 items an offline scan reports: (owner, container, evidence, severity)
EXPECTED: dict[str, list[tuple[str, str | None, str, str]]] = {
    "fluent-bit-docker-era.yaml": [("DaemonSet/fluent-bit", "fluent-bit", "Parser docker", "medium")],
    "fluent-bit-docker-mode.yaml": [("DaemonSet/fluent-bit", "fluent-bit", "Docker_Mode On", "medium"),
                                    ("DaemonSet/fluent-bit", "fluent-bit", "Parser docker", "medium")],
    "fluent-bit-yaml-format.yaml": [("DaemonSet/fluent-bit-yaml", "fluent-bit", "parser: docker", "medium")],
    "fluent-bit-today.yaml": [],
    "fluentd-json.yaml": [
        ("DaemonSet/fluentd", "fluentd", "@type \"#{ENV['FLUENT_CONTAINER_TAIL_PARSER_TYPE'] || 'json'}\"", "medium"),
        ("DaemonSet/fluentd-legacy", "fluentd", "format json", "medium")],
    "fluentd-cri.yaml": [],
    "filebeat-docker.yaml": [("ConfigMap/filebeat-forced-docker", None, "format: docker", "medium"),
                             ("DaemonSet/filebeat", "filebeat", "- type: docker", "medium")],
    "filebeat-container.yaml": [],
    "promtail-docker.yaml": [("DaemonSet/loki-promtail", "promtail", "- docker: {}", "medium")],
    "promtail-cri.yaml": [],
    "vector-docker-logs.yaml": [("DaemonSet/vector", "vector", 'type = "docker"', "high"),
                                ("DaemonSet/vector", "vector", "type: docker_logs", "high")],
    "vector-kubernetes-logs.yaml": [],
    "argo-workflow-controller.yaml": [("Deployment/workflow-controller", "workflow-controller",
                                       "containerRuntimeExecutor: docker", "high")],
    "node-problem-detector.yaml": [("DaemonSet/node-problem-detector", "node-problem-detector",
                                    '"source": "dockerd"', "low")],
    "look-alikes.yaml": [],
    "values/fluent-bit-docker-era.yaml": [("values/fluent-bit-docker-era.yaml", None, "Parser docker", "medium")],
    "values/fluent-bit.yaml": [],
    "values/filebeat-docker.yaml": [("values/filebeat-docker.yaml", None, "- type: docker", "medium")],
    "values/filebeat.yaml": [],
    "values/promtail.yaml": [],
    "values/loki-stack-docker-era.yaml": [("values/loki-stack-docker-era.yaml", None, "- docker: {}", "medium"),
                                          ("values/loki-stack-docker-era.yaml", None, "Docker_Mode On", "medium")],
    "values/vector.yaml": [("values/vector.yaml", None, "type: docker_logs", "high")],
    "values/argo-workflows.yaml": [("values/argo-workflows.yaml", None, "containerRuntimeExecutor: docker", "high")],
}


def config_items(path: Path) -> list[tuple[str, str | None, str, str]]:
    report, problems = scan_files([str(path)], RuleSettings(), None)
    assert problems == [] and report.warnings == ()
    found = []
    for item in report.items:
        if item.finding.rule_id != "DS009":
            continue
        owner = item.owner.describe()
        if item.owner.kind == HELM_VALUES_KIND:
            owner = str(Path(item.owner.name).relative_to(MANIFESTS))
        found.append((owner, item.finding.container, item.finding.evidence or "", item.finding.severity))
    return found


def test_every_manifest_has_an_expectation() -> None:
    files = {str(p.relative_to(MANIFESTS)) for p in MANIFESTS.rglob("*.yaml")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_offline_scan_reports_the_docker_era_configurations(name: str) -> None:
    assert config_items(MANIFESTS / name) == EXPECTED[name]


def test_the_finding_is_sourced_at_the_configmap_and_names_its_key_and_line() -> None:
    report, _ = scan_files([str(MANIFESTS / "fluent-bit-docker-era.yaml")], RuleSettings(), None)
    (item,) = [i for i in report.items if i.finding.rule_id == "DS009"]
    assert [(o.file, o.line) for o in item.origins] == [(str(MANIFESTS / "fluent-bit-docker-era.yaml"), 5)]
    finding = item.finding
    assert finding.reason.endswith("(ConfigMap fluent-bit, fluent-bit.conf line 15)")
    assert "multiline.parser docker, cri" in finding.reason
    assert (finding.volume, finding.mount_path, finding.sub_path) == (
        "config", "/fluent-bit/etc/fluent-bit.conf", "fluent-bit.conf")
    assert report.scanned == {"ConfigMap": 1, "DaemonSet": 1}


def test_a_secret_next_to_the_parser_never_reaches_any_output() -> None:
    paths = [str(MANIFESTS / "fluent-bit-docker-era.yaml"), str(MANIFESTS / "fluentd-json.yaml")]
    report, _ = scan_files(paths, RuleSettings(), None)
    assert any(i.finding.rule_id == "DS009" for i in report.items)
    for output in ("table", "wide", "json", "yaml", "name", "sarif", "markdown"):
        out = io.StringIO()
        printer_for(output)(report, out, PrintOptions(show_namespace=True, show_sources=True))
        assert SECRET not in out.getvalue(), output
    explanation, _ = explain_files(paths, RuleSettings(), "logging", ["ds/fluent-bit"])
    out = io.StringIO()
    print_explanation(explanation, out)
    assert SECRET not in out.getvalue() + json.dumps(explanation_document(explanation))


def test_explain_shows_the_config_finding_with_its_line_and_step() -> None:
    explanation, _ = explain_files([str(MANIFESTS / "fluent-bit-docker-era.yaml")], RuleSettings(), "logging",
                                   ["daemonset/fluent-bit"])
    assert [f.rule_id for f in explanation.findings] == ["DS004", "DS009"]
    out = io.StringIO()
    print_explanation(explanation, out)
    text = out.getvalue()
    assert "  DS009 docker-agent-config (medium)\n" in text
    assert "    Evidence:     Parser docker\n" in text
    assert "    Volume:       config (subPath fluent-bit.conf)\n" in text
    assert "use `multiline.parser docker, cri`" in text
    assert explanation.migration is not None and explanation.migration.agent == "fluent-bit"
    assert any("multiline.parser docker, cri" in s.text for s in explanation.migration.steps)


def test_explain_of_a_workload_without_docker_config_adds_nothing() -> None:
    explanation, _ = explain_files([str(MANIFESTS / "fluent-bit-today.yaml")], RuleSettings(), "logging-next",
                                   ["ds/fluent-bit"])
    assert explanation.findings == ()


def test_the_fluentd_env_default_follows_each_daemonsets_env() -> None:
    """One ConfigMap, two DaemonSets: the one that sets FLUENT_CONTAINER_TAIL_PARSER_TYPE=cri is clean."""
    path = [str(MANIFESTS / "fluentd-json.yaml")]
    dirty, _ = explain_files(path, RuleSettings(), "kube-system", ["ds/fluentd"])
    clean, _ = explain_files(path, RuleSettings(), "kube-system", ["ds/fluentd-cri"])
    assert [f.rule_id for f in dirty.findings] == ["DS009"]
    assert "set FLUENT_CONTAINER_TAIL_PARSER_TYPE=cri" in dirty.findings[0].reason
    assert clean.findings == ()


def test_order_of_configmap_and_workload_in_the_input_does_not_matter(tmp_path: Path) -> None:
    documents = (MANIFESTS / "promtail-docker.yaml").read_text().split("\n---\n")
    reversed_file = tmp_path / "reversed.yaml"
    reversed_file.write_text("\n---\n".join(reversed(documents)))
    assert config_items(reversed_file) == EXPECTED["promtail-docker.yaml"]


# --- the detectors, line by line -----------------------------------------------------------------

FLUENT_BIT_INPUT = "[INPUT]\n    Name tail\n    Path {path}\n    {setting}\n    Tag kube.*\n"


@pytest.mark.parametrize(("setting", "path", "evidence"), [
    ("Parser docker", "/var/log/containers/*.log", "Parser docker"),
    ("Parser   Docker", "/var/log/pods/*/*/*.log", "Parser Docker"),
    ("Docker_Mode On", "/var/log/containers/*.log", "Docker_Mode On"),
    ("multiline.parser docker", "/var/log/containers/*.log", "multiline.parser docker"),
    ("Parser cri", "/var/log/containers/*.log", None),
    ("multiline.parser docker, cri", "/var/log/containers/*.log", None),
    ("multiline.parser cri", "/var/log/containers/*.log", None),
    ("Docker_Mode Off", "/var/log/containers/*.log", None),
    ("Parser docker", "/var/log/syslog", None),  # not container logs
    ("# Parser docker", "/var/log/containers/*.log", None),
])
def test_fluent_bit_tail_inputs(setting: str, path: str, evidence: str | None) -> None:
    found = detect(FLUENT_BIT_INPUT.format(path=path, setting=setting))
    assert [m.evidence for m in found] == ([evidence] if evidence else [])


def test_fluent_bit_multiline_parser_wins_over_parser() -> None:
    text = FLUENT_BIT_INPUT.format(path="/var/log/containers/*.log",
                                   setting="Parser docker\n    multiline.parser docker, cri")
    assert detect(text) == []


def test_fluent_bit_parser_sections_and_filters_do_not_count() -> None:
    text = ("[PARSER]\n    Name docker\n    Format json\n[FILTER]\n    Name parser\n    Parser docker\n"
            "    Key_Name log\n")
    assert detect(text) == []


@pytest.mark.parametrize(("parse", "evidence"), [
    ("<parse>\n    @type json\n  </parse>", "@type json"),
    ("format json", "format json"),
    ("<parse>\n    @type multi_format\n    <pattern>\n      format json\n    </pattern>\n  </parse>", "format json"),
    ("<parse>\n    @type cri\n  </parse>", None),
    ("<parse>\n    @type regexp\n    expression /^(?<time>.+) (?<stream>stdout|stderr) [^ ]* (?<log>.*)$/\n"
     "  </parse>", None),
    ("<parse>\n    @type multi_format\n    <pattern>\n      format json\n    </pattern>\n    <pattern>\n"
     "      format /^(?<time>.+) (?<stream>stdout|stderr) [^ ]* (?<log>.*)$/\n    </pattern>\n  </parse>", None),
])
def test_fluentd_tail_of_container_logs(parse: str, evidence: str | None) -> None:
    text = f"<source>\n  @type tail\n  path /var/log/containers/*.log\n  {parse}\n</source>\n"
    assert [m.evidence for m in detect(text)] == ([evidence] if evidence else [])


def test_fluentd_json_elsewhere_does_not_count() -> None:
    text = ("<source>\n  @type tail\n  path /var/log/app/*.log\n  <parse>\n    @type json\n  </parse>\n</source>\n"
            "<source>\n  @type http\n  port 9880\n  <parse>\n    @type json\n  </parse>\n</source>\n"
            "<filter kubernetes.**>\n  @type parser\n  key_name log\n  <parse>\n    @type json\n  </parse>\n</filter>\n")
    assert detect(text) == []


@pytest.mark.parametrize(("text", "evidence"), [
    ("filebeat.inputs:\n- type: docker\n  containers.ids:\n  - '*'\n", "- type: docker"),
    ("- type: docker\n  containers.ids: ['*']\n", "- type: docker"),
    ("filebeat.inputs:\n- type: filestream\n  parsers:\n    - container:\n        format: docker\n", "format: docker"),
    ("filebeat.inputs:\n- type: container\n  paths: [/var/log/containers/*.log]\n", None),
    ("filebeat.inputs:\n- type: filestream\n  parsers:\n    - container: ~\n", None),
    ("registry:\n  type: docker\n", None),  # not Filebeat's
])
def test_filebeat_inputs(text: str, evidence: str | None) -> None:
    assert [m.evidence for m in detect(text)] == ([evidence] if evidence else [])


@pytest.mark.parametrize(("text", "evidence"), [
    ("pipeline_stages:\n  - docker: {}\n", "- docker: {}"),
    ("pipeline_stages:\n  - cri: {}\n", None),
    ("pipeline_stages:\n  - docker: {}\n  - cri: {}\n", None),  # both formats
    ("scrape_configs:\n- job_name: docker\n  docker_sd_configs:\n  - host: unix:///var/run/docker.sock\n",
     "docker_sd_configs:"),
])
def test_promtail_stages(text: str, evidence: str | None) -> None:
    assert [m.evidence for m in detect(text)] == ([evidence] if evidence else [])


@pytest.mark.parametrize(("text", "evidence"), [
    ("sources:\n  docker:\n    type: docker_logs\n", "type: docker_logs"),
    ('[sources.in]\ntype = "docker_logs"\n', 'type = "docker_logs"'),
    ('{"sources": {"in": {\n "type": "docker_logs"\n}}}', '"type": "docker_logs"'),
    ("sources:\n  k8s:\n    type: kubernetes_logs\n", None),
])
def test_vector_sources(text: str, evidence: str | None) -> None:
    assert [m.evidence for m in detect(text)] == ([evidence] if evidence else [])


@pytest.mark.parametrize(("text", "evidence"), [
    ('input { file { path => "/var/lib/docker/containers/*/*.log" codec => json } }',
     'input { file { path => "/var/lib/docker/containers/*/*.log" codec => json } }'),
    ("<source>\n  @type tail\n  path /var/lib/docker/containers/*/*-json.log\n  <parse>\n    @type none\n"
     "  </parse>\n</source>", "path /var/lib/docker/containers/*/*-json.log"),
    ("[INPUT]\n    Name tail\n    Exclude_Path /var/lib/docker/containers/*.log\n", None),
    ("paths: [/var/lib/docker/containers-archive/*.log]", None),
])
def test_paths_under_dockers_log_directory(text: str, evidence: str | None) -> None:
    assert [m.evidence for m in detect(text)] == ([evidence] if evidence else [])


@pytest.mark.parametrize(("text", "evidence"), [
    ("containerRuntimeExecutor: docker\n", "containerRuntimeExecutor: docker"),
    ("containerRuntimeExecutor: emissary\n", None),
    ('{"plugin": "journald", "pluginConfig": {"source": "docker"}, "source": "docker-monitor"}',
     '{"plugin": "journald", "pluginConfig": {"source": "docker"}, "source": "docker-monitor"}'),
    ('{"plugin": "kmsg", "source": "kernel-monitor", "rules": [{"pattern": "task docker:\\\\w+ blocked"}]}', None),
    ('{"plugin": "custom", "pluginConfig": {},\n "rules": [{"path": "/home/kubernetes/bin/health-checker",\n'
     '  "args": ["--component=docker", "--enable-repair=true"]}]}', '"args": ["--component=docker", "--enable-repair=true"]}]}'),
])
def test_argo_executor_and_node_problem_detector(text: str, evidence: str | None) -> None:
    assert [m.evidence for m in detect(text)] == ([evidence] if evidence else [])


def test_evidence_is_the_line_only_shortened_and_masked() -> None:
    long_path = "/var/lib/docker/containers/" + "x" * 300
    (match,) = detect(f"password secret-1\nurl: https://user:pw-7@host{long_path}\npassword secret-2\n")
    assert match.line == 2 and len(match.evidence) <= 120
    assert "pw-7" not in match.evidence and "secret" not in match.evidence and "***" in match.evidence


def test_a_control_character_on_the_matching_line_is_escaped_for_the_terminal_and_kept_in_json(
        tmp_path: Path) -> None:
    path = tmp_path / "cm.yaml"
    path.write_text('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: logs\ndata:\n'
                    '  logstash.conf: "input { file { path => \\"/var/lib/docker/containers/\\e]8;;x\\a*.log\\" } }\\n"\n')
    report, _ = scan_files([str(path)], RuleSettings(), None)
    (item,) = report.items
    assert "\x1b]8;;x\x07" in (item.finding.evidence or "")
    out = io.StringIO()
    printer_for("wide")(report, out, PrintOptions(show_namespace=True, show_sources=True))
    assert "\x1b" not in out.getvalue() and "\\x1b]8;;x\\x07" in out.getvalue()
    out = io.StringIO()
    printer_for("json")(report, out, PrintOptions())
    assert json.loads(out.getvalue())["items"][0]["evidence"] == item.finding.evidence


def test_a_large_configmap_without_docker_is_not_split_into_lines() -> None:
    assert detect("key: value, a, b\n" * 200_000) == []


# --- where configuration lives -------------------------------------------------------------------

def test_configmap_texts_read_one_line_values_as_settings() -> None:
    config_map = {"data": {"containerRuntimeExecutor": "docker", "config": "a: 1\nb: 2\n", "n": 3},
                  "binaryData": {"x": "ZG9ja2Vy"}}
    assert list(config_texts(config_map)) == [("containerRuntimeExecutor", "containerRuntimeExecutor: docker"),
                                              ("config", "a: 1\nb: 2\n")]


def test_helm_values_are_recognised_by_the_charts_configuration_keys() -> None:
    assert is_helm_values({"config": {"inputs": "[INPUT]\n  Name tail\n"}})
    assert is_helm_values({"fluent-bit": {"config": {"inputs": "x"}}})  # an umbrella chart's subchart
    assert not is_helm_values({"replicaCount": 1, "image": {"repository": "nginx"}})
    assert not is_helm_values({"apiVersion": "v1", "kind": "ConfigMap", "config": {"inputs": "x"}})
    texts = helm_values_texts({"customConfig": {"sources": {"d": {"type": "docker_logs"}}}})
    assert texts == [("customConfig", "sources:\n  d:\n    type: docker_logs\n")]


def test_other_values_files_are_still_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("replicaCount: 2\nimage:\n  repository: nginx\n")
    report, _ = scan_files([str(path)], RuleSettings(), None)
    assert report.warnings == (f"{path}: line 1: not a Kubernetes object (no apiVersion and kind), skipped",)


def _uses(spec: dict) -> list[tuple]:
    return [(u.config_map, u.volume, u.container, u.sub_path, u.files) for u in config_uses(spec)]


def test_config_uses_follow_volumes_projected_sources_and_the_default_ca_is_left_out() -> None:
    spec = pod_spec(
        [{"name": "conf", "configMap": {"name": "shipper", "items": [{"key": "a.conf", "path": "conf/a.conf"}]}},
         {"name": "all", "projected": {"sources": [{"configMap": {"name": "extra"}},
                                                    {"configMap": {"name": "kube-root-ca.crt"}},
                                                    {"secret": {"name": "token"}}]}},
         {"name": "spare", "configMap": {"name": "unused"}}],
        [container("agent", mounts=[mount("conf", "/etc/shipper"), mount("all", "/etc/all", "sub")])])
    assert _uses(spec) == [("shipper", "conf", "agent", None, (("a.conf", "conf/a.conf"),)),
                           ("extra", "all", "agent", "sub", None),
                           ("unused", "spare", None, None, None)]


@pytest.mark.parametrize(("files", "sub_path", "key", "sees"), [
    (None, None, "fluent-bit.conf", True),
    (None, "fluent-bit.conf", "fluent-bit.conf", True),
    (None, "custom_parsers.conf", "fluent-bit.conf", False),
    ((("docker-monitor.json", "docker-monitor.json"),), None, "docker-monitor.json", True),
    ((("kernel-monitor.json", "kernel-monitor.json"),), None, "docker-monitor.json", False),
    ((("input.conf", "conf.d/input.conf"),), "conf.d", "input.conf", True),
])
def test_a_mount_sees_only_the_keys_its_items_and_sub_path_select(files: tuple | None, sub_path: str | None,
                                                                   key: str, sees: bool) -> None:
    volume = {"name": "config", "configMap": {"name": "cm"}}
    if files is not None:
        volume["configMap"]["items"] = [{"key": k, "path": p} for k, p in files]
    (use,) = config_uses(pod_spec([volume], [container("c", mounts=[mount("config", "/etc/c", sub_path)])]))
    assert use.sees(key) is sees


def _config_map(name: str, data: dict, namespace: str = "logs") -> SourceObject:
    return SourceObject("ConfigMap", "v1", {"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": name, "namespace": namespace}, "data": data},
                        Origin(file="cm.yaml", line=1))


def _workload_source(spec: dict, name: str = "shipper") -> tuple[SourceObject, dict]:
    obj = workload("DaemonSet", name, spec, "logs")
    return SourceObject("DaemonSet", "apps/v1", obj, Origin(file="ds.yaml", line=1)), obj


PROMTAIL = {"promtail.yaml": "scrape_configs:\n- job_name: pods\n  pipeline_stages:\n    - docker: {}\n"}


def test_a_volume_no_container_mounts_gives_a_lower_finding_without_a_container() -> None:
    spec = pod_spec([{"name": "config", "configMap": {"name": "promtail"}}], [container("promtail")])
    source, _ = _workload_source(spec)
    index = ConfigIndex(None)
    index.add_workload(source, spec, {}, None, "logs")
    index.add_config(_config_map("promtail", PROMTAIL), "logs")
    (scanned,) = index.scanned_objects()
    (finding,) = scanned.findings
    assert (scanned.ref.kind, finding.container, finding.severity) == ("DaemonSet", None, "low")
    assert "declared, but no container mounts it" in finding.reason
    assert scanned.origin == Origin(file="cm.yaml", line=1)


def test_live_index_keeps_only_log_agents_and_workloads_with_findings() -> None:
    def identify(spec: dict, metadata: dict):
        return catalogue_ref(spec)

    index = ConfigIndex(identify, log_agents_only=True)
    agent_spec = pod_spec([{"name": "c", "configMap": {"name": "agent-conf"}}],
                          [container("p", "grafana/promtail:2.9.0", mounts=[mount("c", "/etc/promtail")])])
    web_spec = pod_spec([{"name": "c", "configMap": {"name": "web-conf"}}],
                        [container("web", "nginx:1.25", mounts=[mount("c", "/etc/nginx")])])
    for spec, name in ((agent_spec, "promtail"), (web_spec, "web")):
        source, _ = _workload_source(spec, name)
        index.add_workload(source, spec, {}, None, "logs")
    assert index.wanted() == [("logs", "agent-conf")]
    index.add_config(_config_map("agent-conf", PROMTAIL), "logs")
    assert index.wanted() == []
    assert [s.ref.name for s in index.scanned_objects()] == ["promtail"]


def catalogue_ref(spec: dict):
    from plugin.pipeline import identify_agent

    return identify_agent(spec, {})


def test_argo_controller_reads_the_configmap_its_flag_names() -> None:
    spec = pod_spec(None, [container("workflow-controller", "quay.io/argoproj/workflow-controller:v3.2.0",
                                     args=["--configmap", "my-argo-config"])])
    assert _uses(spec) == [("my-argo-config", None, "workflow-controller", None, None)]
    default = pod_spec(None, [container("controller", "argoproj/workflow-controller:v2.12.11")])
    assert [u.config_map for u in config_uses(default)] == ["workflow-controller-configmap"]


# --- the registry ----------------------------------------------------------------------------------

def test_ds009_is_listed_with_the_rules_but_never_run_on_a_pod_spec() -> None:
    assert [r.id for r in CONFIG_RULES] == ["DS009"]
    assert "DS009" not in {r.id for r in RULES}
    assert RULES_BY_ID["DS009"].name == "docker-agent-config"
    assert [r.id for r in ALL_RULES] == sorted(r.id for r in ALL_RULES)


def test_the_log_agents_whose_configmaps_are_read_are_catalogue_agents() -> None:
    assert LOG_AGENT_IDS <= {a.id for a in catalogue.load_catalogue()}
