"""Every secrets operation through the official azure-keyvault-secrets client.

Runs through the sync client (azure.keyvault.secrets) and the async client
(azure.keyvault.secrets.aio) via sdk_facade, with ClientSecretCredential and
DefaultAzureCredential (App Service managed identity from IDENTITY_ENDPOINT /
IDENTITY_HEADER). Clients use default options only.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from arca_harness import jwt_parts

MODES = ("sync", "async")
KINDS = ("client_secret", "default")
VERSION_RE = re.compile(r"^[0-9a-f]{32}$")
CLOCK_SLACK = timedelta(minutes=5)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def assert_recent(moment: datetime, what: str) -> None:
    assert moment is not None, f"{what} missing"
    now = utcnow()
    assert now - CLOCK_SLACK <= moment <= now + CLOCK_SLACK, f"{what}={moment} is not close to now ({now})"


def error_of(exc: HttpResponseError):
    """(HTTP status, error.code, innererror.code) of an SDK exception."""
    err = exc.error
    code = err.code if err is not None else None
    inner = (err.innererror or {}).get("code") if err is not None else None
    return exc.status_code, code, inner


def versions_of(api, name: str) -> list:
    return sorted(p.version for p in api.items("list_properties_of_secret_versions", name))


def cleanup(api, name: str) -> None:
    """Delete and purge; ignore a name that is already gone."""
    try:
        api.delete_secret(name)
    except ResourceNotFoundError:
        pass
    try:
        api.purge_deleted_secret(name)
    except ResourceNotFoundError:
        pass


@pytest.fixture(params=[(m, k) for m in MODES for k in KINDS], ids=lambda p: f"{p[0]}-{p[1]}")
def api(request, make_secrets_api, vault_url):
    """All four client x credential combinations, on the default vault."""
    mode, kind = request.param
    return make_secrets_api(mode, kind, vault_url)


@pytest.fixture(params=MODES)
def api_cs(request, make_secrets_api, vault_url):
    """Sync and async client with ClientSecretCredential, on the default vault."""
    return make_secrets_api(request.param, "client_secret", vault_url)


# ---------------------------------------------------------------------------
# The full lifecycle, four ways
# ---------------------------------------------------------------------------


def test_secret_lifecycle(api, vault_url, unique_name):
    name = unique_name("life")
    nbf = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    exp = datetime(2040, 6, 7, 8, 9, 10, tzinfo=timezone.utc)

    # set (first version) with every settable field
    s1 = api.set_secret(name, "value-one", content_type="text/plain", tags={"env": "test", "owner": "sdk"},
                        enabled=True, not_before=nbf, expires_on=exp)
    v1 = s1.properties.version
    assert s1.name == name
    assert s1.value == "value-one"
    assert VERSION_RE.match(v1 or ""), f"version {v1!r} is not 32 lower-case hex digits"
    assert s1.id == f"{vault_url}/secrets/{name}/{v1}"
    assert s1.properties.vault_url == vault_url
    assert s1.properties.content_type == "text/plain"
    assert s1.properties.tags == {"env": "test", "owner": "sdk"}
    assert s1.properties.enabled is True
    assert s1.properties.not_before == nbf
    assert s1.properties.expires_on == exp
    assert_recent(s1.properties.created_on, "created_on")
    assert_recent(s1.properties.updated_on, "updated_on")
    assert s1.properties.recovery_level, "recoveryLevel missing"
    assert isinstance(s1.properties.recoverable_days, int) and 7 <= s1.properties.recoverable_days <= 90
    retention = s1.properties.recoverable_days

    # set (second version): becomes current, defaults apply
    s2 = api.set_secret(name, "value-two")
    v2 = s2.properties.version
    assert VERSION_RE.match(v2 or "") and v2 != v1
    assert s2.value == "value-two"
    assert s2.properties.enabled is True
    assert s2.properties.content_type is None
    assert not s2.properties.tags

    # get latest and by version
    latest = api.get_secret(name)
    assert (latest.value, latest.properties.version, latest.id) == ("value-two", v2, f"{vault_url}/secrets/{name}/{v2}")
    first = api.get_secret(name, v1)
    assert first.value == "value-one"
    assert first.properties.version == v1
    assert first.properties.content_type == "text/plain"
    assert first.properties.tags == {"env": "test", "owner": "sdk"}
    assert (first.properties.not_before, first.properties.expires_on) == (nbf, exp)

    # update latest: content type and tags
    upd = api.update_secret_properties(name, content_type="application/json", tags={"stage": "2"})
    assert upd.version == v2
    assert upd.content_type == "application/json"
    assert upd.tags == {"stage": "2"}
    assert upd.updated_on >= upd.created_on
    latest = api.get_secret(name)
    assert latest.value == "value-two"
    assert latest.properties.content_type == "application/json"
    assert latest.properties.tags == {"stage": "2"}
    assert api.get_secret(name, v1).properties.content_type == "text/plain", "update of latest touched v1"

    # update a specific version: disable v1 -> 403 on get; latest unaffected
    dis = api.update_secret_properties(name, v1, enabled=False)
    assert dis.version == v1 and dis.enabled is False
    with pytest.raises(HttpResponseError) as info:
        api.get_secret(name, v1)
    assert error_of(info.value) == (403, "Forbidden", "SecretDisabled")
    assert api.get_secret(name).value == "value-two"
    ren = api.update_secret_properties(name, v1, enabled=True, tags={"re": "enabled"})
    assert ren.enabled is True and ren.tags == {"re": "enabled"}
    first = api.get_secret(name, v1)
    assert first.value == "value-one" and first.properties.tags == {"re": "enabled"}
    assert first.properties.content_type == "text/plain", "update without content_type cleared it"

    # list versions and list names
    assert versions_of(api, name) == sorted([v1, v2])
    for item in api.items("list_properties_of_secret_versions", name):
        assert item.name == name and item.id == f"{vault_url}/secrets/{name}/{item.version}"
    listed = [p for p in api.items("list_properties_of_secrets") if p.name == name]
    assert len(listed) == 1, f"{name} listed {len(listed)} times"
    assert listed[0].id == f"{vault_url}/secrets/{name}", "GetSecrets ids carry no version"
    assert listed[0].content_type == "application/json"

    # backup: opaque, protected
    backup = api.backup_secret(name)
    assert isinstance(backup, bytes) and len(backup) > 0
    assert b"value-one" not in backup and b"value-two" not in backup, "backup blob holds plaintext values"

    # delete (soft)
    deleted = api.delete_secret(name)
    assert deleted.name == name
    assert deleted.recovery_id == f"{vault_url}/deletedsecrets/{name}"
    assert deleted.properties.version == v2
    assert_recent(deleted.deleted_date, "deletedDate")
    assert deleted.scheduled_purge_date - deleted.deleted_date == timedelta(days=retention)
    with pytest.raises(ResourceNotFoundError) as info:
        api.get_secret(name)
    assert error_of(info.value)[:2] == (404, "SecretNotFound")
    with pytest.raises(ResourceExistsError) as info:
        api.set_secret(name, "reuse")
    assert error_of(info.value) == (409, "Conflict", "ObjectIsDeletedButRecoverable")
    got = api.get_deleted_secret(name)
    assert got.name == name and got.recovery_id == deleted.recovery_id
    assert got.deleted_date == deleted.deleted_date
    assert got.scheduled_purge_date == deleted.scheduled_purge_date
    in_list = [d for d in api.items("list_deleted_secrets") if d.name == name]
    assert len(in_list) == 1 and in_list[0].recovery_id == deleted.recovery_id
    assert in_list[0].deleted_date == deleted.deleted_date

    # recover: all versions come back
    rec = api.recover_deleted_secret(name)
    assert rec.name == name and rec.version == v2
    assert api.get_secret(name).value == "value-two"
    assert api.get_secret(name, v1).value == "value-one"
    assert versions_of(api, name) == sorted([v1, v2])
    with pytest.raises(ResourceNotFoundError):
        api.get_deleted_secret(name)

    # delete + purge: gone for good
    api.delete_secret(name)
    api.purge_deleted_secret(name)
    with pytest.raises(ResourceNotFoundError):
        api.get_deleted_secret(name)
    with pytest.raises(ResourceNotFoundError):
        api.get_secret(name)
    assert name not in {d.name for d in api.items("list_deleted_secrets")}
    assert name not in {p.name for p in api.items("list_properties_of_secrets")}

    # restore: every version with its original id and metadata
    restored = api.restore_secret_backup(backup)
    assert restored.name == name
    assert restored.version == v2
    assert restored.id == f"{vault_url}/secrets/{name}/{v2}"
    assert versions_of(api, name) == sorted([v1, v2])
    first = api.get_secret(name, v1)
    assert first.value == "value-one"
    assert first.properties.tags == {"re": "enabled"}
    assert (first.properties.not_before, first.properties.expires_on) == (nbf, exp)
    latest = api.get_secret(name)
    assert latest.value == "value-two" and latest.properties.version == v2
    assert latest.properties.content_type == "application/json"

    # restore onto the now active name: conflict, nothing changed
    with pytest.raises(ResourceExistsError) as info:
        api.restore_secret_backup(backup)
    assert error_of(info.value)[:2] == (409, "Conflict")
    assert versions_of(api, name) == sorted([v1, v2])

    cleanup(api, name)


# ---------------------------------------------------------------------------
# Paging (dedicated vault: every item must arrive exactly once)
# ---------------------------------------------------------------------------


def _assert_pages(pages, limit, expected, what):
    sizes = [len(p) for p in pages]
    assert all(size <= limit for size in sizes), f"{what}: page sizes {sizes} exceed {limit}"
    counts = Counter(expected)
    got = Counter(x for page in pages for x in page)
    dupes = {k: v for k, v in got.items() if v > 1}
    assert not dupes, f"{what}: items listed more than once: {dupes}"
    assert got == counts, f"{what}: missing {sorted(set(counts) - set(got))}, unexpected {sorted(set(got) - set(counts))}"


@pytest.mark.parametrize("mode", MODES)
def test_paging_of_names_versions_and_deleted(mode, make_vault, make_secrets_api):
    url = make_vault()
    api = make_secrets_api(mode, "client_secret", url)
    names = [f"page-{i:02d}" for i in range(27)]
    for n in names:
        api.set_secret(n, f"value-of-{n}")

    # names: default page size (<= 25) and explicit page sizes
    pages = api.pages("list_properties_of_secrets")
    _assert_pages([[p.name for p in page] for page in pages], 25, names, "list_properties_of_secrets")
    assert len(pages) >= 2
    for page in pages:
        for p in page:
            assert p.id == f"{url}/secrets/{p.name}" and p.version is None
    pages = api.pages("list_properties_of_secrets", max_page_size=5)
    _assert_pages([[p.name for p in page] for page in pages], 5, names, "list_properties_of_secrets(max_page_size=5)")
    assert len(pages) >= 6
    pages = api.pages("list_properties_of_secrets", max_page_size=25)
    _assert_pages([[p.name for p in page] for page in pages], 25, names, "list_properties_of_secrets(max_page_size=25)")

    # versions: 27 versions of one name
    target = names[0]
    versions = [api.get_secret(target).properties.version]
    for i in range(26):
        versions.append(api.set_secret(target, f"version-{i}").properties.version)
    assert len(set(versions)) == 27
    pages = api.pages("list_properties_of_secret_versions", target, max_page_size=10)
    _assert_pages([[p.version for p in page] for page in pages], 10, versions, "versions(max_page_size=10)")
    assert len(pages) >= 3
    pages = api.pages("list_properties_of_secret_versions", target)
    _assert_pages([[p.version for p in page] for page in pages], 25, versions, "versions(default)")
    pages = api.pages("list_properties_of_secret_versions", target, max_page_size=1)
    _assert_pages([[p.version for p in page] for page in pages], 1, versions, "versions(max_page_size=1)")
    # names listing still one entry per name
    pages = api.pages("list_properties_of_secrets", max_page_size=7)
    _assert_pages([[p.name for p in page] for page in pages], 7, names, "names after adding versions")

    # deleted: 26 names
    gone = names[1:]
    for n in gone:
        api.delete_secret(n)
    pages = api.pages("list_deleted_secrets", max_page_size=7)
    _assert_pages([[d.name for d in page] for page in pages], 7, gone, "list_deleted_secrets(max_page_size=7)")
    pages = api.pages("list_deleted_secrets")
    _assert_pages([[d.name for d in page] for page in pages], 25, gone, "list_deleted_secrets(default)")
    for page in pages:
        for d in page:
            assert d.recovery_id == f"{url}/deletedsecrets/{d.name}"
            assert d.deleted_date is not None and d.scheduled_purge_date is not None
    pages = api.pages("list_properties_of_secrets", max_page_size=3)
    _assert_pages([[p.name for p in page] for page in pages], 3, [target], "names after deletes")


# ---------------------------------------------------------------------------
# Status codes through the SDK (sync and async)
# ---------------------------------------------------------------------------


def test_disabled_secret_is_forbidden(api_cs, unique_name):
    api = api_cs
    name = unique_name("disabled")
    created = api.set_secret(name, "hidden", enabled=False)
    version = created.properties.version
    assert created.properties.enabled is False
    for args in ((name,), (name, version)):
        with pytest.raises(HttpResponseError) as info:
            api.get_secret(*args)
        assert error_of(info.value) == (403, "Forbidden", "SecretDisabled")
    listed = api.items("list_properties_of_secret_versions", name)
    assert [(p.version, p.enabled) for p in listed] == [(version, False)], "disabled versions are still listed"
    assert api.update_secret_properties(name, enabled=True).enabled is True
    assert api.get_secret(name).value == "hidden"
    cleanup(api, name)


def test_set_on_deleted_name_conflicts(api_cs, unique_name):
    api = api_cs
    name = unique_name("deleted")
    version = api.set_secret(name, "one").properties.version
    deleted = api.delete_secret(name)
    with pytest.raises(ResourceExistsError) as info:
        api.set_secret(name, "two")
    assert error_of(info.value) == (409, "Conflict", "ObjectIsDeletedButRecoverable")
    again = api.get_deleted_secret(name)
    assert again.deleted_date == deleted.deleted_date, "the refused set changed the deleted entry"
    api.recover_deleted_secret(name)
    assert versions_of(api, name) == [version], "the refused set created a version"
    assert api.get_secret(name).value == "one"
    cleanup(api, name)


def test_unknown_name_and_version(api_cs, unique_name):
    api = api_cs
    missing = unique_name("missing")
    for call in (lambda: api.get_secret(missing), lambda: api.get_secret(missing, "0" * 32),
                 lambda: api.get_deleted_secret(missing), lambda: api.backup_secret(missing),
                 lambda: api.update_secret_properties(missing, content_type="x")):
        with pytest.raises(ResourceNotFoundError) as info:
            call()
        assert error_of(info.value)[:2] == (404, "SecretNotFound")
    name = unique_name("present")
    api.set_secret(name, "here")
    with pytest.raises(ResourceNotFoundError) as info:
        api.get_secret(name, "0123456789abcdef0123456789abcdef")
    assert error_of(info.value)[:2] == (404, "SecretNotFound")
    with pytest.raises(ResourceNotFoundError):
        api.purge_deleted_secret(name)  # not deleted: nothing to purge
    assert api.get_secret(name).value == "here"
    cleanup(api, name)


def test_restore_conflicts(api_cs, unique_name):
    api = api_cs
    name = unique_name("restore")
    version = api.set_secret(name, "original").properties.version
    backup = api.backup_secret(name)
    with pytest.raises(ResourceExistsError) as info:
        api.restore_secret_backup(backup)
    assert error_of(info.value)[:2] == (409, "Conflict")
    api.delete_secret(name)
    with pytest.raises(ResourceExistsError) as info:
        api.restore_secret_backup(backup)
    assert error_of(info.value) == (409, "Conflict", "ObjectIsDeletedButRecoverable")
    api.recover_deleted_secret(name)
    assert versions_of(api, name) == [version]
    with pytest.raises(HttpResponseError) as info:
        api.restore_secret_backup(b"this is not an arca backup")
    assert error_of(info.value)[:2] == (400, "BadParameter")
    cleanup(api, name)


def test_restore_into_another_vault(make_vault, make_secrets_api, vault_url, unique_name):
    source = make_secrets_api("sync", "client_secret", vault_url)
    name = unique_name("moved")
    versions = [source.set_secret(name, f"v{i}").properties.version for i in range(3)]
    backup = source.backup_secret(name)
    other_url = make_vault()
    target = make_secrets_api("async", "client_secret", other_url)
    restored = target.restore_secret_backup(backup)
    assert restored.id == f"{other_url}/secrets/{name}/{versions[-1]}", "ids use the target vault's URL"
    assert versions_of(target, name) == sorted(versions)
    assert [target.get_secret(name, v).value for v in versions] == ["v0", "v1", "v2"]
    cleanup(source, name)


def test_values_round_trip(api_cs, unique_name):
    api = api_cs
    name = unique_name("values")
    values = [
        "päss wörd ✓ 秘密 🔑",
        "line one\nline two\r\n\ttabbed \"quoted\" \\ back\\slash",
        '{"json": ["inside", 1, true]}',
        "x" * 25600,  # the largest accepted value (bytes)
        "é" * 12800,  # 25600 bytes of two-byte characters
    ]
    for value in values:
        assert api.set_secret(name, value).value == value
        assert api.get_secret(name).value == value
    assert len(versions_of(api, name)) == len(values)
    cleanup(api, name)


def test_unknown_vault_is_not_found(arca, make_secrets_api):
    for mode in MODES:
        api = make_secrets_api(mode, "client_secret", arca.vault_url("nosuchvault42"))
        with pytest.raises(ResourceNotFoundError) as info:
            api.get_secret("anything")
        assert error_of(info.value)[:2] == (404, "VaultNotFound")


@pytest.mark.parametrize("api_version", ["2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6",
                                         "2025-07-01", "2026-04-01"])
def test_pinned_api_versions(api_version, vault_url, client_secret_credential, unique_name):
    from azure.keyvault.secrets import SecretClient

    with SecretClient(vault_url, client_secret_credential, api_version=api_version) as client:
        name = unique_name("apiver")
        created = client.set_secret(name, f"via {api_version}", tags={"v": api_version})
        assert client.get_secret(name).value == f"via {api_version}"
        assert client.get_secret(name, created.properties.version).properties.tags == {"v": api_version}
        assert [p.version for p in client.list_properties_of_secret_versions(name)] == [created.properties.version]
        client.begin_delete_secret(name).wait()
        client.purge_deleted_secret(name)


# ---------------------------------------------------------------------------
# Vault settings: retention and purge protection
# ---------------------------------------------------------------------------


def test_default_vault_retention(api_cs, unique_name):
    """The bootstrap vault uses Key Vault's defaults: 90 days, purge allowed."""
    api = api_cs
    name = unique_name("defaults")
    props = api.set_secret(name, "x").properties
    assert (props.recoverable_days, props.recovery_level) == (90, "Recoverable+Purgeable")
    cleanup(api, name)


@pytest.mark.parametrize("retention,purge_protection,level", [
    (7, False, "CustomizedRecoverable+Purgeable"),
    (7, True, "CustomizedRecoverable"),
    (89, True, "CustomizedRecoverable"),
    (90, False, "Recoverable+Purgeable"),
    (90, True, "Recoverable"),
])
def test_vault_retention_and_purge_protection(retention, purge_protection, level, make_vault,
                                              make_secrets_api):
    url = make_vault(retention_days=retention, purge_protection=purge_protection)
    mode = "async" if retention == 89 else "sync"
    api = make_secrets_api(mode, "client_secret", url)
    created = api.set_secret("retained", "value")
    assert created.properties.recoverable_days == retention
    assert created.properties.recovery_level == level
    listed = api.items("list_properties_of_secrets")
    assert [(p.recoverable_days, p.recovery_level) for p in listed] == [(retention, level)]
    deleted = api.delete_secret("retained")
    assert deleted.scheduled_purge_date - deleted.deleted_date == timedelta(days=retention)
    assert deleted.properties.recovery_level == level
    if purge_protection:
        with pytest.raises(HttpResponseError) as info:
            api.purge_deleted_secret("retained")
        assert error_of(info.value)[:2] == (403, "Forbidden")
        assert api.get_deleted_secret("retained").recovery_id == deleted.recovery_id, "refused purge removed it"
        api.recover_deleted_secret("retained")
        assert api.get_secret("retained").value == "value"
    else:
        api.purge_deleted_secret("retained")
        with pytest.raises(ResourceNotFoundError):
            api.get_deleted_secret("retained")


# ---------------------------------------------------------------------------
# Credentials on their own
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_credentials_issue_vault_tokens(kind, make_credential, make_async_credential, resource):
    import asyncio

    cred = make_credential(kind)
    try:
        sync_token = cred.get_token(f"{resource}/.default")
    finally:
        cred.close()

    async def get_async():
        acred = make_async_credential(kind)
        try:
            return await acred.get_token(f"{resource}/.default")
        finally:
            await acred.close()

    async_token = asyncio.run(get_async())
    for tok in (sync_token, async_token):
        header, payload, _, _ = jwt_parts(tok.token)
        assert header.get("alg") == "ES256"
        assert payload.get("aud") == resource
        assert tok.expires_on > utcnow().timestamp()
