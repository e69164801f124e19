"""The IVR: call flows as data and their interpreter (a pure core: handle(event, now)).

Commands and events live in :mod:`tamas.ivr.commands` and :mod:`tamas.ivr.events`; the
flow model in :mod:`tamas.ivr.model`. See docs/ivr.md.
"""

from tamas.ivr.errors import FlowError, IvrError
from tamas.ivr.hours import Calendar, CalendarError, calendar_from_dict, hours_state, is_open
from tamas.ivr.known import LANGUAGES, Known
from tamas.ivr.loader import load_flows
from tamas.ivr.model import Destination, DestinationKind, Flow
from tamas.ivr.say import say_digits, say_duration, say_number
from tamas.ivr.session import IvrSession, State

__all__ = [
    "LANGUAGES",
    "Calendar",
    "CalendarError",
    "Destination",
    "DestinationKind",
    "Flow",
    "FlowError",
    "IvrError",
    "IvrSession",
    "Known",
    "State",
    "calendar_from_dict",
    "hours_state",
    "is_open",
    "load_flows",
    "say_digits",
    "say_duration",
    "say_number",
]
