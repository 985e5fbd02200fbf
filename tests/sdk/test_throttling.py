"""Throttling: the official SecretClient, with its DEFAULT retry policy, recovers from Key Vault's
429 `Throttled` answers.

A server of its own runs with throttling on (the session server's is off, see conftest's
SERVER_ENV), and its `default` vault is set through the CLI to 0.01 of Key Vault's limits: 3
secret sets and 40 other secret operations per 10 seconds. A burst of set_secret calls then
outruns the limit; each refused call is answered 429 with `Retry-After`, which azure-core's
RetryPolicy honours (for any method), so every call succeeds. The server's log shows that 429s
were served; the vault's other budget (reads) is untouched by the sets.
"""

from __future__ import annotations

import re
import time
from contextlib import closing
from typing import Any, Dict

import pytest

from arca_harness import cli_failure, started_server

BURST = 5


@pytest.fixture
def throttled_server(server_env: Dict[str, str], add_trusted_ca):
    env = dict(server_env, ARCA_THROTTLE="on")
    with started_server("arca-throttle-", env, trust=add_trusted_ca) as server:
        proc = server.cli("vault", "update", "default", "--throttle", "0.01", "--output", "json")
        assert proc.returncode == 0, cli_failure(proc)
        yield server


def _client(server):
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    boot: Dict[str, Any] = server.bootstrap
    credential = ClientSecretCredential(boot["tenant_id"], boot["client_id"], boot["client_secret"],
                                        authority=boot["authority_host"], disable_instance_discovery=True)
    # No retry settings given: the SDK's default policy is the one under test.
    return credential, SecretClient(server.vault_url("default"), credential)


def test_cli_shows_the_vaults_limits(throttled_server):
    shown = throttled_server.cli_json("vault", "throttling", "default")
    assert shown["enabled"] is True and shown["source"] == "vault", shown
    assert shown["limits"]["secret_create"] == 3, shown
    assert shown["limits"]["secret_other"] == 40, shown
    # Another vault has the deployment's setting: Key Vault's limits.
    proc = throttled_server.cli("vault", "create", "other")
    assert proc.returncode == 0, cli_failure(proc)
    other = throttled_server.cli_json("vault", "throttling", "other")
    assert other["source"] == "deployment" and other["limits"]["secret_create"] == 300, other


def test_default_retry_policy_recovers_from_throttling(throttled_server):
    credential, client = _client(throttled_server)
    with closing(credential), closing(client):
        started = time.monotonic()
        for i in range(BURST):
            secret = client.set_secret(f"burst-{i}", f"value-{i}")
            assert secret.value == f"value-{i}"
        elapsed = time.monotonic() - started
        # Every secret is there, read back within the other budget.
        for i in range(BURST):
            assert client.get_secret(f"burst-{i}").value == f"value-{i}"
    log = throttled_server.all_output()
    throttled = len(re.findall(r"request throttled", log))
    assert throttled >= 1, "no request was throttled:\n" + log[-4000:]
    # 3 sets per 10 seconds: the burst of 5 had to wait for budget, as Retry-After told it.
    assert elapsed >= 3.0, f"the burst took only {elapsed:.1f}s"
    statuses = re.findall(r"status=(\d{3})", log)
    assert "429" in statuses, "no 429 in the request log"
