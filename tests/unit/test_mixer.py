"""Mixer arithmetic: int32 sums clipped once per listener; who hears whom when monitoring."""

from __future__ import annotations

import numpy as np
import pytest

from tamas.media.mixer import HEARS, Conference, MonitoredCall, MonitorMode, Role, mix


def const(value: int, n: int = 160) -> np.ndarray:
    return np.full(n, value, dtype=np.int16)


def test_mix_clips_after_summing() -> None:
    out = mix([const(30000), const(30000), const(-25000)])
    assert out is not None and out.dtype == np.int16
    assert np.all(out == 32767)  # 35,000 clipped
    assert np.all(mix([const(-30000), const(-30000)]) == -32768)
    assert np.all(mix([const(20000), const(-20000), const(5)]) == 5)
    lone = const(3)
    assert mix([None, lone, None]) is lone  # no copy for a single source
    assert mix([None, None]) is None and mix([]) is None


def test_mix_per_sample() -> None:
    a = np.array([32767, -32768, 100, 0], np.int16)
    b = np.array([1, -1, -300, 0], np.int16)
    assert mix([a, b]).tolist() == [32767, -32768, -200, 0]  # type: ignore[union-attr]


def test_conference_each_hears_the_others() -> None:
    conf: Conference[str] = Conference(frame_samples=4)
    for name in "abc":
        conf.add(name)
    out = conf.mix({"a": const(1, 4), "b": const(10, 4), "c": const(100, 4)})
    assert {k: int(v[0]) for k, v in out.items()} == {"a": 110, "b": 101, "c": 11}


def test_conference_clips_each_listener_from_the_unclipped_total() -> None:
    conf: Conference[str] = Conference(frame_samples=4)
    for name in "abc":
        conf.add(name)
    out = conf.mix({"a": const(30000, 4), "b": const(30000, 4), "c": const(10000, 4)})
    # a hears b + c = 40,000 -> 32,767 (clipping the total first would give 2,767);
    # c hears a + b = 60,000 -> 32,767.
    assert {k: int(v[0]) for k, v in out.items()} == {"a": 32767, "b": 32767, "c": 32767}
    out = conf.mix({"a": const(30000, 4), "b": const(30000, 4), "c": const(-30000, 4)})
    assert {k: int(v[0]) for k, v in out.items()} == {"a": 0, "b": 0, "c": 32767}
    out = conf.mix({"a": const(-32768, 4), "b": const(-32768, 4), "c": const(-32768, 4)})
    assert all(int(v[0]) == -32768 for v in out.values())


def test_conference_mute_deaf_and_missing_frames() -> None:
    conf: Conference[int] = Conference(frame_samples=4)
    conf.add(1)
    conf.add(2, talks=False)  # muted: hears, is not heard
    conf.add(3, listens=False)  # deaf: heard, is sent nothing
    conf.add(4)
    out = conf.mix({1: const(1, 4), 2: const(10, 4), 3: const(100, 4), 4: None})
    assert set(out) == {1, 2, 4}
    assert {k: int(v[0]) for k, v in out.items()} == {1: 100, 2: 101, 4: 101}
    conf.set_talks(2, True)
    conf.set_listens(3, True)
    conf.remove(4)
    out = conf.mix({1: const(1, 4), 2: const(10, 4), 3: const(100, 4)})
    assert {k: int(v[0]) for k, v in out.items()} == {1: 110, 2: 101, 3: 11}
    assert 4 not in conf and len(conf) == 3


def test_conference_with_no_voice_sends_silence() -> None:
    conf: Conference[str] = Conference()
    conf.add("a")
    conf.add("b")
    out = conf.mix({})
    assert set(out) == {"a", "b"} and not any(v.any() for v in out.values())
    assert len(out["a"]) == 160


def test_large_conference() -> None:
    conf: Conference[int] = Conference()
    rng = np.random.default_rng(1)
    frames = {i: rng.integers(-3000, 3000, 160).astype(np.int16) for i in range(50)}
    for i in frames:
        conf.add(i)
    out = conf.mix(frames)
    total = sum(f.astype(np.int64) for f in frames.values())
    for i, frame in frames.items():
        expected = np.clip(total - frame, -32768, 32767)
        assert np.array_equal(out[i], expected)


# The routing matrix, spelled out: listener -> sources heard.
EXPECTED = {
    MonitorMode.LISTEN: {
        "caller": {"agent"},
        "agent": {"caller"},
        "supervisor": {"caller", "agent"},
    },
    MonitorMode.WHISPER: {
        "caller": {"agent"},
        "agent": {"caller", "supervisor"},
        "supervisor": {"caller", "agent"},
    },
    MonitorMode.BARGE: {
        "caller": {"agent", "supervisor"},
        "agent": {"caller", "supervisor"},
        "supervisor": {"caller", "agent"},
    },
}


@pytest.mark.parametrize("mode", list(MonitorMode))
def test_monitor_routing_matrix(mode: MonitorMode) -> None:
    # Distinct powers of two per party: each output's value says exactly whom it contains.
    value = {"caller": 1, "agent": 2, "supervisor": 4}
    call = MonitoredCall(mode)
    out = call.mix(const(1), const(2), const(4))
    heard = {
        "caller": out.to_caller,
        "agent": out.to_agent,
        "supervisor": out.to_supervisor,
    }
    for listener, frame in heard.items():
        assert frame is not None
        got = {name for name, bit in value.items() if int(frame[0]) & bit}
        assert got == EXPECTED[mode][listener], (mode, listener)
    assert {r.value: {s.value for s in srcs} for r, srcs in HEARS[mode].items()} == EXPECTED[mode]


def test_nobody_hears_themselves_and_listen_is_silent_to_others() -> None:
    for mode in MonitorMode:
        for listener, sources in HEARS[mode].items():
            assert listener not in sources
    listen = HEARS[MonitorMode.LISTEN]
    assert Role.SUPERVISOR not in listen[Role.CALLER] + listen[Role.AGENT]
    assert Role.SUPERVISOR not in HEARS[MonitorMode.WHISPER][Role.CALLER]


def test_monitor_passthrough_and_clipping() -> None:
    caller, agent, supervisor = const(30000), const(20000), const(-1000)
    call = MonitoredCall(MonitorMode.LISTEN)
    out = call.mix(caller, agent, supervisor)
    assert out.to_caller is agent and out.to_agent is caller  # untouched, not copied
    assert np.all(out.to_supervisor == 32767)
    call.mode = MonitorMode.BARGE  # switched mid-call
    out = call.mix(caller, agent, supervisor)
    assert np.all(out.to_caller == 19000) and np.all(out.to_agent == 29000)


def test_monitor_missing_frames() -> None:
    call = MonitoredCall(MonitorMode.WHISPER)
    out = call.mix(None, None, const(5))
    assert out.to_caller is None and out.to_supervisor is None
    assert out.to_agent is not None and np.all(out.to_agent == 5)
    out = call.mix(const(7), None, None)
    assert out.to_caller is None and out.to_agent is not None and out.to_supervisor is not None
