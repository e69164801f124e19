"""Random event sequences never raise and never leave an agent ringing with no ringing call."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tamas.acd import AcdError, api
from tamas.acd.strategies import STRATEGIES
from tamas.acd.testing import Driver

AGENTS = ["a", "b", "c"]
CALLS = ["c1", "c2", "c3", "c4"]
DEST = api.Destination(kind=api.DestinationKind.VOICEMAIL)
CB = api.Destination(kind=api.DestinationKind.CALLBACK)

agent = st.sampled_from(AGENTS)
call = st.sampled_from(CALLS)
events = st.one_of(
    st.builds(api.CallerArrived, call_id=call, queue=st.sampled_from(["q", "r"]),
              priority=st.integers(0, 2), skills=st.sampled_from([{}, {"fa": 3}])),
    st.builds(api.CallerHungUp, call_id=call),
    st.builds(api.CallerPressed, call_id=call, digit=st.sampled_from(["0", "1", "5"])),
    st.builds(api.AgentLogin, agent=agent, device=st.sampled_from(["d1", "d2", "d3"])),
    st.builds(api.AgentLogout, agent=agent),
    st.builds(api.AgentPause, agent=agent, reason=st.just("x")),
    st.builds(api.AgentUnpause, agent=agent),
    st.builds(api.RingAnswered, call_id=call, agent=agent),
    st.builds(api.RingFailed, call_id=call, agent=agent,
              cause=st.sampled_from(["busy", "unreachable", "rejected", "no-answer"])),
    st.builds(api.CallEnded, call_id=call, by=st.sampled_from(["caller", "agent"])),
    st.builds(api.AgentHold, agent=agent),
    st.builds(api.AgentUnhold, agent=agent),
    st.builds(api.DeviceState, device=st.sampled_from(["d1", "d2", "d3"]),
              state=st.sampled_from(["idle", "busy", "unregistered"])),
    st.builds(api.Tick),
    st.builds(api.CallbackRequested, call_id=call, number=st.just("1"),
              at=st.sampled_from([None, 30.0])),
    st.builds(api.CallbackResult, callback_id=call,
              outcome=st.sampled_from(["answered", "failed"])),
    st.builds(api.TransferredToQueue, call_id=call, queue=st.sampled_from(["q", "r"]),
              from_agent=agent),
    st.builds(api.CallbackScheduled, callback_id=st.sampled_from(["s1", "s2", *CALLS]),
              queue=st.sampled_from(["q", "r"]), number=st.just("2"),
              at=st.sampled_from([None, 0.0, 15.0, 60.0]), priority=st.integers(0, 2),
              skills=st.sampled_from([{}, {"fa": 3}])),
    st.builds(api.CallbackCancelled, callback_id=st.sampled_from(["s1", "s2", *CALLS]),
              reason=st.just("x")),
)  # fmt: skip
#: Events the ACD may refuse (AcdError) when they do not fit its state; nothing changes then.
REFUSABLE = (api.CallbackScheduled, api.CallbackCancelled)


@settings(max_examples=300, deadline=None)
@given(
    strategy=st.sampled_from(sorted(STRATEGIES)),
    steps=st.lists(st.tuples(st.floats(0, 20), events), max_size=60),
)
def test_random_sequences_keep_the_invariants(
    strategy: str, steps: list[tuple[float, api.Event]]
) -> None:
    q = api.QueueSpec(
        name="q", strategy=strategy, ring_timeout=5, retry=1, wrapup=3, max_callers=3,
        max_wait=60, leave_empty=True, exit_keys={"0": DEST, "1": CB}, autopause_misses=2,
        tier_wait=(4.0,), announce_every=7, announce_position=True, callback_offer_wait=1,
    )  # fmt: skip
    r = api.QueueSpec(name="r", strategy="skills", join_empty=False, skill_relax=3)
    agents = [
        api.AgentSpec(id="a", queues={"q": 0, "r": 0}, skills={"fa": 5}),
        api.AgentSpec(id="b", queues={"q": 1}, wrapup=0),
        api.AgentSpec(id="c", queues={"r": 0, "q": 2}, skills={"fa": 1}),
    ]
    options = api.AcdOptions(callback_attempts=2, callback_retry=10, callback_window=8)
    d = Driver([q, r], agents, options)
    t = 0.0
    for dt, ev in steps:
        t += dt
        if isinstance(ev, REFUSABLE):
            try:
                d.at(t, ev)
            except AcdError:
                d.acd.check_invariants()
        else:
            d.at(t, ev)  # check_invariants runs after every step, Ticks included
        listed = d.acd.callbacks()
        assert len({p.callback_id for p in listed}) == len(listed)
    d.advance(t + 300)  # every timer due in that span fires (invariants checked each time)
    callback: set[str] = set()  # calls whose current stay in a queue became a callback
    for rec in d.records:
        if rec.event == "ENTERQUEUE":
            callback.discard(rec.call_id)
        elif rec.event == "CALLBACKREQUESTED":
            callback.add(rec.call_id)
        elif rec.event == "ABANDON":
            assert rec.call_id not in callback
        elif rec.event == "CALLBACKCANCELLED":
            assert rec.call_id in callback
            callback.discard(rec.call_id)
