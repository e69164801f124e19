"""Loading flows: the model built from YAML-shaped data, and every rejection's message."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tamas.ivr import FlowError, Known, load_flows
from tamas.ivr.model import (
    HANGUP,
    CollectStep,
    Destination,
    DestinationKind,
    HoursStep,
    HttpStep,
    Jump,
    MenuStep,
    PlayStep,
    Prompt,
    RouteStep,
)

KNOWN = Known(
    queues=frozenset({"sales", "support"}),
    extensions=frozenset({"1001"}),
    ring_groups=frozenset({"front"}),
    mailboxes=frozenset({"100"}),
    calendars=frozenset({"office"}),
    trunks=frozenset({"carrier"}),
)

MAIN = yaml.safe_load(
    """
main:
  language: en
  steps:
    - id: welcome
      play: {en: "Welcome to Tamas", fa: "به تماس خوش آمدید", ar: "مرحبا بكم في تماس"}
    - id: hours
      hours: {calendar: office, open: menu, closed: closed_msg}
    - id: menu
      menu:
        prompt: {en: "Press 1 for sales", fa: "برای فروش یک", ar: "اضغط واحد للمبيعات"}
        timeout: 5
        retries: 3
        invalid: {en: "Not valid", fa: "نامعتبر", ar: "غير صالح"}
        options:
          "1": {queue: sales}
          "2": support_q
          "0": {voicemail: 100}
          "8": {external: "+4930123", trunk: carrier}
          "9": {goto: lang}
        fail: {hangup: true}
    - id: lang
      set_language: fa
      next: menu
    - id: support_q
      queue: support
    - id: closed_msg
      play: {file: prompts/closed.wav}
"""
)


def load(data: dict[str, Any]) -> Any:
    return load_flows(data, KNOWN)


def reject(data: dict[str, Any]) -> FlowError:
    with pytest.raises(FlowError) as info:
        load(data)
    return info.value


def edited(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """MAIN with the value at ``path`` replaced (``...`` deletes the key)."""
    data = copy.deepcopy(MAIN)
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


def test_main_flow_loads_into_the_model() -> None:
    flow = load(MAIN)["main"]
    assert flow.start == "welcome"
    assert flow.language == "en"
    welcome = flow.step("welcome")
    assert isinstance(welcome, PlayStep)
    assert welcome.next == Jump(step="hours")
    assert welcome.prompts[0].text_in("fa", "en") == ("fa", "به تماس خوش آمدید")
    hours = flow.step("hours")
    assert isinstance(hours, HoursStep)
    assert (hours.open, hours.closed) == (Jump(step="menu"), Jump(step="closed_msg"))
    menu = flow.step("menu")
    assert isinstance(menu, MenuStep)
    options = dict(menu.options)
    assert options["1"] == Destination(kind=DestinationKind.QUEUE, target="sales")
    assert options["2"] == Jump(step="support_q")
    assert options["0"] == Destination(kind=DestinationKind.VOICEMAIL, target="100")
    assert options["8"] == Destination(
        kind=DestinationKind.EXTERNAL, target="+4930123", trunk="carrier"
    )
    assert options["9"] == Jump(step="lang")
    assert menu.fail == HANGUP
    assert flow.step("lang").next == Jump(step="menu")
    closed = flow.step("closed_msg")
    assert isinstance(closed, PlayStep)
    assert closed.prompts == (Prompt(file="prompts/closed.wav"),)
    assert closed.next == HANGUP  # the last step falls through to hanging up
    route = flow.step("support_q")
    assert isinstance(route, RouteStep)
    assert route.destination.kind is DestinationKind.QUEUE


def test_collect_http_and_defaults() -> None:
    data = {
        "f": {
            "start": "code",
            "steps": [
                {"id": "bye", "hangup": True},
                {
                    "id": "code",
                    "collect": {"prompt": "Enter your code", "min": 4, "max": 8, "into": "code"},
                },
                {
                    "id": "order",
                    "http": {
                        "url": "http://127.0.0.1:9000/orders/{code}",
                        "into": "order",
                        "ok": "bye",
                        "error": {"extension": 1001},
                    },
                },
            ],
        }
    }
    flow = load(data)["f"]
    assert flow.start == "code"
    code = flow.step("code")
    assert isinstance(code, CollectStep)
    assert (code.min, code.max, code.terminator, code.first_timeout) == (4, 8, "#", 5.0)
    assert code.next == Jump(step="order")
    http = flow.step("order")
    assert isinstance(http, HttpStep)
    assert http.timeout == 3.0
    assert http.error == Destination(kind=DestinationKind.EXTENSION, target="1001")


@pytest.mark.parametrize(
    ("path", "value", "step", "where", "reason"),
    [
        (
            ("main", "steps", 2, "menu", "options", "1"),
            {"queue": "salse"},
            "menu",
            ("main", "steps", 2, "menu", "options", "1", "queue"),
            "queue 'salse' does not exist (queues: sales, support)",
        ),
        (
            ("main", "steps", 2, "menu", "options", "0"),
            {"voicemail": "999"},
            "menu",
            ("main", "steps", 2, "menu", "options", "0", "voicemail"),
            "mailbox '999' does not exist (mailboxes: 100)",
        ),
        (
            ("main", "steps", 2, "menu", "options", "8"),
            {"external": "+4930", "trunk": "nope"},
            "menu",
            ("main", "steps", 2, "menu", "options", "8", "trunk"),
            "trunk 'nope' does not exist (trunks: carrier)",
        ),
        (
            ("main", "steps", 4),
            {"id": "support_q", "extension": "2000"},
            "support_q",
            ("main", "steps", 4, "extension"),
            "extension '2000' does not exist (extensions: 1001)",
        ),
        (
            ("main", "steps", 4),
            {"id": "support_q", "ring_group": "back"},
            "support_q",
            ("main", "steps", 4, "ring_group"),
            "ring group 'back' does not exist (ring groups: front)",
        ),
        (
            ("main", "steps", 1, "hours", "calendar"),
            "ofice",
            "hours",
            ("main", "steps", 1, "hours", "calendar"),
            "calendar 'ofice' does not exist (calendars: office)",
        ),
        (
            ("main", "steps", 1, "hours", "closed"),
            "closed_mgs",
            "hours",
            ("main", "steps", 1, "hours", "closed"),
            "step 'closed_mgs' does not exist (steps: closed_msg, hours, lang, menu, "
            "support_q, welcome)",
        ),
        (
            ("main", "steps", 2, "menu", "options", "9"),
            {"goto": "lnag"},
            "menu",
            ("main", "steps", 2, "menu", "options", "9", "goto"),
            "step 'lnag' does not exist (steps: closed_msg, hours, lang, menu, support_q, welcome)",
        ),
        (
            ("main", "steps", 2, "menu", "options"),
            {},
            "menu",
            ("main", "steps", 2, "menu", "options"),
            "a menu needs at least one option (key: target)",
        ),
        (
            ("main", "steps", 2, "menu", "options"),
            {"12": "lang"},
            "menu",
            ("main", "steps", 2, "menu", "options", "12"),
            "option key '12' is not one telephone key (one of 0123456789*#ABCD)",
        ),
        (
            ("main", "steps", 2, "menu", "colour"),
            "blue",
            "menu",
            ("main", "steps", 2, "menu", "colour"),
            "unknown key 'colour' (allowed here: prompt, options, timeout, retries, "
            "invalid, no_input, fail)",
        ),
        (
            ("main", "steps", 0, "plya"),
            "x",
            "welcome",
            ("main", "steps", 0, "plya"),
            "unknown key 'plya' (allowed here: id, play, barge_in, next)",
        ),
        (
            ("main", "steps", 5, "id"),
            "menu",
            "menu",
            ("main", "steps", 5, "id"),
            "duplicate step id 'menu' (also step 2); give each step its own id",
        ),
        (
            ("main", "start"),
            "nowhere",
            None,
            ("main", "start"),
            "step 'nowhere' does not exist (steps: closed_msg, hours, lang, menu, "
            "support_q, welcome)",
        ),
        (
            ("main", "steps", 2, "menu", "prompt"),
            {"en": "Press 1", "ar": "اضغط واحد"},
            "menu",
            ("main", "steps", 2, "menu", "prompt"),
            "prompt has no 'fa' text (the flow switches to fa at step 'lang'); add fa: ...",
        ),
        (
            ("main", "steps", 0, "play"),
            {"fa": "سلام"},
            "welcome",
            ("main", "steps", 0, "play"),
            "prompt has no 'en' text (the flow's language is en); add en: ...",
        ),
        (
            ("main", "steps", 0, "play"),
            {"en": "hi", "de": "hallo"},
            "welcome",
            ("main", "steps", 0, "play", "de"),
            "'de' is not a supported language (languages: ar, en, fa), nor 'file'",
        ),
        (
            ("main", "steps", 3, "set_language"),
            "de",
            "lang",
            ("main", "steps", 3, "set_language"),
            "language 'de' is not supported (languages: ar, en, fa)",
        ),
        (
            ("main", "steps", 2, "menu", "timeout"),
            0,
            "menu",
            ("main", "steps", 2, "menu", "timeout"),
            "expected seconds between 0 and 3600, got 0",
        ),
        (
            ("main", "steps", 2, "menu", "fail"),
            {"hangup": False},
            "menu",
            ("main", "steps", 2, "menu", "fail", "hangup"),
            "write 'hangup: true'",
        ),
        (
            ("main", "steps", 2, "menu", "fail"),
            {"queue": "sales", "extension": "1001"},
            "menu",
            ("main", "steps", 2, "menu", "fail"),
            "a target is a step id or one of goto, queue, extension, ring_group, "
            "voicemail, external, hangup",
        ),
        (
            ("main", "steps", 4),
            {"id": "support_q", "queue": "support", "play": "hi"},
            "support_q",
            ("main", "steps", 4),
            "a step needs exactly one of play, say, set_language, hours, menu, collect, "
            "lookup, branch, http, goto, queue, extension, ring_group, voicemail, external, "
            "hangup (found: queue, play)",
        ),
        (
            ("main", "steps", 4),
            {"queue": "support"},
            None,
            ("main", "steps", 4),
            "every step needs an 'id'",
        ),
    ],
)
def test_rejections_say_where_and_how_to_fix(
    path: tuple[Any, ...],
    value: Any,
    step: str | None,
    where: tuple[Any, ...],
    reason: str,
) -> None:
    error = reject(edited(path, value))
    assert (error.flow, error.step, error.path, error.reason) == ("main", step, where, reason)
    assert reason in str(error)


def test_goto_cycle_without_input_is_rejected() -> None:
    data = {
        "loop": {
            "steps": [
                {"id": "a", "play": "hello"},
                {"id": "b", "set_language": "en"},
                {"id": "c", "goto": "a"},
            ]
        }
    }
    error = reject(data)
    assert (error.flow, error.step, error.path) == ("loop", "a", ("loop", "steps", 0))
    assert error.reason == (
        "the steps a -> b -> c -> a loop forever without waiting for the caller; "
        "put a menu or collect step in the loop or end it"
    )


def test_branch_cycle_is_rejected_but_a_loop_through_a_menu_is_fine() -> None:
    silent = {
        "f": {
            "steps": [
                {"id": "m", "menu": {"prompt": "press", "options": {"1": "b"}}},
                {"id": "b", "branch": {"var": "x", "cases": {"1": "c"}, "default": "m"}},
                {"id": "c", "goto": "b"},
            ]
        }
    }
    assert reject(silent).reason.startswith("the steps b -> c -> b loop forever")
    through_menu = copy.deepcopy(silent)
    through_menu["f"]["steps"][2] = {"id": "c", "goto": "m"}
    assert isinstance(load(through_menu)["f"].step("m"), MenuStep)


def test_http_url_placeholders_cannot_choose_the_host() -> None:
    data = {
        "f": {
            "steps": [
                {"id": "h", "http": {"url": "http://{host}/x", "ok": "e", "error": "e"}},
                {"id": "e", "hangup": True},
            ]
        }
    }
    error = reject(data)
    assert error.path == ("f", "steps", 0, "http", "url")
    assert "placeholders may not choose the host" in error.reason


def test_lookup_by_code_needs_a_variable() -> None:
    data = {"f": {"steps": [{"id": "l", "lookup": {"by": "code", "found": "l", "unknown": "l"}}]}}
    error = reject(data)
    assert error.reason == "lookup by code needs 'var': the variable holding the code"


def test_collect_max_below_min() -> None:
    data = {
        "f": {"steps": [{"id": "c", "collect": {"prompt": "x", "min": 5, "max": 4, "into": "v"}}]}
    }
    error = reject(data)
    assert (error.path, error.reason) == (
        ("f", "steps", 0, "collect", "max"),
        "max (4) is less than min (5)",
    )


def test_error_string_names_flow_step_and_path() -> None:
    error = reject(edited(("main", "steps", 2, "menu", "options", "1"), {"queue": "salse"}))
    assert str(error) == (
        "ivr flow 'main', step 'menu' (main.steps[2].menu.options.1.queue): "
        "queue 'salse' does not exist (queues: sales, support)"
    )


def test_nothing_configured_is_said_plainly() -> None:
    with pytest.raises(FlowError) as info:
        load_flows({"f": {"steps": [{"id": "q", "queue": "sales"}]}}, Known())
    assert info.value.reason == "queue 'sales' does not exist (no queues are configured)"
