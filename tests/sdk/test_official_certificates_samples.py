"""Microsoft's own certificates samples as an outside judge: the `samples/` of the
azure-keyvault-certificates 4.12.0 sdist on PyPI (the release pinned in requirements.txt;
downloaded once into $ARCA_SAMPLES_DIR, default target/samples-sdist, and checked against its
SHA-256), run unmodified against Arca, each on a vault of its own, signed in by managed identity
through DefaultAzureCredential().

The runner, the environment and the way a sample is judged are test_official_samples.py's (the
secrets samples). The import samples read a PFX and a PEM file named by PFX_CERT_PATH and
PEM_CERT_PATH: this test makes both with pyca/cryptography (a self-signed RSA certificate with its
key). Both backup_restore samples sleep 60 s as Key Vault needs; all samples start together when
the first of these tests runs.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from test_official_samples import SAMPLE_TIMEOUT, Run, base_env

VERSION = "4.12.0"
SDIST = f"azure_keyvault_certificates-{VERSION}.tar.gz"
SHA256 = "ec5589c28889dce360d3ff9e9ec419db0fac4e127be1580f8a4a8e87384da4ea"
SAMPLES = [
    "hello_world", "hello_world_async", "list_operations", "list_operations_async",
    "backup_restore_operations", "backup_restore_operations_async",
    "recover_purge_operations", "recover_purge_operations_async",
    "contacts", "contacts_async", "issuers", "issuers_async",
    "import_certificate", "import_certificate_async", "parse_certificate", "parse_certificate_async",
]
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def certificates_samples(server_env) -> Path:
    root = Path(os.environ.get("ARCA_SAMPLES_DIR") or REPO_ROOT / "target" / "samples-sdist")
    root.mkdir(parents=True, exist_ok=True)
    sdist = root / SDIST
    if not sdist.is_file():
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:",
                               "--no-deps", f"azure-keyvault-certificates=={VERSION}", "-d", str(root)],
                              env=server_env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"pip download of the sdist failed\n{proc.stderr[-4000:]}"
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert digest == SHA256, f"{sdist} has SHA-256 {digest}, not the {VERSION} sdist's"
    tree = root / f"azure_keyvault_certificates-{VERSION}"
    if not (tree / "samples").is_dir():
        with tarfile.open(sdist) as tar:
            tar.extractall(root, filter="data")
    return tree / "samples"


def write_import_files(home: str) -> tuple[str, str]:
    """A PFX (no password) and a PEM (PKCS#8 key, then the certificate) of one self-signed
    certificate, as the import samples expect to find them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "samples.example.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    pfx = Path(home) / "sample.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(b"sample", key, cert, None,
                                                          serialization.NoEncryption()))
    pem = Path(home) / "sample.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
                    + cert.public_bytes(serialization.Encoding.PEM))
    return str(pfx), str(pem)


@pytest.fixture(scope="session")
def certificates_sample_runs(bootstrap, make_vault, certificates_samples):
    home = tempfile.mkdtemp(prefix="arca-certificates-samples-")
    pfx, pem = write_import_files(home)
    runs = {}
    for name in SAMPLES:
        env = dict(base_env(home), IDENTITY_ENDPOINT=bootstrap["identity_endpoint"],
                   IDENTITY_HEADER=bootstrap["identity_header"], PFX_CERT_PATH=pfx, PEM_CERT_PATH=pem)
        env["VAULT_URL"] = make_vault()
        runs[name] = Run(f"certificates-{name}", certificates_samples / f"{name}.py", env["VAULT_URL"], env, home)
    yield runs
    for run in runs.values():
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


def test_the_certificates_sdist_has_the_samples(certificates_samples):
    assert {p.stem for p in certificates_samples.glob("*.py")} == set(SAMPLES)


@pytest.mark.timeout(SAMPLE_TIMEOUT + 120)
@pytest.mark.parametrize("sample", SAMPLES)
def test_official_certificates_sample(sample, certificates_sample_runs):
    run = certificates_sample_runs[sample]
    rc = run.wait()
    assert rc == 0, f"sample {sample} against {run.vault_url} exited {rc}\n{run.output()}"
    assert "Traceback" not in run.output(), run.output()
