"""The recording API over real HTTP (uvicorn on 127.0.0.1, a free port) on a real bridged call.

The one test of a non-loopback client calls the ASGI app in memory with that address in its
scope: nothing is ever sent off this machine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from recording_rig import Rig, rig, run, sox_info
from starlette.applications import Starlette
from webserve import http, serve_app

from tamas.store import RecordingLayout, RecordingRecord
from tamas.web.recordings import recording_routes


@asynccontextmanager
async def serve(r: Rig, **kw: Any) -> AsyncIterator[str]:
    """The recording API of ``r`` on 127.0.0.1 at a free port; yields its base URL."""
    async with serve_app(Starlette(routes=recording_routes(r.control, r.store, **kw))) as base:
        yield base


async def post(base: str, call_id: str, action: object) -> tuple[int, Any]:
    status, _, body = await http("POST", f"{base}/api/v1/calls/{call_id}/recording",
                                 {"action": action})  # fmt: skip
    return status, json.loads(body)


async def get(base: str, path: str, **headers: str) -> tuple[int, Any]:
    status, _, body = await http("GET", base + path, **headers)
    return status, json.loads(body)


def row(rec_id: str, call_id: str, started_at: float, path: str | None = None) -> RecordingRecord:
    return RecordingRecord(
        id=rec_id,
        call_id=call_id,
        path=path or f"recordings/2026/11/30/{rec_id}.wav",
        layout=RecordingLayout.STEREO,
        channels=2,
        rate=8000,
        started_at=started_at,
        duration=1.0,
    )


# --- a call recorded through the API ------------------------------------------------------


def test_record_a_call_over_http_and_download_it(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r, serve(r) as base:
            await r.call("web-1")
            await asyncio.sleep(0.2)
            status, started = await post(base, "web-1", "start")
            assert status == 201
            info = started["recording"]
            assert info["state"] == "recording" and info["id"] == "web-1-1"
            assert (await get(base, "/api/v1/recordings/web-1-1"))[1]["recording"] == info
            status, body = await get(base, "/api/v1/recordings/web-1-1/audio")
            assert status == 409 and body["error"] == "in_progress"
            await asyncio.sleep(0.5)
            status, paused = await post(base, "web-1", "pause")
            assert status == 200 and paused["recording"]["state"] == "paused"
            await asyncio.sleep(0.5)
            assert (await post(base, "web-1", "resume"))[1]["recording"]["state"] == "recording"
            await asyncio.sleep(0.5)
            status, stopped = await post(base, "web-1", "stop")
            assert status == 200
            meta = stopped["recording"]
            assert meta["state"] == "stopped" and meta["status"] == "ok"
            assert meta["channels"] == 2 and meta["rate"] == 8000 and meta["duration"] > 1.4
            assert len(meta["paused_spans"]) == 1 and meta["caller"]["packets"] > 50
            assert meta["audio"] == "/api/v1/recordings/web-1-1/audio"

            listed = await get(base, "/api/v1/recordings?call_id=web-1")
            assert listed == (200, {"recordings": [meta], "limit": 50, "offset": 0,
                                    "next_offset": None})  # fmt: skip
            assert await get(base, "/api/v1/recordings/web-1-1") == (200, {"recording": meta})

            status, headers, audio = await http("GET", base + meta["audio"])
            assert status == 200 and headers["content-type"] == "audio/wav"
            assert 'filename="web-1-1.wav"' in headers["content-disposition"]
            on_disk = (r.data_dir / meta["path"]).read_bytes()
            assert audio == on_disk
            (tmp_path / "download.wav").write_bytes(audio)
            channels, duration = sox_info(tmp_path / "download.wav")
            assert channels == 2 and abs(duration - meta["duration"]) < 0.01
            status, headers, head = await http("GET", base + meta["audio"], Range="bytes=0-43")
            assert status == 206 and head == on_disk[:44]

    run(main)


def test_domain_errors_become_404_and_409_with_a_named_error(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r, serve(r) as base:
            r.lookup.calls.add("ringing")
            await r.call("up")
            cases = [
                ("ghost", "start", 404, "no_such_call"),
                ("ghost", "stop", 404, "no_such_call"),
                ("ringing", "start", 409, "not_answered"),
                ("up", "pause", 409, "not_recording"),
                ("up", "stop", 409, "not_recording"),
                ("up", "start", 201, None),
                ("up", "start", 409, "already_recording"),
                ("up", "rewind", 400, "bad_request"),
                ("up", None, 400, "bad_request"),
            ]
            for call_id, action, want_status, want_error in cases:
                status, body = await post(base, call_id, action)
                assert status == want_status, (call_id, action, body)
                if want_error is not None:
                    assert body["error"] == want_error and body["message"], body
            status, _, raw = await http("POST", f"{base}/api/v1/calls/up/recording", b"{oops",
                                        **{"Content-Type": "application/json"})  # fmt: skip
            assert status == 400 and json.loads(raw)["error"] == "bad_request"
            status, body = await get(base, "/api/v1/recordings/nothing-1")
            assert status == 404 and body["error"] == "no_such_recording"
            status, body = await get(base, "/api/v1/recordings/nothing-1/audio")
            assert status == 404 and body["error"] == "no_such_recording"

    run(main)


# --- listing ------------------------------------------------------------------------------


def test_list_filters_and_pages(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r, serve(r) as base:
            # 2026-11-30T00:00:00Z is 1795996800; one recording per hour from then.
            for i in range(5):
                r.store.recordings.add_recording(row(f"r{i}", "a" if i % 2 else "b",
                                                     1795996800.0 + 3600 * i))  # fmt: skip

            async def ids(query: str) -> list[str]:
                status, body = await get(base, "/api/v1/recordings" + query)
                assert status == 200, body
                return [item["id"] for item in body["recordings"]]

            assert await ids("") == ["r4", "r3", "r2", "r1", "r0"]
            assert await ids("?call_id=a") == ["r3", "r1"]
            assert await ids("?from=1796000400") == ["r4", "r3", "r2", "r1"]
            assert await ids("?from=2026-11-30T01:00:00&to=2026-11-30T03:00:00Z") == ["r2", "r1"]
            assert await ids("?from=2026-11-30T04:30:00%2B03:30") == ["r4", "r3", "r2", "r1"]
            status, page = await get(base, "/api/v1/recordings?limit=2&offset=2")
            assert [item["id"] for item in page["recordings"]] == ["r2", "r1"]
            assert page["next_offset"] == 4
            status, last = await get(base, "/api/v1/recordings?limit=2&offset=4")
            assert [item["id"] for item in last["recordings"]] == ["r0"]
            assert last["next_offset"] is None
            for bad in ("limit=0", "limit=501", "limit=x", "offset=-1", "from=yesterday"):
                status, body = await get(base, f"/api/v1/recordings?{bad}")
                assert status == 400 and body["error"] == "bad_request", bad

    run(main)


# --- the audio stays inside the recordings directory --------------------------------------


def test_audio_path_is_confined_to_the_recordings_dir(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r, serve(r) as base:
            secret = tmp_path / "secret.wav"
            secret.write_bytes(b"RIFF not for you")
            inside = r.data_dir / "recordings" / "2026"
            inside.mkdir(parents=True)
            (inside / "link.wav").symlink_to(secret)
            (inside / "real.wav").write_bytes(b"RIFF fine")
            rows = {
                "dotdot": "recordings/../../secret.wav",
                "absolute": str(secret),
                "symlink": "recordings/2026/link.wav",
                "db": "../tamas.db",
                "directory": "recordings/2026",
                "missing": "recordings/2026/gone.wav",
            }
            for rec_id, path in rows.items():
                r.store.recordings.add_recording(row(rec_id, "c", 1.0, path))
            r.store.recordings.add_recording(row("fine", "c", 1.0, "recordings/2026/real.wav"))
            for rec_id in rows:
                status, _, body = await http("GET", f"{base}/api/v1/recordings/{rec_id}/audio")
                assert status == 404 and json.loads(body)["error"] == "no_audio", rec_id
            status, _, body = await http("GET", f"{base}/api/v1/recordings/fine/audio")
            assert status == 200 and body == b"RIFF fine"

    run(main)


# --- who may ask --------------------------------------------------------------------------


def test_token_is_required_when_loopback_is_not_trusted(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            r.store.recordings.add_recording(row("r1", "c", 1.0))
            async with serve(r, token="s3cret-token", trust_loopback=False) as base:
                url = f"{base}/api/v1/recordings/r1"
                status, headers, body = await http("GET", url)
                assert status == 401 and json.loads(body)["error"] == "unauthorized"
                assert headers["www-authenticate"].startswith("Bearer")
                assert (await http("GET", url, Authorization="Bearer wrong"))[0] == 401
                assert (await http("GET", url, Authorization="Basic s3cret-token"))[0] == 401
                status, _, body = await http("GET", url, Authorization="Bearer s3cret-token")
                assert status == 200 and json.loads(body)["recording"]["id"] == "r1"
                status, _, _ = await http("POST", f"{base}/api/v1/calls/c/recording",
                                          {"action": "start"})  # fmt: skip
                assert status == 401  # refused before the action is looked at
            async with serve(r, trust_loopback=False) as base:  # no token: nobody
                status, _, body = await http("GET", f"{base}/api/v1/recordings",
                                             Authorization="Bearer s3cret-token")  # fmt: skip
                assert status == 403 and json.loads(body)["error"] == "forbidden"

    run(main)


async def asgi_get(app: Starlette, path: str, client: str, **headers: str) -> int:
    """Call ``app`` in memory as if ``client`` had sent ``GET path`` (no socket at all)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (client, 40000),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


@pytest.mark.parametrize("client", ["192.0.2.7", "2001:db8::7", "::ffff:192.0.2.7", "nonsense"])
def test_remote_clients_need_the_token(tmp_path: Path, client: str) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            open_app = Starlette(routes=recording_routes(r.control, r.store))
            token_app = Starlette(routes=recording_routes(r.control, r.store, token="t0ken"))
            path = "/api/v1/recordings"
            assert await asgi_get(open_app, path, "127.0.0.1") == 200
            assert await asgi_get(open_app, path, "::1") == 200
            assert await asgi_get(open_app, path, client) == 403
            assert await asgi_get(token_app, path, client) == 401
            assert await asgi_get(token_app, path, client, Authorization="Bearer t0ken") == 200

    run(main)
