"""Microsoft's own keys samples as an outside judge: the `samples/` of the azure-keyvault-keys 4.11.3
sdist on PyPI (the release pinned in requirements.txt; downloaded once into $ARCA_SAMPLES_DIR,
default target/samples-sdist, and checked against its SHA-256), run unmodified against Arca, each on
a vault of its own, signed in by managed identity through DefaultAzureCredential().

The runner, the environment and the way a sample is judged are test_official_samples.py's (the
secrets samples); see its docstring for why managed identity and not client-secret variables.
Both backup_restore samples sleep 60 s as Key Vault needs; all samples start together when the
first of these tests runs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from test_official_samples import SAMPLE_TIMEOUT, Run, base_env

VERSION = "4.11.3"
SDIST = f"azure_keyvault_keys-{VERSION}.tar.gz"
SHA256 = "abe258a46937ab69b148d1832150192f6a300578451d69304a0c3be24b9881aa"
SAMPLES = [
    "hello_world", "hello_world_async", "list_operations", "list_operations_async",
    "backup_restore_operations", "backup_restore_operations_async",
    "recover_purge_operations", "recover_purge_operations_async",
    "key_rotation", "key_rotation_async", "send_request",
]
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def keys_samples(server_env) -> Path:
    root = Path(os.environ.get("ARCA_SAMPLES_DIR") or REPO_ROOT / "target" / "samples-sdist")
    root.mkdir(parents=True, exist_ok=True)
    sdist = root / SDIST
    if not sdist.is_file():
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:",
                               "--no-deps", f"azure-keyvault-keys=={VERSION}", "-d", str(root)],
                              env=server_env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"pip download of the sdist failed\n{proc.stderr[-4000:]}"
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert digest == SHA256, f"{sdist} has SHA-256 {digest}, not the {VERSION} sdist's"
    tree = root / f"azure_keyvault_keys-{VERSION}"
    if not (tree / "samples").is_dir():
        with tarfile.open(sdist) as tar:
            tar.extractall(root, filter="data")
    return tree / "samples"


@pytest.fixture(scope="session")
def keys_sample_runs(bootstrap, make_vault, keys_samples):
    home = tempfile.mkdtemp(prefix="arca-keys-samples-")
    runs = {}
    for name in SAMPLES:
        env = dict(base_env(home), IDENTITY_ENDPOINT=bootstrap["identity_endpoint"],
                   IDENTITY_HEADER=bootstrap["identity_header"])
        env["VAULT_URL"] = make_vault()
        runs[name] = Run(f"keys-{name}", keys_samples / f"{name}.py", env["VAULT_URL"], env, home)
    yield runs
    for run in runs.values():
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


def test_the_keys_sdist_has_the_samples(keys_samples):
    assert {p.stem for p in keys_samples.glob("*.py")} == set(SAMPLES)


@pytest.mark.timeout(SAMPLE_TIMEOUT + 120)
@pytest.mark.parametrize("sample", SAMPLES)
def test_official_keys_sample(sample, keys_sample_runs):
    run = keys_sample_runs[sample]
    rc = run.wait()
    assert rc == 0, f"sample {sample} against {run.vault_url} exited {rc}\n{run.output()}"
    assert "Traceback" not in run.output(), run.output()
