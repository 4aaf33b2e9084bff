"""The Typesense client against the stack's real Typesense: collections, a streaming import
and export, search, and failures in the user's words."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from crestfall_tui.clients.typesense import TypesenseClient
from crestfall_tui.errors import ServiceError
from crestfall_tui.stack.processes import free_port
from tests.helpers import StackUnderTest


def client_for(stack: StackUnderTest, api_key: str | None = None) -> TypesenseClient:
    return TypesenseClient(f"http://127.0.0.1:{stack.stack.ports.search}",
                           api_key or stack.runtime.secrets.search_api_key)


async def test_collections_streaming_import_export_and_search(stack: StackUnderTest) -> None:
    """A collection is created and listed; 20,000 documents go in as they are produced (a
    refused one is reported by its line); export streams them back; search finds one."""
    client = client_for(stack)
    name = f"books_{uuid.uuid4().hex[:6]}"
    await client.create_collection({"name": name, "fields": [
        {"name": "title", "type": "string"}, {"name": "year", "type": "int32"}]})
    try:
        assert name in [c["name"] for c in await client.collections()]

        async def documents() -> AsyncIterator[str]:
            for i in range(20_000):
                year = '"not a year"' if i == 1234 else str(1900 + i % 120)
                yield f'{{"id": "{i}", "title": "Book number {i}", "year": {year}}}'

        report = await client.import_jsonl(name, documents())
        assert (report.imported, report.failed) == (19_999, 1)
        assert report.errors[0][0] == 1235 and "year" in report.errors[0][1]
        exported = [line async for line in client.export_jsonl(name, "year:>2000")]
        assert exported and all('"year":20' in line for line in exported)
        assert len([line async for line in client.export_jsonl(name)]) == 19_999
        found = await client.search(name, {"q": "number 4242", "query_by": "title"})
        assert found["hits"][0]["document"]["id"] == "4242"
    finally:
        await client.drop_collection(name)
        await client.close()


async def test_failures_are_said_in_the_users_words(stack: StackUnderTest) -> None:
    """A wrong key, a missing collection and a server that is not there each give one
    ServiceError naming what happened."""
    wrong = client_for(stack, api_key="wrong-key")
    with pytest.raises(ServiceError, match=r"refused the API key \(401\)"):
        await wrong.collections()
    await wrong.close()
    right = client_for(stack)
    with pytest.raises(ServiceError, match="answered 404: Not found"):
        await right.search("no_such_collection", {"q": "*"})
    with pytest.raises(ServiceError, match="answered 404"):
        [line async for line in right.export_jsonl("no_such_collection")]
    await right.close()
    gone = TypesenseClient(f"http://127.0.0.1:{free_port()}", "key")
    with pytest.raises(ServiceError, match="refused the connection on 127.0.0.1"):
        await gone.collections()
    with pytest.raises(ServiceError, match="refused the connection"):
        await gone.health()
    await gone.close()
