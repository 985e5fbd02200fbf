"""Raw-HTTP tests of Arca's wire protocol with `requests`.

Covers: the 401 challenge handshake (exact WWW-Authenticate, before any
validation), hostile tokens, every bad-input case with a nothing-changed
check, api-versions, trailing slash, nextLink shape, integer timestamps,
status codes of the secret lifecycle, purge 204, the token issuer (OIDC
discovery, JWKS, token endpoint) and the App Service managed identity endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import requests

from arca_harness import b64url_decode, b64url_encode, es256_sign, es256_verify, jwt_encode_unsigned, jwt_parts, describe, assert_challenge

API = "2026-04-01"
ACCEPTED_API_VERSIONS = ["2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"]
REFUSED_API_VERSIONS = ["1.0", "7.9", "", "8.0", "2026-04-02", "7.6-preview", "latest"]
TIMEOUT = 30
_MISSING = object()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


class Vault:
    """Raw HTTP against one vault. `token=None` sends no Authorization header."""

    def __init__(self, session: requests.Session, base: str, token: Optional[str]) -> None:
        self.session = session
        self.base = base.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, *, json_body: Any = _MISSING, data: Any = None,
             api_version: Any = API, params: Optional[Dict[str, Any]] = None, token: Any = _MISSING,
             authorization: Optional[str] = None, headers: Optional[Dict[str, str]] = None) -> requests.Response:
        url = path if path.startswith("https://") else self.base + path
        query: Dict[str, Any] = {}
        if api_version is not None:
            query["api-version"] = api_version
        query.update(params or {})
        hdrs = dict(headers or {})
        tok = self.token if token is _MISSING else token
        if authorization is not None:
            hdrs["Authorization"] = authorization
        elif tok is not None:
            hdrs["Authorization"] = f"Bearer {tok}"
        body = data
        if json_body is not _MISSING:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(data, (bytes, str)):
            hdrs.setdefault("Content-Type", "application/json")
        return self.session.request(method, url, params=query, data=body, headers=hdrs, timeout=TIMEOUT)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def put(self, path: str, body: Any = _MISSING, **kw: Any) -> requests.Response:
        if body is not _MISSING and not isinstance(body, (bytes, str)):
            return self.call("PUT", path, json_body=body, **kw)
        return self.call("PUT", path, data=None if body is _MISSING else body, **kw)

    def patch(self, path: str, body: Any = _MISSING, **kw: Any) -> requests.Response:
        if body is not _MISSING and not isinstance(body, (bytes, str)):
            return self.call("PATCH", path, json_body=body, **kw)
        return self.call("PATCH", path, data=None if body is _MISSING else body, **kw)

    def post(self, path: str, body: Any = _MISSING, **kw: Any) -> requests.Response:
        if body is not _MISSING and not isinstance(body, (bytes, str)):
            return self.call("POST", path, json_body=body, **kw)
        return self.call("POST", path, data=None if body is _MISSING else body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("DELETE", path, **kw)

    # -- convenience ---------------------------------------------------
    def set(self, name: str, value: str = "v", **fields: Any) -> Dict[str, Any]:
        resp = self.put(f"/secrets/{name}", {"value": value, **fields})
        assert resp.status_code == 200, describe(resp)
        return resp.json()

    def versions(self, name: str) -> List[str]:
        return sorted(item["id"].rsplit("/", 1)[1] for item in self.list_all(f"/secrets/{name}/versions"))

    def list_all(self, path: str, maxresults: int = 25) -> List[Dict[str, Any]]:
        items: List[Dict[str, Any]] = []
        resp = self.get(path, params={"maxresults": maxresults})
        for _ in range(10000):
            assert resp.status_code == 200, describe(resp)
            body = resp.json()
            items.extend(body.get("value") or [])
            link = body.get("nextLink")
            if not link:
                return items
            resp = self.follow(link)
        raise AssertionError(f"{path}: paging did not end")

    def follow(self, next_link: str) -> requests.Response:
        """Follow a nextLink as the Python SDK does: keep its query, set our api-version."""
        parsed = urlparse(next_link)
        query = {k: v[0] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        query["api-version"] = API
        url = parsed._replace(query="").geturl()
        return self.call("GET", url, api_version=None, params=query)

    def purge_all(self, name: str) -> None:
        self.delete(f"/secrets/{name}")
        self.delete(f"/deletedsecrets/{name}")


def assert_error(resp: requests.Response, status: int, code: str, inner: Optional[str] = None) -> None:
    assert resp.status_code == status, describe(resp)
    assert resp.headers.get("Content-Type", "").lower().startswith("application/json"), describe(resp)
    body = resp.json()
    assert isinstance(body.get("error"), dict), describe(resp)
    assert body["error"].get("code") == code, describe(resp)
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], describe(resp)
    if inner is not None:
        assert (body["error"].get("innererror") or {}).get("code") == inner, describe(resp)


def version_of(bundle: Dict[str, Any]) -> str:
    return bundle["id"].rsplit("/", 1)[1]


def flip(text: str, index: int) -> str:
    c = text[index]
    return text[:index] + ("A" if c != "A" else "B") + text[index + 1:]


@pytest.fixture(scope="module")
def http(ca_cert) -> requests.Session:
    session = requests.Session()
    session.verify = ca_cert
    yield session
    session.close()


@pytest.fixture
def kv(http, vault_url, token) -> Vault:
    return Vault(http, vault_url, token)


@pytest.fixture
def anon(http, vault_url) -> Vault:
    return Vault(http, vault_url, None)


@pytest.fixture
def existing(kv, unique_name):
    """A secret with exactly one version; yields (name, version, value)."""
    name = unique_name("keep")
    bundle = kv.set(name, "original-value", tags={"t": "1"}, contentType="text/plain")
    yield name, version_of(bundle), "original-value"
    kv.purge_all(name)


def assert_unchanged(kv: Vault, name: str, version: str, value: str, tags: Optional[Dict[str, str]] = None) -> None:
    resp = kv.get(f"/secrets/{name}")
    assert resp.status_code == 200, describe(resp)
    body = resp.json()
    assert version_of(body) == version, f"latest version of {name} changed"
    assert body["value"] == value
    if tags is not None:
        assert body.get("tags") == tags
    assert kv.versions(name) == [version], f"{name} gained a version"


# ---------------------------------------------------------------------------
# health, challenge, hostile tokens
# ---------------------------------------------------------------------------


def test_healthz_needs_no_auth(http, port):
    resp = http.get(f"https://127.0.0.1:{port}/healthz", timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)
    resp = http.get(f"https://localhost:{port}/healthz", timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)


def test_bootstrap_shape(bootstrap, port, arca):
    assert set(bootstrap) >= {"tenant_id", "client_id", "client_secret", "authority_host", "identity_endpoint",
                              "identity_header", "vault_url", "ca_cert"}
    authority = urlparse(bootstrap["authority_host"])
    assert (authority.scheme, authority.port) == ("https", port), bootstrap["authority_host"]
    assert bootstrap["vault_url"].rstrip("/") == f"https://default.vault.localhost:{port}"
    assert os.path.isabs(bootstrap["ca_cert"]) and os.path.isfile(bootstrap["ca_cert"])
    assert urlparse(bootstrap["identity_endpoint"]).scheme in ("http", "https")
    assert bootstrap["identity_header"] and bootstrap["client_secret"] and bootstrap["tenant_id"]
    assert oct(os.stat(arca.bootstrap_path).st_mode & 0o777) == oct(0o600), "bootstrap.json must be mode 0600"


UNAUTHENTICATED = [
    # method, path, body, api-version, extra query
    ("GET", "/secrets", None, API, None),
    ("GET", "/secrets/some-name", None, API, None),
    ("GET", "/secrets/some-name/", None, API, None),
    ("GET", "/secrets/some-name/0123456789abcdef0123456789abcdef", None, API, None),
    ("GET", "/secrets", None, None, None),               # missing api-version
    ("GET", "/secrets", None, "1.0", None),              # unknown api-version
    ("GET", "/secrets", None, API, {"maxresults": "0"}),  # bad maxresults
    ("PUT", "/secrets/bad_name", b'{"value": ', "1.0", None),  # bad name + bad JSON + bad api-version
    ("PUT", "/secrets/" + "a" * 200, b"not json at all", API, None),
    ("PUT", "/secrets/ok-name", b"", API, None),         # the SDK's bodiless probe
    ("PATCH", "/secrets/some-name/", b'{"tags": "x"}', API, None),
    ("DELETE", "/secrets/some-name", None, API, None),
    ("POST", "/secrets/restore", b'{"value": "!!!"}', API, None),
    ("POST", "/secrets/some-name/backup", None, API, None),
    ("GET", "/secrets/some-name/versions", None, API, None),
    ("GET", "/deletedsecrets", None, API, None),
    ("GET", "/deletedsecrets/some-name", None, API, None),
    ("POST", "/deletedsecrets/some-name/recover", None, API, None),
    ("DELETE", "/deletedsecrets/some-name", None, API, None),
    ("GET", "/no/such/route", None, API, None),
]


@pytest.mark.parametrize("method,path,body,api_version,params", UNAUTHENTICATED,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(UNAUTHENTICATED)])
def test_unauthenticated_requests_get_the_challenge(anon, challenge, method, path, body, api_version, params):
    resp = anon.call(method, path, data=body, api_version=api_version, params=params)
    assert_challenge(resp, challenge)


def test_unauthenticated_request_with_a_body_reliably_gets_its_401(http, vault_url, token, foreign_key, challenge):
    """A client whose token is missing or no longer accepted sends its full body.
    The 401 must reach it every time: a server that answers without reading the
    body and then closes at once makes the kernel reset the connection, which
    discards the 401 in flight (RFC 9112 section 9.6). Fresh connection per try."""
    body = json.dumps({"value": "x" * 25600, "tags": {f"t{i}": "v" * 256 for i in range(15)}}).encode()
    _, payload, _, _ = jwt_parts(token)
    forged = es256_sign(foreign_key, {"alg": "ES256", "typ": "JWT"}, payload)
    failures = []
    ATTEMPTS = 100
    for attempt in range(ATTEMPTS):
        headers = {"Content-Type": "application/json", "Connection": "close"}
        if attempt % 2:
            headers["Authorization"] = f"Bearer {forged}"
        try:
            resp = requests.put(f"{vault_url}/secrets/with-body", params={"api-version": API}, data=body,
                                headers=headers, verify=http.verify, timeout=TIMEOUT)
        except requests.RequestException as exc:
            failures.append(f"attempt {attempt}: {type(exc).__name__}: {exc}")
            continue
        if resp.status_code != 401 or resp.headers.get("WWW-Authenticate") != challenge:
            failures.append(f"attempt {attempt}: {resp.status_code} {resp.headers.get('WWW-Authenticate')!r}")
    assert not failures, (f"{len(failures)}/{ATTEMPTS} unauthenticated PUTs with a {len(body)}-byte body lost their 401 "
                          "(response not delivered; is the request body drained before the connection closes?)\n"
                          + "\n".join(failures[:5]))


def test_challenge_comes_before_vault_lookup(http, arca, challenge):
    resp = Vault(http, arca.vault_url("nosuchvault77"), None).get("/secrets")
    assert_challenge(resp, challenge)


def test_unauthenticated_put_changes_nothing(anon, kv, challenge, unique_name, existing):
    fresh = unique_name("anon")
    assert_challenge(anon.put(f"/secrets/{fresh}", {"value": "should not exist"}), challenge)
    assert_error(kv.get(f"/secrets/{fresh}"), 404, "SecretNotFound")
    name, version, value = existing
    assert_challenge(anon.put(f"/secrets/{name}", {"value": "overwrite"}), challenge)
    assert_challenge(anon.delete(f"/secrets/{name}"), challenge)
    assert_unchanged(kv, name, version, value)


@pytest.fixture(scope="module")
def foreign_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def hostile_tokens(real: str, foreign_key) -> Dict[str, str]:
    header, payload, _, _ = jwt_parts(real)
    head_b64, body_b64, sig_b64 = real.split(".")
    later = dict(payload, exp=int(payload.get("exp", time.time())) + 3600)
    hs_input = jwt_encode_unsigned({"alg": "HS256", "typ": "JWT", "kid": header.get("kid")}, payload)
    hs_sig = hmac.new(b"arca", hs_input.encode(), hashlib.sha256).digest()
    return {
        "garbage": "not-a-jwt",
        "three-garbage-segments": "abc.def.ghi",
        "empty-signature": f"{head_b64}.{body_b64}.",
        "tampered-signature": f"{head_b64}.{body_b64}.{flip(sig_b64, len(sig_b64) // 2)}",
        "tampered-payload-char": f"{head_b64}.{flip(body_b64, len(body_b64) // 2)}.{sig_b64}",
        "tampered-payload-claims": jwt_encode_unsigned(header, later) + "." + sig_b64,
        "tampered-header": jwt_encode_unsigned(dict(header, kid="other-kid"), payload) + "." + sig_b64,
        "alg-none": jwt_encode_unsigned({"alg": "none", "typ": "JWT"}, payload) + ".",
        "alg-none-keeping-signature": jwt_encode_unsigned({"alg": "none", "typ": "JWT"}, payload) + "." + sig_b64,
        "alg-hs256": hs_input + "." + b64url_encode(hs_sig),
        "foreign-key-same-kid": es256_sign(foreign_key, header, payload),
        "foreign-key-no-kid": es256_sign(foreign_key, {"alg": "ES256", "typ": "JWT"}, payload),
        "foreign-key-fresh-claims": es256_sign(foreign_key, header, dict(payload, iat=int(time.time()),
                                                                          nbf=int(time.time()) - 5)),
    }


HOSTILE = ["garbage", "three-garbage-segments", "empty-signature", "tampered-signature", "tampered-payload-char",
           "tampered-payload-claims", "tampered-header", "alg-none", "alg-none-keeping-signature", "alg-hs256",
           "foreign-key-same-kid", "foreign-key-no-kid", "foreign-key-fresh-claims"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_tokens_are_refused(kind, http, vault_url, token, foreign_key, challenge, kv, unique_name):
    bad = hostile_tokens(token, foreign_key)[kind]
    hostile = Vault(http, vault_url, bad)
    assert_challenge(hostile.get("/secrets"), challenge)
    name = unique_name("hostile")
    assert_challenge(hostile.put(f"/secrets/{name}", {"value": "x"}), challenge)
    assert_error(kv.get(f"/secrets/{name}"), 404, "SecretNotFound")


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer", "Token abc",
                                           "PoP abc"])
def test_malformed_authorization_headers(authorization, anon, challenge):
    assert_challenge(anon.get("/secrets", authorization=authorization), challenge)


def test_request_id_finds_the_request_in_the_log(http, vault_url, arca, challenge):
    resp = Vault(http, vault_url, "not.a.token").get("/secrets")
    assert_challenge(resp, challenge)
    request_id = resp.headers.get("x-ms-request-id", "")
    assert len(request_id) == 21 and request_id[8] == "-", describe(resp)
    deadline = time.time() + 5
    while True:
        lines = [line for line in arca.all_output().splitlines() if f"request{{id={request_id}}}" in line]
        if lines or time.time() > deadline:
            break
        time.sleep(0.05)
    assert any("bearer token refused" in line for line in lines), arca.describe(f"no log line for {request_id}")
    assert "not.a.token" not in arca.all_output()


def test_raw_token_without_scheme_is_refused(anon, token, challenge):
    assert_challenge(anon.get("/secrets", authorization=token), challenge)


def test_valid_token_works(kv):
    resp = kv.get("/secrets", params={"maxresults": 1})
    assert resp.status_code == 200, describe(resp)


# ---------------------------------------------------------------------------
# the token issuer
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def discovery(http, bootstrap) -> Dict[str, Any]:
    url = f"{bootstrap['authority_host'].rstrip('/')}/{bootstrap['tenant_id']}/v2.0/.well-known/openid-configuration"
    resp = http.get(url, timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)
    return resp.json()


@pytest.fixture(scope="module")
def jwks(http, discovery) -> Dict[str, Any]:
    resp = http.get(discovery["jwks_uri"], timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)
    return resp.json()


def test_oidc_discovery_document(discovery, bootstrap):
    authority = bootstrap["authority_host"].rstrip("/")
    tenant = bootstrap["tenant_id"]
    for field in ("issuer", "token_endpoint", "authorization_endpoint", "jwks_uri"):
        assert isinstance(discovery.get(field), str) and discovery[field].startswith("https://"), field
    assert discovery["token_endpoint"] == f"{authority}/{tenant}/oauth2/v2.0/token"


def test_jwks_publishes_the_signing_key(jwks, token, discovery, resource):
    keys = jwks.get("keys")
    assert isinstance(keys, list) and keys
    ec_keys = [k for k in keys if k.get("kty") == "EC"]
    assert ec_keys, f"no EC key in JWKS: {jwks}"
    for key in keys:
        assert not ({"d", "p", "q", "dp", "dq", "qi", "k"} & set(key)), f"JWKS leaks private key material: {key}"
    for key in ec_keys:
        assert key.get("crv") == "P-256" and key.get("x") and key.get("y")
        assert len(b64url_decode(key["x"])) == 32 and len(b64url_decode(key["y"])) == 32
    header, payload, _, _ = jwt_parts(token)
    assert header.get("alg") == "ES256"
    candidates = [k for k in ec_keys if "kid" not in header or k.get("kid") == header["kid"]]
    assert candidates, f"token kid {header.get('kid')!r} not in JWKS"
    assert any(es256_verify(k, token) for k in candidates), "token signature does not verify with the JWKS key"
    now = time.time()
    assert payload.get("aud") == resource
    assert payload.get("iss") == discovery["issuer"]
    assert isinstance(payload.get("exp"), int) and payload["exp"] > now
    assert payload.get("nbf", 0) <= now + 300 and payload.get("iat", 0) <= now + 300


def test_token_endpoint(http, discovery, bootstrap, resource, vault_url):
    form = {"grant_type": "client_credentials", "client_id": bootstrap["client_id"],
            "client_secret": bootstrap["client_secret"], "scope": f"{resource}/.default"}
    resp = http.post(discovery["token_endpoint"], data=form, timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)
    body = resp.json()
    assert body.get("token_type", "").lower() == "bearer"
    assert int(body["expires_in"]) > 0
    assert jwt_parts(body["access_token"])[1].get("aud") == resource
    ok = Vault(http, vault_url, body["access_token"]).get("/secrets", params={"maxresults": 1})
    assert ok.status_code == 200, describe(ok)


def test_token_endpoint_refuses_wrong_secret(http, discovery, bootstrap, resource):
    form = {"grant_type": "client_credentials", "client_id": bootstrap["client_id"],
            "client_secret": bootstrap["client_secret"] + "x", "scope": f"{resource}/.default"}
    resp = http.post(discovery["token_endpoint"], data=form, timeout=TIMEOUT)
    assert resp.status_code in (400, 401), describe(resp)
    body = resp.json()
    assert body.get("error") == "invalid_client", describe(resp)
    assert "access_token" not in body
    form["client_secret"] = ""
    resp = http.post(discovery["token_endpoint"], data=form, timeout=TIMEOUT)
    assert resp.status_code in (400, 401), describe(resp)
    assert "access_token" not in resp.json()


def test_token_endpoint_refuses_unknown_client(http, discovery, bootstrap, resource):
    form = {"grant_type": "client_credentials", "client_id": "00000000-0000-0000-0000-000000000000",
            "client_secret": bootstrap["client_secret"], "scope": f"{resource}/.default"}
    resp = http.post(discovery["token_endpoint"], data=form, timeout=TIMEOUT)
    assert resp.status_code in (400, 401), describe(resp)
    body = resp.json()
    assert body.get("error") in ("invalid_client", "unauthorized_client"), describe(resp)
    assert "access_token" not in body


def _mi_get(http, bootstrap, resource, header: Optional[str]) -> requests.Response:
    headers = {"Metadata": "true"}
    if header is not None:
        headers["X-IDENTITY-HEADER"] = header
    return http.get(bootstrap["identity_endpoint"], params={"api-version": "2019-08-01", "resource": resource},
                    headers=headers, timeout=TIMEOUT)


def test_managed_identity_endpoint(http, bootstrap, resource, vault_url):
    resp = _mi_get(http, bootstrap, resource, bootstrap["identity_header"])
    assert resp.status_code == 200, describe(resp)
    body = resp.json()
    assert body.get("access_token")
    expires_on = body.get("expires_on")
    assert isinstance(expires_on, (int, str)) and int(expires_on) > time.time(), describe(resp)
    assert jwt_parts(body["access_token"])[1].get("aud") == resource
    ok = Vault(http, vault_url, body["access_token"]).get("/secrets", params={"maxresults": 1})
    assert ok.status_code == 200, describe(ok)


@pytest.mark.parametrize("header", [None, "", "wrong-header-value", "x"])
def test_managed_identity_endpoint_refuses_bad_header(http, bootstrap, resource, header):
    resp = _mi_get(http, bootstrap, resource, header)
    assert 400 <= resp.status_code < 500, describe(resp)
    assert "access_token" not in resp.text


def test_managed_identity_header_with_suffix_is_refused(http, bootstrap, resource):
    resp = _mi_get(http, bootstrap, resource, bootstrap["identity_header"] + "x")
    assert 400 <= resp.status_code < 500, describe(resp)
    assert "access_token" not in resp.text


# ---------------------------------------------------------------------------
# api-version
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("api_version", ACCEPTED_API_VERSIONS)
def test_accepted_api_versions(api_version, kv, existing):
    name, version, value = existing
    resp = kv.get("/secrets", api_version=api_version, params={"maxresults": 1})
    assert resp.status_code == 200, describe(resp)
    resp = kv.get(f"/secrets/{name}/{version}", api_version=api_version)
    assert resp.status_code == 200, describe(resp)
    assert resp.json()["value"] == value


@pytest.mark.parametrize("api_version", REFUSED_API_VERSIONS + [None])
def test_refused_api_versions_change_nothing(api_version, kv, existing, unique_name):
    name, version, value = existing
    assert_error(kv.get("/secrets", api_version=api_version), 400, "BadParameter")
    assert_error(kv.put(f"/secrets/{name}", {"value": "new"}, api_version=api_version), 400, "BadParameter")
    fresh = unique_name("apiv")
    assert_error(kv.put(f"/secrets/{fresh}", {"value": "new"}, api_version=api_version), 400, "BadParameter")
    assert_error(kv.delete(f"/secrets/{name}", api_version=api_version), 400, "BadParameter")
    assert_unchanged(kv, name, version, value)
    assert_error(kv.get(f"/secrets/{fresh}"), 404, "SecretNotFound")


# ---------------------------------------------------------------------------
# bad input, each with a nothing-changed check
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("label,value", [
    ("ascii-25601-bytes", "x" * 25601),
    ("two-byte-25602-bytes", "é" * 12801),
    ("far-too-large", "y" * 200_000),
])
def test_oversized_value(label, value, kv, existing):
    name, version, old = existing
    assert_error(kv.put(f"/secrets/{name}", {"value": value}), 400, "BadParameter")
    assert_unchanged(kv, name, version, old)


def test_largest_value_is_accepted(kv, unique_name):
    name = unique_name("big")
    for value in ("x" * 25600, "é" * 12800):
        body = kv.set(name, value)
        assert body["value"] == value
    kv.purge_all(name)


@pytest.mark.parametrize("name", ["bad_name", "a" * 128, "a.b", "bad%20name", "b%C3%A4d", "semi;colon"])
def test_bad_secret_names(name, kv):
    resp = kv.put(f"/secrets/{name}", {"value": "x"})
    assert_error(resp, 400, "BadParameter")
    listed = {item["id"].rsplit("/", 1)[1].lower() for item in kv.list_all("/secrets")}
    assert unquote(name).lower() not in listed, "a refused name was created"


def test_longest_name_is_accepted(kv, unique_name):
    name = (unique_name("long") + "-" + "n" * 127)[:127]
    body = kv.set(name, "long")
    assert body["id"].endswith(f"/secrets/{name}/{version_of(body)}")
    kv.purge_all(name)


BAD_SET_BODIES = [
    ("malformed-json", b'{"value": "x"'),
    ("not-json", b"value=x"),
    ("json-array", b"[]"),
    ("json-array-positional", b'["x"]'),  # serde would read a struct from a sequence
    ("json-string", b'"x"'),
    ("json-null", b"null"),
    ("empty-body", b""),
    ("value-number", {"value": 123}),
    ("value-null", {"value": None}),
    ("value-object", {"value": {"a": "b"}}),
    ("missing-value", {}),
    ("missing-value-with-fields", {"contentType": "text/plain", "tags": {"a": "b"}}),
    ("tags-string", {"value": "x", "tags": "x"}),
    ("tags-array", {"value": "x", "tags": ["a"]}),
    ("tag-value-number", {"value": "x", "tags": {"a": 1}}),
    ("content-type-number", {"value": "x", "contentType": 5}),
    ("attributes-string", {"value": "x", "attributes": "enabled"}),
    ("enabled-string", {"value": "x", "attributes": {"enabled": "yes"}}),
    ("nbf-string", {"value": "x", "attributes": {"nbf": "2024-01-01T00:00:00Z"}}),
    ("exp-string", {"value": "x", "attributes": {"exp": "soon"}}),
]


@pytest.mark.parametrize("label,body", BAD_SET_BODIES, ids=[b[0] for b in BAD_SET_BODIES])
def test_bad_set_bodies(label, body, kv, existing, unique_name):
    name, version, value = existing
    assert_error(kv.put(f"/secrets/{name}", body), 400, "BadParameter")
    assert_unchanged(kv, name, version, value, tags={"t": "1"})
    fresh = unique_name("badbody")
    assert_error(kv.put(f"/secrets/{fresh}", body), 400, "BadParameter")
    assert_error(kv.get(f"/secrets/{fresh}"), 404, "SecretNotFound")


def _tags(n: int) -> Dict[str, str]:
    return {f"tag{i}": f"value{i}" for i in range(n)}


LIMIT_CASES = [
    ("16-tags", {"tags": _tags(16)}),
    ("tag-name-257", {"tags": {"n" * 257: "v"}}),
    ("tag-value-257", {"tags": {"k": "v" * 257}}),
    ("content-type-256", {"contentType": "c" * 256}),
]


@pytest.mark.parametrize("label,fields", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_limits_on_set(label, fields, kv, existing, unique_name):
    name, version, value = existing
    assert_error(kv.put(f"/secrets/{name}", {"value": "new", **fields}), 400, "BadParameter")
    assert_unchanged(kv, name, version, value, tags={"t": "1"})
    fresh = unique_name("limit")
    assert_error(kv.put(f"/secrets/{fresh}", {"value": "new", **fields}), 400, "BadParameter")
    assert_error(kv.get(f"/secrets/{fresh}"), 404, "SecretNotFound")


@pytest.mark.parametrize("label,fields", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_limits_on_update(label, fields, kv, existing):
    name, version, value = existing
    assert_error(kv.patch(f"/secrets/{name}/{version}", fields), 400, "BadParameter")
    assert_error(kv.patch(f"/secrets/{name}/", fields), 400, "BadParameter")
    assert_unchanged(kv, name, version, value, tags={"t": "1"})
    assert kv.get(f"/secrets/{name}").json().get("contentType") == "text/plain"


def test_limits_boundaries_are_accepted(kv, unique_name):
    name = unique_name("edges")
    body = kv.set(name, "v", tags=_tags(15), contentType="c" * 255)
    assert body["tags"] == _tags(15) and body["contentType"] == "c" * 255
    body = kv.set(name, "v", tags={"n" * 256: "v" * 256})
    assert body["tags"] == {"n" * 256: "v" * 256}
    resp = kv.patch(f"/secrets/{name}/", {"tags": _tags(15), "contentType": "d" * 255})
    assert resp.status_code == 200, describe(resp)
    kv.purge_all(name)


BAD_PATCH_BODIES = [
    ("malformed-json", b'{"tags": '),
    ("json-array", b"[]"),
    ("json-array-positional", b'["text/x"]'),
    ("tags-string", {"tags": "x"}),
    ("enabled-string", {"attributes": {"enabled": "yes"}}),
    ("content-type-number", {"contentType": 5}),
    ("exp-string", {"attributes": {"exp": "later"}}),
]


@pytest.mark.parametrize("label,body", BAD_PATCH_BODIES, ids=[b[0] for b in BAD_PATCH_BODIES])
def test_bad_update_bodies(label, body, kv, existing):
    name, version, value = existing
    before = kv.get(f"/secrets/{name}").json()
    assert_error(kv.patch(f"/secrets/{name}/{version}", body), 400, "BadParameter")
    after = kv.get(f"/secrets/{name}").json()
    assert after == before, "a refused PATCH changed the secret"
    assert_unchanged(kv, name, version, value, tags={"t": "1"})


@pytest.mark.parametrize("maxresults", ["0", "26", "-1", "1000", "abc", "1.5"])
def test_maxresults_out_of_range(maxresults, kv, existing):
    name, _, _ = existing
    for path in ("/secrets", f"/secrets/{name}/versions", "/deletedsecrets"):
        assert_error(kv.get(path, params={"maxresults": maxresults}), 400, "BadParameter")


@pytest.mark.parametrize("maxresults", ["1", "25"])
def test_maxresults_in_range(maxresults, kv, existing):
    name, _, _ = existing
    for path in ("/secrets", f"/secrets/{name}/versions", "/deletedsecrets"):
        resp = kv.get(path, params={"maxresults": maxresults})
        assert resp.status_code == 200, describe(resp)
        assert len(resp.json()["value"]) <= int(maxresults)


# ---------------------------------------------------------------------------
# addressing, paging, timestamps
# ---------------------------------------------------------------------------


def test_trailing_slash_means_latest(kv, unique_name, vault_url):
    name = unique_name("slash")
    v1 = version_of(kv.set(name, "one"))
    v2 = version_of(kv.set(name, "two"))
    for path in (f"/secrets/{name}", f"/secrets/{name}/"):
        resp = kv.get(path)
        assert resp.status_code == 200, describe(resp)
        assert resp.json()["id"] == f"{vault_url}/secrets/{name}/{v2}"
        assert resp.json()["value"] == "two"
    resp = kv.patch(f"/secrets/{name}/", {"tags": {"via": "slash"}})
    assert resp.status_code == 200 and version_of(resp.json()) == v2, describe(resp)
    resp = kv.patch(f"/secrets/{name}", {"contentType": "no-slash"})
    assert resp.status_code == 200 and version_of(resp.json()) == v2, describe(resp)
    latest = kv.get(f"/secrets/{name}/").json()
    assert latest["tags"] == {"via": "slash"} and latest["contentType"] == "no-slash"
    first = kv.get(f"/secrets/{name}/{v1}").json()
    assert first.get("tags") in (None, {}) and first.get("contentType") is None
    kv.purge_all(name)


def test_names_are_case_insensitive(kv, unique_name):
    name = unique_name("case")
    version = version_of(kv.set(name, "cased"))
    resp = kv.get(f"/secrets/{name.upper()}")
    assert resp.status_code == 200, describe(resp)
    assert version_of(resp.json()) == version and resp.json()["value"] == "cased"
    resp = kv.get(f"/secrets/{name.upper()}/{version}")
    assert resp.status_code == 200, describe(resp)
    kv.purge_all(name)


def test_next_link_shape(kv, unique_name, port):
    name = unique_name("pages")
    versions = sorted(version_of(kv.set(name, f"v{i}")) for i in range(3))
    seen: List[str] = []
    resp = kv.get(f"/secrets/{name}/versions", params={"maxresults": 1})
    links = 0
    for _ in range(50):
        assert resp.status_code == 200, describe(resp)
        body = resp.json()
        assert len(body["value"]) <= 1
        seen.extend(version_of(item) for item in body["value"])
        link = body.get("nextLink")
        if not link:
            break
        links += 1
        parsed = urlparse(link)
        assert parsed.scheme == "https", link
        assert parsed.hostname == "default.vault.localhost", link
        assert parsed.port == port, link
        assert parsed.path == f"/secrets/{name}/versions", link
        query = parse_qs(parsed.query)
        assert query.get("$skiptoken") and query["$skiptoken"][0], link
        assert query.get("maxresults") == ["1"], link
        resp = kv.follow(link)
    else:
        raise AssertionError("paging did not end")
    assert links >= 2
    assert sorted(seen) == versions and len(seen) == len(set(seen))
    kv.purge_all(name)


def test_next_link_follows_the_request_origin(http, make_vault, token, port):
    """Each vault's nextLink points at that vault's own host and port."""
    url = make_vault()
    other = Vault(http, url, token)
    for i in range(3):
        other.set(f"origin-{i}", f"v{i}")
        other.set("origin-0", f"again-{i}")
    for path in ("/secrets", "/secrets/origin-0/versions"):
        body = other.get(path, params={"maxresults": 1}).json()
        assert body.get("nextLink"), body
        assert body["nextLink"].startswith(f"{url}/"), body["nextLink"]
    for i in range(3):
        other.delete(f"/secrets/origin-{i}")
    body = other.get("/deletedsecrets", params={"maxresults": 2}).json()
    assert body.get("nextLink", "").startswith(f"{url}/deletedsecrets"), body
    assert urlparse(body["nextLink"]).port == port


def _assert_int_fields(obj: Dict[str, Any], fields, where: str) -> None:
    for field in fields:
        assert field in obj, f"{where}: {field} missing in {obj}"
        assert type(obj[field]) is int, f"{where}: {field}={obj[field]!r} is not a JSON integer"


def test_timestamps_are_integers(kv, unique_name):
    name = unique_name("times")
    nbf, exp = 1700000000, 2200000000
    body = kv.set(name, "t", attributes={"nbf": nbf, "exp": exp, "enabled": True})
    attrs = body["attributes"]
    _assert_int_fields(attrs, ("created", "updated", "nbf", "exp", "recoverableDays"), "set")
    assert (attrs["nbf"], attrs["exp"]) == (nbf, exp)
    assert abs(attrs["created"] - time.time()) < 300
    _assert_int_fields(kv.get(f"/secrets/{name}").json()["attributes"], ("created", "updated", "nbf", "exp"), "get")
    items = [i for i in kv.list_all("/secrets") if i["id"].endswith(f"/secrets/{name}")]
    assert len(items) == 1
    _assert_int_fields(items[0]["attributes"], ("created", "updated", "nbf", "exp"), "list")
    assert "value" not in items[0], "list items must not carry values"
    versions = kv.list_all(f"/secrets/{name}/versions")
    _assert_int_fields(versions[0]["attributes"], ("created", "updated", "nbf", "exp"), "versions")
    assert "value" not in versions[0]
    patched = kv.patch(f"/secrets/{name}/", {"attributes": {"exp": exp + 1}}).json()
    _assert_int_fields(patched["attributes"], ("created", "updated", "exp"), "update")
    assert patched["attributes"]["exp"] == exp + 1

    resp = kv.delete(f"/secrets/{name}")
    assert resp.status_code == 200, describe(resp)
    deleted = resp.json()
    _assert_int_fields(deleted, ("deletedDate", "scheduledPurgeDate"), "delete")
    _assert_int_fields(deleted["attributes"], ("created", "updated"), "delete attributes")
    assert "value" not in deleted, "deleted bundles must not carry the value"
    got = kv.get(f"/deletedsecrets/{name}").json()
    _assert_int_fields(got, ("deletedDate", "scheduledPurgeDate"), "get deleted")
    listed = [d for d in kv.list_all("/deletedsecrets") if d["recoveryId"].endswith(f"/deletedsecrets/{name}")]
    assert len(listed) == 1
    _assert_int_fields(listed[0], ("deletedDate", "scheduledPurgeDate"), "list deleted")
    assert "value" not in listed[0]
    kv.delete(f"/deletedsecrets/{name}")


# ---------------------------------------------------------------------------
# lifecycle status codes
# ---------------------------------------------------------------------------


def test_disabled_version_is_forbidden(kv, unique_name):
    name = unique_name("off")
    v1 = version_of(kv.set(name, "one", attributes={"enabled": False}))
    v2 = version_of(kv.set(name, "two"))
    assert_error(kv.get(f"/secrets/{name}/{v1}"), 403, "Forbidden", "SecretDisabled")
    assert kv.get(f"/secrets/{name}").json()["value"] == "two"
    assert kv.patch(f"/secrets/{name}/{v2}", {"attributes": {"enabled": False}}).status_code == 200
    assert_error(kv.get(f"/secrets/{name}"), 403, "Forbidden", "SecretDisabled")
    assert_error(kv.get(f"/secrets/{name}/"), 403, "Forbidden", "SecretDisabled")
    assert kv.patch(f"/secrets/{name}/{v1}", {"attributes": {"enabled": True}}).status_code == 200
    assert kv.get(f"/secrets/{name}/{v1}").json()["value"] == "one"
    kv.purge_all(name)


def test_expired_and_not_yet_valid_secrets_are_readable(kv, unique_name):
    name = unique_name("window")
    kv.set(name, "expired", attributes={"exp": 1000000000})
    assert kv.get(f"/secrets/{name}").json()["value"] == "expired"
    kv.set(name, "future", attributes={"nbf": 4000000000})
    assert kv.get(f"/secrets/{name}").json()["value"] == "future"
    kv.purge_all(name)


def test_unknown_name_or_version(kv, existing, unique_name):
    name, version, value = existing
    missing = unique_name("nope")
    assert_error(kv.get(f"/secrets/{missing}"), 404, "SecretNotFound")
    assert_error(kv.get(f"/secrets/{missing}/"), 404, "SecretNotFound")
    assert_error(kv.get(f"/secrets/{missing}/{version}"), 404, "SecretNotFound")
    assert_error(kv.get(f"/secrets/{name}/{'0' * 32}"), 404, "SecretNotFound")
    assert_error(kv.patch(f"/secrets/{missing}/", {"contentType": "x"}), 404, "SecretNotFound")
    assert_error(kv.patch(f"/secrets/{name}/{'0' * 32}", {"contentType": "x"}), 404, "SecretNotFound")
    assert_error(kv.delete(f"/secrets/{missing}"), 404, "SecretNotFound")
    assert_error(kv.get(f"/deletedsecrets/{missing}"), 404, "SecretNotFound")
    assert_error(kv.delete(f"/deletedsecrets/{missing}"), 404, "SecretNotFound")
    assert kv.post(f"/deletedsecrets/{missing}/recover").status_code == 404
    assert_error(kv.post(f"/secrets/{missing}/backup"), 404, "SecretNotFound")
    assert_unchanged(kv, name, version, value)


def test_soft_delete_purge_and_conflicts(kv, unique_name, vault_url):
    name = unique_name("soft")
    v1 = version_of(kv.set(name, "one"))
    backup = kv.post(f"/secrets/{name}/backup")
    assert backup.status_code == 200, describe(backup)
    blob = backup.json()["value"]

    resp = kv.delete(f"/secrets/{name}")
    assert resp.status_code == 200, describe(resp)
    deleted = resp.json()
    assert deleted["recoveryId"] == f"{vault_url}/deletedsecrets/{name}"
    assert deleted["id"] == f"{vault_url}/secrets/{name}/{v1}"
    assert deleted["scheduledPurgeDate"] - deleted["deletedDate"] == 90 * 86400

    assert_error(kv.get(f"/secrets/{name}"), 404, "SecretNotFound")
    assert_error(kv.get(f"/secrets/{name}/{v1}"), 404, "SecretNotFound")
    assert_error(kv.delete(f"/secrets/{name}"), 404, "SecretNotFound")
    assert_error(kv.put(f"/secrets/{name}", {"value": "two"}), 409, "Conflict", "ObjectIsDeletedButRecoverable")
    assert_error(kv.post("/secrets/restore", {"value": blob}), 409, "Conflict", "ObjectIsDeletedButRecoverable")
    got = kv.get(f"/deletedsecrets/{name}")
    assert got.status_code == 200, describe(got)
    assert got.json()["deletedDate"] == deleted["deletedDate"], "refused set/restore touched the deleted entry"

    purge = kv.delete(f"/deletedsecrets/{name}")
    assert purge.status_code == 204, describe(purge)
    assert purge.content == b"", "purge must answer with an empty body"
    assert_error(kv.get(f"/deletedsecrets/{name}"), 404, "SecretNotFound")
    assert_error(kv.delete(f"/deletedsecrets/{name}"), 404, "SecretNotFound")
    assert_error(kv.get(f"/secrets/{name}"), 404, "SecretNotFound")

    # the name is free again
    fresh = kv.set(name, "reborn")
    assert version_of(fresh) != v1
    assert kv.versions(name) == [version_of(fresh)]
    kv.purge_all(name)


def test_recover(kv, unique_name):
    name = unique_name("recover")
    v1 = version_of(kv.set(name, "one"))
    v2 = version_of(kv.set(name, "two"))
    assert kv.delete(f"/secrets/{name}").status_code == 200
    resp = kv.post(f"/deletedsecrets/{name}/recover")
    assert resp.status_code == 200, describe(resp)
    assert version_of(resp.json()) == v2
    assert_error(kv.get(f"/deletedsecrets/{name}"), 404, "SecretNotFound")
    assert kv.versions(name) == sorted([v1, v2])
    assert kv.get(f"/secrets/{name}/").json()["value"] == "two"
    assert kv.post(f"/deletedsecrets/{name}/recover").status_code == 404, "recover of an active name"
    kv.purge_all(name)


def test_restore_onto_active_name_conflicts(kv, existing):
    name, version, value = existing
    blob = kv.post(f"/secrets/{name}/backup").json()["value"]
    assert_error(kv.post("/secrets/restore", {"value": blob}), 409, "Conflict")
    assert_unchanged(kv, name, version, value)


def test_restore_garbage(http, make_vault, token, kv, existing):
    name, version, value = existing
    blob = kv.post(f"/secrets/{name}/backup").json()["value"]
    raw = bytearray(b64url_decode(blob))
    raw[len(raw) // 2] ^= 0x01
    tampered = b64url_encode(bytes(raw))
    other = Vault(http, make_vault(), token)
    for body in ({"value": "!!!not base64!!!"}, {"value": b64url_encode(os.urandom(96))}, {"value": ""},
                 {"value": tampered}, {"value": blob[: len(blob) // 2]}, {}, {"value": 5}, b"{"):
        assert_error(other.post("/secrets/restore", body), 400, "BadParameter")
    assert other.list_all("/secrets") == [], "a refused restore created something"
    assert other.list_all("/deletedsecrets") == []
    # the untouched blob restores fine into the other vault
    resp = other.post("/secrets/restore", {"value": blob})
    assert resp.status_code == 200, describe(resp)
    assert version_of(resp.json()) == version
    assert other.get(f"/secrets/{name}").json()["value"] == value


def test_backup_blob_is_base64url_and_opaque(kv, existing):
    name, _, value = existing
    resp = kv.post(f"/secrets/{name}/backup")
    assert resp.status_code == 200, describe(resp)
    blob = resp.json()["value"]
    assert isinstance(blob, str) and blob and not set(blob) - set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), "backup is not unpadded base64url"
    assert value.encode() not in b64url_decode(blob), "backup holds the plaintext value"
    assert base64.b64encode(value.encode()) not in b64url_decode(blob)


def test_purge_protection_forbids_purge(http, make_vault, token):
    vault = Vault(http, make_vault(retention_days=7, purge_protection=True), token)
    vault.set("guarded", "g")
    assert vault.delete("/secrets/guarded").status_code == 200
    assert_error(vault.delete("/deletedsecrets/guarded"), 403, "Forbidden")
    got = vault.get("/deletedsecrets/guarded")
    assert got.status_code == 200, "a refused purge removed the deleted secret"
    assert got.json()["scheduledPurgeDate"] - got.json()["deletedDate"] == 7 * 86400
    resp = vault.post("/deletedsecrets/guarded/recover")
    assert resp.status_code == 200, describe(resp)
    assert vault.get("/secrets/guarded").json()["value"] == "g"


def test_unknown_vault_after_authentication(http, arca, token):
    other = Vault(http, arca.vault_url("nosuchvault99"), token)
    assert_error(other.get("/secrets"), 404, "VaultNotFound")
    assert_error(other.put("/secrets/x", {"value": "x"}), 404, "VaultNotFound")
    assert_error(other.delete("/deletedsecrets/x"), 404, "VaultNotFound")


def test_ids_use_the_request_origin(kv, unique_name, vault_url):
    name = unique_name("ids")
    body = kv.set(name, "x")
    assert body["id"] == f"{vault_url}/secrets/{name}/{version_of(body)}"
    assert len(version_of(body)) == 32 and int(version_of(body), 16) >= 0
    assert version_of(body) == version_of(body).lower()
    kv.purge_all(name)
