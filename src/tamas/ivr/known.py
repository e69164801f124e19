"""The names a flow may refer to, given by the configuration when flows are loaded."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LANGUAGES", "Known"]

#: Languages the IVR can speak (prompts' text, numbers, durations).
LANGUAGES = frozenset({"en", "fa", "ar"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Known:
    """What exists: a flow that names anything else is rejected when it is loaded.

    ``trunks`` are the trunks an ``external`` destination may name. Prompt files are not
    listed: the configuration checks that the files a flow plays exist.
    """

    queues: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    ring_groups: frozenset[str] = frozenset()
    mailboxes: frozenset[str] = frozenset()
    calendars: frozenset[str] = frozenset()
    trunks: frozenset[str] = frozenset()
    languages: frozenset[str] = LANGUAGES
