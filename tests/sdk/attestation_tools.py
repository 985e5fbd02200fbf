"""An attestation service for the key-release tests, made with pyca/cryptography: an issuer key
pair, its JWK set, attestation tokens (RS256 JWTs) carrying claims and, in `x-ms-runtime.keys`,
the RSA target key a released key is wrapped for; a release policy in Key Vault's grammar; and
the registration of the issuer for a vault with `arca vault attestation-issuers set`.
"""

from __future__ import annotations

import base64
import json
import tempfile
import time
from typing import Any, Dict, Optional

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "https://attest.arca.test"
def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rsa_jwk(public: rsa.RSAPublicKey, **members: Any) -> Dict[str, Any]:
    numbers = public.public_numbers()
    length = (numbers.n.bit_length() + 7) // 8
    return {"kty": "RSA", "n": b64u(numbers.n.to_bytes(length, "big")), "e": b64u(numbers.e.to_bytes(3, "big")),
            **members}


class Attester:
    """An attestation service: its signing key, and the target key of the attested environment."""

    def __init__(self, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.target = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> Dict[str, Any]:
        return {"keys": [rsa_jwk(self.signing.public_key(), kid="attest-1", use="sig", alg="RS256")]}

    def token(self, claims: Optional[Dict[str, Any]] = None, *, issuer: Optional[str] = None,
              exp_in: int = 300, signer: Optional[rsa.RSAPrivateKey] = None) -> str:
        now = int(time.time())
        body = {
            "iss": issuer or self.issuer, "iat": now, "nbf": now - 5, "exp": now + exp_in,
            "x-ms-isolation-tee": {"x-ms-attestation-type": "sevsnpvm", "x-ms-compliance-status": "azure-compliant-cvm"},
            "x-ms-runtime": {"keys": [rsa_jwk(self.target.public_key(), kid="TpmEphemeralEncryptionKey",
                                              key_ops=["encrypt"])]},
        }
        body.update(claims or {})
        header = {"alg": "RS256", "kid": "attest-1", "typ": "JWT"}
        signing_input = f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(body).encode())}"
        signature = (signer or self.signing).sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64u(signature)}"


def policy(authority: str = ISSUER) -> bytes:
    return json.dumps({"version": "1.0.0", "anyOf": [{"authority": authority, "allOf": [
        {"claim": "x-ms-isolation-tee.x-ms-attestation-type", "equals": "sevsnpvm"},
        {"anyOf": [{"claim": "sdk-test", "equals": "true"}, {"claim": "svn", "greaterOrEquals": 10}]},
    ]}]}).encode()


def trust(arca, vault: str, attester: Attester) -> None:
    """Registers the attester's issuer and JWK set for `vault` through the CLI."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(attester.jwks(), f)
        f.flush()
        proc = arca.cli("vault", "attestation-issuers", "set", vault, "--issuer", attester.issuer, "--jwks", f.name)
        assert proc.returncode == 0, proc.stderr


def exportable_key(api, name: str = "exportable"):
    """An exportable RSA key released under `policy()`."""
    from azure.keyvault.keys import KeyReleasePolicy

    return api.create_rsa_key(name, size=2048, exportable=True, release_policy=KeyReleasePolicy(policy()))
