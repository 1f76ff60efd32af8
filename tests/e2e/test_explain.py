"""`kubectl dockershim explain` end to end through the real kubectl against the test API server."""

from __future__ import annotations

import json
import re

from tests.e2e.conftest import Plugin


def fields(stdout: str) -> dict[str, str]:
    """Top-level `Label:   value` lines of the describe layout."""
    out = {}
    for line in stdout.splitlines():
        if not line.startswith(" ") and ":" in line:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def test_explain_a_pod_names_owner_agent_finding_and_migration(plugin: Plugin, server) -> None:
    result = plugin.run("explain", "datadog-0x7k", "-n", "monitoring")
    assert result.returncode == 0, result.stderr
    top = fields(result.stdout)
    assert top["Owned by"] == "DaemonSet/datadog" and top["Node"] == "node-1"
    assert "Datadog Agent (Datadog)" in result.stdout
    assert re.search(r"\n  Identified by: +image gcr.io/datadoghq/agent:7.50.0\n", result.stdout)
    assert "DS002 docker-socket-directory (low)" in result.stdout
    assert re.search(r"\n    Mount path: +/host/var/run \(read-only\)\n", result.stdout)
    assert "criSocketPath" in result.stdout and "Docs: https://" in result.stdout
    assert {r.method for r in server.requests} == {"GET"}


def test_explain_a_workload_lists_its_pods(plugin: Plugin) -> None:
    for target in (["deploy/runner"], ["deployment", "runner"], ["deployments.apps/runner"]):
        result = plugin.run("explain", *target, "-n", "ci")
        assert result.returncode == 0, result.stderr
        top = fields(result.stdout)
        assert top["Kind"] == "Deployment" and top["Pods"] == "runner-5d4f8-abcde, runner-5d4f8-fghij"
        assert "DS001 docker-socket (high)" in result.stdout


def test_explain_cronjob_finds_pods_through_its_jobs(plugin: Plugin) -> None:
    doc = json.loads(plugin.run("explain", "cj/image-build", "-n", "ci", "-o", "json").stdout)
    assert doc["pods"] == ["image-build-2890-q8x"] and doc["dockerDependency"] is True
    assert doc["findings"][0]["subPath"] == "docker.sock"


def test_explain_json_document(plugin: Plugin) -> None:
    result = plugin.run("explain", "pod/datadog-1x7k", "-n", "monitoring", "-o", "json")
    doc = json.loads(result.stdout)
    assert [r["kind"] for r in doc["ownerChain"]] == ["Pod", "DaemonSet"]
    assert doc["agent"]["id"] == "datadog-agent" and doc["agent"]["migration"]["containerd"]
    assert doc["agent"]["migrated"] == ["image tag 7.50.0 >= 7.27"]


def test_no_docker_dependency(plugin: Plugin) -> None:
    result = plugin.run("explain", "deploy/web", "-n", "apps")
    assert result.returncode == 0
    top = fields(result.stdout)
    assert top["Docker dependency"] == "none found" and top["Pods"] == "web-77f-0, web-77f-1, web-77f-2"
    assert top["Agent"].startswith("<unknown>")


def test_missing_pod_is_not_found(plugin: Plugin) -> None:
    result = plugin.run("explain", "nope")  # the context's namespace is ci
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == 'Error from server (NotFound): pods "nope" not found\n'
    result = plugin.run("explain", "ds/nope", "-n", "monitoring")
    assert result.stderr == 'Error from server (NotFound): daemonsets.apps "nope" not found\n'


def test_explain_usage_errors(plugin: Plugin) -> None:
    result = plugin.run("explain", "svc/web")
    assert result.returncode == 1 and result.stderr.startswith('error: cannot explain "svc"')
    result = plugin.run("explain")
    assert result.returncode == 1 and "you must specify the pod or workload" in result.stderr
