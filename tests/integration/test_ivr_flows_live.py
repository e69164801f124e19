"""A flow edited through the API changes where the next caller goes, while a caller already
in the flow finishes the version they started with.

The real B2BUA, media engine and contact center, SIP in memory (:mod:`memsip`), RTP and the
keys (RFC 4733) on real sockets on 127.0.0.1 (the rig of test_b2bua_media); the API over
real HTTP (uvicorn on 127.0.0.1) with a real SQLite store.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from memsip import until
from starlette.applications import Starlette
from test_b2bua_media import (
    CARRIER,
    CONFIG,
    PHONE_PORT,
    Media,
    RtpPort,
    authed_invite,
    media_of,
    play,
    resp,
)
from webserve import http, serve_app

from tamas.core.events import LogRecord
from tamas.store import open_store
from tamas.store.ivr_flows import IvrFlows
from tamas.web.ivr import ivr_routes

# Number 700 is the IVR; the carrier's calls go there too. Option 1 of the menu: queue sales.
LIVE = (
    CONFIG.replace('destination: "2000", trunk: carrier', 'destination: "700", trunk: carrier')
    + '    - {{number: "700", kind: ivr, flow: main}}\n'
    + "queues:\n  - {{name: sales, announce_every: null}}\n"
    + "  - {{name: support, announce_every: null}}\n"
    + "ivr:\n  main:\n    steps:\n"
    + '      - {{id: menu, menu: {{prompt: {{file: "{prompt}"}}, timeout: 60,'
    + ' options: {{"1": {{queue: sales}}}}}}}}\n'
)


def edited(prompt: str) -> dict[str, object]:
    """The flow as the API gets it: option 1 now goes to queue support."""
    return {"steps": [{"id": "menu", "menu": {
        "prompt": {"file": prompt}, "timeout": 60, "options": {"1": {"queue": "support"}},
    }}]}  # fmt: skip


def press(rtp: RtpPort, port: int, digit: int) -> None:
    """One RFC 4733 key: a start packet (marker), two updates, three end packets."""
    for i, flags in enumerate((0x00, 0x00, 0x00, 0x80, 0x80, 0x80)):
        event = struct.pack("!BBH", digit, flags | 10, 160 * (i + 1))
        rtp.send(port, event, pt=101, marker=i == 0, ts=8000)


def test_a_put_changes_the_next_callers_route_not_the_current_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ids: dict[str, str] = {}

    async def scenario(media: Media) -> None:
        center = media.center
        assert center is not None and center.ivr is not None
        net = media.net
        phone, carrier = net.phone(PHONE_PORT, "1001"), net.phone(CARRIER, "carrier")
        rtp1, rtp2 = RtpPort(), RtpPort()
        # caller 1 enters the flow as the file wrote it
        invite1 = authed_invite(phone, "sip:700@127.0.0.1:5060", rtp1.sdp(codecs="0 101"),
                                "a1001")  # fmt: skip
        ok1 = resp(phone.take()[-1])
        assert ok1.status == 200
        _, port1, _, _ = media_of(ok1.body)
        dialog1 = phone.dialog_as_uac(invite1, ok1)
        phone.ack(dialog1, invite1)
        await until(lambda: len(center.ivr.running) == 1, 20)  # type: ignore[union-attr]
        (ids["first"],) = center.ivr.running
        # the flow is edited through the API while caller 1 is in its menu
        with open_store(f"sqlite:///{tmp_path}/flows.db") as store:
            repo = IvrFlows(store.engine)
            async with serve_app(Starlette(routes=ivr_routes(center, repo))) as url:
                status, _, body = await http("PUT", f"{url}/api/v1/ivr/flows/main",
                                             edited(str(tmp_path / "prompt.wav")))  # fmt: skip
                assert status == 201, body
                assert json.loads(body)["flow"]["source"] == "database"
            stored = repo.get("main")
            assert stored is not None and stored.updated_by == "api"
        # caller 2 enters after the change
        invite2 = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp2.sdp(codecs="0 101"))
        await until(lambda: "200 INVITE" in carrier.peek(), 20)
        ok2 = resp(carrier.take()[-1])
        _, port2, _, _ = media_of(ok2.body)
        dialog2 = carrier.dialog_as_uac(invite2, ok2)
        carrier.ack(dialog2, invite2)
        await until(lambda: len(center.ivr.running) == 2, 20)  # type: ignore[union-attr]
        (ids["second"],) = set(center.ivr.running) - {ids["first"]}
        # both press 1: the second goes by the new version, the first by the one it started
        press(rtp2, port2, 1)
        await until(lambda: center.parties.get(ids["second"]) is not None
                    and center.parties[ids["second"]].queue is not None, 20)  # fmt: skip
        press(rtp1, port1, 1)
        await until(lambda: center.parties.get(ids["first"]) is not None
                    and center.parties[ids["first"]].queue is not None, 20)  # fmt: skip
        assert center.parties[ids["second"]].queue == "support"
        assert center.parties[ids["first"]].queue == "sales"
        for who, dialog in ((phone, dialog1), (carrier, dialog2)):
            who.request(dialog, "BYE")
            who.expect("200 BYE")
        rtp1.close()
        rtp2.close()

    events: list[LogRecord] = []
    play(tmp_path, caplog, scenario, config=LIVE, events=events)
    exits = {r.call_id: r.data for r in events if r.event == "IVREXIT"}
    assert exits[ids["first"]] == ("main", "menu", "queue:sales")
    assert exits[ids["second"]] == ("main", "menu", "queue:support")
    entered = {r.call_id: r.queue for r in events if r.event == "ENTERQUEUE"}
    assert entered == {ids["first"]: "sales", ids["second"]: "support"}
