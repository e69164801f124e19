"""A hand-built event log for the report tests; the figures it must give are worked out in
the tests next to each assertion. T0 is an interval start (1_800_000_000 = 2_000_000 * 900).

Story (times relative to T0): agents a1 (sales) and a2 (sales, support) log in at 0.
c1 (0911) enters sales at 10, rings a1 who does not answer, a2 answers at 25 (ring 3 s),
holds 85-105, the caller hangs up at 145, a2 wraps up 145-175, the caller rates 5 of 5.
c2 abandons sales after 3 s; c3 rings a1 (no answer) and abandons after 60 s.
c4 (0911 again: c1 becomes a repeat contact) enters support at 200, a2 answers at 230 and
transfers it to sales at 290, a1 answers at 300 and hangs up at 400.
c5 leaves support by timeout after 60 s; c6 is refused (FULL). a1 pauses for lunch 700-1000
(across the interval boundary at 900) and logs off at 1200; a2 logs off at 1800.
Two records cannot be used (an ABANDON and an EXITEMPTY of calls never seen entering).
"""

from __future__ import annotations

from tamas.core.events import NONE, LogRecord

T0 = 1_800_000_000.0

_RAW: list[tuple[float, str, str, str, str, tuple[str, ...]]] = [
    (0, NONE, NONE, "a1", "AGENTLOGIN", ("dev1",)),
    (0, NONE, "sales", "a1", "ADDMEMBER", ("dev1",)),
    (0, NONE, NONE, "a2", "AGENTLOGIN", ("dev2",)),
    (0, NONE, "sales", "a2", "ADDMEMBER", ("dev2",)),
    (0, NONE, "support", "a2", "ADDMEMBER", ("dev2",)),
    (5, "c1", NONE, NONE, "CALLSTART", ("0911", "100", "inbound", "")),
    (6, "c1", NONE, NONE, "IVRSTART", ("main", "start")),
    (10, "c1", "sales", NONE, "ENTERQUEUE", ("", "0911", "1")),
    (18, "c1", "sales", "a1", "RINGNOANSWER", ("8000",)),
    (25, "c1", "sales", "a2", "CONNECT", ("15", "dev2", "3")),
    (30, "c2", "sales", NONE, "ENTERQUEUE", ("", "0912", "2")),
    (33, "c2", "sales", NONE, "ABANDON", ("1", "2", "3")),
    (40, "c3", "sales", NONE, "ENTERQUEUE", ("", "0913", "1")),
    (48, "c3", "sales", "a1", "RINGNOANSWER", ("8000",)),
    (85, "c1", "sales", "a2", "HOLD", ()),
    (100, "c3", "sales", NONE, "ABANDON", ("1", "1", "60")),
    (105, "c1", "sales", "a2", "UNHOLD", ()),
    (145, "c1", "sales", "a2", "COMPLETECALLER", ("15", "120", "1")),
    (145, "c1", "sales", "a2", "WRAPUPSTART", ("30",)),
    (150, "c1", "sales", "a2", "SURVEY", ("5", "5")),
    (151, "c1", NONE, NONE, "CALLEND", ("normal",)),
    (175, NONE, NONE, "a2", "WRAPUPEND", ()),
    (200, "c4", "support", NONE, "ENTERQUEUE", ("", "0911", "1")),
    (230, "c4", "support", "a2", "CONNECT", ("30", "dev2", "2")),
    (290, "c4", "support", "a2", "BLINDTRANSFER", ("sales", "", "30", "60", "1")),
    (290, "c4", "support", "a2", "COMPLETEAGENT", ("30", "60", "1")),
    (290, "c4", "sales", NONE, "ENTERQUEUE", ("", "0911", "1")),
    (300, "c4", "sales", "a1", "CONNECT", ("10", "dev1", "1")),
    (400, "c4", "sales", "a1", "COMPLETEAGENT", ("10", "100", "1")),
    (401, "c4", NONE, NONE, "CALLEND", ("normal",)),
    (500, "c5", "support", NONE, "ENTERQUEUE", ("", "0915", "1")),
    (560, "c5", "support", NONE, "EXITWITHTIMEOUT", ("1", "1", "60")),
    (600, "c6", "support", NONE, "FULL", ("", "0916", "3")),
    (700, NONE, "sales", "a1", "PAUSE", ("lunch",)),
    (1000, NONE, "sales", "a1", "UNPAUSE", ()),
    (1100, "cx", "sales", NONE, "ABANDON", ("1", "1", "5")),
    (1150, "cy", "support", NONE, "EXITEMPTY", ("1", "1", "0")),
    (1200, NONE, "sales", "a1", "REMOVEMEMBER", ("dev1",)),
    (1200, NONE, NONE, "a1", "AGENTLOGOFF", ("dev1", "1200")),
    (1800, NONE, "sales", "a2", "REMOVEMEMBER", ("dev2",)),
    (1800, NONE, "support", "a2", "REMOVEMEMBER", ("dev2",)),
    (1800, NONE, NONE, "a2", "AGENTLOGOFF", ("dev2", "1800")),
]

LOG: list[LogRecord] = [
    LogRecord(seq=i + 1, at=T0 + at, call_id=call, queue=queue, agent=agent, event=event, data=data)
    for i, (at, call, queue, agent, event, data) in enumerate(_RAW)
]
B0 = int(T0)  # the first interval
B1 = int(T0) + 900  # the second
