"""Every secret operation through one azure-keyvault-secrets release, signed in by
DefaultAzureCredential. Run by the python of that release's venv (tests/sdk/compat/venvs.py),
driven by tests/sdk/test_sdk_versions.py:

    <venv>/bin/python secret_ops.py VAULT_URL NAME_PREFIX

Works with every release from 4.0 to the newest: only methods 4.0 already had are called, with
their 4.0 signatures. The environment chooses the sign-in route (AZURE_* for
EnvironmentCredential, IDENTITY_* or MSI_* for managed identity). Two variables stand for what
an application would write in its code: ARCA_COMPAT_AUTHORITY becomes
DefaultAzureCredential(authority=...) (azure-identity 1.3 does not read AZURE_AUTHORITY_HOST), and
ARCA_COMPAT_DISABLE_INSTANCE_DISCOVERY=1 becomes DefaultAzureCredential(disable_instance_discovery=True)
(azure-identity 1.13 and later; without it MSAL asks login.microsoftonline.com about any other
authority).

Prints one JSON object on the last line of stdout:
  {"packages": {...}, "steps": [{"step": ..., "ok": true|false, "error": ...}],
   "requests": [[method, host, path, api-version or null], ...]}
and exits 0 when every step passed, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# The name resolver of the test harness (stdlib only): *.localhost -> 127.0.0.1 in this process,
# because this machine's resolver does not know default.vault.localhost or <vault>.vault.localhost.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from arca_harness import install_localhost_resolver  # noqa: E402

install_localhost_resolver()

import requests  # noqa: E402

SEEN = []
_send = requests.Session.send


def _recording_send(self, request, **kwargs):
    """Record every HTTP request the SDK, azure-identity and MSAL send (all go through requests)."""
    parts = urlsplit(request.url)
    api = parse_qs(parts.query).get("api-version", [None])[0]
    SEEN.append([request.method, parts.hostname, parts.path, api])
    return _send(self, request, **kwargs)


requests.Session.send = _recording_send

from importlib import metadata  # noqa: E402

from azure.core.exceptions import ResourceNotFoundError  # noqa: E402
from azure.identity import DefaultAzureCredential  # noqa: E402
from azure.keyvault.secrets import SecretClient  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main(vault_url, prefix):
    kwargs = {}
    if os.environ.get("ARCA_COMPAT_AUTHORITY"):
        kwargs["authority"] = os.environ["ARCA_COMPAT_AUTHORITY"]
    if os.environ.get("ARCA_COMPAT_DISABLE_INSTANCE_DISCOVERY") == "1":
        kwargs["disable_instance_discovery"] = True
    credential = DefaultAzureCredential(**kwargs)
    client = SecretClient(vault_url, credential)
    name, other = f"{prefix}-a", f"{prefix}-b"
    state = {}
    steps = []

    def s_set():
        first = client.set_secret(name, "value-one")
        second = client.set_secret(name, "value-two", content_type="text/plain", tags={"round": "2"})
        client.set_secret(other, "other-value")
        check(first.value == "value-one" and second.value == "value-two", "set_secret returned other values")
        check(first.properties.version != second.properties.version, "two sets gave one version")
        check(second.properties.content_type == "text/plain", "content type not kept")
        state["v1"], state["v2"] = first.properties.version, second.properties.version

    def s_get():
        latest = client.get_secret(name)
        check(latest.value == "value-two", f"get_secret gave {latest.value!r}")
        check(latest.properties.version == state["v2"], "latest is not the second version")
        check(latest.properties.tags == {"round": "2"}, f"tags {latest.properties.tags!r}")

    def s_get_version():
        old = client.get_secret(name, state["v1"])
        check(old.value == "value-one" and old.properties.version == state["v1"], "get by version")

    def s_update():
        props = client.update_secret_properties(name, state["v1"], content_type="application/x-old",
                                                tags={"updated": "yes"}, enabled=False)
        check(props.content_type == "application/x-old", "update: content type")
        check(props.tags == {"updated": "yes"} and props.enabled is False, "update: tags or enabled")
        check(not hasattr(props, "value"), "update returned a value")
        listed = {p.version: p for p in client.list_properties_of_secret_versions(name)}
        check(listed[state["v1"]].enabled is False, "disabled version listed as enabled")
        client.update_secret_properties(name, state["v1"], enabled=True)

    def s_list():
        names = {p.name for p in client.list_properties_of_secrets()}
        check({name, other} <= names, f"list_properties_of_secrets lacks ours: {sorted(names)}")

    def s_list_versions():
        versions = {p.version for p in client.list_properties_of_secret_versions(name)}
        check(versions == {state["v1"], state["v2"]}, f"versions {versions}")

    def s_backup():
        state["backup"] = client.backup_secret(name)
        check(isinstance(state["backup"], bytes) and len(state["backup"]) > 0, "empty backup")

    def s_delete():
        deleted = client.begin_delete_secret(name).result()
        check(deleted.name == name and deleted.recovery_id, f"deleted secret {deleted!r}")
        try:
            client.get_secret(name)
        except ResourceNotFoundError:
            pass
        else:
            raise AssertionError("a deleted secret still reads")

    def s_get_deleted():
        deleted = client.get_deleted_secret(name)
        check(deleted.name == name and deleted.deleted_date is not None, "get_deleted_secret")
        check(deleted.properties.version == state["v2"], "deleted secret is not the latest version")

    def s_list_deleted():
        names = {d.name for d in client.list_deleted_secrets()}
        check(name in names and other not in names, f"list_deleted_secrets {sorted(names)}")

    def s_recover():
        recovered = client.begin_recover_deleted_secret(name).result()
        check(recovered.name == name, "recovered name")
        check(client.get_secret(name).value == "value-two", "recovered value")

    def s_purge():
        client.begin_delete_secret(name).result()
        client.purge_deleted_secret(name)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.get_deleted_secret(name)
            except ResourceNotFoundError:
                break
            check(time.monotonic() < deadline, "still deleted-but-not-purged after 10 s")
            time.sleep(0.2)

    def s_restore():
        restored = client.restore_secret_backup(state["backup"])
        check(restored.name == name, "restored name")
        check(client.get_secret(name).value == "value-two", "restored value")
        check(client.get_secret(name, state["v1"]).value == "value-one", "restored old version")

    plan = [("set", s_set), ("get", s_get), ("get_version", s_get_version), ("update_properties", s_update),
            ("list", s_list), ("list_versions", s_list_versions), ("backup", s_backup),
            ("delete_poller", s_delete), ("get_deleted", s_get_deleted), ("list_deleted", s_list_deleted),
            ("recover", s_recover), ("purge", s_purge), ("restore", s_restore)]
    failed = False
    for step, fn in plan:
        if failed:
            steps.append({"step": step, "ok": False, "error": "not run: an earlier step failed"})
            continue
        try:
            fn()
            steps.append({"step": step, "ok": True})
        except Exception as exc:  # noqa: BLE001 - reported to the driving test
            failed = True
            steps.append({"step": step, "ok": False, "error": f"{type(exc).__name__}: {exc}",
                          "traceback": traceback.format_exc()[-3000:]})
    packages = {}
    for dist in ("azure-keyvault-secrets", "azure-identity", "azure-core", "msal", "requests"):
        try:
            packages[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            packages[dist] = None
    print(json.dumps({"packages": packages, "steps": steps, "requests": SEEN}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
