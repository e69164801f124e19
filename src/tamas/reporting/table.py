"""A report as data: named, typed columns and rows of plain values.

Every report (queue, agent, interval, missed calls, IVR, callbacks) and every KPI listing is
built as one :class:`Table`. The CLI, the HTTP API and the exporters (JSON, CSV, XLSX) take a
``Table`` and know nothing about which report it is, so a new report needs no new output
code. Values are plain: ``None``, ``bool``, ``int``, ``float``, ``str``. A column's
:class:`Kind` says how to show a value (a ``TIME`` is epoch seconds, shown in the report's
time zone and calendar; a ``SECONDS`` is a duration; a ``RATIO`` is a share in 0..1).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Column", "Kind", "Table", "Value", "columns", "rows_of"]

Value = None | bool | int | float | str


class Kind(enum.StrEnum):
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    SECONDS = "seconds"  # a duration in seconds
    RATIO = "ratio"  # a share in 0..1 (None when its denominator is 0)
    TIME = "time"  # epoch seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    key: str
    title: str
    kind: Kind = Kind.TEXT
    #: What the value means and how it is computed (docs/kpis.md has the long form).
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """One report's result. ``rows`` hold a value for every column key."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Value], ...]
    #: The query that made it: range, filters, grouping, settings (shown and exported).
    params: Mapping[str, Value] = field(default_factory=dict)
    #: Targets a center can change, by column key (e.g. service_level 0.8), shown beside values.
    targets: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"report {self.name}: duplicate column keys in {keys}")
        for i, row in enumerate(self.rows):
            missing = [k for k in keys if k not in row]
            if missing:
                raise ValueError(f"report {self.name}: row {i} lacks {missing}")

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def as_json(self) -> dict[str, object]:
        """The JSON shape served by the API and ``tamas report --format json``."""
        return {
            "name": self.name,
            "title": self.title,
            "params": dict(self.params),
            "columns": [
                {
                    "key": c.key,
                    "title": c.title,
                    "kind": c.kind.value,
                    "description": c.description,
                }
                for c in self.columns
            ],
            "targets": dict(self.targets),
            "rows": [dict(r) for r in self.rows],
        }


def columns(*specs: tuple[str, str, Kind] | Column) -> tuple[Column, ...]:
    """Shorthand: ``columns(("queue", "Queue", Kind.TEXT), ...)``."""
    out: list[Column] = []
    for spec in specs:
        out.append(
            spec if isinstance(spec, Column) else Column(key=spec[0], title=spec[1], kind=spec[2])
        )
    return tuple(out)


def rows_of(items: Sequence[Mapping[str, Value]]) -> tuple[Mapping[str, Value], ...]:
    return tuple(dict(i) for i in items)
