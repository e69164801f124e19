"""Configuration errors that say where (file:line:column), what (key path) and how to fix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tamas.core.errors import TamasError


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in a configuration file."""

    line: int
    column: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """One problem found in a configuration.

    ``loc`` is the key path (``("trunks", 0, "port")``), ``got`` the offending value as the
    user wrote it (already ``repr``-ed) when that helps, ``hint`` how to fix it.
    """

    loc: tuple[str | int, ...]
    position: Position | None
    message: str
    hint: str = ""
    got: str | None = None

    @property
    def path(self) -> str:
        """``loc`` written the way a user would: ``trunks[0].port``."""
        return format_loc(self.loc)

    def render(self, source: str) -> str:
        where = source
        if self.position is not None:
            where = f"{source}:{self.position.line}:{self.position.column}"
        text = f"{where}: "
        if self.loc:
            text += f"{self.path}: "
        text += self.message
        if self.got is not None:
            text += f" (got {self.got})"
        if self.hint:
            text += f" — {self.hint}"
        return text


def format_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class ConfigError(TamasError):
    """The configuration cannot be used. ``str()`` gives one line per issue, ready to print."""

    def __init__(self, source: str, issues: Sequence[Issue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        super().__init__("\n".join(issue.render(source) for issue in self.issues))
