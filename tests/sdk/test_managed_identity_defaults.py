"""Managed identity and token endpoint hardening, judged against servers of their own started
with the default configuration (no ARCA_IMDS_IDENTITY, no ARCA_APP_SERVICE_IDENTITY):

  - the bootstrap administrator is a service principal, and neither the App Service endpoint nor
    IMDS serves it, whether a request names it (client_id, object_id, principal_id) or names
    nobody; azure-identity's ManagedIdentityCredential cannot get a token for it;
  - managed identities the operator creates are still served, by client id;
  - `arca identity-header rotate` prints a new header once, the old one stops working at once,
    bootstrap.json holds the new one (mode 0600) and azure-identity works with it;
  - the token endpoint and discovery answer only the deployment's tenant (and the aliases
    `organizations` and `common`): azure-identity with another tenant gets no token.
"""

from __future__ import annotations

import os
import stat
from typing import Any, Dict

import pytest
import requests

from arca_harness import ArcaServer, cli_failure, describe, started_server

TIMEOUT = 30


@pytest.fixture
def default_server(default_identity_env, add_trusted_ca):
    """A server of its own with the default managed-identity settings, its CA trusted."""
    with started_server("arca-mi-defaults-", default_identity_env, trust=add_trusted_ca) as server:
        yield server


def app_service_get(server: ArcaServer, header: str, **params: str) -> requests.Response:
    query = {"api-version": "2019-08-01", "resource": server.resource, **params}
    return requests.get(server.bootstrap["identity_endpoint"], params=query,
                        headers={"X-IDENTITY-HEADER": header}, verify=server.ca_cert, timeout=TIMEOUT)


def imds_get(server: ArcaServer, **params: str) -> requests.Response:
    query = {"api-version": "2018-02-01", "resource": server.resource, **params}
    return requests.get(f"https://localhost:{server.port}/metadata/identity/oauth2/token", params=query,
                        headers={"Metadata": "true"}, verify=server.ca_cert, timeout=TIMEOUT)


def assert_no_token(resp: requests.Response) -> None:
    assert 400 <= resp.status_code < 500, describe(resp)
    assert "access_token" not in resp.text, describe(resp)


def managed_identity(server: ArcaServer) -> Dict[str, Any]:
    return server.cli_json("principal", "create", "workload-mi", "--managed-identity")


def test_the_administrator_is_never_served_by_the_managed_identity_endpoints(default_server, monkeypatch):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ManagedIdentityCredential

    boot = default_server.bootstrap
    admin = default_server.cli_json("principal", "show", boot["client_id"])
    assert admin["kind"] == "service_principal"
    header = boot["identity_header"]
    for params in ({}, {"client_id": admin["client_id"]}, {"object_id": admin["object_id"]},
                   {"principal_id": admin["object_id"]}):
        assert_no_token(app_service_get(default_server, header, **params))
        assert_no_token(imds_get(default_server, **params))

    # What a local process with the App Service variables gets from azure-identity.
    monkeypatch.setenv("IDENTITY_ENDPOINT", boot["identity_endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", header)
    scope = f"{default_server.resource}/.default"
    for credential in (ManagedIdentityCredential(), ManagedIdentityCredential(client_id=boot["client_id"])):
        with pytest.raises(ClientAuthenticationError):
            credential.get_token(scope)
    # And from IMDS (no App Service variables).
    monkeypatch.delenv("IDENTITY_ENDPOINT")
    monkeypatch.delenv("IDENTITY_HEADER")
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"https://localhost:{default_server.port}")
    for credential in (ManagedIdentityCredential(), ManagedIdentityCredential(client_id=boot["client_id"])):
        with pytest.raises(ClientAuthenticationError):
            credential.get_token(scope)

    # A managed identity the operator created is served, through azure-identity too.
    mi = managed_identity(default_server)
    assert ManagedIdentityCredential(client_id=mi["client_id"]).get_token(scope).token
    resp = app_service_get(default_server, header, client_id=mi["client_id"])
    assert resp.status_code == 200, describe(resp)
    assert resp.json()["client_id"] == mi["client_id"]


def test_identity_header_rotate(default_server, monkeypatch):
    from azure.identity import ManagedIdentityCredential

    server = default_server
    old = server.bootstrap["identity_header"]
    mi = managed_identity(server)
    assert app_service_get(server, old, client_id=mi["client_id"]).status_code == 200

    proc = server.cli("identity-header", "rotate")
    assert proc.returncode == 0, cli_failure(proc)
    printed = [line.split(": ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("identity header: ")]
    assert len(printed) == 1, proc.stdout
    new = printed[0]
    assert new and new != old and proc.stdout.count(new) == 1

    assert app_service_get(server, old, client_id=mi["client_id"]).status_code == 401
    resp = app_service_get(server, new, client_id=mi["client_id"])
    assert resp.status_code == 200, describe(resp)

    boot = server.read_bootstrap()
    assert boot["identity_header"] == new
    assert boot["msi_secret"] == new, "MSI_SECRET (2017-09-01 protocol) is the same secret"
    assert stat.S_IMODE(os.stat(server.bootstrap_path).st_mode) == 0o600
    rotated = ("identity_header", "msi_secret")
    assert {k: v for k, v in boot.items() if k not in rotated} == \
        {k: v for k, v in server.bootstrap.items() if k not in rotated}
    # The CLI still signs in with bootstrap.json, and the server never printed the header.
    assert server.cli_json("principal", "show", mi["client_id"])["kind"] == "managed_identity"
    assert new not in server.all_output()

    monkeypatch.setenv("IDENTITY_ENDPOINT", boot["identity_endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", new)
    token = ManagedIdentityCredential(client_id=mi["client_id"]).get_token(f"{server.resource}/.default")
    assert token.token


def test_only_this_tenant_is_served(default_server):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    boot = default_server.bootstrap
    scope = f"{default_server.resource}/.default"
    authority = boot["authority_host"]
    form = {"grant_type": "client_credentials", "client_id": boot["client_id"],
            "client_secret": boot["client_secret"], "scope": scope}
    for tenant in (boot["tenant_id"], boot["tenant_id"].upper(), "organizations", "common"):
        resp = requests.post(f"{authority}/{tenant}/oauth2/v2.0/token", data=form, verify=default_server.ca_cert,
                             timeout=TIMEOUT)
        assert resp.status_code == 200, describe(resp)
    for tenant in ("00000000-0000-0000-0000-000000000000", "contoso.onmicrosoft.com", "x" * 300):
        for method, path in (("POST", "oauth2/v2.0/token"), ("GET", "v2.0/.well-known/openid-configuration"),
                             ("GET", "discovery/v2.0/keys")):
            resp = requests.request(method, f"{authority}/{tenant}/{path}", data=form if method == "POST" else None,
                                    verify=default_server.ca_cert, timeout=TIMEOUT)
            assert resp.status_code == 400, describe(resp)
            assert resp.json()["error"] == "invalid_tenant", describe(resp)
            assert len(resp.text) < 600, describe(resp)

    good = ClientSecretCredential(boot["tenant_id"], boot["client_id"], boot["client_secret"], authority=authority,
                                  disable_instance_discovery=True)
    assert good.get_token(scope).token
    other = ClientSecretCredential("00000000-0000-0000-0000-000000000000", boot["client_id"], boot["client_secret"],
                                   authority=authority, disable_instance_discovery=True)
    with pytest.raises((ClientAuthenticationError, ValueError)):
        other.get_token(scope)
