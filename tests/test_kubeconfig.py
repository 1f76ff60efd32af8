"""Connection flags and kubeconfig semantics: kubectl's merge rules, overrides, in-cluster, exec plugins."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugin.errors import ConfigError, UsageError
from plugin.kubeconfig import (
    ConnectionFlags,
    InClusterFiles,
    context_names,
    load_connection,
    parse_request_timeout,
)

EXEC_API = "client.authentication.k8s.io/v1"


def kubeconfig(path: Path, *, current: str | None = None, clusters: dict[str, dict] | None = None,
               users: dict[str, dict] | None = None, contexts: dict[str, dict] | None = None) -> Path:
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Config"}
    if current is not None:
        doc["current-context"] = current
    doc["clusters"] = [{"name": n, "cluster": c} for n, c in (clusters or {}).items()]
    doc["users"] = [{"name": n, "user": u} for n, u in (users or {}).items()]
    doc["contexts"] = [{"name": n, "context": c} for n, c in (contexts or {}).items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


def simple(path: Path, name: str = "ctx", server: str = "https://10.0.0.1:6443", token: str = "tok",
           namespace: str | None = None) -> Path:
    context = {"cluster": f"{name}-cluster", "user": f"{name}-user"}
    if namespace:
        context["namespace"] = namespace
    return kubeconfig(path, current=name, clusters={f"{name}-cluster": {"server": server}},
                      users={f"{name}-user": {"token": token}}, contexts={name: context})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def no_pod(tmp_path: Path) -> InClusterFiles:
    """Service-account paths that do not exist, so no test ever sees a real pod's account."""
    missing = tmp_path / "no-serviceaccount"
    return InClusterFiles(token=str(missing / "token"), ca=str(missing / "ca.crt"),
                          namespace=str(missing / "namespace"))


def env_with(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": os.environ.get("PATH", ""), **extra}


def bearer(connection: Any) -> str | None:
    return connection.authorization()


def exec_plugin(folder: Path, name: str, body: str) -> Path:
    """A small executable credential plugin written in Python."""
    script = folder / name
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"#!{sys.executable}\nimport json, sys, os\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def exec_user(command: str, **extra: Any) -> dict[str, Any]:
    return {"exec": {"apiVersion": EXEC_API, "command": command, **extra}}


# --- merging ---------------------------------------------------------------------------------


def test_first_current_context_wins_and_first_definition_wins(tmp_path: Path, home: Path) -> None:
    first = kubeconfig(tmp_path / "a.yaml", current="a",
                       clusters={"shared": {"server": "https://first:6443"}},
                       users={"u": {"token": "from-a"}},
                       contexts={"a": {"cluster": "shared", "user": "u", "namespace": "ns-a"}})
    second = kubeconfig(tmp_path / "b.yaml", current="b",
                        clusters={"shared": {"server": "https://second:6443"},
                                  "only-b": {"server": "https://only-b:6443"}},
                        users={"u": {"token": "from-b"}},
                        contexts={"a": {"cluster": "only-b", "user": "u"},
                                  "b": {"cluster": "shared", "user": "u", "namespace": "ns-b"}})
    env = env_with(home, KUBECONFIG=os.pathsep.join([str(first), str(second)]))

    conn = load_connection(ConnectionFlags(), env)
    assert (conn.context, conn.server, conn.namespace) == ("a", "https://first:6443", "ns-a")
    assert bearer(conn) == "Bearer from-a"

    # Context b comes from the second file, but its cluster and user are the first file's.
    conn = load_connection(ConnectionFlags(context="b"), env)
    assert (conn.context, conn.server, conn.namespace) == ("b", "https://first:6443", "ns-b")
    assert bearer(conn) == "Bearer from-a"

    assert context_names(ConnectionFlags(), env) == ["a", "b"]


def test_later_file_supplies_current_context_when_earlier_has_none(tmp_path: Path, home: Path) -> None:
    first = kubeconfig(tmp_path / "a.yaml", clusters={"c": {"server": "https://a:1"}})
    second = simple(tmp_path / "b.yaml", name="b", server="https://b:2")
    conn = load_connection(ConnectionFlags(), env_with(home, KUBECONFIG=f"{first}{os.pathsep}{second}"))
    assert (conn.context, conn.server) == ("b", "https://b:2")


def test_missing_kubeconfig_entries_are_skipped(tmp_path: Path, home: Path) -> None:
    real = simple(tmp_path / "real.yaml")
    env = env_with(home, KUBECONFIG=os.pathsep.join([str(tmp_path / "gone.yaml"), "", str(real)]))
    assert load_connection(ConnectionFlags(), env).context == "ctx"


def test_home_kubeconfig_is_the_default(home: Path) -> None:
    simple(home / ".kube" / "config", name="home-ctx")
    assert load_connection(ConnectionFlags(), env_with(home)).context == "home-ctx"
    assert context_names(ConnectionFlags(), env_with(home)) == ["home-ctx"]


def test_kubeconfig_flag_means_that_file_only(tmp_path: Path, home: Path) -> None:
    listed = simple(tmp_path / "listed.yaml", name="listed")
    chosen = simple(tmp_path / "chosen.yaml", name="chosen")
    env = env_with(home, KUBECONFIG=str(listed))
    flags = ConnectionFlags(kubeconfig=str(chosen))
    assert load_connection(flags, env).context == "chosen"
    assert context_names(flags, env) == ["chosen"]
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(chosen), context="listed"), env)
    assert str(err.value) == 'error: context "listed" does not exist'


def test_missing_kubeconfig_flag_file(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(path)), env_with(home))
    assert str(err.value) == f"error: stat {path}: no such file or directory"
    with pytest.raises(ConfigError):
        context_names(ConnectionFlags(kubeconfig=str(path)), env_with(home))


def test_invalid_yaml_names_the_file_but_not_the_line(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("users:\n- name: u\n  user:\n    token: super-secret-token: [\n")
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(path)), env_with(home))
    message = str(err.value)
    assert message.startswith(f'error: error loading config file "{path}": yaml: line ')
    assert "super-secret-token" not in message


def test_relative_paths_resolve_against_their_own_file(tmp_path: Path, home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "configs" / "team"
    folder.mkdir(parents=True)
    for name in ("ca.crt", "client.crt", "client.key"):
        (folder / name).write_text("not checked at load time\n")
    (folder / "token.txt").write_text("file-token\n")
    config = kubeconfig(folder / "config", current="t",
                        clusters={"c": {"server": "https://10.1.1.1", "certificate-authority": "ca.crt"},
                                  "plain": {"server": "https://10.1.1.2"}},
                        users={"certs": {"client-certificate": "client.crt", "client-key": "./client.key"},
                               "file": {"tokenFile": "token.txt"}},
                        contexts={"t": {"cluster": "c", "user": "certs"},
                                  "f": {"cluster": "plain", "user": "file"}})
    other_cwd = tmp_path / "elsewhere"
    other_cwd.mkdir()
    monkeypatch.chdir(other_cwd)  # relative to the file, never to the working directory

    conn = load_connection(ConnectionFlags(), env_with(home, KUBECONFIG=str(config)))
    assert conn.configuration.ssl_ca_cert == str(folder / "ca.crt")
    assert conn.configuration.cert_file == str(folder / "client.crt")
    assert conn.configuration.key_file == str(folder / "client.key")

    conn = load_connection(ConnectionFlags(context="f"), env_with(home, KUBECONFIG=str(config)))
    assert bearer(conn) == "Bearer file-token"  # and the trailing newline is gone


def test_relative_exec_command_resolves_against_its_file(tmp_path: Path, home: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cfg"
    exec_plugin(folder / "bin", "creds", f'print(json.dumps({{"apiVersion": "{EXEC_API}", '
                '"kind": "ExecCredential", "status": {"token": "relative-exec-token"}}))')
    config = kubeconfig(folder / "config", current="x", clusters={"c": {"server": "https://10.0.0.9"}},
                        users={"u": exec_user("./bin/creds")}, contexts={"x": {"cluster": "c", "user": "u"}})
    monkeypatch.chdir(tmp_path)
    conn = load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    assert bearer(conn) == "Bearer relative-exec-token"


def test_missing_referenced_file_is_a_clear_error(tmp_path: Path, home: Path) -> None:
    config = kubeconfig(tmp_path / "config", current="x",
                        clusters={"c": {"server": "https://10.0.0.9", "certificate-authority": "gone.crt"}},
                        contexts={"x": {"cluster": "c"}})
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    gone = tmp_path / "gone.crt"
    assert str(err.value) == (f"error: unable to read certificate-authority {gone} for c due to open {gone}: "
                              "no such file or directory")


def test_client_certificate_needs_its_key(tmp_path: Path, home: Path) -> None:
    (tmp_path / "client.crt").write_text("x")
    config = kubeconfig(tmp_path / "config", current="x", clusters={"c": {"server": "https://h"}},
                        users={"u": {"client-certificate": "client.crt"}},
                        contexts={"x": {"cluster": "c", "user": "u"}})
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    assert str(err.value) == ("error: client-key-data or client-key must be specified for u to use the "
                              "clientCert authentication method")


# --- context, namespace and overrides ---------------------------------------------------------


def test_namespace_flag_then_context_then_default(tmp_path: Path, home: Path) -> None:
    with_ns = simple(tmp_path / "ns.yaml", namespace="team-a")
    without_ns = simple(tmp_path / "plain.yaml")
    env = env_with(home)
    assert load_connection(ConnectionFlags(kubeconfig=str(with_ns)), env).namespace == "team-a"
    assert load_connection(ConnectionFlags(kubeconfig=str(with_ns), namespace="x"), env).namespace == "x"
    assert load_connection(ConnectionFlags(kubeconfig=str(without_ns)), env).namespace == "default"


def test_unknown_context(tmp_path: Path, home: Path) -> None:
    config = simple(tmp_path / "config")
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config), context="x"), env_with(home))
    assert str(err.value) == 'error: context "x" does not exist'


def test_current_context_naming_a_missing_context(tmp_path: Path, home: Path) -> None:
    config = kubeconfig(tmp_path / "config", current="ghost", clusters={"c": {"server": "https://h"}})
    with pytest.raises(ConfigError, match="context was not found for specified context: ghost"):
        load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))


def test_cluster_and_user_flags_pick_other_entries(tmp_path: Path, home: Path) -> None:
    config = kubeconfig(tmp_path / "config", current="x",
                        clusters={"c1": {"server": "https://one"}, "c2": {"server": "https://two"}},
                        users={"u1": {"token": "t1"}, "u2": {"token": "t2"}},
                        contexts={"x": {"cluster": "c1", "user": "u1", "namespace": "kept"}})
    env = env_with(home)
    conn = load_connection(ConnectionFlags(kubeconfig=str(config), cluster="c2", user="u2"), env)
    assert (conn.server, bearer(conn), conn.namespace, conn.context) == ("https://two", "Bearer t2", "kept", "x")

    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config), cluster="nope"), env)
    assert str(err.value) == 'error: no server found for cluster "nope"'
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config), user="nobody"), env)
    assert str(err.value) == 'error: auth info "nobody" does not exist'


def test_server_and_token_override_without_touching_the_file(tmp_path: Path, home: Path) -> None:
    config = kubeconfig(tmp_path / "config", current="x",
                        clusters={"c": {"server": "https://original:6443"}},
                        users={"u": {"username": "admin", "password": "pw", **exec_user("/nonexistent")}},
                        contexts={"x": {"cluster": "c", "user": "u"}})
    before = config.read_bytes()
    conn = load_connection(ConnectionFlags(kubeconfig=str(config), server="https://other:443",
                                           token="flag-token"), env_with(home))
    # --token replaces the user's other credentials: the broken exec plugin is never run.
    assert (conn.server, bearer(conn)) == ("https://other:443", "Bearer flag-token")
    assert config.read_bytes() == before


def test_server_without_scheme_follows_client_go(tmp_path: Path, home: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("x")
    env = env_with(home)
    assert load_connection(ConnectionFlags(server="127.0.0.1:8080"), env).server == "http://127.0.0.1:8080"
    conn = load_connection(ConnectionFlags(server="127.0.0.1:6443", certificate_authority=str(ca)), env)
    assert conn.server == "https://127.0.0.1:6443"


def test_tls_overrides(tmp_path: Path, home: Path) -> None:
    (tmp_path / "file-ca.crt").write_text("x")
    (tmp_path / "flag-ca.crt").write_text("y")
    config = kubeconfig(tmp_path / "config", current="x",
                        clusters={"c": {"server": "https://h:6443", "certificate-authority": "file-ca.crt"},
                                  "d": {"server": "https://h:6443", "certificate-authority-data": "eA=="}},
                        contexts={"x": {"cluster": "c"}})
    env = env_with(home)

    conn = load_connection(ConnectionFlags(kubeconfig=str(config), insecure_skip_tls_verify=True,
                                           tls_server_name="api.internal"), env)
    assert conn.configuration.verify_ssl is False
    assert conn.configuration.ssl_ca_cert is None  # as kubectl: no CA/insecure conflict
    assert conn.configuration.tls_server_name == "api.internal"

    # The flag's CA wins even over a CA embedded as data (which the client would otherwise prefer).
    conn = load_connection(ConnectionFlags(kubeconfig=str(config), cluster="d",
                                           certificate_authority=str(tmp_path / "flag-ca.crt")), env)
    assert conn.configuration.ssl_ca_cert == str(tmp_path / "flag-ca.crt")
    assert conn.configuration.verify_ssl is True


def test_server_flag_alone_needs_no_kubeconfig(home: Path, no_pod: InClusterFiles) -> None:
    conn = load_connection(ConnectionFlags(server="https://10.9.9.9:6443", token="t"), env_with(home),
                           in_cluster_files=no_pod)
    assert (conn.context, conn.namespace, conn.server, bearer(conn)) == (
        None, "default", "https://10.9.9.9:6443", "Bearer t")


def test_nothing_configured(home: Path, no_pod: InClusterFiles) -> None:
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(), env_with(home), in_cluster_files=no_pod)
    assert "--kubeconfig" in str(err.value) and "--server" in str(err.value)
    assert str(err.value).startswith("error: ")
    assert context_names(ConnectionFlags(), env_with(home)) == []


def test_impersonation_headers(tmp_path: Path, home: Path) -> None:
    config = simple(tmp_path / "config")
    conn = load_connection(ConnectionFlags(kubeconfig=str(config), as_user="jane", as_groups=("dev", "ops"),
                                           as_uid="42"), env_with(home))
    assert conn.headers == [("Impersonate-User", "jane"), ("Impersonate-Group", "dev"),
                            ("Impersonate-Group", "ops"), ("Impersonate-Uid", "42")]
    assert load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home)).headers == []
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config), as_groups=("dev",)), env_with(home))
    assert str(err.value) == ("error: requesting uid, groups or user-extra for ctx-user without impersonating "
                              "a user (use --as)")


def test_impersonation_from_the_kubeconfig_user(tmp_path: Path, home: Path) -> None:
    config = kubeconfig(tmp_path / "config", current="x", clusters={"c": {"server": "https://h"}},
                        users={"u": {"token": "t", "as": "bob", "as-groups": ["g"],
                                     "as-user-extra": {"scopes": ["a", "b"]}}},
                        contexts={"x": {"cluster": "c", "user": "u"}})
    conn = load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    assert conn.headers == [("Impersonate-User", "bob"), ("Impersonate-Group", "g"),
                            ("Impersonate-Extra-scopes", "a"), ("Impersonate-Extra-scopes", "b")]
    conn = load_connection(ConnectionFlags(kubeconfig=str(config), as_user="amy"), env_with(home))
    assert conn.headers[0] == ("Impersonate-User", "amy")


def test_basic_auth(tmp_path: Path, home: Path) -> None:
    config = kubeconfig(tmp_path / "config", current="x", clusters={"c": {"server": "https://h"}},
                        users={"u": {"username": "admin", "password": "s3cret"}},
                        contexts={"x": {"cluster": "c", "user": "u"}})
    conn = load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    assert bearer(conn) == "Basic YWRtaW46czNjcmV0"


# --- request timeout --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "seconds"), [
    ("0", None), ("", None), ("0s", None), ("30", 30.0), ("30s", 30.0), ("1m", 60.0), ("2h", 7200.0),
    ("1m30s", 90.0), ("1.5s", 1.5), ("500ms", 0.5), ("+5s", 5.0),
])
def test_request_timeout(value: str, seconds: float | None) -> None:
    assert parse_request_timeout(value) == seconds


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "-5s", "5x", "s", "1 m", "+"])
def test_bad_request_timeout(value: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_request_timeout(value)
    assert str(err.value).startswith("Invalid timeout value.")


def test_request_timeout_reaches_the_connection(tmp_path: Path, home: Path) -> None:
    config = simple(tmp_path / "config")
    conn = load_connection(ConnectionFlags(kubeconfig=str(config), request_timeout="45s"), env_with(home))
    assert conn.timeout == 45.0
    assert load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home)).timeout is None


# --- in-cluster --------------------------------------------------------------------------------


@pytest.fixture
def pod_account(tmp_path: Path) -> InClusterFiles:
    folder = tmp_path / "serviceaccount"
    folder.mkdir()
    (folder / "token").write_text("sa-token")
    (folder / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (folder / "namespace").write_text("kube-tools\n")
    return InClusterFiles(token=str(folder / "token"), ca=str(folder / "ca.crt"),
                          namespace=str(folder / "namespace"))


def test_in_cluster(home: Path, pod_account: InClusterFiles) -> None:
    env = env_with(home, KUBERNETES_SERVICE_HOST="10.96.0.1", KUBERNETES_SERVICE_PORT="443")
    conn = load_connection(ConnectionFlags(), env, in_cluster_files=pod_account)
    assert (conn.context, conn.server, conn.namespace) == (None, "https://10.96.0.1:443", "kube-tools")
    assert bearer(conn) == "bearer sa-token"
    assert conn.configuration.ssl_ca_cert == pod_account.ca

    assert load_connection(ConnectionFlags(namespace="mine"), env,
                           in_cluster_files=pod_account).namespace == "mine"
    assert load_connection(ConnectionFlags(), {**env, "POD_NAMESPACE": "from-downward-api"},
                           in_cluster_files=pod_account).namespace == "from-downward-api"
    conn = load_connection(ConnectionFlags(token="override"), env, in_cluster_files=pod_account)
    assert bearer(conn) == "Bearer override"


def test_in_cluster_ipv6_and_missing_ca(home: Path, pod_account: InClusterFiles) -> None:
    env = env_with(home, KUBERNETES_SERVICE_HOST="fd00::1", KUBERNETES_SERVICE_PORT="443")
    assert load_connection(ConnectionFlags(), env, in_cluster_files=pod_account).server == "https://[fd00::1]:443"
    os.remove(pod_account.ca)
    with pytest.raises(ConfigError, match="^error: in-cluster configuration: "):
        load_connection(ConnectionFlags(), env, in_cluster_files=pod_account)


def test_kubeconfig_is_preferred_over_in_cluster(tmp_path: Path, home: Path,
                                                 pod_account: InClusterFiles) -> None:
    config = simple(tmp_path / "config")
    env = env_with(home, KUBECONFIG=str(config), KUBERNETES_SERVICE_HOST="10.96.0.1",
                   KUBERNETES_SERVICE_PORT="443")
    assert load_connection(ConnectionFlags(), env, in_cluster_files=pod_account).context == "ctx"


# --- exec plugins, printing and the user's file ----------------------------------------------


def test_exec_plugin_gives_a_token_and_the_file_stays_unchanged(tmp_path: Path, home: Path,
                                                                capfd: pytest.CaptureFixture[str]) -> None:
    # An expiry in the past forces the client to run the plugin again on every use.
    plugin = exec_plugin(tmp_path, "creds.py", """
assert json.loads(os.environ["KUBERNETES_EXEC_INFO"])["kind"] == "ExecCredential"
sys.stderr.write("plugin chatter on stderr\\n")
print(json.dumps({"apiVersion": "EXEC_API", "kind": "ExecCredential",
                  "status": {"token": "exec-token-" + sys.argv[1],
                             "expirationTimestamp": "2000-01-01T00:00:00Z"}}))
""".replace("EXEC_API", EXEC_API))
    config = kubeconfig(tmp_path / "config", current="x", clusters={"c": {"server": "https://10.0.0.2"}},
                        users={"u": exec_user(str(plugin), args=["7"])},
                        contexts={"x": {"cluster": "c", "user": "u"}})
    before = config.read_bytes()
    conn = load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    assert bearer(conn) == "Bearer exec-token-7"
    assert bearer(conn) == "Bearer exec-token-7"  # refreshed through the hook, still fine
    assert config.read_bytes() == before
    assert capfd.readouterr() == ("", "")


def test_failing_exec_plugin_is_a_clear_error(tmp_path: Path, home: Path,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    plugin = exec_plugin(tmp_path, "broken.py", 'sys.stderr.write("cannot reach the IdP\\n"); sys.exit(3)')
    config = kubeconfig(tmp_path / "config", current="x", clusters={"c": {"server": "https://10.0.0.2"}},
                        users={"u": exec_user(str(plugin))}, contexts={"x": {"cluster": "c", "user": "u"}})
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    assert str(err.value) == (f"error: getting credentials: exec: executable {plugin} failed with exit code 3: "
                              "cannot reach the IdP")
    assert capfd.readouterr() == ("", "")
    assert (root.handlers, root.level) == (handlers, level)  # logging left as it was


def test_exec_plugin_not_installed(tmp_path: Path, home: Path, capfd: pytest.CaptureFixture[str]) -> None:
    config = kubeconfig(tmp_path / "config", current="x", clusters={"c": {"server": "https://10.0.0.2"}},
                        users={"u": exec_user("kubectl-dockershim-no-such-plugin",
                                              installHint="brew install the-plugin")},
                        contexts={"x": {"cluster": "c", "user": "u"}})
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    message = str(err.value)
    assert message.startswith("error: getting credentials: exec: executable kubectl-dockershim-no-such-plugin "
                              "not found")
    assert message.endswith("brew install the-plugin")
    assert capfd.readouterr() == ("", "")


def test_exec_plugin_with_bad_output(tmp_path: Path, home: Path, capfd: pytest.CaptureFixture[str]) -> None:
    plugin = exec_plugin(tmp_path, "garbage.py", 'print("token=leaked-secret")')
    config = kubeconfig(tmp_path / "config", current="x", clusters={"c": {"server": "https://10.0.0.2"}},
                        users={"u": exec_user(str(plugin))}, contexts={"x": {"cluster": "c", "user": "u"}})
    with pytest.raises(ConfigError) as err:
        load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    assert str(err.value).startswith(f"error: getting credentials: exec: executable {plugin} failed: ")
    assert "leaked-secret" not in str(err.value)
    assert capfd.readouterr() == ("", "")


def test_loading_prints_nothing(tmp_path: Path, home: Path, no_pod: InClusterFiles,
                                capfd: pytest.CaptureFixture[str]) -> None:
    config = simple(tmp_path / "config")
    load_connection(ConnectionFlags(kubeconfig=str(config)), env_with(home))
    load_connection(ConnectionFlags(server="https://h", insecure_skip_tls_verify=True), env_with(home),
                    in_cluster_files=no_pod)
    for flags in (ConnectionFlags(kubeconfig=str(config), context="nope"), ConnectionFlags()):
        with pytest.raises(ConfigError):
            load_connection(flags, env_with(home), in_cluster_files=no_pod)
    assert capfd.readouterr() == ("", "")


# --- proxies ------------------------------------------------------------------------------------


def test_proxy_follows_go_rules(home: Path, no_pod: InClusterFiles) -> None:
    env = env_with(home, HTTPS_PROXY="http://user:p%40ss@proxy.corp:3128", HTTP_PROXY="http://wrong:1",
                   NO_PROXY="internal.corp,10.0.0.0/8")

    def proxy_for(server: str) -> Any:
        return load_connection(ConnectionFlags(server=server, insecure_skip_tls_verify=True), env,
                               in_cluster_files=no_pod).configuration

    remote = proxy_for("https://api.example.com:6443")
    assert remote.proxy == "http://proxy.corp:3128"  # the credentials go to a header, not the URL
    assert remote.proxy_headers == {"proxy-authorization": "Basic dXNlcjpwQHNz"}
    assert proxy_for("https://127.0.0.1:6443").proxy is None
    assert proxy_for("https://localhost:6443").proxy is None
    assert proxy_for("https://k8s.internal.corp").proxy is None
    assert proxy_for("https://10.2.3.4:6443").proxy is None


# --- import cost --------------------------------------------------------------------------------


def test_importing_the_module_does_not_import_the_client() -> None:
    code = ("import sys, plugin.kubeconfig; "
            "bad = [m for m in ('kubernetes', 'yaml', 'urllib3') if m in sys.modules]; "
            "assert not bad, bad")
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
