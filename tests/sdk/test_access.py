"""Access control, part 1: the admin CLI and the token issuer under attack.

Covers `arca principal|role|federation|signing-key ...` (JSON and table output, secrets
shown once and never again), the token endpoint refusing hostile client assertions (federated
and certificate), the lock-out after repeated wrong client secrets, access tokens that are
forged or minted for another audience or issuer (got from a second `arca serve` on a copy of a
data dir, so the signature is genuine), the claims of an issued token, and signing-key rotation.

The credential flows through the SDK are in test_credentials.py, roles in test_rbac.py and
network rules in test_firewall.py. Every test makes its own principals and vaults.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests

import identity_tools as idt
from arca_harness import DNS_SUFFIX, ArcaServer, cli_failure, listed, describe, assert_refused, assert_challenge

API = "2026-04-01"
TIMEOUT = 30
UUID_CHARS = set("0123456789abcdef-")

# Built-in roles with Azure's role definition ids (keyvault-api.md section 11.1).
BUILT_IN_ROLES = {
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Certificates Officer": "a4417e6f-fecd-4de8-b567-7b0420556985",
    "Key Vault Certificate User": "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
}
GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
SET_SECRET = "Microsoft.KeyVault/vaults/secrets/setSecret/action"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def assert_oauth_refused(resp: requests.Response, errors=("invalid_client", "invalid_request", "invalid_grant")) -> None:
    """A refused token request: 400/401, an OAuth error body, and no token."""
    assert resp.status_code in (400, 401), describe(resp)
    body = resp.json()
    assert body.get("error") in errors, describe(resp)
    assert "access_token" not in body, describe(resp)


def assert_token_issued(resp: requests.Response) -> str:
    assert resp.status_code == 200, describe(resp)
    body = resp.json()
    assert body.get("token_type", "").lower() == "bearer" and body.get("access_token"), describe(resp)
    return body["access_token"]


def error_codes(resp: requests.Response) -> List[str]:
    """error.code and innererror.code of a Key Vault error envelope. The admin API contract names
    one code per refusal ("409 RoleAssignmentExists") without saying on which level it sits."""
    error = resp.json().get("error") or {}
    return [error.get("code"), (error.get("innererror") or {}).get("code")]


def is_uuid(text: Any) -> bool:
    try:
        return isinstance(text, str) and str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def flip(text: str, index: int) -> str:
    """`text` with the character at `index` replaced by another base64url character."""
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]


def token_endpoint(bootstrap: Dict[str, Any]) -> str:
    return f"{bootstrap['authority_host'].rstrip('/')}/{bootstrap['tenant_id']}/oauth2/v2.0/token"


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="arca-access-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def vault_get(url: str, token: Optional[str], verify: str, path: str = "/secrets") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{url}{path}", params={"api-version": API}, headers=headers, verify=verify, timeout=TIMEOUT)


# ---------------------------------------------------------------------------
# principals
# ---------------------------------------------------------------------------


def test_principal_create_show_list_delete(arca, unique_name):
    name = unique_name("ci-pipeline")
    created = arca.cli_json("principal", "create", name)
    assert created["display_name"] == name
    assert is_uuid(created["client_id"]) and is_uuid(created["object_id"]), created
    assert created["client_id"] != created["object_id"]
    assert created["kind"] == "service_principal"
    assert isinstance(created["created"], int) and abs(created["created"] - time.time()) < 300
    assert created["secrets"] == [] and created["certificates"] == []

    by_client = arca.cli_json("principal", "show", created["client_id"])
    by_object = arca.cli_json("principal", "show", created["object_id"])
    assert by_client == created and by_object == created

    everyone = listed(arca.cli_json("principal", "list"))
    assert [p["client_id"] for p in everyone].count(created["client_id"]) == 1
    names = [(p["display_name"], p["client_id"]) for p in everyone]
    assert names in (sorted(names), sorted(names, key=lambda n: (n[0].lower(), n[1]))), \
        "principals are listed by display name, then client id"

    table = arca.cli("principal", "show", created["client_id"])
    assert table.returncode == 0, cli_failure(table)
    assert name in table.stdout and created["client_id"] in table.stdout, table.stdout
    table = arca.cli("principal", "list")
    assert table.returncode == 0 and name in table.stdout, cli_failure(table)

    proc = arca.cli("principal", "delete", created["client_id"])
    assert proc.returncode == 0, cli_failure(proc)
    assert_refused(arca.cli("principal", "show", created["client_id"]))
    assert_refused(arca.cli("principal", "delete", created["client_id"]))
    assert created["client_id"] not in [p["client_id"] for p in listed(arca.cli_json("principal", "list"))]


def test_principal_create_managed_identity(arca, unique_name):
    mi = arca.cli_json("principal", "create", unique_name("mi"), "--managed-identity")
    assert mi["kind"] == "managed_identity"
    assert arca.cli_json("principal", "show", mi["client_id"])["kind"] == "managed_identity"


@pytest.mark.parametrize("name", ["", "x" * 129])
def test_principal_display_name_bounds(arca, name):
    assert_refused(arca.cli("principal", "create", name))


def test_principal_display_name_of_128_characters_is_accepted(arca):
    name = uuid.uuid4().hex + "n" * 96
    assert len(name) == 128
    assert arca.cli_json("principal", "create", name)["display_name"] == name


def test_show_unknown_principal_is_refused(arca, admin_api):
    missing = str(uuid.uuid4())
    assert_refused(arca.cli("principal", "show", missing))
    resp = admin_api("GET", f"/principals/{missing}")
    assert resp.status_code == 404 and "PrincipalNotFound" in error_codes(resp), describe(resp)


def test_client_secret_is_shown_once_and_never_again(arca, make_principal):
    sp = make_principal(secret=False)
    added = arca.cli_json("principal", "secret", "add", sp["client_id"], "--expires-in-days", "30",
                          "--description", "deploy key")
    secret = added["secret"]
    assert isinstance(secret, str) and len(secret) >= 20, added
    assert added["hint"] == secret[:3]
    assert added["description"] == "deploy key"
    assert is_uuid(added["id"])
    assert abs(added["created"] - time.time()) < 300
    assert added["expires"] - added["created"] == pytest.approx(30 * 86400, abs=5)

    shown = arca.cli_json("principal", "show", sp["client_id"])
    (entry,) = shown["secrets"]
    assert entry == {k: added[k] for k in ("id", "description", "hint", "created", "expires")}, entry
    json_outputs = [shown, arca.cli_json("principal", "list")]
    for data in json_outputs:
        assert secret not in json.dumps(data), "a client secret appears in principal show/list"
        for entry_ in (e for p in ([data] if "secrets" in data else listed(data)) for e in p["secrets"]):
            assert set(entry_) <= {"id", "description", "hint", "created", "expires"}, entry_
    for args in (("principal", "show", sp["client_id"]), ("principal", "list")):
        proc = arca.cli(*args)
        assert proc.returncode == 0, cli_failure(proc)
        assert secret not in proc.stdout + proc.stderr, f"a client secret appears in `arca {' '.join(args)}`"


def test_secret_add_table_output_prints_a_working_secret(arca, make_principal, request_token):
    sp = make_principal(secret=False)
    proc = arca.cli("principal", "secret", "add", sp["client_id"])
    assert proc.returncode == 0, cli_failure(proc)
    (entry,) = arca.cli_json("principal", "show", sp["client_id"])["secrets"]
    words = proc.stdout.replace('"', " ").replace("'", " ").replace(",", " ").split()
    candidates = [w for w in words if w.startswith(entry["hint"]) and len(w) >= 20]
    assert candidates, f"no secret starting with the hint {entry['hint']!r} in:\n{proc.stdout}"
    assert any(request_token(sp["client_id"], c).status_code == 200 for c in candidates), \
        f"none of {len(candidates)} printed candidates is the secret"


def test_client_secret_expiry_default_and_bounds(arca, make_principal):
    sp = make_principal(secret=False)
    default = arca.cli_json("principal", "secret", "add", sp["client_id"])
    assert default["expires"] - default["created"] == pytest.approx(365 * 86400, abs=5)
    longest = arca.cli_json("principal", "secret", "add", sp["client_id"], "--expires-in-days", "3650")
    assert longest["expires"] - longest["created"] == pytest.approx(3650 * 86400, abs=5)
    shortest = arca.cli_json("principal", "secret", "add", sp["client_id"], "--expires-in-days", "1")
    assert shortest["expires"] - shortest["created"] == pytest.approx(86400, abs=5)
    for days in ("0", "3651", "-1", "abc"):
        assert_refused(arca.cli("principal", "secret", "add", sp["client_id"], "--expires-in-days", days))
    shown = arca.cli_json("principal", "show", sp["client_id"])
    assert sorted(s["expires"] for s in shown["secrets"]) == sorted(
        [shortest["expires"], default["expires"], longest["expires"]])


def test_client_secret_remove(arca, make_principal, request_token):
    sp = make_principal()
    first = arca.cli_json("principal", "show", sp["client_id"])["secrets"][0]
    assert_token_issued(request_token(sp["client_id"], sp["secret"]))
    proc = arca.cli("principal", "secret", "remove", sp["client_id"], first["id"])
    assert proc.returncode == 0, cli_failure(proc)
    assert arca.cli_json("principal", "show", sp["client_id"])["secrets"] == []
    assert_oauth_refused(request_token(sp["client_id"], sp["secret"]))
    assert_refused(arca.cli("principal", "secret", "remove", sp["client_id"], first["id"]))


def test_at_most_16_client_secrets(arca, make_principal, admin_api):
    sp = make_principal(secret=False)
    for _ in range(16):
        resp = admin_api("POST", f"/principals/{sp['client_id']}/secrets", json={})
        assert resp.status_code == 201, describe(resp)
    resp = admin_api("POST", f"/principals/{sp['client_id']}/secrets", json={})
    assert 400 <= resp.status_code < 500, describe(resp)
    assert "secret" not in resp.json(), describe(resp)
    assert_refused(arca.cli("principal", "secret", "add", sp["client_id"]))
    assert len(arca.cli_json("principal", "show", sp["client_id"])["secrets"]) == 16


def test_certificate_add_and_remove(arca, make_principal, tmp_path):
    sp = make_principal(secret=False)
    key = idt.new_rsa_key()
    cert = idt.self_signed_cert(key, "arca-test-client")
    pem = idt.write_pem(tmp_path / "client.pem", idt.cert_pem(cert))
    entry = arca.cli_json("principal", "cert", "add", sp["client_id"], str(pem))
    assert entry["id"] == idt.sha1_thumbprint(cert)
    assert entry["thumbprint_sha256"].lower() == idt.sha256_thumbprint(cert)
    assert entry["subject"] == "CN=arca-test-client"
    assert entry["not_before"] == int(cert.not_valid_before_utc.timestamp())
    assert entry["not_after"] == int(cert.not_valid_after_utc.timestamp())
    assert abs(entry["added"] - time.time()) < 300
    assert arca.cli_json("principal", "show", sp["client_id"])["certificates"] == [entry]

    assert_refused(arca.cli("principal", "cert", "add", sp["client_id"], str(pem)))  # already registered
    assert len(arca.cli_json("principal", "show", sp["client_id"])["certificates"]) == 1

    proc = arca.cli("principal", "cert", "remove", sp["client_id"], entry["id"])
    assert proc.returncode == 0, cli_failure(proc)
    assert arca.cli_json("principal", "show", sp["client_id"])["certificates"] == []
    assert_refused(arca.cli("principal", "cert", "remove", sp["client_id"], entry["id"]))


def test_certificate_add_refuses_what_is_not_one_certificate(arca, make_principal, tmp_path, admin_api):
    sp = make_principal(secret=False)
    key = idt.new_rsa_key()
    cert = idt.self_signed_cert(key, "two-certs")
    other = idt.self_signed_cert(idt.new_rsa_key(), "other")
    cases = {
        "key-only": idt.key_pem(key),
        "garbage": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        "two-certificates": idt.cert_pem(cert) + idt.cert_pem(other),
        "empty": "",
    }
    for label, text in cases.items():
        path = tmp_path / f"{label}.pem"
        path.write_text(text, encoding="ascii")
        assert_refused(arca.cli("principal", "cert", "add", sp["client_id"], str(path)))
        resp = admin_api("POST", f"/principals/{sp['client_id']}/certificates", json={"certificate": text})
        assert resp.status_code == 400, f"{label}: {describe(resp)}"
    assert_refused(arca.cli("principal", "cert", "add", sp["client_id"], str(tmp_path / "missing.pem")))
    assert arca.cli_json("principal", "show", sp["client_id"])["certificates"] == []


# ---------------------------------------------------------------------------
# roles and assignments
# ---------------------------------------------------------------------------


def test_role_list_shows_the_built_in_roles(arca):
    roles = listed(arca.cli_json("role", "list"))
    by_name = {r["name"]: r for r in roles}
    for name, role_id in BUILT_IN_ROLES.items():
        assert name in by_name, f"built-in role {name} missing from {sorted(by_name)}"
        assert by_name[name]["id"] == role_id
        assert by_name[name]["type"] == "BuiltInRole"
        assert by_name[name]["data_actions"], name
    assert by_name["Key Vault Administrator"]["data_actions"] == ["Microsoft.KeyVault/vaults/*"]
    assert by_name["Key Vault Secrets Officer"]["data_actions"] == ["Microsoft.KeyVault/vaults/secrets/*"]
    assert sorted(by_name["Key Vault Secrets User"]["data_actions"]) == sorted(
        [GET_SECRET, "Microsoft.KeyVault/vaults/secrets/readMetadata/action"])
    types = [r["type"] for r in roles]
    assert types == sorted(types, key=lambda t: t != "BuiltInRole"), "built-in roles come first"
    custom = [r["name"] for r in roles if r["type"] == "CustomRole"]
    assert custom == sorted(custom, key=str.lower) or custom == sorted(custom), "custom roles are ordered by name"

    table = arca.cli("role", "list")
    assert table.returncode == 0, cli_failure(table)
    for name in BUILT_IN_ROLES:
        assert name in table.stdout, f"{name} missing from the table output:\n{table.stdout}"


def test_role_show_by_name_or_id(arca):
    by_id = arca.cli_json("role", "show", BUILT_IN_ROLES["Key Vault Secrets User"])
    by_name = arca.cli_json("role", "show", "key vault secrets user")  # names compare case-insensitively
    assert by_id == by_name and by_id["name"] == "Key Vault Secrets User"
    table = arca.cli("role", "show", "Key Vault Secrets User")
    assert table.returncode == 0 and "Key Vault Secrets User" in table.stdout, cli_failure(table)
    assert_refused(arca.cli("role", "show", "No Such Role"))


def test_custom_role_define_show_delete(arca, unique_name):
    name = unique_name("Secret Writers")
    role = arca.cli_json("role", "define", "--name", name,
                         "--data-action", "Microsoft.KeyVault/vaults/secrets/*",
                         "--not-data-action", "Microsoft.KeyVault/vaults/secrets/delete")
    assert role["name"] == name and role["type"] == "CustomRole" and is_uuid(role["id"])
    assert role["data_actions"] == ["Microsoft.KeyVault/vaults/secrets/*"]
    assert role["not_data_actions"] == ["Microsoft.KeyVault/vaults/secrets/delete"]
    assert arca.cli_json("role", "show", role["id"]) == role
    assert arca.cli_json("role", "show", name.upper()) == role
    assert name in [r["name"] for r in listed(arca.cli_json("role", "list"))]
    assert_refused(arca.cli("role", "define", "--name", name.upper(), "--data-action", GET_SECRET))
    proc = arca.cli("role", "delete", name)
    assert proc.returncode == 0, cli_failure(proc)
    assert_refused(arca.cli("role", "show", name))


def test_custom_role_define_from_file(arca, unique_name, tmp_path):
    name = unique_name("Readers From File")
    spec = {"name": name, "description": "read secrets", "data_actions": [GET_SECRET],
            "not_data_actions": []}
    path = tmp_path / "role.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    role = arca.cli_json("role", "define", "--file", str(path))
    assert (role["name"], role["description"], role["data_actions"]) == (name, "read secrets", [GET_SECRET])
    assert role["type"] == "CustomRole"


def test_role_define_refusals(arca, unique_name, admin_api):
    assert_refused(arca.cli("role", "define", "--name", unique_name("empty")))  # data actions must not be empty
    resp = admin_api("POST", "/roles", json={"name": unique_name("empty"), "data_actions": []})
    assert resp.status_code == 400, describe(resp)
    resp = admin_api("POST", "/roles", json={"name": unique_name("many"),
                                             "data_actions": [f"Microsoft.KeyVault/vaults/x{i}" for i in range(101)]})
    assert resp.status_code == 400, describe(resp)
    resp = admin_api("POST", "/roles", json={"name": unique_name("extra"), "data_actions": [GET_SECRET],
                                             "permissions": ["*"]})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadParameter", describe(resp)
    resp = admin_api("POST", "/roles", json={"name": "Key Vault Reader", "data_actions": [GET_SECRET]})
    assert resp.status_code == 409, describe(resp)
    # built-in roles cannot be deleted
    assert_refused(arca.cli("role", "delete", "Key Vault Reader"))
    resp = admin_api("DELETE", f"/roles/{BUILT_IN_ROLES['Key Vault Reader']}")
    assert resp.status_code == 400, describe(resp)
    assert arca.cli_json("role", "show", "Key Vault Reader")["type"] == "BuiltInRole"


def test_role_assign_list_unassign(arca, make_principal, new_vault, admin_api):
    sp = make_principal(secret=False)
    vault, _ = new_vault()
    scope = f"/vaults/{vault}"
    assignment = arca.cli_json("role", "assign", "--role", "Key Vault Secrets User",
                               "--principal", sp["client_id"], "--scope", scope)
    assert is_uuid(assignment["id"])
    assert assignment["role_id"] == BUILT_IN_ROLES["Key Vault Secrets User"]
    assert assignment["role_name"] == "Key Vault Secrets User"
    assert assignment["principal_client_id"] == sp["client_id"]
    assert assignment["principal_object_id"] == sp["object_id"]
    assert assignment["scope"] == scope
    assert abs(assignment["created"] - time.time()) < 300

    mine = listed(arca.cli_json("role", "assignments", "--principal", sp["client_id"]))
    assert [a["id"] for a in mine] == [assignment["id"]]
    at_scope = listed(arca.cli_json("role", "assignments", "--scope", scope))
    assert [a["id"] for a in at_scope] == [assignment["id"]]
    assert assignment["id"] in [a["id"] for a in listed(arca.cli_json("role", "assignments"))]
    table = arca.cli("role", "assignments", "--principal", sp["client_id"])
    assert table.returncode == 0 and "Key Vault Secrets User" in table.stdout, cli_failure(table)

    # the same triple again is a conflict; the principal by object id is the same principal
    assert_refused(arca.cli("role", "assign", "--role", "Key Vault Secrets User",
                            "--principal", sp["object_id"], "--scope", scope))
    resp = admin_api("POST", "/role-assignments", json={"role": "Key Vault Secrets User",
                                                        "principal": sp["client_id"], "scope": scope})
    assert resp.status_code == 409 and "RoleAssignmentExists" in error_codes(resp), describe(resp)

    proc = arca.cli("role", "unassign", assignment["id"])
    assert proc.returncode == 0, cli_failure(proc)
    assert listed(arca.cli_json("role", "assignments", "--principal", sp["client_id"])) == []
    assert_refused(arca.cli("role", "unassign", assignment["id"]))
    assert admin_api("DELETE", f"/role-assignments/{assignment['id']}").status_code == 404


def test_role_assignment_scopes(arca, make_principal, new_vault):
    sp = make_principal(secret=False)
    vault, _ = new_vault()
    accepted = [f"/vaults/{vault}/secrets/not-created-yet", f"/vaults/{vault}/keys/k1",
                f"/vaults/{vault}/certificates/c1", f"/vaults/{vault.upper()}"]
    for scope in accepted:
        got = arca.cli_json("role", "assign", "--role", "Key Vault Reader", "--principal", sp["client_id"],
                            "--scope", scope)
        assert got["scope"] == scope.lower(), "vault and object names are stored in lower case"
    refused = [f"/vaults/nosuch{uuid.uuid4().hex[:8]}", "/vaults", "/bogus", "vaults/" + vault,
               f"/vaults/{vault}/things/x", f"/vaults/{vault}/secrets", f"/vaults/{vault}/secrets/a/b", ""]
    for scope in refused:
        assert_refused(arca.cli("role", "assign", "--role", "Key Vault Reader", "--principal", sp["client_id"],
                                "--scope", scope))
    assert_refused(arca.cli("role", "assign", "--role", "No Such Role", "--principal", sp["client_id"],
                            "--scope", f"/vaults/{vault}"))
    assert_refused(arca.cli("role", "assign", "--role", "Key Vault Reader", "--principal", str(uuid.uuid4()),
                            "--scope", f"/vaults/{vault}"))
    assert len(listed(arca.cli_json("role", "assignments", "--principal", sp["client_id"]))) == len(accepted)


def test_role_check_reports_the_decision(arca, make_principal, new_vault, assign_role):
    sp = make_principal(secret=False)
    vault, _ = new_vault()
    assignment = assign_role("Key Vault Secrets User", sp, f"/vaults/{vault}")
    allowed = arca.cli_json("role", "check", "--principal", sp["client_id"], "--action", GET_SECRET,
                            "--scope", f"/vaults/{vault}/secrets/db-password")
    assert allowed["allowed"] is True, allowed
    assert allowed["role_assignment_id"] == assignment["id"]
    assert allowed["role_name"] == "Key Vault Secrets User"
    assert isinstance(allowed["reason"], str) and allowed["reason"]

    denied = arca.cli_json("role", "check", "--principal", sp["client_id"], "--action", SET_SECRET,
                           "--scope", f"/vaults/{vault}/secrets/db-password")
    assert denied["allowed"] is False, denied
    assert denied["role_assignment_id"] is None and denied["role_name"] is None
    assert isinstance(denied["reason"], str) and denied["reason"]

    table = arca.cli("role", "check", "--principal", sp["client_id"], "--action", GET_SECRET,
                     "--scope", f"/vaults/{vault}/secrets/db-password")
    assert table.returncode == 0, cli_failure(table)
    assert "allow" in table.stdout.lower(), table.stdout


# ---------------------------------------------------------------------------
# federated credentials
# ---------------------------------------------------------------------------


def test_federation_add_list_remove(arca, make_principal, tmp_path):
    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    fed = arca.cli_json("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                        "--subject", "system:serviceaccount:ns:sa", "--jwks-file", str(jwks))
    assert is_uuid(fed["id"])
    assert fed["principal_client_id"] == sp["client_id"]
    assert (fed["issuer"], fed["subject"]) == (issuer.issuer, "system:serviceaccount:ns:sa")
    assert fed["audiences"] == [idt.TOKEN_EXCHANGE_AUDIENCE]
    assert fed["jwks_url"] is None and fed["jwks_keys"] == 1
    assert abs(fed["created"] - time.time()) < 300

    two = arca.cli_json("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                        "--subject", "system:serviceaccount:ns:other", "--audience", "api://one",
                        "--audience", "api://two", "--jwks-file", str(jwks))
    assert two["audiences"] == ["api://one", "api://two"]
    mine = listed(arca.cli_json("federation", "list", "--principal", sp["client_id"]))
    assert sorted(f["id"] for f in mine) == sorted([fed["id"], two["id"]])
    table = arca.cli("federation", "list", "--principal", sp["client_id"])
    assert table.returncode == 0 and issuer.issuer in table.stdout, cli_failure(table)

    proc = arca.cli("federation", "remove", fed["id"])
    assert proc.returncode == 0, cli_failure(proc)
    assert [f["id"] for f in listed(arca.cli_json("federation", "list", "--principal", sp["client_id"]))] == [two["id"]]
    assert_refused(arca.cli("federation", "remove", fed["id"]))


def test_federations_listed_for_principal(arca, make_principal, tmp_path):
    """`federation list --principal` shows only that principal's federations."""
    a, b = make_principal(secret=False), make_principal(secret=False)
    issuer = idt.FakeIssuer()
    jwks = str(issuer.write_jwks(tmp_path / "jwks.json"))
    fa = arca.cli_json("federation", "add", "--principal", a["client_id"], "--issuer", issuer.issuer,
                       "--subject", "system:serviceaccount:ns:sa", "--jwks-file", jwks)
    arca.cli_json("federation", "add", "--principal", b["client_id"], "--issuer", issuer.issuer,
                  "--subject", "system:serviceaccount:ns:sa", "--jwks-file", jwks)
    assert [f["id"] for f in listed(arca.cli_json("federation", "list", "--principal", a["client_id"]))] == [fa["id"]]


def test_federation_add_refusals(arca, make_principal, tmp_path, admin_api):
    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    base = ["federation", "add", "--principal", sp["client_id"], "--subject", "system:serviceaccount:ns:sa"]
    assert_refused(arca.cli(*base, "--issuer", issuer.issuer))  # neither jwks source
    assert_refused(arca.cli(*base, "--issuer", issuer.issuer, "--jwks-file", str(jwks),
                            "--jwks-url", "https://127.0.0.1:1/keys"))  # both
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert_refused(arca.cli(*base, "--issuer", issuer.issuer, "--jwks-file", str(bad)))
    body = {"principal": sp["client_id"], "issuer": issuer.issuer, "subject": "s", "jwks": issuer.jwks(),
            "jwks_url": "https://127.0.0.1:1/keys"}
    resp = admin_api("POST", "/federated-credentials", json=body)
    assert resp.status_code == 400, describe(resp)
    resp = admin_api("POST", "/federated-credentials", json={"principal": sp["client_id"], "issuer": issuer.issuer,
                                                            "subject": "s", "jwks_url": "http://127.0.0.1:1/keys"})
    assert resp.status_code == 400, "a JWKS URL must be https\n" + describe(resp)
    resp = admin_api("POST", "/federated-credentials", json={"principal": str(uuid.uuid4()), "issuer": issuer.issuer,
                                                            "subject": "s", "jwks": issuer.jwks()})
    assert resp.status_code in (400, 404), describe(resp)
    assert listed(arca.cli_json("federation", "list", "--principal", sp["client_id"])) == []


def test_at_most_20_federated_credentials(make_principal, admin_api, arca):
    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    for i in range(20):
        resp = admin_api("POST", "/federated-credentials", json={"principal": sp["client_id"], "issuer": issuer.issuer,
                                                                "subject": f"sub-{i}", "jwks": issuer.jwks()})
        assert resp.status_code == 201, describe(resp)
    resp = admin_api("POST", "/federated-credentials", json={"principal": sp["client_id"], "issuer": issuer.issuer,
                                                            "subject": "sub-20", "jwks": issuer.jwks()})
    assert 400 <= resp.status_code < 500, describe(resp)
    assert len(listed(arca.cli_json("federation", "list", "--principal", sp["client_id"]))) == 20

# ---------------------------------------------------------------------------
# the token endpoint: hostile federated assertions
# ---------------------------------------------------------------------------

SUBJECT = "system:serviceaccount:payments:api"


@pytest.fixture
def federated(arca, make_principal, tmp_path):
    """A principal (no secret) trusting a fake external issuer through an inline JWK set."""
    sp = make_principal(secret=False)
    issuer = idt.FakeIssuer()
    arca.cli_json("federation", "add", "--principal", sp["client_id"], "--issuer", issuer.issuer,
                  "--subject", SUBJECT, "--jwks-file", str(issuer.write_jwks(tmp_path / "jwks.json")))
    return sp, issuer


def federated_form(assertion: str) -> Dict[str, str]:
    return {"client_assertion_type": idt.CLIENT_ASSERTION_TYPE, "client_assertion": assertion}


def test_federated_assertion_is_exchanged_for_a_token(federated, request_token, bootstrap, resource):
    sp, issuer = federated
    token = assert_token_issued(request_token(sp["client_id"], **federated_form(issuer.token(SUBJECT))))
    claims = idt.decode_jwt(token)["payload"]
    assert (claims["appid"], claims["oid"], claims["aud"]) == (sp["client_id"], sp["object_id"], resource)


def test_fractional_numeric_dates_are_accepted(federated, cert_principal, request_token, bootstrap):
    """RFC 7519 NumericDate may be non-integer, and MSAL Python (through PyJWT) sends iat and exp
    of a client assertion as floats (time.time() + 600)."""
    now = time.time() + 0.25
    sp, key, cert = cert_principal
    assertion = idt.client_assertion(key, cert, sp["client_id"], token_endpoint(bootstrap), now=now)
    assert isinstance(idt.decode_jwt(assertion)["payload"]["exp"], float)
    assert_token_issued(request_token(sp["client_id"], **cert_form(assertion)))
    fed_sp, issuer = federated
    token = issuer.token(SUBJECT, iat=now, nbf=now, exp=now + 3600.5)
    assert_token_issued(request_token(fed_sp["client_id"], **federated_form(token)))


def _hostile_federated(issuer: idt.FakeIssuer) -> Dict[str, str]:
    now = int(time.time())
    jwk = issuer.jwk()
    confusion = idt.key_confusion_secrets(jwk)
    header = {"alg": "RS256", "typ": "JWT", "kid": issuer.kid}
    good = issuer.claims(SUBJECT)
    head, body, sig = issuer.token(SUBJECT).split(".")
    return {
        "untrusted-issuer": idt.FakeIssuer().token(SUBJECT),
        "untrusted-issuer-same-key-and-kid": idt.FakeIssuer(key=issuer.key, kid=issuer.kid).token(SUBJECT),
        "wrong-subject": issuer.token("system:serviceaccount:payments:other"),
        "subject-prefix": issuer.token(SUBJECT[:-1]),
        "wrong-audience": issuer.token(SUBJECT, audience="api://SomethingElse"),
        "audience-missing": issuer.token(SUBJECT, audience=None),
        "expired": issuer.token(SUBJECT, iat=now - 3700, nbf=now - 3700, exp=now - 120),
        "not-yet-valid": issuer.token(SUBJECT, iat=now + 300, nbf=now + 300, exp=now + 3900),
        "no-expiry": issuer.token(SUBJECT, exp=None),
        "unknown-key-known-kid": issuer.token(SUBJECT, key=idt.new_rsa_key()),
        "unknown-kid": issuer.token(SUBJECT, header=dict(header, kid="not-" + issuer.kid)),
        "tampered-signature": f"{head}.{body}.{flip(sig, len(sig) // 2)}",
        "alg-none": idt.sign_jwt({"alg": "none", "typ": "JWT", "kid": issuer.kid}, good),
        "hs256-jwks-key-pem": idt.sign_jwt(dict(header, alg="HS256"), good, confusion["pem"]),
        "hs256-jwks-key-der": idt.sign_jwt(dict(header, alg="HS256"), good, confusion["der"]),
        "hs256-jwks-key-jwk": idt.sign_jwt(dict(header, alg="HS256"), good, confusion["jwk-json"]),
    }


HOSTILE_FEDERATED = ["untrusted-issuer", "untrusted-issuer-same-key-and-kid", "wrong-subject", "subject-prefix",
                     "wrong-audience", "audience-missing", "expired", "not-yet-valid", "no-expiry",
                     "unknown-key-known-kid", "unknown-kid", "tampered-signature", "alg-none",
                     "hs256-jwks-key-pem", "hs256-jwks-key-der", "hs256-jwks-key-jwk"]


@pytest.mark.parametrize("case", HOSTILE_FEDERATED)
def test_hostile_federated_assertion_is_refused(case, federated, request_token):
    sp, issuer = federated
    resp = request_token(sp["client_id"], **federated_form(_hostile_federated(issuer)[case]))
    assert_oauth_refused(resp)
    # the same principal still gets a token with a proper assertion (the refusal was about the assertion)
    assert_token_issued(request_token(sp["client_id"], **federated_form(issuer.token(SUBJECT))))


def test_federated_assertion_for_another_principal_is_refused(federated, make_principal, request_token):
    """An assertion trusted for principal A does not sign in as principal B."""
    _, issuer = federated
    other = make_principal(secret=False)
    assert_oauth_refused(request_token(other["client_id"], **federated_form(issuer.token(SUBJECT))))


def test_removed_federation_stops_new_tokens(arca, federated, request_token):
    sp, issuer = federated
    assert_token_issued(request_token(sp["client_id"], **federated_form(issuer.token(SUBJECT))))
    (fed,) = listed(arca.cli_json("federation", "list", "--principal", sp["client_id"]))
    proc = arca.cli("federation", "remove", fed["id"])
    assert proc.returncode == 0, cli_failure(proc)
    assert_oauth_refused(request_token(sp["client_id"], **federated_form(issuer.token(SUBJECT))))


# ---------------------------------------------------------------------------
# the token endpoint: hostile certificate assertions
# ---------------------------------------------------------------------------


@pytest.fixture
def cert_principal(arca, make_principal, tmp_path):
    """A principal with one registered self-signed RSA certificate: (principal, key, cert)."""
    sp = make_principal(secret=False)
    key = idt.new_rsa_key()
    cert = idt.self_signed_cert(key, f"arca-{sp['client_id'][:8]}")
    arca.cli_json("principal", "cert", "add", sp["client_id"],
                  str(idt.write_pem(tmp_path / "cert.pem", idt.cert_pem(cert))))
    return sp, key, cert


def cert_form(assertion: str) -> Dict[str, str]:
    return {"client_assertion_type": idt.CLIENT_ASSERTION_TYPE, "client_assertion": assertion}


@pytest.mark.parametrize("alg,thumbprints", [("PS256", ("x5t#S256",)), ("RS256", ("x5t",)),
                                             ("PS256", ("x5t#S256", "x5t"))],
                         ids=["PS256-x5t#S256-as-MSAL-python", "RS256-x5t-as-older-clients", "PS256-both"])
def test_certificate_assertion_is_exchanged_for_a_token(alg, thumbprints, cert_principal, request_token, bootstrap):
    sp, key, cert = cert_principal
    assertion = idt.client_assertion(key, cert, sp["client_id"], token_endpoint(bootstrap), alg=alg,
                                     thumbprints=thumbprints)
    token = assert_token_issued(request_token(sp["client_id"], **cert_form(assertion)))
    assert idt.decode_jwt(token)["payload"]["appid"] == sp["client_id"]


HOSTILE_CERTIFICATE = ["wrong-audience", "audience-is-the-resource", "expired", "not-yet-valid",
                       "other-key-with-registered-thumbprint", "other-key-rs256-with-registered-x5t",
                       "unregistered-certificate", "issuer-is-not-the-client", "alg-none", "hs256-with-public-key"]


@pytest.mark.parametrize("case", HOSTILE_CERTIFICATE)
def test_hostile_certificate_assertion_is_refused(case, cert_principal, request_token, bootstrap, resource):
    sp, key, cert = cert_principal
    endpoint = token_endpoint(bootstrap)
    cid = sp["client_id"]
    now = int(time.time())
    other_key = idt.new_rsa_key()
    stranger = idt.self_signed_cert(other_key, "stranger")
    good_claims = {"aud": endpoint, "iss": cid, "sub": cid, "jti": str(uuid.uuid4()), "iat": now, "nbf": now,
                   "exp": now + 600}
    header = {"alg": "PS256", "typ": "JWT", "x5t#S256": idt.x5t_s256(cert)}
    assertion = {
        "wrong-audience": lambda: idt.client_assertion(key, cert, cid, endpoint.replace("/oauth2/", "/other/")),
        "audience-is-the-resource": lambda: idt.client_assertion(key, cert, cid, resource),
        "expired": lambda: idt.client_assertion(key, cert, cid, endpoint, iat=now - 1200, nbf=now - 1200,
                                                exp=now - 120),
        "not-yet-valid": lambda: idt.client_assertion(key, cert, cid, endpoint, iat=now + 300, nbf=now + 300,
                                                      exp=now + 900),
        "other-key-with-registered-thumbprint": lambda: idt.sign_jwt(dict(header, x5t=idt.x5t(cert)), good_claims,
                                                                     other_key),
        "other-key-rs256-with-registered-x5t": lambda: idt.sign_jwt({"alg": "RS256", "typ": "JWT",
                                                                     "x5t": idt.x5t(cert)}, good_claims, other_key),
        "unregistered-certificate": lambda: idt.client_assertion(other_key, stranger, cid, endpoint),
        "issuer-is-not-the-client": lambda: idt.client_assertion(key, cert, cid, endpoint, iss=str(uuid.uuid4()),
                                                                 sub=str(uuid.uuid4())),
        "alg-none": lambda: idt.sign_jwt({"alg": "none", "typ": "JWT", "x5t#S256": idt.x5t_s256(cert)},
                                         good_claims),
        "hs256-with-public-key": lambda: idt.sign_jwt({"alg": "HS256", "typ": "JWT",
                                                       "x5t#S256": idt.x5t_s256(cert)}, good_claims,
                                                      idt.public_key_pem(key)),
    }[case]()
    assert_oauth_refused(request_token(cid, **cert_form(assertion)))
    # the refusal was about the assertion: a proper one still works
    assert_token_issued(request_token(cid, **cert_form(idt.client_assertion(key, cert, cid, endpoint))))


def test_certificate_of_another_principal_is_refused(cert_principal, make_principal, request_token, bootstrap):
    _, key, cert = cert_principal
    other = make_principal(secret=False)
    assertion = idt.client_assertion(key, cert, other["client_id"], token_endpoint(bootstrap))
    assert_oauth_refused(request_token(other["client_id"], **cert_form(assertion)))


# ---------------------------------------------------------------------------
# the token endpoint: repeated wrong client secrets
# ---------------------------------------------------------------------------


def test_repeated_wrong_secrets_lock_the_client_for_a_while(make_principal, request_token, bootstrap):
    victim = make_principal()
    bystander = make_principal()
    durations: List[float] = []
    for attempt in range(10):
        started = time.monotonic()
        resp = request_token(victim["client_id"], victim["secret"] + f"-wrong{attempt}")
        durations.append(time.monotonic() - started)
        assert resp.status_code == 401, f"attempt {attempt + 1}: {describe(resp)}"
        assert resp.json().get("error") == "invalid_client", describe(resp)
        assert "access_token" not in resp.json()
    assert max(durations) < 5, f"a wrong secret was answered after {max(durations):.1f}s (at most ~1 s of delay)"

    locked = request_token(victim["client_id"], victim["secret"])
    assert locked.status_code == 401, "the right secret was accepted right after 10 wrong ones\n" + describe(locked)
    body = locked.json()
    assert body.get("error") == "invalid_client" and "access_token" not in body, describe(locked)
    assert "lock" in body.get("error_description", "").lower(), \
        "the error_description must say the client is temporarily locked\n" + describe(locked)
    retry_after = locked.headers.get("Retry-After")
    assert retry_after is not None and retry_after.strip().isdigit() and int(retry_after) > 0, describe(locked)

    # other clients are not affected meanwhile
    assert_token_issued(request_token(bystander["client_id"], bystander["secret"]))
    assert_token_issued(request_token(bootstrap["client_id"], bootstrap["client_secret"]))


# ---------------------------------------------------------------------------
# access tokens: forged, for another audience, from another issuer
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_jwks(bootstrap, ca_cert) -> Dict[str, Any]:
    url = f"{bootstrap['authority_host'].rstrip('/')}/{bootstrap['tenant_id']}/discovery/v2.0/keys"
    resp = requests.get(url, verify=ca_cert, timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)
    return resp.json()


FORGED = ["alg-none", "hs256-server-key-pem", "hs256-server-key-pem-stripped", "hs256-server-key-der",
          "hs256-server-key-jwk", "hs256-server-key-jwk-sorted", "unknown-key-same-kid", "unknown-rsa-key-same-kid"]


@pytest.mark.parametrize("case", FORGED)
def test_forged_access_token_is_refused(case, token, server_jwks, vault_url, ca_cert, challenge, admin_api):
    header, payload = idt.decode_jwt(token)["header"], idt.decode_jwt(token)["payload"]
    (jwk,) = [k for k in server_jwks["keys"] if k.get("kid") == header.get("kid")] or [server_jwks["keys"][0]]
    confusion = idt.key_confusion_secrets(jwk)
    hs = dict(header, alg="HS256")
    forged = {
        "alg-none": lambda: idt.sign_jwt({"alg": "none", "typ": "JWT", "kid": header.get("kid")}, payload),
        "hs256-server-key-pem": lambda: idt.sign_jwt(hs, payload, confusion["pem"]),
        "hs256-server-key-pem-stripped": lambda: idt.sign_jwt(hs, payload, confusion["pem-stripped"]),
        "hs256-server-key-der": lambda: idt.sign_jwt(hs, payload, confusion["der"]),
        "hs256-server-key-jwk": lambda: idt.sign_jwt(hs, payload, confusion["jwk-json"]),
        "hs256-server-key-jwk-sorted": lambda: idt.sign_jwt(hs, payload, confusion["jwk-json-sorted"]),
        "unknown-key-same-kid": lambda: idt.sign_jwt(header, payload, idt.new_ec_key()),
        "unknown-rsa-key-same-kid": lambda: idt.sign_jwt(dict(header, alg="RS256"), payload, idt.new_rsa_key()),
    }[case]()
    assert_challenge(vault_get(vault_url, forged, ca_cert), challenge)
    resp = admin_api("GET", "/vaults", token=forged)
    assert_challenge(resp, challenge)
    assert vault_get(vault_url, token, ca_cert).status_code == 200  # the genuine token still works


def test_admin_api_without_token_gets_the_challenge(admin_api, challenge):
    for method, path in (("GET", "/principals"), ("POST", "/roles"), ("GET", "/role-assignments"),
                         ("POST", "/check-access"), ("GET", "/signing-keys"), ("PUT", "/network-rules")):
        assert_challenge(admin_api(method, path, token=None), challenge)


class ServeVariant(ArcaServer):
    """`arca serve` with another DNS suffix and/or issuer host (ArcaServer's command is fixed)."""

    def __init__(self, workdir: Path, *, dns_suffix: str = DNS_SUFFIX, issuer_host: Optional[str] = None,
                 **kwargs: Any) -> None:
        super().__init__(workdir, **kwargs)
        self.dns_suffix = dns_suffix
        self.issuer_host = issuer_host

    def command(self) -> List[str]:
        cmd = [self.binary, "serve", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}",
               "--dns-suffix", self.dns_suffix]
        if self.issuer_host:
            cmd += ["--issuer-host", self.issuer_host]
        return cmd

    @property
    def resource(self) -> str:
        return f"https://{self.dns_suffix}:{self.port}"

    def vault_url(self, vault: str) -> str:
        return f"https://{vault}.{self.dns_suffix}:{self.port}"

    def fresh_token(self) -> str:
        boot = self.bootstrap
        resp = requests.post(f"{boot['authority_host'].rstrip('/')}/{boot['tenant_id']}/oauth2/v2.0/token",
                             data={"grant_type": "client_credentials", "client_id": boot["client_id"],
                                   "client_secret": boot["client_secret"], "scope": f"{self.resource}/.default"},
                             verify=boot["ca_cert"], timeout=TIMEOUT)
        return assert_token_issued(resp)


def test_tokens_for_another_audience_or_issuer_are_refused(workdir, server_env):
    """Genuinely signed tokens (same data dir, same signing key) minted by a server with another
    DNS suffix (other `aud`) or another issuer host (other `iss`) on the same port are refused."""
    first = ServeVariant(workdir / "a", env=server_env)
    servers = [first]
    try:
        first.start()
        first.stop()
        copies = {}
        for label, kwargs in (("aud", {"dns_suffix": "othervault.localhost"}), ("iss", {"issuer_host": "127.0.0.1"})):
            server = ServeVariant(workdir / label, port=first.port, env=server_env, **kwargs)
            servers.append(server)
            shutil.copytree(first.data_dir, server.data_dir, dirs_exist_ok=True)
            server.start()
            copies[label] = server.fresh_token()
            server.stop()

        first.start()
        boot = first.bootstrap
        own = first.fresh_token()
        vault = first.vault_url("default")
        assert vault_get(vault, own, boot["ca_cert"]).status_code == 200
        jwks = requests.get(f"{boot['authority_host']}/{boot['tenant_id']}/discovery/v2.0/keys",
                            verify=boot["ca_cert"], timeout=TIMEOUT).json()
        kids = {k.get("kid") for k in jwks["keys"]}
        mine = idt.decode_jwt(own)["payload"]
        wrong_aud, wrong_iss = (idt.decode_jwt(copies["aud"]), idt.decode_jwt(copies["iss"]))
        # the premise: same signing key, exactly one claim differs
        for forged in (wrong_aud, wrong_iss):
            assert forged["header"].get("kid") in kids, "the copy signs with another key; the test proves nothing"
        assert wrong_aud["payload"]["aud"] != mine["aud"] and wrong_aud["payload"]["iss"] == mine["iss"], wrong_aud
        assert wrong_iss["payload"]["iss"] != mine["iss"] and wrong_iss["payload"]["aud"] == mine["aud"], wrong_iss

        challenge = (f'Bearer authorization="https://localhost:{first.port}/{boot["tenant_id"]}", '
                     f'resource="https://vault.localhost:{first.port}"')
        for label, forged_token in copies.items():
            resp = vault_get(vault, forged_token, boot["ca_cert"])
            assert resp.status_code == 401, f"token with the wrong {label} accepted\n{describe(resp)}"
            assert_challenge(resp, challenge)
            resp = requests.get(f"{boot['authority_host']}/admin/vaults", verify=boot["ca_cert"], timeout=TIMEOUT,
                                headers={"Authorization": f"Bearer {forged_token}"})
            assert resp.status_code == 401, f"admin API accepted a token with the wrong {label}\n{describe(resp)}"
    finally:
        for server in servers:
            server.kill()


def test_access_token_claims_name_the_principal(make_principal, request_token, bootstrap, resource, discovery_issuer):
    sp = make_principal()
    token = assert_token_issued(request_token(sp["client_id"], sp["secret"]))
    decoded = idt.decode_jwt(token)
    claims = decoded["payload"]
    assert claims["oid"] == sp["object_id"]
    assert claims["tid"] == bootstrap["tenant_id"]
    assert claims["appid"] == sp["client_id"]
    assert claims["azp"] == sp["client_id"]
    assert claims["aud"] == resource
    assert claims["iss"] == discovery_issuer
    assert decoded["header"].get("kid") and decoded["header"].get("alg") == "ES256"


@pytest.fixture(scope="module")
def discovery_issuer(bootstrap, ca_cert) -> str:
    url = f"{bootstrap['authority_host'].rstrip('/')}/{bootstrap['tenant_id']}/v2.0/.well-known/openid-configuration"
    resp = requests.get(url, verify=ca_cert, timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)
    return resp.json()["issuer"]


# ---------------------------------------------------------------------------
# signing keys
# ---------------------------------------------------------------------------


def test_signing_key_rotation_keeps_old_tokens_valid(arca, request_token, bootstrap, ca_cert, vault_url,
                                                     server_jwks):
    before = listed(arca.cli_json("signing-key", "list"))
    active = [k for k in before if k["active"]]
    assert len(active) == 1, before
    old_token = assert_token_issued(request_token(bootstrap["client_id"], bootstrap["client_secret"]))
    old_kid = idt.decode_jwt(old_token)["header"]["kid"]
    assert old_kid == active[0]["kid"]

    rotated_at = time.time()
    after = listed(arca.cli_json("signing-key", "rotate"))
    now_active = [k for k in after if k["active"]]
    assert len(now_active) == 1 and now_active[0]["kid"] != old_kid, after
    assert now_active[0]["retires"] is None
    (retired,) = [k for k in after if k["kid"] == old_kid]
    assert retired["active"] is False
    lifetime = int(idt.decode_jwt(old_token)["payload"]["exp"]) - int(idt.decode_jwt(old_token)["payload"]["iat"])
    assert retired["retires"] == pytest.approx(rotated_at + lifetime + 60, abs=30), retired
    assert listed(arca.cli_json("signing-key", "list")) == after
    table = arca.cli("signing-key", "list")
    assert table.returncode == 0 and now_active[0]["kid"] in table.stdout, cli_failure(table)

    new_token = assert_token_issued(request_token(bootstrap["client_id"], bootstrap["client_secret"]))
    assert idt.decode_jwt(new_token)["header"]["kid"] == now_active[0]["kid"]
    jwks = requests.get(f"{bootstrap['authority_host'].rstrip('/')}/{bootstrap['tenant_id']}/discovery/v2.0/keys",
                        verify=ca_cert, timeout=TIMEOUT).json()
    kids = [k.get("kid") for k in jwks["keys"]]
    assert old_kid in kids and now_active[0]["kid"] in kids, kids
    for key in jwks["keys"]:
        assert not ({"d", "p", "q", "k"} & set(key)), "JWKS leaks private key material"

    assert vault_get(vault_url, old_token, ca_cert).status_code == 200, "a token signed before the rotation"
    assert vault_get(vault_url, new_token, ca_cert).status_code == 200, "a token signed after the rotation"
