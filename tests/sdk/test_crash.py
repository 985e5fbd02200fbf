"""Crash consistency: every write Arca acknowledged survives a SIGKILL.

Arca promises that a state change is durable before it is acknowledged (ARCHITECTURE.md,
invariant 6: group commit, SQLite WAL with `synchronous=FULL`). This module holds it to that
under load, from the outside:

  1. Eight writer threads PUT new versions of secrets spread over 50 names (so each name gets
     many versions, some of them 20 KB values) as fast as a server of this module's own takes
     them. Every write carries a unique value, recorded before it is sent; a 200 answer with a
     bundle is an acknowledgement, recorded with its version id.
  2. After a delay that differs per round (0.2 s to 2.5 s of load) the server gets SIGKILL:
     no drain, no shutdown, no final checkpoint. Writes in flight at that moment were never
     acknowledged; they may or may not exist afterwards.
  3. The server is restarted on the same data dir and port; it must answer /healthz, and
     neither the killed run nor the restarted one may log a panic or an ERROR line. Then,
     over raw HTTP:
       - every acknowledged version reads back by id with its exact value;
       - each name's current version holds a value written to that name (acknowledged or in
         flight), never garbage, and is not older than a version acknowledged for that name
         by a write that started after this one was acknowledged;
       - listing a name's versions shows every acknowledged version, and nothing but
         versions of writes that were actually sent;
       - what earlier rounds verified still holds (the rounds share one data dir, so later
         crashes also test the database that earlier crashes and recoveries left behind).

SIGKILL leaves the kernel's page cache in place, so this proves that Arca answers a write only
once it has left the process for the database, and that recovery after a crash loses nothing
acknowledged and keeps each name's current version consistent with its versions; it cannot
prove the fsync itself (that takes a power cut). It catches a write answered noticeably
before it is committed (write-behind, a commit timer, an in-memory queue or cache), not one
answered a few microseconds early.

A round killed after 0.5 s or more must have had at least MIN_ACKED acknowledged writes, so a
pass means something. On a slow machine set ARCA_CRASH_TIME_SCALE (e.g. 2) to lengthen every
delay rather than weaken the check.
"""

from __future__ import annotations

import base64
import os
import random
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from arca_harness import ArcaServer, describe

API = "7.5"
WRITERS = 8
NAMES_PER_ROUND = 50
LARGE_VALUE_CHARS = 20 * 1024
LARGE_EVERY = 8  # every eighth write of each writer carries a LARGE_VALUE_CHARS value
KILL_DELAYS = (0.2, 0.5, 1.0, 1.7, 2.5)  # seconds of load before the SIGKILL
MIN_ACKED = 50  # acknowledged writes required in rounds killed at >= MIN_ACKED_FROM seconds
MIN_ACKED_FROM = 0.5
TIME_SCALE = float(os.environ.get("ARCA_CRASH_TIME_SCALE") or "1")
TIMEOUT = 30
VERIFY_THREADS = 8
PANIC_MARKERS = ("panicked", "RUST_BACKTRACE")  # the default hook's "thread ... panicked at", its note
ERROR_LEVEL = re.compile(r"^\S+\s+ERROR\s")  # tracing's "<timestamp> ERROR <target>: ..."
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass
class Write:
    """One PUT as the client saw it. `finished`/`version` are set only for an acknowledgement."""

    name: str
    value: str
    started: float
    client_request_id: str
    finished: Optional[float] = None
    version: Optional[str] = None
    request_id: Optional[str] = None  # the server's x-ms-request-id, to find it in the log

    @property
    def acknowledged(self) -> bool:
        return self.version is not None

    def label(self) -> str:
        state = f"acknowledged as version {self.version}" if self.acknowledged else "not acknowledged"
        span = (f"sent at +{self.started:.3f}s" + (f", answered at +{self.finished:.3f}s" if self.finished else ""))
        return (f"{self.name} ({state}; {span}; {len(self.value)} chars; client request id "
                f"{self.client_request_id}; server request id {self.request_id})")


@dataclass
class WriterLog:
    attempts: List[Write] = field(default_factory=list)
    stopped_by: Optional[BaseException] = None
    stopped_at: Optional[float] = None
    unexpected: List[str] = field(default_factory=list)  # answers that are neither ack nor crash


@dataclass
class RoundRecord:
    """What a verified round left behind, re-checked by later rounds."""

    label: str
    acked: List[Write]
    latest: Dict[str, Tuple[str, str]]  # name -> (version, value) observed after the restart


@dataclass
class CrashHarness:
    server: ArcaServer
    vault_url: str
    token: str
    ca_cert: str
    verified: List[RoundRecord] = field(default_factory=list)
    rounds_started: int = 0
    rounds_passed: int = 0
    summaries: List[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# The server of this module
# ---------------------------------------------------------------------------


def fetch_token(server: ArcaServer) -> str:
    boot = server.bootstrap
    url = f"{boot['authority_host'].rstrip('/')}/{boot['tenant_id']}/oauth2/v2.0/token"
    form = {"grant_type": "client_credentials", "client_id": boot["client_id"],
            "client_secret": boot["client_secret"], "scope": f"{server.resource}/.default"}
    resp = requests.post(url, data=form, verify=boot["ca_cert"], timeout=TIMEOUT)
    assert resp.status_code == 200, describe(resp)
    return resp.json()["access_token"]


@pytest.fixture(scope="module")
def crash(server_env) -> Iterator[CrashHarness]:
    workdir = Path(tempfile.mkdtemp(prefix="arca-crash-"))
    server = ArcaServer(workdir, env=server_env)
    harness: Optional[CrashHarness] = None
    try:
        server.start()
        boot = server.bootstrap
        harness = CrashHarness(server=server, vault_url=boot["vault_url"].rstrip("/"),
                               token=fetch_token(server), ca_cert=boot["ca_cert"])
        yield harness
    finally:
        server.kill()
        passed = harness is not None and harness.rounds_passed == harness.rounds_started
        if passed and not os.environ.get("ARCA_TEST_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"\narca crash test: logs and data kept in {workdir}")


def sigkill(server: ArcaServer) -> int:
    """SIGKILL the server process (no graceful stop) and reap it; returns its exit status."""
    assert server.proc is not None and server.running(), server.describe("the server died before the kill")
    os.kill(server.proc.pid, signal.SIGKILL)
    rc = server.proc.wait(timeout=10)
    server.returncodes.append(rc)
    server.proc = None
    return rc


def alarming_lines(path: Path) -> List[str]:
    """Log lines telling of a panic or logged at ERROR level (ANSI colours removed)."""
    try:
        text = ANSI_ESCAPE.sub("", path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []
    return [line for line in text.splitlines()
            if any(m in line for m in PANIC_MARKERS) or ERROR_LEVEL.search(line)]


# ---------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------


def version_of(secret_id: str) -> str:
    return secret_id.rstrip("/").rsplit("/", 1)[1]


def new_session(ca_cert: str, token: str) -> requests.Session:
    session = requests.Session()
    # Not trust_env: REQUESTS_CA_BUNDLE (the session server's CA) would override `verify`.
    session.trust_env = False
    session.verify = ca_cert
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def run_writer(h: CrashHarness, names: List[str], seed: int, epoch: float, go: threading.Event,
               log: WriterLog) -> None:
    rng = random.Random(seed)
    session = new_session(h.ca_cert, h.token)
    params = {"api-version": API}
    seq = 0
    try:
        go.wait()
        while True:
            seq += 1
            name = rng.choice(names)
            value = f"{name}|w{seed}|{seq}|{uuid.uuid4().hex}"
            if seq % LARGE_EVERY == 0:
                pad = base64.b64encode(os.urandom(LARGE_VALUE_CHARS)).decode("ascii")
                value = (value + "|" + pad)[:LARGE_VALUE_CHARS]
            write = Write(name=name, value=value, started=time.monotonic() - epoch,
                          client_request_id=str(uuid.uuid4()))
            log.attempts.append(write)  # attempted before it is sent: in flight from here on
            try:
                resp = session.put(f"{h.vault_url}/secrets/{name}", params=params, json={"value": value},
                                   headers={"x-ms-client-request-id": write.client_request_id}, timeout=TIMEOUT)
            except requests.RequestException as exc:  # the kill (or a crash: judged by the caller)
                log.stopped_by, log.stopped_at = exc, time.monotonic() - epoch
                return
            try:
                body = resp.json() if resp.status_code == 200 else None
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("id"), str):
                log.unexpected.append(f"write of {name} answered without an acknowledgement\n{describe(resp)}")
                return
            if body.get("value") != value:
                log.unexpected.append(f"write of {name}: the bundle returned another value "
                                      f"(request id {resp.headers.get('x-ms-request-id')})")
                return
            write.finished = time.monotonic() - epoch
            write.request_id = resp.headers.get("x-ms-request-id")
            write.version = version_of(body["id"])
    finally:
        session.close()


# ---------------------------------------------------------------------------
# Reading back
# ---------------------------------------------------------------------------


class Reader:
    """Parallel raw-HTTP reads against the vault, one requests.Session per worker thread."""

    def __init__(self, h: CrashHarness) -> None:
        self.h = h
        self.local = threading.local()
        self.sessions: List[requests.Session] = []
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=VERIFY_THREADS)

    def session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = new_session(self.h.ca_cert, self.h.token)
            self.local.session = session
            with self.lock:
                self.sessions.append(session)
        return session

    def get(self, path_or_url: str, params: Optional[Dict[str, str]] = None) -> requests.Response:
        url = path_or_url if path_or_url.startswith("https://") else self.h.vault_url + path_or_url
        query = {"api-version": API, **(params or {})}
        return self.session().get(url, params=query, timeout=TIMEOUT)

    def versions(self, name: str, may_be_absent: bool) -> Tuple[List[str], Optional[str]]:
        """All version ids listed for a name (following nextLink), or a problem. A name that
        `may_be_absent` (nothing acknowledged) may answer 404 (SecretNotFound): no versions."""
        found: List[str] = []
        resp = self.get(f"/secrets/{name}/versions", {"maxresults": "25"})
        if may_be_absent and resp.status_code == 404 and resp.json().get("error", {}).get("code") == "SecretNotFound":
            return found, None
        for _ in range(1000):
            if resp.status_code != 200:
                return found, f"listing the versions of {name} failed\n{describe(resp)}"
            body = resp.json()
            found.extend(version_of(item["id"]) for item in body.get("value") or [])
            link = body.get("nextLink")
            if not link:
                return found, None
            parsed = urlparse(link)
            query = {k: v[0] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
            query.pop("api-version", None)
            resp = self.get(parsed._replace(query="").geturl(), query)
        return found, f"listing the versions of {name}: paging did not end"

    def map(self, fn: Callable[[Any], Any], items: List[Any]) -> List[Any]:
        return list(self.pool.map(fn, items))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for session in self.sessions:
            session.close()


def check_acked_version(reader: Reader, w: Write) -> Optional[str]:
    resp = reader.get(f"/secrets/{w.name}/{w.version}")
    if resp.status_code != 200:
        return f"LOST acknowledged write: {w.label()}: reading it back answered {resp.status_code}\n{describe(resp)}"
    body = resp.json()
    if body.get("value") != w.value:
        got = body.get("value")
        shown = f"{len(got)} chars starting {got[:60]!r}" if isinstance(got, str) else repr(got)
        return f"CORRUPT acknowledged write: {w.label()}: read back {shown}"
    if version_of(body.get("id", "")) != w.version:
        return f"acknowledged write {w.label()} read back under id {body.get('id')!r}"
    return None


def check_name(reader: Reader, name: str, writes: List[Write]) -> Tuple[List[str], Optional[Tuple[str, str]]]:
    """Current version and version list of one name against what was sent to it."""
    problems: List[str] = []
    by_value = {w.value: w for w in writes}
    acked = [w for w in writes if w.acknowledged]
    acked_versions = {w.version: w for w in acked}
    latest: Optional[Tuple[str, str]] = None

    resp = reader.get(f"/secrets/{name}")
    if resp.status_code == 404 and not acked:
        pass  # nothing acknowledged, and nothing in flight landed
    elif resp.status_code != 200:
        problems.append(f"current version of {name} ({len(acked)} acknowledged writes) answered "
                        f"{resp.status_code}\n{describe(resp)}")
    else:
        body = resp.json()
        value, version = body.get("value"), version_of(body.get("id", ""))
        latest = (version, value)
        source = by_value.get(value) if isinstance(value, str) else None
        if source is None:
            shown = f"{len(value)} chars starting {value[:60]!r}" if isinstance(value, str) else repr(value)
            problems.append(f"GARBAGE current version {version} of {name}: its value ({shown}) was never "
                            f"sent to {name}")
        else:
            if source.acknowledged and source.version != version:
                problems.append(f"current version of {name} is {version} but holds the value of {source.label()}")
            if source.finished is not None:
                newer = [w for w in acked if w.started > source.finished]
                if newer:
                    problems.append(f"STALE current version of {name}: it is {source.label()}, but "
                                    f"{len(newer)} later writes were acknowledged, e.g. {newer[-1].label()}")

    listed, problem = reader.versions(name, may_be_absent=not acked)
    if problem:
        problems.append(problem)
        return problems, latest
    if latest is None and listed:
        problems.append(f"{name} has no current version, yet lists versions {sorted(listed)}")
    if len(listed) != len(set(listed)):
        problems.append(f"versions of {name} listed more than once: {sorted(listed)}")
    missing = [acked_versions[v] for v in acked_versions if v not in set(listed)]
    for w in missing:
        problems.append(f"acknowledged version missing from the version list of {name}: {w.label()}")
    extra = sorted(set(listed) - set(acked_versions))
    in_flight = [w for w in writes if not w.acknowledged]
    if len(extra) > len(in_flight):
        problems.append(f"{name} lists {len(extra)} unacknowledged versions but only {len(in_flight)} of its "
                        f"writes were in flight: {extra}")
    seen_values: Set[str] = set()
    for version in extra:
        resp = reader.get(f"/secrets/{name}/{version}")
        if resp.status_code != 200:
            problems.append(f"listed version {version} of {name} does not read back\n{describe(resp)}")
            continue
        value = resp.json().get("value")
        source = by_value.get(value) if isinstance(value, str) else None
        if source is None or source.acknowledged:
            problems.append(f"listed version {version} of {name} holds a value that no unacknowledged write "
                            f"of {name} sent ({'garbage' if source is None else source.label()})")
        elif value in seen_values:
            problems.append(f"the in-flight write {source.label()} landed as more than one version")
        seen_values.add(value)
    return problems, latest


def check_earlier_round(reader: Reader, record: RoundRecord) -> List[str]:
    problems = [p for p in reader.map(lambda w: check_acked_version(reader, w), record.acked) if p]

    def latest_unchanged(item: Tuple[str, Tuple[str, str]]) -> Optional[str]:
        name, (version, value) = item
        resp = reader.get(f"/secrets/{name}")
        if resp.status_code != 200:
            return f"{name} (round {record.label}) no longer reads back\n{describe(resp)}"
        body = resp.json()
        if (version_of(body.get("id", "")), body.get("value")) != (version, value):
            return (f"current version of {name} (round {record.label}) changed across a later crash: was "
                    f"{version}, now {version_of(body.get('id', ''))}")
        return None

    problems += [p for p in reader.map(latest_unchanged, sorted(record.latest.items())) if p]
    return [f"[earlier round {record.label}] {p}" for p in problems]


# ---------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kill_after", KILL_DELAYS, ids=[f"kill-after-{d}s" for d in KILL_DELAYS])
def test_acknowledged_writes_survive_sigkill(crash: CrashHarness, kill_after: float) -> None:
    h, server = crash, crash.server
    h.rounds_started += 1
    if not server.running():  # an earlier round failed before its restart
        server.start()
    delay = kill_after * TIME_SCALE
    label = f"kill after {delay:.2f}s"
    tag = uuid.uuid4().hex[:6]
    names = [f"crash-{tag}-{i:02d}" for i in range(NAMES_PER_ROUND)]

    # 1. Load, then SIGKILL mid-load.
    logs = [WriterLog() for _ in range(WRITERS)]
    go = threading.Event()
    epoch = time.monotonic()
    threads = [threading.Thread(target=run_writer, args=(h, names, i + 1, epoch, go, logs[i]),
                                name=f"crash-writer-{i}", daemon=True) for i in range(WRITERS)]
    for t in threads:
        t.start()
    epoch_start = time.monotonic()
    go.set()
    time.sleep(delay)
    killed_at = time.monotonic() - epoch
    rc = sigkill(server)
    for t in threads:
        t.join(timeout=TIMEOUT + 10)
    assert not any(t.is_alive() for t in threads), "a writer did not stop after the server was killed"
    load_secs = killed_at - (epoch_start - epoch)
    killed_log = (server.stdout_paths[-1], server.stderr_paths[-1])

    writes = [w for log in logs for w in log.attempts]
    acked = [w for w in writes if w.acknowledged]
    in_flight = [w for w in writes if not w.acknowledged]
    by_name: Dict[str, List[Write]] = {n: [] for n in names}
    for w in writes:
        by_name[w.name].append(w)
    summary = (f"[{label}] {len(acked)} writes acknowledged in {load_secs:.2f}s of load "
               f"({len(acked) / max(load_secs, 1e-9):.0f}/s; {sum(len(w.value) >= LARGE_VALUE_CHARS for w in acked)} "
               f"of them 20 KB values; {len(in_flight)} in flight at the kill; "
               f"{sum(1 for ws in by_name.values() if any(w.acknowledged for w in ws))} names, "
               f"up to {max((sum(w.acknowledged for w in ws) for ws in by_name.values()), default=0)} "
               f"acknowledged versions per name); exit status {rc}")

    problems: List[str] = []
    if rc != -signal.SIGKILL:
        problems.append(f"the server exited with status {rc} before the SIGKILL took it")
    for i, log in enumerate(logs):
        problems += [f"writer {i}: {u}" for u in log.unexpected]
        if log.stopped_by is not None and log.stopped_at is not None and log.stopped_at < killed_at:
            problems.append(f"writer {i} lost its connection at +{log.stopped_at:.3f}s, before the kill at "
                            f"+{killed_at:.3f}s: {log.stopped_by!r}")
    for path in killed_log:
        problems += [f"log of the killed run ({path}): {line}" for line in alarming_lines(path)]

    # 2. Restart on the same data dir and port.
    restart_began = time.monotonic()
    server.start()
    restart_secs = time.monotonic() - restart_began
    health = server.healthz_status()
    if health != 200:
        problems.append(f"the restarted server answers /healthz with {health}")

    # 3. Read everything back.
    verify_began = time.monotonic()
    reader = Reader(h)
    latest: Dict[str, Tuple[str, str]] = {}
    try:
        problems += [p for p in reader.map(lambda w: check_acked_version(reader, w), acked) if p]
        for name, (name_problems, current) in zip(
                names, reader.map(lambda n: check_name(reader, n, by_name[n]), names)):
            problems += name_problems
            if current is not None:
                latest[name] = current
        for record in h.verified:
            problems += check_earlier_round(reader, record)
    finally:
        reader.close()
    verify_secs = time.monotonic() - verify_began

    for path in (server.stdout_paths[-1], server.stderr_paths[-1]):
        problems += [f"log of the restarted run ({path}): {line}" for line in alarming_lines(path)]
    if kill_after >= MIN_ACKED_FROM and len(acked) < MIN_ACKED:
        problems.append(f"only {len(acked)} writes were acknowledged before the kill (at least {MIN_ACKED} "
                        f"needed for a meaningful round); set ARCA_CRASH_TIME_SCALE to lengthen the load")

    summary += f"; restart {restart_secs:.2f}s, read-back {verify_secs:.2f}s"
    h.summaries.append(summary)
    print("\n" + summary)
    if problems:
        shown = problems[:40] + ([f"... and {len(problems) - 40} more"] if len(problems) > 40 else [])
        pytest.fail(f"{summary}\n{len(problems)} problems after SIGKILL and restart:\n" + "\n".join(shown)
                    + f"\nserver logs in {server.workdir}", pytrace=False)
    h.verified.append(RoundRecord(label=label, acked=acked, latest=latest))
    h.rounds_passed += 1
