"""The admin CLI (`arca vault create/list/show/delete`) and persistence across a restart.

The CLI talks to the running server using <data-dir>/bootstrap.json. The JSON
printed by `--output json` is only assumed to carry the vault's `name` (list:
an array of such objects); retention is looked for in any key containing
"retention" and is checked for real through the SDK in test_secrets_sdk.py.
"""

from __future__ import annotations

import json
import os
import signal
import shutil
import stat
import tempfile
import uuid
from pathlib import Path

import pytest
import requests

from arca_harness import ArcaServer, cli_failure, find_values, vault_names_from_list_output, assert_refused

API = "2026-04-01"


def vault_names(server: ArcaServer) -> list:
    proc = server.vault_cli("list")
    assert proc.returncode == 0, cli_failure(proc)
    return vault_names_from_list_output(proc.stdout)


def vault_name(prefix: str = "cli") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture
def http(ca_cert):
    session = requests.Session()
    session.verify = ca_cert
    yield session
    session.close()


def test_vault_create_list_show_delete(arca, http, token):
    name = vault_name()
    proc = arca.vault_cli("create", name, "--retention-days", "30")
    assert proc.returncode == 0, cli_failure(proc)
    created = json.loads(proc.stdout)
    assert isinstance(created, dict) and str(created.get("name", "")).lower() == name, proc.stdout
    retention = find_values(created, "retention")
    assert not retention or 30 in retention, f"create printed retention {retention}, expected 30"

    names = vault_names(arca)
    assert name in names and "default" in names
    assert len(names) == len(set(names)), f"duplicates in vault list: {names}"

    proc = arca.vault_cli("show", name)
    assert proc.returncode == 0, cli_failure(proc)
    shown = json.loads(proc.stdout)
    assert str(shown.get("name", "")).lower() == name, proc.stdout
    retention = find_values(shown, "retention")
    assert not retention or 30 in retention, f"show printed retention {retention}, expected 30"

    url = arca.vault_url(name)
    headers = {"Authorization": f"Bearer {token}"}
    resp = http.put(f"{url}/secrets/hello", params={"api-version": API}, json={"value": "world"}, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["attributes"]["recoverableDays"] == 30

    proc = arca.vault_cli("delete", name)
    assert proc.returncode == 0, cli_failure(proc)
    assert name not in vault_names(arca)
    assert_refused(arca.vault_cli("show", name))
    assert_refused(arca.vault_cli("delete", name))
    resp = http.get(f"{url}/secrets", params={"api-version": API}, headers=headers)
    assert resp.status_code == 404, resp.text
    assert resp.json()["error"]["code"] == "VaultNotFound"


def test_show_unknown_vault_fails(arca):
    assert_refused(arca.vault_cli("show", vault_name("missing")))
    assert_refused(arca.vault_cli("delete", vault_name("missing")))


@pytest.mark.parametrize("name", ["ab", "a" * 25, "1abc", "-abc", "a_b", "a.b", "a b", "abc/def", ""])
def test_bad_vault_names_are_refused(arca, name):
    assert_refused(arca.vault_cli("create", name))
    assert name.lower() not in vault_names(arca)


def test_name_length_boundaries(arca):
    shortest = "z" + uuid.uuid4().hex[:2]
    longest = "b" + uuid.uuid4().hex[:12] + "-" + "x" * 10
    assert len(shortest) == 3 and len(longest) == 24
    for name in (shortest, longest):
        proc = arca.vault_cli("create", name)
        assert proc.returncode == 0, cli_failure(proc)
    names = vault_names(arca)
    assert shortest in names and longest in names


@pytest.mark.parametrize("days", ["6", "91", "0", "-1", "abc"])
def test_bad_retention_is_refused(arca, days):
    name = vault_name("ret")
    assert_refused(arca.vault_cli("create", name, "--retention-days", days))
    assert name not in vault_names(arca)


@pytest.mark.parametrize("days", [7, 90])
def test_retention_bounds_are_accepted(arca, days):
    name = vault_name("ret")
    proc = arca.vault_cli("create", name, "--retention-days", str(days), "--purge-protection")
    assert proc.returncode == 0, cli_failure(proc)
    assert name in vault_names(arca)


def test_create_existing_vault_is_refused(arca):
    name = vault_name("dup")
    proc = arca.vault_cli("create", name)
    assert proc.returncode == 0, cli_failure(proc)
    assert_refused(arca.vault_cli("create", name))
    assert_refused(arca.vault_cli("create", name, "--retention-days", "7"))
    assert_refused(arca.vault_cli("create", name.upper()))  # host names are case-insensitive
    assert_refused(arca.vault_cli("create", "default"))
    assert vault_names(arca).count(name) == 1


# ---------------------------------------------------------------------------
# A second server: restart on the same data dir
# ---------------------------------------------------------------------------


def test_restart_keeps_secrets_and_bootstrap(server_env, add_trusted_ca):
    from azure.core.exceptions import ResourceNotFoundError
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    workdir = Path(tempfile.mkdtemp(prefix="arca-restart-"))
    server = ArcaServer(workdir, env=server_env)
    ok = False
    try:
        server.start()
        boot = server.bootstrap
        boot_bytes = server.bootstrap_path.read_bytes()
        assert stat.S_IMODE(os.stat(server.bootstrap_path).st_mode) == 0o600, "bootstrap.json must be mode 0600"
        add_trusted_ca(boot["ca_cert"])

        def client_pair():
            cred = ClientSecretCredential(boot["tenant_id"], boot["client_id"], boot["client_secret"],
                                          authority=boot["authority_host"], disable_instance_discovery=True)
            return cred, SecretClient(boot["vault_url"], cred)

        marker = uuid.uuid4().hex
        first_value, second_value = f"first-{marker}", f"second-{marker}"
        cred, client = client_pair()
        with cred, client:
            v1 = client.set_secret("persisted", first_value, tags={"k": "v"}).properties.version
            v2 = client.set_secret("persisted", second_value, content_type="text/plain").properties.version
            client.update_secret_properties("persisted", v1, enabled=False)
            client.set_secret("gone", f"gone-{marker}")
            client.begin_delete_secret("gone").wait()
            old_token = cred.get_token(f"{server.resource}/.default").token
        extra = vault_name("keep")
        proc = server.vault_cli("create", extra, "--retention-days", "7")
        assert proc.returncode == 0, cli_failure(proc)

        rc = server.stop()
        assert rc == 0, server.describe(f"`arca serve` exited with status {rc} after SIGTERM (expected 0)")

        # while the server is down the CLI neither hangs nor fails silently
        down = server.vault_cli("list", timeout=60)
        assert down.returncode == 0 or down.stderr.strip(), cli_failure(down)

        server.start()
        assert server.bootstrap_path.read_bytes() == boot_bytes, "bootstrap.json changed across a restart"
        assert server.read_bootstrap()["client_secret"] == boot["client_secret"]

        cred, client = client_pair()
        with cred, client:
            latest = client.get_secret("persisted")
            assert (latest.value, latest.properties.version) == (second_value, v2)
            assert latest.properties.content_type == "text/plain"
            versions = sorted(p.version for p in client.list_properties_of_secret_versions("persisted"))
            assert versions == sorted([v1, v2])
            disabled = [p for p in client.list_properties_of_secret_versions("persisted") if p.version == v1]
            assert disabled[0].enabled is False and disabled[0].tags == {"k": "v"}
            client.update_secret_properties("persisted", v1, enabled=True)
            assert client.get_secret("persisted", v1).value == first_value
            assert client.get_deleted_secret("gone").name == "gone"
            with pytest.raises(ResourceNotFoundError):
                client.get_secret("gone")
        assert extra in vault_names(server)

        # tokens issued before the restart are still accepted (signing key persisted)
        resp = requests.get(f"{boot['vault_url']}/secrets", params={"api-version": API},
                            headers={"Authorization": f"Bearer {old_token}"}, verify=boot["ca_cert"], timeout=30)
        assert resp.status_code == 200, f"token from before the restart refused: {resp.status_code} {resp.text}"

        rc = server.stop()
        assert rc == 0, server.describe(f"`arca serve` exited with status {rc} after SIGTERM (expected 0)")

        # nothing secret reached the server's stdout/stderr in either run
        output = server.all_output()
        for label, secret in (("client_secret", boot["client_secret"]), ("identity_header", boot["identity_header"]),
                              ("access token", old_token), ("secret value", first_value),
                              ("secret value", second_value)):
            assert secret not in output, f"the server printed the {label} on stdout/stderr"
        ok = True
    finally:
        server.kill()
        if ok and not os.environ.get("ARCA_TEST_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_shutdown_signal_finishes_requests_in_flight(server_env, signum):
    """Requests in flight when the signal arrives are answered; then the process exits 0.

    Each of four token requests sends its headers and half its body, so the server is inside
    the request when the signal lands; the rest of each body follows the signal, and every
    request must still get its token.
    """
    import socket
    import ssl
    import time
    import urllib.parse

    workdir = Path(tempfile.mkdtemp(prefix="arca-drain-"))
    server = ArcaServer(workdir, env=server_env)
    try:
        server.start()
        boot = server.bootstrap
        context = ssl.create_default_context(cafile=boot["ca_cert"])
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": boot["client_id"],
            "client_secret": boot["client_secret"], "scope": server.resource + "/.default",
        }).encode()
        head = (f"POST /{boot['tenant_id']}/oauth2/v2.0/token HTTP/1.1\r\n"
                f"Host: localhost:{server.port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(form)}\r\n\r\n").encode()
        half = len(form) // 2
        streams = []
        for _ in range(4):
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            stream = context.wrap_socket(raw, server_hostname="localhost")
            stream.sendall(head + form[:half])
            streams.append(stream)
        time.sleep(0.3)
        server.proc.send_signal(signum)
        time.sleep(0.3)
        for stream in streams:
            stream.sendall(form[half:])
        for stream in streams:
            received = b""
            while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
                chunk = stream.recv(65536)
                if not chunk:
                    break
                received += chunk
            stream.close()
            assert received.startswith(b"HTTP/1.1 200"), received[:200]
            assert b"access_token" in received
        assert server.proc.wait(timeout=30) == 0, server.describe("arca did not exit cleanly")
        # Once stopped, the port no longer answers.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    finally:
        server.kill()
        shutil.rmtree(workdir, ignore_errors=True)
