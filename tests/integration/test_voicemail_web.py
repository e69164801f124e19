"""The voicemail API, the ASGI app called in memory (the client address is in the scope: no
socket at all), over a real store and real files."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from tamas.runtime.voicemail_messages import MessageService
from tamas.store import open_store
from tamas.store.voicemail import MessageStatus, VoicemailMessage, Voicemails
from tamas.web.voicemail import voicemail_routes

Reply = tuple[int, dict[str, str], bytes]


async def request(app: Starlette, method: str, path: str, body: object = None, *,
                  client: str = "127.0.0.1", **headers: str) -> Reply:  # fmt: skip
    raw_path, _, query = path.partition("?")
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
        "query_string": query.encode(), "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (client, 40000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": data, "more_body": False}
        await done.wait()  # a streaming response listens for the client going away
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(scope, receive, send)
    start = sent[0]
    head = {k.decode(): v.decode() for k, v in start["headers"]}
    return int(start["status"]), head, b"".join(m.get("body", b"") for m in sent[1:])


class Api:
    def __init__(self, tmp_path: Path, **kw: Any) -> None:
        self.data_dir = tmp_path / "data"
        self.store = open_store(f"sqlite:///{tmp_path}/t.db")
        self.rows = Voicemails(self.store.engine)
        self.service = MessageService(self.rows, self.data_dir, known_agent=lambda a: a != "ghost")
        self.app = Starlette(routes=voicemail_routes(self.service, **kw))

    def add(self, mid: str, box: str = "1001", at: float = 100.0, **kw: Any) -> Path:
        relative = f"voicemail/{box}/{mid}.wav"
        path = self.data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF" + mid.encode() * 100)
        row = VoicemailMessage(id=mid, box=box, caller="2000", call_id="c", at=at,
                               duration=3.5, path=relative, **kw)  # fmt: skip
        self.rows.add_message(row)
        return path

    def call(self, method: str, path: str, body: object = None, **kw: Any) -> tuple[int, Any]:
        status, _, raw = asyncio.run(request(self.app, method, path, body, **kw))
        return status, json.loads(raw)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    made = Api(tmp_path)
    yield made
    made.store.close()


def ids(reply: tuple[int, Any]) -> list[str]:
    status, body = reply
    assert status == 200, body
    return [m["id"] for m in body["messages"]]


def test_list_by_box_and_status_newest_first_with_paging(api: Api) -> None:
    api.add("a", at=100.0)
    api.add("b", at=300.0, status=MessageStatus.OLD)
    api.add("c", box="600", at=200.0)
    api.add("d", at=400.0, status=MessageStatus.DELETED)
    assert ids(api.call("GET", "/api/v1/voicemail")) == ["b", "c", "a"]
    assert ids(api.call("GET", "/api/v1/voicemail?box=1001")) == ["b", "a"]
    assert ids(api.call("GET", "/api/v1/voicemail?status=new")) == ["c", "a"]
    assert ids(api.call("GET", "/api/v1/voicemail?status=deleted,old")) == ["d", "b"]
    status, page = api.call("GET", "/api/v1/voicemail?limit=2")
    assert [m["id"] for m in page["messages"]] == ["b", "c"] and page["next_offset"] == 2
    assert page["messages"][0] == {
        "id": "b", "box": "1001", "caller": "2000", "call_id": "c", "at": 300.0,
        "duration": 3.5, "status": "old", "assigned_to": None,
        "audio": "/api/v1/voicemail/b/audio",
    }  # fmt: skip
    for bad in ("status=unheard", "limit=0", "limit=x", "offset=-1"):
        status, body = api.call("GET", f"/api/v1/voicemail?{bad}")
        assert (status, body["error"]) == (400, "bad_request"), bad


def test_audio_read_and_delete(api: Api) -> None:
    path = api.add("a")
    status, head, raw = asyncio.run(request(api.app, "GET", "/api/v1/voicemail/a/audio"))
    assert status == 200 and head["content-type"] == "audio/wav" and raw == path.read_bytes()
    status, body = api.call("POST", "/api/v1/voicemail/a/read")
    assert status == 200 and body["message"]["status"] == "old"
    status, body = api.call("DELETE", "/api/v1/voicemail/a")
    assert status == 200 and body["message"]["status"] == "deleted" and not path.exists()
    assert api.call("GET", "/api/v1/voicemail/a/audio")[0] == 404
    assert api.call("POST", "/api/v1/voicemail/a/read")[0] == 404
    assert api.call("GET", "/api/v1/voicemail/a")[1]["message"]["status"] == "deleted"
    assert api.call("GET", "/api/v1/voicemail/nope")[1]["error"] == "no_such_message"
    assert api.call("DELETE", "/api/v1/voicemail/nope")[0] == 404


def test_a_path_outside_the_voicemail_directory_is_not_served(api: Api, tmp_path: Path) -> None:
    secret = api.data_dir / "tamas.db.copy"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(b"secret")
    outside = "voicemail/../tamas.db.copy"
    api.rows.add_message(VoicemailMessage(id="x", box="1", caller="2", call_id="c", at=1.0,
                                          duration=2.0, path=outside))  # fmt: skip
    assert api.call("GET", "/api/v1/voicemail/x/audio")[0] == 404


def test_assign_to_an_agent_and_back(api: Api) -> None:
    api.add("a")
    status, body = api.call("POST", "/api/v1/voicemail/a/assign", {"agent": "ann"})
    assert status == 200 and body["message"]["assigned_to"] == "ann"
    assert ids(api.call("GET", "/api/v1/voicemail?assigned_to=ann")) == ["a"]
    assert api.call("POST", "/api/v1/voicemail/a/assign", {"agent": None})[1]["message"][
        "assigned_to"] is None  # fmt: skip
    assert api.call("POST", "/api/v1/voicemail/a/assign", {"agent": "ghost"}) == (
        422, {"error": "no_such_agent", "message": "no agent ghost"})  # fmt: skip
    for bad in ({}, {"agent": ""}, {"agent": 7}, ["ann"]):
        assert api.call("POST", "/api/v1/voicemail/a/assign", bad)[0] == 400, bad
    assert api.call("POST", "/api/v1/voicemail/a/assign", b"{not json")[0] == 400
    assert api.call("POST", "/api/v1/voicemail/nope/assign", {"agent": "ann"})[0] == 404


@pytest.mark.parametrize("client", ["192.0.2.7", "2001:db8::7", "nonsense"])
def test_remote_clients_need_the_token(tmp_path: Path, client: str) -> None:
    open_api, token_api = Api(tmp_path / "o"), Api(tmp_path / "t", token="t0ken")
    try:
        assert open_api.call("GET", "/api/v1/voicemail", client="::1")[0] == 200
        assert open_api.call("GET", "/api/v1/voicemail", client=client)[0] == 403
        assert token_api.call("GET", "/api/v1/voicemail", client=client)[0] == 401
        assert token_api.call("GET", "/api/v1/voicemail", client=client,
                              Authorization="Bearer t0ken")[0] == 200  # fmt: skip
        assert token_api.call("POST", "/api/v1/voicemail/a/assign", {"agent": "x"},
                              client=client, Authorization="Bearer nope")[0] == 401  # fmt: skip
    finally:
        open_api.store.close()
        token_api.store.close()
