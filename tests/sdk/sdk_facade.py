"""One interface over the sync and the async official SecretClient.

Tests written against this facade run unchanged through
azure.keyvault.secrets.SecretClient and azure.keyvault.secrets.aio.SecretClient.
Common methods (set_secret, get_secret, update_secret_properties,
backup_secret, restore_secret_backup, get_deleted_secret,
purge_deleted_secret) are forwarded; for the async client each call is awaited
on the facade's own event loop. The long-running operations and paging differ
between the two clients and get explicit methods:

  delete_secret(name)          sync: begin_delete_secret(name) -> .result(), .wait()
                               async: await delete_secret(name)
  recover_deleted_secret(name) sync: begin_recover_deleted_secret(name) -> .wait(), .result()
                               async: await recover_deleted_secret(name)
  pages(method, *args, max_page_size=None) -> list of pages (lists), via by_page()
  items(method, *args, **kwargs) -> flat list
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable, List, Optional

# A DeleteRecoverPollingMethod sleeps 2 s between polls; a conforming server
# makes deleted/recovered objects visible at once, so this is generous.
POLL_TIMEOUT = 60.0
CALL_TIMEOUT = 120.0


def _page_kwargs(max_page_size: Optional[int]) -> dict:
    return {} if max_page_size is None else {"max_page_size": max_page_size}


class SyncSecrets:
    mode = "sync"

    def __init__(self, vault_url: str, credential: Any) -> None:
        from azure.keyvault.secrets import SecretClient

        self.credential = credential
        self.client = SecretClient(vault_url, credential)

    @property
    def vault_url(self) -> str:
        return self.client.vault_url

    def __getattr__(self, name: str) -> Any:
        if name in ("client", "credential") or name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.client, name)

    def delete_secret(self, name: str):
        poller = self.client.begin_delete_secret(name)
        deleted = poller.result()
        poller.wait(timeout=POLL_TIMEOUT)
        if not poller.done():
            raise AssertionError(
                f"begin_delete_secret({name!r}) poller unfinished after {POLL_TIMEOUT}s: "
                "GET /deletedsecrets/{name} never answered 2xx")
        return deleted

    def recover_deleted_secret(self, name: str):
        poller = self.client.begin_recover_deleted_secret(name)
        poller.wait(timeout=POLL_TIMEOUT)
        if not poller.done():
            raise AssertionError(
                f"begin_recover_deleted_secret({name!r}) poller unfinished after {POLL_TIMEOUT}s: "
                "GET /secrets/{name}/ never answered 2xx")
        return poller.result()

    def pages(self, method: str, *args: Any, max_page_size: Optional[int] = None) -> List[list]:
        pager = getattr(self.client, method)(*args, **_page_kwargs(max_page_size))
        return [list(page) for page in pager.by_page()]

    def items(self, method: str, *args: Any, **kwargs: Any) -> list:
        return list(getattr(self.client, method)(*args, **kwargs))

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            self.credential.close()


class AsyncSecrets:
    mode = "async"

    def __init__(self, vault_url: str, credential_factory: Callable[[], Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.credential = None
        self.client = None

        async def build() -> None:
            from azure.keyvault.secrets.aio import SecretClient

            self.credential = credential_factory()
            self.client = SecretClient(vault_url, self.credential)

        self.run(build())

    def run(self, awaitable: Any, timeout: float = CALL_TIMEOUT) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    @property
    def vault_url(self) -> str:
        return self.client.vault_url

    def __getattr__(self, name: str) -> Any:
        if name in ("client", "credential", "loop") or name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(self.client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return self.run(result) if inspect.isawaitable(result) else result

        return call

    def delete_secret(self, name: str):
        return self.run(self.client.delete_secret(name), POLL_TIMEOUT)

    def recover_deleted_secret(self, name: str):
        return self.run(self.client.recover_deleted_secret(name), POLL_TIMEOUT)

    def pages(self, method: str, *args: Any, max_page_size: Optional[int] = None) -> List[list]:
        pager = getattr(self.client, method)(*args, **_page_kwargs(max_page_size))

        async def collect() -> List[list]:
            out = []
            async for page in pager.by_page():
                out.append([item async for item in page])
            return out

        return self.run(collect())

    def items(self, method: str, *args: Any, **kwargs: Any) -> list:
        pager = getattr(self.client, method)(*args, **kwargs)

        async def collect() -> list:
            return [item async for item in pager]

        return self.run(collect())

    def close(self) -> None:
        try:
            if self.client is not None:
                self.run(self.client.close())
            if self.credential is not None:
                self.run(self.credential.close())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


# ---------------------------------------------------------------------------
# Keys: the same idea over KeyClient and CryptographyClient (azure-keyvault-keys).
# ---------------------------------------------------------------------------


def _remote_only(crypto: Any) -> Any:
    """Make a CryptographyClient send every operation to the vault.

    A CryptographyClient built from a key id first GETs the key and then does the public-key
    operations (encrypt, verify, wrap with RSA) itself; with _keys_get_forbidden set (what it sets
    after a 403 on that GET) it never fetches the key and calls the service for everything."""
    crypto._keys_get_forbidden = True
    return crypto


class _Awaiting:
    """Forwards attribute access to `target`, running whatever a call returns that is awaitable
    on `run`."""

    def __init__(self, target: Any, run: Callable[[Any], Any]) -> None:
        self._target, self._run = target, run

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return self._run(result) if inspect.isawaitable(result) else result

        return call


class SyncKeys:
    """KeyClient plus crypto(key_id, remote=True) -> a CryptographyClient on the same credential."""

    mode = "sync"

    def __init__(self, vault_url: str, credential: Any) -> None:
        from azure.keyvault.keys import KeyClient

        self.credential = credential
        self.client = KeyClient(vault_url, credential)
        self._cryptos: List[Any] = []

    def __getattr__(self, name: str) -> Any:
        if name in ("client", "credential", "_cryptos") or name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.client, name)

    def crypto(self, key: Any, remote: bool = True) -> Any:
        from azure.keyvault.keys.crypto import CryptographyClient

        client = CryptographyClient(key, self.credential)
        self._cryptos.append(client)
        return _remote_only(client) if remote else client

    def delete_key(self, name: str):
        poller = self.client.begin_delete_key(name)
        deleted = poller.result()
        poller.wait(timeout=POLL_TIMEOUT)
        if not poller.done():
            raise AssertionError(f"begin_delete_key({name!r}) poller unfinished after {POLL_TIMEOUT}s")
        return deleted

    def recover_deleted_key(self, name: str):
        poller = self.client.begin_recover_deleted_key(name)
        poller.wait(timeout=POLL_TIMEOUT)
        if not poller.done():
            raise AssertionError(f"begin_recover_deleted_key({name!r}) poller unfinished after {POLL_TIMEOUT}s")
        return poller.result()

    def items(self, method: str, *args: Any, **kwargs: Any) -> list:
        return list(getattr(self.client, method)(*args, **kwargs))

    def close(self) -> None:
        try:
            for crypto in self._cryptos:
                crypto.close()
            self.client.close()
        finally:
            self.credential.close()


class AsyncKeys:
    """The async KeyClient and CryptographyClient behind the SyncKeys interface."""

    mode = "async"

    def __init__(self, vault_url: str, credential_factory: Callable[[], Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.credential = None
        self.client = None
        self._cryptos: List[Any] = []

        async def build() -> None:
            from azure.keyvault.keys.aio import KeyClient

            self.credential = credential_factory()
            self.client = KeyClient(vault_url, self.credential)

        self.run(build())

    def run(self, awaitable: Any, timeout: float = CALL_TIMEOUT) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def __getattr__(self, name: str) -> Any:
        if name in ("client", "credential", "loop", "_cryptos") or name.startswith("_"):
            raise AttributeError(name)
        return getattr(_Awaiting(self.client, self.run), name)

    def crypto(self, key: Any, remote: bool = True) -> Any:
        async def build() -> Any:
            from azure.keyvault.keys.crypto.aio import CryptographyClient

            return CryptographyClient(key, self.credential)

        client = self.run(build())
        self._cryptos.append(client)
        return _Awaiting(_remote_only(client) if remote else client, self.run)

    def delete_key(self, name: str):
        return self.run(self.client.delete_key(name), POLL_TIMEOUT)

    def recover_deleted_key(self, name: str):
        return self.run(self.client.recover_deleted_key(name), POLL_TIMEOUT)

    def items(self, method: str, *args: Any, **kwargs: Any) -> list:
        pager = getattr(self.client, method)(*args, **kwargs)

        async def collect() -> list:
            return [item async for item in pager]

        return self.run(collect())

    def close(self) -> None:
        try:
            for crypto in self._cryptos:
                self.run(crypto.close())
            if self.client is not None:
                self.run(self.client.close())
            if self.credential is not None:
                self.run(self.credential.close())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
