"""The contacts API over a real SQLite store, the ASGI app called in memory (as the voicemail
API's tests do: the client address is in the scope, no socket)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from test_voicemail_web import request

from tamas.store import open_store
from tamas.store.contacts import Contacts
from tamas.web.contacts import contact_routes


class Api:
    def __init__(self, tmp_path: Path, **kw: Any) -> None:
        self.store = open_store(f"sqlite:///{tmp_path}/t.db")
        self.book = Contacts(self.store.engine)
        self.now = 1_000.0
        self.app = Starlette(routes=contact_routes(self.book, clock=lambda: self.now, **kw))

    def call(self, method: str, path: str, body: object = None, **kw: Any) -> tuple[int, Any]:
        status, _, raw = asyncio.run(request(self.app, method, path, body, **kw))
        return status, (json.loads(raw) if raw else None)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    made = Api(tmp_path)
    yield made
    made.store.close()


ALI = {"name": "Ali Rezaei", "code": "C-1", "numbers": ["+98 912 345 6789", "۰۲۱ ۸۸۱۲"],
       "email": "ali@example.com", "language": "fa", "notes": "VIP"}  # fmt: skip


def test_create_read_change_delete(api: Api) -> None:
    status, body = api.call("POST", "/api/v1/contacts", ALI)
    assert status == 201, body
    made = body["contact"]
    assert made == {
        "id": made["id"], "name": "Ali Rezaei", "code": "C-1",
        "numbers": ["+989123456789", "0218812"], "email": "ali@example.com", "language": "fa",
        "notes": "VIP", "source": "api", "created_at": 1_000.0, "updated_at": 1_000.0,
    }  # fmt: skip
    one = f"/api/v1/contacts/{made['id']}"
    assert api.call("GET", one) == (200, {"contact": made})

    api.now = 2_000.0
    status, body = api.call("PATCH", one, {"notes": "", "numbers": ["1001"], "email": None})
    assert status == 200, body
    changed = body["contact"]
    assert (changed["notes"], changed["numbers"], changed["email"]) == ("", ["1001"], None)
    assert (changed["name"], changed["updated_at"]) == ("Ali Rezaei", 2_000.0)
    assert api.book.get(made["id"]) is not None

    assert api.call("DELETE", one) == (204, None)
    assert api.call("GET", one)[0] == 404
    assert api.call("DELETE", one)[0] == 404
    assert api.call("PATCH", one, {"name": "x"})[0] == 404


def test_source_may_be_import_but_not_ivr(api: Api) -> None:
    status, body = api.call("POST", "/api/v1/contacts", {"name": "X", "source": "import"})
    assert status == 201 and body["contact"]["source"] == "import"
    status, body = api.call("POST", "/api/v1/contacts", {"name": "Y", "source": "ivr"})
    assert status == 400 and body["field"] == "source"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"numbers": ["0912", "call me"]}, "numbers"),
        ({"numbers": "0912"}, "numbers"),
        ({"email": "nope"}, "email"),
        ({"language": "de"}, "language"),
        ({"phone": "0912"}, "phone"),
    ],
)
def test_validation_errors_are_400_naming_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    status, reply = api.call("POST", "/api/v1/contacts", body)
    assert status == 400 and reply["error"] == "invalid" and reply["field"] == field
    assert field in reply["message"]
    made = api.book.add({"name": "Kept"}, now=1.0)
    status, reply = api.call("PATCH", f"/api/v1/contacts/{made.id}", body)
    assert status == 400 and reply["field"] == field
    assert api.book.get(made.id) == made


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"'])
def test_body_must_be_a_json_object(api: Api, raw: bytes) -> None:
    status, reply = api.call("POST", "/api/v1/contacts", raw)
    assert status == 400 and "JSON object" in reply["message"]


def test_duplicate_code_is_409(api: Api) -> None:
    assert api.call("POST", "/api/v1/contacts", {"code": "7"})[0] == 201
    status, reply = api.call("POST", "/api/v1/contacts", {"code": "\u06f7"})  # Persian 7
    assert (status, reply["error"]) == (409, "duplicate_code")
    other = api.call("POST", "/api/v1/contacts", {"code": "8"})[1]["contact"]
    status, _ = api.call("PATCH", f"/api/v1/contacts/{other['id']}", {"code": "7"})
    assert status == 409


def test_by_number_is_the_screen_pop(api: Api) -> None:
    made = api.call("POST", "/api/v1/contacts", ALI)[1]["contact"]
    # (the scope's path is already percent-decoded, as a server gives it)
    for number in ("+989123456789", "0912 345 6789", "00989123456789", "0218812"):
        status, body = api.call("GET", f"/api/v1/contacts/by-number/{number}")
        assert status == 200 and body["contact"]["id"] == made["id"], number
    status, body = api.call("GET", "/api/v1/contacts/by-number/0912999")
    assert (status, body["error"]) == (404, "no_such_contact")
    status, body = api.call("GET", "/api/v1/contacts/by-number/anonymous")
    assert status == 400 and body["field"] == "number"


def test_search_pages(api: Api) -> None:
    for name in ("Ann", "Anna", "Bob", "Annette"):
        api.book.add({"name": name, "numbers": ["+1 212 555 0100"] if name == "Bob" else []},
                     now=1.0)  # fmt: skip

    def names(query: str) -> tuple[list[str], Any]:
        status, body = api.call("GET", "/api/v1/contacts" + query)
        assert status == 200, body
        return [c["name"] for c in body["contacts"]], body["next_offset"]

    assert names("?q=ann") == (["Ann", "Anna", "Annette"], None)
    assert names("?q=ann&limit=2") == (["Ann", "Anna"], 2)
    assert names("?q=ann&limit=2&offset=2") == (["Annette"], None)
    assert names("?q=%2B1212") == (["Bob"], None)
    assert names("") == (["Ann", "Anna", "Annette", "Bob"], None)
    for bad in ("?limit=0", "?limit=501", "?offset=-1", "?limit=x"):
        status, body = api.call("GET", "/api/v1/contacts" + bad)
        assert status == 400 and body["field"] in ("limit", "offset"), bad


def test_guard_loopback_or_token(tmp_path: Path) -> None:
    open_api = Api(tmp_path)
    try:
        assert open_api.call("GET", "/api/v1/contacts")[0] == 200
        status, body = open_api.call("GET", "/api/v1/contacts", client="192.0.2.7")
        assert (status, body["error"]) == (403, "forbidden")
    finally:
        open_api.store.close()
    (tmp_path / "b").mkdir()
    tokened = Api(tmp_path / "b", token="s3cret")
    try:
        assert tokened.call("POST", "/api/v1/contacts", {}, client="192.0.2.7")[0] == 401
        status, _ = tokened.call("POST", "/api/v1/contacts", {"name": "Z"}, client="192.0.2.7",
                                 Authorization="Bearer s3cret")  # fmt: skip
        assert status == 201
        assert tokened.call("GET", "/api/v1/contacts/by-number/1", client="192.0.2.7",
                            Authorization="Bearer wrong")[0] == 401  # fmt: skip
    finally:
        tokened.store.close()
