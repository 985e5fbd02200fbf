"""Access control, part 2: every Azure credential flow, judged by the official SDK.

Each flow signs in a principal made for the test, which holds a role on a vault made for the
test, and then reads and writes secrets there through `SecretClient`:

  - ClientSecretCredential (sync and async), two secrets at once, a removed secret (no new
    tokens; tokens already issued with it are refused within 60 s, tokens issued with the other
    secret are not);
  - CertificateCredential with a self-signed RSA certificate (PEM with key and certificate), with
    and without send_certificate_chain, an unregistered certificate, a removed certificate;
  - WorkloadIdentityCredential with a token file signed by a fake external issuer, trusted through
    an inline JWK set (`--jwks-file`) or an HTTPS JWKS URL (`--jwks-url` + `--jwks-ca-file`);
  - ManagedIdentityCredential through the App Service endpoint (conftest sets IDENTITY_ENDPOINT /
    IDENTITY_HEADER) and through IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST, App Service variables
    removed), system-assigned (the bootstrap principal) and user-assigned (`--managed-identity`);
  - DefaultAzureCredential choosing managed identity, environment (client secret) and workload
    identity from the environment.

azure-identity reads AZURE_* variables when a credential is constructed and MSAL reads the
managed-identity variables at request time, so environment changes (monkeypatch) stay in force
for the whole test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
import requests

import identity_tools as idt
from arca_harness import cli_failure, describe

API = "2026-04-01"
TIMEOUT = 30
REVOCATION_LIMIT = 60.0
SUBJECT = "system:serviceaccount:ns:sa"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def claims_of(token: str) -> Dict[str, Any]:
    return idt.decode_jwt(token)["payload"]


def vault_get(url: str, token: str, verify: str) -> requests.Response:
    return requests.get(f"{url}/secrets", params={"api-version": API, "maxresults": 1},
                        headers={"Authorization": f"Bearer {token}"}, verify=verify, timeout=TIMEOUT)


def round_trip(client, unique_name) -> None:
    """Set, get and list a secret through a SecretClient."""
    name = unique_name("cred")
    value = f"value-{name}"
    assert client.set_secret(name, value).value == value
    assert client.get_secret(name).value == value
    assert name in [p.name for p in client.list_properties_of_secrets()]


def seconds_until_refused(url: str, token: str, verify: str, limit: float = REVOCATION_LIMIT) -> float:
    """Polls a vault with `token` every 0.5 s until it is answered 401; returns the seconds taken."""
    started = time.monotonic()
    while True:
        resp = vault_get(url, token, verify)
        elapsed = time.monotonic() - started
        if resp.status_code == 401:
            assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer "), describe(resp)
            return elapsed
        assert resp.status_code == 200, describe(resp)
        if elapsed > limit:
            raise AssertionError(f"the token was still accepted {elapsed:.1f}s after its credential was removed")
        time.sleep(0.5)


@pytest.fixture
def officer_vault(new_vault, assign_role):
    """officer_vault(principal) -> vault URL of a fresh vault where the principal is Secrets Officer."""

    def make(principal: Dict[str, Any], role: str = "Key Vault Secrets Officer") -> str:
        name, url = new_vault()
        assign_role(role, principal, f"/vaults/{name}")
        return url

    return make


@pytest.fixture
def closing():
    """closing(obj) -> obj; closes it after the test (credentials, clients)."""
    things = []

    def keep(obj):
        things.append(obj)
        return obj

    yield keep
    for obj in reversed(things):
        obj.close()


def secret_client(url: str, credential, closing):
    from azure.keyvault.secrets import SecretClient

    return closing(SecretClient(url, closing(credential)))


# ---------------------------------------------------------------------------
# client secrets
# ---------------------------------------------------------------------------


def client_secret_credential(bootstrap, principal, secret: Optional[str] = None):
    from azure.identity import ClientSecretCredential

    return ClientSecretCredential(bootstrap["tenant_id"], principal["client_id"], secret or principal["secret"],
                                  authority=bootstrap["authority_host"], disable_instance_discovery=True)


def test_client_secret_credential(make_principal, officer_vault, bootstrap, closing, unique_name, resource):
    sp = make_principal()
    url = officer_vault(sp)
    credential = client_secret_credential(bootstrap, sp)
    client = secret_client(url, credential, closing)
    round_trip(client, unique_name)
    claims = claims_of(credential.get_token(f"{resource}/.default").token)
    assert (claims["appid"], claims["oid"]) == (sp["client_id"], sp["object_id"])


def test_client_secret_credential_async(make_principal, officer_vault, bootstrap, unique_name):
    from azure.identity.aio import ClientSecretCredential

    from sdk_facade import AsyncSecrets

    sp = make_principal()
    url = officer_vault(sp)
    api = AsyncSecrets(url, lambda: ClientSecretCredential(
        bootstrap["tenant_id"], sp["client_id"], sp["secret"], authority=bootstrap["authority_host"],
        disable_instance_discovery=True))
    try:
        name = unique_name("async")
        assert api.set_secret(name, "async-value").value == "async-value"
        assert api.get_secret(name).value == "async-value"
        assert name in [p.name for p in api.items("list_properties_of_secrets")]
    finally:
        api.close()


def test_two_client_secrets_both_work(arca, make_principal, officer_vault, bootstrap, closing, unique_name):
    sp = make_principal()
    second = arca.cli_json("principal", "secret", "add", sp["client_id"], "--description", "rotation")["secret"]
    assert second != sp["secret"]
    url = officer_vault(sp)
    round_trip(secret_client(url, client_secret_credential(bootstrap, sp), closing), unique_name)
    round_trip(secret_client(url, client_secret_credential(bootstrap, sp, second), closing), unique_name)


def test_removed_secret_stops_new_tokens_and_revokes_issued_ones(arca, make_principal, officer_vault, bootstrap,
                                                                 closing, resource, ca_cert):
    from azure.core.exceptions import ClientAuthenticationError

    sp = make_principal()
    kept = arca.cli_json("principal", "secret", "add", sp["client_id"], "--description", "kept")
    url = officer_vault(sp)
    removed_token = closing(client_secret_credential(bootstrap, sp)).get_token(f"{resource}/.default").token
    kept_token = closing(client_secret_credential(bootstrap, sp, kept["secret"])).get_token(
        f"{resource}/.default").token
    assert vault_get(url, removed_token, ca_cert).status_code == 200
    secret_id = [s["id"] for s in arca.cli_json("principal", "show", sp["client_id"])["secrets"]
                 if s["id"] != kept["id"]][0]

    proc = arca.cli("principal", "secret", "remove", sp["client_id"], secret_id)
    assert proc.returncode == 0, cli_failure(proc)
    with pytest.raises(ClientAuthenticationError):
        closing(client_secret_credential(bootstrap, sp)).get_token(f"{resource}/.default")
    took = seconds_until_refused(url, removed_token, ca_cert)
    print(f"token of the removed secret refused after {took:.2f}s")
    # tokens issued through the other secret are unaffected
    resp = vault_get(url, kept_token, ca_cert)
    assert resp.status_code == 200, "removing one secret revoked tokens of another\n" + describe(resp)


def test_expired_client_secret_fields(arca, make_principal):
    """A secret cannot be waited out here; its expiry is checked to be where the token endpoint
    will stop accepting it (created + N days), in the answer and in `principal show`."""
    sp = make_principal(secret=False)
    added = arca.cli_json("principal", "secret", "add", sp["client_id"], "--expires-in-days", "2")
    assert added["expires"] == pytest.approx(added["created"] + 2 * 86400, abs=5)
    (shown,) = arca.cli_json("principal", "show", sp["client_id"])["secrets"]
    assert shown["expires"] == added["expires"]


# ---------------------------------------------------------------------------
# certificates
# ---------------------------------------------------------------------------


@pytest.fixture
def cert_files(tmp_path):
    """cert_files(label) -> (key, cert, path of a PEM holding key and certificate, path of the
    certificate alone)."""

    def make(label: str = "client"):
        key = idt.new_rsa_key(2048)
        cert = idt.self_signed_cert(key, f"arca-{label}")
        both = idt.write_pem(tmp_path / f"{label}-key-and-cert.pem", idt.key_pem(key), idt.cert_pem(cert))
        only = idt.write_pem(tmp_path / f"{label}-cert.pem", idt.cert_pem(cert))
        return key, cert, both, only

    return make


def certificate_credential(bootstrap, principal, path: Path, **kwargs: Any):
    from azure.identity import CertificateCredential

    return CertificateCredential(bootstrap["tenant_id"], principal["client_id"], certificate_path=str(path),
                                 authority=bootstrap["authority_host"], disable_instance_discovery=True, **kwargs)


@pytest.mark.parametrize("send_chain", [False, True], ids=["plain", "send_certificate_chain"])
def test_certificate_credential(send_chain, arca, make_principal, officer_vault, bootstrap, cert_files, closing,
                                unique_name, resource):
    sp = make_principal(secret=False)
    _, cert, both, only = cert_files()
    entry = arca.cli_json("principal", "cert", "add", sp["client_id"], str(only))
    assert entry["id"] == idt.sha1_thumbprint(cert)
    url = officer_vault(sp)
    kwargs = {"send_certificate_chain": True} if send_chain else {}
    credential = certificate_credential(bootstrap, sp, both, **kwargs)
    round_trip(secret_client(url, credential, closing), unique_name)
    claims = claims_of(credential.get_token(f"{resource}/.default").token)
    assert (claims["appid"], claims["oid"]) == (sp["client_id"], sp["object_id"])


def test_unregistered_certificate_is_refused(arca, make_principal, bootstrap, cert_files, closing, resource):
    from azure.core.exceptions import ClientAuthenticationError

    sp = make_principal(secret=False)
    _, _, _, registered = cert_files("registered")
    arca.cli_json("principal", "cert", "add", sp["client_id"], str(registered))
    _, _, stranger, _ = cert_files("stranger")
    with pytest.raises(ClientAuthenticationError):
        closing(certificate_credential(bootstrap, sp, stranger)).get_token(f"{resource}/.default")
    with pytest.raises(ClientAuthenticationError):
        closing(certificate_credential(bootstrap, sp, stranger, send_certificate_chain=True)).get_token(
            f"{resource}/.default")


def test_removed_certificate_stops_new_tokens_and_revokes_issued_ones(arca, make_principal, officer_vault,
                                                                      bootstrap, cert_files, closing, resource,
                                                                      ca_cert):
    from azure.core.exceptions import ClientAuthenticationError

    sp = make_principal(secret=False)
    _, cert, both, only = cert_files()
    arca.cli_json("principal", "cert", "add", sp["client_id"], str(only))
    url = officer_vault(sp)
    issued = closing(certificate_credential(bootstrap, sp, both)).get_token(f"{resource}/.default").token
    assert vault_get(url, issued, ca_cert).status_code == 200
    proc = arca.cli("principal", "cert", "remove", sp["client_id"], idt.sha1_thumbprint(cert))
    assert proc.returncode == 0, cli_failure(proc)
    with pytest.raises(ClientAuthenticationError):
        closing(certificate_credential(bootstrap, sp, both)).get_token(f"{resource}/.default")
    seconds_until_refused(url, issued, ca_cert)


# ---------------------------------------------------------------------------
# workload identity federation
# ---------------------------------------------------------------------------


def workload_credential(bootstrap, principal, token_file: Path):
    from azure.identity import WorkloadIdentityCredential

    return WorkloadIdentityCredential(tenant_id=bootstrap["tenant_id"], client_id=principal["client_id"],
                                      token_file_path=str(token_file), authority=bootstrap["authority_host"],
                                      disable_instance_discovery=True)


def test_workload_identity_with_inline_jwks(arca, make_principal, officer_vault, bootstrap, tmp_path, closing,
                                            unique_name, resource):
    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    arca.cli_json("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                  "--subject", SUBJECT, "--jwks-file", str(issuer.write_jwks(tmp_path / "jwks.json")))
    token_file = issuer.write_token(tmp_path / "token", SUBJECT)
    url = officer_vault(sp)
    credential = workload_credential(bootstrap, sp, token_file)
    round_trip(secret_client(url, credential, closing), unique_name)
    claims = claims_of(credential.get_token(f"{resource}/.default").token)
    assert (claims["appid"], claims["oid"]) == (sp["client_id"], sp["object_id"])


def test_workload_identity_with_custom_audience(arca, make_principal, bootstrap, tmp_path, closing, resource):
    from azure.core.exceptions import ClientAuthenticationError

    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    arca.cli_json("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                  "--subject", SUBJECT, "--audience", "api://arca-test",
                  "--jwks-file", str(issuer.write_jwks(tmp_path / "jwks.json")))
    good = issuer.write_token(tmp_path / "good", SUBJECT, audience="api://arca-test")
    token = closing(workload_credential(bootstrap, sp, good)).get_token(f"{resource}/.default").token
    assert claims_of(token)["appid"] == sp["client_id"]
    default_aud = issuer.write_token(tmp_path / "default-aud", SUBJECT)  # api://AzureADTokenExchange
    with pytest.raises(ClientAuthenticationError):
        closing(workload_credential(bootstrap, sp, default_aud)).get_token(f"{resource}/.default")


def test_workload_identity_with_jwks_url(arca, make_principal, officer_vault, bootstrap, tmp_path, closing,
                                         unique_name):
    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    with idt.JwksServer(issuer.jwks()) as jwks_server:
        ca_file = idt.write_pem(tmp_path / "jwks-ca.pem", jwks_server.ca_pem)
        fed = arca.cli_json("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                            "--subject", SUBJECT, "--jwks-url", jwks_server.url, "--jwks-ca-file", str(ca_file))
        assert fed["jwks_url"] == jwks_server.url and fed["jwks_keys"] is None
        token_file = issuer.write_token(tmp_path / "token", SUBJECT)
        url = officer_vault(sp)
        round_trip(secret_client(url, workload_credential(bootstrap, sp, token_file), closing), unique_name)
        assert jwks_server.hits >= 1, "the JWKS URL was never fetched"


def test_jwks_url_is_not_trusted_without_its_ca(arca, make_principal, bootstrap, tmp_path, request_token):
    """A JWKS served with a certificate from an unknown CA is not believed: either `federation
    add` refuses it or no token is issued with it."""
    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    with idt.JwksServer(issuer.jwks()) as jwks_server:
        proc = arca.cli("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                        "--subject", SUBJECT, "--jwks-url", jwks_server.url, "--output", "json")
        if proc.returncode == 0:
            resp = request_token(sp["client_id"], client_assertion_type=idt.CLIENT_ASSERTION_TYPE,
                                 client_assertion=issuer.token(SUBJECT))
            assert resp.status_code in (400, 401) and "access_token" not in resp.json(), \
                "a JWKS fetched over an untrusted TLS connection was used\n" + describe(resp)


def test_removed_federation_revokes_issued_tokens(arca, make_principal, officer_vault, bootstrap, tmp_path,
                                                  closing, resource, ca_cert):
    from azure.core.exceptions import ClientAuthenticationError

    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    fed = arca.cli_json("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                        "--subject", SUBJECT, "--jwks-file", str(issuer.write_jwks(tmp_path / "jwks.json")))
    token_file = issuer.write_token(tmp_path / "token", SUBJECT)
    url = officer_vault(sp)
    issued = closing(workload_credential(bootstrap, sp, token_file)).get_token(f"{resource}/.default").token
    assert vault_get(url, issued, ca_cert).status_code == 200
    proc = arca.cli("federation", "remove", fed["id"])
    assert proc.returncode == 0, cli_failure(proc)
    with pytest.raises(ClientAuthenticationError):
        closing(workload_credential(bootstrap, sp, token_file)).get_token(f"{resource}/.default")
    seconds_until_refused(url, issued, ca_cert)


# ---------------------------------------------------------------------------
# managed identity: App Service endpoint
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bootstrap_principal(arca, bootstrap) -> Dict[str, Any]:
    return arca.cli_json("principal", "show", bootstrap["client_id"])


def test_managed_identity_app_service_system_assigned(bootstrap, bootstrap_principal, new_vault, closing,
                                                      unique_name, resource):
    from azure.identity import ManagedIdentityCredential

    credential = ManagedIdentityCredential()
    _, url = new_vault()
    round_trip(secret_client(url, credential, closing), unique_name)
    claims = claims_of(credential.get_token(f"{resource}/.default").token)
    assert (claims["appid"], claims["oid"]) == (bootstrap["client_id"], bootstrap_principal["object_id"])


def test_managed_identity_app_service_user_assigned(make_principal, officer_vault, closing, unique_name, resource):
    from azure.identity import ManagedIdentityCredential

    mi = make_principal(managed_identity=True, secret=False)
    url = officer_vault(mi)
    credential = ManagedIdentityCredential(client_id=mi["client_id"])
    round_trip(secret_client(url, credential, closing), unique_name)
    claims = claims_of(credential.get_token(f"{resource}/.default").token)
    assert (claims["appid"], claims["oid"]) == (mi["client_id"], mi["object_id"])


def test_app_service_endpoint_refuses_unknown_or_non_managed_client_ids(make_principal, bootstrap, resource,
                                                                         ca_cert):
    sp = make_principal(secret=False)  # a service principal, not a managed identity
    for client_id in (sp["client_id"], "00000000-0000-0000-0000-000000000000"):
        resp = requests.get(bootstrap["identity_endpoint"],
                            params={"api-version": "2019-08-01", "resource": resource, "client_id": client_id},
                            headers={"X-IDENTITY-HEADER": bootstrap["identity_header"]}, verify=ca_cert,
                            timeout=TIMEOUT)
        assert 400 <= resp.status_code < 500, describe(resp)
        assert "access_token" not in resp.text


# ---------------------------------------------------------------------------
# managed identity: IMDS
# ---------------------------------------------------------------------------


@pytest.fixture
def imds_environment(monkeypatch, port):
    """The environment of an Azure VM: no App Service variables, IMDS at https://localhost:<port>."""
    monkeypatch.delenv("IDENTITY_ENDPOINT", raising=False)
    monkeypatch.delenv("IDENTITY_HEADER", raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"https://localhost:{port}")
    return f"https://localhost:{port}/metadata/identity/oauth2/token"


def test_managed_identity_imds_system_assigned(imds_environment, bootstrap, bootstrap_principal, new_vault,
                                               closing, unique_name, resource):
    from azure.identity import ManagedIdentityCredential

    credential = ManagedIdentityCredential()
    _, url = new_vault()
    round_trip(secret_client(url, credential, closing), unique_name)
    claims = claims_of(credential.get_token(f"{resource}/.default").token)
    assert (claims["appid"], claims["oid"]) == (bootstrap["client_id"], bootstrap_principal["object_id"])


def test_managed_identity_imds_user_assigned(imds_environment, make_principal, officer_vault, closing,
                                             unique_name, resource):
    from azure.identity import ManagedIdentityCredential

    mi = make_principal(managed_identity=True, secret=False)
    url = officer_vault(mi)
    credential = ManagedIdentityCredential(client_id=mi["client_id"])
    round_trip(secret_client(url, credential, closing), unique_name)
    assert claims_of(credential.get_token(f"{resource}/.default").token)["appid"] == mi["client_id"]


def test_imds_endpoint_requires_the_metadata_header(imds_environment, resource, ca_cert, bootstrap):
    params = {"api-version": "2018-02-01", "resource": resource}
    for headers in ({}, {"Metadata": "false"}, {"Metadata": ""}):
        resp = requests.get(imds_environment, params=params, headers=headers, verify=ca_cert, timeout=TIMEOUT)
        assert resp.status_code == 400, f"{headers}: {describe(resp)}"
        assert "access_token" not in resp.text
    resp = requests.get(imds_environment, params=params, headers={"Metadata": "true"}, verify=ca_cert,
                        timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)
    body = resp.json()
    assert int(body["expires_in"]) > 0 and body.get("token_type", "").lower() == "bearer", body
    assert claims_of(body["access_token"])["appid"] == bootstrap["client_id"]


# ---------------------------------------------------------------------------
# DefaultAzureCredential
# ---------------------------------------------------------------------------


def default_credential():
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(disable_instance_discovery=True)


def test_default_credential_uses_the_managed_identity(bootstrap, new_vault, closing, unique_name, resource):
    credential = default_credential()
    _, url = new_vault()
    round_trip(secret_client(url, credential, closing), unique_name)
    assert claims_of(credential.get_token(f"{resource}/.default").token)["appid"] == bootstrap["client_id"]


def test_default_credential_uses_the_environment_client_secret(monkeypatch, make_principal, officer_vault,
                                                               bootstrap, closing, unique_name, resource):
    sp = make_principal()
    url = officer_vault(sp)
    monkeypatch.setenv("AZURE_TENANT_ID", bootstrap["tenant_id"])
    monkeypatch.setenv("AZURE_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", sp["secret"])
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", bootstrap["authority_host"])
    credential = default_credential()
    round_trip(secret_client(url, credential, closing), unique_name)
    assert claims_of(credential.get_token(f"{resource}/.default").token)["appid"] == sp["client_id"]


def test_default_credential_uses_workload_identity(monkeypatch, arca, make_principal, officer_vault, bootstrap,
                                                   tmp_path, closing, unique_name, resource):
    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    arca.cli_json("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                  "--subject", SUBJECT, "--jwks-file", str(issuer.write_jwks(tmp_path / "jwks.json")))
    url = officer_vault(sp)
    monkeypatch.setenv("AZURE_TENANT_ID", bootstrap["tenant_id"])
    monkeypatch.setenv("AZURE_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(issuer.write_token(tmp_path / "token", SUBJECT)))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", bootstrap["authority_host"])
    credential = default_credential()
    round_trip(secret_client(url, credential, closing), unique_name)
    assert claims_of(credential.get_token(f"{resource}/.default").token)["appid"] == sp["client_id"]

