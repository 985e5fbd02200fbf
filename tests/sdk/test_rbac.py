"""Access control, part 3: Key Vault roles per vault and per object, judged through the SDK.

A fresh principal per test signs in with ClientSecretCredential and calls `SecretClient`; a
denial must surface as HttpResponseError 403 with error code `Forbidden`, inner code
`ForbiddenByRbac`, and a message naming the caller (appid=..;oid=..), the data action and the
resource. Covered: deny by default; one allowed and one denied operation for every built-in role
(key and certificate actions, whose APIs do not exist yet, through `arca role check`); a custom
role with a wildcard and a notDataAction; scope inheritance (`/`, vault, object) and its limits;
how fast unassigning and deleting a principal take effect; the admin API needing Key Vault
Administrator at `/`; the conflicts that protect role definitions and the last administrator.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Tuple

import pytest
import requests

from arca_harness import cli_failure, listed, describe, assert_refused, forbidden_by

API = "2026-04-01"
TIMEOUT = 30
KV = "Microsoft.KeyVault/vaults"
ACTIONS = {
    "get": f"{KV}/secrets/getSecret/action",
    "set": f"{KV}/secrets/setSecret/action",
    "list": f"{KV}/secrets/readMetadata/action",
    "versions": f"{KV}/secrets/readMetadata/action",
    "backup": f"{KV}/secrets/backup/action",
    "delete": f"{KV}/secrets/delete",
}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def vault_name(url: str) -> str:
    return url.split("://", 1)[1].split(".", 1)[0]


class Target:
    """A vault holding one secret (`existing`) and one to delete (`doomed`), both set by the
    bootstrap administrator."""

    def __init__(self, name: str, url: str, existing: str, doomed: str) -> None:
        self.name, self.url, self.existing, self.doomed = name, url, existing, doomed


@pytest.fixture
def target(new_vault, sdk_client, unique_name) -> Target:
    name, url = new_vault()
    admin = sdk_client(url)
    existing, doomed = unique_name("existing"), unique_name("doomed")
    admin.set_secret(existing, "existing-value")
    admin.set_secret(doomed, "doomed-value")
    return Target(name, url, existing, doomed)


def operation(op: str, client, target: Target, unique_name) -> Any:
    """Runs one secret operation through the SDK."""
    if op == "get":
        return client.get_secret(target.existing)
    if op == "set":
        return client.set_secret(unique_name("new"), "new-value")
    if op == "list":
        return list(client.list_properties_of_secrets())
    if op == "versions":
        return list(client.list_properties_of_secret_versions(target.existing))
    if op == "backup":
        return client.backup_secret(target.existing)
    if op == "delete":
        return client.begin_delete_secret(target.doomed).result()
    raise ValueError(op)


def forbidden(call: Callable[[], Any]) -> Tuple[Dict[str, Any], str]:
    """Runs `call`, which must fail with 403 Forbidden / ForbiddenByRbac; returns (body, message)."""
    body = forbidden_by("ForbiddenByRbac", call)
    return body, body["error"]["message"]


def assert_denial_names(message: str, principal: Dict[str, Any], action: str, *resource_parts: str) -> None:
    low = message.lower()
    assert f"appid={principal['client_id']}" in low, f"caller's appid missing from: {message}"
    assert f"oid={principal['object_id']}" in low, f"caller's oid missing from: {message}"
    assert action.lower() in low, f"action {action} missing from: {message}"
    for part in resource_parts:
        assert part.lower() in low, f"resource part {part!r} missing from: {message}"


def assert_denied(op: str, client, target: Target, principal: Dict[str, Any], unique_name) -> None:
    _, message = forbidden(lambda: operation(op, client, target, unique_name))
    parts = [target.name]
    if op in ("get", "versions", "backup"):
        parts.append(target.existing)
    if op == "delete":
        parts.append(target.doomed)
    assert_denial_names(message, principal, ACTIONS[op], *parts)


def role_check(arca, principal: Dict[str, Any], action: str, scope: str) -> Dict[str, Any]:
    return arca.cli_json("role", "check", "--principal", principal["client_id"], "--action", action, "--scope", scope)


def admin_status(admin_api, token: str) -> Tuple[int, Dict[str, Any]]:
    resp = admin_api("GET", "/vaults", token=token)
    return resp.status_code, (resp.json() if resp.content else {})


def principal_token(principal: Dict[str, Any], request_token) -> str:
    resp = request_token(principal["client_id"], principal["secret"])
    assert resp.status_code == 200, describe(resp)
    return resp.json()["access_token"]


def poll(fn: Callable[[], bool], limit: float, interval: float = 0.1) -> float:
    """Calls fn until it returns True; returns the seconds taken; fails after `limit`."""
    started = time.monotonic()
    while not fn():
        if time.monotonic() - started > limit:
            raise AssertionError(f"condition not met within {limit}s")
        time.sleep(interval)
    return time.monotonic() - started


def raw_get(url: str, token: str, verify: str, path: str) -> requests.Response:
    return requests.get(f"{url}{path}", params={"api-version": API}, headers={"Authorization": f"Bearer {token}"},
                        verify=verify, timeout=TIMEOUT)


# ---------------------------------------------------------------------------
# deny by default
# ---------------------------------------------------------------------------


def test_principal_without_assignment_is_denied_everything(make_principal, principal_client, target, unique_name,
                                                           admin_api, request_token, arca):
    sp = make_principal()
    client = principal_client(sp, target.url)
    for op in ("get", "set", "list", "versions", "backup", "delete"):
        assert_denied(op, client, target, sp, unique_name)
    # no existence oracle: a missing secret is forbidden too, not 404
    _, message = forbidden(lambda: client.get_secret(unique_name("missing")))
    assert_denial_names(message, sp, ACTIONS["get"], target.name)
    status, body = admin_status(admin_api, principal_token(sp, request_token))
    assert status == 403 and body["error"]["innererror"]["code"] == "ForbiddenByRbac", body
    assert_refused(arca.cli("vault", "list", extra_env={"ARCA_CLIENT_ID": sp["client_id"],
                                                        "ARCA_CLIENT_SECRET": sp["secret"]}))


def test_denial_changes_nothing(make_principal, principal_client, target, unique_name, sdk_client):
    sp = make_principal()
    client = principal_client(sp, target.url)
    forbidden(lambda: client.set_secret(target.existing, "overwritten"))
    forbidden(lambda: client.begin_delete_secret(target.existing))
    admin = sdk_client(target.url)
    assert admin.get_secret(target.existing).value == "existing-value"
    assert len(list(admin.list_properties_of_secret_versions(target.existing))) == 1


# ---------------------------------------------------------------------------
# built-in roles at vault scope
# ---------------------------------------------------------------------------

# role -> (operations allowed, operations denied) at vault scope, through the SDK
SECRET_OPERATIONS = {
    "Key Vault Administrator": (["set", "get", "list", "backup", "delete"], []),
    "Key Vault Secrets Officer": (["set", "get", "list", "versions", "backup", "delete"], []),
    "Key Vault Secrets User": (["get", "list", "versions"], ["set", "backup", "delete"]),
    "Key Vault Reader": (["list", "versions"], ["get", "set", "delete"]),
    "Key Vault Certificate User": (["get", "list"], ["set", "delete"]),
    "Key Vault Crypto Officer": ([], ["get", "set", "list"]),
    "Key Vault Crypto User": ([], ["get", "set", "list"]),
    "Key Vault Crypto Service Encryption User": ([], ["get", "set"]),
    "Key Vault Certificates Officer": ([], ["get", "set", "list"]),
}

# role -> (actions allowed, actions denied) on /vaults/<v>/<kind>/<name>, through `arca role check`
OBJECT_ACTIONS = {
    "Key Vault Crypto Officer": ([("keys", "keys/create/action"), ("keys", "keys/delete"),
                                  ("keys", "keyrotationpolicies/write")],
                                 [("secrets", "secrets/getSecret/action"), ("certificates", "certificates/read")]),
    "Key Vault Crypto User": ([("keys", "keys/sign/action"), ("keys", "keys/read"), ("keys", "keys/encrypt/action")],
                              [("keys", "keys/delete"), ("keys", "keys/create/action")]),
    "Key Vault Crypto Service Encryption User": ([("keys", "keys/wrap/action"), ("keys", "keys/unwrap/action"),
                                                  ("keys", "keys/read")],
                                                 [("keys", "keys/sign/action"), ("keys", "keys/decrypt/action")]),
    "Key Vault Certificates Officer": ([("certificates", "certificates/create/action"),
                                        ("certificates", "certificates/delete"),
                                        ("certificates", "certificatecas/read")],
                                       [("keys", "keys/sign/action"), ("secrets", "secrets/getSecret/action")]),
    "Key Vault Certificate User": ([("certificates", "certificates/read"), ("keys", "keys/read")],
                                   [("certificates", "certificates/create/action"), ("keys", "keys/sign/action")]),
    "Key Vault Reader": ([("keys", "keys/read"), ("certificates", "certificates/read")],
                         [("keys", "keys/sign/action"), ("secrets", "secrets/getSecret/action")]),
    "Key Vault Secrets User": ([("secrets", "secrets/getSecret/action")], [("keys", "keys/read")]),
    "Key Vault Secrets Officer": ([("secrets", "secrets/purge/action")], [("keys", "keys/read")]),
    "Key Vault Administrator": ([("keys", "keys/sign/action"), ("certificates", "certificates/create/action")], []),
}


@pytest.mark.parametrize("role", list(SECRET_OPERATIONS))
def test_built_in_role_at_vault_scope(role, make_principal, assign_role, principal_client, target, unique_name,
                                      admin_api, request_token, arca):
    sp = make_principal()
    assignment = assign_role(role, sp, f"/vaults/{target.name}")
    client = principal_client(sp, target.url)
    allowed, denied = SECRET_OPERATIONS[role]
    for op in allowed:
        operation(op, client, target, unique_name)
    for op in denied:
        assert_denied(op, client, target, sp, unique_name)

    for kind_, action in OBJECT_ACTIONS[role][0]:
        decision = role_check(arca, sp, f"{KV}/{action}", f"/vaults/{target.name}/{kind_}/k1")
        assert decision["allowed"] is True, f"{role} should allow {action}: {decision}"
        assert decision["role_assignment_id"] == assignment["id"] and decision["role_name"] == role, decision
    for kind_, action in OBJECT_ACTIONS[role][1]:
        decision = role_check(arca, sp, f"{KV}/{action}", f"/vaults/{target.name}/{kind_}/k1")
        assert decision["allowed"] is False, f"{role} should deny {action}: {decision}"

    # no role at vault scope opens the admin API, Key Vault Administrator included
    status, body = admin_status(admin_api, principal_token(sp, request_token))
    assert status == 403 and body["error"]["innererror"]["code"] == "ForbiddenByRbac", body


def test_administrator_at_root_opens_the_admin_api(make_principal, assign_role, admin_api, request_token, arca,
                                                   new_vault):
    officer, admin = make_principal(), make_principal()
    assign_role("Key Vault Secrets Officer", officer, "/")
    assign_role("Key Vault Administrator", admin, "/")
    status, body = admin_status(admin_api, principal_token(officer, request_token))
    assert status == 403 and body["error"]["innererror"]["code"] == "ForbiddenByRbac", body
    status, body = admin_status(admin_api, principal_token(admin, request_token))
    assert status == 200 and isinstance(body.get("value"), list), body

    as_officer = {"ARCA_CLIENT_ID": officer["client_id"], "ARCA_CLIENT_SECRET": officer["secret"]}
    as_admin = {"ARCA_CLIENT_ID": admin["client_id"], "ARCA_CLIENT_SECRET": admin["secret"]}
    assert_refused(arca.cli("principal", "list", extra_env=as_officer))
    names = [p["client_id"] for p in listed(arca.cli_json("principal", "list", extra_env=as_admin))]
    assert admin["client_id"] in names
    # a vault made by the bootstrap principal is visible to the other administrator
    name, _ = new_vault()
    assert arca.cli_json("vault", "show", name, extra_env=as_admin)["name"] == name


def test_wrong_cli_credentials_are_refused(make_principal, arca):
    sp = make_principal()
    assert_refused(arca.cli("vault", "list", extra_env={"ARCA_CLIENT_ID": sp["client_id"],
                                                        "ARCA_CLIENT_SECRET": sp["secret"] + "x"}))


# ---------------------------------------------------------------------------
# custom roles and scopes
# ---------------------------------------------------------------------------


def test_custom_role_with_wildcard_and_not_data_action(arca, make_principal, assign_role, principal_client, target,
                                                       unique_name):
    role = arca.cli_json("role", "define", "--name", unique_name("No Deletes"),
                         "--data-action", f"{KV}/secrets/*", "--not-data-action", f"{KV}/secrets/delete")
    sp = make_principal()
    assign_role(role["name"], sp, f"/vaults/{target.name}")
    client = principal_client(sp, target.url)
    for op in ("set", "get", "list", "backup"):
        operation(op, client, target, unique_name)
    assert_denied("delete", client, target, sp, unique_name)
    decision = role_check(arca, sp, f"{KV}/secrets/purge/action", f"/vaults/{target.name}/secrets/x")
    assert decision["allowed"] is True
    decision = role_check(arca, sp, f"{KV}/keys/read", f"/vaults/{target.name}/keys/x")
    assert decision["allowed"] is False


def test_custom_role_actions_compare_case_insensitively(arca, make_principal, assign_role, principal_client, target,
                                                        unique_name):
    role = arca.cli_json("role", "define", "--name", unique_name("Lower Case Getters"),
                         "--data-action", "microsoft.keyvault/VAULTS/secrets/GETSECRET/action")
    sp = make_principal()
    assign_role(role["name"], sp, f"/vaults/{target.name}")
    client = principal_client(sp, target.url)
    operation("get", client, target, unique_name)
    assert_denied("set", client, target, sp, unique_name)


def test_update_alone_reads_no_value(arca, make_principal, assign_role, principal_client, request_token, target,
                                    unique_name, ca_cert):
    """A principal whose only data action is secrets/update/action changes a secret's properties
    but never sees its value: not in the update's answer (Key Vault's has none) and not by a get."""
    update = f"{KV}/secrets/update/action"
    role = arca.cli_json("role", "define", "--name", unique_name("Updaters"), "--data-action", update)
    sp = make_principal()
    assign_role(role["name"], sp, f"/vaults/{target.name}")
    client = principal_client(sp, target.url)
    props = client.update_secret_properties(target.existing, content_type="text/plain", tags={"by": "updater"})
    assert props.content_type == "text/plain" and props.tags == {"by": "updater"}
    # The raw answer, as the SDK's model would hide a `value` member.
    token = principal_token(sp, request_token)
    for path in (f"/secrets/{target.existing}", f"/secrets/{target.existing}/{props.version}"):
        resp = requests.patch(f"{target.url}{path}", params={"api-version": API},
                              headers={"Authorization": f"Bearer {token}"}, json={"tags": {"by": "raw"}},
                              verify=ca_cert, timeout=TIMEOUT)
        assert resp.status_code == 200, describe(resp)
        body = resp.json()
        assert "value" not in body and body["tags"] == {"by": "raw"}, body
        assert "existing-value" not in resp.text
    _, message = forbidden(lambda: client.get_secret(target.existing))
    assert_denial_names(message, sp, ACTIONS["get"], target.name, target.existing)
    assert raw_get(target.url, token, ca_cert, f"/secrets/{target.existing}").status_code == 403


def test_assignment_at_root_covers_every_vault(make_principal, assign_role, principal_client, new_vault,
                                               sdk_client, unique_name):
    sp = make_principal()
    assign_role("Key Vault Secrets User", sp, "/")
    for _ in range(2):
        _, url = new_vault()
        name = unique_name("root")
        sdk_client(url).set_secret(name, "everywhere")
        assert principal_client(sp, url).get_secret(name).value == "everywhere"


def test_assignment_on_one_vault_does_not_reach_another(make_principal, assign_role, principal_client, new_vault,
                                                        sdk_client, unique_name):
    sp = make_principal()
    (granted, granted_url), (other, other_url) = new_vault(), new_vault()
    assign_role("Key Vault Secrets Officer", sp, f"/vaults/{granted}")
    name = unique_name("scoped")
    principal_client(sp, granted_url).set_secret(name, "mine")
    sdk_client(other_url).set_secret(name, "theirs")
    client = principal_client(sp, other_url)
    _, message = forbidden(lambda: client.get_secret(name))
    assert_denial_names(message, sp, ACTIONS["get"], other, name)
    forbidden(lambda: client.set_secret(name, "overwrite"))
    forbidden(lambda: list(client.list_properties_of_secrets()))


def test_object_scope_assignment(make_principal, assign_role, principal_client, target, unique_name, arca,
                                 sdk_client):
    sp = make_principal()
    other = unique_name("other")
    sdk_client(target.url).set_secret(other, "not yours")
    assignment = assign_role("Key Vault Secrets User", sp, f"/vaults/{target.name}/secrets/{target.existing}")
    client = principal_client(sp, target.url)
    assert client.get_secret(target.existing).value == "existing-value"
    _, message = forbidden(lambda: client.get_secret(other))
    assert_denial_names(message, sp, ACTIONS["get"], target.name, other)
    # listing the vault's secrets needs vault scope, as in Azure
    _, message = forbidden(lambda: list(client.list_properties_of_secrets()))
    assert_denial_names(message, sp, ACTIONS["list"], target.name)
    forbidden(lambda: client.set_secret(target.existing, "changed"))  # the role does not allow it anywhere
    decision = role_check(arca, sp, ACTIONS["get"], f"/vaults/{target.name}/secrets/{target.existing}")
    assert decision["allowed"] is True and decision["role_assignment_id"] == assignment["id"], decision
    assert role_check(arca, sp, ACTIONS["get"], f"/vaults/{target.name}/secrets/{other}")["allowed"] is False
    assert role_check(arca, sp, ACTIONS["list"], f"/vaults/{target.name}")["allowed"] is False


def test_object_scope_assignment_before_the_object_exists(make_principal, assign_role, principal_client, target,
                                                          unique_name):
    sp = make_principal()
    future = unique_name("future")
    assign_role("Key Vault Secrets Officer", sp, f"/vaults/{target.name}/secrets/{future}")
    client = principal_client(sp, target.url)
    assert client.set_secret(future, "made by the assignee").value == "made by the assignee"
    assert client.get_secret(future.upper()).value == "made by the assignee"  # names are case-insensitive
    forbidden(lambda: client.set_secret(unique_name("elsewhere"), "no"))


# ---------------------------------------------------------------------------
# changes take effect
# ---------------------------------------------------------------------------


def test_unassigning_takes_effect_within_seconds(arca, make_principal, assign_role, request_token, target,
                                                 ca_cert):
    sp = make_principal()
    assignment = assign_role("Key Vault Secrets User", sp, f"/vaults/{target.name}")
    token = principal_token(sp, request_token)
    path = f"/secrets/{target.existing}"
    assert raw_get(target.url, token, ca_cert, path).status_code == 200
    proc = arca.cli("role", "unassign", assignment["id"])
    assert proc.returncode == 0, cli_failure(proc)
    took = poll(lambda: raw_get(target.url, token, ca_cert, path).status_code == 403, limit=5)
    print(f"unassignment effective after {took:.2f}s")
    resp = raw_get(target.url, token, ca_cert, path)
    assert resp.json()["error"]["innererror"]["code"] == "ForbiddenByRbac", describe(resp)


def test_assigning_takes_effect_within_seconds(arca, make_principal, assign_role, request_token, target, ca_cert):
    sp = make_principal()
    token = principal_token(sp, request_token)
    path = f"/secrets/{target.existing}"
    assert raw_get(target.url, token, ca_cert, path).status_code == 403
    assign_role("Key Vault Secrets User", sp, f"/vaults/{target.name}")
    poll(lambda: raw_get(target.url, token, ca_cert, path).status_code == 200, limit=5)


def test_deleting_a_principal_ends_its_access(arca, make_principal, assign_role, request_token, target, ca_cert):
    sp = make_principal()
    assign_role("Key Vault Secrets User", sp, f"/vaults/{target.name}")
    token = principal_token(sp, request_token)
    path = f"/secrets/{target.existing}"
    assert raw_get(target.url, token, ca_cert, path).status_code == 200
    proc = arca.cli("principal", "delete", sp["client_id"])
    assert proc.returncode == 0, cli_failure(proc)
    took = poll(lambda: raw_get(target.url, token, ca_cert, path).status_code == 401, limit=60, interval=0.5)
    print(f"token of the deleted principal refused after {took:.2f}s")
    remaining = [a for a in listed(arca.cli_json("role", "assignments", "--scope", f"/vaults/{target.name}"))
                 if a["principal_client_id"] == sp["client_id"]]
    assert remaining == [], "deleting a principal leaves its role assignments behind"
    resp = request_token(sp["client_id"], sp["secret"])
    assert resp.status_code in (400, 401) and "access_token" not in resp.json(), describe(resp)


def test_role_in_use_cannot_be_deleted(arca, make_principal, assign_role, new_vault, unique_name, admin_api):
    role = arca.cli_json("role", "define", "--name", unique_name("In Use"), "--data-action", ACTIONS["get"])
    sp = make_principal(secret=False)
    name, _ = new_vault()
    assignment = assign_role(role["name"], sp, f"/vaults/{name}")
    assert_refused(arca.cli("role", "delete", role["name"]))
    resp = admin_api("DELETE", f"/roles/{role['id']}")
    error = resp.json()["error"]
    assert resp.status_code == 409, describe(resp)
    assert "RoleDefinitionHasAssignments" in (error["code"], (error.get("innererror") or {}).get("code")), \
        describe(resp)
    assert arca.cli_json("role", "show", role["id"])["name"] == role["name"]
    proc = arca.cli("role", "unassign", assignment["id"])
    assert proc.returncode == 0, cli_failure(proc)
    proc = arca.cli("role", "delete", role["name"])
    assert proc.returncode == 0, cli_failure(proc)
    assert_refused(arca.cli("role", "show", role["id"]))


def test_deleting_a_vault_removes_its_assignments(arca, make_principal, assign_role, new_vault):
    sp = make_principal(secret=False)
    name, _ = new_vault()
    assign_role("Key Vault Secrets User", sp, f"/vaults/{name}")
    assign_role("Key Vault Secrets User", sp, f"/vaults/{name}/secrets/one")
    proc = arca.vault_cli("delete", name)
    assert proc.returncode == 0, cli_failure(proc)
    assert listed(arca.cli_json("role", "assignments", "--principal", sp["client_id"])) == []


# ---------------------------------------------------------------------------
# the last administrator (on a server of its own: the session server's
# administrators change as other tests run)
# ---------------------------------------------------------------------------


def test_last_root_administrator_cannot_be_removed(private_server):
    server = private_server
    boot = server.bootstrap
    verify = boot["ca_cert"]
    (root_admin,) = [a for a in listed(server.cli_json("role", "assignments", "--scope", "/"))
                     if a["role_name"] == "Key Vault Administrator"]
    assert root_admin["principal_client_id"] == boot["client_id"]

    def admin_token(client_id: str, secret: str) -> str:
        resp = requests.post(f"{boot['authority_host']}/{boot['tenant_id']}/oauth2/v2.0/token", verify=verify,
                             timeout=TIMEOUT, data={"grant_type": "client_credentials", "client_id": client_id,
                                                    "client_secret": secret,
                                                    "scope": f"{server.resource}/.default"})
        assert resp.status_code == 200, describe(resp)
        return resp.json()["access_token"]

    def delete(path: str, token: str) -> requests.Response:
        return requests.delete(f"{boot['authority_host']}/admin{path}", verify=verify, timeout=TIMEOUT,
                               headers={"Authorization": f"Bearer {token}"})

    token = admin_token(boot["client_id"], boot["client_secret"])
    assert_refused(server.cli("role", "unassign", root_admin["id"]))
    resp = delete(f"/role-assignments/{root_admin['id']}", token)
    assert resp.status_code == 409, describe(resp)
    assert_refused(server.cli("principal", "delete", boot["client_id"]))
    resp = delete(f"/principals/{boot['client_id']}", token)
    assert resp.status_code == 409, describe(resp)

    # an administrator of one vault does not count
    helper = server.cli_json("principal", "create", "vault-admin")
    helper_secret = server.cli_json("principal", "secret", "add", helper["client_id"])["secret"]
    server.cli_json("role", "assign", "--role", "Key Vault Administrator", "--principal", helper["client_id"],
                    "--scope", "/vaults/default")
    assert_refused(server.cli("role", "unassign", root_admin["id"]))

    # with a second administrator at "/" the first may go; then the second is the last one
    second = server.cli_json("role", "assign", "--role", "Key Vault Administrator", "--principal",
                             helper["client_id"], "--scope", "/")
    proc = server.cli("role", "unassign", root_admin["id"])
    assert proc.returncode == 0, cli_failure(proc)
    as_helper = {"ARCA_CLIENT_ID": helper["client_id"], "ARCA_CLIENT_SECRET": helper_secret}
    poll(lambda: server.cli("principal", "list").returncode != 0, limit=5)  # bootstrap lost the admin API
    assert server.cli_json("principal", "list", extra_env=as_helper)
    assert_refused(server.cli("role", "unassign", second["id"], extra_env=as_helper))
    resp = delete(f"/role-assignments/{second['id']}", admin_token(helper["client_id"], helper_secret))
    assert resp.status_code == 409, describe(resp)
