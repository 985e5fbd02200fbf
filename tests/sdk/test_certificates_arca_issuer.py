"""The built-in `Arca` issuer through the official CertificateClient (issue 13, point 5), on a
server of its own started with --issuing-dns-suffixes example.internal: an administrator permits
the vault's issuer a suffix with the CLI, a certificate created with that issuer is issued at once,
and its leaf verifies with `openssl verify` against what `arca ca show` prints (and the root in
ca.pem); a name outside the permitted suffix gets 400 and creates nothing.
"""

from __future__ import annotations

import base64
import subprocess

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from arca_harness import cli_failure, started_server


@pytest.fixture(scope="module")
def issuing_server(server_env, add_trusted_ca):
    env = dict(server_env, ARCA_ISSUING_DNS_SUFFIXES="example.internal")
    with started_server("arca-issuer-", env, trust=add_trusted_ca) as server:
        yield server


def test_an_arca_issued_certificate_verifies_against_arca_ca_show(issuing_server, make_credential, tmp_path):
    server = issuing_server
    proc = server.vault_cli("create", "issuing")
    assert proc.returncode == 0, cli_failure(proc)
    url = server.vault_url("issuing")
    from azure.identity import ClientSecretCredential
    boot = server.bootstrap
    credential = ClientSecretCredential(boot["tenant_id"], boot["client_id"], boot["client_secret"],
                                        authority=boot["authority_host"], disable_instance_discovery=True)
    with credential, CertificateClient(url, credential) as certs, SecretClient(url, credential) as secrets:
        certs.create_issuer("internal", "Arca")
        # Deny by default: the issuer signs nothing before an administrator permits it a suffix.
        policy = CertificatePolicy(issuer_name="internal", subject="CN=api.svc.example.internal",
                                   san_dns_names=["api.svc.example.internal"], validity_in_months=6)
        with pytest.raises(HttpResponseError) as refused:
            certs.begin_create_certificate("early", policy)
        assert refused.value.status_code == 400
        proc = server.cli("vault", "certificate-issuer-suffixes", "set", "issuing", "--issuer", "internal",
                          "--suffix", "svc.example.internal")
        assert proc.returncode == 0, cli_failure(proc)

        cert = certs.begin_create_certificate("api", policy).result()
        leaf = x509.load_der_x509_certificate(bytes(cert.cer))
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == ["api.svc.example.internal"]
        chain = server.cli("ca", "show")
        assert chain.returncode == 0, cli_failure(chain)
        chain_path = tmp_path / "arca-chain.pem"
        chain_path.write_text(chain.stdout)
        leaf_path = tmp_path / "leaf.pem"
        leaf_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        verified = subprocess.run(["openssl", "verify", "-CAfile", str(chain_path), str(leaf_path)],
                                  capture_output=True, text=True, check=False)
        assert verified.returncode == 0, verified.stderr + chain.stdout
        # The secret carries the leaf and the issuing CA; ca.pem's root with the secret's CA as
        # untrusted intermediate verifies too, as a TLS client would check it.
        key, pfx_leaf, extra = pkcs12.load_key_and_certificates(
            base64.b64decode(secrets.get_secret("api").value), None)
        assert pfx_leaf == leaf and len(extra) == 1
        mid_path = tmp_path / "mid.pem"
        mid_path.write_bytes(extra[0].public_bytes(serialization.Encoding.PEM))
        verified = subprocess.run(["openssl", "verify", "-CAfile", server.ca_cert, "-untrusted", str(mid_path),
                                   "-purpose", "sslserver", str(leaf_path)],
                                  capture_output=True, text=True, check=False)
        assert verified.returncode == 0, verified.stderr

        # Outside the permitted suffix: 400, nothing created.
        outside = CertificatePolicy(issuer_name="internal", subject="CN=db.other.example.internal",
                                    san_dns_names=["db.other.example.internal"], validity_in_months=6)
        with pytest.raises(HttpResponseError) as refused:
            certs.begin_create_certificate("outside", outside)
        assert refused.value.status_code == 400
        assert "db.other.example.internal" in refused.value.message
        with pytest.raises(ResourceNotFoundError):
            certs.get_certificate("outside")
