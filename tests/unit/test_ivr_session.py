"""The interpreter, driven like the runtime would with a fake clock (``now`` is a number)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from tamas.ivr import Known, load_flows
from tamas.ivr.commands import (
    AudioFile,
    CollectDigits,
    Command,
    HttpRequest,
    Log,
    LookupContact,
    Play,
    Route,
    Speech,
)
from tamas.ivr.errors import IvrError
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
from tamas.ivr.model import Destination, DestinationKind, LookupBy
from tamas.ivr.session import IvrSession, State

KNOWN = Known(
    queues=frozenset({"sales", "support", "vip"}),
    mailboxes=frozenset({"100"}),
    calendars=frozenset({"office"}),
)
OFFICE = calendar_from_dict(
    "office", {"zone": "UTC", "weekly": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed")}}
)
MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()
MONDAY_NIGHT = datetime(2026, 11, 30, 20, 0, tzinfo=UTC).timestamp()


def queue(name: str) -> Route:
    return Route(destination=Destination(kind=DestinationKind.QUEUE, target=name))


HANGUP = Route(destination=Destination(kind=DestinationKind.HANGUP))


class Call:
    """A fake runtime: keeps the clock and the commands, answers plays on request."""

    def __init__(self, flows_yaml: str, flow: str = "main", now: float = 1000.0) -> None:
        flows = load_flows(yaml.safe_load(flows_yaml), KNOWN)
        self.now = now
        self.session = IvrSession(
            flows[flow], call_id="c1", caller="+98211234", calendars={"office": OFFICE}
        )
        self.commands: list[Command] = self.session.start(now)

    def send(self, event: Event) -> list[Command]:
        out = self.session.handle(event, self.now)
        self.commands.extend(out)
        return out

    def last(self, kind: type[Any]) -> Any:
        return [c for c in self.commands if isinstance(c, kind)][-1]

    def finish_play(self) -> list[Command]:
        return self.send(PlayFinished(play_id=self.last(Play).play_id))

    def wait(self, seconds: float) -> list[Command]:
        self.now += seconds
        return self.send(Tick())

    def spoken(self) -> str:
        return " | ".join(item.text for item in self.last(Play).items if isinstance(item, Speech))

    def logs(self) -> list[tuple[str, ...]]:
        return [(c.record.event, *c.record.data[1:]) for c in self.commands if isinstance(c, Log)]

    def route(self) -> Route | None:
        routes = [c for c in self.commands if isinstance(c, Route)]
        assert len(routes) <= 1
        return routes[0] if routes else None


MENU = """
main:
  steps:
    - id: welcome
      play: [{en: "Welcome", fa: "خوش آمدید"}, {file: prompts/jingle.wav}]
    - id: menu
      menu:
        prompt: {en: "Press 1 for sales, 2 for support, 9 for Persian", fa: "برای فروش"}
        timeout: 5
        retries: 3
        invalid: {en: "That is not a valid choice", fa: "نامعتبر"}
        no_input: {en: "We did not hear you", fa: "نشنیدیم"}
        options:
          "1": {queue: sales}
          "2": {queue: support}
          "9": lang
        fail: {voicemail: "100"}
    - id: lang
      set_language: fa
      next: menu
"""


def test_welcome_then_menu_then_queue() -> None:
    call = Call(MENU)
    play = call.last(Play)
    assert play.items == (
        Speech(text="Welcome", language="en"),
        AudioFile(path="prompts/jingle.wav"),
    )
    assert not play.barge_in
    assert call.session.next_deadline() is None
    call.finish_play()
    assert call.spoken() == "Press 1 for sales, 2 for support, 9 for Persian"
    assert call.last(Play).barge_in
    assert call.session.next_deadline() is None  # the timeout starts after the prompt
    call.finish_play()
    assert call.session.next_deadline() == call.now + 5
    call.now += 2
    assert call.send(DigitPressed(digit="2"))[-1] == queue("support")
    assert call.session.done
    assert call.logs() == [
        ("IVRSTART", "welcome"),
        ("IVRSTEP", "welcome", "play"),
        ("IVRSTEP", "menu", "menu"),
        ("IVRKEY", "menu", "2"),
        ("IVREXIT", "menu", "queue:support"),
    ]
    # Anything after the end is ignored.
    assert call.send(DigitPressed(digit="1")) == []


def test_menu_key_during_prompt_barges_in() -> None:
    call = Call(MENU)
    call.finish_play()
    call.send(DigitPressed(digit="1"))  # prompt still playing
    assert call.route() == queue("sales")


def test_menu_invalid_and_timeout_count_attempts_then_fail() -> None:
    call = Call(MENU)
    call.finish_play()
    call.finish_play()
    call.send(DigitPressed(digit="7"))
    assert (
        call.spoken()
        == "That is not a valid choice | Press 1 for sales, 2 for support, 9 for Persian"
    )
    assert call.session.next_deadline() is None  # prompt playing again
    call.finish_play()
    assert call.wait(4.9) == []  # not yet
    call.wait(0.1)
    assert call.spoken() == "We did not hear you | Press 1 for sales, 2 for support, 9 for Persian"
    call.finish_play()
    call.wait(5)
    assert call.route() == Route(
        destination=Destination(kind=DestinationKind.VOICEMAIL, target="100")
    )
    events = [entry for entry in call.logs() if entry[0] in ("IVRINVALID", "IVRTIMEOUT")]
    assert events == [
        ("IVRINVALID", "menu", "7", "1"),
        ("IVRTIMEOUT", "menu", "", "2"),
        ("IVRTIMEOUT", "menu", "", "3"),
    ]


def test_stale_play_finished_is_ignored() -> None:
    call = Call(MENU)
    call.finish_play()
    stale = call.last(Play).play_id
    call.send(DigitPressed(digit="8"))  # invalid: a new prompt starts
    call.send(PlayFinished(play_id=stale))
    assert call.session.next_deadline() is None  # still waiting for the new prompt


def test_set_language_changes_the_prompts_language() -> None:
    call = Call(MENU)
    call.finish_play()
    call.send(DigitPressed(digit="9"))
    play = call.last(Play)
    assert play.language == "fa"
    assert play.items == (Speech(text="برای فروش", language="fa"),)
    assert call.session.language == "fa"
    # The menu starts over with fresh attempts.
    call.send(DigitPressed(digit="5"))
    call.send(DigitPressed(digit="5"))
    assert call.route() is None
    assert call.spoken() == "نامعتبر | برای فروش"


COLLECT = """
main:
  steps:
    - id: code
      collect: {prompt: "Enter your code", min: 4, max: 6, terminator: "#", timeout: 3,
                first_timeout: 8, into: code, retries: 2, invalid: "Wrong code",
                fail: {hangup: true}}
    - id: check
      branch: {var: code, cases: {"1234": vip, "999999": sales}, default: other}
    - id: vip
      queue: vip
    - id: sales
      queue: sales
    - id: other
      say: {digits: "{code}"}
    - id: done
      queue: support
"""


def test_collect_terminator_then_branch() -> None:
    call = Call(COLLECT)
    call.finish_play()
    assert call.last(CollectDigits) == CollectDigits(
        min=4, max=6, terminator="#", timeout=3.0, first_timeout=8.0
    )
    assert call.session.next_deadline() == call.now + 8
    call.send(Digits(digits="1234#"))
    assert call.session.variables["code"] == "1234"
    assert call.route() == queue("vip")


def test_collect_max_digits_ends_collection() -> None:
    call = Call(COLLECT)
    call.send(Digits(digits="999999"))  # typed over the prompt
    assert call.route() == queue("sales")


def test_collect_inter_digit_timeout_with_enough_digits() -> None:
    call = Call(COLLECT)
    call.finish_play()
    call.send(Digits(digits="55"))
    assert call.session.next_deadline() == call.now + 3
    call.now += 2
    call.send(Digits(digits="66"))
    call.wait(2.9)
    assert call.session.state is State.COLLECTING
    call.wait(0.1)
    assert call.session.variables["code"] == "5566"
    assert call.spoken() == "five five six six"  # the default branch says the digits
    call.finish_play()
    assert call.route() == queue("support")


def test_collect_too_few_digits_and_timeouts_fail() -> None:
    call = Call(COLLECT)
    call.finish_play()
    call.send(Digits(digits="12#"))
    assert call.spoken() == "Wrong code | Enter your code"
    call.finish_play()
    call.wait(8)
    assert call.route() == HANGUP
    assert "code" not in call.session.variables


LOOKUP = """
main:
  steps:
    - id: who
      lookup: {by: number, found: known, unknown: stranger, timeout: 2}
    - id: known
      play: "Hello {contact.name}"
      next: {queue: vip}
    - id: stranger
      queue: sales
"""


def test_lookup_found_fills_contact_variables() -> None:
    call = Call(LOOKUP)
    request = call.last(LookupContact)
    assert (request.by, request.value) == (LookupBy.NUMBER, "+98211234")
    call.send(
        ContactResult(request_id=request.request_id, contact_id="k7", fields=(("name", "Sara"),))
    )
    assert call.spoken() == "Hello Sara"
    call.finish_play()
    assert call.route() == queue("vip")


def test_lookup_unknown_created_and_timeout() -> None:
    created = Call(LOOKUP)
    request = created.last(LookupContact)
    created.send(ContactResult(request_id=request.request_id, contact_id="n1", created=True))
    assert created.route() == queue("sales")

    silent = Call(LOOKUP)
    assert silent.session.next_deadline() == silent.now + 2
    silent.wait(2)
    assert silent.route() == queue("sales")
    late = silent.send(ContactResult(request_id=1, contact_id="k7"))
    assert late == []


HTTP = """
main:
  steps:
    - id: code
      collect: {prompt: "Order number", min: 1, max: 4, into: code}
    - id: order
      http: {url: "http://127.0.0.1:9000/orders/{code}?who={caller}", timeout: 3, into: order,
             ok: status, error: sorry}
    - id: status
      play: "Your order is {order.status}, wait {order.eta} minutes"
      next: {hangup: true}
    - id: sorry
      play: "Sorry"
"""


def http_call() -> tuple[Call, HttpRequest]:
    call = Call(HTTP)
    call.send(Digits(digits="42#"))
    return call, call.last(HttpRequest)


def test_http_ok_stores_the_json_body() -> None:
    call, request = http_call()
    assert request.url == "http://127.0.0.1:9000/orders/42?who=%2B98211234"
    assert request.timeout == 3.0
    call.send(
        HttpResult(request_id=request.request_id, status=200, body={"status": "sent", "eta": 5})
    )
    assert call.spoken() == "Your order is sent, wait 5 minutes"


def test_http_error_status_and_timeout_go_to_error() -> None:
    call, request = http_call()
    call.send(HttpResult(request_id=request.request_id, status=500, body="boom"))
    assert call.spoken() == "Sorry"

    call, request = http_call()
    call.send(HttpResult(request_id=request.request_id, error="connection refused"))
    assert call.spoken() == "Sorry"

    call, request = http_call()
    call.wait(3)
    assert call.spoken() == "Sorry"
    assert ("IVRTIMEOUT", "order", "http") in call.logs()
    assert call.send(HttpResult(request_id=request.request_id, status=200)) == []


HOURS = """
main:
  steps:
    - id: hours
      hours: {calendar: office, open: {queue: sales}, closed: closed}
    - id: closed
      play: {en: "We are closed"}
"""


def test_hours_open_and_closed() -> None:
    assert Call(HOURS, now=MONDAY_NOON).route() == queue("sales")
    night = Call(HOURS, now=MONDAY_NIGHT)
    assert night.spoken() == "We are closed"
    night.finish_play()
    assert night.route() == HANGUP  # falling off the end hangs up


def test_caller_hangup_ends_the_session() -> None:
    call = Call(MENU)
    call.finish_play()
    call.finish_play()
    call.send(CallerHungUp())
    assert call.session.done
    assert call.session.next_deadline() is None
    assert call.logs()[-1] == ("IVRHANGUP", "menu")
    assert call.route() is None


def test_barge_in_play_step_skips_on_a_key() -> None:
    flows = """
main:
  steps:
    - id: news
      play: "Long announcement"
      barge_in: true
    - id: q
      queue: sales
"""
    call = Call(flows)
    call.send(DigitPressed(digit="5"))
    assert call.route() == queue("sales")


def test_say_number_and_duration_in_the_session_language() -> None:
    flows = """
main:
  language: fa
  steps:
    - id: n
      say: {number: "{amount}"}
    - id: d
      say: {duration: "{wait}"}
    - id: bad
      say: {number: "{nothing}"}
"""
    flow = load_flows(yaml.safe_load(flows), KNOWN)["main"]
    session = IvrSession(flow, call_id="c2", variables={"amount": "321", "wait": "90"})
    (play,) = [c for c in session.start(0.0) if isinstance(c, Play)]
    assert play.items == (Speech(text="سیصد و بیست و یک", language="fa"),)
    (play,) = [c for c in session.handle(PlayFinished(play_id=play.play_id), 1.0)
               if isinstance(c, Play)]  # fmt: skip
    assert play.items == (Speech(text="یک و نیم دقیقه", language="fa"),)
    (play,) = [c for c in session.handle(PlayFinished(play_id=play.play_id), 2.0)
               if isinstance(c, Play)]  # fmt: skip
    assert play.items == ()  # not a number: nothing is said, and the step still ends
    out = session.handle(PlayFinished(play_id=play.play_id), 3.0)
    assert out[-1] == HANGUP


def test_step_limit_lets_a_silent_caller_go_from_a_menu_that_loops() -> None:
    flows = """
main:
  steps:
    - id: menu
      menu: {prompt: "Press 1", timeout: 2, retries: 1, options: {"1": {queue: sales}},
             fail: menu}
"""
    flow = load_flows(yaml.safe_load(flows), KNOWN)["main"]
    session = IvrSession(flow, call_id="c3", max_steps=3)
    now = 0.0
    out = session.start(now)
    for _ in range(3):
        (play,) = [c for c in out if isinstance(c, Play)]
        session.handle(PlayFinished(play_id=play.play_id), now)
        deadline = session.next_deadline()
        assert deadline == now + 2
        now = deadline
        out = session.handle(Tick(), now)
    assert session.done
    assert out[-1] == HANGUP
    exit_log = [c.record for c in out if isinstance(c, Log)][-1]
    assert (exit_log.event, exit_log.data) == ("IVREXIT", ("main", "menu", "hangup", "step limit"))


def test_a_session_without_the_calendar_its_flow_needs_is_refused() -> None:
    flow = load_flows(yaml.safe_load(HOURS), KNOWN)["main"]
    with pytest.raises(IvrError, match="step 'hours' needs calendar 'office'"):
        IvrSession(flow, call_id="c4")
