"""A callback scheduled with no call (the API's path): at its time Tamas calls the agent
first, then dials the customer, and the ACD logs it from request to completion.

The real B2BUA, media engine and contact center; SIP in memory (:mod:`memsip`), RTP on real
sockets on 127.0.0.1 (the rig of test_b2bua_media).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from memsip import HOST, until
from test_b2bua_media import B_PORT, C_PORT, CONFIG, Media, RtpPort, media_of, play

from tamas.acd import UnknownCallback
from tamas.core.events import LogRecord
from tamas.runtime.callcenter.callbacks import InvalidNumber

QUEUE = (
    CONFIG
    + '    - {{number: "600", kind: queue, queue: sales}}\n'
    + "queues:\n  - {{name: sales, ring_timeout: 5, wrapup: 0, announce_every: null}}\n"
    + 'agents:\n  - {{id: cy, extension: "3000", queues: {{sales: 0}}}}\n'
)


def names(records: list[LogRecord], callback_id: str) -> list[str]:
    return [r.event for r in records if r.call_id == callback_id]


def test_scheduled_callback_rings_the_agent_then_dials_the_customer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scheduled: dict[str, object] = {}

    async def scenario(media: Media) -> None:
        center = media.center
        assert center is not None
        net = media.net
        customer, agent = net.phone(B_PORT, "b"), net.phone(C_PORT, "c")
        center.login("cy", "3000")
        with pytest.raises(InvalidNumber):
            center.schedule_callback("sales", "call me")
        at = time.time() + 0.3
        # Persian digits, as a web form may send them: normalised to 2000 (extension B)
        cb = center.schedule_callback("sales", "۲۰۰۰", at)
        scheduled.update(id=cb, at=at)
        (pending,) = center.pending_callbacks()
        assert (pending.callback_id, pending.state, pending.number) == (cb, "scheduled", "2000")
        assert agent.peek() == [] and customer.peek() == []  # not before its time
        # its time comes: the agent's phone rings first, the customer's does not yet
        await until(lambda: "INVITE" in agent.peek(), 10)
        assert customer.peek() == []
        assert center.pending_callbacks()[0].state == "ringing"
        a_invite = agent.expect_request("INVITE")
        rtp_agent, rtp_customer = RtpPort(), RtpPort()
        a_dialog = agent.answer(a_invite, "atag", body=rtp_agent.sdp())
        agent.expect("ACK")
        # the agent answered: the customer is dialled
        await until(lambda: "INVITE" in customer.peek(), 10)
        c_invite = customer.expect_request("INVITE")
        customer.answer(c_invite, "ctag", body=rtp_customer.sdp())
        customer.expect("ACK")
        await until(lambda: any(r.event == "CALLBACKCOMPLETED" for r in events))
        assert center.pending_callbacks() == []
        assert center.engine.agent_state("cy").value == "on_call"
        with pytest.raises(UnknownCallback):
            center.cancel_callback(cb)  # carried out: nothing pending
        # the two are bridged: the agent's audio reaches the customer
        _, tamas_agent_port, _, _ = media_of(a_invite.body)
        _, tamas_customer_port, _, _ = media_of(c_invite.body)
        rtp_agent.send(tamas_agent_port, b"\x44" * 160)
        await until(lambda: rtp_customer.poll() >= 1)
        assert rtp_customer.received[-1][1] == (HOST, tamas_customer_port)
        # the agent hangs up
        agent.request(a_dialog, "BYE")
        agent.expect("200 BYE")
        customer.reply(customer.expect_request("BYE"), 200)
        rtp_agent.close()
        rtp_customer.close()

    events: list[LogRecord] = []
    (rec,) = play(tmp_path, caplog, scenario, config=QUEUE, events=events)
    cb = str(scheduled["id"])
    assert names(events, cb) == [
        "CALLBACKREQUESTED", "CALLBACKSTARTED", "CALLBACKCOMPLETED", "COMPLETEAGENT",
    ]  # fmt: skip
    requested, started, completed, _ = [r for r in events if r.call_id == cb]
    at = scheduled["at"]
    assert requested.data == ("2000", "", repr(at)) and requested.queue == "sales"
    assert isinstance(at, float) and started.at >= at  # not started before its time
    assert (started.agent, started.data) == ("cy", ("2000", "1"))
    assert completed.agent == "cy" and completed.data[1] == "1"  # first attempt
    start = next(r for r in events if r.event == "CALLBACKSTART")
    assert start.data == (cb, "2000") and start.agent == "cy"
    assert (rec.caller, rec.callee) == ("3000", "2000")
    assert not any(r.event in ("ABANDON", "ENTERQUEUE") for r in events)
