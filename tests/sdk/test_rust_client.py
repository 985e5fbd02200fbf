"""The official Azure SDK crates for Rust against the session's `arca serve`.

docs/examples/rust is a cargo project of its own (not in Arca's workspace, its own Cargo.lock):
azure_security_keyvault_secrets 1.x and azure_identity 1.x from crates.io. It is built here with
`cargo build --locked` into <target>/rust-example (incremental after the first time) and run with
the environment only: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST
(read by azure_identity itself), AZURE_KEYVAULT_URL, and SSL_CERT_FILE naming Arca's CA (the
crates' reqwest with rustls loads its roots through rustls-native-certs, which reads that variable).
It sets a secret, gets it, lists the vault and finds it, deletes and purges it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict

import pytest

from arca_harness import REPO_ROOT, ArcaServer

PROJECT = REPO_ROOT / "docs" / "examples" / "rust"
BUILD_TIMEOUT = 1800
RUN_TIMEOUT = 120
STEPS = ("set ", "get ", "list: ", "delete ", "purge ")


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target").resolve() / "rust-example"


@pytest.fixture(scope="module")
def example_binary() -> Path:
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is needed to build docs/examples/rust")
    env = {k: v for k, v in os.environ.items() if k not in ("CARGO_TARGET_DIR", "RUSTFLAGS", "SSL_CERT_FILE")}
    started = time.monotonic()
    proc = subprocess.run(
        [cargo, "build", "--locked", "--quiet", "--manifest-path", str(PROJECT / "Cargo.toml"),
         "--target-dir", str(target_dir())],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, stdin=subprocess.DEVNULL, env=env)
    assert proc.returncode == 0, f"cargo build failed\n{proc.stdout}\n{proc.stderr}"
    print(f"docs/examples/rust built in {time.monotonic() - started:.1f}s")
    binary = target_dir() / "debug" / "arca-rust-example"
    assert binary.is_file(), binary
    return binary


def example_env(server: ArcaServer, ca_file: str) -> Dict[str, str]:
    boot = server.bootstrap
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "IDENTITY_", "MSI_", "SSL_CERT_")) and k != "IMDS_ENDPOINT"}
    env.update({
        "AZURE_TENANT_ID": boot["tenant_id"],
        "AZURE_CLIENT_ID": boot["client_id"],
        "AZURE_CLIENT_SECRET": boot["client_secret"],
        "AZURE_AUTHORITY_HOST": boot["authority_host"],
        "AZURE_KEYVAULT_URL": f"https://localhost:{server.port}",
    })
    if ca_file:
        env["SSL_CERT_FILE"] = ca_file
    return env


def run(binary: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary)], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          stdin=subprocess.DEVNULL)


def failure(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


def test_rust_sdk_sets_gets_lists_deletes(example_binary, arca: ArcaServer, secret_client):
    from azure.core.exceptions import ResourceNotFoundError

    proc = run(example_binary, example_env(arca, arca.ca_cert))
    assert proc.returncode == 0, failure(proc)
    lines = proc.stdout.splitlines()
    assert [line for line in lines if line.startswith(STEPS)] == lines and len(lines) == len(STEPS), failure(proc)
    for line, step in zip(lines, STEPS):
        assert line.startswith(step), failure(proc)
    assert "value matches" in lines[1], failure(proc)
    name = lines[0].split()[1]
    # Deleted and purged (seen with the Python SDK): neither the secret nor its deleted form is left.
    with pytest.raises(ResourceNotFoundError):
        secret_client.get_secret(name)
    with pytest.raises(ResourceNotFoundError):
        secret_client.get_deleted_secret(name)


def test_rust_sdk_without_the_ca_refuses_the_server(example_binary, arca: ArcaServer):
    proc = run(example_binary, example_env(arca, ""))
    assert proc.returncode != 0, failure(proc)
    assert "certificate" in (proc.stdout + proc.stderr).lower(), failure(proc)
