"""Identity material for the access-control suites, made in the test with `cryptography`.

What is here, and why it is hand-made rather than taken from a JWT library: the tests must be able
to produce every malformed shape (alg none, HS256 keyed with a public key, a wrong key under a
known kid, claims out of their window), so the encoder signs exactly what it is given.

  - keys and X.509 certificates: RSA / EC keys, self-signed client certificates, a small CA that
    issues TLS server certificates, thumbprints as Entra uses them (x5t, x5t#S256);
  - JWS signing: RS256, PS256, ES256, HS256 (any key bytes) and unsigned (`alg: none`);
  - JWKs and JWK sets for public keys, written to files for `arca federation add --jwks-file`;
  - FakeIssuer: an external OIDC issuer (e.g. a Kubernetes cluster) minting service-account
    tokens for workload identity federation;
  - JwksServer: a tiny HTTPS server on 127.0.0.1 (certificate from a CA made here) serving a JWK
    set, for `arca federation add --jwks-url ... --jwks-ca-file ...`;
  - client_assertion(): the RFC 7523 client assertion MSAL sends for a certificate credential.

Nothing here talks to Arca. Only the standard library and `cryptography` are imported.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import http.server
import ipaddress
import json
import ssl
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The audience Entra expects in a federated (workload identity) assertion by default.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# ---------------------------------------------------------------------------
# encoding
# ---------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_b64(obj: Dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def decode_jwt(token: str) -> Dict[str, Any]:
    """{"header": .., "payload": ..} of a compact JWS, without verifying anything."""
    head, body, _ = token.split(".")
    return {"header": json.loads(b64url_decode(head)), "payload": json.loads(b64url_decode(body))}


# ---------------------------------------------------------------------------
# keys and certificates
# ---------------------------------------------------------------------------


def new_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def new_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _utc(seconds_from_now: float) -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=seconds_from_now)


def self_signed_cert(key: Any, common_name: str, *, not_before: Optional[_dt.datetime] = None,
                     not_after: Optional[_dt.datetime] = None) -> x509.Certificate:
    """A self-signed client certificate (what `az ad sp credential reset --create-cert` makes)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or _utc(-3600))
            .not_valid_after(not_after or _utc(365 * 86400))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


class TestCA:
    """A CA made for one test run; issues TLS server certificates for 127.0.0.1/localhost."""

    __test__ = False  # not a pytest test class

    def __init__(self, common_name: str = "Arca test CA") -> None:
        self.key = new_ec_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        self.cert = (x509.CertificateBuilder()
                     .subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(_utc(-3600)).not_valid_after(_utc(7 * 86400))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                                    critical=False)
                     .sign(self.key, hashes.SHA256()))

    @property
    def cert_pem(self) -> str:
        return cert_pem(self.cert)

    def issue_server_cert(self, names: Sequence[str] = ("127.0.0.1", "localhost")):
        """(private key, certificate) for a TLS server answering to `names` (IPs or DNS names)."""
        key = new_ec_key()
        sans: List[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self.cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(_utc(-3600)).not_valid_after(_utc(7 * 86400))
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        return key, cert


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def public_key_pem(key: Any) -> bytes:
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_der(key: Any) -> bytes:
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def sha1_thumbprint(cert: x509.Certificate) -> str:
    """Upper-case hex SHA-1 of the DER certificate: the id Entra (and Arca) shows."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - thumbprints are SHA-1 by definition


def sha256_thumbprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def x5t(cert: x509.Certificate) -> str:
    return b64url(cert.fingerprint(hashes.SHA1()))  # noqa: S303


def x5t_s256(cert: x509.Certificate) -> str:
    return b64url(cert.fingerprint(hashes.SHA256()))


def x5c(certs: Iterable[x509.Certificate]) -> List[str]:
    return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in certs]


def write_pem(path: Path, *parts: str) -> Path:
    path.write_text("".join(p if p.endswith("\n") else p + "\n" for p in parts), encoding="ascii")
    return path


# ---------------------------------------------------------------------------
# JWS
# ---------------------------------------------------------------------------


def sign_jwt(header: Dict[str, Any], payload: Dict[str, Any], key: Any = None) -> str:
    """A compact JWS of exactly this header and payload, signed as header["alg"] says.

    RS256/PS256: RSA private key; ES256: P-256 private key; HS256: `key` is the raw HMAC key
    (bytes); none: no signature (empty third segment)."""
    alg = header.get("alg")
    signing_input = (_json_b64(header) + "." + _json_b64(payload)).encode("ascii")
    if alg == "none":
        sig = b""
    elif alg == "HS256":
        sig = hmac.new(bytes(key), signing_input, hashlib.sha256).digest()
    elif alg == "RS256":
        sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        sig = key.sign(signing_input, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                  salt_length=hashes.SHA256().digest_size), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        raise ValueError(f"unsupported alg {alg!r}")
    return signing_input.decode("ascii") + "." + b64url(sig)


def public_jwk(key: Any, kid: Optional[str] = None, alg: Optional[str] = None) -> Dict[str, Any]:
    """The public JWK of an RSA or EC (P-256) key (private or public object)."""
    public = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        jwk: Dict[str, Any] = {"kty": "RSA", "use": "sig",
                               "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                               "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"))}
        jwk["alg"] = alg or "RS256"
    elif isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        jwk = {"kty": "EC", "use": "sig", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
               "y": b64url(numbers.y.to_bytes(32, "big")), "alg": alg or "ES256"}
    else:
        raise TypeError(type(public))
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def jwk_public_key(jwk: Dict[str, Any]) -> Any:
    """A cryptography public-key object from a public JWK (RSA or EC P-256)."""
    if jwk.get("kty") == "RSA":
        n = int.from_bytes(b64url_decode(jwk["n"]), "big")
        e = int.from_bytes(b64url_decode(jwk["e"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if jwk.get("kty") == "EC":
        x = int.from_bytes(b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(b64url_decode(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    raise ValueError(f"unsupported JWK {jwk!r}")


def write_jwks(path: Path, jwks: Dict[str, Any]) -> Path:
    path.write_text(json.dumps(jwks, indent=2), encoding="utf-8")
    return path


def key_confusion_secrets(jwk: Dict[str, Any]) -> Dict[str, bytes]:
    """The byte strings an HS256 key-confusion attack would use as the HMAC key: the public key as
    PEM (with and without the trailing newline), as DER, and the JWK and its JSON text."""
    public = jwk_public_key(jwk)
    pem = public_key_pem(public)
    return {
        "pem": pem,
        "pem-stripped": pem.strip(),
        "der": public_key_der(public),
        "jwk-json": json.dumps(jwk, separators=(",", ":")).encode(),
        "jwk-json-sorted": json.dumps(jwk, sort_keys=True).encode(),
    }


# ---------------------------------------------------------------------------
# an external OIDC issuer (workload identity federation)
# ---------------------------------------------------------------------------


class FakeIssuer:
    """An external OIDC issuer: one RSA signing key under a kid, minting RS256 service-account
    tokens the way a Kubernetes cluster does for workload identity."""

    def __init__(self, issuer: Optional[str] = None, *, kid: Optional[str] = None,
                 key: Optional[rsa.RSAPrivateKey] = None) -> None:
        self.issuer = issuer or f"https://oidc.{uuid.uuid4().hex[:10]}.example.test/cluster"
        self.kid = kid or uuid.uuid4().hex[:16]
        self.key = key or new_rsa_key()

    def jwk(self) -> Dict[str, Any]:
        return public_jwk(self.key, self.kid, "RS256")

    def jwks(self) -> Dict[str, Any]:
        return {"keys": [self.jwk()]}

    def write_jwks(self, path: Path) -> Path:
        return write_jwks(path, self.jwks())

    def claims(self, subject: str, *, audience: Any = TOKEN_EXCHANGE_AUDIENCE, lifetime: int = 3600,
               now: Optional[int] = None, **overrides: Any) -> Dict[str, Any]:
        now = int(time.time()) if now is None else now
        claims: Dict[str, Any] = {"iss": self.issuer, "sub": subject, "aud": audience,
                                  "iat": now, "nbf": now, "exp": now + lifetime,
                                  "jti": uuid.uuid4().hex}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, subject: str, *, header: Optional[Dict[str, Any]] = None, key: Any = None,
              **claim_overrides: Any) -> str:
        """An RS256 token for `subject`. `header` replaces the default header; `key` signs
        instead of the issuer's own key (for "unknown key" cases)."""
        hdr = header if header is not None else {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        return sign_jwt(hdr, self.claims(subject, **claim_overrides), key if key is not None else self.key)

    def write_token(self, path: Path, subject: str, **kwargs: Any) -> Path:
        path.write_text(self.token(subject, **kwargs), encoding="ascii")
        return path


# ---------------------------------------------------------------------------
# client assertions (certificate credentials)
# ---------------------------------------------------------------------------


def client_assertion(key: Any, cert: x509.Certificate, client_id: str, audience: str, *,
                     alg: str = "PS256", thumbprints: Sequence[str] = ("x5t#S256",),
                     chain: Optional[Sequence[x509.Certificate]] = None, lifetime: int = 600,
                     now: Optional[float] = None, **claim_overrides: Any) -> str:
    """An RFC 7523 client assertion as MSAL builds it: iss = sub = client id, aud = the token
    endpoint, jti, iat/nbf/exp; header with the certificate thumbprint(s) and optionally x5c.
    MSAL Python 1.39 signs PS256 with x5t#S256; older clients sign RS256 with x5t."""
    now = int(time.time()) if now is None else now  # a float `now` gives fractional dates, as MSAL sends
    header: Dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if "x5t" in thumbprints:
        header["x5t"] = x5t(cert)
    if "x5t#S256" in thumbprints:
        header["x5t#S256"] = x5t_s256(cert)
    if chain:
        header["x5c"] = x5c(chain)
    claims: Dict[str, Any] = {"aud": audience, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()),
                              "iat": now, "nbf": now, "exp": now + lifetime}
    claims.update(claim_overrides)
    return sign_jwt(header, {k: v for k, v in claims.items() if v is not None}, key)


# ---------------------------------------------------------------------------
# an HTTPS JWKS endpoint
# ---------------------------------------------------------------------------


class JwksServer:
    """Serves a JWK set at https://127.0.0.1:<port>/<path> with a certificate from its own CA.

    Use as a context manager. `ca_pem` is the CA to give Arca (`--jwks-ca-file`); `hits` counts
    the GET requests served; `jwks` may be replaced while running."""

    def __init__(self, jwks: Dict[str, Any], path: str = "/openid/v1/jwks") -> None:
        self.jwks = jwks
        self.path = path
        self.hits = 0
        self.ca = TestCA("Arca test JWKS CA")
        key, cert = self.ca.issue_server_cert(("127.0.0.1", "localhost"))
        self._key_pem = key_pem(key)
        self._cert_pem = cert_pem(cert)
        self._httpd: Optional[http.server.ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._tmp: Optional[Path] = None

    @property
    def ca_pem(self) -> str:
        return self.ca.cert_pem

    @property
    def url(self) -> str:
        assert self._httpd is not None, "JwksServer not started"
        return f"https://127.0.0.1:{self._httpd.server_address[1]}{self.path}"

    def start(self) -> "JwksServer":
        import tempfile

        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.split("?", 1)[0] != owner.path:
                    self.send_error(404)
                    return
                owner.hits += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._tmp = Path(tempfile.mkdtemp(prefix="arca-jwks-"))
        chain = write_pem(self._tmp / "server.pem", self._cert_pem)
        keyfile = write_pem(self._tmp / "server.key", self._key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(chain), str(keyfile))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="jwks-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        import shutil

        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "JwksServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
