"""The IVR's ``lookup`` step answered from a real SQLite contacts store, through the real
:class:`IvrRunner` and :class:`ContactLookup` (worker threads, the event loop). The speaker is
a fake at the seam: it keeps what would be spoken and finishes each playback at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tamas.core.events import LogRecord
from tamas.ivr import Known, load_flows
from tamas.runtime.anchor import CallDigit
from tamas.runtime.callcenter.audio import Clip
from tamas.runtime.callcenter.ivr_runner import IvrRunner
from tamas.runtime.contacts import ContactLookup
from tamas.store import Store, open_store
from tamas.store.contacts import Contacts, ContactSource

FLOWS = """
main:
  steps:
    - id: who
      lookup: {by: number, found: hello, unknown: stranger, timeout: 120}
    - id: hello
      play: "Welcome back {contact.name}"
    - id: language
      branch: {var: contact.language, cases: {fa: persian}, default: ask_code}
    - id: persian
      queue: persian
    - id: stranger
      play: "Welcome, new caller [{contact.id}]"
    - id: ask_code
      collect: {prompt: "Your customer code", min: 1, max: 8, terminator: "#", into: code,
                timeout: 120}
    - id: by_code
      lookup: {by: code, var: code, found: vip, unknown: general, timeout: 120}
    - id: vip
      play: "Hello {contact.name}, customer {contact.code}"
      next: {queue: vip}
    - id: general
      queue: general
"""
KNOWN = Known(queues=frozenset({"persian", "vip", "general"}))


@dataclass
class FakeRecord:
    caller: str


@dataclass
class FakeCall:
    id: str
    record: FakeRecord


@dataclass
class FakeLeg:
    side: str = "a"


@dataclass
class FakeSpeaker:
    """Keeps the text of each playback and reports it heard on the next loop turn."""

    spoken: list[str] = field(default_factory=list)

    def say(self, call: Any, leg: Any, clips: Sequence[Clip], then: Callable[[], None] | None
            ) -> None:  # fmt: skip
        self.spoken.append(" ".join(c.text for c in clips))
        if then is not None:
            asyncio.get_running_loop().call_soon(then)

    def stop(self, call: Any, leg: Any) -> None:
        pass


@dataclass
class Outcome:
    route: tuple[str, str]
    spoken: list[str]
    records: list[LogRecord]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/contacts.db") as opened:
        yield opened


def run_call(store: Store, caller: str, keys: str = "") -> Outcome:
    """One call from ``caller`` through flow ``main``; ``keys`` are pressed when the flow
    asks for the customer code. Returns where the flow sent the call."""
    flows = load_flows(yaml.safe_load(FLOWS), KNOWN)
    speaker = FakeSpeaker()
    records: list[LogRecord] = []

    async def main() -> tuple[str, str]:
        routed: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        lookup = ContactLookup(Contacts(store.engine), clock=lambda: 5_000.0)

        def route(call: Any, kind: str, target: str, language: str) -> None:
            routed.set_result((kind, target))

        runner = IvrRunner(flows, {}, speaker, records.extend, route,  # type: ignore[arg-type]
                           contacts=lookup)  # fmt: skip
        call = FakeCall("call-1", FakeRecord(caller))
        runner.start(call, FakeLeg(), "main")  # type: ignore[arg-type]
        if keys:
            while "Your customer code" not in speaker.spoken and not routed.done():
                await asyncio.sleep(0.01)
            for key in keys:
                runner.digit(CallDigit(call_id=call.id, side="a", digit=key, duration_ms=100,
                                       via="rfc4733", at=0.0))  # fmt: skip
        try:
            return await asyncio.wait_for(routed, 60)  # a bound for a stuck test only
        finally:
            runner.close()
            await lookup.aclose()

    return Outcome(asyncio.run(main()), speaker.spoken, records)


def test_unknown_caller_is_created_and_takes_the_unknown_branch(store: Store) -> None:
    book = Contacts(store.engine)
    outcome = run_call(store, "+98 912 345 6789", keys="9#")
    made = book.find_by_number("09123456789")  # the same number in its national form
    assert made is not None
    assert (made.source, made.numbers, made.name) == (ContactSource.IVR, ("+989123456789",), "")
    assert made.created_at == 5_000.0
    assert outcome.spoken[0] == f"Welcome, new caller [{made.id}]"
    assert outcome.route == ("queue", "general")  # code 9 is nobody's
    # the second call from that number finds the contact made by the first
    again = run_call(store, "0912 345 6789", keys="9#")
    assert again.spoken[0] == "Welcome back "
    assert len(book.search()) == 1


def test_known_caller_takes_the_found_branch_with_contact_fields(store: Store) -> None:
    book = Contacts(store.engine)
    book.add({"name": "Sara", "numbers": ["021 8812 3456"], "language": "fa"}, now=1.0)
    outcome = run_call(store, "+98 21 8812 3456")
    assert outcome.spoken == ["Welcome back Sara"]
    assert outcome.route == ("queue", "persian")  # a branch on contact.language
    assert [c.name for c in book.search()] == ["Sara"]  # nothing created


def test_lookup_by_code_found_and_not_found_creates_nothing(store: Store) -> None:
    book = Contacts(store.engine)
    book.add({"name": "Ann", "code": "4711", "numbers": ["1001"]}, now=1.0)
    found = run_call(store, "1001", keys="4711#")
    assert found.spoken == ["Welcome back Ann", "Your customer code",
                            "Hello Ann, customer 4711"]  # fmt: skip
    assert found.route == ("queue", "vip")
    unknown = run_call(store, "1001", keys="4712#")
    assert unknown.route == ("queue", "general")
    assert len(book.search()) == 1 and book.find_by_code("4712") is None


def test_anonymous_caller_is_not_found_and_nothing_is_created(store: Store) -> None:
    outcome = run_call(store, "anonymous", keys="1#")
    assert outcome.spoken[0] == "Welcome, new caller []"  # no contact.id
    assert Contacts(store.engine).search() == []


def test_a_database_error_is_logged_and_answered_as_not_found(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE contact_numbers"))
    with caplog.at_level(logging.ERROR, logger="tamas.contacts"):
        outcome = run_call(store, "1001", keys="1#")
    assert outcome.spoken[0] == "Welcome, new caller []"
    assert outcome.route == ("queue", "general")
    assert "contact look-up by number failed" in caplog.text
