"""Token protocols at the curl level, against a real `arca` over TLS, with curl itself:

  - docs/examples/curl.sh (the README's curl example): tokens from the v2.0 endpoint, the v1
    endpoint (`resource=`) and through HTTP Basic client authentication, then the Key Vault
    REST API with each;
  - the v1 answer's shape (string-valued times, `resource`), as Microsoft's v1 documentation
    shows it;
  - HTTP Basic refusals: 401 `invalid_client` with `WWW-Authenticate: Basic`;
  - IMDS at `/metadata/identity/oauth2/token/` (MSAL for JavaScript's trailing slash);
  - the 2017-09-01 App Service protocol with bootstrap.json's `msi_endpoint` / `msi_secret`;
  - the issuer host's own 404.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any, Dict, List, Tuple

import pytest

from arca_harness import REPO_ROOT, ArcaServer, started_server

EXAMPLE = REPO_ROOT / "docs" / "examples" / "curl.sh"


@pytest.fixture(scope="module")
def server(server_env, add_trusted_ca):
    with started_server("arca-curl-", server_env, trust=add_trusted_ca) as srv:
        yield srv


def curl(server: ArcaServer, *args: str) -> Tuple[int, Dict[str, str], Any]:
    """Runs curl (status, lower-case headers, JSON body) against the server, trusting its CA."""
    proc = subprocess.run(
        ["curl", "--silent", "--show-error", "--cacert", server.ca_cert, "--dump-header", "-", *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    head, _, body = proc.stdout.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, json.loads(body) if body.strip() else None


def authority(server: ArcaServer) -> str:
    return server.bootstrap["authority_host"]


def token_url(server: ArcaServer, version: str = "v2") -> str:
    path = "oauth2/v2.0/token" if version == "v2" else "oauth2/token"
    return f"{authority(server)}/{server.bootstrap['tenant_id']}/{path}"


def test_the_curl_example_runs(server: ArcaServer) -> None:
    env = dict(os.environ, ARCA_BOOTSTRAP=str(server.bootstrap_path))
    proc = subprocess.run(["bash", str(EXAMPLE)], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"curl.sh failed:\n{proc.stdout}\n{proc.stderr}"
    assert "all worked" in proc.stdout
    # It did what it says: the secret it made is now soft-deleted in the default vault.
    boot = server.bootstrap
    _, _, tok = curl(server, token_url(server), "--data", "grant_type=client_credentials",
                     "--data-urlencode", f"client_id={boot['client_id']}",
                     "--data-urlencode", f"client_secret={boot['client_secret']}",
                     "--data-urlencode", f"scope={authority(server)}/.default")
    status, _, body = curl(server, f"{authority(server)}/deletedsecrets/curl-example?api-version=7.4",
                           "-H", f"Authorization: Bearer {tok['access_token']}")
    assert status == 200, body
    assert body["recoveryId"].endswith("/deletedsecrets/curl-example")


def test_the_v1_answer_has_the_v1_shape(server: ArcaServer) -> None:
    boot = server.bootstrap
    status, _, body = curl(server, token_url(server, "v1"), "--data", "grant_type=client_credentials",
                           "--data-urlencode", f"client_id={boot['client_id']}",
                           "--data-urlencode", f"client_secret={boot['client_secret']}",
                           "--data-urlencode", f"resource={server.resource}")
    assert status == 200, body
    assert body["token_type"] == "Bearer"
    assert body["resource"] == server.resource
    for key in ("expires_in", "ext_expires_in", "expires_on", "not_before"):
        assert isinstance(body[key], str) and body[key].isdigit(), (key, body[key])
    assert int(body["expires_on"]) - int(body["not_before"]) == int(body["expires_in"])
    # No resource: a clear 400.
    status, _, body = curl(server, token_url(server, "v1"), "--data", "grant_type=client_credentials",
                           "--data-urlencode", f"client_id={boot['client_id']}",
                           "--data-urlencode", f"client_secret={boot['client_secret']}")
    assert status == 400 and body["error"] == "invalid_request", body


def test_http_basic_refusals_carry_a_basic_challenge(server: ArcaServer) -> None:
    boot = server.bootstrap
    scope = f"{server.resource}/.default"
    ok, _, body = curl(server, token_url(server), "--user", f"{boot['client_id']}:{boot['client_secret']}",
                       "--data", "grant_type=client_credentials", "--data-urlencode", f"scope={scope}")
    assert ok == 200, body
    status, headers, body = curl(server, token_url(server), "--user", f"{boot['client_id']}:not-the-secret",
                                 "--data", "grant_type=client_credentials", "--data-urlencode", f"scope={scope}")
    assert status == 401 and body["error"] == "invalid_client", body
    assert headers["www-authenticate"].startswith("Basic "), headers
    assert "not-the-secret" not in json.dumps(body)
    # Both methods at once.
    status, _, body = curl(server, token_url(server), "--user", f"{boot['client_id']}:{boot['client_secret']}",
                           "--data", "grant_type=client_credentials", "--data-urlencode", f"scope={scope}",
                           "--data-urlencode", f"client_secret={boot['client_secret']}")
    assert status == 400 and body["error"] == "invalid_request", body


def admin_token(server: ArcaServer) -> str:
    boot = server.bootstrap
    _, _, tok = curl(server, token_url(server), "--user", f"{boot['client_id']}:{boot['client_secret']}",
                     "--data", "grant_type=client_credentials",
                     "--data-urlencode", f"scope={server.resource}/.default")
    return tok["access_token"]


def managed_identity(server: ArcaServer) -> str:
    status, _, body = curl(server, f"{authority(server)}/admin/principals",
                           "-H", f"Authorization: Bearer {admin_token(server)}",
                           "-H", "Content-Type: application/json",
                           "--data", json.dumps({"display_name": "curl-mi", "kind": "managed_identity"}))
    assert status == 201, body
    return body["client_id"]


def test_imds_with_the_trailing_slash(server: ArcaServer) -> None:
    mi = managed_identity(server)
    for path in ("/metadata/identity/oauth2/token", "/metadata/identity/oauth2/token/"):
        status, _, body = curl(server, "--get", f"{authority(server)}{path}", "-H", "Metadata: true",
                               "--data-urlencode", "api-version=2018-02-01",
                               "--data-urlencode", f"resource={server.resource}",
                               "--data-urlencode", f"client_id={mi}")
        assert status == 200, (path, body)
        assert body["client_id"] == mi


def test_the_2017_app_service_protocol(server: ArcaServer) -> None:
    mi = managed_identity(server)
    boot = server.bootstrap
    assert boot["msi_endpoint"] == boot["identity_endpoint"]
    status, _, body = curl(server, "--get", boot["msi_endpoint"], "-H", f"secret: {boot['msi_secret']}",
                           "--data-urlencode", "api-version=2017-09-01",
                           "--data-urlencode", f"resource={server.resource}",
                           "--data-urlencode", f"clientid={mi}")
    assert status == 200, body
    assert re.fullmatch(r"\d{10}", body["expires_on"]), body["expires_on"]
    status, _, body = curl(server, "--get", boot["msi_endpoint"], "-H", "secret: wrong",
                           "--data-urlencode", "api-version=2017-09-01",
                           "--data-urlencode", f"resource={server.resource}",
                           "--data-urlencode", f"clientid={mi}")
    assert status == 401 and "access_token" not in body, body


def test_the_issuer_host_names_its_endpoints_when_a_path_is_unknown(server: ArcaServer) -> None:
    status, _, body = curl(server, f"{authority(server)}/no/such/path")
    assert status == 404, body
    message: str = body["error"]["message"]
    endpoints: List[str] = ["/oauth2/v2.0/token", "/oauth2/token", "/msi/token", "/metadata/identity/oauth2/token"]
    assert all(e in message for e in endpoints), message
    assert "Key Vault API." not in message
