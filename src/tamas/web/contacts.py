"""The contacts API: search, create, read, change and delete contacts; find the contact of a
phone number (what an agent's screen pop calls when a call arrives).

| method and path | does |
|---|---|
| ``GET /api/v1/contacts`` | ``?q=&limit=&offset=``: by name (or a word of it) or number prefix |
| ``POST /api/v1/contacts`` | create (name, code, numbers, email, language, notes, source) |
| ``GET /api/v1/contacts/{id}`` | one contact |
| ``PATCH /api/v1/contacts/{id}`` | change the fields given (``numbers`` replaces the list) |
| ``DELETE /api/v1/contacts/{id}`` | delete it (204) |
| ``GET /api/v1/contacts/by-number/{number}`` | the contact of a number, by the look-up rule |

Answered from a loopback address, or from anywhere with ``Authorization: Bearer <token>``
when a token is configured. Errors are ``{"error": "<code>", "message": "<text>"}``; a value
that is not accepted is 400 ``invalid`` with ``"field"`` naming it; a customer code already
taken is 409 ``duplicate_code``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.store.contacts import (
    MAX_PAGE,
    Contact,
    Contacts,
    ContactSource,
    DuplicateCode,
    InvalidContact,
)
from tamas.web.guard import BadRequest, error, json_object, make_guard

__all__ = ["contact_routes"]

_DEFAULT_PAGE: Final = 50
_MAX_BODY: Final = 64 * 1024
_SOURCES: Final = (ContactSource.API.value, ContactSource.IMPORT.value)


def contact_routes(
    contacts: Contacts, *, token: str | None = None, clock: Callable[[], float] = time.time
) -> list[BaseRoute]:
    """The routes of the contacts API (``token`` as for the other APIs)."""
    guard = make_guard(token, api="contacts")

    async def search(request: Request) -> Response:
        query = request.query_params
        try:
            limit = _int(query.get("limit"), _DEFAULT_PAGE, "limit", 1, MAX_PAGE)
            offset = _int(query.get("offset"), 0, "offset", 0, 1 << 31)
        except BadRequest as exc:
            return _bad(exc)
        rows = await asyncio.to_thread(contacts.search, query.get("q", ""), limit=limit,
                                       offset=offset)  # fmt: skip
        return JSONResponse({
            "contacts": [_json(c) for c in rows],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + len(rows) if len(rows) == limit else None,
        })  # fmt: skip

    async def create(request: Request) -> Response:
        try:
            body = await json_object(request, _MAX_BODY)
            source = body.pop("source", ContactSource.API.value)
            if source not in _SOURCES:
                raise BadRequest(f"source must be {' or '.join(_SOURCES)}", "source")
            made = await asyncio.to_thread(contacts.add, body, source=ContactSource(source),
                                           now=clock())  # fmt: skip
        except (BadRequest, InvalidContact) as exc:
            return _bad(exc)
        except DuplicateCode as exc:
            return error(409, "duplicate_code", str(exc))
        return JSONResponse({"contact": _json(made)}, 201,
                            headers={"Location": f"/api/v1/contacts/{made.id}"})  # fmt: skip

    async def get(request: Request) -> Response:
        found = await asyncio.to_thread(contacts.get, request.path_params["contact_id"])
        return _one(found, request.path_params["contact_id"])

    async def change(request: Request) -> Response:
        contact_id = request.path_params["contact_id"]
        try:
            body = await json_object(request, _MAX_BODY)
            changed = await asyncio.to_thread(contacts.update, contact_id, body, now=clock())
        except (BadRequest, InvalidContact) as exc:
            return _bad(exc)
        except DuplicateCode as exc:
            return error(409, "duplicate_code", str(exc))
        return _one(changed, contact_id)

    async def delete(request: Request) -> Response:
        contact_id = request.path_params["contact_id"]
        if not await asyncio.to_thread(contacts.delete, contact_id):
            return error(404, "no_such_contact", f"no contact {contact_id!r}")
        return Response(status_code=204)

    async def by_number(request: Request) -> Response:
        number = request.path_params["number"]
        try:
            found = await asyncio.to_thread(contacts.find_by_number, number)
        except InvalidContact as exc:
            return _bad(exc)
        if found is None:
            return error(404, "no_such_contact", f"no contact has the number {number!r}")
        return JSONResponse({"contact": _json(found)})

    base = "/api/v1/contacts"
    one = base + "/{contact_id}"
    return [
        Route(base, guard(search), methods=["GET"]),
        Route(base, guard(create), methods=["POST"]),
        Route(base + "/by-number/{number}", guard(by_number), methods=["GET"]),
        Route(one, guard(get), methods=["GET"]),
        Route(one, guard(change), methods=["PATCH"]),
        Route(one, guard(delete), methods=["DELETE"]),
    ]



def _bad(exc: BadRequest | InvalidContact) -> JSONResponse:
    body: dict[str, Any] = {"error": "invalid", "message": str(exc)}
    if exc.field is not None:
        body["field"] = exc.field
    return JSONResponse(body, 400)


def _one(contact: Contact | None, contact_id: str) -> Response:
    if contact is None:
        return error(404, "no_such_contact", f"no contact {contact_id!r}")
    return JSONResponse({"contact": _json(contact)})


def _int(text: str | None, default: int, name: str, low: int, high: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", name) from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be {low}-{high}", name)
    return value


def _json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "code": contact.code,
        "numbers": list(contact.numbers),
        "email": contact.email,
        "language": contact.language,
        "notes": contact.notes,
        "source": contact.source.value,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }
