"""Access control, part 4: network rules (the vault firewall and the admin API's own rules).

Every caller here comes from 127.0.0.1. A vault whose rules deny by default and do not list that
address answers an authenticated request with 403 `Forbidden` / `ForbiddenByFirewall` (after
the 401 challenge, so the SDK handshake still runs); listing 127.0.0.1 or 127.0.0.0/8 lets it in
again; `--default-action allow` clears; other vaults are unaffected. The admin API's own rules
are changed on a server of their own: rules that would lock out the caller are refused with 409,
malformed rules with 400.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

import pytest
import requests

from arca_harness import ArcaServer, cli_failure, describe, assert_refused, forbidden_by

API = "2026-04-01"
TIMEOUT = 30
EFFECT_LIMIT = 5.0

INVALID_RULES = ["10.0.0.0/33", "10.0.0.1/8", "300.1.1.1", "10.0.0", "abc", "", "10.0.0.0/-1", "10.0.0.0/",
                 "::/129", "2001:db8::1/32", "10.0.0.0/8 ", "http://10.0.0.1"]


def same_rules(shown: List[str], given: List[str]) -> bool:
    """Rule lists are equal if each bare address may be shown with its /32 or /128."""

    def norm(rule: str) -> str:
        if "/" in rule:
            return rule.lower()
        return rule.lower() + ("/128" if ":" in rule else "/32")

    return sorted(map(norm, shown)) == sorted(map(norm, given))


def poll(fn: Callable[[], bool], limit: float = EFFECT_LIMIT, interval: float = 0.1) -> None:
    started = time.monotonic()
    while not fn():
        if time.monotonic() - started > limit:
            raise AssertionError(f"condition not met within {limit}s")
        time.sleep(interval)


def firewall_error(call: Callable[[], Any]) -> Dict[str, Any]:
    """Runs `call`, which must fail with 403 Forbidden / ForbiddenByFirewall; returns the body."""
    return forbidden_by("ForbiddenByFirewall", call)


def vault_rules(server: ArcaServer, vault: str, default_action: str, *allow: str) -> Dict[str, Any]:
    args = ["vault", "network-rules", "set", vault, "--default-action", default_action]
    for rule in allow:
        args += ["--allow", rule]
    return server.cli_json(*args)


def unauthenticated(url: str, verify: str) -> requests.Response:
    return requests.get(f"{url}/secrets", params={"api-version": API}, verify=verify, timeout=TIMEOUT)


@pytest.fixture
def outcome(token, ca_cert):
    """outcome(url) -> "ok" for a 200 to GET /secrets with the administrator's token, else the
    inner error code (or the status). Rule changes are awaited with it before the SDK judges."""

    def check(url: str) -> str:
        resp = requests.get(f"{url}/secrets", params={"api-version": API, "maxresults": 1}, verify=ca_cert,
                            headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
        if resp.status_code == 200:
            return "ok"
        try:
            return resp.json()["error"]["innererror"]["code"]
        except (ValueError, KeyError, TypeError):
            return str(resp.status_code)

    return check


# ---------------------------------------------------------------------------
# vault network rules
# ---------------------------------------------------------------------------


def test_vault_firewall_denies_then_admits_loopback(arca, new_vault, sdk_client, unique_name, ca_cert, make_principal,
                                                    assign_role, principal_client, outcome):
    name, url = new_vault()
    other_name, other_url = new_vault()
    secret = unique_name("walled")
    sdk_client(url).set_secret(secret, "behind the wall")
    sdk_client(other_url).set_secret(secret, "open")
    officer = make_principal()
    assign_role("Key Vault Secrets Officer", officer, f"/vaults/{name}")

    assert arca.cli_json("vault", "network-rules", "show", name) == {"default_action": "Allow", "ip_rules": []}
    shown = vault_rules(arca, name, "deny", "10.0.0.0/8")
    assert shown == {"default_action": "Deny", "ip_rules": ["10.0.0.0/8"]}
    assert arca.cli_json("vault", "network-rules", "show", name) == shown
    table = arca.cli("vault", "network-rules", "show", name)
    assert table.returncode == 0 and "10.0.0.0/8" in table.stdout and "deny" in table.stdout.lower(), \
        cli_failure(table)

    poll(lambda: outcome(url) == "ForbiddenByFirewall")
    # the SDK's handshake still works (401 challenge first), then the firewall refuses
    resp = unauthenticated(url, ca_cert)
    assert resp.status_code == 401 and resp.headers.get("WWW-Authenticate", "").startswith("Bearer "), describe(resp)
    client = sdk_client(url)
    body = firewall_error(lambda: client.get_secret(secret))
    assert "127.0.0.1" in body["error"]["message"], body
    firewall_error(lambda: client.set_secret(secret, "changed"))
    firewall_error(lambda: list(client.list_properties_of_secrets()))
    firewall_error(lambda: principal_client(officer, url).get_secret(secret))  # applies to every principal

    # another vault without rules is unaffected
    assert sdk_client(other_url).get_secret(secret).value == "open"

    for admitted in (["127.0.0.1"], ["10.0.0.0/8", "127.0.0.0/8"]):
        shown = vault_rules(arca, name, "Deny", *admitted)
        assert shown["default_action"] == "Deny" and same_rules(shown["ip_rules"], admitted), shown
        poll(lambda: outcome(url) == "ok")
        assert sdk_client(url).get_secret(secret).value == "behind the wall"

    vault_rules(arca, name, "deny", "192.0.2.0/24")
    poll(lambda: outcome(url) == "ForbiddenByFirewall")
    firewall_error(lambda: sdk_client(url).get_secret(secret))
    cleared = vault_rules(arca, name, "allow")
    assert cleared == {"default_action": "Allow", "ip_rules": []}
    poll(lambda: outcome(url) == "ok")
    assert sdk_client(url).get_secret(secret).value == "behind the wall"


def test_allow_with_rules_admits_everyone(arca, new_vault, sdk_client, unique_name):
    name, url = new_vault()
    shown = vault_rules(arca, name, "allow", "10.0.0.0/8")
    assert shown["default_action"] == "Allow" and shown["ip_rules"] == ["10.0.0.0/8"]
    sdk_client(url).set_secret(unique_name("open"), "v")


def test_vault_network_rules_are_validated(arca, new_vault, admin_api):
    name, _ = new_vault()
    for rule in INVALID_RULES:
        assert_refused(arca.cli("vault", "network-rules", "set", name, "--default-action", "deny", "--allow", rule,
                                "--output", "json"))
        resp = admin_api("PUT", f"/vaults/{name}/network-rules", json={"default_action": "Deny", "ip_rules": [rule]})
        assert resp.status_code == 400, f"{rule!r}: {describe(resp)}"
    for body in ({"default_action": "Maybe", "ip_rules": []}, {"default_action": "Deny", "ip_rules": "10.0.0.0/8"},
                 {"default_action": "Deny", "ip_rules": [17]},
                 {"default_action": "Deny", "ip_rules": [], "virtual_network_rules": []}):
        resp = admin_api("PUT", f"/vaults/{name}/network-rules", json=body)
        assert resp.status_code == 400, f"{body}: {describe(resp)}"
        assert resp.json()["error"]["code"] == "BadParameter", describe(resp)
    assert_refused(arca.cli("vault", "network-rules", "set", name, "--default-action", "sometimes"))
    assert arca.cli_json("vault", "network-rules", "show", name) == {"default_action": "Allow", "ip_rules": []}


def test_vault_network_rules_accept_ipv6_and_any_case(arca, new_vault, admin_api):
    name, _ = new_vault()
    resp = admin_api("PUT", f"/vaults/{name}/network-rules",
                     json={"default_action": "aLLoW", "ip_rules": ["2001:db8::/32", "192.0.2.7", "127.0.0.0/8"]})
    assert resp.status_code == 200, describe(resp)
    assert resp.json()["default_action"] == "Allow"
    assert same_rules(resp.json()["ip_rules"], ["2001:db8::/32", "192.0.2.7", "127.0.0.0/8"]), resp.json()
    got = admin_api("GET", f"/vaults/{name}/network-rules")
    assert got.status_code == 200 and got.json() == resp.json(), describe(got)


def test_at_most_1000_network_rules(new_vault, admin_api):
    name, _ = new_vault()
    rules = [f"10.{i // 250}.{i % 250}.0/24" for i in range(1001)]
    resp = admin_api("PUT", f"/vaults/{name}/network-rules", json={"default_action": "Deny", "ip_rules": rules})
    assert resp.status_code == 400, describe(resp)
    resp = admin_api("PUT", f"/vaults/{name}/network-rules",
                     json={"default_action": "Deny", "ip_rules": rules[:999] + ["127.0.0.1"]})
    assert resp.status_code == 200, describe(resp)
    assert len(resp.json()["ip_rules"]) == 1000


def test_network_rules_of_unknown_vault(arca, admin_api):
    assert_refused(arca.cli("vault", "network-rules", "show", "nosuchvault0042"))
    resp = admin_api("GET", "/vaults/nosuchvault0042/network-rules")
    error = resp.json()["error"]
    assert resp.status_code == 404 and "VaultNotFound" in (error["code"], (error.get("innererror") or {}).get("code")), \
        describe(resp)


def test_deleting_a_vault_removes_its_network_rules(arca, make_vault, sdk_client, unique_name, outcome):
    name = f"fw{unique_name('x').split('-')[1]}"
    make_vault(name)
    vault_rules(arca, name, "deny", "10.0.0.0/8")
    proc = arca.vault_cli("delete", name)
    assert proc.returncode == 0, cli_failure(proc)
    url = make_vault(name)
    assert arca.cli_json("vault", "network-rules", "show", name) == {"default_action": "Allow", "ip_rules": []}
    poll(lambda: outcome(url) == "ok")
    sdk_client(url).set_secret(unique_name("reborn"), "v")


# ---------------------------------------------------------------------------
# the admin API's own rules (a server of its own: a mistake here would lock
# every other test out)
# ---------------------------------------------------------------------------


def private_admin(server: ArcaServer):
    """(call(method, path, **kwargs) -> response of the private server's admin API, token)."""
    boot = server.bootstrap
    resp = requests.post(f"{boot['authority_host']}/{boot['tenant_id']}/oauth2/v2.0/token", verify=boot["ca_cert"],
                         timeout=TIMEOUT, data={"grant_type": "client_credentials", "client_id": boot["client_id"],
                                                "client_secret": boot["client_secret"],
                                                "scope": f"{server.resource}/.default"})
    assert resp.status_code == 200, describe(resp)
    token = resp.json()["access_token"]

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{boot['authority_host']}/admin{path}", verify=boot["ca_cert"],
                                timeout=TIMEOUT, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call, token


def test_admin_network_rules_refuse_to_lock_out_the_caller(private_server):
    server = private_server
    admin, _ = private_admin(server)
    open_rules = {"default_action": "Allow", "ip_rules": []}
    assert server.cli_json("admin", "network-rules", "show") == open_rules

    assert_refused(server.cli("admin", "network-rules", "set", "--default-action", "deny", "--allow", "10.0.0.0/8"))
    for rules in (["10.0.0.0/8"], [], ["127.0.0.2"], ["::1"]):
        resp = admin("PUT", "/network-rules", json={"default_action": "Deny", "ip_rules": rules})
        assert resp.status_code == 409 and resp.json()["error"]["code"] == "Conflict", f"{rules}: {describe(resp)}"
    assert server.cli_json("admin", "network-rules", "show") == open_rules
    assert admin("GET", "/vaults").status_code == 200

    for rule in INVALID_RULES:
        resp = admin("PUT", "/network-rules", json={"default_action": "Deny", "ip_rules": ["127.0.0.1", rule]})
        assert resp.status_code == 400, f"{rule!r}: {describe(resp)}"
    assert_refused(server.cli("admin", "network-rules", "set", "--default-action", "deny", "--allow", "10.0.0.0/33"))

    # rules that keep the caller in are accepted, and the admin API keeps working
    shown = server.cli_json("admin", "network-rules", "set", "--default-action", "deny", "--allow", "127.0.0.1",
                            "--allow", "10.0.0.0/8")
    assert shown["default_action"] == "Deny" and same_rules(shown["ip_rules"], ["127.0.0.1", "10.0.0.0/8"]), shown
    assert admin("GET", "/vaults").status_code == 200
    assert server.cli_json("admin", "network-rules", "show") == shown
    # admin rules are not vault rules: the data plane is unaffected
    assert server.cli_json("vault", "network-rules", "show", "default") == open_rules
    cleared = server.cli_json("admin", "network-rules", "set", "--default-action", "allow")
    assert cleared == open_rules


def test_vault_rules_do_not_close_the_admin_api(private_server):
    server = private_server
    shown = server.cli_json("vault", "network-rules", "set", "default", "--default-action", "deny",
                            "--allow", "10.0.0.0/8")
    assert shown["default_action"] == "Deny"
    admin, token = private_admin(server)
    assert admin("GET", "/vaults").status_code == 200
    boot = server.bootstrap
    resp = requests.get(f"{boot['vault_url']}/secrets", params={"api-version": API}, verify=boot["ca_cert"],
                        headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert resp.status_code == 403 and resp.json()["error"]["innererror"]["code"] == "ForbiddenByFirewall", \
        describe(resp)
