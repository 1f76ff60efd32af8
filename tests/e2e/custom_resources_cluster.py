"""A cluster of custom resources for the end-to-end tests: the CustomResourceDefinitions of the
operators the plugin knows, the realistic manifests of tests/manifests/custom-resources/, and what
the operators would have made of them (a Beat's DaemonSet, a Rollout's ReplicaSets, a CronWorkflow's
Workflow, an actions-runner-controller Runner) with their pods.

The CRDs are written here from the vendors' own (the group, kind, plural, scope, versions and
short names each vendor's CRD declares, with the URL), not taken from the plugin's table, so a
wrong entry there shows up as a failing test. Their schemas keep every field, as the vendors' own
"minimal" CRDs do (Argo's manifests/base/crds/minimal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.podspecs import container, host_path_volume, mount, owner_ref, pod, pod_spec, workload

MANIFESTS = Path(__file__).resolve().parents[1] / "manifests" / "custom-resources"

# (group, kind, plural, versions with the storage one first, scope, short names, where it was checked)
VENDOR_CRDS: list[tuple[str, str, str, tuple[str, ...], str, tuple[str, ...], str]] = [
    ("beat.k8s.elastic.co", "Beat", "beats", ("v1beta1",), "Namespaced", ("beat",),
     "elastic/cloud-on-k8s config/crds/v1/resources/beat.k8s.elastic.co_beats.yaml"),
    ("agent.k8s.elastic.co", "Agent", "agents", ("v1alpha1",), "Namespaced", ("agent",),
     "elastic/cloud-on-k8s config/crds/v1/resources/agent.k8s.elastic.co_agents.yaml"),
    ("argoproj.io", "Rollout", "rollouts", ("v1alpha1",), "Namespaced", ("ro",),
     "argoproj/argo-rollouts manifests/crds/rollout-crd.yaml"),
    ("argoproj.io", "Workflow", "workflows", ("v1alpha1",), "Namespaced", ("wf",),
     "argoproj/argo-workflows manifests/base/crds/minimal/argoproj.io_workflows.yaml"),
    ("argoproj.io", "CronWorkflow", "cronworkflows", ("v1alpha1",), "Namespaced", ("cwf", "cronwf"),
     "argoproj/argo-workflows manifests/base/crds/minimal/argoproj.io_cronworkflows.yaml"),
    ("argoproj.io", "WorkflowTemplate", "workflowtemplates", ("v1alpha1",), "Namespaced", ("wftmpl",),
     "argoproj/argo-workflows manifests/base/crds/minimal/argoproj.io_workflowtemplates.yaml"),
    ("argoproj.io", "ClusterWorkflowTemplate", "clusterworkflowtemplates", ("v1alpha1",), "Cluster",
     ("clusterwftmpl", "cwft"), "argoproj/argo-workflows manifests/base/crds/minimal/"
                                "argoproj.io_clusterworkflowtemplates.yaml"),
    ("tekton.dev", "Task", "tasks", ("v1", "v1beta1"), "Namespaced", (),
     "tektoncd/pipeline config/300-crds/300-task.yaml"),
    ("tekton.dev", "ClusterTask", "clustertasks", ("v1beta1",), "Cluster", (),
     "tektoncd/pipeline v0.59 config/300-crds/300-clustertask.yaml"),
    ("tekton.dev", "TaskRun", "taskruns", ("v1", "v1beta1"), "Namespaced", ("tr", "trs"),
     "tektoncd/pipeline config/300-crds/300-taskrun.yaml"),
    ("tekton.dev", "Pipeline", "pipelines", ("v1", "v1beta1"), "Namespaced", (),
     "tektoncd/pipeline config/300-crds/300-pipeline.yaml"),
    ("tekton.dev", "PipelineRun", "pipelineruns", ("v1", "v1beta1"), "Namespaced", ("pr", "prs"),
     "tektoncd/pipeline config/300-crds/300-pipelinerun.yaml"),
    ("apps.kruise.io", "CloneSet", "clonesets", ("v1beta1", "v1alpha1"), "Namespaced", ("clone",),
     "openkruise/kruise config/crd/bases/apps.kruise.io_clonesets.yaml"),
    ("apps.kruise.io", "DaemonSet", "daemonsets", ("v1beta1", "v1alpha1"), "Namespaced", ("daemon", "ads"),
     "openkruise/kruise config/crd/bases/apps.kruise.io_daemonsets.yaml"),
    ("apps.kruise.io", "StatefulSet", "statefulsets", ("v1beta1", "v1alpha1"), "Namespaced", ("sts", "asts"),
     "openkruise/kruise config/crd/bases/apps.kruise.io_statefulsets.yaml"),
    ("apps.kruise.io", "BroadcastJob", "broadcastjobs", ("v1beta1", "v1alpha1"), "Namespaced", ("bcj",),
     "openkruise/kruise config/crd/bases/apps.kruise.io_broadcastjobs.yaml"),
    ("apps.kruise.io", "AdvancedCronJob", "advancedcronjobs", ("v1beta1", "v1alpha1"), "Namespaced", ("acj",),
     "openkruise/kruise config/crd/bases/apps.kruise.io_advancedcronjobs.yaml"),
    ("apps.kruise.io", "SidecarSet", "sidecarsets", ("v1beta1", "v1alpha1"), "Cluster", (),
     "openkruise/kruise config/crd/bases/apps.kruise.io_sidecarsets.yaml"),
    ("actions.summerwind.dev", "RunnerDeployment", "runnerdeployments", ("v1alpha1",), "Namespaced", ("rdeploy",),
     "actions/actions-runner-controller config/crd/bases/actions.summerwind.dev_runnerdeployments.yaml"),
    ("actions.summerwind.dev", "RunnerReplicaSet", "runnerreplicasets", ("v1alpha1",), "Namespaced", ("rrs",),
     "actions/actions-runner-controller config/crd/bases/actions.summerwind.dev_runnerreplicasets.yaml"),
    ("actions.summerwind.dev", "Runner", "runners", ("v1alpha1",), "Namespaced", (),
     "actions/actions-runner-controller config/crd/bases/actions.summerwind.dev_runners.yaml"),
    ("actions.summerwind.dev", "RunnerSet", "runnersets", ("v1alpha1",), "Namespaced", (),
     "actions/actions-runner-controller config/crd/bases/actions.summerwind.dev_runnersets.yaml"),
    ("actions.github.com", "AutoscalingRunnerSet", "autoscalingrunnersets", ("v1alpha1",), "Namespaced", (),
     "actions/actions-runner-controller config/crd/bases/actions.github.com_autoscalingrunnersets.yaml"),
    ("actions.github.com", "EphemeralRunnerSet", "ephemeralrunnersets", ("v1alpha1",), "Namespaced", (),
     "actions/actions-runner-controller config/crd/bases/actions.github.com_ephemeralrunnersets.yaml"),
    ("actions.github.com", "EphemeralRunner", "ephemeralrunners", ("v1alpha1",), "Namespaced", (),
     "actions/actions-runner-controller config/crd/bases/actions.github.com_ephemeralrunners.yaml"),
    ("keda.sh", "ScaledJob", "scaledjobs", ("v1alpha1",), "Namespaced", ("sj",),
     "kedacore/keda config/crd/bases/keda.sh_scaledjobs.yaml"),
]
# A CRD the plugin has no entry for: served, but never listed live (the generic search is offline only).
VOLCANO_JOBS = ("batch.volcano.sh", "Job", "jobs", ("v1alpha1",), "Namespaced", ("vcjob", "vj"),
                "volcano-sh/volcano config/crd/volcano/bases/batch.volcano.sh_jobs.yaml")


def crd(group: str, kind: str, plural: str, versions: tuple[str, ...], scope: str,
        short_names: tuple[str, ...] = (), _source: str = "") -> dict[str, Any]:
    """A CustomResourceDefinition that keeps every field of its objects (the first version stores)."""
    names: dict[str, Any] = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if short_names:
        names["shortNames"] = list(short_names)
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "names": names, "scope": scope,
                     "versions": [{"name": v, "served": True, "storage": i == 0, "schema": schema}
                                  for i, v in enumerate(versions)]}}


def definitions() -> list[dict[str, Any]]:
    return [crd(*entry) for entry in (*VENDOR_CRDS, VOLCANO_JOBS)]


def manifest(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d]


# The manifests the cluster holds (the Kyverno policy has no CRD here: it is an offline look-alike).
LIVE_MANIFESTS = [
    "eck-metricbeat-docker-sock.yaml", "eck-filebeat-containerd.yaml", "argo-workflow-docker-sock.yaml",
    "argo-workflow-emptydir-docker-sock.yaml", "argo-rollout-docker-sock.yaml", "tekton-task-docker-socket.yaml",
    "tekton-taskrun-dind-sidecar.yaml", "tekton-pipeline-step-template.yaml", "arc-runnerdeployment-host-docker.yaml",
    "arc-runnerdeployment-dind.yaml", "kruise-statefulset-docker-data.yaml", "keda-scaledjob-azure-pipelines.yaml",
    "volcano-job-docker-sock.yaml",
]

ARGO = "argoproj.io/v1alpha1"
DOCKER_SOCK = [host_path_volume("docker-sock", "/var/run/docker.sock", "Socket")]
CLI_MOUNT = [mount("docker-sock", "/var/run/docker.sock")]


def _uid(kind: str, name: str, api_version: str) -> str:
    group = api_version.rpartition("/")[0]
    return f"uid-{kind.lower()}{'.' + group if '.' in group else ''}-{name}"  # two StatefulSets, two uids


def _ref(kind: str, name: str, api_version: str) -> dict[str, Any]:
    return owner_ref(kind, name, api_version, uid=_uid(kind, name, api_version))


def _named(obj: dict[str, Any]) -> dict[str, Any]:
    obj["metadata"]["uid"] = _uid(obj["kind"], obj["metadata"]["name"], obj["apiVersion"])
    return obj


def objects() -> list[dict[str, Any]]:
    """Definitions first, then the custom resources (owners before what they own), then pods."""
    objs = definitions()
    for name in LIVE_MANIFESTS:
        for obj in manifest(name):
            obj["metadata"].pop("generateName", None)
            objs.append(_named(obj))

    # Argo: the Workflow's build pod; a CronWorkflow, the Workflow it started and that one's pod.
    objs.append(pod("image-build-x7k2q-build-3412", pod_spec(DOCKER_SOCK, [
        container("main", "docker:24-cli", CLI_MOUNT, command=["sh", "/argo/staging/script"]),
        container("wait", "quay.io/argoproj/argoexec:v3.5.8", command=["argoexec", "wait"])],
        restartPolicy="Never"), "argo", [_ref("Workflow", "image-build-x7k2q", ARGO)], "node-1"))
    nightly_spec = {"entrypoint": "build", "volumes": DOCKER_SOCK,
                    "templates": [{"name": "build", "container": {"image": "docker:24-cli",
                                                                  "command": ["docker", "build", "."],
                                                                  "volumeMounts": CLI_MOUNT}}]}
    objs.append(_named({"apiVersion": ARGO, "kind": "CronWorkflow", "metadata": {"name": "nightly", "namespace": "argo"},
                        "spec": {"schedule": "0 2 * * *", "workflowSpec": nightly_spec}}))
    objs.append(_named({"apiVersion": ARGO, "kind": "Workflow",
                        "metadata": {"name": "nightly-1733022000", "namespace": "argo",
                                     "ownerReferences": [_ref("CronWorkflow", "nightly", ARGO)]},
                        "spec": nightly_spec}))
    objs.append(pod("nightly-1733022000-build", pod_spec(DOCKER_SOCK, [
        container("main", "docker:24-cli", CLI_MOUNT, command=["docker", "build", "."])], restartPolicy="Never"),
        "argo", [_ref("Workflow", "nightly-1733022000", ARGO)], "node-1"))

    # Argo Rollout in progress: the new revision mounts the socket (its template), the old one /var/run
    # and still has a pod; an older revision kept for rollback (no pod) mounts /var/lib/docker and
    # must not be reported: the Rollout's template stands for its ReplicaSets.
    new = pod_spec([host_path_volume("docker", "/var/run/docker.sock")],
                   [container("cache", "registry.example.com/build-cache:2.4.1", [mount("docker", "/var/run/docker.sock")])])
    old = pod_spec([host_path_volume("run", "/var/run")],
                   [container("cache", "registry.example.com/build-cache:2.3.0", [mount("run", "/host/run")])])
    oldest = pod_spec([host_path_volume("data", "/var/lib/docker")],
                      [container("cache", "registry.example.com/build-cache:2.2.0", [mount("data", "/data")])])
    rollout = _ref("Rollout", "build-cache", ARGO)
    for name, spec, replicas in (("build-cache-7f9", new, 1), ("build-cache-5c8", old, 1), ("build-cache-4a1", oldest, 0)):
        rs = workload("ReplicaSet", name, spec, "ci", [rollout], labels={"app": "build-cache", "rev": name})
        rs["spec"]["replicas"] = replicas
        objs.append(rs)
    objs.append(pod("build-cache-7f9-aaaaa", new, "ci", [_ref("ReplicaSet", "build-cache-7f9", "apps/v1")], "node-1"))
    objs.append(pod("build-cache-5c8-bbbbb", old, "ci", [_ref("ReplicaSet", "build-cache-5c8", "apps/v1")], "node-2"))

    # ECK: the Beat's DaemonSet (ECK fills in the image) and its pod.
    metricbeat = manifest("eck-metricbeat-docker-sock.yaml")[0]["spec"]["daemonSet"]["podTemplate"]["spec"]
    eck_spec = {**metricbeat, "containers": [{**c, "image": "docker.elastic.co/beats/metricbeat:8.15.3"}
                                             for c in metricbeat["containers"]]}
    objs.append(workload("DaemonSet", "metricbeat-beat-metricbeat", eck_spec, "elastic",
                         [_ref("Beat", "metricbeat", "beat.k8s.elastic.co/v1beta1")]))
    objs.append(pod("metricbeat-beat-metricbeat-x7k2p", eck_spec, "elastic",
                    [_ref("DaemonSet", "metricbeat-beat-metricbeat", "apps/v1")], "node-1"))

    # actions-runner-controller: RunnerDeployment -> RunnerReplicaSet -> Runner -> Pod.
    arc = "actions.summerwind.dev/v1alpha1"
    runner_spec = manifest("arc-runnerdeployment-host-docker.yaml")[0]["spec"]["template"]["spec"]
    objs.append(_named({"apiVersion": arc, "kind": "RunnerReplicaSet",
                        "metadata": {"name": "org-runners-w8k2s", "namespace": "actions-runner-system",
                                     "ownerReferences": [_ref("RunnerDeployment", "org-runners", arc)]},
                        "spec": {"replicas": 1, "template": {"spec": runner_spec}}}))
    objs.append(_named({"apiVersion": arc, "kind": "Runner",
                        "metadata": {"name": "org-runners-w8k2s-p2x9q", "namespace": "actions-runner-system",
                                     "ownerReferences": [_ref("RunnerReplicaSet", "org-runners-w8k2s", arc)]},
                        "spec": runner_spec}))
    objs.append(pod("org-runners-w8k2s-p2x9q", pod_spec(runner_spec["volumes"], [
        container("runner", runner_spec["image"], runner_spec["volumeMounts"], env=runner_spec["env"])]),
        "actions-runner-system", [_ref("Runner", "org-runners-w8k2s-p2x9q", arc)], "node-2"))

    # Tekton: a TaskRun of the Task by reference (no spec of its own) and its pod.
    objs.append(_named({"apiVersion": "tekton.dev/v1", "kind": "TaskRun",
                        "metadata": {"name": "docker-build-run-1", "namespace": "ci"},
                        "spec": {"taskRef": {"name": "docker-build"}}}))
    objs.append(pod("docker-build-run-1-pod", pod_spec(DOCKER_SOCK, [
        container("step-dockerfile-build", "gcr.io/cloud-builders/docker", CLI_MOUNT)], restartPolicy="Never"),
        "ci", [_ref("TaskRun", "docker-build-run-1", "tekton.dev/v1")], "node-2"))

    # OpenKruise: a pod of the Advanced StatefulSet (not of the built-in one of the same name).
    kruise = manifest("kruise-statefulset-docker-data.yaml")[0]["spec"]["template"]
    objs.append(pod("log-agent-0", kruise["spec"], "logging",
                    [_ref("StatefulSet", "log-agent", "apps.kruise.io/v1beta1")], "node-1",
                    labels=kruise["metadata"]["labels"]))
    return objs


# What `scan -A` reports on this cluster, one row per workload.
EXPECTED_ROWS = [
    ("actions-runner-system", "RunnerDeployment/org-runners", "actions-runner-controller", "1", "high",
     "docker.sock, DOCKER_HOST"),
    ("argo", "CronWorkflow/nightly", "docker-cli", "1", "high", "docker.sock, docker CLI"),
    ("argo", "Workflow/image-build-x7k2q", "docker-cli", "1", "high", "docker.sock, docker CLI"),
    ("build", "ScaledJob/azdevops-agent", "azure-pipelines-agent", "0", "high", "docker.sock"),
    ("ci", "Pipeline/build-and-notify", "docker-cli", "0", "high", "docker.sock, docker CLI"),
    ("ci", "Rollout/build-cache", "<unknown>", "2", "high", "docker.sock, /var/run"),
    ("ci", "Task/docker-build", "<unknown>", "0", "high", "docker.sock"),
    ("ci", "TaskRun/docker-build-run-1", "<unknown>", "1", "high", "docker.sock"),
    ("elastic", "Beat/metricbeat", "metricbeat", "1", "high", "docker.sock"),
    ("logging", "StatefulSet/log-agent", "<unknown>", "0", "medium", "/run"),
    ("logging", "StatefulSet.apps.kruise.io/log-agent", "<unknown>", "1", "medium", "/var/lib/docker/containers"),
]
