"""Key release (secure key export, issue 12 point 5) through the official KeyClient.release_key.

The test plays the attestation service: it makes an RSA issuer key pair with pyca/cryptography,
registers the issuer and its JWK set for a vault with `arca vault attestation-issuers set`, and
mints attestation tokens (RS256 JWTs) carrying the claims a release policy checks and, in
`x-ms-runtime.keys`, the RSA target key the released key is wrapped for. A release is judged
end to end: the answer's JWS verifies with the deployment's published release-signing key
(`GET /release-signing-keys`), `key_hsm` unwraps with the target's private key (RSA-OAEP, then
AES key wrap with padding), and the unwrapped PKCS#8 key is the vault's key (it signs locally and
Arca verifies). Each refusal leaves the key as it was. Tokens and keys never appear in assertion
messages.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from typing import Any, Dict

import pytest
import requests
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils as asym_utils

from arca_harness import forbidden_by
from attestation_tools import ISSUER, Attester, exportable_key, trust, unb64u

OAEP_HASH = {
    "CKM_RSA_AES_KEY_WRAP": hashes.SHA1(),
    "RSA_AES_KEY_WRAP_256": hashes.SHA256(),
    "RSA_AES_KEY_WRAP_384": hashes.SHA384(),
}


@pytest.fixture
def release_vault(arca, make_vault, make_keys_api):
    """-> (vault name, admin keys facade, attester), the attester's issuer trusted by the vault."""
    url = make_vault()
    name = url.split("//", 1)[1].split(".", 1)[0]
    attester = Attester()
    trust(arca, name, attester)
    listed = arca.cli_json("vault", "attestation-issuers", "list", name)
    assert [i["issuer"] for i in listed["value"]] == [ISSUER]
    return name, make_keys_api("sync", url), attester


def verified_payload(jws: str, bootstrap: Dict[str, Any], ca_cert: str) -> Dict[str, Any]:
    """The payload of a release answer, once its ES256 signature verifies with the published key."""
    keys = requests.get(f"{bootstrap['authority_host'].rstrip('/')}/release-signing-keys", verify=ca_cert,
                        timeout=10).json()["keys"]
    header_b64, payload_b64, signature_b64 = jws.split(".")
    header = json.loads(unb64u(header_b64))
    assert header["alg"] == "ES256"
    (jwk,) = [k for k in keys if k["kid"] == header["kid"]]
    public = ec.EllipticCurvePublicNumbers(int.from_bytes(unb64u(jwk["x"]), "big"),
                                           int.from_bytes(unb64u(jwk["y"]), "big"), ec.SECP256R1()).public_key()
    signature = unb64u(signature_b64)
    der = asym_utils.encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(unb64u(payload_b64))


def unwrap_released(payload: Dict[str, Any], target: rsa.RSAPrivateKey, enc: str):
    envelope = json.loads(unb64u(payload["response"]["key"]["key"]["key_hsm"]))
    assert envelope["header"]["alg"] == "dir" and envelope["header"]["enc"] == enc
    blob = unb64u(envelope["ciphertext"])
    size = target.key_size // 8
    oaep = padding.OAEP(mgf=padding.MGF1(OAEP_HASH[enc]), algorithm=OAEP_HASH[enc], label=None)
    aes = target.decrypt(blob[:size], oaep)
    pkcs8 = keywrap.aes_key_unwrap_with_padding(aes, blob[size:])
    return serialization.load_der_private_key(pkcs8, password=None)


@pytest.mark.parametrize("enc", sorted(OAEP_HASH))
def test_release_wraps_the_key_for_the_attested_target(release_vault, bootstrap, ca_cert, enc):
    _, api, attester = release_vault
    key = exportable_key(api)
    result = api.release_key(key.name, attester.token({"sdk-test": "true"}), algorithm=enc, nonce="n-123")
    payload = verified_payload(result.value, bootstrap, ca_cert)
    assert payload["request"]["enc"] == enc and payload["request"]["nonce"] == "n-123"
    assert payload["response"]["key"]["key"]["kid"] == key.id
    released = unwrap_released(payload, attester.target, enc)
    assert released.public_key().public_numbers().n == int.from_bytes(key.key.n, "big")
    digest = hashlib.sha256(b"released").digest()
    signature = released.sign(b"released", padding.PKCS1v15(), hashes.SHA256())
    assert api.crypto(key.id).verify("RS256", digest, signature).is_valid


def test_release_of_a_named_version_and_the_default_enc(release_vault, bootstrap, ca_cert):
    _, api, attester = release_vault
    first = exportable_key(api, "versions")
    exportable_key(api, "versions")
    result = api.release_key(first.name, attester.token({"svn": 12}), version=first.properties.version)
    payload = verified_payload(result.value, bootstrap, ca_cert)
    assert payload["response"]["key"]["key"]["kid"] == first.id
    assert "nonce" not in payload["request"]
    released = unwrap_released(payload, attester.target, "CKM_RSA_AES_KEY_WRAP")
    assert released.public_key().public_numbers().n == int.from_bytes(first.key.n, "big")


def refused(api, key, token: str, status: int) -> Dict[str, Any]:
    from azure.core.exceptions import HttpResponseError

    before = api.get_key(key.name)
    with pytest.raises(HttpResponseError) as info:
        api.release_key(key.name, token)
    assert info.value.status_code == status, info.value.status_code
    body = info.value.response.json()
    assert token not in json.dumps(body)
    after = api.get_key(key.name)
    assert (after.properties.version, after.properties.updated_on) == (before.properties.version,
                                                                      before.properties.updated_on)
    return body


def test_refusals_change_nothing(release_vault):
    name, api, attester = release_vault
    key = exportable_key(api)
    stranger = Attester("https://elsewhere.arca.test")
    refused(api, key, stranger.token({"sdk-test": "true"}), 403)                     # issuer not trusted
    forged = attester.token({"sdk-test": "true"}, signer=stranger.signing)
    refused(api, key, forged, 403)                                                    # bad signature
    refused(api, key, attester.token({"sdk-test": "true"}, exp_in=-600), 403)         # expired
    body = refused(api, key, attester.token({"sdk-test": "false", "svn": 3}), 403)    # claim unmet
    assert "release policy" in body["error"]["message"]
    refused(api, key, "not-a-jwt", 400)                                               # malformed
    plain = api.create_rsa_key("plain", size=2048)
    refused(api, plain, attester.token({"sdk-test": "true"}), 403)                    # not exportable


def test_a_role_without_release_is_refused_and_the_release_user_is_allowed(
        release_vault, make_principal, assign_role, bootstrap):
    from azure.identity import ClientSecretCredential
    from sdk_facade import SyncKeys

    name, api, attester = release_vault
    key = exportable_key(api)
    for role, allowed in (("Key Vault Crypto User", False), ("Key Vault Crypto Service Release User", True)):
        principal = make_principal()
        assign_role(role, principal, f"/vaults/{name}")
        cred = ClientSecretCredential(bootstrap["tenant_id"], principal["client_id"], principal["secret"],
                                      authority=bootstrap["authority_host"], disable_instance_discovery=True)
        caller = SyncKeys(api.vault_url, cred)
        try:
            token = attester.token({"sdk-test": "true"})
            if allowed:
                assert caller.release_key(key.name, token).value.count(".") == 2
            else:
                forbidden_by("ForbiddenByRbac", lambda: caller.release_key(key.name, token))
        finally:
            caller.close()


def test_issuers_are_managed_per_vault(arca, release_vault, make_vault):
    name, _, attester = release_vault
    other = make_vault().split("//", 1)[1].split(".", 1)[0]
    assert arca.cli_json("vault", "attestation-issuers", "list", other)["value"] == []
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump({"keys": []}, f)
        f.flush()
        proc = arca.cli("vault", "attestation-issuers", "set", name, "--issuer", ISSUER, "--jwks", f.name)
        assert proc.returncode != 0
    proc = arca.cli("vault", "attestation-issuers", "delete", name, "--issuer", ISSUER)
    assert proc.returncode == 0, proc.stderr
    assert arca.cli_json("vault", "attestation-issuers", "list", name)["value"] == []
