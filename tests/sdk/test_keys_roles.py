"""The built-in key roles through the official KeyClient and CryptographyClient (issue 12, point 6).

For each role a principal holding only that role, at the scope of a vault of its own, does one
operation the role allows (it succeeds) and one it does not (403 Forbidden / ForbiddenByRbac). The
allowed sets are Azure's built-in role definitions (the azure-docs built-in roles page, "security"
section; the same dataActions as crates/arca-core/src/authz/roles.rs):

  Key Vault Crypto Officer                  keys/*, keyrotationpolicies/*
  Key Vault Crypto User                     keys/read, update, backup, encrypt, decrypt, wrap,
                                            unwrap, sign, verify
  Key Vault Crypto Service Encryption User  keys/read, wrap, unwrap
  Key Vault Crypto Service Release User     keys/release
  Key Vault Reader                          vaults/*/read (keys/read, keyrotationpolicies/read),
                                            secrets/readMetadata

Every CryptographyClient here calls the vault (sdk_facade._remote_only), so the refusal or the
success is the server's, not the SDK's local public-key arithmetic.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import ExitStack, closing
from typing import Any, Dict

import pytest

from arca_harness import forbidden_by, same_secret


@pytest.fixture
def role_setup(make_vault, make_keys_api, make_principal, assign_role, bootstrap):
    """role_setup(role) -> (admin facade, principal facade, key) on a new vault holding one RSA key,
    the principal holding only `role` at the vault's scope."""
    from azure.identity import ClientSecretCredential
    from sdk_facade import SyncKeys

    with ExitStack() as made:

        def setup(role: str):
            url = make_vault()
            name = url.split("//", 1)[1].split(".", 1)[0]
            admin = make_keys_api("sync", url)
            key = admin.create_rsa_key("k", size=2048)
            principal = make_principal()
            assign_role(role, principal, f"/vaults/{name}")
            cred = ClientSecretCredential(bootstrap["tenant_id"], principal["client_id"], principal["secret"],
                                          authority=bootstrap["authority_host"], disable_instance_discovery=True)
            api = made.enter_context(closing(SyncKeys(url, cred)))
            return admin, api, key

        yield setup


def rbac_refused(call) -> None:
    forbidden_by("ForbiddenByRbac", call)


def test_crypto_officer_manages_keys_but_not_secrets(role_setup, bootstrap):
    from azure.keyvault.keys import KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
    from azure.keyvault.secrets import SecretClient

    admin, api, key = role_setup("Key Vault Crypto Officer")
    made = api.create_ec_key("officer", curve="P-256")
    api.update_key_rotation_policy("officer", KeyRotationPolicy(expires_in="P90D", lifetime_actions=[
        KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D")]))
    api.delete_key(made.name)
    api.purge_deleted_key(made.name)
    secrets = SecretClient(api.vault_url, api.credential)
    with closing(secrets):
        rbac_refused(lambda: secrets.set_secret("s", "value"))
    # GetRandomBytes is Arca's vaults/rng/action, outside keys/*.
    rbac_refused(lambda: api.get_random_bytes(8))


def test_crypto_user_signs_but_cannot_create_or_delete(role_setup):
    admin, api, key = role_setup("Key Vault Crypto User")
    crypto = api.crypto(key.id)
    digest = hashlib.sha256(b"data").digest()
    signature = crypto.sign("PS256", digest).signature
    assert crypto.verify("PS256", digest, signature).is_valid
    same_secret(crypto.decrypt("RSA-OAEP", crypto.encrypt("RSA-OAEP", b"x" * 16).ciphertext).plaintext, b"x" * 16, 'b"x"')
    api.backup_key(key.name)
    rbac_refused(lambda: api.create_rsa_key("new", size=2048))
    rbac_refused(lambda: api.delete_key(key.name))
    rbac_refused(lambda: api.rotate_key(key.name))
    assert [k.name for k in admin.items("list_properties_of_keys")] == [key.name]


def test_crypto_service_encryption_user_wraps_but_cannot_sign(role_setup):
    admin, api, key = role_setup("Key Vault Crypto Service Encryption User")
    assert api.get_key(key.name).id == key.id
    crypto = api.crypto(key.id)
    cek = os.urandom(32)
    same_secret(crypto.unwrap_key("RSA-OAEP-256", crypto.wrap_key("RSA-OAEP-256", cek).encrypted_key).key, cek, 'cek')
    rbac_refused(lambda: crypto.sign("RS256", hashlib.sha256(b"data").digest()))
    rbac_refused(lambda: crypto.decrypt("RSA-OAEP-256", os.urandom(256)))
    rbac_refused(lambda: api.update_key_properties(key.name, enabled=False))
    assert admin.get_key(key.name).properties.enabled is True


def test_crypto_service_release_user_releases_but_cannot_read_or_use_keys(role_setup, arca):
    """The role's one dataAction is keys/release: the principal releases an exportable key to an
    attested target (the vault trusts the test's attestation issuer) and may do nothing else."""
    from attestation_tools import Attester, exportable_key, trust

    admin, api, key = role_setup("Key Vault Crypto Service Release User")
    rbac_refused(lambda: api.get_key(key.name))
    rbac_refused(lambda: api.crypto(key.id).sign("RS256", hashlib.sha256(b"data").digest()))
    rbac_refused(lambda: api.items("list_properties_of_keys"))
    attester = Attester()
    trust(arca, api.vault_url.split("//", 1)[1].split(".", 1)[0], attester)
    exportable = exportable_key(admin)
    released = api.release_key(exportable.name, attester.token({"sdk-test": "true"}))
    assert released.value.count(".") == 2


def test_key_vault_reader_reads_keys_but_cannot_use_them(role_setup):
    admin, api, key = role_setup("Key Vault Reader")
    assert api.get_key(key.name).key.n == key.key.n
    assert [k.name for k in api.items("list_properties_of_keys")] == [key.name]
    assert len(api.items("list_properties_of_key_versions", key.name)) == 1
    api.get_key_rotation_policy(key.name)
    crypto = api.crypto(key.id)
    rbac_refused(lambda: crypto.sign("RS256", hashlib.sha256(b"data").digest()))
    rbac_refused(lambda: crypto.encrypt("RSA-OAEP", b"x" * 16))
    rbac_refused(lambda: api.create_ec_key("new", curve="P-256"))
    rbac_refused(lambda: api.backup_key(key.name))
