"""``{var}`` placeholders in prompt texts, say values and URLs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

__all__ = ["VAR_NAME", "placeholders", "render"]

#: A variable name: ``code``, ``order.status``, ``contact.name``.
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def placeholders(text: str) -> list[str]:
    """The names inside ``{...}`` in ``text`` (possibly malformed; the caller checks)."""
    return _PLACEHOLDER.findall(text)


def render(
    text: str, variables: Mapping[str, str], quote: Callable[[str], str] | None = None
) -> str:
    """``text`` with each ``{name}`` replaced by its value ("" when unset), quoted if asked."""

    def value(match: re.Match[str]) -> str:
        found = variables.get(match.group(1), "")
        return quote(found) if quote is not None else found

    return _PLACEHOLDER.sub(value, text)
