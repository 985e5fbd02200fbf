"""The official Azure SDK crates for Rust against the session's `arca serve`.

docs/examples/rust is a cargo project of its own (not in Arca's workspace, its own Cargo.lock):
azure_security_keyvault_secrets 1.x and azure_identity 1.x from crates.io. It is built here with
`cargo build --locked` into <target>/rust-example (incremental after the first time) and run with
the environment only: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST
(read by azure_identity itself), AZURE_KEYVAULT_URL, and SSL_CERT_FILE naming Arca's CA (the
crates' reqwest with rustls loads its roots through rustls-native-certs, which reads that variable).
It sets a secret, gets it, lists the vault and finds it, deletes and purges it: once against the
default vault at https://localhost:PORT (challenge-resource verification off, as the example does
for that origin), once at https://default.vault.localhost:PORT (verification on). This machine's
resolver need not know *.localhost, and a Rust process cannot be given an in-process resolver from
outside, so the second run reaches the vault host through HTTPS_PROXY, a CONNECT proxy here that
tunnels *.localhost to 127.0.0.1 (TLS stays end to end between the client and Arca).

SSL_CERT_FILE names ca.pem alone, so nothing but that variable can make the client trust Arca.
(A run without it fails on the certificate, but only after azure_core's retries, about 80 s, so it
is not repeated here; the JavaScript tests check the same for NODE_EXTRA_CA_CERTS.)
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from arca_harness import REPO_ROOT, ArcaServer, is_local_name

PROJECT = REPO_ROOT / "docs" / "examples" / "rust"
BUILD_TIMEOUT = 1800
RUN_TIMEOUT = 120
NAME = "greeting-from-rust"

# The first build compiles the crates and their dependencies (about 5 minutes on two busy cores);
# pytest.ini's 120 s per test would cut it off.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + RUN_TIMEOUT)


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


class _Tunnel(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]
        host, _, port = target.rpartition(":")
        if method != "CONNECT" or not is_local_name(host):
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.hosts.append(host)  # type: ignore[attr-defined]
        with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            rest = head.split(b"\r\n\r\n", 1)[1]
            if rest:
                upstream.sendall(rest)
            pair = {self.request: upstream, upstream: self.request}
            while True:
                ready, _, _ = select.select(list(pair), [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)


class _TunnelServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.hosts: List[str] = []


@pytest.fixture
def localhost_proxy() -> Iterator[_TunnelServer]:
    server = _TunnelServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def example_env(server: ArcaServer) -> Dict[str, str]:
    boot = server.bootstrap
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "IDENTITY_", "MSI_", "SSL_CERT_")) and k != "IMDS_ENDPOINT"}
    env.update({
        "AZURE_TENANT_ID": boot["tenant_id"],
        "AZURE_CLIENT_ID": boot["client_id"],
        "AZURE_CLIENT_SECRET": boot["client_secret"],
        "AZURE_AUTHORITY_HOST": boot["authority_host"],
        "AZURE_KEYVAULT_URL": f"https://localhost:{server.port}",
        "SSL_CERT_FILE": server.ca_cert,
    })
    return env


def via_vault_host(env: Dict[str, str], server: ArcaServer, proxy: _TunnelServer) -> Dict[str, str]:
    env = {k: v for k, v in env.items() if k.lower() not in ("no_proxy", "https_proxy", "all_proxy")}
    env["AZURE_KEYVAULT_URL"] = server.vault_url("default")
    env["HTTPS_PROXY"] = f"http://127.0.0.1:{proxy.server_address[1]}"
    return env


def run(binary: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary)], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          stdin=subprocess.DEVNULL)


def failure(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


@pytest.mark.parametrize("address", ("issuer_origin", "vault_host"))
def test_rust_sdk_sets_gets_lists_deletes(example_binary, arca: ArcaServer, secret_client, unique_name,
                                          localhost_proxy, address):
    from azure.core.exceptions import ResourceNotFoundError

    # A secret the Rust client did not make, to see that its listing reads the vault.
    other = unique_name("set-by-python")
    secret_client.set_secret(other, "from Python")
    env = example_env(arca)
    if address == "vault_host":
        env = via_vault_host(env, arca, localhost_proxy)
    proc = run(example_binary, env)
    assert proc.returncode == 0, failure(proc)
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{NAME} = hello from Rust", failure(proc)
    assert f"listed {NAME}" in lines and f"listed {other}" in lines, failure(proc)
    assert all(line.startswith("listed ") for line in lines[1:-1]), failure(proc)
    assert lines[-1] == f"deleted and purged {NAME}", failure(proc)
    # Deleted and purged (as the Python SDK sees it): neither the secret nor its deleted form is left.
    with pytest.raises(ResourceNotFoundError):
        secret_client.get_secret(NAME)
    with pytest.raises(ResourceNotFoundError):
        secret_client.get_deleted_secret(NAME)
    if address == "vault_host":
        assert "default.vault.localhost" in localhost_proxy.hosts, localhost_proxy.hosts

def test_rust_example_is_formatted():
    """The example is outside Arca's workspace, so `cargo fmt --all` does not see it."""
    proc = subprocess.run(["cargo", "fmt", "--check", "--manifest-path", str(PROJECT / "Cargo.toml")],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, failure(proc)
