"""Typesense, reached over HTTP: the `typesense` package for collections, documents, search,
aliases and keys, and streaming JSONL import and export (the package reads and builds them
whole in memory). Both share one httpx client; every failure is a ServiceError in the
user's words. No Textual here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

from crestfall_tui.clients.http import TIMEOUT, HttpService
from crestfall_tui.errors import ServiceError

if TYPE_CHECKING:
    import typesense

T = TypeVar("T")
ERRORS_KEPT = 20


@dataclass
class ImportReport:
    """What an import did: documents taken, refused (with the first reasons, by line)."""

    imported: int = 0
    failed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    """(line number in the input, Typesense's reason), the first ones."""


class TypesenseClient:
    """One Typesense server and its API key."""

    def __init__(self, base_url: str, api_key: str, timeout: float = TIMEOUT) -> None:
        self.http = HttpService("Typesense", "search", base_url,
                                {"X-TYPESENSE-API-KEY": api_key}, timeout)
        self.api_key = api_key
        self._api: typesense.AsyncClient | None = None

    @property
    def api(self) -> typesense.AsyncClient:
        """The `typesense` package's client, on this client's connection pool."""
        if self._api is None:
            import typesense  # lazy: off the first frame

            where = urlsplit(self.http.base_url)
            self._api = typesense.AsyncClient({
                "api_key": self.api_key,
                "nodes": [{"host": where.hostname or "localhost",
                           "port": where.port or 8108,
                           "protocol": where.scheme or "http"}],
                "connection_timeout_seconds": self.http.timeout,
                "num_retries": 0,  # one server: a retry only doubles the wait to say it is down
            }, http_client=self.http.client)
        return self._api

    async def call(self, work: Awaitable[T]) -> T:
        """Await a call of the package; its failures become ServiceErrors."""
        import httpx
        from typesense.exceptions import TypesenseClientError

        try:
            return await work
        except httpx.HTTPError as error:
            raise self.http.failure(error) from None
        except TypesenseClientError as error:
            status, said = (error.args + (None, None))[:2]
            if isinstance(status, int):
                raise self.http.refusal(status, str(said or "").encode()) from None
            raise ServiceError("search", f"Typesense: {error}") from None

    async def health(self) -> bool:
        reply = await self.http.request("GET", "/health")
        return bool(reply.json().get("ok"))

    async def collections(self) -> list[dict[str, Any]]:
        """Every collection with its schema and document count."""
        found: list[Any] = await self.call(self.api.collections.retrieve())
        return [dict(collection) for collection in found]

    async def create_collection(self, schema: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.call(self.api.collections.create(schema)))  # type: ignore[arg-type]

    async def drop_collection(self, name: str) -> None:
        await self.call(self.api.collections[name].delete())

    async def search(self, collection: str, params: dict[str, Any]) -> dict[str, Any]:
        documents = self.api.collections[collection].documents
        return dict(await self.call(documents.search(params)))  # type: ignore[arg-type]

    async def import_jsonl(self, collection: str, lines: AsyncIterable[str],
                           action: str = "upsert") -> ImportReport:
        """Send documents (one JSON object a line) as they are produced, in one request, and
        read Typesense's answer (one result a line) as it comes: memory stays flat whatever
        the size. A document Typesense refuses is counted with its line and reason."""
        async def body() -> AsyncIterator[bytes]:
            async for line in lines:
                yield (line.rstrip("\n") + "\n").encode()

        report = ImportReport()
        path = f"/collections/{quote(collection, safe='')}/documents/import"
        async with self.http.stream("POST", path, params={"action": action}, content=body(),
                                    timeout=None) as response:
            number = 0
            async for answer in response.aiter_lines():
                if not answer.strip():
                    continue
                number += 1
                result = json.loads(answer)
                if result.get("success"):
                    report.imported += 1
                    continue
                report.failed += 1
                if len(report.errors) < ERRORS_KEPT:
                    report.errors.append((number, str(result.get("error", answer))))
        return report

    async def export_jsonl(self, collection: str,
                           filter_by: str | None = None) -> AsyncIterator[str]:
        """Every document of a collection (or those `filter_by` keeps), one JSON line each,
        as Typesense streams them."""
        path = f"/collections/{quote(collection, safe='')}/documents/export"
        params = {"filter_by": filter_by} if filter_by else {}
        async with self.http.stream("GET", path, params=params, timeout=None) as response:
            async for line in response.aiter_lines():
                if line.strip():
                    yield line

    async def close(self) -> None:
        await self.http.close()
