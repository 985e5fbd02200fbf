"""The README's Python example (docs/examples/python.py), run as a newcomer would: a fresh server
of its own, `python docs/examples/python.py` with ARCA_BOOTSTRAP and REQUESTS_CA_BUNDLE and nothing
else, by this suite's SDK venv.

  - without any name resolution for *.vault.localhost (this machine's resolver has none): the
    default vault at https://localhost:<port> works (verify_challenge_resource=False), and the
    example says how to make the vault name resolve;
  - with *.localhost resolved to 127.0.0.1 (the harness's in-process resolver, standing in for a
    hosts entry or systemd-resolved): both URLs work, the vault name with no flag;
  - the flag is needed: without it the SDK refuses the localhost challenge.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict


HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parents[1] / "docs" / "examples" / "python.py"
WITH_RESOLVER = (
    "import runpy, sys\n"
    f"sys.path.insert(0, {str(HERE)!r})\n"
    "from arca_harness import install_localhost_resolver\n"
    "install_localhost_resolver()\n"
    "sys.argv = [sys.argv[1]]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def newcomer_env(server, tmp_path) -> Dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ARCA_BOOTSTRAP": str(server.bootstrap_path),
        "REQUESTS_CA_BUNDLE": server.ca_cert,
        "NO_PROXY": "localhost,127.0.0.1,::1,.localhost",
        "no_proxy": "localhost,127.0.0.1,::1,.localhost",
    }


def run(args, env, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=90)


def machine_resolves(host: str) -> bool:
    """Whether the system resolver (not the harness's) knows host."""
    proc = subprocess.run([sys.executable, "-c", f"import socket; socket.getaddrinfo({host!r}, 443)"],
                          capture_output=True, timeout=30)
    return proc.returncode == 0


def test_the_example_needs_no_dns_setup(private_server, tmp_path):
    proc = run([str(EXAMPLE)], newcomer_env(private_server, tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "s3cr3t", proc.stdout
    if machine_resolves("default.vault.localhost"):
        assert lines[1:] == ["s3cr3t"], proc.stdout
    else:
        assert lines[1:] == ["default.vault.localhost does not resolve: add the lines of `arca hosts` to /etc/hosts"], \
            proc.stdout


def test_the_example_with_vault_names_resolved(private_server, tmp_path):
    proc = run(["-c", WITH_RESOLVER, str(EXAMPLE)], newcomer_env(private_server, tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["s3cr3t", "s3cr3t"], proc.stdout
    # The hosts lines the example points to name the default vault.
    hosts = private_server.cli("hosts")
    assert hosts.returncode == 0, hosts.stderr
    assert any(line.split()[:2] == ["127.0.0.1", "default.vault.localhost"] for line in hosts.stdout.splitlines()), \
        hosts.stdout


def test_localhost_needs_verify_challenge_resource_off(private_server, tmp_path):
    """Why the example passes the flag: with the check on, the SDK refuses the challenge of
    https://localhost:<port> (a resource with no parent domain) before it asks for a token."""
    code = (
        "import json, os, sys\n"
        "from azure.identity import ClientSecretCredential\n"
        "from azure.keyvault.secrets import SecretClient\n"
        "b = json.load(open(os.environ['ARCA_BOOTSTRAP']))\n"
        "c = ClientSecretCredential(b['tenant_id'], b['client_id'], b['client_secret'],\n"
        "                           authority=b['authority_host'], disable_instance_discovery=True)\n"
        "try:\n"
        "    SecretClient(b['authority_host'], c).get_secret('anything')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "    sys.exit(3)\n"
    )
    proc = run(["-c", code], newcomer_env(private_server, tmp_path), tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "challenge resource" in proc.stdout.lower() and "does not match" in proc.stdout.lower(), proc.stdout

