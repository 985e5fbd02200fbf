"""Process harness for black-box tests of the `arca` binary.

Only the standard library is imported at module level: conftest.py imports this
module before the Azure SDK, aiohttp or requests may be imported (their TLS
trust settings are read from the environment at import or request time).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
DNS_SUFFIX = "vault.localhost"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
CLI_TIMEOUT = 60.0

BOOTSTRAP_KEYS = (
    "tenant_id",
    "client_id",
    "client_secret",
    "authority_host",
    "identity_endpoint",
    "identity_header",
    "vault_url",
    "ca_cert",
)


def arca_bin() -> str:
    """Path of the binary under test: $ARCA_BIN or <repo>/target/debug/arca."""
    # Absolute, because the server runs with its own working directory.
    return os.path.abspath(os.environ.get("ARCA_BIN") or str(REPO_ROOT / "target" / "debug" / "arca"))


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------
# Name resolution: every *.localhost name (and localhost itself) -> 127.0.0.1,
# inside this process only. The server listens on 127.0.0.1, so `localhost`
# must not resolve to ::1 first either.
# ---------------------------------------------------------------------------

_REAL_GETADDRINFO = socket.getaddrinfo


def is_local_name(host: Any) -> bool:
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "ignore")
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def _local_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's own names
    if is_local_name(host):
        return _REAL_GETADDRINFO("127.0.0.1", port, socket.AF_INET, type, proto, socket.AI_NUMERICHOST)
    return _REAL_GETADDRINFO(host, port, family, type, proto, flags)


_local_getaddrinfo._arca_local = True  # type: ignore[attr-defined]


def install_localhost_resolver() -> None:
    """Wrap socket.getaddrinfo (used by urllib3/requests and by asyncio's
    loop.getaddrinfo, which aiohttp's default ThreadedResolver calls)."""
    if not getattr(socket.getaddrinfo, "_arca_local", False):
        socket.getaddrinfo = _local_getaddrinfo


# ---------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------


class ArcaStartError(RuntimeError):
    pass


def _tail(path: Path, limit: int = 12000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    if len(text) > limit:
        text = "...[truncated]...\n" + text[-limit:]
    return text


class ArcaServer:
    """One `arca serve` process on its own data dir and port.

    The same object can be started again after stop() (restart on the same data
    dir and port); the logs of every run are kept in separate files.
    """

    def __init__(self, workdir: Path, *, port: Optional[int] = None, binary: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.port = port or free_port()
        self.binary = binary or arca_bin()
        self.env = dict(env) if env is not None else dict(os.environ)
        self.proc: Optional[subprocess.Popen] = None
        self.runs = 0
        self.stdout_paths: List[Path] = []
        self.stderr_paths: List[Path] = []
        self.returncodes: List[Optional[int]] = []
        self._bootstrap: Optional[Dict[str, Any]] = None

    # -- addresses -----------------------------------------------------
    @property
    def bootstrap_path(self) -> Path:
        return self.data_dir / "bootstrap.json"

    @property
    def bootstrap(self) -> Dict[str, Any]:
        if self._bootstrap is None:
            self._bootstrap = self.read_bootstrap()
        return self._bootstrap

    def read_bootstrap(self) -> Dict[str, Any]:
        return json.loads(self.bootstrap_path.read_text(encoding="utf-8"))

    @property
    def ca_cert(self) -> str:
        return self.bootstrap["ca_cert"]

    @property
    def resource(self) -> str:
        return f"https://{DNS_SUFFIX}:{self.port}"

    def vault_url(self, vault: str) -> str:
        return f"https://{vault}.{DNS_SUFFIX}:{self.port}"

    @property
    def healthz_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/healthz"

    # -- lifecycle -----------------------------------------------------
    def command(self) -> List[str]:
        return [
            self.binary, "serve",
            "--data-dir", str(self.data_dir),
            "--listen", f"127.0.0.1:{self.port}",
            "--dns-suffix", DNS_SUFFIX,
        ]

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("arca server already running")
        if not os.path.exists(self.binary):
            raise ArcaStartError(
                f"arca binary not found at {self.binary} (set ARCA_BIN or run `cargo build --workspace --bins`)")
        self.runs += 1
        self._bootstrap = None
        out_path = self.workdir / f"server-run{self.runs}.stdout.log"
        err_path = self.workdir / f"server-run{self.runs}.stderr.log"
        self.stdout_paths.append(out_path)
        self.stderr_paths.append(err_path)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=self.env, cwd=str(self.workdir))
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "bootstrap.json not written yet"
        while True:
            assert self.proc is not None
            rc = self.proc.poll()
            if rc is not None:
                self.returncodes.append(rc)
                raise ArcaStartError(self.describe(f"`arca serve` exited with status {rc} before it was ready"))
            last = self._probe() or ""
            if not last:
                return
            if time.monotonic() >= deadline:
                raise ArcaStartError(self.describe(
                    f"`arca serve` not ready after {timeout:.0f}s (last check: {last})"))
            time.sleep(0.1)

    def _probe(self) -> Optional[str]:
        """None when ready, else the reason it is not."""
        if not self.bootstrap_path.exists():
            return "bootstrap.json not written yet"
        try:
            boot = self.read_bootstrap()
        except (OSError, ValueError) as exc:
            return f"bootstrap.json unreadable: {exc}"
        missing = [k for k in BOOTSTRAP_KEYS if k not in boot]
        if missing:
            return f"bootstrap.json lacks {missing}"
        if not os.path.isfile(boot["ca_cert"]):
            return f"CA file {boot['ca_cert']} missing"
        try:
            status = self.healthz_status(boot["ca_cert"])
        except (OSError, ssl.SSLError, urllib.error.URLError) as exc:
            return f"GET /healthz failed: {exc!r}"
        if status != 200:
            return f"GET /healthz answered {status}"
        self._bootstrap = boot
        return None

    def healthz_status(self, ca_cert: Optional[str] = None) -> int:
        ctx = ssl.create_default_context(cafile=ca_cert or self.ca_cert)
        req = urllib.request.Request(self.healthz_url, method="GET")
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=3) as resp:
                resp.read()
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """SIGTERM, wait; SIGKILL if it does not stop. Returns the exit status
        (negative = killed by that signal; None = never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                rc = self.proc.returncode
                self.returncodes.append(rc)
                self.proc = None
                raise AssertionError(self.describe(f"`arca serve` ignored SIGTERM for {timeout:.0f}s; killed"))
        rc = self.proc.returncode
        self.returncodes.append(rc)
        self.proc = None
        return rc

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.proc = None

    # -- diagnostics ---------------------------------------------------
    def all_output(self) -> str:
        parts = []
        for path in self.stdout_paths + self.stderr_paths:
            try:
                parts.append(path.read_bytes().decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def describe(self, message: str) -> str:
        lines = [message, f"command: {' '.join(self.command())}"]
        if self.stderr_paths:
            lines.append(f"--- server stderr ({self.stderr_paths[-1]}) ---")
            lines.append(_tail(self.stderr_paths[-1]) or "(empty)")
            out = _tail(self.stdout_paths[-1])
            if out:
                lines.append(f"--- server stdout ({self.stdout_paths[-1]}) ---")
                lines.append(out)
        return "\n".join(lines)

    # -- admin CLI -----------------------------------------------------
    def cli(self, *args: str, timeout: float = CLI_TIMEOUT,
            extra_env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        """Run `arca <args...> --data-dir <dir>`; never raises on non-zero exit.

        `extra_env` is added to the server's environment (e.g. ARCA_CLIENT_ID and
        ARCA_CLIENT_SECRET, which make the CLI sign in as another principal)."""
        cmd = [self.binary, *args, "--data-dir", str(self.data_dir)]
        env = dict(self.env, **(extra_env or {}))
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=str(self.workdir))

    def cli_json(self, *args: str, extra_env: Optional[Dict[str, str]] = None) -> Any:
        """`arca <args...> --output json`, parsed; raises AssertionError on a non-zero exit."""
        proc = self.cli(*args, "--output", "json", extra_env=extra_env)
        if proc.returncode != 0:
            raise AssertionError(cli_failure(proc))
        try:
            return json.loads(proc.stdout) if proc.stdout.strip() else None
        except ValueError as exc:
            raise AssertionError(f"--output json printed something that is not JSON ({exc})\n"
                                 + cli_failure(proc)) from None

    def vault_cli(self, verb: str, *args: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        """`arca vault <verb> <args...> --data-dir <dir> --output json`."""
        cmd = [self.binary, "vault", verb, *args, "--data-dir", str(self.data_dir), "--output", "json"]
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, env=self.env, cwd=str(self.workdir))


@contextlib.contextmanager
def started_server(prefix: str, env: Dict[str, str],
                   trust: Optional[Callable[[str], None]] = None) -> Iterator[ArcaServer]:
    """A started server of its own in a new temporary directory named `<prefix>...`, for tests
    that must not disturb (or be disturbed by) the session server. Its CA file is handed to
    `trust` when given (conftest's add_trusted_ca, for the Python SDK). The server is killed on
    leaving; its directory (logs, data) is removed unless the start or the body failed."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    server = ArcaServer(workdir, env=env)
    ok = False
    try:
        server.start()
        if trust is not None:
            trust(server.ca_cert)
        yield server
        ok = True
    finally:
        server.kill()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)


def cli_failure(proc: subprocess.CompletedProcess) -> str:
    return (f"command {proc.args!r} exited {proc.returncode}\n--- stdout ---\n{proc.stdout}"
            f"\n--- stderr ---\n{proc.stderr}")


def vault_names_from_list_output(stdout: str) -> List[str]:
    """Names from `arca vault list --output json`: a JSON array of vault objects
    (or of names), or an object holding such an array under value/vaults/items."""
    data = json.loads(stdout)
    if isinstance(data, dict):
        for key in ("value", "vaults", "items"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        raise AssertionError(f"`arca vault list --output json` printed neither an array nor a list object: {stdout!r}")
    names = []
    for item in data:
        if isinstance(item, str):
            names.append(item.lower())
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(item["name"].lower())
        else:
            raise AssertionError(f"vault list entry without a name: {item!r}")
    return names


def listed(data: Any) -> List[Any]:
    """The items of a list answer printed by `--output json`: a JSON array, or an object holding
    the array under value/items."""
    if isinstance(data, dict):
        for key in ("value", "items"):
            if isinstance(data.get(key), list):
                return data[key]
    if not isinstance(data, list):
        raise AssertionError(f"expected a JSON array or {{\"value\": [...]}}, got {data!r}")
    return data


def find_values(obj: Any, key_fragment: str) -> List[Any]:
    """All values (recursively) whose key contains key_fragment (case-insensitive)."""
    found = []
    frag = key_fragment.lower()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if frag in str(k).lower().replace("-", "_"):
                found.append(v)
            found.extend(find_values(v, key_fragment))
    elif isinstance(obj, list):
        for v in obj:
            found.extend(find_values(v, key_fragment))
    return found


# ---------------------------------------------------------------------------
# JWT helpers (no third-party JWT library: tests must see the raw shapes)
# ---------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> Sequence[Any]:
    """(header dict, payload dict, signature bytes, signing input bytes)."""
    head, body, sig = token.split(".")
    return (json.loads(b64url_decode(head)), json.loads(b64url_decode(body)), b64url_decode(sig),
            f"{head}.{body}".encode("ascii"))


def jwt_encode_unsigned(header: Dict[str, Any], payload: Dict[str, Any]) -> str:
    return (b64url_encode(json.dumps(header, separators=(",", ":")).encode())
            + "." + b64url_encode(json.dumps(payload, separators=(",", ":")).encode()))


def es256_sign(private_key: Any, header: Dict[str, Any], payload: Dict[str, Any]) -> str:
    """A compact JWS signed with an EC P-256 key (cryptography object)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    signing_input = jwt_encode_unsigned(header, payload)
    der = private_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def es256_verify(jwk: Dict[str, Any], token: str) -> bool:
    """Check a compact ES256 JWS against a public EC JWK."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    _, _, sig, signing_input = jwt_parts(token)
    if len(sig) != 64:
        return False
    x = int.from_bytes(b64url_decode(jwk["x"]), "big")
    y = int.from_bytes(b64url_decode(jwk["y"]), "big")
    key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


# ---------------------------------------------------------------------------
# Assertion helpers shared by the test modules
# ---------------------------------------------------------------------------


def describe(resp: Any) -> str:
    """A `requests` response as text for an assertion message."""
    return (f"{resp.request.method} {resp.request.url} -> {resp.status_code}\n"
            f"headers: {dict(resp.headers)}\nbody: {resp.text[:2000]}")


def assert_refused(proc) -> None:
    """A CLI run that must fail and say why on standard error."""
    assert proc.returncode != 0, "expected a non-zero exit\n" + cli_failure(proc)
    assert proc.stderr.strip(), "a refusal must explain itself on stderr\n" + cli_failure(proc)


def forbidden_by(inner_code: str, call: Callable[[], Any]) -> Dict[str, Any]:
    """Runs `call`, an SDK call that must fail with 403 `Forbidden` and the inner error code
    `inner_code` (ForbiddenByRbac, ForbiddenByFirewall); returns the error body."""
    import pytest
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as info:
        call()
    exc = info.value
    assert exc.status_code == 403, f"expected 403, got {exc.status_code}: {exc.message}"
    body = exc.response.json()
    assert body["error"]["code"] == "Forbidden", body
    assert (body["error"].get("innererror") or {}).get("code") == inner_code, body
    return body


def assert_challenge(resp: Any, challenge: str) -> None:
    """A 401 carrying exactly the deployment's bearer challenge and a Key Vault error body."""
    assert resp.status_code == 401, describe(resp)
    assert resp.headers.get("WWW-Authenticate") == challenge, describe(resp)
    assert resp.headers.get("Content-Type", "").lower().startswith("application/json"), describe(resp)
    error = resp.json().get("error")
    assert isinstance(error, dict) and error.get("code") == "Unauthorized", describe(resp)
    assert isinstance(error.get("message"), str) and error["message"], describe(resp)


def same_secret(got: bytes, want: bytes, what: str) -> None:
    """Fails unless `got` equals `want`, naming only `what` and the lengths: key material, plaintexts
    and unwrapped keys never reach an assertion message (a plain `assert a == b` in a test module
    would print both through pytest's assertion rewriting)."""
    import hmac

    if not isinstance(got, (bytes, bytearray)) or not hmac.compare_digest(bytes(got), bytes(want)):
        length = len(got) if isinstance(got, (bytes, bytearray)) else type(got).__name__
        raise AssertionError(f"{what}: got a different value ({length} bytes, wanted {len(want)})")
