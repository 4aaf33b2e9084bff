"""The base of the HTTP clients (Typesense, PostgREST): one httpx client per service, and
every failure in the user's words as a ServiceError. No Textual here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crestfall_tui.errors import ServiceError

if TYPE_CHECKING:
    import httpx

TIMEOUT = 10.0


class HttpService:
    """One service reached over HTTP: `request` for a reply, `stream` for a body read as it
    arrives (or sent as it is produced)."""

    def __init__(self, name: str, service: str, base_url: str, headers: dict[str, str],
                 timeout: float = TIMEOUT) -> None:
        self.name = name
        """As the user knows it: Typesense, PostgREST."""
        self.service = service
        """The stack's service: search, rest."""
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx  # lazy: off the first frame

            self._client = httpx.AsyncClient(base_url=self.base_url, headers=self.headers,
                                             timeout=self.timeout)
        return self._client

    async def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request; a refusal, a time-out or an error status is a ServiceError."""
        import httpx

        try:
            response = await self.client.request(method, path, **options)
        except httpx.HTTPError as error:
            raise self.failure(error) from None
        if response.is_error:
            raise self.refusal(response.status_code, response.content)
        return response

    @asynccontextmanager
    async def stream(self, method: str, path: str,
                     **options: Any) -> AsyncIterator[httpx.Response]:
        """A request whose reply body is read as it arrives."""
        import httpx

        try:
            async with self.client.stream(method, path, **options) as response:
                if response.is_error:
                    raise self.refusal(response.status_code, await response.aread())
                yield response
        except httpx.HTTPError as error:
            raise self.failure(error) from None

    def failure(self, error: Exception) -> ServiceError:
        """No reply: refused, timed out, or cut off."""
        import httpx

        where = urlsplit(self.base_url)
        at = f"{where.hostname}:{where.port}"
        if isinstance(error, httpx.ConnectError):
            message = (f"{self.name} refused the connection on {at}: is the stack up? (F1 in "
                       "the studio, `crestfall-tui stack up` in a shell)")
        elif isinstance(error, httpx.TimeoutException):
            message = f"{self.name} on {at} did not answer within {self.timeout:g}s"
        else:
            message = f"{self.name} on {at}: {type(error).__name__}: {error}"
        return ServiceError(self.service, message)

    def refusal(self, status: int, body: bytes) -> ServiceError:
        """An error status, with the service's own message."""
        said = _message(body)
        if status == 401:
            return ServiceError(self.service, f"{self.name} refused the API key (401): the "
                                              f"stack's key does not match ({said})")
        return ServiceError(self.service, f"{self.name} answered {status}: {said}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _message(body: bytes) -> str:
    """The `message` of a JSON error body, else the body's first line."""
    text = body.decode(errors="replace").strip()
    try:
        found = json.loads(text)
    except ValueError:
        return text.splitlines()[0][:200] if text else "no message"
    if isinstance(found, dict) and isinstance(found.get("message"), str):
        return str(found["message"])
    return text[:200]
