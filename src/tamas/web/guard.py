"""Who may use the HTTP API: loopback, or anyone with the configured bearer token."""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

__all__ = ["BadRequest", "Handler", "error", "json_object", "make_guard", "refusal"]

Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status, headers=headers or None)


class BadRequest(Exception):
    """A request the API refuses with 400; ``field`` names the offending value if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


async def json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request's body as a JSON object (BadRequest if larger, not JSON or not an object)."""
    raw = await request.body()
    if len(raw) > max_bytes:
        raise BadRequest(f"the body must be at most {max_bytes} bytes")
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadRequest("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _is_loopback(request: HTTPConnection) -> bool:
    client = request.client
    if client is None:
        return False
    try:
        return ipaddress.ip_address(client.host).is_loopback
    except ValueError:
        return False


def refusal(
    conn: HTTPConnection, expected: bytes | None, *, api: str, trust_loopback: bool = True
) -> JSONResponse | None:
    """Why ``conn`` (a request or a WebSocket) may not use ``api``, or None if it may."""
    if trust_loopback and _is_loopback(conn):
        return None
    if expected is None:
        return error(403, "forbidden", f"the {api} API is served to loopback only")
    scheme, _, credential = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credential.strip().encode(), expected
    ):
        return error(401, "unauthorized", "a valid bearer token is needed",
                     **{"WWW-Authenticate": 'Bearer realm="tamas"'})  # fmt: skip
    return None


def make_guard(
    token: str | None, *, api: str, trust_loopback: bool = True
) -> Callable[[Handler], Handler]:
    """A decorator admitting loopback requests, and others with ``Authorization: Bearer
    <token>`` (none when ``token`` is None); ``api`` names the API in the refusal.
    ``trust_loopback=False`` asks for the token from loopback too (e.g. when a reverse proxy
    on the same machine forwards outside requests without saying so)."""
    expected = None if token is None else token.encode()

    def guard(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            refused = refusal(request, expected, api=api, trust_loopback=trust_loopback)
            return refused if refused is not None else await handler(request)

        return guarded

    return guard
