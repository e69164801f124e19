"""The IVR: call flows as data and their interpreter (a pure core: handle(event, now))."""

from tamas.ivr.errors import FlowError, IvrError
from tamas.ivr.known import LANGUAGES, Known
from tamas.ivr.loader import load_flows
from tamas.ivr.model import Destination, DestinationKind, Flow

__all__ = [
    "LANGUAGES",
    "Destination",
    "DestinationKind",
    "Flow",
    "FlowError",
    "IvrError",
    "Known",
    "load_flows",
]
