"""Session harness: one `arca serve` for the whole test session.

Order matters here:
  1. At import (stdlib only): *.localhost -> 127.0.0.1 for this process.
  2. pytest_configure (before test modules are collected, so before azure,
     aiohttp or requests are imported): start the server, wait for
     bootstrap.json and /healthz, then point SSL_CERT_FILE and
     REQUESTS_CA_BUNDLE at a CA bundle holding Arca's CA (aiohttp builds its
     default SSL context at import time; requests/MSAL read
     REQUESTS_CA_BUNDLE per request), set IDENTITY_ENDPOINT/IDENTITY_HEADER
     (App Service managed identity) and remove AZURE_* and proxy variables
     inherited from the outer environment.
  3. pytest_unconfigure: SIGTERM the server.

Clients are built with default options only: SecretClient(vault_url, credential).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from contextlib import ExitStack, closing
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from arca_harness import (  # noqa: E402
    ArcaServer,
    ArcaStartError,
    cli_failure,
    install_localhost_resolver,
    started_server,
)

install_localhost_resolver()

# The environment as the test run received it; servers started by tests get
# this one, not the one rewritten for the SDK clients below.
SERVER_ENV: Dict[str, str] = dict(os.environ)
# The session server's managed-identity endpoints serve the bootstrap principal when a request
# names no identity, as an Azure VM or App Service with a system-assigned identity does. Both are
# the operator's explicit choice: by default neither endpoint serves the administrator (see
# test_managed_identity_defaults.py, which runs servers without these settings).
SERVER_ENV["ARCA_IMDS_IDENTITY"] = "bootstrap"
SERVER_ENV["ARCA_APP_SERVICE_IDENTITY"] = "bootstrap"
# The suite sends many requests a second to a few vaults (key tests alone create more than Key
# Vault's 20 keys per 10 seconds), so the session server does not throttle; test_throttling.py
# runs a server of its own with throttling on.
SERVER_ENV["ARCA_THROTTLE"] = "off"

CREDENTIAL_KINDS = ("client_secret", "default")

_MANAGED_IDENTITY_VARS = (
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT",
    "MSI_ENDPOINT", "MSI_SECRET",
)
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy")


class _Session:
    server: Optional[ArcaServer] = None
    workdir: Optional[Path] = None
    ca_bundle: Optional[Path] = None
    exitstatus: int = 0


_S = _Session()


def _stop_quietly() -> None:
    if _S.server is not None and _S.server.running():
        try:
            _S.server.stop()
        except Exception as exc:  # noqa: BLE001 - best effort at exit
            sys.stderr.write(f"arca harness: {exc}\n")


atexit.register(_stop_quietly)


def trust_ca(pem_path: str) -> None:
    """Append a CA certificate to the bundle named by SSL_CERT_FILE/REQUESTS_CA_BUNDLE.

    requests reads the bundle for every new connection pool, so this also works
    after import; aiohttp's context is fixed at import (only the session CA)."""
    assert _S.ca_bundle is not None
    pem = Path(pem_path).read_text(encoding="ascii")
    with open(_S.ca_bundle, "a", encoding="ascii") as bundle:
        bundle.write("\n" + pem.strip() + "\n")


def _configure_client_environment(boot: Dict[str, Any], bundle: Path) -> None:
    for key in list(os.environ):
        if key.startswith("AZURE_") or key in _MANAGED_IDENTITY_VARS or key.lower() in _PROXY_VARS:
            del os.environ[key]
    os.environ.pop("CURL_CA_BUNDLE", None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "localhost,127.0.0.1,::1,.localhost"
    os.environ["SSL_CERT_FILE"] = str(bundle)
    os.environ["REQUESTS_CA_BUNDLE"] = str(bundle)
    os.environ["IDENTITY_ENDPOINT"] = boot["identity_endpoint"]
    os.environ["IDENTITY_HEADER"] = boot["identity_header"]


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("help", False) or config.getoption("collectonly", False):
        return
    if "azure" in sys.modules or "aiohttp" in sys.modules:
        pytest.exit("arca harness: azure/aiohttp were imported before the server started; "
                    "TLS trust would not apply", returncode=3)
    workdir = Path(tempfile.mkdtemp(prefix="arca-sdk-"))
    _S.workdir = workdir
    server = ArcaServer(workdir / "session", env=SERVER_ENV)
    _S.server = server
    try:
        server.start()
    except ArcaStartError as exc:
        _S.exitstatus = 1  # keep the workdir (logs, data) for inspection
        pytest.exit(f"arca harness: could not start the server\n{exc}", returncode=1)
    bundle = workdir / "ca-bundle.pem"
    shutil.copyfile(server.ca_cert, bundle)
    _S.ca_bundle = bundle
    _configure_client_environment(server.bootstrap, bundle)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """After a failed test, stop the whole run if the session server died or
    hangs, instead of letting every later test time out against it."""
    outcome = yield
    report = outcome.get_result()
    server = _S.server
    if report.when != "call" or not report.failed or server is None:
        return
    problem = None
    if not server.running():
        rc = server.proc.returncode if server.proc is not None else None
        problem = f"the session server is no longer running (exit status {rc})"
    else:
        try:
            status = server.healthz_status()
        except Exception as exc:  # noqa: BLE001 - any failure means unresponsive
            problem = f"the session server no longer answers /healthz ({exc!r})"
        else:
            if status != 200:
                problem = f"the session server answers /healthz with {status}"
    if problem:
        item.session.shouldstop = f"arca harness: {problem}; stopping the run"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _S.exitstatus = int(exitstatus)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    server = _S.server
    if server is None or int(exitstatus) == 0:
        return
    terminalreporter.section("arca server log (session server)")
    text = server.all_output()
    lines = text.splitlines()[-80:]
    terminalreporter.write_line("\n".join(lines) if lines else "(no output)")
    terminalreporter.write_line(f"logs and data kept in {_S.workdir}")


def pytest_unconfigure(config: pytest.Config) -> None:
    server = _S.server
    if server is None:
        return
    try:
        if server.running():
            rc = server.stop()
            if rc not in (0, None):
                sys.stderr.write(f"arca harness: session server exited with status {rc} after SIGTERM\n")
    except AssertionError as exc:
        sys.stderr.write(f"arca harness: {exc}\n")
    finally:
        _S.server = None
        keep = bool(os.environ.get("ARCA_TEST_KEEP")) or _S.exitstatus != 0
        if _S.workdir is not None and not keep:
            shutil.rmtree(_S.workdir, ignore_errors=True)


# ---------------------------------------------------------------------------
# Fixtures: server facts
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def arca() -> ArcaServer:
    if _S.server is None:
        pytest.fail("arca session server is not running")
    return _S.server


@pytest.fixture(scope="session")
def bootstrap(arca: ArcaServer) -> Dict[str, Any]:
    return dict(arca.bootstrap)


@pytest.fixture(scope="session")
def port(arca: ArcaServer) -> int:
    return arca.port


@pytest.fixture(scope="session")
def vault_url(bootstrap: Dict[str, Any]) -> str:
    return bootstrap["vault_url"].rstrip("/")


@pytest.fixture(scope="session")
def resource(arca: ArcaServer) -> str:
    """The challenge resource / token audience: https://vault.localhost:<port>."""
    return arca.resource


@pytest.fixture(scope="session")
def ca_cert(bootstrap: Dict[str, Any]) -> str:
    return bootstrap["ca_cert"]


@pytest.fixture(scope="session")
def server_env() -> Dict[str, str]:
    return dict(SERVER_ENV)


@pytest.fixture(scope="session")
def default_identity_env(server_env) -> Dict[str, str]:
    """server_env without the managed-identity settings (the session server's choices above, and
    ARCA_APP_SERVICE_REMOTE from outside): a server started with it has the defaults, under which
    neither managed-identity endpoint serves the administrator."""
    return {k: v for k, v in server_env.items()
            if k not in ("ARCA_IMDS_IDENTITY", "ARCA_APP_SERVICE_IDENTITY", "ARCA_APP_SERVICE_REMOTE")}


@pytest.fixture(scope="session")
def add_trusted_ca() -> Callable[[str], None]:
    return trust_ca


@pytest.fixture(scope="session")
def harness_dir() -> Path:
    assert _S.workdir is not None
    return _S.workdir


@pytest.fixture(scope="session")
def unique_name() -> Callable[..., str]:
    """unique_name("prefix") -> "prefix-<12 hex>" (a valid secret name)."""

    def make(prefix: str = "s") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture(scope="session")
def make_vault(arca: ArcaServer) -> Callable[..., str]:
    """make_vault(name=None, retention_days=None, purge_protection=False) -> vault URL.

    Creates the vault with `arca vault create ... --output json`."""

    def make(name: Optional[str] = None, retention_days: Optional[int] = None,
             purge_protection: bool = False) -> str:
        name = name or f"v{uuid.uuid4().hex[:14]}"
        args = [name]
        if retention_days is not None:
            args += ["--retention-days", str(retention_days)]
        if purge_protection:
            args.append("--purge-protection")
        proc = arca.vault_cli("create", *args)
        assert proc.returncode == 0, cli_failure(proc)
        return arca.vault_url(name)

    return make


# ---------------------------------------------------------------------------
# Fixtures: credentials and clients (azure imported lazily, after configure)
# ---------------------------------------------------------------------------


def _credential_from(identity: ModuleType, kind: str, boot: Dict[str, Any]):
    """A new credential of `kind` from `identity`, azure.identity or azure.identity.aio (the same
    class names, the same arguments)."""
    if kind == "client_secret":
        return identity.ClientSecretCredential(boot["tenant_id"], boot["client_id"], boot["client_secret"],
                                               authority=boot["authority_host"], disable_instance_discovery=True)
    if kind == "default":
        return identity.DefaultAzureCredential()
    raise ValueError(kind)


def new_credential(kind: str, boot: Dict[str, Any]):
    from azure import identity

    return _credential_from(identity, kind, boot)


def new_async_credential(kind: str, boot: Dict[str, Any]):
    from azure.identity import aio

    return _credential_from(aio, kind, boot)


@pytest.fixture(scope="session")
def make_credential(bootstrap: Dict[str, Any]) -> Callable[[str], Any]:
    """make_credential("client_secret" | "default") -> a new sync azure.identity credential."""
    return lambda kind: new_credential(kind, bootstrap)


@pytest.fixture(scope="session")
def make_async_credential(bootstrap: Dict[str, Any]) -> Callable[[str], Any]:
    """make_async_credential(kind) -> a new azure.identity.aio credential (close it in its loop)."""
    return lambda kind: new_async_credential(kind, bootstrap)


@pytest.fixture(scope="session")
def client_secret_credential(make_credential):
    cred = make_credential("client_secret")
    yield cred
    cred.close()


@pytest.fixture(scope="session")
def default_credential(make_credential):
    cred = make_credential("default")
    yield cred
    cred.close()


@pytest.fixture(scope="session")
def credential(client_secret_credential):
    return client_secret_credential


@pytest.fixture
def token(client_secret_credential, resource: str) -> str:
    """A bearer token for the vault audience (cached by azure-identity between tests)."""
    return client_secret_credential.get_token(f"{resource}/.default").token


@pytest.fixture(scope="session")
def secret_client(vault_url: str, client_secret_credential):
    from azure.keyvault.secrets import SecretClient

    client = SecretClient(vault_url, client_secret_credential)
    yield client
    client.close()


@pytest.fixture
def make_secrets_api(bootstrap: Dict[str, Any]):
    """make_secrets_api(mode, kind, vault_url) -> facade over the sync or async SecretClient.

    Every facade made here (client, credential, event loop) is closed after the test."""
    from sdk_facade import AsyncSecrets, SyncSecrets

    with ExitStack() as made:

        def make(mode: str, kind: str, url: str):
            if mode == "sync":
                api = SyncSecrets(url, new_credential(kind, bootstrap))
            elif mode == "async":
                api = AsyncSecrets(url, lambda: new_async_credential(kind, bootstrap))
            else:
                raise ValueError(mode)
            return made.enter_context(closing(api))

        yield make


# ---------------------------------------------------------------------------
# Fixtures: principals, role assignments and the admin API, shared by the
# access-control suites (test_access, test_credentials, test_rbac,
# test_firewall). Setup goes through the `arca` CLI as the bootstrap principal.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def new_vault(make_vault) -> Callable[[], Any]:
    """new_vault() -> (name, url) of a fresh vault."""

    def make():
        name = f"v{uuid.uuid4().hex[:14]}"
        return name, make_vault(name)

    return make


@pytest.fixture(scope="session")
def make_principal(arca: ArcaServer, unique_name) -> Callable[..., Dict[str, Any]]:
    """make_principal(name=None, managed_identity=False, secret=True) -> the principal printed by
    `arca principal create --output json`, plus "secret" (from `principal secret add`) if asked."""

    def make(name: Optional[str] = None, managed_identity: bool = False, secret: bool = True) -> Dict[str, Any]:
        args = ["principal", "create", name or unique_name("sp")]
        if managed_identity:
            args.append("--managed-identity")
        principal = dict(arca.cli_json(*args))
        if secret:
            principal["secret"] = arca.cli_json("principal", "secret", "add", principal["client_id"])["secret"]
        return principal

    return make


@pytest.fixture(scope="session")
def assign_role(arca: ArcaServer) -> Callable[[str, Dict[str, Any], str], Dict[str, Any]]:
    """assign_role(role, principal, scope) -> the assignment printed by `arca role assign`."""

    def assign(role: str, principal: Dict[str, Any], scope: str) -> Dict[str, Any]:
        return arca.cli_json("role", "assign", "--role", role, "--principal", principal["client_id"],
                             "--scope", scope)

    return assign


@pytest.fixture
def principal_client(bootstrap: Dict[str, Any]):
    """principal_client(principal, vault_url) -> a sync SecretClient signed in with the principal's
    client secret (ClientSecretCredential); closed after the test."""
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    with ExitStack() as made:

        def make(principal: Dict[str, Any], url: str):
            cred = ClientSecretCredential(bootstrap["tenant_id"], principal["client_id"], principal["secret"],
                                          authority=bootstrap["authority_host"], disable_instance_discovery=True)
            made.enter_context(closing(cred))
            return made.enter_context(closing(SecretClient(url, cred)))

        yield make


@pytest.fixture(scope="session")
def request_token(bootstrap: Dict[str, Any], resource: str, ca_cert: str) -> Callable[..., Any]:
    """request_token(client_id, secret=None, **form) -> the raw response of a client-credentials
    POST to <authority>/<tenant>/oauth2/v2.0/token (scope = <resource>/.default)."""
    import requests

    url = f"{bootstrap['authority_host'].rstrip('/')}/{bootstrap['tenant_id']}/oauth2/v2.0/token"

    def post(client_id: str, secret: Optional[str] = None, **form: str):
        body = {"grant_type": "client_credentials", "client_id": client_id, "scope": f"{resource}/.default"}
        if secret is not None:
            body["client_secret"] = secret
        body.update(form)
        return requests.post(url, data=body, verify=ca_cert, timeout=60)

    return post


@pytest.fixture(scope="session")
def admin_api(bootstrap: Dict[str, Any], ca_cert: str, client_secret_credential, resource: str):
    """admin_api(method, path, token=<bootstrap's>, **requests_kwargs) -> raw response of
    <authority>/admin<path>; token=None sends no Authorization header."""
    import requests

    base = bootstrap["authority_host"].rstrip("/") + "/admin"
    default = object()

    def call(method: str, path: str, token: Any = default, **kwargs: Any):
        if token is default:
            token = client_secret_credential.get_token(f"{resource}/.default").token
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, base + path, headers=headers, verify=ca_cert, timeout=60, **kwargs)

    return call


@pytest.fixture
def private_server(server_env):
    """A server of its own, for tests whose changes (admin network rules, the last
    administrator) would disturb every other test on the session server."""
    with started_server("arca-private-", server_env) as server:
        yield server


@pytest.fixture
def sdk_client(client_secret_credential):
    """sdk_client(url) -> a new SecretClient of the bootstrap administrator (fresh challenge cache
    entry per vault host), closed after the test."""
    from azure.keyvault.secrets import SecretClient

    with ExitStack() as made:
        yield lambda url: made.enter_context(closing(SecretClient(url, client_secret_credential)))


@pytest.fixture(scope="session")
def challenge(port, bootstrap) -> str:
    """The WWW-Authenticate value every 401 of the session server must carry."""
    return (f'Bearer authorization="https://localhost:{port}/{bootstrap["tenant_id"]}", '
            f'resource="https://vault.localhost:{port}"')


@pytest.fixture
def make_keys_api(bootstrap: Dict[str, Any]):
    """make_keys_api(mode, url, kind="client_secret") -> facade over the sync or async KeyClient
    (with crypto(key_id) for a CryptographyClient); closed after the test."""
    from sdk_facade import AsyncKeys, SyncKeys

    with ExitStack() as made:

        def make(mode: str, url: str, kind: str = "client_secret"):
            if mode == "sync":
                api = SyncKeys(url, new_credential(kind, bootstrap))
            elif mode == "async":
                api = AsyncKeys(url, lambda: new_async_credential(kind, bootstrap))
            else:
                raise ValueError(mode)
            return made.enter_context(closing(api))

        yield make
