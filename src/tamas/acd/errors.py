"""The ACD's refusals: one root, :class:`AcdError`, and the callback API's three cases.

Kept interpreted in the compiled build, like the other ``errors`` modules (setup.py).
"""

from __future__ import annotations

from tamas.core.errors import TamasError

__all__ = ["AcdError", "CallbackInProgress", "DuplicateCallback", "UnknownCallback"]


class AcdError(TamasError):
    """An event names a queue or agent the ACD was not configured with, or is refused."""


class UnknownCallback(AcdError):
    """No pending callback has this id (never scheduled, carried out, cancelled, listed)."""


class DuplicateCallback(AcdError):
    """A callback was scheduled with an id the ACD already knows."""


class CallbackInProgress(AcdError):
    """The callback cannot be cancelled: an agent is being called for it right now."""
