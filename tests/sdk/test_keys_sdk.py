"""Every keys operation through the official azure-keyvault-keys KeyClient and CryptographyClient,
sync and async, with each cryptographic result judged by an independent library (pyca/cryptography).

CryptographyClients made here send every operation to Arca (sdk_facade._remote_only): left alone,
the SDK would fetch the public key and encrypt, verify and RSA-wrap locally, and Arca would never
see those calls. Values, keys and tokens never appear in assertion messages: failures name
algorithms, sizes and status codes only.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Dict, List

import pytest
from arca_harness import same_secret
from cryptography.hazmat.primitives import hashes, keywrap, padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding, utils as asym_utils
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MODES = ("sync", "async")
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")
CURVES = {"P-256": ec.SECP256R1(), "P-256K": ec.SECP256K1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
EC_ALG = {"P-256": "ES256", "P-256K": "ES256K", "P-384": "ES384", "P-521": "ES512"}
HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
API_VERSION = "7.6"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _int(b: bytes) -> int:
    return int.from_bytes(b, "big")


def _bytes(i: int, length: int | None = None) -> bytes:
    return i.to_bytes(length or (i.bit_length() + 7) // 8, "big")


def rsa_public(jwk: Any) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(_int(jwk.e), _int(jwk.n)).public_key()


def ec_public(jwk: Any) -> ec.EllipticCurvePublicKey:
    crv = getattr(jwk.crv, "value", jwk.crv)
    return ec.EllipticCurvePublicNumbers(_int(jwk.x), _int(jwk.y), CURVES[crv]).public_key()


def hash_of(alg: str) -> hashes.HashAlgorithm:
    return HASHES[alg[2:5]]


def digest_for(alg: str, data: bytes = b"arca signs this") -> bytes:
    h = hashes.Hash(hash_of(alg))
    h.update(data)
    return h.finalize()


def verify_locally(jwk: Any, alg: str, digest: bytes, signature: bytes) -> None:
    """Raises InvalidSignature unless `signature` is `alg` over `digest` by the key's public half."""
    prehashed = asym_utils.Prehashed(hash_of(alg))
    if alg.startswith("RS"):
        rsa_public(jwk).verify(signature, digest, padding.PKCS1v15(), prehashed)
    elif alg.startswith("PS"):
        pss = padding.PSS(mgf=padding.MGF1(hash_of(alg)), salt_length=hash_of(alg).digest_size)
        rsa_public(jwk).verify(signature, digest, pss, prehashed)
    else:
        half = len(signature) // 2
        der = asym_utils.encode_dss_signature(_int(signature[:half]), _int(signature[half:]))
        ec_public(jwk).verify(der, digest, ec.ECDSA(prehashed))


def rsa_encrypt_locally(jwk: Any, alg: str, plaintext: bytes) -> bytes:
    pub = rsa_public(jwk)
    if alg == "RSA1_5":
        return pub.encrypt(plaintext, padding.PKCS1v15())
    h = hashes.SHA1() if alg == "RSA-OAEP" else hashes.SHA256()
    return pub.encrypt(plaintext, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))


def rsa_decrypt_locally(private: rsa.RSAPrivateKey, alg: str, ciphertext: bytes) -> bytes:
    if alg == "RSA1_5":
        return private.decrypt(ciphertext, padding.PKCS1v15())
    h = hashes.SHA1() if alg == "RSA-OAEP" else hashes.SHA256()
    return private.decrypt(ciphertext, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))


def rsa_jwk(private: rsa.RSAPrivateKey) -> Dict[str, Any]:
    n = private.private_numbers()
    size = (n.public_numbers.n.bit_length() + 7) // 8
    return dict(kty="RSA", n=_bytes(n.public_numbers.n, size), e=_bytes(n.public_numbers.e),
                d=_bytes(n.d, size), p=_bytes(n.p), q=_bytes(n.q), dp=_bytes(n.dmp1), dq=_bytes(n.dmq1),
                qi=_bytes(n.iqmp))


def ec_jwk(private: ec.EllipticCurvePrivateKey, crv: str) -> Dict[str, Any]:
    n = private.private_numbers()
    size = (private.curve.key_size + 7) // 8
    return dict(kty="EC", crv=crv, x=_bytes(n.public_numbers.x, size), y=_bytes(n.public_numbers.y, size),
                d=_bytes(n.private_value, size))


def json_web_key(**members: Any):
    from azure.keyvault.keys import JsonWebKey

    return JsonWebKey(**members)


def http_error(call) -> Any:
    """Runs `call`, which must fail with an HttpResponseError; returns (status, code, inner code)."""
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as info:
        call()
    exc = info.value
    body = exc.response.json() if exc.response is not None else {}
    error = body.get("error") or {}
    return exc.status_code, error.get("code"), (error.get("innererror") or {}).get("code")


def assert_bad_parameter(call, what: str) -> None:
    status, code, _ = http_error(call)
    assert (status, code) == (400, "BadParameter"), f"{what}: got {status} {code}"


def assert_forbidden(call, inner: str, what: str) -> None:
    status, code, inner_code = http_error(call)
    assert (status, code, inner_code) == (403, "Forbidden", inner), f"{what}: got {status} {code}/{inner_code}"


def assert_public_only(key: Any) -> None:
    for member in PRIVATE_MEMBERS:
        assert getattr(key.key, member, None) is None, f"{key.name}: private member {member} in a get"


def raw_get(vault_url: str, token: str, path: str) -> Dict[str, Any]:
    import requests

    resp = requests.get(f"{vault_url}{path}", params={"api-version": API_VERSION},
                        headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert resp.status_code == 200, f"GET {path} -> {resp.status_code}"
    return resp.json()


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@pytest.fixture(params=MODES)
def keys(request, make_keys_api, make_vault):
    """A facade over KeyClient (sync or async) on a vault of its own."""
    return make_keys_api(request.param, make_vault())


@pytest.fixture
def sync_keys(make_keys_api, make_vault):
    return make_keys_api("sync", make_vault())


# ---------------------------------------------------------------------------
# KeyClient operations
# ---------------------------------------------------------------------------


def test_create_every_key_type_and_size_returns_public_material_only(keys, unique_name, token):
    made: List[Any] = []
    for size in (2048, 3072, 4096):
        key = keys.create_rsa_key(unique_name("rsa"), size=size)
        assert key.key_type == "RSA" and len(key.key.n) * 8 == size and _int(key.key.e) == 65537, size
        made.append(key)
    key = keys.create_rsa_key(unique_name("rsa65537"), size=2048, public_exponent=65537)
    assert _int(key.key.e) == 65537, "public exponent 65537"
    # Arca generates RSA keys with e = 65537 only (aws-lc-rs); Managed HSM also takes 3.
    assert_bad_parameter(lambda: keys.create_rsa_key(unique_name("rsa3"), size=2048, public_exponent=3), "e=3")
    for crv, curve in CURVES.items():
        key = keys.create_ec_key(unique_name("ec"), curve=crv)
        assert key.key_type == "EC" and key.key.crv == crv, crv
        ec_public(key.key)  # the point is on the curve
        made.append(key)
    for size in (128, 192, 256):
        key = keys.create_oct_key(unique_name("oct"), size=size)
        assert key.key_type in ("oct", "oct-HSM"), size
        made.append(key)
    for key in made:
        assert_public_only(key)
        fetched = keys.get_key(key.name)
        assert fetched.id == key.id
        assert_public_only(fetched)
        jwk = raw_get(keys.vault_url, token, f"/keys/{key.name}")["key"]
        leaked = set(jwk) & set(PRIVATE_MEMBERS)
        assert not leaked, f"{key.name}: raw GET carries {sorted(leaked)}"


def test_get_update_list_delete_recover_purge(keys, unique_name):
    from azure.core.exceptions import ResourceNotFoundError

    name = unique_name("life")
    first = keys.create_ec_key(name, curve="P-256", tags={"a": "1"})
    second = keys.create_ec_key(name, curve="P-256")
    assert keys.get_key(name).properties.version == second.properties.version
    assert keys.get_key(name, first.properties.version).key.x == first.key.x
    assert first.properties.tags == {"a": "1"}

    expires, not_before = now() + dt.timedelta(days=30), now() - dt.timedelta(days=1)
    updated = keys.update_key_properties(name, first.properties.version, key_operations=["sign"],
                                         expires_on=expires, not_before=not_before, tags={"b": "2"})
    assert updated.key_operations == ["sign"]
    assert updated.properties.expires_on == expires and updated.properties.not_before == not_before
    assert updated.properties.tags == {"b": "2"}
    disabled = keys.update_key_properties(name, enabled=False)
    assert disabled.properties.enabled is False and disabled.properties.version == second.properties.version

    assert name in {k.name for k in keys.items("list_properties_of_keys")}
    versions = keys.items("list_properties_of_key_versions", name)
    assert {v.version for v in versions} == {first.properties.version, second.properties.version}

    deleted = keys.delete_key(name)
    assert deleted.name == name and deleted.recovery_id and deleted.deleted_date is not None
    assert keys.get_deleted_key(name).id == deleted.id
    assert name in {k.name for k in keys.items("list_deleted_keys")}
    with pytest.raises(ResourceNotFoundError):
        keys.get_key(name)

    recovered = keys.recover_deleted_key(name)
    assert recovered.name == name
    assert len(keys.items("list_properties_of_key_versions", name)) == 2

    keys.delete_key(name)
    keys.purge_deleted_key(name)
    with pytest.raises(ResourceNotFoundError):
        keys.get_deleted_key(name)
    assert name not in {k.name for k in keys.items("list_deleted_keys")}


def test_backup_and_restore_bring_back_every_version(keys, unique_name):
    name = unique_name("bak")
    v1 = keys.create_rsa_key(name, size=2048)
    v2 = keys.rotate_key(name)
    blob = keys.backup_key(name)
    assert isinstance(blob, bytes) and len(blob) > 0
    keys.delete_key(name)
    keys.purge_deleted_key(name)
    restored = keys.restore_key_backup(blob)
    assert restored.name == name and restored.properties.version == v2.properties.version
    versions = {v.version for v in keys.items("list_properties_of_key_versions", name)}
    assert versions == {v1.properties.version, v2.properties.version}
    assert keys.get_key(name, v1.properties.version).key.n == v1.key.n


def test_rotate_and_rotation_policy(keys, unique_name):
    from azure.keyvault.keys import KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction

    name = unique_name("rot")
    v1 = keys.create_ec_key(name, curve="P-384")
    v2 = keys.rotate_key(name)
    assert v2.properties.version != v1.properties.version and v2.key.crv == "P-384"
    assert v2.key.x != v1.key.x, "rotation made a new key"
    assert keys.get_key(name).properties.version == v2.properties.version

    policy = KeyRotationPolicy(expires_in="P90D", lifetime_actions=[
        KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D"),
        KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P10D"),
    ])
    stored = keys.update_key_rotation_policy(name, policy)
    assert stored.expires_in == "P90D"
    got = keys.get_key_rotation_policy(name)
    actions = {getattr(a.action, "value", a.action).lower(): a for a in got.lifetime_actions}
    assert actions["rotate"].time_after_create == "P30D" and actions["notify"].time_before_expiry == "P10D"

    v3 = keys.rotate_key(name)
    assert v3.properties.expires_on is not None, "expiryTime of the policy applies to new versions"
    too_short = KeyRotationPolicy(expires_in="P10D", lifetime_actions=[
        KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P1D")])
    assert_bad_parameter(lambda: keys.update_key_rotation_policy(name, too_short), "expiry of 10 days")
    assert keys.get_key_rotation_policy(name).expires_in == "P90D"


def test_random_bytes(keys, token):
    import requests

    assert len(keys.get_random_bytes(1)) == 1
    a, b = keys.get_random_bytes(128), keys.get_random_bytes(128)
    assert len(a) == 128 and len(b) == 128
    if a == b:
        raise AssertionError("two draws of 128 random bytes are equal")
    # The SDK itself refuses 0 before sending; the server is asked directly.
    with pytest.raises(ValueError):
        keys.get_random_bytes(0)
    for count in (0, 129, -1):
        resp = requests.post(f"{keys.vault_url}/rng", params={"api-version": API_VERSION}, json={"count": count},
                             headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadParameter", \
            f"{count} random bytes: {resp.status_code}"
    assert_bad_parameter(lambda: keys.get_random_bytes(129), "129 random bytes")


# ---------------------------------------------------------------------------
# CryptographyClient, judged by pyca/cryptography
# ---------------------------------------------------------------------------


def test_rsa_signatures_verify_locally(keys, unique_name):
    key = keys.create_rsa_key(unique_name("sig"), size=2048)
    crypto = keys.crypto(key.id)
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        digest = digest_for(alg)
        result = crypto.sign(alg, digest)
        assert result.key_id == key.id and len(result.signature) == 256, alg
        verify_locally(key.key, alg, digest, result.signature)
        assert crypto.verify(alg, digest, result.signature).is_valid, alg
        assert not crypto.verify(alg, digest_for(alg, b"other"), result.signature).is_valid, alg


@pytest.mark.parametrize("crv", list(CURVES))
def test_ec_signatures_verify_locally(keys, unique_name, crv):
    key = keys.create_ec_key(unique_name("ecsig"), curve=crv)
    crypto = keys.crypto(key.id)
    alg = EC_ALG[crv]
    digest = digest_for(alg)
    result = crypto.sign(alg, digest)
    verify_locally(key.key, alg, digest, result.signature)
    assert crypto.verify(alg, digest, result.signature).is_valid
    bad = bytes([result.signature[0] ^ 1]) + result.signature[1:]
    assert not crypto.verify(alg, digest, bad).is_valid


def test_local_rsa_ciphertexts_and_wraps_open_in_arca(keys, unique_name):
    key = keys.create_rsa_key(unique_name("enc"), size=3072)
    crypto = keys.crypto(key.id)
    for alg in ("RSA1_5", "RSA-OAEP", "RSA-OAEP-256"):
        plaintext = os.urandom(32)
        same_secret(crypto.decrypt(alg, rsa_encrypt_locally(key.key, alg, plaintext)).plaintext, plaintext, alg)
        wrapped = rsa_encrypt_locally(key.key, alg, plaintext)
        same_secret(crypto.unwrap_key(alg, wrapped).key, plaintext, alg)
        # Arca's own encrypt and wrap open in Arca.
        same_secret(crypto.decrypt(alg, crypto.encrypt(alg, plaintext).ciphertext).plaintext, plaintext, alg)
        same_secret(crypto.unwrap_key(alg, crypto.wrap_key(alg, plaintext).encrypted_key).key, plaintext, alg)
    # The SDK's own (local) public-key encryption opens in Arca too.
    sdk_local = keys.crypto(key.id, remote=False)
    plaintext = os.urandom(16)
    sealed = sdk_local.encrypt("RSA-OAEP-256", plaintext).ciphertext
    same_secret(crypto.decrypt("RSA-OAEP-256", sealed).plaintext, plaintext, "SDK-local RSA-OAEP-256")


@pytest.mark.parametrize("kty", ["RSA", "EC"])
def test_imported_keys_public_half_verifies_and_arca_wraps_open_locally(keys, unique_name, kty):
    name = unique_name("imp")
    if kty == "RSA":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        imported = keys.import_key(name, json_web_key(**rsa_jwk(private), key_ops=[
            "sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey"]))
        algs = ("RS256", "PS384")
        assert _int(imported.key.n) == private.public_key().public_numbers().n
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        imported = keys.import_key(name, json_web_key(**ec_jwk(private, "P-256"), key_ops=["sign", "verify"]))
        algs = ("ES256",)
    assert_public_only(imported)
    assert_public_only(keys.get_key(name))
    crypto = keys.crypto(imported.id)
    for alg in algs:
        digest = digest_for(alg)
        signature = crypto.sign(alg, digest).signature
        # Verified with the public half of the key made here, not the one Arca returns.
        if kty == "RSA":
            pad = padding.PKCS1v15() if alg.startswith("RS") else padding.PSS(
                mgf=padding.MGF1(hash_of(alg)), salt_length=hash_of(alg).digest_size)
            private.public_key().verify(signature, digest, pad, asym_utils.Prehashed(hash_of(alg)))
        else:
            der = asym_utils.encode_dss_signature(_int(signature[:32]), _int(signature[32:]))
            private.public_key().verify(der, digest, ec.ECDSA(asym_utils.Prehashed(hash_of(alg))))
    if kty == "RSA":
        for alg in ("RSA1_5", "RSA-OAEP", "RSA-OAEP-256"):
            secret = os.urandom(32)
            same_secret(rsa_decrypt_locally(private, alg, crypto.wrap_key(alg, secret).encrypted_key), secret, alg)
            same_secret(rsa_decrypt_locally(private, alg, crypto.encrypt(alg, secret).ciphertext), secret, alg)


@pytest.mark.parametrize("bits", [128, 192, 256])
def test_aes_key_wrap_both_ways(keys, unique_name, bits):
    k = os.urandom(bits // 8)
    alg = f"A{bits}KW"
    imported = keys.import_key(unique_name("kw"), json_web_key(kty="oct", k=k, key_ops=["wrapKey", "unwrapKey"]))
    assert_public_only(imported)
    crypto = keys.crypto(imported.id)
    cek = os.urandom(32)
    same_secret(crypto.unwrap_key(alg, keywrap.aes_key_wrap(k, cek)).key, cek, 'cek')
    same_secret(keywrap.aes_key_unwrap(k, crypto.wrap_key(alg, cek).encrypted_key), cek, 'cek')
    # A generated oct key round-trips too.
    made = keys.crypto(keys.create_oct_key(unique_name("kwg"), size=bits).id)
    same_secret(made.unwrap_key(alg, made.wrap_key(alg, cek).encrypted_key).key, cek, 'cek')


@pytest.mark.parametrize("bits", [128, 192, 256])
def test_aes_encrypt_decrypt_gcm_cbc_cbcpad(keys, unique_name, bits):
    k = os.urandom(bits // 8)
    imported = keys.import_key(unique_name("aes"), json_web_key(kty="oct", k=k, key_ops=["encrypt", "decrypt"]))
    crypto = keys.crypto(imported.id)
    plaintext, aad = os.urandom(48), b"context"

    gcm = crypto.encrypt(f"A{bits}GCM", plaintext, additional_authenticated_data=aad)
    assert gcm.iv and gcm.tag and len(gcm.tag) == 16
    same_secret(AESGCM(k).decrypt(gcm.iv, gcm.ciphertext + gcm.tag, aad), plaintext, 'plaintext')
    back = crypto.decrypt(f"A{bits}GCM", gcm.ciphertext, iv=gcm.iv, authentication_tag=gcm.tag,
                          additional_authenticated_data=aad)
    same_secret(back.plaintext, plaintext, 'plaintext')
    iv = os.urandom(12)
    local = AESGCM(k).encrypt(iv, plaintext, aad)
    opened = crypto.decrypt(f"A{bits}GCM", local[:-16], iv=iv, authentication_tag=local[-16:],
                            additional_authenticated_data=aad)
    same_secret(opened.plaintext, plaintext, "local GCM ciphertext")

    iv = os.urandom(16)
    cbc = crypto.encrypt(f"A{bits}CBC", plaintext, iv=iv)
    decryptor = Cipher(algorithms.AES(k), modes.CBC(iv)).decryptor()
    same_secret(decryptor.update(cbc.ciphertext) + decryptor.finalize(), plaintext, 'plaintext')
    encryptor = Cipher(algorithms.AES(k), modes.CBC(iv)).encryptor()
    local = encryptor.update(plaintext) + encryptor.finalize()
    same_secret(crypto.decrypt(f"A{bits}CBC", local, iv=iv).plaintext, plaintext, 'plaintext')

    odd = os.urandom(37)
    cbcpad = crypto.encrypt(f"A{bits}CBCPAD", odd, iv=iv)
    decryptor = Cipher(algorithms.AES(k), modes.CBC(iv)).decryptor()
    unpadder = sym_padding.PKCS7(128).unpadder()
    padded = decryptor.update(cbcpad.ciphertext) + decryptor.finalize()
    same_secret(unpadder.update(padded) + unpadder.finalize(), odd, 'odd')
    same_secret(crypto.decrypt(f"A{bits}CBCPAD", cbcpad.ciphertext, iv=iv).plaintext, odd, 'odd')

    # A generated key round-trips GCM.
    made = keys.crypto(keys.create_oct_key(unique_name("aesg"), size=bits).id)
    sealed = made.encrypt(f"A{bits}GCM", plaintext)
    opened = made.decrypt(f"A{bits}GCM", sealed.ciphertext, iv=sealed.iv, authentication_tag=sealed.tag)
    same_secret(opened.plaintext, plaintext, "generated key GCM")


# ---------------------------------------------------------------------------
# Hostile inputs: 400 BadParameter, nothing changes
# ---------------------------------------------------------------------------


def _hostile_jwks() -> Dict[str, Dict[str, Any]]:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    good = rsa_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    other = rsa_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    p256 = ec_jwk(ec.generate_private_key(ec.SECP256R1()), "P-256")
    p384 = ec_jwk(ec.generate_private_key(ec.SECP384R1()), "P-384")
    y_off = _bytes((_int(p256["y"]) + 1) % (2**256), 32)
    return {
        "rsa-1024": rsa_jwk(small),
        "rsa-crt-parts-of-another-key": dict(good, p=other["p"], q=other["q"], dp=other["dp"], dq=other["dq"],
                                             qi=other["qi"]),
        "rsa-wrong-dp": dict(good, dp=_bytes(_int(good["dp"]) ^ 1, len(good["dp"]))),
        "rsa-truncated-d": dict(good, d=good["d"][:-8]),
        "rsa-without-d": {k: v for k, v in good.items() if k != "d"},
        "ec-point-off-curve": dict(p256, y=y_off),
        "ec-x-of-33-bytes": dict(p256, x=b"\x01" + p256["x"]),
        "ec-y-of-48-bytes": dict(p256, y=os.urandom(16) + p256["y"]),
        "ec-d-too-short": dict(p256, d=p256["d"][:-1]),
        "ec-p384-point-named-p256": dict(p384, crv="P-256"),
        "ec-d-not-of-this-point": dict(p256, d=ec_jwk(ec.generate_private_key(ec.SECP256R1()), "P-256")["d"]),
        "rsa-2040-bits": rsa_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2040)),
        "rsa-even-e": dict(good, e=_bytes(65536)),
        "rsa-without-n": {k: v for k, v in good.items() if k != "n"},
        "ec-point-zero": dict(p256, x=bytes(32), y=bytes(32)),
        "ec-unknown-curve": dict(p256, crv="P-192"),
        "unknown-kty": dict(p256, kty="DSA"),
        "oct-20-bytes": dict(kty="oct", k=os.urandom(20)),
        "oct-empty": dict(kty="oct", k=b""),
    }


HOSTILE_JWKS = _hostile_jwks()


@pytest.mark.parametrize("case", list(HOSTILE_JWKS))
def test_hostile_jwk_imports_are_refused_and_create_nothing(sync_keys, unique_name, case):
    from azure.core.exceptions import ResourceNotFoundError

    name = unique_name("bad")
    assert_bad_parameter(lambda: sync_keys.import_key(name, json_web_key(**HOSTILE_JWKS[case])), case)
    with pytest.raises(ResourceNotFoundError):
        sync_keys.get_key(name)
    # An existing key is not replaced by a refused import of the same name either.
    good = sync_keys.create_ec_key(name, curve="P-256")
    assert_bad_parameter(lambda: sync_keys.import_key(name, json_web_key(**HOSTILE_JWKS[case])), case)
    assert [v.version for v in sync_keys.items("list_properties_of_key_versions", name)] == \
        [good.properties.version]


def test_hostile_crypto_inputs_get_400_and_change_nothing(keys, unique_name):
    rsa_key = keys.create_rsa_key(unique_name("hr"), size=2048)
    p384 = keys.create_ec_key(unique_name("he"), curve="P-384")
    k = os.urandom(32)
    oct_key = keys.import_key(unique_name("ho"), json_web_key(kty="oct", k=k, key_ops=[
        "encrypt", "decrypt", "wrapKey", "unwrapKey"]))
    rsa_c, ec_c, oct_c = keys.crypto(rsa_key.id), keys.crypto(p384.id), keys.crypto(oct_key.id)

    good = rsa_encrypt_locally(rsa_key.key, "RSA-OAEP", b"x" * 16)
    assert_bad_parameter(lambda: rsa_c.decrypt("RSA-OAEP", good[:-1]), "truncated RSA ciphertext")
    assert_bad_parameter(lambda: rsa_c.decrypt("RSA-OAEP", good[:-1] + bytes([good[-1] ^ 1])),
                         "altered RSA-OAEP ciphertext")
    assert_bad_parameter(lambda: rsa_c.sign("RS256", os.urandom(20)), "RS256 over a 20-byte digest")
    assert_bad_parameter(lambda: rsa_c.sign("PS512", os.urandom(32)), "PS512 over a 32-byte digest")
    assert_bad_parameter(lambda: ec_c.sign("ES384", os.urandom(32)), "ES384 over a 32-byte digest")
    assert_bad_parameter(lambda: ec_c.sign("ES256", os.urandom(32)), "ES256 on a P-384 key")
    assert_bad_parameter(lambda: ec_c.sign("PS256", os.urandom(32)), "PS256 on an EC key")
    assert_bad_parameter(lambda: rsa_c.sign("ES256", os.urandom(32)), "ES256 on an RSA key")
    assert_bad_parameter(lambda: rsa_c.encrypt("A256GCM", b"x" * 16), "A256GCM on an RSA key")
    assert_bad_parameter(lambda: oct_c.encrypt("RSA-OAEP", b"x" * 16), "RSA-OAEP on an oct key")
    assert_bad_parameter(lambda: oct_c.wrap_key("A128KW", os.urandom(32)), "A128KW on a 256-bit key")
    assert_bad_parameter(lambda: rsa_c.encrypt("RSA-OAEP", os.urandom(300)), "RSA-OAEP of 300 bytes")
    assert_bad_parameter(lambda: oct_c.encrypt("A256CBC", os.urandom(32), iv=os.urandom(8)), "CBC with an 8-byte iv")
    assert_bad_parameter(lambda: oct_c.wrap_key("A256KW", os.urandom(12)), "A256KW of 12 bytes")

    iv = os.urandom(12)
    sealed = AESGCM(k).encrypt(iv, b"y" * 32, None)
    ct, tag = sealed[:-16], sealed[-16:]
    assert_bad_parameter(lambda: oct_c.decrypt("A256GCM", ct, iv=iv, authentication_tag=bytes([tag[0] ^ 1]) + tag[1:]),
                         "wrong GCM tag")
    assert_bad_parameter(lambda: oct_c.decrypt("A256GCM", ct, iv=iv, authentication_tag=tag[:8]),
                         "truncated GCM tag")
    cbc_iv = os.urandom(16)
    assert_bad_parameter(lambda: oct_c.decrypt("A256CBC", os.urandom(31), iv=cbc_iv), "CBC ciphertext of 31 bytes")
    wrapped = keywrap.aes_key_wrap(k, os.urandom(32))
    assert_bad_parameter(lambda: oct_c.unwrap_key("A256KW", wrapped[:-8]), "truncated A256KW")
    assert_bad_parameter(lambda: oct_c.unwrap_key("A256KW", bytes([wrapped[0] ^ 1]) + wrapped[1:]),
                         "altered A256KW")

    for key in (rsa_key, p384, oct_key):
        versions = keys.items("list_properties_of_key_versions", key.name)
        assert [v.version for v in versions] == [key.properties.version], key.name
    same_secret(AESGCM(k).decrypt(iv, sealed, None), b"y" * 32, 'b"y"')
    same_secret(oct_c.decrypt("A256GCM", ct, iv=iv, authentication_tag=tag).plaintext, b"y" * 32, 'b"y"')


# ---------------------------------------------------------------------------
# Key semantics: key_ops, validity window, disabled
# ---------------------------------------------------------------------------


def test_key_ops_restrict_what_a_key_may_do(keys, unique_name):
    key = keys.create_rsa_key(unique_name("ops"), size=2048, key_operations=["sign"])
    assert key.key_operations == ["sign"]
    crypto = keys.crypto(key.id)
    digest = digest_for("RS256")
    verify_locally(key.key, "RS256", digest, crypto.sign("RS256", digest).signature)
    assert_forbidden(lambda: crypto.encrypt("RSA-OAEP", b"x" * 16), "KeyOperationForbidden", "encrypt on sign-only")
    assert_forbidden(lambda: crypto.wrap_key("RSA-OAEP", b"x" * 16), "KeyOperationForbidden", "wrap on sign-only")
    keys.update_key_properties(key.name, key_operations=["encrypt"])
    assert_forbidden(lambda: crypto.sign("RS256", digest), "KeyOperationForbidden", "sign after ops narrowed")
    crypto.encrypt("RSA-OAEP", b"x" * 16)


def test_outside_the_validity_window_a_key_verifies_but_does_not_sign(keys, unique_name):
    key = keys.create_ec_key(unique_name("exp"), curve="P-256")
    crypto = keys.crypto(key.id)
    digest = digest_for("ES256")
    signature = crypto.sign("ES256", digest).signature
    keys.update_key_properties(key.name, expires_on=now() - dt.timedelta(minutes=5))
    assert_forbidden(lambda: crypto.sign("ES256", digest), "KeyOperationForbidden", "sign with an expired key")
    assert crypto.verify("ES256", digest, signature).is_valid
    keys.update_key_properties(key.name, expires_on=now() + dt.timedelta(days=1),
                               not_before=now() + dt.timedelta(hours=1))
    assert_forbidden(lambda: crypto.sign("ES256", digest), "KeyOperationForbidden", "sign before nbf")
    assert crypto.verify("ES256", digest, signature).is_valid


def test_a_disabled_key_does_nothing(keys, unique_name):
    key = keys.create_rsa_key(unique_name("off"), size=2048)
    crypto = keys.crypto(key.id)
    digest = digest_for("PS256")
    signature = crypto.sign("PS256", digest).signature
    ciphertext = rsa_encrypt_locally(key.key, "RSA-OAEP-256", b"z" * 16)
    keys.update_key_properties(key.name, enabled=False)
    for what, call in [
        ("sign", lambda: crypto.sign("PS256", digest)),
        ("verify", lambda: crypto.verify("PS256", digest, signature)),
        ("encrypt", lambda: crypto.encrypt("RSA-OAEP-256", b"z" * 16)),
        ("decrypt", lambda: crypto.decrypt("RSA-OAEP-256", ciphertext)),
        ("wrapKey", lambda: crypto.wrap_key("RSA-OAEP-256", b"z" * 16)),
        ("unwrapKey", lambda: crypto.unwrap_key("RSA-OAEP-256", ciphertext)),
        ("get", lambda: keys.get_key(key.name)),
    ]:
        assert_forbidden(call, "KeyDisabled", f"{what} on a disabled key")
    keys.update_key_properties(key.name, enabled=True)
    same_secret(crypto.decrypt("RSA-OAEP-256", ciphertext).plaintext, b"z" * 16, 'b"z"')


def test_ec_coordinates_with_leading_zero_bytes_are_normalized(sync_keys, unique_name):
    """Arca takes an over-long coordinate whose excess is leading zeros (and a short one, as
    left-padded) and answers the canonical fixed width, as arca-crypto's `fixed_width` documents;
    RFC 7518 6.2.1.2 asks for the full width exactly. Pinned so a change is seen."""
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = ec_jwk(private, "P-256")
    imported = sync_keys.import_key(unique_name("lz"), json_web_key(**dict(jwk, x=b"\x00" + jwk["x"])))
    assert imported.key.x == jwk["x"] and len(imported.key.x) == 32


def test_restore_into_another_vault_and_over_an_existing_name(keys, make_keys_api, make_vault, unique_name):
    from azure.core.exceptions import ResourceExistsError

    name = unique_name("mv")
    key = keys.create_ec_key(name, curve="P-521")
    blob = keys.backup_key(name)
    with pytest.raises(ResourceExistsError):
        keys.restore_key_backup(blob)
    other = make_keys_api(keys.mode, make_vault())
    restored = other.restore_key_backup(blob)
    assert restored.name == name and restored.key.x == key.key.x
    crypto = other.crypto(restored.id)
    digest = digest_for("ES512")
    verify_locally(key.key, "ES512", digest, crypto.sign("ES512", digest).signature)


def test_older_versions_still_sign_and_each_version_is_its_own_key(keys, unique_name):
    name = unique_name("ver")
    v1 = keys.create_rsa_key(name, size=2048)
    v2 = keys.rotate_key(name)
    digest = digest_for("RS256")
    old = keys.crypto(v1.id).sign("RS256", digest)
    assert old.key_id == v1.id
    verify_locally(v1.key, "RS256", digest, old.signature)
    # A versionless key id signs with the current version (the SDK reports the id it was given).
    latest = keys.crypto(f"{keys.vault_url}/keys/{name}").sign("RS256", digest)
    verify_locally(v2.key, "RS256", digest, latest.signature)
    assert not keys.crypto(v2.id).verify("RS256", digest, old.signature).is_valid


def test_hsm_key_types_and_the_import_hsm_flag(keys, unique_name):
    """Arca has no HSM; like a premium vault it accepts the -HSM key types and the import's Hsm
    flag, and answers the -HSM type it was asked for."""
    rsa_hsm = keys.create_rsa_key(unique_name("rh"), size=2048, hardware_protected=True)
    assert rsa_hsm.key_type == "RSA-HSM" and len(rsa_hsm.key.n) == 256
    assert keys.create_key(unique_name("eh"), "EC-HSM", curve="P-256").key_type == "EC-HSM"
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = ec_jwk(private, "P-256")
    assert keys.import_key(unique_name("ih"), json_web_key(**jwk), hardware_protected=True).key_type == "EC-HSM"
    assert keys.import_key(unique_name("is"), json_web_key(**jwk)).key_type == "EC"


def test_an_expired_key_still_decrypts_and_unwraps_but_does_not_encrypt_or_wrap(keys, unique_name):
    key = keys.create_rsa_key(unique_name("expd"), size=2048)
    crypto = keys.crypto(key.id)
    cek = os.urandom(32)
    ciphertext = rsa_encrypt_locally(key.key, "RSA-OAEP", cek)
    keys.update_key_properties(key.name, expires_on=now() - dt.timedelta(minutes=5))
    same_secret(crypto.decrypt("RSA-OAEP", ciphertext).plaintext, cek, "decrypt with an expired key")
    same_secret(crypto.unwrap_key("RSA-OAEP", ciphertext).key, cek, "unwrap with an expired key")
    assert_forbidden(lambda: crypto.encrypt("RSA-OAEP", cek), "KeyOperationForbidden", "encrypt, expired key")
    assert_forbidden(lambda: crypto.wrap_key("RSA-OAEP", cek), "KeyOperationForbidden", "wrap, expired key")
