"""Certificates themselves through the official azure-keyvault-certificates CertificateClient, sync
and async (issue 13): create with the poller (Self completes at once; Unknown leaves a CSR that a
test CA signs and the client merges), import of PFX and PEM, the managed secret and key, update,
the policy, listings, delete/recover/purge, backup/restore, and hostile inputs that must get 400
and change nothing. What Arca returns is checked with pyca/cryptography and `openssl verify`, not
with Arca's own code. Each test works in a vault of its own.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import subprocess

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import (
    CertificateClient,
    CertificateContentType,
    CertificatePolicy,
    KeyCurveName,
    KeyType,
    KeyUsageType,
    WellKnownIssuerNames,
)
from azure.keyvault.certificates.aio import CertificateClient as AsyncCertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_AUTH = "1.3.6.1.5.5.7.3.1"


class Clients:
    def __init__(self, url, credential):
        self.certs = CertificateClient(url, credential)
        self.secrets = SecretClient(url, credential)
        self.keys = KeyClient(url, credential)

    def close(self):
        self.certs.close()
        self.secrets.close()
        self.keys.close()


@pytest.fixture
def clients(make_vault, make_credential):
    credential = make_credential("client_secret")
    c = Clients(make_vault(), credential)
    yield c
    c.close()
    credential.close()


def public_bytes(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def cert_public_bytes(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def self_policy(**overrides) -> CertificatePolicy:
    args = dict(
        issuer_name=WellKnownIssuerNames.self,
        subject="CN=app.example.test, O=Arca Tests",
        san_dns_names=["app.example.test", "www.app.example.test"],
        validity_in_months=12,
        key_type=KeyType.ec,
        key_curve_name=KeyCurveName.p_256,
        exportable=True,
        enhanced_key_usage=[SERVER_AUTH],
        key_usage=[KeyUsageType.digital_signature, KeyUsageType.key_agreement],
        content_type=CertificateContentType.pkcs12,
    )
    args.update(overrides)
    return CertificatePolicy(**args)


def test_a_self_signed_certificate_is_what_its_policy_asks_for(clients):
    poller = clients.certs.begin_create_certificate("web", self_policy())
    cert = poller.result()
    assert poller.status() == "completed"
    leaf = x509.load_der_x509_certificate(bytes(cert.cer))
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "app.example.test"
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Arca Tests"
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["app.example.test", "www.app.example.test"]
    ekus = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(ekus) == [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_agreement and not usage.key_cert_sign
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert datetime.timedelta(days=360) < lifetime < datetime.timedelta(days=372)
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert cert.properties.x509_thumbprint == leaf.fingerprint(hashes.SHA1())
    # The secret is a PFX whose private key belongs to the certificate, same version.
    secret = clients.secrets.get_secret("web")
    assert secret.properties.content_type == "application/x-pkcs12"
    assert secret.properties.managed is True
    assert secret.properties.key_id == cert.key_id
    key, pfx_cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert public_bytes(key) == cert_public_bytes(leaf)
    assert pfx_cert.fingerprint(hashes.SHA256()) == leaf.fingerprint(hashes.SHA256())
    assert secret.properties.version == cert.properties.version
    # outContentType: the same secret as PEM, its key and certificate the PFX's.
    pem = clients.secrets.get_secret("web", out_content_type="application/x-pem-file")
    assert pem.properties.content_type == "application/x-pem-file"
    pem_key = serialization.load_pem_private_key(pem.value.encode(), None)
    assert public_bytes(pem_key) == public_bytes(key)
    assert x509.load_pem_x509_certificate(pem.value.encode()).fingerprint(hashes.SHA256()) == \
        leaf.fingerprint(hashes.SHA256())
    # The key is the certificate's, managed, with the operations the key usages give.
    kv_key = clients.keys.get_key("web")
    assert kv_key.properties.managed is True
    assert kv_key.properties.version == cert.properties.version
    assert set(kv_key.key_operations) == {"sign", "verify"}


def test_a_pem_certificate_without_export_leaves_the_key_out(clients):
    policy = self_policy(content_type=CertificateContentType.pem, exportable=False,
                         key_type=KeyType.rsa, key_size=2048, key_curve_name=None,
                         key_usage=[KeyUsageType.digital_signature, KeyUsageType.key_encipherment])
    cert = clients.certs.begin_create_certificate("pem", policy).result()
    secret = clients.secrets.get_secret("pem")
    assert secret.properties.content_type == "application/x-pem-file"
    assert "PRIVATE KEY" not in secret.value
    pem_cert = x509.load_pem_x509_certificate(secret.value.encode())
    assert pem_cert.public_bytes(serialization.Encoding.DER) == bytes(cert.cer)
    assert isinstance(pem_cert.public_key(), rsa.RSAPublicKey)
    assert pem_cert.public_key().key_size == 2048


def make_ca(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Arca Test Root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "ca.pem"
    path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return key, ca, path


def sign_csr(csr_der: bytes, ca_key, ca: x509.Certificate) -> x509.Certificate:
    csr = x509.load_der_x509_csr(csr_der)
    assert csr.is_signature_valid
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=90))
    )
    for ext in csr.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    return builder.sign(ca_key, hashes.SHA256())


def test_an_unknown_issuer_csr_is_signed_outside_and_merged(clients, tmp_path):
    policy = self_policy(issuer_name=WellKnownIssuerNames.unknown)
    operation = clients.certs.begin_create_certificate("merged", policy).result()
    assert operation.status.lower() == "inprogress"
    assert operation.issuer_name == "Unknown"
    with pytest.raises(ResourceNotFoundError):
        clients.certs.get_certificate("merged")
    ca_key, ca, ca_path = make_ca(tmp_path)
    # A chain whose leaf holds another key is refused and changes nothing.
    stranger = ec.generate_private_key(ec.SECP256R1())
    stranger_csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stranger")]))
        .sign(stranger, hashes.SHA256())
    )
    wrong = sign_csr(stranger_csr.public_bytes(serialization.Encoding.DER), ca_key, ca)
    with pytest.raises(HttpResponseError) as refused:
        clients.certs.merge_certificate("merged", [wrong.public_bytes(serialization.Encoding.DER)])
    assert refused.value.status_code == 400
    assert clients.certs.get_certificate_operation("merged").status.lower() == "inprogress"

    leaf = sign_csr(bytes(operation.csr), ca_key, ca)
    merged = clients.certs.merge_certificate(
        "merged", [leaf.public_bytes(serialization.Encoding.DER), ca.public_bytes(serialization.Encoding.DER)])
    assert bytes(merged.cer) == leaf.public_bytes(serialization.Encoding.DER)
    assert clients.certs.get_certificate_operation("merged").status.lower() == "completed"
    # The secret's certificate verifies to the test CA with OpenSSL; its key is the CSR's.
    secret = clients.secrets.get_secret("merged")
    key, pfx_leaf, extra = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert public_bytes(key) == cert_public_bytes(leaf)
    leaf_path = tmp_path / "leaf.pem"
    leaf_path.write_bytes(pfx_leaf.public_bytes(serialization.Encoding.PEM))
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(ca_path), str(leaf_path)],
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stderr
    assert [c.subject for c in extra] == [ca.subject]


def test_a_pending_operation_is_cancelled_and_deleted(clients):
    policy = self_policy(issuer_name=WellKnownIssuerNames.unknown)
    clients.certs.begin_create_certificate("cancelled", policy).result()
    cancelled = clients.certs.cancel_certificate_operation("cancelled")
    assert cancelled.cancellation_requested is True
    assert cancelled.status.lower() == "cancelled"
    deleted = clients.certs.delete_certificate_operation("cancelled")
    assert deleted.status.lower() == "cancelled"
    with pytest.raises(ResourceNotFoundError):
        clients.certs.get_certificate_operation("cancelled")


def rsa_certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imported.example.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=180))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("imported.example.test")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def test_imports_of_pfx_and_pem_and_what_they_refuse(clients):
    key, cert = rsa_certificate()
    pfx = pkcs12.serialize_key_and_certificates(b"imp", key, cert, None,
                                                serialization.BestAvailableEncryption(b"s3cret"))
    imported = clients.certs.import_certificate("imported", pfx, password="s3cret")
    assert bytes(imported.cer) == cert.public_bytes(serialization.Encoding.DER)
    assert imported.policy.issuer_name == "Unknown"
    assert imported.policy.san_dns_names == ["imported.example.test"]
    secret = clients.secrets.get_secret("imported")
    back, _, _ = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert public_bytes(back) == public_bytes(key)

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM)
    pem_policy = CertificatePolicy.get_default()
    pem_policy._content_type = CertificateContentType.pem  # the SDK's own way to send PEM
    imported = clients.certs.import_certificate("imported-pem", pem, policy=pem_policy)
    assert imported.properties.x509_thumbprint == cert.fingerprint(hashes.SHA1())

    for value, password in [(b"garbage, not a pfx", None), (pfx, "wrong-password"),
                            (cert.public_bytes(serialization.Encoding.DER), None)]:
        with pytest.raises(HttpResponseError) as refused:
            clients.certs.import_certificate("refused", value, password=password)
        assert refused.value.status_code == 400
        assert "s3cret" not in str(refused.value)
    with pytest.raises(ResourceNotFoundError):
        clients.certs.get_certificate("refused")
    with pytest.raises(ResourceNotFoundError):
        clients.secrets.get_secret("refused")


def test_update_policy_listing_and_versions(clients):
    first = clients.certs.begin_create_certificate("lister", self_policy()).result()
    second = clients.certs.begin_create_certificate("lister", self_policy()).result()
    assert first.properties.version != second.properties.version
    versions = {p.version for p in clients.certs.list_properties_of_certificate_versions("lister")}
    assert versions == {first.properties.version, second.properties.version}
    assert clients.certs.get_certificate_version("lister", first.properties.version).cer == first.cer
    listed = [p.name for p in clients.certs.list_properties_of_certificates()]
    assert listed == ["lister"]
    updated = clients.certs.update_certificate_properties("lister", enabled=False, tags={"team": "edge"})
    assert updated.properties.enabled is False
    assert updated.properties.tags == {"team": "edge"}
    # The version's secret and key are disabled with it; the older version's are not.
    for listing in (clients.secrets.list_properties_of_secret_versions("lister"),
                    clients.keys.list_properties_of_key_versions("lister")):
        enabled = {p.version: p.enabled for p in listing}
        assert enabled == {first.properties.version: True, second.properties.version: False}
    policy = clients.certs.get_certificate_policy("lister")
    assert policy.validity_in_months == 12
    changed = clients.certs.update_certificate_policy("lister", CertificatePolicy(validity_in_months=6))
    assert changed.validity_in_months == 6
    assert changed.subject == "CN=app.example.test, O=Arca Tests"
    with pytest.raises(HttpResponseError) as refused:
        clients.certs.update_certificate_policy("lister", CertificatePolicy(validity_in_months=5000))
    assert refused.value.status_code == 400
    assert clients.certs.get_certificate_policy("lister").validity_in_months == 6


def test_delete_recover_purge_backup_and_restore_act_on_all_three(clients):
    cert = clients.certs.begin_create_certificate("cycle", self_policy()).result()
    backup = clients.certs.backup_certificate("cycle")
    deleted = clients.certs.begin_delete_certificate("cycle").result()
    assert deleted.recovery_id.endswith("/deletedcertificates/cycle")
    with pytest.raises(ResourceNotFoundError):
        clients.keys.get_key("cycle")
    assert [d.name for d in clients.certs.list_deleted_certificates()] == ["cycle"]
    assert clients.certs.get_deleted_certificate("cycle").properties.version == cert.properties.version
    recovered = clients.certs.begin_recover_deleted_certificate("cycle").result()
    assert recovered.properties.version == cert.properties.version
    assert clients.keys.get_key("cycle").properties.managed is True
    clients.certs.begin_delete_certificate("cycle").result()
    clients.certs.purge_deleted_certificate("cycle")
    with pytest.raises(ResourceNotFoundError):
        clients.secrets.get_deleted_secret("cycle")
    restored = clients.certs.restore_certificate_backup(backup)
    assert restored.properties.version == cert.properties.version
    assert bytes(restored.cer) == bytes(cert.cer)
    secret = clients.secrets.get_secret("cycle")
    assert secret.properties.managed is True
    # The managed secret and key refuse changes through their own APIs.
    with pytest.raises(HttpResponseError) as refused:
        clients.secrets.set_secret("cycle", "overwrite")
    assert refused.value.status_code == 403
    assert refused.value.error.code == "Forbidden"


def test_the_async_client_covers_every_operation(make_vault, make_async_credential, tmp_path):
    url = make_vault()
    ca_key, ca, _ = make_ca(tmp_path)
    key, cert = rsa_certificate()
    pfx = pkcs12.serialize_key_and_certificates(b"imp", key, cert, None, serialization.NoEncryption())

    async def run():
        credential = make_async_credential("client_secret")
        async with credential, AsyncCertificateClient(url, credential) as client:
            made = await client.create_certificate("async-cert", self_policy())
            assert made.name == "async-cert"
            got = await client.get_certificate("async-cert")
            assert got.cer == made.cer
            assert (await client.get_certificate_version("async-cert", got.properties.version)).cer == got.cer
            assert [p.name async for p in client.list_properties_of_certificates()] == ["async-cert"]
            versions = [p.version async for p in client.list_properties_of_certificate_versions("async-cert")]
            assert versions == [got.properties.version]
            updated = await client.update_certificate_properties("async-cert", tags={"a": "b"})
            assert updated.properties.tags == {"a": "b"}
            policy = await client.update_certificate_policy("async-cert", CertificatePolicy(validity_in_months=3))
            assert (await client.get_certificate_policy("async-cert")).validity_in_months == policy.validity_in_months == 3
            backup = await client.backup_certificate("async-cert")
            deleted = await client.delete_certificate("async-cert")
            assert deleted.name == "async-cert"
            assert (await client.get_deleted_certificate("async-cert")).name == "async-cert"
            assert [d.name async for d in client.list_deleted_certificates()] == ["async-cert"]
            recovered = await client.recover_deleted_certificate("async-cert")
            assert recovered.properties.version == got.properties.version
            await client.delete_certificate("async-cert")
            await client.purge_deleted_certificate("async-cert")
            restored = await client.restore_certificate_backup(backup)
            assert restored.cer == got.cer

            imported = await client.import_certificate("async-imported", pfx)
            assert bytes(imported.cer) == cert.public_bytes(serialization.Encoding.DER)

            pending = await client.create_certificate(
                "async-merged", self_policy(issuer_name=WellKnownIssuerNames.unknown))
            assert pending.status.lower() == "inprogress"
            assert (await client.get_certificate_operation("async-merged")).csr == pending.csr
            leaf = sign_csr(bytes(pending.csr), ca_key, ca)
            merged = await client.merge_certificate("async-merged", [leaf.public_bytes(serialization.Encoding.DER)])
            assert bytes(merged.cer) == leaf.public_bytes(serialization.Encoding.DER)

            await client.create_certificate("async-cancel", self_policy(issuer_name=WellKnownIssuerNames.unknown))
            cancelled = await client.cancel_certificate_operation("async-cancel")
            assert cancelled.cancellation_requested
            await client.delete_certificate_operation("async-cancel")
            with pytest.raises(ResourceNotFoundError):
                await client.get_certificate_operation("async-cancel")

    asyncio.run(run())


def issue(subject_key, issuer_key, issuer_name, subject: str, *, ca: bool, days: int = 90, start_days: int = 0):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(subject_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=start_days) - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=start_days + days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def test_hostile_merges_are_refused_and_change_nothing(clients, tmp_path):
    operation = clients.certs.begin_create_certificate(
        "hostile", self_policy(issuer_name=WellKnownIssuerNames.unknown)).result()
    csr = x509.load_der_x509_csr(bytes(operation.csr))
    root_key, root, _ = make_ca(tmp_path)
    der = serialization.Encoding.DER
    # An intermediate that is not a CA.
    mid_key = ec.generate_private_key(ec.SECP256R1())
    not_ca = issue(mid_key.public_key(), root_key, root.subject, "not a CA", ca=False)
    leaf = issue(csr.public_key(), mid_key, not_ca.subject, "leaf", ca=False)
    # A leaf that expired (valid for a day, a month ago).
    expired = issue(csr.public_key(), root_key, root.subject, "old", ca=False, days=1, start_days=-30)
    # Eleven certificates, one more than a chain may hold.
    good = issue(csr.public_key(), root_key, root.subject, "good", ca=False)
    for chain in ([leaf.public_bytes(der), not_ca.public_bytes(der), root.public_bytes(der)],
                  [expired.public_bytes(der), root.public_bytes(der)],
                  [good.public_bytes(der)] + [root.public_bytes(der)] * 10,
                  [b"\x30\x03\x02\x01\x00"]):
        with pytest.raises(HttpResponseError) as refused:
            clients.certs.merge_certificate("hostile", chain)
        assert refused.value.status_code == 400, refused.value.message
    assert clients.certs.get_certificate_operation("hostile").status.lower() == "inprogress"
    with pytest.raises(ResourceNotFoundError):
        clients.certs.get_certificate("hostile")
    with pytest.raises(ResourceNotFoundError):
        clients.secrets.get_secret("hostile")
    # The good chain still merges.
    merged = clients.certs.merge_certificate("hostile", [good.public_bytes(der), root.public_bytes(der)])
    assert bytes(merged.cer) == good.public_bytes(der)


@pytest.mark.parametrize("bad", [
    dict(key_type=KeyType.rsa, key_size=1000, key_curve_name=None),
    dict(key_type=KeyType.ec, key_curve_name="P-999"),
    dict(validity_in_months=0),
    dict(validity_in_months=5000),
    dict(content_type="application/json"),
    dict(issuer_name="NoSuchIssuer"),
])
def test_impossible_policies_get_400_and_create_nothing(clients, bad):
    args = dict(issuer_name=WellKnownIssuerNames.self, subject="CN=x.example.test", validity_in_months=12)
    args.update(bad)
    with pytest.raises(HttpResponseError) as refused:
        clients.certs.begin_create_certificate("impossible", CertificatePolicy(**args))
    assert refused.value.status_code in (400, 404), refused.value.message
    with pytest.raises(ResourceNotFoundError):
        clients.certs.get_certificate_policy("impossible")
    assert list(clients.certs.list_properties_of_certificates(include_pending=True)) == []
