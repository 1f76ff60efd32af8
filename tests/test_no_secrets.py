"""No credential ever reaches the output: every command and error path, run with known tokens,
passwords, client keys, exec-plugin secrets and proxy passwords, must print none of them (nor
their base64 forms) on stdout, stderr or in any log record, even when a server or a credential
plugin echoes them back.

The plugin has no `-v` flag (yet): every log record the client libraries emit is captured at
DEBUG level instead, which is what a verbose flag would show."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from plugin import api
from plugin.api import RetryPolicy
from plugin.cli import main
from tests.apiserver import ApiServer, Policy, Rule
from tests.e2e import cluster
from tests.loopback import closed_port

TOKEN = "kds-token-7f3a9c2e5b1d4a60"
REJECTED_TOKEN = "kds-rejected-token-0b9e1c77"
PASSWORD = "kds-password-4e8b11d2"
EXEC_SECRET = "kds-exec-secret-91c2aa03"
EXEC_TOKEN = "kds-exec-token-66f0d2b8"
PROXY_PASSWORD = "kds-proxy-pass-55aa7e12"
SECRETS = [TOKEN, REJECTED_TOKEN, PASSWORD, EXEC_SECRET, EXEC_TOKEN, PROXY_PASSWORD]


def forms(secret: str) -> list[str]:
    """A secret and the shapes it may take on the way out."""
    return [secret, base64.b64encode(secret.encode()).decode(), json.dumps(secret)[1:-1]]


@pytest.fixture(scope="module")
def server() -> Iterator[ApiServer]:
    srv = ApiServer(cluster.objects(), tokens={TOKEN: "admin", "viewer-token": "viewer"},
                    policy=Policy({"admin": [Rule(verbs=("*",))], "viewer": [Rule(namespaces=("apps",))]}))
    srv.start()
    yield srv
    srv.stop()


@dataclass
class Run:
    code: int
    out: str
    err: str
    log: str


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> Any:
    for name in [n for n in os.environ if n.startswith("KUBE")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(api, "DEFAULT_RETRY", RetryPolicy(retries=1, base_delay=0, max_delay=0))
    caplog.set_level(logging.DEBUG)

    def run_plugin(config: dict[str, Any] | str, *args: str) -> Run:
        path = tmp_path / "kubeconfig"
        path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
        capsys.readouterr()
        caplog.clear()
        code = main([*args, "--kubeconfig", str(path)] if args[0] != "version" else list(args))
        out, err = capsys.readouterr()
        result = Run(code, out, err, caplog.text + "".join(repr(r.__dict__) for r in caplog.records))
        for secret in SECRETS:
            for form in forms(secret):
                assert form not in result.out, (args, secret)
                assert form not in result.err, (args, secret, result.err)
                assert form not in result.log, (args, secret)
        assert "Traceback" not in result.err
        return result

    return run_plugin


def kubeconfig(server_url: str, user: dict[str, Any], ca_pem: bytes | None = None,
               cluster_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    cluster_entry: dict[str, Any] = {"server": server_url, **(cluster_extra or {})}
    if ca_pem is not None:
        cluster_entry["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {"apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "c", "cluster": cluster_entry}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u", "namespace": "ci"}}]}


def server_ca(server: ApiServer) -> bytes:
    return Path(server.ca_path).read_bytes()


def exec_plugin(tmp_path: Path, body: str) -> str:
    path = tmp_path / "credentials"
    path.write_text(f"#!{sys.executable}\nimport json, os, sys\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


# --- every command, with a working token --------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("scan", "-A"), ("scan", "-A", "-o", "json"), ("scan", "-n", "ci", "-o", "yaml"), ("scan", "-A", "-o", "wide"),
    ("scan", "-A", "-o", "sarif"), ("explain", "ds/datadog", "-n", "monitoring"),
    ("explain", "pod/debug-shell", "-o", "json"), ("mounts", "-A"), ("nodes",), ("version",),
    ("explain", "pod/missing"),
])
def test_commands(server: ApiServer, run: Any, args: tuple[str, ...]) -> None:
    result = run(kubeconfig(server.url, {"token": TOKEN}, server_ca(server)), *args)
    assert result.code in (0, 1)


@pytest.fixture(scope="module")
def log_shipper_server() -> Iterator[ApiServer]:
    from tests.e2e.test_log_configs import objects as log_shipper_objects

    srv = ApiServer(log_shipper_objects(), tokens={TOKEN: "admin"})
    srv.start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("args", [
    ("scan", "-A", "--read-configmaps"), ("scan", "-A", "--read-configmaps", "-o", "wide"),
    ("scan", "-A", "--read-configmaps", "-o", "json"), ("scan", "-A", "--read-configmaps", "-o", "yaml"),
    ("scan", "-A", "--read-configmaps", "-o", "sarif"), ("scan", "-A", "--read-configmaps", "-o", "markdown"),
    ("scan", "-A", "--read-configmaps", "--summary"),
    ("explain", "ds/fluent-bit", "-n", "logging", "--read-configmaps", "-o", "yaml"),
])
def test_a_password_in_a_configmap_read_for_its_parser(log_shipper_server: ApiServer, run: Any,
                                                        args: tuple[str, ...]) -> None:
    """The Elasticsearch password next to `Parser docker` in fluent-bit's ConfigMap: the finding is
    reported, nothing else of the ConfigMap is, nor logged."""
    from tests.e2e.test_log_configs import SECRET as CONFIGMAP_SECRET

    result = run(kubeconfig(log_shipper_server.url, {"token": TOKEN}, server_ca(log_shipper_server)), *args)
    assert result.code == 0, result.err
    assert "DS009" in result.out or "docker-agent-config" in result.out
    for form in forms(CONFIGMAP_SECRET):
        assert form not in result.out + result.err + result.log, args


# --- error paths --------------------------------------------------------------------------------


def test_unauthorized(server: ApiServer, run: Any) -> None:
    result = run(kubeconfig(server.url, {"token": REJECTED_TOKEN}, server_ca(server)), "scan", "-A")
    assert result.err == "error: You must be logged in to the server (Unauthorized)\n"


def test_forbidden(server: ApiServer, run: Any) -> None:
    result = run(kubeconfig(server.url, {"token": "viewer-token", "password": PASSWORD}, server_ca(server)),
                 "scan", "-A")
    assert result.err.startswith("Error from server (Forbidden): ")


def test_basic_auth_password(server: ApiServer, run: Any) -> None:
    result = run(kubeconfig(server.url, {"username": "admin", "password": PASSWORD}, server_ca(server)), "scan", "-A")
    assert result.code == 1
    assert base64.b64encode(f"admin:{PASSWORD}".encode()).decode() not in result.err + result.log


def test_connection_refused(run: Any) -> None:
    port = closed_port()
    result = run(kubeconfig(f"https://127.0.0.1:{port}", {"token": TOKEN}, trustme.CA().cert_pem.bytes()), "scan")
    assert "was refused" in result.err


def test_wrong_ca_with_a_client_key(server: ApiServer, run: Any) -> None:
    cert, key = server.issue_client_cert("admin")
    key_data = base64.b64encode(Path(key).read_bytes()).decode()
    user = {"client-certificate-data": base64.b64encode(Path(cert).read_bytes()).decode(),
            "client-key-data": key_data}
    result = run(kubeconfig(server.url, user, trustme.CA().cert_pem.bytes()), "scan", "-A")
    assert "x509: certificate signed by unknown authority" in result.err
    pem_lines = [line for line in Path(key).read_text().splitlines() if "-----" not in line]
    assert not any(line in result.err + result.log for line in [key_data, *pem_lines])


@pytest.mark.parametrize("text", [
    f"users:\n- name: u\n  user:\n    token: {TOKEN}: oops\n",  # a syntax error on the token's line
    f"users:\n- name: u\n  user: {{token: {TOKEN}\n",
    f"users: [{{name: u, user: {{token: '{TOKEN}', client-key-data: '{PASSWORD}'}}}}]\nclusters: {TOKEN}\n",
    "current-context: test\n" + yaml.safe_dump({
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": TOKEN, "client-certificate-data": "x",
                                        "client-key-data": f"{PASSWORD}!!"}}]}),
], ids=["yaml-error", "unclosed", "not-a-list", "bad-key-data"])
def test_broken_kubeconfigs(run: Any, text: str) -> None:
    result = run(text, "scan")
    assert result.code == 1 and result.err.startswith("error: ")


def test_a_failing_exec_plugin_that_echoes_its_secrets(server: ApiServer, run: Any, tmp_path: Path) -> None:
    command = exec_plugin(tmp_path, 'sys.stderr.write("auth failed for " + os.environ["API_KEY"] + " and " '
                                    '+ os.environ["REFRESH_TOKEN"] + " with profile " + os.environ["AWS_PROFILE"] '
                                    '+ "\\n"); sys.exit(1)')
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command,
                     "env": [{"name": "API_KEY", "value": EXEC_SECRET}, {"name": "REFRESH_TOKEN", "value": TOKEN},
                             {"name": "AWS_PROFILE", "value": "default"}]}}
    result = run(kubeconfig(server.url, user, server_ca(server)), "scan", "-A")
    # Values of env vars named like credentials are masked; a profile name is not a secret.
    assert result.err == (f"error: getting credentials: exec: executable {command} failed with exit code 1: "
                          "auth failed for <redacted> and <redacted> with profile default\n")


def test_an_exec_token_the_server_rejects(server: ApiServer, run: Any, tmp_path: Path) -> None:
    command = exec_plugin(tmp_path, 'print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", '
                                    f'"kind": "ExecCredential", "status": {{"token": "{EXEC_TOKEN}"}}}}))')
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command}}
    result = run(kubeconfig(server.url, user, server_ca(server)), "scan", "-A")
    assert result.err == "error: You must be logged in to the server (Unauthorized)\n"


def test_exec_output_that_is_not_json(server: ApiServer, run: Any, tmp_path: Path) -> None:
    command = exec_plugin(tmp_path, f'print("token={EXEC_TOKEN}")')
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command}}
    result = run(kubeconfig(server.url, user, server_ca(server)), "scan", "-A")
    assert result.code == 1 and result.err.startswith("error: getting credentials: exec: ")


def test_a_proxy_password(server: ApiServer, run: Any) -> None:
    port = closed_port()
    proxy = f"http://someone:{PROXY_PASSWORD}@127.0.0.1:{port}"
    result = run(kubeconfig(server.url, {"token": TOKEN}, server_ca(server), {"proxy-url": proxy}), "scan", "-A")
    assert result.err == f"Unable to connect to the server: proxyconnect tcp: dial tcp 127.0.0.1:{port}: connect: " \
                         "connection refused\n"


def test_a_token_with_a_line_break(server: ApiServer, run: Any, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n{PASSWORD}\n")
    result = run(kubeconfig(server.url, {"tokenFile": str(token_file)}, server_ca(server)), "scan", "-A")
    assert result.err == 'Unable to connect to the server: net/http: invalid header field value for "Authorization"\n'


def test_a_server_that_echoes_the_request(run: Any) -> None:
    import http.server

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403,
                               "reason": "Forbidden", "message": f"you sent {dict(self.headers)}"}).encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        result = run(kubeconfig(f"http://127.0.0.1:{httpd.server_address[1]}", {"token": TOKEN}), "scan", "-A")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.err.startswith("Error from server (Forbidden): you sent ")
    assert "'Authorization': '<redacted>'" in result.err


def test_the_token_flag(run: Any) -> None:
    result = run(kubeconfig(f"https://127.0.0.1:{closed_port()}", {}), "scan", "--token", TOKEN,
                 "--insecure-skip-tls-verify")
    assert "was refused" in result.err
