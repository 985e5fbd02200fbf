"""One virtual environment per old azure-keyvault-secrets release (tests/sdk/compat/secrets-*.txt).

Each venv lives in $ARCA_COMPAT_VENVS/<release> (default <repo>/target/sdk-compat) and is made
again only when its pins file or the Python running this changes (a stamp file holds their hash).
Installs use the exact pins with --no-deps and --only-binary :all:, so what lands is exactly the
file's list, from wheels, whatever PyPI has published since.

    python tests/sdk/compat/venvs.py            # make or check every venv and the samples sdist
    python tests/sdk/compat/venvs.py 4.0 4.3    # only these venvs

It also fetches the azure-keyvault-secrets 4.12.0 sdist, whose samples/ test_official_samples.py
runs, into $ARCA_SAMPLES_DIR (default <repo>/target/samples-sdist), checked against its SHA-256.

Standard library only: the suite's venv runs it before pytest, and the compat test imports it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
INSTALL_TIMEOUT = 900
SAMPLES_VERSION = "4.12.0"
SAMPLES_SDIST = f"azure_keyvault_secrets-{SAMPLES_VERSION}.tar.gz"
SAMPLES_SHA256 = "435ea0abb5280baaad9553da7a19e73e1b581048783b852210352bfcb0316aff"


def venv_root() -> Path:
    return Path(os.environ.get("ARCA_COMPAT_VENVS") or REPO_ROOT / "target" / "sdk-compat")


def releases() -> Dict[str, Path]:
    """{"4.0": <pins file>, ...} in release order."""
    found = {p.name[len("secrets-"):-len(".txt")]: p for p in HERE.glob("secrets-*.txt")}
    return dict(sorted(found.items(), key=lambda kv: tuple(int(x) for x in kv[0].split("."))))


def base_python() -> str:
    """The interpreter new venvs are made from: the one below this venv, if any."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _stamp(pins: Path) -> str:
    digest = hashlib.sha256(pins.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def venv_python(release: str) -> Path:
    return venv_root() / release / "bin" / "python"


def _run(cmd: List[str], what: str, env: Optional[Dict[str, str]] = None) -> None:
    """env: the environment pip sees (the test suite passes the one it was started with, not the
    one it rewrote to trust Arca's CA alone)."""
    env = dict(os.environ if env is None else env, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                          timeout=INSTALL_TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}): {' '.join(cmd)}\n"
                           f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}")


def ensure(release: str, env: Optional[Dict[str, str]] = None) -> float:
    """Make the venv of `release` unless it is up to date; returns the seconds spent."""
    pins = releases()[release]
    target = venv_root() / release
    stamp_file = target / ".pins.sha256"
    want = _stamp(pins)
    if stamp_file.is_file() and stamp_file.read_text().strip() == want and venv_python(release).exists():
        return 0.0
    started = time.monotonic()
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _run([base_python(), "-m", "venv", str(target)], f"venv for azure-keyvault-secrets {release}")
    py = str(venv_python(release))
    _run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:", "-r", str(pins)],
         f"pip install of {pins.name}", env)
    _run([py, "-m", "pip", "check"], f"pip check in the {release} venv")
    _run([py, "-c", "import azure.identity, azure.keyvault.secrets, azure.core"],
         f"import of the SDK in the {release} venv")
    stamp_file.write_text(want + "\n")
    return time.monotonic() - started


def samples_dir(env: Optional[Dict[str, str]] = None) -> Path:
    """<root>/azure_keyvault_secrets-4.12.0/samples, downloading and unpacking the sdist once."""
    root = Path(os.environ.get("ARCA_SAMPLES_DIR") or REPO_ROOT / "target" / "samples-sdist")
    root.mkdir(parents=True, exist_ok=True)
    sdist = root / SAMPLES_SDIST
    if not sdist.is_file():
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
              f"azure-keyvault-secrets=={SAMPLES_VERSION}", "-d", str(root)], "pip download of the sdist", env)
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SAMPLES_SHA256:
        raise RuntimeError(f"{sdist} has SHA-256 {digest}, not the {SAMPLES_VERSION} sdist's {SAMPLES_SHA256}")
    tree = root / f"azure_keyvault_secrets-{SAMPLES_VERSION}"
    if not (tree / "samples").is_dir():
        with tarfile.open(sdist) as tar:
            tar.extractall(root, filter="data")
    return tree / "samples"


def main(argv: List[str]) -> int:
    wanted = argv or list(releases())
    if not argv:
        print(f"sdk samples: {samples_dir()}", flush=True)
    total = 0.0
    for release in wanted:
        spent = ensure(release)
        total += spent
        print(f"sdk-compat {release}: {'up to date' if spent == 0 else f'installed in {spent:.1f}s'}", flush=True)
    print(f"sdk-compat: {len(wanted)} venvs in {venv_root()}, {total:.1f}s installing", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
