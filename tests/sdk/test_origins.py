"""The `default` vault at the issuer's own origins, through the official SDK and a real token.

A newcomer whose system does not resolve `*.localhost` points the client at
`https://localhost:<port>` or `https://127.0.0.1:<port>` instead. The official SDKs accept a
challenge only when the host they call is a subdomain of the challenge's resource, which an
origin is not (the resource is the origin itself), so the client there needs
`verify_challenge_resource=False`. Checked: the challenge names the origin; a token for the origin
(audience = the origin) works for set, get, list and list versions; ids use the origin; the data
is the `default` vault's, the same as at `https://default.vault.localhost:<port>`.
"""

from __future__ import annotations

from typing import Any, Dict

import pytest
import requests

from identity_tools import decode_jwt

API = "7.6"
TIMEOUT = 30


@pytest.fixture
def origin_client(bootstrap: Dict[str, Any]):
    """origin_client(origin) -> (SecretClient at the origin, its credential), closed after the test."""
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    made = []

    def make(origin: str):
        cred = ClientSecretCredential(bootstrap["tenant_id"], bootstrap["client_id"], bootstrap["client_secret"],
                                      authority=bootstrap["authority_host"], disable_instance_discovery=True)
        client = SecretClient(origin, cred, verify_challenge_resource=False)
        made.append((client, cred))
        return client, cred

    yield make
    for client, cred in made:
        client.close()
        cred.close()


def origins(arca):
    return [f"https://localhost:{arca.port}", f"https://127.0.0.1:{arca.port}"]


def test_the_challenge_at_an_origin_names_the_origin(arca, ca_cert):
    for origin in origins(arca):
        resp = requests.get(f"{origin}/secrets", params={"api-version": API}, verify=ca_cert, timeout=TIMEOUT)
        assert resp.status_code == 401, resp.text
        challenge = resp.headers["WWW-Authenticate"]
        assert f'resource="{origin}"' in challenge, challenge
        assert f'authorization="{arca.bootstrap["authority_host"].rstrip("/")}/' in challenge, challenge


def test_the_sdk_works_at_an_origin_with_a_token_for_it(arca, origin_client, sdk_client, vault_url, unique_name):
    at_vault_host = sdk_client(vault_url)
    for origin in origins(arca):
        client, cred = origin_client(origin)
        name = unique_name("origin")
        first = client.set_secret(name, "first-value", tags={"at": "origin"})
        second = client.set_secret(name, "second-value")
        assert first.id.startswith(f"{origin}/secrets/{name}/"), first.id
        assert client.get_secret(name).value == "second-value"
        assert client.get_secret(name, first.properties.version).value == "first-value"
        listed = [p for p in client.list_properties_of_secrets() if p.name == name]
        assert len(listed) == 1 and listed[0].id == f"{origin}/secrets/{name}"
        versions = sorted(p.version for p in client.list_properties_of_secret_versions(name))
        assert versions == sorted([first.properties.version, second.properties.version])
        # The SDK asked for a token for the origin, and that is what it got.
        claims = decode_jwt(cred.get_token(f"{origin}/.default").token)["payload"]
        assert claims["aud"] in (origin, f"{origin}/"), claims
        # The same secret, in the same vault, at the vault's own host.
        same = at_vault_host.get_secret(name)
        assert same.value == "second-value"
        assert same.properties.version == second.properties.version
        assert same.id.startswith(f"{vault_url}/secrets/{name}/")


def test_data_set_at_the_vault_host_is_read_at_the_origins(arca, origin_client, sdk_client, vault_url, new_vault,
                                                           unique_name):
    name = unique_name("shared")
    sdk_client(vault_url).set_secret(name, "set-at-the-vault-host")
    _, other_url = new_vault()
    elsewhere = unique_name("elsewhere")
    sdk_client(other_url).set_secret(elsewhere, "in-another-vault")
    from azure.core.exceptions import ResourceNotFoundError

    for origin in origins(arca):
        client, _ = origin_client(origin)
        assert client.get_secret(name).value == "set-at-the-vault-host"
        with pytest.raises(ResourceNotFoundError):
            client.get_secret(elsewhere)
