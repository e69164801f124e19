"""SIPp through a running Tamas with a delayed offer (RFC 3261 section 13.2.1, RFC 3264
section 5): the caller's INVITE has no SDP, the callee offers in its 200, and the caller's
answer must reach the callee in the ACK. Both SIPp scenarios check the bodies themselves
(``check_it``), so a missing offer or answer fails their call. With media anchored (the
default) the offer and the answer are Tamas's own; with ``media.anchor: false`` they are the
parties', passed through. The in-memory scenarios in
tests/integration/test_b2bua_robustness.py cover retransmissions, timeouts and re-INVITEs.
"""

from __future__ import annotations

from typing import Any

import harness
import pytest
from test_tamas_sipp import ext_run, messages, register_uas, start_center, uas_successes

from conftest import Peers

pytestmark = pytest.mark.peers

__all__ = ["start_center"]  # the fixture, used by name


@pytest.mark.parametrize("anchor", [True, False], ids=["anchored", "pass-through"])
def test_delayed_offer_call(start_center: Any, peers: Peers, anchor: bool) -> None:
    c = start_center(media={"anchor": anchor})
    _, uas = register_uas(peers, c, "1002", "uas_answer_offer")
    a_port = harness.free_udp_port()
    r = ext_run(peers, c, "tamas_register_keep", user="1001", local_port=a_port)
    assert r.ok, r.describe()
    r = ext_run(peers, c, "tamas_call_delayed", user="1001", service="1002", local_port=a_port,
                hold_ms=300, calls=3, rate=5)  # fmt: skip
    assert r.ok and r.successful == 3, r.describe()
    assert uas_successes(uas, 3) == 3
    caller_saw = messages(r)
    if anchor:
        assert "o=- " in caller_saw and "o=sink-offer " not in caller_saw
    else:
        assert "o=sink-offer " in caller_saw
