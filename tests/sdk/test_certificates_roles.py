"""The built-in certificate roles through the official CertificateClient and SecretClient (issue 13,
point 6). A principal holding only the role, at the scope of a vault of its own, does what the
role allows (it succeeds) and is refused what it does not (403 Forbidden / ForbiddenByRbac). The
allowed sets are Azure's built-in role definitions (the same dataActions as
crates/arca-core/src/authz/roles.rs):

  Key Vault Certificates Officer  certificates/*, certificatecas/*, certificatecontacts/write
  Key Vault Certificate User      certificates/read, secrets/getSecret, secrets/readMetadata,
                                  keys/read

Reading a certificate's private key is reading its secret: the Certificate User may, the
Certificates Officer may not.
"""

from __future__ import annotations

import base64
from contextlib import ExitStack, closing

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from arca_harness import forbidden_by


@pytest.fixture
def role_setup(make_vault, make_credential, make_principal, assign_role, bootstrap):
    """role_setup(role) -> (admin client, principal's CertificateClient, principal's SecretClient)
    on a new vault holding one self-signed certificate `c`, the principal holding only `role` at the
    vault's scope."""
    from azure.identity import ClientSecretCredential
    from azure.keyvault.certificates import CertificateClient, CertificatePolicy
    from azure.keyvault.secrets import SecretClient

    with ExitStack() as made:

        def setup(role: str):
            url = make_vault()
            name = url.split("//", 1)[1].split(".", 1)[0]
            admin_cred = make_credential("client_secret")
            made.callback(admin_cred.close)
            admin = made.enter_context(closing(CertificateClient(url, admin_cred)))
            admin.begin_create_certificate("c", CertificatePolicy.get_default()).result()
            principal = make_principal()
            assign_role(role, principal, f"/vaults/{name}")
            cred = ClientSecretCredential(bootstrap["tenant_id"], principal["client_id"], principal["secret"],
                                          authority=bootstrap["authority_host"], disable_instance_discovery=True)
            made.callback(cred.close)
            certs = made.enter_context(closing(CertificateClient(url, cred)))
            secrets = made.enter_context(closing(SecretClient(url, cred)))
            return admin, certs, secrets

        yield setup


def rbac_refused(call) -> None:
    forbidden_by("ForbiddenByRbac", call)


def test_certificates_officer_manages_certificates_but_not_their_private_keys(role_setup):
    from azure.keyvault.certificates import CertificateContact, CertificatePolicy

    admin, certs, secrets = role_setup("Key Vault Certificates Officer")
    made = certs.begin_create_certificate("officer", CertificatePolicy.get_default()).result()
    assert made.name == "officer"
    certs.update_certificate_properties("officer", tags={"owner": "officer"})
    certs.set_contacts([CertificateContact(email="pki@example.com")])
    certs.create_issuer("internal", "Test")
    assert [i.name for i in certs.list_properties_of_issuers()] == ["internal"]
    certs.begin_delete_certificate("officer").result()
    certs.purge_deleted_certificate("officer")
    # The private key is in the certificate's secret, outside certificates/*.
    rbac_refused(lambda: secrets.get_secret("c"))
    rbac_refused(lambda: secrets.set_secret("s", "value"))


def test_certificate_user_reads_certificates_and_their_keys_but_changes_nothing(role_setup):
    from azure.keyvault.certificates import CertificateContact, CertificatePolicy

    admin, certs, secrets = role_setup("Key Vault Certificate User")
    got = certs.get_certificate("c")
    assert [p.name for p in certs.list_properties_of_certificates()] == ["c"]
    assert certs.get_certificate_policy("c").issuer_name == "Self"
    secret = secrets.get_secret("c")
    key, cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki)
    assert cert.public_bytes(serialization.Encoding.DER) == bytes(got.cer)
    assert secret.properties.version == got.properties.version
    rbac_refused(lambda: certs.begin_create_certificate("new", CertificatePolicy.get_default()))
    rbac_refused(lambda: certs.update_certificate_properties("c", enabled=False))
    rbac_refused(lambda: certs.begin_delete_certificate("c"))
    rbac_refused(lambda: certs.backup_certificate("c"))
    rbac_refused(lambda: certs.set_contacts([CertificateContact(email="x@example.com")]))
    rbac_refused(lambda: certs.get_issuer("any"))
    assert admin.get_certificate("c").properties.enabled is True
