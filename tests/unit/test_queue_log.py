"""queue_log codec: round trip on a composed Asterisk log, and clear errors for bad lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tamas.core.events import NONE, LogRecord
from tamas.core.queue_log import QueueLogError, format_line, parse_line

SAMPLE = Path(__file__).parent.parent / "fixtures" / "queue_log" / "asterisk_sample.log"
LINES = SAMPLE.read_text().splitlines()
GOOD = LINES[:30]  # what Asterisk writes; then a fractional time, then unusable lines
BAD = {
    32: "empty line",
    33: "4 field\\(s\\), at least 5 expected",
    34: "is not epoch seconds",
    35: "empty call id",
    36: "is not an event name",
    37: "is not epoch seconds",
}


@pytest.mark.parametrize("lineno", range(1, len(GOOD) + 1))
def test_asterisk_lines_survive_parse_then_format_byte_for_byte(lineno: int) -> None:
    line = GOOD[lineno - 1]
    assert format_line(parse_line(line, lineno)) == line


def test_fields_land_where_asterisk_puts_them() -> None:
    rec = parse_line("1700000112|1700000100.11|sales|PJSIP/1001|CONNECT|12|1700000108.14|4", 9)
    assert rec == LogRecord(
        at=1700000112.0,
        call_id="1700000100.11",
        queue="sales",
        agent="PJSIP/1001",
        event="CONNECT",
        data=("12", "1700000108.14", "4"),
    )
    enter = parse_line(GOOD[7], 8)
    assert enter.event == "ENTERQUEUE" and enter.data == ("", "09121234567", "1")
    bare = parse_line(GOOD[0], 1)
    assert (bare.call_id, bare.queue, bare.agent, bare.data) == (NONE, NONE, NONE, ("",))
    assert parse_line("1700000000|c|||HOLD\r\n", 1).queue == NONE


@pytest.mark.parametrize(("lineno", "reason"), sorted(BAD.items()))
def test_unusable_lines_raise_with_their_line_number_and_reason(lineno: int, reason: str) -> None:
    with pytest.raises(QueueLogError, match=f"^line {lineno}: .*{reason}") as caught:
        parse_line(LINES[lineno - 1], lineno)
    assert caught.value.lineno == lineno


def test_the_fixture_has_the_lines_the_tests_expect() -> None:
    assert len(LINES) == 37
    for lineno, line in enumerate(LINES, start=1):
        if lineno in BAD:
            with pytest.raises(QueueLogError):
                parse_line(line, lineno)
        else:
            parse_line(line, lineno)


def test_time_is_whole_seconds_rounded_down_and_fractions_parse() -> None:
    rec = LogRecord(at=1700000001.999, call_id="c", event="ABANDON", data=("1", "1", "3"))
    assert format_line(rec) == "1700000001|c|NONE|NONE|ABANDON|1|1|3"
    assert parse_line("1700001301.5|c|q|NONE|ENTERQUEUE||0912|1", 1).at == 1700001301.5


def test_separators_and_line_breaks_inside_a_field_become_spaces() -> None:
    rec = LogRecord(at=5.0, call_id="c", event="ENTERQUEUE", data=("", "Ali | Reza\nX", "1"))
    line = format_line(rec)
    assert line == "5|c|NONE|NONE|ENTERQUEUE||Ali   Reza X|1"
    assert parse_line(line, 1).data == ("", "Ali   Reza X", "1")


def test_an_error_message_shortens_a_long_line() -> None:
    with pytest.raises(QueueLogError) as caught:
        parse_line("x" * 500, 7)
    assert len(str(caught.value)) < 150
