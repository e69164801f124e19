"""The IVR's errors: one root, and the load-time error that says where and how to fix."""

from __future__ import annotations

from tamas.core.errors import TamasError

__all__ = ["FlowError", "IvrError"]


class IvrError(TamasError):
    """Root of the errors the IVR raises on purpose."""


class FlowError(IvrError):
    """A flow cannot be used: it is malformed or refers to something that does not exist.

    ``flow`` and ``step`` name where (``step`` is ``None`` for flow-level problems), ``path``
    is the key path from the mapping given to :func:`tamas.ivr.load_flows`, e.g.
    ``("main", "steps", 2, "menu", "options", "1", "queue")`` (prepend ``"ivr"`` for the
    configuration file), and ``reason`` says what is wrong and how to fix it.
    """

    def __init__(
        self, *, flow: str, step: str | None, path: tuple[str | int, ...], reason: str
    ) -> None:
        self.flow = flow
        self.step = step
        self.path = path
        self.reason = reason
        where = f"ivr flow '{flow}'"
        if step is not None:
            where += f", step '{step}'"
        super().__init__(f"{where} ({_format_path(path)}): {reason}")


def _format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
