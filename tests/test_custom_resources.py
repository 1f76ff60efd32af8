"""Custom resources that carry pod templates: the table, each template shape, the generic search
and its bounds, how several pod specs of one object flow through the scan and the report, the
owner walk through known kinds, and the realistic manifests of tests/manifests/custom-resources/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from plugin import custom_resources
from plugin.custom_resources import (
    GENERIC_MAX_NODES,
    MAX_TEMPLATES,
    custom_kinds,
    generic_templates,
    kind_for_type,
    looks_like_pod_spec,
    pod_templates,
)
from plugin.models import ObjectRef, Origin, SourceObject
from plugin.owners import ObjectsLookup, resolve_chains
from plugin.pipeline import explain_files, scan_files
from plugin.report import build_report, workloads
from plugin.resources import display_kind, type_key
from plugin.rules import RuleSettings
from plugin.scan import scan_objects
from tests.e2e.custom_resources_cluster import VENDOR_CRDS
from tests.podspecs import container, host_path_volume, mount, owner_ref, pod, pod_spec, workload

MANIFESTS = Path(__file__).resolve().parent / "manifests" / "custom-resources"
SOCKET_VOLUME = host_path_volume("docker-sock", "/var/run/docker.sock")
SOCKET_MOUNT = mount("docker-sock", "/var/run/docker.sock")


def scan_file(*names: str) -> tuple[dict, list]:
    report, problems = scan_files([str(MANIFESTS / n) for n in names], RuleSettings(), None)
    from plugin.printers.document import report_document

    return report_document(report), problems


def rows(document: dict) -> dict[str, set[tuple[str, str, tuple[str, ...]]]]:
    """owner -> {(rule, container, template paths)}."""
    out: dict[str, set] = {}
    for item in document["items"]:
        owner = f"{item['owner']['kind']}/{item['owner']['name']}"
        paths = tuple(s["path"] for s in item["sources"] if "path" in s)
        out.setdefault(owner, set()).add((item["rule"], item["container"], paths))
    return out


# --------------------------------------------------------------------------------------- the table

def test_the_table_matches_the_vendors_crds() -> None:
    # VENDOR_CRDS was written from each vendor's CRD (see tests/e2e/custom_resources_cluster.py).
    vendors = {f"{kind}.{group}": (plural, set(versions), scope == "Namespaced", set(short))
               for group, kind, plural, versions, scope, short, _ in VENDOR_CRDS}
    table = {k.key: (k.plural, set(k.versions), k.namespaced, set(k.short_names)) for k in custom_kinds()}
    assert set(table) == set(vendors)
    for key, (plural, versions, namespaced, short) in table.items():
        v_plural, v_versions, v_namespaced, v_short = vendors[key]
        assert (plural, versions, namespaced) == (v_plural, v_versions, v_namespaced), key
        # kubectl's built-in `sts` wins over Kruise's: the table leaves it out on purpose.
        assert short <= v_short and v_short - short <= {"sts"}, key


def test_every_kind_has_templates_of_a_known_shape_and_a_source() -> None:
    for kind in custom_kinds():
        assert kind.templates and all(t.shape in custom_resources.SHAPES for t in kind.templates), kind.key
        assert kind.source.startswith("https://github.com/"), kind.key
        assert "." in kind.group and kind.versions


@pytest.mark.parametrize("type_name, key", [
    ("wf", "Workflow.argoproj.io"), ("workflows.argoproj.io", "Workflow.argoproj.io"),
    ("Rollout", "Rollout.argoproj.io"), ("rollouts.v1alpha1.argoproj.io", "Rollout.argoproj.io"),
    ("beat", "Beat.beat.k8s.elastic.co"), ("tr", "TaskRun.tekton.dev"),
    ("statefulsets.apps.kruise.io", "StatefulSet.apps.kruise.io"), ("asts", "StatefulSet.apps.kruise.io"),
    ("rdeploy", "RunnerDeployment.actions.summerwind.dev"), ("sj", "ScaledJob.keda.sh"),
])
def test_kubectl_type_names_of_known_kinds(type_name: str, key: str) -> None:
    found = kind_for_type(type_name)
    assert found is not None and found.key == key


def test_type_keys_tell_a_custom_kind_from_a_built_in_one() -> None:
    assert type_key("StatefulSet", "apps/v1") == "StatefulSet"
    assert type_key("StatefulSet", "apps.kruise.io/v1beta1") == "StatefulSet.apps.kruise.io"
    assert type_key("Deployment", "") == "Deployment"
    assert display_kind("StatefulSet", "apps.kruise.io/v1beta1") == "StatefulSet.apps.kruise.io"
    assert display_kind("Rollout", "argoproj.io/v1alpha1") == "Rollout"  # no built-in Rollout to confuse
    assert ObjectRef("StatefulSet", "x", "ns", "apps.kruise.io/v1beta1").describe() == "StatefulSet.apps.kruise.io/x"


# --------------------------------------------------------------------------------------- shapes

def test_eck_beat_templates_get_the_image_eck_runs() -> None:
    beat = yaml.safe_load((MANIFESTS / "eck-metricbeat-docker-sock.yaml").read_text())
    (template,) = pod_templates("Beat", beat["apiVersion"], beat).templates
    assert template.path == "spec.daemonSet.podTemplate"
    assert template.spec["containers"][0]["image"] == "docker.elastic.co/beats/metricbeat:8.15.3"
    beat["spec"]["image"] = "registry.example.com/mirror/metricbeat:8.15.3"
    (template,) = pod_templates("Beat", beat["apiVersion"], beat).templates
    assert template.spec["containers"][0]["image"] == "registry.example.com/mirror/metricbeat:8.15.3"
    beat["spec"].pop("image")
    beat["spec"]["type"] = "mybeat"  # not a type ECK has a default image for: left without one
    beat["spec"]["daemonSet"]["podTemplate"]["spec"]["containers"][0]["name"] = "mybeat"
    (template,) = pod_templates("Beat", beat["apiVersion"], beat).templates
    assert "image" not in template.spec["containers"][0]


def test_argo_templates_are_the_pods_argo_makes() -> None:
    wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}, "spec": {
        "volumes": [SOCKET_VOLUME, {"name": "unused", "hostPath": {"path": "/var/lib/docker"}}],
        "templates": [
            {"name": "entry", "dag": {"tasks": [{"name": "a", "template": "set"}]}},
            {"name": "set", "containerSet": {"volumeMounts": [SOCKET_MOUNT],
                                             "containers": [{"name": "a", "image": "alpine"}, {"name": "b", "image": "alpine"}]}},
            {"name": "script", "script": {"image": "docker:27-cli", "command": ["bash"], "source": "docker ps"},
             "sidecars": [{"name": "dind", "image": "docker:27-dind", "mirrorVolumeMounts": True}]},
            {"name": "own", "container": {"image": "alpine", "volumeMounts": [mount("docker-sock", "/s")]},
             "volumes": [{"name": "docker-sock", "emptyDir": {}}]},
        ]}}
    templates = pod_templates("Workflow", wf["apiVersion"], wf).templates
    assert [t.path for t in templates] == ["spec.templates[1]", "spec.templates[2]", "spec.templates[3]"]
    container_set, script, own = (t.spec for t in templates)
    # a containerSet's volumeMounts reach every member; a workflow volume reaches the pods that mount it
    assert [m["name"] for c in container_set["containers"] for m in c["volumeMounts"]] == ["docker-sock"] * 2
    assert [v["name"] for v in container_set["volumes"]] == ["docker-sock"]
    # a script is run by its shell; the main container is `main`; no workflow volume it does not mount
    assert script["containers"][0] == {**wf["spec"]["templates"][2]["script"], "name": "main",
                                       "args": ["-c", "docker ps"]}
    assert script["volumes"] == []
    # a template's own volume of that name wins over the workflow's
    assert own["volumes"] == [{"name": "docker-sock", "emptyDir": {}}]


def test_argo_sidecars_mirror_the_main_containers_mounts() -> None:
    template = {"name": "t", "container": {"image": "docker:27-cli", "volumeMounts": [SOCKET_MOUNT]},
                "sidecars": [{"name": "watch", "image": "alpine", "mirrorVolumeMounts": True},
                             {"name": "other", "image": "alpine"}]}
    wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "w"},
          "spec": {"volumes": [SOCKET_VOLUME], "templates": [template]}}
    (t,) = pod_templates("WorkflowTemplate", wf["apiVersion"], wf).templates
    assert [c.get("volumeMounts", []) for c in t.spec["containers"]] == [[SOCKET_MOUNT], [SOCKET_MOUNT], []]


def test_tekton_steps_are_merged_with_the_step_template_and_named_as_tekton_names_them() -> None:
    task = {"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"}, "spec": {
        "stepTemplate": {"image": "docker:27-cli", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "1"}],
                         "volumeMounts": [SOCKET_MOUNT]},
        "steps": [{"name": "build", "env": [{"name": "B", "value": "2"}], "script": "#!/bin/bash\ndocker build ."},
                  {"image": "python:3.12", "script": "#!/usr/bin/env python3\nprint('docker ps')"},
                  {"name": "own", "volumeMounts": [mount("other", "/var/run/docker.sock")]}],
        "sidecars": [{"name": "server", "image": "docker:27-dind"}],
        "volumes": [SOCKET_VOLUME]}}
    (t,) = pod_templates("Task", task["apiVersion"], task).templates
    build, python, own, server = t.spec["containers"]
    assert [c["name"] for c in t.spec["containers"]] == ["step-build", "step-unnamed-1", "step-own", "sidecar-server"]
    assert build["image"] == "docker:27-cli" and build["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert build["command"] == ["bash", "-c", "#!/bin/bash\ndocker build ."]
    assert "command" not in python  # python runs it, not a shell: no docker CLI there
    assert own["volumeMounts"] == [mount("other", "/var/run/docker.sock")]  # the step's own mount at that path wins
    assert t.spec["volumes"] == [SOCKET_VOLUME]


def test_a_pipeline_task_of_a_custom_task_runs_no_pod() -> None:
    pipeline = {"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "p"}, "spec": {
        "tasks": [{"name": "wait", "taskSpec": {"apiVersion": "example.dev/v1", "kind": "Wait", "spec": {}}},
                  {"name": "run", "taskSpec": {"steps": [{"name": "s", "image": "alpine"}]}}]}}
    assert [t.path for t in pod_templates("Pipeline", "tekton.dev/v1", pipeline).templates] == ["spec.tasks[1].taskSpec"]


def test_taskrun_pod_template_volumes_join_the_task_spec() -> None:
    run = {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {"name": "r"}, "spec": {
        "podTemplate": {"volumes": [SOCKET_VOLUME]},
        "taskSpec": {"steps": [{"name": "s", "image": "docker:27-cli", "volumeMounts": [SOCKET_MOUNT]}]}}}
    report, _ = report_of([run])
    assert [(i.finding.rule_id, i.finding.container) for i in report.items] == [("DS001", "step-s")]


def test_arc_runners_get_the_docker_sidecar_arc_adds_unless_told_otherwise() -> None:
    spec = {"image": "summerwind/actions-runner:latest", "dockerVolumeMounts": [mount("cache", "/var/lib/docker")],
            "volumes": [{"name": "cache", "emptyDir": {}}], "sidecarContainers": [{"name": "proxy", "image": "envoy"}]}
    runner = {"apiVersion": "actions.summerwind.dev/v1alpha1", "kind": "Runner", "metadata": {"name": "r"}, "spec": spec}
    (t,) = pod_templates("Runner", runner["apiVersion"], runner).templates
    names = [c["name"] for c in t.spec["containers"]]
    assert names == ["runner", "docker", "proxy"]
    runner_c, docker_c, _ = t.spec["containers"]
    assert docker_c["image"] == "docker:dind" and docker_c["args"][0] == "dockerd"
    assert {"name": "DOCKER_HOST", "value": "unix:///run/docker.sock"} in runner_c["env"]
    assert mount("cache", "/var/lib/docker") in docker_c["volumeMounts"]
    for off in ({"dockerEnabled": False}, {"dockerdWithinRunnerContainer": True}):
        runner["spec"] = {**spec, **off}
        (t,) = pod_templates("Runner", runner["apiVersion"], runner).templates
        assert [c["name"] for c in t.spec["containers"]] == ["runner", "proxy"], off


# --------------------------------------------------------------------------------------- generic search

def vcjob(tasks: list[dict]) -> dict:
    return {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": {"name": "j", "namespace": "ml"},
            "spec": {"tasks": tasks}}


def test_the_generic_search_names_the_template_path_and_takes_its_metadata() -> None:
    spec = pod_spec([SOCKET_VOLUME], [container("c", "docker:27-cli", [SOCKET_MOUNT])])
    job = vcjob([{"name": "a", "template": {"spec": pod_spec(None, [container("x", "alpine")])}},
                 {"name": "b", "template": {"metadata": {"labels": {"role": "b"}}, "spec": spec}}])
    found = pod_templates("Job", job["apiVersion"], job)
    assert found is not None and found.problem is None
    assert [(t.path, t.metadata) for t in found.templates] == [
        ("spec.tasks[0].template", {"name": "j", "namespace": "ml"}), ("spec.tasks[1].template", {"labels": {"role": "b"}})]
    # a pod spec right under `spec` (a SidecarSet-like kind) is named `spec`
    widget = {"apiVersion": "example.com/v1", "kind": "Injector", "metadata": {"name": "i"}, "spec": spec}
    assert [t.path for t in pod_templates("Injector", widget["apiVersion"], widget).templates] == ["spec"]


@pytest.mark.parametrize("node", [
    {"containers": [{"name": "*", "image": "!*:latest"}]},  # a policy's pattern
    {"containers": [{"name": "app"}]},  # names only: a reference to containers, not their spec
    {"containers": [{"image": "nginx:1.25"}]},
    {"containers": []},
    {"containers": {"name": "x", "image": "y"}},
    {"containers": [{"name": "app", "image": "{{ .Values.image }}"}]},  # an unrendered Helm value
    {"containers": [{"name": "app", "image": "nginx"}], "volumes": {"name": "x"}},
])
def test_look_alikes_are_no_pod_spec(node: dict) -> None:
    assert not looks_like_pod_spec(node)


def test_kubernetes_groups_and_built_in_kinds_are_not_searched() -> None:
    spec = pod_spec([SOCKET_VOLUME], [container("c", "alpine", [SOCKET_MOUNT])])
    assert pod_templates("Thing", "storage.k8s.io/v1", {"spec": spec}) is None
    assert pod_templates("ConfigMap", "v1", {"spec": spec}) is None
    assert pod_templates("Widget", "example.com/v1", {"spec": {"config": {"a": 1}}}) is None  # nothing found


def test_the_generic_search_is_bounded_in_depth() -> None:
    node: dict = pod_spec([SOCKET_VOLUME], [container("c", "alpine", [SOCKET_MOUNT])])
    for _ in range(custom_resources.GENERIC_MAX_DEPTH + 1):
        node = {"nested": node}
    assert generic_templates({"spec": node}).templates == ()


def test_a_huge_custom_resource_is_searched_up_to_a_bound_and_says_so() -> None:
    filler = [{"k": i} for i in range(GENERIC_MAX_NODES + 10)]
    obj = {"apiVersion": "example.com/v1", "kind": "Big", "metadata": {"name": "big"},
           "spec": {"a": pod_spec([SOCKET_VOLUME], [container("c", "alpine", [SOCKET_MOUNT])]), "filler": filler}}
    result = scan_objects([SourceObject("Big", obj["apiVersion"], obj, Origin(file="big.yaml", line=1))],
                          RuleSettings(), "default")
    assert [s.origin.path for s in result.scanned] == ["spec.a"]  # what was found before the bound is kept
    assert result.problems == [f"Big/big (big.yaml:1) is too large to search whole for pod specs: it was searched "
                               f"up to its {GENERIC_MAX_NODES:,}th object or list"]


def test_more_templates_than_the_bound_are_said_to_be_left_out() -> None:
    step = {"name": "s", "container": {"image": "alpine", "volumeMounts": [SOCKET_MOUNT]}}
    wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w", "namespace": "a"},
          "spec": {"volumes": [SOCKET_VOLUME], "templates": [step] * (MAX_TEMPLATES + 5)}}
    result = scan_objects([SourceObject("Workflow", wf["apiVersion"], wf, Origin("ctx"))], RuleSettings(), "a")
    assert len(result.scanned) == MAX_TEMPLATES
    assert result.problems == [f"Workflow/w holds more than {MAX_TEMPLATES:,} pod templates: only the first "
                               f"{MAX_TEMPLATES:,} were scanned"]


# --------------------------------------------------------------------------------------- scan and report

def report_of(objs: list[dict]):
    result = scan_objects([SourceObject(o["kind"], o["apiVersion"], o, Origin("ctx")) for o in objs], RuleSettings(),
                          "default", covering=custom_resources.known_keys() | {"Deployment", "ReplicaSet"})
    lookup = ObjectsLookup((o["kind"], o) for o in objs)
    chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned], lookup)
    return build_report(result.scanned, chains, counts=result.counts), result


def test_several_pod_specs_of_one_object_are_one_workload_with_their_paths() -> None:
    document, problems = scan_file("argo-workflow-docker-sock.yaml")
    assert problems == [] and document["metadata"]["complete"]
    assert rows(document) == {"Workflow/image-build-x7k2q": {
        ("DS001", "main", ("spec.templates[2]", "spec.templates[3]")),
        ("DS006", "main", ("spec.templates[2]",)), ("DS006", "main", ("spec.templates[3]",))}}
    assert document["metadata"]["scanned"] == {"Workflow": 1}


def test_templates_and_pods_of_a_custom_resource_merge_as_for_a_deployment() -> None:
    # The Rollout's template mounts the socket; one pod of an old revision still mounts /var/run; an
    # older ReplicaSet, kept for rollback, mounts /var/lib/docker and is left to the Rollout's template.
    new = pod_spec([host_path_volume("d", "/var/run/docker.sock")], [container("c", "app:2", [mount("d", "/var/run/docker.sock")])])
    old = pod_spec([host_path_volume("r", "/var/run")], [container("c", "app:1", [mount("r", "/r")])])
    oldest = pod_spec([host_path_volume("l", "/var/lib/docker")], [container("c", "app:0", [mount("l", "/l")])])
    ro = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
          "metadata": {"name": "web", "namespace": "ci", "uid": "uid-rollout-web"},
          "spec": {"template": {"spec": new}}}
    ref = owner_ref("Rollout", "web", "argoproj.io/v1alpha1")
    objs = [ro, workload("ReplicaSet", "web-1", old, "ci", [ref]), workload("ReplicaSet", "web-0", oldest, "ci", [ref]),
            pod("web-1-x", old, "ci", [owner_ref("ReplicaSet", "web-1")])]
    report, _ = report_of(objs)
    (summary,) = workloads(report)
    assert (summary.owner.describe(), summary.pods, summary.depends_on) == ("Rollout/web", ("web-1-x",),
                                                                             ("docker.sock", "/var/run"))


def test_the_walk_goes_through_known_custom_resources() -> None:
    argo = "argoproj.io/v1alpha1"
    cron = {"apiVersion": argo, "kind": "CronWorkflow", "metadata": {"name": "n", "namespace": "a", "uid": "uid-cronworkflow-n"},
            "spec": {"workflowSpec": {"templates": []}}}
    wf = {"apiVersion": argo, "kind": "Workflow", "metadata": {
        "name": "n-1", "namespace": "a", "uid": "uid-workflow-n-1", "ownerReferences": [owner_ref("CronWorkflow", "n", argo)]},
        "spec": {"templates": [{"name": "t", "container": {"image": "alpine", "volumeMounts": [SOCKET_MOUNT]}}],
                 "volumes": [SOCKET_VOLUME]}}
    p = pod("n-1-t", pod_spec([SOCKET_VOLUME], [container("main", "alpine", [SOCKET_MOUNT])]), "a",
            [owner_ref("Workflow", "n-1", argo)])
    report, _ = report_of([cron, wf, p])
    # the Workflow a CronWorkflow started is left to the CronWorkflow's template, as a Job to its CronJob
    assert {(i.owner.describe(), i.owner_chain[0].describe()) for i in report.items} == {("CronWorkflow/n", "Pod/n-1-t")}
    assert [r.describe() for r in report.items[0].owner_chain] == ["Pod/n-1-t", "Workflow/n-1", "CronWorkflow/n"]


def test_an_owner_of_a_kind_the_input_has_none_of_is_not_called_deleted() -> None:
    p = pod("web-1-x", pod_spec([SOCKET_VOLUME], [container("c", "app", [SOCKET_MOUNT])]), "ci",
            [owner_ref("Rollout", "web", "argoproj.io/v1alpha1")])
    report, _ = report_of([p])
    assert report.items[0].owner.found and report.warnings == ()
    other = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "api", "namespace": "ci"},
             "spec": {"template": {"spec": pod_spec(None, [container("c", "app")])}}}
    report, _ = report_of([other, p])  # the input has Rollouts, but not this one: it is gone
    assert not report.items[0].owner.found and "Rollout/web" in report.warnings[0]


def test_a_custom_resource_named_like_a_built_in_one_is_another_owner() -> None:
    document, problems = scan_file("kruise-statefulset-docker-data.yaml")
    owners = sorted((i["owner"]["kind"], i["owner"]["apiVersion"], i["rule"]) for i in document["items"])
    assert owners == [("StatefulSet", "apps.kruise.io/v1beta1", "DS004"), ("StatefulSet", "apps/v1", "DS002")]
    # a pod of the Kruise one is its, not the built-in one's (which exists, by that name, too)
    kruise, builtin = (yaml.safe_load_all((MANIFESTS / "kruise-statefulset-docker-data.yaml").read_text()))
    kruise["metadata"]["uid"], builtin["metadata"]["uid"] = "uid-kruise", "uid-apps"
    p = pod("log-agent-0", kruise["spec"]["template"]["spec"], "logging",
            [owner_ref("StatefulSet", "log-agent", "apps.kruise.io/v1beta1", uid="uid-kruise")])
    report, _ = report_of([builtin, kruise, p])
    by_owner = {w.owner.describe(): w.pods for w in workloads(report)}
    assert by_owner == {"StatefulSet/log-agent": (), "StatefulSet.apps.kruise.io/log-agent": ("log-agent-0",)}


def test_a_cluster_scoped_custom_resource_is_in_no_namespace() -> None:
    cwft = {"apiVersion": "argoproj.io/v1alpha1", "kind": "ClusterWorkflowTemplate", "metadata": {"name": "shared"},
            "spec": {"volumes": [SOCKET_VOLUME],
                     "templates": [{"name": "t", "container": {"image": "alpine", "volumeMounts": [SOCKET_MOUNT]}}]}}
    report, _ = report_of([cwft])
    assert [(i.namespace, i.owner.describe()) for i in report.items] == [(None, "ClusterWorkflowTemplate/shared")]


# --------------------------------------------------------------------------------------- the manifests

DEPENDENT = {
    "eck-metricbeat-docker-sock.yaml": {"Beat/metricbeat": {("DS001", "metricbeat", ("spec.daemonSet.podTemplate",))}},
    "tekton-task-docker-socket.yaml": {"Task/docker-build": {("DS001", "step-dockerfile-build", ("spec",)),
                                                             ("DS001", "step-dockerfile-push", ("spec",))}},
    "arc-runnerdeployment-host-docker.yaml": {"RunnerDeployment/org-runners": {
        ("DS001", "runner", ("spec.template.spec",)), ("DS005", "runner", ("spec.template.spec",))}},
    "argo-rollout-docker-sock.yaml": {"Rollout/build-cache": {("DS001", "cache", ("spec.template",))}},
    "keda-scaledjob-azure-pipelines.yaml": {"ScaledJob/azdevops-agent": {
        ("DS001", "azdevops-agent", ("spec.jobTargetRef.template",))}},
    "tekton-pipeline-step-template.yaml": {"Pipeline/build-and-notify": {
        ("DS001", "step-build", ("spec.tasks[0].taskSpec",)), ("DS001", "step-push", ("spec.tasks[0].taskSpec",)),
        ("DS006", "step-build", ("spec.tasks[0].taskSpec",))}},
    "volcano-job-docker-sock.yaml": {"Job/train-and-package": {
        ("DS001", "packager", ("spec.tasks[1].template",)), ("DS006", "packager", ("spec.tasks[1].template",))}},
    # Claims and mounted ConfigMaps are followed in custom resources' templates too; the PV and
    # the claim come after the Workflow in its file (offline, it is held until they are read).
    "argo-workflow-claimed-docker-socket.yaml": {"Workflow/build-image": {
        ("DS001", "main", ("spec.templates[0]",))}},
    # DS009's source is the ConfigMap, where it is changed, not the template that mounts it.
    "eck-filebeat-docker-input-config.yaml": {"Beat/filebeat-docker-input": {("DS009", "filebeat", ())}},
}
CLEAN = ["eck-filebeat-containerd.yaml", "argo-workflow-emptydir-docker-sock.yaml", "tekton-taskrun-dind-sidecar.yaml",
         "arc-runnerdeployment-dind.yaml", "kyverno-policy-docker-sock.yaml"]


@pytest.mark.parametrize("name", list(DEPENDENT))
def test_docker_dependent_custom_resources(name: str) -> None:
    document, problems = scan_file(name)
    assert problems == [] and rows(document) == DEPENDENT[name]


@pytest.mark.parametrize("name", CLEAN)
def test_clean_look_alikes(name: str) -> None:
    document, problems = scan_file(name)
    assert problems == [] and document["items"] == [], json.dumps(document["items"])[:500]


def test_every_manifest_is_covered() -> None:
    listed = set(DEPENDENT) | set(CLEAN) | {"argo-workflow-docker-sock.yaml", "kruise-statefulset-docker-data.yaml"}
    assert {p.name for p in MANIFESTS.glob("*.yaml")} == listed


def test_claimed_and_configured_findings_of_a_template_say_where_they_come_from() -> None:
    document, _ = scan_file("argo-workflow-claimed-docker-socket.yaml", "eck-filebeat-docker-input-config.yaml")
    evidence = {item["rule"]: (item["evidence"], item["sources"][0].get("file", "").rsplit("/", 1)[-1])
                for item in document["items"]}
    assert evidence["DS001"] == ("pvc/docker-socket -> pv/argo-docker-socket", "argo-workflow-claimed-docker-socket.yaml")
    assert evidence["DS009"] == ("- type: docker", "eck-filebeat-docker-input-config.yaml")


def test_explain_shows_each_finding_with_its_templates() -> None:
    paths = [str(MANIFESTS / "argo-workflow-docker-sock.yaml")]
    explanation, problems = explain_files(paths, RuleSettings(), "argo", ["workflows.argoproj.io/image-build-x7k2q"])
    assert problems == [] and explanation.ref.describe() == "Workflow/image-build-x7k2q"
    assert explanation.templates == ("spec.templates[1]", "spec.templates[2]", "spec.templates[3]")
    found = {(f.rule_id, f.evidence): t for f, t in zip(explanation.findings, explanation.finding_templates, strict=True)}
    assert found[("DS001", None)] == ("spec.templates[2]", "spec.templates[3]")
    assert found[("DS006", "docker push registry.example.com/app:latest")] == ("spec.templates[3]",)
    assert explanation.agent is not None and explanation.agent.id == "docker-cli"


def test_explain_of_a_kind_the_plugin_has_no_entry_for() -> None:
    paths = [str(MANIFESTS / "volcano-job-docker-sock.yaml")]
    explanation, _ = explain_files(paths, RuleSettings(), "ml", ["jobs.batch.volcano.sh/train-and-package"])
    assert explanation.templates == ("spec.tasks[0].template", "spec.tasks[1].template")
    assert {f.rule_id for f in explanation.findings} == {"DS001", "DS006"}
    # `job/NAME` is the built-in Job: not this one
    with pytest.raises(Exception, match='jobs.batch "train-and-package" not found'):
        explain_files(paths, RuleSettings(), "ml", ["job/train-and-package"])
