"""The official Azure SDK for JavaScript against a real `arca serve`, from Node (20 or later).

The npm packages pinned in tests/js/package-lock.json (@azure/keyvault-secrets 4.12 and, under the
npm alias keyvault-secrets-4.11, 4.11; @azure/identity 4.13) are installed with `npm ci` into
<target>/js-clients, again only when the lock file or the Node version changes. The scripts
(tests/js/*.mjs, *.cjs and docs/examples/javascript.mjs) are copied beside that node_modules and
run there by `node`, with the connection details in environment variables and Arca's CA in
NODE_EXTRA_CA_CERTS; each test checks the exit status and the steps printed.

tests/js/secrets_suite.mjs runs every secret operation (set, get latest and by version, update
properties, list, list versions, delete with its poller, get deleted, list deleted, recover with
its poller, purge, backup, restore) with:
  - ClientSecretCredential (authorityHost = Arca, disableInstanceDiscovery), against the default
    vault at https://localhost:PORT (no DNS needed; challenge-resource verification off there) and
    against a vault at https://NAME.vault.localhost:PORT (verification on; the machine's resolver
    need not know *.localhost: tests/js/resolve-localhost.cjs answers it inside Node);
  - ManagedIdentityCredential and DefaultAzureCredential through the App Service endpoint
    (IDENTITY_ENDPOINT + IDENTITY_HEADER) and through IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST, the
    variable @azure/identity 4.13 and MSAL for Node read), as a managed identity made with
    `arca principal create --managed-identity` and given Key Vault Secrets Officer on the vault.

The servers here are the test module's own, with the default managed-identity settings (neither
endpoint serves the administrator), so the session server's vaults are not touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from arca_harness import REPO_ROOT, ArcaServer, started_server

JS_SOURCES = REPO_ROOT / "tests" / "js"
JS_EXAMPLE = REPO_ROOT / "docs" / "examples" / "javascript.mjs"
SUITE_STEPS = (
    "setSecret", "getSecret latest", "getSecret by version", "updateSecretProperties",
    "listPropertiesOfSecrets", "listPropertiesOfSecretVersions", "backupSecret", "beginDeleteSecret",
    "getDeletedSecret", "listDeletedSecrets", "beginRecoverDeletedSecret", "purgeDeletedSecret",
    "restoreSecretBackup", "cleanup",
)
NODE_TIMEOUT = 120
INSTALL_TIMEOUT = 600
# Variables of the outer environment that would change what a credential does.
_CREDENTIAL_VARS = re.compile(r"^(AZURE_|IDENTITY_|MSI_|IMDS_ENDPOINT$|NODE_OPTIONS$|NODE_EXTRA_CA_CERTS$)")


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target").resolve()


def node_version(node: str) -> str:
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=True,
                          stdin=subprocess.DEVNULL).stdout.strip()


def install_js_clients() -> Path:
    """`npm ci` of tests/js into <target>/js-clients unless the same lock file and Node version
    were installed there already; returns the directory the scripts run from."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm (Node 20 or later) are needed for the JavaScript SDK tests")
    version = node_version(node)
    major = int(version.lstrip("v").split(".")[0])
    assert major >= 20, f"Node {version} is too old; the Azure SDK for JavaScript needs 20 or later"
    home = target_dir() / "js-clients"
    lock = (JS_SOURCES / "package-lock.json").read_bytes()
    want = hashlib.sha256(lock + (JS_SOURCES / "package.json").read_bytes() + version.encode()).hexdigest()
    stamp = home / ".installed.sha256"
    have = stamp.read_text().strip() if stamp.exists() else ""
    if want != have or not (home / "node_modules").is_dir():
        home.mkdir(parents=True, exist_ok=True)
        stamp.unlink(missing_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(JS_SOURCES / name, home / name)
        started = time.monotonic()
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=home, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL,
            env=dict(os.environ, npm_config_update_notifier="false"))
        assert proc.returncode == 0, f"npm ci failed ({proc.returncode})\n{proc.stdout}\n{proc.stderr}"
        print(f"npm ci into {home}: {time.monotonic() - started:.1f}s")
        stamp.write_text(want + "\n")
    scripts = home / "src"
    scripts.mkdir(exist_ok=True)
    for source in [*JS_SOURCES.glob("*.mjs"), *JS_SOURCES.glob("*.cjs"), JS_EXAMPLE]:
        shutil.copyfile(source, scripts / source.name)
    return scripts


@pytest.fixture(scope="module")
def js_dir() -> Path:
    return install_js_clients()


@pytest.fixture(scope="module")
def js_server(default_identity_env) -> Iterator[ArcaServer]:
    with started_server("arca-js-", default_identity_env) as server:
        yield server


@pytest.fixture(scope="module")
def js_vault(js_server: ArcaServer) -> str:
    """A vault of its own, reached at https://js-vault.vault.localhost:PORT."""
    proc = js_server.vault_cli("create", "js-vault")
    assert proc.returncode == 0, proc.stderr
    return js_server.vault_url("js-vault")


@pytest.fixture(scope="module")
def js_identity(js_server: ArcaServer) -> str:
    """Client id of a managed identity that may manage the default vault's secrets."""
    mi = js_server.cli_json("principal", "create", "js-workload", "--managed-identity")
    js_server.cli_json("role", "assign", "--role", "Key Vault Secrets Officer", "--principal", mi["client_id"],
                       "--scope", "/vaults/default")
    return mi["client_id"]


def node_env(server: ArcaServer, extra: Dict[str, str]) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _CREDENTIAL_VARS.match(k)}
    env["NODE_EXTRA_CA_CERTS"] = server.ca_cert
    env.update(extra)
    return env


def run_node(cwd: Path, script: str, env: Dict[str, str],
             preload: Optional[str] = None) -> subprocess.CompletedProcess:
    args: List[str] = ["node"]
    if preload:
        args += ["--require", f"./{preload}"]
    args.append(script)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=NODE_TIMEOUT,
                          stdin=subprocess.DEVNULL)


def node_failure(proc: subprocess.CompletedProcess) -> str:
    return f"node exited {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


def assert_suite_passed(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, node_failure(proc)
    done = [line[3:] for line in proc.stdout.splitlines() if line.startswith("ok ")]
    assert done == list(SUITE_STEPS), node_failure(proc)
    assert f"PASS {len(SUITE_STEPS)} steps" in proc.stdout, node_failure(proc)


def administrator_vars(server: ArcaServer) -> Dict[str, str]:
    """The AZURE_* variables that sign in as the bootstrap administrator with its client secret."""
    boot = server.bootstrap
    return {"AZURE_TENANT_ID": boot["tenant_id"], "AZURE_CLIENT_ID": boot["client_id"],
            "AZURE_CLIENT_SECRET": boot["client_secret"], "AZURE_AUTHORITY_HOST": boot["authority_host"]}


def service_principal_env(server: ArcaServer) -> Dict[str, str]:
    return {"ARCA_CREDENTIAL": "client_secret", **administrator_vars(server)}


def issuer_origin(server: ArcaServer) -> str:
    return f"https://localhost:{server.port}"


SDKS = ("4.12", "4.11")

# The first test of the module runs `npm ci` (under 10 s with a warm npm cache, more on a slow
# network); pytest.ini's 120 s per test would cut a slow install off.
pytestmark = pytest.mark.timeout(INSTALL_TIMEOUT + NODE_TIMEOUT)


@pytest.mark.parametrize("sdk", SDKS)
def test_client_secret_default_vault_at_issuer_origin(js_dir, js_server, sdk):
    env = node_env(js_server, {**service_principal_env(js_server), "ARCA_SDK": sdk,
                               "ARCA_VAULT_URL": issuer_origin(js_server)})
    assert_suite_passed(run_node(js_dir, "secrets_suite.mjs", env))


@pytest.mark.parametrize("sdk", SDKS)
def test_client_secret_vault_host_name(js_dir, js_server, js_vault, sdk):
    env = node_env(js_server, {**service_principal_env(js_server), "ARCA_SDK": sdk, "ARCA_VAULT_URL": js_vault})
    assert_suite_passed(run_node(js_dir, "secrets_suite.mjs", env, preload="resolve-localhost.cjs"))


def managed_identity_env(server: ArcaServer, route: str) -> Dict[str, str]:
    if route == "app_service":
        return {"IDENTITY_ENDPOINT": server.bootstrap["identity_endpoint"],
                "IDENTITY_HEADER": server.bootstrap["identity_header"]}
    if route == "imds":
        return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": issuer_origin(server)}
    raise ValueError(route)


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("route", ("app_service", "imds"))
@pytest.mark.parametrize("credential", ("managed_identity", "default"))
def test_managed_identity(js_dir, js_server, js_identity, credential, route, sdk):
    extra = {**managed_identity_env(js_server, route), "ARCA_SDK": sdk, "ARCA_CREDENTIAL": credential,
             "ARCA_VAULT_URL": issuer_origin(js_server)}
    if credential == "managed_identity":
        extra["ARCA_MI_CLIENT_ID"] = js_identity
    else:
        # DefaultAzureCredential passes AZURE_CLIENT_ID to its ManagedIdentityCredential
        # (EnvironmentCredential stays unavailable: no tenant, no secret).
        extra["AZURE_CLIENT_ID"] = js_identity
    started = time.monotonic()
    proc = run_node(js_dir, "secrets_suite.mjs", node_env(js_server, extra))
    assert_suite_passed(proc)
    # MSAL retries an endpoint that answers 404 for about 20 s; a working one answers at once.
    assert time.monotonic() - started < 20, f"took {time.monotonic() - started:.1f}s\n{node_failure(proc)}"


def readme_example_env(server: ArcaServer) -> Dict[str, str]:
    """The variables docs/examples/javascript.mjs names, NODE_EXTRA_CA_CERTS among them."""
    return node_env(server, {**administrator_vars(server), "AZURE_KEYVAULT_URL": issuer_origin(server)})


def test_readme_example(js_dir, js_server):
    """docs/examples/javascript.mjs, as the README quotes it, with the variables it names."""
    proc = run_node(js_dir, JS_EXAMPLE.name, readme_example_env(js_server))
    assert proc.returncode == 0, node_failure(proc)
    assert "greeting = hello from JavaScript" in proc.stdout.splitlines(), node_failure(proc)
    assert re.search(r"^listed greeting, updated \d{4}-\d\d-\d\dT[\d:.]+Z$", proc.stdout, re.M), node_failure(proc)


def test_without_the_ca_node_refuses_the_server(js_dir, js_server):
    """The trust comes from NODE_EXTRA_CA_CERTS: without it the same example fails on TLS."""
    env = readme_example_env(js_server)
    del env["NODE_EXTRA_CA_CERTS"]
    proc = run_node(js_dir, JS_EXAMPLE.name, env)
    assert proc.returncode != 0, node_failure(proc)
    assert "certificate" in (proc.stdout + proc.stderr).lower(), node_failure(proc)
