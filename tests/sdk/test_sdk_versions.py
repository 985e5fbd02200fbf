"""Backward compatibility: every secret operation with one azure-keyvault-secrets release per
Key Vault api-version, from 4.0 (7.0) to 4.12 (2026-04-01), each with the azure-identity and
azure-core of its day (exact pins in tests/sdk/compat/secrets-*.txt; 4.12 is this suite's own
venv), each signed in by DefaultAzureCredential:

  - environment: EnvironmentCredential from AZURE_TENANT_ID / AZURE_CLIENT_ID /
    AZURE_CLIENT_SECRET / AZURE_AUTHORITY_HOST. azure-identity 1.3 does not read
    AZURE_AUTHORITY_HOST: for it the authority is passed as DefaultAzureCredential(authority=...).
    From azure-identity 1.5 the synchronous client-secret credential goes through MSAL, which first
    asks login.microsoftonline.com whether any other authority is valid (instance discovery);
    azure-identity 1.13 added DefaultAzureCredential(disable_instance_discovery=True), which the
    script passes there. With 1.5 to 1.12 (azure-keyvault-secrets 4.3, 4.4, 4.7 of their day) this
    route cannot work against any authority but Microsoft's: those cases check that the client
    failed for exactly that reason, before any request reached Arca, and are reported as xfail;
  - managed_identity: the App Service endpoint with the protocol that release's azure-identity
    speaks: 2017-09-01 (MSI_ENDPOINT / MSI_SECRET, header `secret`) before azure-identity 1.9,
    2019-08-01 (IDENTITY_ENDPOINT / IDENTITY_HEADER) from 1.9 on;
  - msi_fallback (azure-identity 1.9 and later): only MSI_ENDPOINT / MSI_SECRET set, which current
    azure-identity answers with its 2017-09-01 client.

Each release lives in its own venv, so the operations run in a subprocess
(tests/sdk/compat/secret_ops.py) by that venv's python, against a vault of their own. The route
is checked on the wire: the requests the subprocess sent are recorded and compared.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "compat"))

import venvs  # noqa: E402

SCRIPT = HERE / "compat" / "secret_ops.py"
CURRENT = "4.12"
API_VERSIONS = {
    "4.0": "7.0", "4.2": "7.1", "4.3": "7.2", "4.4": "7.3", "4.7": "7.4", "4.8": "7.5", "4.10": "7.6",
    "4.11": "2025-07-01", "4.12": "2026-04-01",
}
RUN_TIMEOUT = 240
# azure-identity releases whose synchronous EnvironmentCredential always runs MSAL's instance
# discovery (no way to turn it off): [from, to).
MSAL_DISCOVERY_ONLY = ((1, 5), (1, 13))


def _pinned(pins: Path, dist: str) -> Tuple[int, ...]:
    for line in pins.read_text().splitlines():
        m = re.match(rf"^{re.escape(dist)}==([0-9.]+)\s*$", line.strip(), re.IGNORECASE)
        if m:
            return tuple(int(x) for x in m.group(1).split("."))
    raise AssertionError(f"{pins} pins no {dist}")


def _pins(release: str) -> Path:
    return HERE / "requirements.txt" if release == CURRENT else venvs.releases()[release]


def _cases() -> List:
    cases = []
    for release in [*venvs.releases(), CURRENT]:
        identity = _pinned(_pins(release), "azure-identity")
        routes = ["environment", "managed_identity"] + (["msi_fallback"] if identity >= (1, 9) else [])
        cases += [pytest.param(release, route, id=f"{release}-{route}") for route in routes]
    return cases


def test_every_release_has_an_expected_api_version():
    assert set(API_VERSIONS) == {*venvs.releases(), CURRENT}
    assert _pinned(HERE / "requirements.txt", "azure-keyvault-secrets")[:2] == (4, 12)


def _client_env(boot: Dict, route: str, identity: Tuple[int, ...], home: str) -> Dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,  # no shared token cache, no az or VS Code sign-in
        "SSL_CERT_FILE": os.environ["SSL_CERT_FILE"],
        "REQUESTS_CA_BUNDLE": os.environ["REQUESTS_CA_BUNDLE"],
        "NO_PROXY": "localhost,127.0.0.1,::1,.localhost",
        "no_proxy": "localhost,127.0.0.1,::1,.localhost",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if route == "environment":
        env.update(AZURE_TENANT_ID=boot["tenant_id"], AZURE_CLIENT_ID=boot["client_id"],
                   AZURE_CLIENT_SECRET=boot["client_secret"], AZURE_AUTHORITY_HOST=boot["authority_host"])
        if identity < (1, 4):
            # azure-identity 1.3 takes the authority as a host name, and only as an argument.
            env["ARCA_COMPAT_AUTHORITY"] = boot["authority_host"].split("://", 1)[1].rstrip("/")
        if identity >= (1, 13):
            env["ARCA_COMPAT_DISABLE_INSTANCE_DISCOVERY"] = "1"
    elif route == "msi_fallback" or (route == "managed_identity" and identity < (1, 9)):
        env.update(MSI_ENDPOINT=boot["msi_endpoint"], MSI_SECRET=boot["msi_secret"])
    elif route == "managed_identity":
        env.update(IDENTITY_ENDPOINT=boot["identity_endpoint"], IDENTITY_HEADER=boot["identity_header"])
    else:
        raise ValueError(route)
    return env


def _python(release: str, env: Dict[str, str]) -> str:
    if release == CURRENT:
        return sys.executable
    venvs.ensure(release, env)
    return str(venvs.venv_python(release))


@pytest.mark.timeout(RUN_TIMEOUT + 600)  # the first run may install the release's venv
@pytest.mark.parametrize("release,route", _cases())
def test_secret_operations(release, route, bootstrap, make_vault, unique_name, server_env):
    identity = _pinned(_pins(release), "azure-identity")
    python = _python(release, server_env)
    vault_url = make_vault()
    with tempfile.TemporaryDirectory(prefix="arca-compat-home-") as home:
        env = _client_env(bootstrap, route, identity, home)
        proc = subprocess.run([python, str(SCRIPT), vault_url, unique_name("compat")], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        pytest.fail(f"{release}/{route}: the script printed no report (exit {proc.returncode})\n"
                    f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-6000:]}")

    legacy_msi = "MSI_ENDPOINT" in env
    failed = [s for s in report["steps"] if not s["ok"]]
    if route == "environment" and MSAL_DISCOVERY_ONLY[0] <= identity < MSAL_DISCOVERY_ONLY[1]:
        _expect_instance_discovery_failure(release, report, bootstrap)
    if failed:
        first = failed[0]
        hint = ""
        if legacy_msi:
            hint = ("\nThis route uses the App Service protocol 2017-09-01 (MSI_ENDPOINT/MSI_SECRET, header "
                    "`secret`, `clientid`); Arca must serve it at the identity endpoint (issue 10, item 11).")
            if "invalid literal for int()" in first["error"]:
                hint += ("\nWith MSI_* alone this azure-identity goes through MSAL's Azure ML client, which reads "
                         "the 2017-09-01 expires_on only as epoch seconds; the App Service clients of "
                         "azure-identity 1.3 to 1.8 read epoch seconds too (before the date form).")
        pytest.fail(f"azure-keyvault-secrets {release} via {route} ({report['packages']}): "
                    f"{len(failed)} of {len(report['steps'])} steps failed; first: {first['step']}: "
                    f"{first['error']}{hint}\n{first.get('traceback', '')}\n--- stderr ---\n{proc.stderr[-3000:]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report["packages"]["azure-keyvault-secrets"].startswith(release + "."), report["packages"]

    vault_host = vault_url.split("://", 1)[1].split(":", 1)[0]
    vault_requests = [r for r in report["requests"] if r[1] == vault_host]
    assert {r[3] for r in vault_requests} == {API_VERSIONS[release]}, vault_requests
    token_requests = [r for r in report["requests"] if r[1] != vault_host]
    identity_path = bootstrap["identity_endpoint"].split("://", 1)[1].split("/", 1)[1]
    to_issuer = [r for r in token_requests if r[2].endswith("/oauth2/v2.0/token")]
    to_identity = [r for r in token_requests if r[2] == "/" + identity_path]
    if route == "environment":
        assert to_issuer and not to_identity, token_requests
    else:
        assert to_identity and not to_issuer, token_requests
        assert {r[3] for r in to_identity} == {"2017-09-01" if legacy_msi else "2019-08-01"}, to_identity


def _expect_instance_discovery_failure(release: str, report: Dict, boot: Dict) -> None:
    """The client's known limit: MSAL's instance discovery at login.microsoftonline.com fails (no
    such network here; with one, Microsoft answers invalid_instance for any other authority), and
    no token request ever reaches Arca. Anything else is a failure of this test."""
    steps = report["steps"]
    authority = boot["authority_host"].split("://", 1)[1].split(":", 1)[0]
    to_microsoft = [r for r in report["requests"] if r[1] == "login.microsoftonline.com"]
    to_issuer = [r for r in report["requests"] if r[1] == authority and r[2].endswith("/token")]
    assert all(not s["ok"] for s in steps), f"{release}: some steps passed; update MSAL_DISCOVERY_ONLY: {steps}"
    assert "ClientAuthenticationError" in steps[0]["error"], steps[0]
    assert to_microsoft and "discovery" in to_microsoft[0][2], report["requests"]
    assert not to_issuer, report["requests"]
    pytest.xfail(f"azure-identity {report['packages']['azure-identity']}: synchronous EnvironmentCredential "
                 "asks login.microsoftonline.com to validate any other authority (MSAL instance discovery, "
                 "no switch before azure-identity 1.13); use managed identity or a newer azure-identity")
