"""Microsoft's own samples as an outside judge: the `samples/` of the azure-keyvault-secrets 4.12.0
sdist on PyPI (downloaded once into target/samples-sdist, checked against its SHA-256), run
unmodified against Arca, each on a vault of its own, with this suite's SDK venv.

The samples read VAULT_URL and sign in with DefaultAzureCredential(), with no argument. They get:
  - the App Service managed identity (IDENTITY_ENDPOINT / IDENTITY_HEADER), which the session
    server serves for the bootstrap administrator;
  - Arca's CA through SSL_CERT_FILE and REQUESTS_CA_BUNDLE;
  - the harness's in-process resolver (*.localhost -> 127.0.0.1), installed by the runner before
    runpy runs the sample file, because this machine's resolver does not know <vault>.vault.localhost.

Client-secret variables (AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST) cannot sign an unmodified
sample in: azure-identity's EnvironmentCredential goes through MSAL, which asks
login.microsoftonline.com to validate any other authority unless the code passes
disable_instance_discovery=True. test_client_secret_variables_need_disable_instance_discovery
pins that down.

Two samples sleep 60 s (backup_restore, sync and async) as Key Vault needs; all samples are
started together when the first of these tests runs, so the whole set takes about a minute.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Dict

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "compat"))

import venvs  # noqa: E402

SAMPLES = [
    "hello_world", "hello_world_async", "list_operations", "list_operations_async",
    "backup_restore_operations", "backup_restore_operations_async",
    "recover_purge_operations", "recover_purge_operations_async",
]
SAMPLE_TIMEOUT = 240
RUNNER = (
    "import runpy, sys\n"
    f"sys.path.insert(0, {str(HERE)!r})\n"
    "from arca_harness import install_localhost_resolver\n"
    "install_localhost_resolver()\n"
    "path = sys.argv[1]\n"
    "sys.argv = [path]\n"
    "runpy.run_path(path, run_name='__main__')\n"
)


def base_env(home: str) -> Dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "SSL_CERT_FILE": os.environ["SSL_CERT_FILE"],
        "REQUESTS_CA_BUNDLE": os.environ["REQUESTS_CA_BUNDLE"],
        "NO_PROXY": "localhost,127.0.0.1,::1,.localhost",
        "no_proxy": "localhost,127.0.0.1,::1,.localhost",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


class Run:
    def __init__(self, name: str, path: Path, vault_url: str, env: Dict[str, str], home: str) -> None:
        self.name, self.vault_url = name, vault_url
        self.log = Path(home) / f"{name}.log"
        self.started = time.monotonic()
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(path)], env=env,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def wait(self) -> int:
        try:
            self.proc.wait(timeout=max(1.0, SAMPLE_TIMEOUT - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} still running after {SAMPLE_TIMEOUT}s\n{self.output()}") from None
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-8000:]


@pytest.fixture(scope="session")
def samples(server_env) -> Path:
    """The samples/ directory (fetched by tests/sdk/compat/venvs.py, or here on first use)."""
    return venvs.samples_dir(server_env)


@pytest.fixture(scope="session")
def sample_runs(bootstrap, make_vault, samples):
    """Every sample started at once, each on a new vault, signed in by managed identity."""
    directory = samples
    home = tempfile.mkdtemp(prefix="arca-samples-")
    runs = {}
    for name in SAMPLES:
        env = dict(base_env(home), IDENTITY_ENDPOINT=bootstrap["identity_endpoint"],
                   IDENTITY_HEADER=bootstrap["identity_header"])
        env["VAULT_URL"] = make_vault()
        runs[name] = Run(name, directory / f"{name}.py", env["VAULT_URL"], env, home)
    yield runs
    for run in runs.values():
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


def test_the_sdist_has_the_samples(samples):
    names = {p.stem for p in samples.glob("*.py")}
    assert names == set(SAMPLES), names


@pytest.mark.timeout(SAMPLE_TIMEOUT + 120)
@pytest.mark.parametrize("sample", SAMPLES)
def test_official_sample(sample, sample_runs):
    run = sample_runs[sample]
    rc = run.wait()
    assert rc == 0, f"sample {sample} against {run.vault_url} exited {rc}\n{run.output()}"
    assert "Traceback" not in run.output(), run.output()


def test_client_secret_variables_need_disable_instance_discovery(bootstrap, make_vault, samples, tmp_path):
    """hello_world with AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET/AUTHORITY_HOST and nothing else:
    EnvironmentCredential fails in MSAL's instance discovery at login.microsoftonline.com (which
    this machine cannot reach; where it can, Microsoft refuses any other authority). If a future
    azure-identity stops doing that, this test fails and the samples can be run with client-secret
    variables too."""
    env = dict(base_env(str(tmp_path)), VAULT_URL=make_vault(), AZURE_TENANT_ID=bootstrap["tenant_id"],
               AZURE_CLIENT_ID=bootstrap["client_id"], AZURE_CLIENT_SECRET=bootstrap["client_secret"],
               AZURE_AUTHORITY_HOST=bootstrap["authority_host"])
    run = Run("hello_world_env", samples / "hello_world.py", env["VAULT_URL"], env, str(tmp_path))
    rc = run.wait()
    out = run.output()
    assert rc != 0, out
    assert "EnvironmentCredential" in out and "login.microsoftonline.com" in out, out
    assert "disable_instance_discovery" in out or "instance discovery" in out.lower() \
        or "Failed to resolve" in out, out
