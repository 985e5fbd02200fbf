"""The certificates API through the official azure-keyvault-certificates CertificateClient, sync
and async, as far as Arca has built it (issue 13): the vault's certificate contacts and issuers.
Each test works in a vault of its own. An issuer's password is sent and must never come back.
"""

from __future__ import annotations

import asyncio

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import AdministratorContact, CertificateContact, CertificateClient
from azure.keyvault.certificates.aio import CertificateClient as AsyncCertificateClient

PASSWORD = "issuer-password-sdk-31"


@pytest.fixture
def cert_client(make_vault, make_credential):
    credential = make_credential("client_secret")
    client = CertificateClient(make_vault(), credential)
    yield client
    client.close()
    credential.close()


def test_contacts_are_set_listed_and_deleted(cert_client):
    assert list(cert_client.get_contacts()) == []
    wanted = [CertificateContact(email="ops@example.com", name="Ops", phone="555-0100"),
              CertificateContact(email="sec@example.com", name="Security")]
    set_ = cert_client.set_contacts(wanted)
    assert [(c.email, c.name, c.phone) for c in set_] == [(c.email, c.name, c.phone) for c in wanted]
    got = cert_client.get_contacts()
    assert [c.email for c in got] == ["ops@example.com", "sec@example.com"]
    deleted = cert_client.delete_contacts()
    assert [c.email for c in deleted] == ["ops@example.com", "sec@example.com"]
    assert list(cert_client.get_contacts()) == []


def test_a_contact_without_an_e_mail_address_is_refused(cert_client):
    with pytest.raises(HttpResponseError) as refused:
        cert_client.set_contacts([CertificateContact(name="Nobody")])
    assert refused.value.status_code == 400
    assert list(cert_client.get_contacts()) == []


def test_issuers_are_created_read_updated_listed_and_deleted(cert_client):
    admin = AdministratorContact(first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="1")
    created = cert_client.create_issuer("corp-ca", "Test", account_id="acct", password=PASSWORD,
                                        organization_id="org-1", admin_contacts=[admin])
    assert (created.name, created.provider, created.account_id, created.enabled) == ("corp-ca", "Test", "acct", True)
    assert created.password is None
    assert [a.email for a in created.admin_contacts] == ["ada@example.com"]
    got = cert_client.get_issuer("corp-ca")
    assert (got.provider, got.account_id, got.organization_id) == ("Test", "acct", "org-1")
    assert got.password is None
    updated = cert_client.update_issuer("corp-ca", enabled=False)
    assert updated.enabled is False and updated.account_id == "acct"
    listed = list(cert_client.list_properties_of_issuers())
    assert [(i.name, i.provider) for i in listed] == [("corp-ca", "Test")]
    deleted = cert_client.delete_issuer("corp-ca")
    assert deleted.name == "corp-ca"
    with pytest.raises(ResourceNotFoundError):
        cert_client.get_issuer("corp-ca")


def test_an_issuers_password_never_comes_back(cert_client, token, ca_cert):
    cert_client.create_issuer("pw-ca", "Test", account_id="acct", password=PASSWORD)
    raw = requests.get(f"{cert_client.vault_url}/certificates/issuers/pw-ca?api-version=7.6",
                       headers={"Authorization": f"Bearer {token}"}, verify=ca_cert, timeout=10)
    assert raw.status_code == 200
    assert "acct" in raw.text
    assert PASSWORD not in raw.text


def test_the_async_client_manages_contacts_and_issuers(make_vault, make_async_credential):
    url = make_vault()

    async def run():
        credential = make_async_credential("client_secret")
        async with credential, AsyncCertificateClient(url, credential) as client:
            await client.set_contacts([CertificateContact(email="a@example.com")])
            assert [c.email for c in await client.get_contacts()] == ["a@example.com"]
            await client.create_issuer("async-ca", "Test")
            names = [i.name async for i in client.list_properties_of_issuers()]
            assert names == ["async-ca"]
            await client.delete_issuer("async-ca")
            assert [c.email for c in await client.delete_contacts()] == ["a@example.com"]

    asyncio.run(run())
