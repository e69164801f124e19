"""Property: whatever the caller does and whenever, a session waits or ends, never spins.

Two families of flows: a fixed flow using every step kind, and random small flows of
menus, plays, gotos and branches (kept only when :func:`load_flows` accepts them). Each is
driven by a random script of keys, stale and current replies, ticks and delays, then by a
silent caller until it ends.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tamas.ivr import FlowError, Known, load_flows
from tamas.ivr.commands import Command, HttpRequest, Log, LookupContact, Play, Route
from tamas.ivr.events import (
    CallerHungUp,
    ContactResult,
    DigitPressed,
    Digits,
    Event,
    HttpResult,
    PlayFinished,
    Tick,
)
from tamas.ivr.hours import calendar_from_dict
from tamas.ivr.model import Flow
from tamas.ivr.session import IvrSession, State

KNOWN = Known(queues=frozenset({"sales", "support"}), calendars=frozenset({"office"}))
OFFICE = calendar_from_dict("office", {"zone": "Asia/Tehran", "weekly": {"sat": ["08:00-16:00"]}})

RICH = load_flows(
    yaml.safe_load(
        """
main:
  steps:
    - id: hello
      play: {en: "Hello", fa: "سلام"}
      barge_in: true
    - id: hours
      hours: {calendar: office, open: who, closed: menu}
    - id: who
      lookup: {by: number, found: menu, unknown: code, timeout: 2}
    - id: code
      collect: {prompt: {en: "Code", fa: "کد"}, min: 2, max: 4, timeout: 2, into: code, fail: menu}
    - id: order
      http: {url: "http://127.0.0.1:9000/o/{code}", into: order, ok: say, error: menu}
    - id: say
      say: {number: "{order.n}"}
    - id: menu
      menu:
        prompt: {en: "1 sales, 2 support, 3 code, 9 language", fa: "منو"}
        timeout: 3
        retries: 2
        options: {"1": {queue: sales}, "2": {queue: support}, "3": code, "9": lang}
    - id: lang
      set_language: fa
      next: b
    - id: b
      branch: {var: code, cases: {"12": {queue: sales}}, default: menu}
"""
    ),
    KNOWN,
)["main"]

KEYS = st.sampled_from("0123456789*#")
ACTIONS = st.one_of(
    st.tuples(st.just("key"), KEYS),
    st.tuples(st.just("keys"), st.text(alphabet="0123456789*#", max_size=5)),
    st.tuples(st.just("play_done"), st.booleans()),  # True: a stale id
    st.tuples(st.just("wait"), st.floats(min_value=0, max_value=10)),
    st.tuples(st.just("reply"), st.integers(min_value=0, max_value=3)),
    st.tuples(st.just("hangup"), st.none()),
)


class Driver:
    def __init__(self, flow: Flow, now: float) -> None:
        self.session = IvrSession(
            flow, call_id="p", caller="+98", calendars={"office": OFFICE}, max_steps=40
        )
        self.now = now
        self.steps_per_call = len(flow.steps)  # each step at most once per call
        self.out: list[Command] = []
        self.record(self.session.start(now))

    def record(self, commands: list[Command], inputs: int = 1) -> None:
        entered = sum(1 for c in commands if isinstance(c, Log) and c.record.event == "IVRSTEP")
        assert entered <= self.steps_per_call * inputs  # no spinning inside one call
        self.out.extend(commands)
        self.check_waiting()

    def check_waiting(self) -> None:
        s = self.session
        if s.state is State.DONE:
            return
        assert s.state is not State.NEW
        if s.state in (State.HTTP, State.LOOKUP):
            assert s.next_deadline() is not None
        if s.state in (State.MENU, State.COLLECTING):
            # Either the prompt is playing (its PlayFinished will come) or a timer runs.
            assert s.next_deadline() is not None or self.last(Play) is not None

    def last(self, kind: type[Any]) -> Any:
        found = [c for c in self.out if isinstance(c, kind)]
        return found[-1] if found else None

    def send(self, event: Event) -> None:
        inputs = max(1, len(event.digits)) if isinstance(event, Digits) else 1
        self.record(self.session.handle(event, self.now), inputs)

    def act(self, action: tuple[str, Any]) -> None:
        kind, arg = action
        if kind == "key":
            self.send(DigitPressed(digit=arg))
        elif kind == "keys":
            self.send(Digits(digits=arg))
        elif kind == "play_done":
            play = self.last(Play)
            play_id = play.play_id if play is not None else 0
            self.send(PlayFinished(play_id=play_id - 1 if arg else play_id))
        elif kind == "wait":
            self.now += arg
            self.send(Tick())
        elif kind == "reply":
            self.reply(arg)
        else:
            self.send(CallerHungUp())

    def reply(self, how: int) -> None:
        http, lookup = self.last(HttpRequest), self.last(LookupContact)
        if http is not None:
            body = {"n": how * 7}
            self.send(HttpResult(request_id=http.request_id, status=200 if how else 503, body=body))
        if lookup is not None:
            contact = None if how == 0 else f"k{how}"
            self.send(
                ContactResult(request_id=lookup.request_id, contact_id=contact, created=how == 2)
            )

    def silent_until_done(self) -> None:
        for _ in range(2000):
            if self.session.done:
                return
            deadline = self.session.next_deadline()
            if deadline is not None:
                assert deadline >= self.now
                self.now = deadline
                self.send(Tick())
            else:
                self.send(PlayFinished(play_id=self.last(Play).play_id))
        raise AssertionError("a silent caller was never let go")

    def check_end(self) -> None:
        routes = [c for c in self.out if isinstance(c, Route)]
        hangups = [c for c in self.out if isinstance(c, Log) and c.record.event == "IVRHANGUP"]
        assert len(routes) + len(hangups) == 1
        assert self.session.next_deadline() is None


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(ACTIONS, max_size=40),
    st.sampled_from([1_764_900_000.0, 1_765_000_000.0, 1_765_060_000.0]),
)
def test_rich_flow_always_ends(actions: list[tuple[str, Any]], start: float) -> None:
    driver = Driver(RICH, start)
    for action in actions:
        driver.act(action)
    driver.silent_until_done()
    driver.check_end()


STEP_IDS = ["s0", "s1", "s2", "s3", "s4"]
TARGETS = st.one_of(
    st.sampled_from(STEP_IDS),
    st.just({"queue": "sales"}),
    st.just({"hangup": True}),
)


@st.composite
def random_flows(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=5))
    ids = STEP_IDS[:n]
    steps = []
    for step_id in ids:
        kind = draw(st.sampled_from(["play", "goto", "branch", "menu", "lang", "queue"]))
        step: dict[str, Any] = {"id": step_id}
        if kind == "play":
            step["play"] = "x"
            if draw(st.booleans()):
                step["next"] = draw(TARGETS)
        elif kind == "goto":
            step["goto"] = draw(st.sampled_from(ids))
        elif kind == "branch":
            step["branch"] = {"var": "v", "cases": {"1": draw(TARGETS)}, "default": draw(TARGETS)}
        elif kind == "menu":
            keys = draw(st.lists(KEYS, min_size=1, max_size=3, unique=True))
            step["menu"] = {
                "prompt": "m",
                "timeout": 2,
                "retries": 2,
                "options": {k: draw(TARGETS) for k in keys},
                "fail": draw(TARGETS),
            }
        elif kind == "lang":
            step["set_language"] = "en"
        else:
            step["queue"] = "sales"
        steps.append(step)
    return {"f": {"steps": steps}}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(random_flows(), st.lists(ACTIONS, max_size=30))
def test_any_accepted_flow_ends_for_any_caller(
    data: dict[str, Any], actions: list[tuple[str, Any]]
) -> None:
    try:
        flow = load_flows(data, KNOWN)["f"]
    except FlowError:
        return  # rejected when loaded: never run
    driver = Driver(flow, 0.0)
    for action in actions:
        driver.act(action)
    driver.silent_until_done()
    driver.check_end()
