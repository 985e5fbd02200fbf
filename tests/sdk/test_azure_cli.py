"""The Azure CLI (azure-cli from PyPI, pinned in tests/azure-cli/requirements.txt, in its own
virtual environment made by scripts/test-azure-cli-venv) against a real `arca` over TLS:
docs/examples/azure-cli.sh registers Arca as a cloud, signs in with `az login
--service-principal ... --allow-no-subscriptions` (a token for the management resource, then
GET /subscriptions) and runs every `az keyvault secret` command; the test then checks what the
server holds and what az remembers of the sign-in.

The az venv is found through $ARCA_AZ (scripts/test sets it) or at target/azure-cli-venv; when
it is missing the test is skipped, unless $ARCA_AZ is set, when it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests

from arca_harness import REPO_ROOT, ArcaServer, started_server

EXAMPLE = REPO_ROOT / "docs" / "examples" / "azure-cli.sh"
TIMEOUT = 30


def az_path() -> str:
    named = os.environ.get("ARCA_AZ")
    path = named or str(REPO_ROOT / "target" / "azure-cli-venv" / "bin" / "az")
    if not os.access(path, os.X_OK):
        if named:
            pytest.fail(f"ARCA_AZ={named} is not an executable az")
        pytest.skip("no Azure CLI venv: run scripts/test-azure-cli-venv (scripts/test does)")
    return path


@pytest.fixture
def own_server(server_env, add_trusted_ca):
    with started_server("arca-az-", server_env, trust=add_trusted_ca) as server:
        yield server


def test_az_login_and_every_keyvault_secret_command(own_server: ArcaServer, tmp_path: Path) -> None:
    az = az_path()
    boot = own_server.bootstrap
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "MSI_", "IDENTITY_")) and k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
    }
    env.update({
        "AZ": az,
        "ARCA_BOOTSTRAP": str(own_server.bootstrap_path),
        "AZURE_CONFIG_DIR": str(tmp_path / "azure-config"),
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_CORE_NO_COLOR": "true",
    })
    proc = subprocess.run(["bash", str(EXAMPLE)], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"azure-cli.sh failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert "every az keyvault secret command worked" in proc.stdout

    # az remembers a sign-in to Arca's tenant, with no subscription.
    env["REQUESTS_CA_BUNDLE"] = own_server.ca_cert
    shown = subprocess.run([az, "account", "show", "-o", "json"], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    account = json.loads(shown.stdout)
    assert account["tenantId"] == boot["tenant_id"]
    assert account["user"] == {"name": boot["client_id"], "type": "servicePrincipal"}
    assert account["environmentName"] == "Arca"
    # The client secret az was given is nowhere in its output.
    assert boot["client_secret"] not in proc.stdout + proc.stderr + shown.stdout + shown.stderr

    # The server holds what the commands left: the restored secret, both versions.
    token = requests.post(
        f"{boot['authority_host']}/{boot['tenant_id']}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": boot["client_id"],
              "client_secret": boot["client_secret"], "scope": f"{own_server.resource}/.default"},
        verify=own_server.ca_cert, timeout=TIMEOUT).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    vault = boot["vault_url"]
    got = requests.get(f"{vault}/secrets/db-password?api-version=7.4", headers=headers,
                       verify=own_server.ca_cert, timeout=TIMEOUT)
    assert got.status_code == 200, got.text
    assert got.json()["value"] == "rotated"
    assert got.json()["contentType"] == "text/plain"
    versions = requests.get(f"{vault}/secrets/db-password/versions?api-version=7.4", headers=headers,
                            verify=own_server.ca_cert, timeout=TIMEOUT)
    assert len(versions.json()["value"]) == 2, versions.text
    deleted = requests.get(f"{vault}/deletedsecrets/db-password?api-version=7.4", headers=headers,
                           verify=own_server.ca_cert, timeout=TIMEOUT)
    assert deleted.status_code == 404, "purged, then restored"
