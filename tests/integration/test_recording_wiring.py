"""The composition root's recording wiring when media is not anchored (``media.anchor: false``).

The anchored case is proven with real peers in ``tests/peers/test_tamas_recording.py``. Here
the B2BUA relays SDP untouched, so a call has no bridge in Tamas: recording control still
answers, and a start is refused as for a call that is not bridged.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from memsip import Net
from test_b2bua_memory import CONFIG, Answered

from tamas.config import parse_config
from tamas.runtime.app import build_sip_stack, start_recording
from tamas.runtime.recording_control import NoSuchCall, NotAnswered, NotRecording
from tamas.runtime.storewriter import StoreWriter
from tamas.store import open_store


def test_without_anchoring_a_start_is_refused_as_not_answered(tmp_path: Path) -> None:
    text = CONFIG.format(ring_timeout=30) + "media: {anchor: false}\ndata_dir: " + str(tmp_path)
    config = parse_config(text, "test.yaml")
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    writer = StoreWriter(store)

    async def main() -> None:
        stack = build_sip_stack(config, store, writer)
        net = Net(stack)
        control, recorder = start_recording(config, stack, None, writer)
        call = Answered(net)
        (call_id,) = stack.b2bua.calls
        with pytest.raises(NotAnswered):
            control.start(call_id)
        with pytest.raises(NotRecording):
            control.pause(call_id)
        with pytest.raises(NoSuchCall):
            control.start("no-such-call")
        call.carrier_hangs_up(call.b)
        await control.aclose()
        await recorder.aclose()
        assert stack.b2bua.calls == {} and len(control) == 0
        net.assert_quiet()

    try:
        asyncio.run(main())
    finally:
        writer.close()
    assert store.recordings.list_recordings(call_id=None, since=None, until=None) == []
    assert not (tmp_path / "recordings").exists()
    store.close()
