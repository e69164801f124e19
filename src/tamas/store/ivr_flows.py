"""IVR flows kept in the database: the versions edited through the API.

A row holds one flow's definition exactly as one flow under ``ivr:`` in the configuration
file (a JSON object: ``language``, ``start``, ``steps``), who changed it last and when. The
store does not check a definition: the run-time (:mod:`tamas.runtime.callcenter.flows`)
checks it with the IVR loader, against the configuration, before it is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tamas.store.errors import StoreError
from tamas.store.tables import metadata

__all__ = ["IvrFlows", "StoredFlow", "ivr_flows"]

ivr_flows = sa.Table(
    "ivr_flows",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFlow:
    name: str
    #: The flow as one entry under ``ivr:`` in YAML (a mapping of plain JSON values).
    definition: Mapping[str, Any]
    #: Epoch seconds of the last change.
    updated_at: float
    #: Who made it (e.g. ``api``, or the API client's name).
    updated_by: str


class IvrFlows:
    """The stored flows repository (synchronous: call it from a thread, not the event loop)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def list(self) -> list[StoredFlow]:
        """Every stored flow, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(ivr_flows).order_by(ivr_flows.c.name)).mappings()
            return [_flow(dict(row)) for row in rows]

    def get(self, name: str) -> StoredFlow | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(ivr_flows).where(ivr_flows.c.name == name)).mappings()
            found = row.first()
        return None if found is None else _flow(dict(found))

    def put(self, flow: StoredFlow) -> bool:
        """Store ``flow``, replacing the one of the same name; True if it was not stored yet."""
        values = {"name": flow.name, "definition": dict(flow.definition),
                  "updated_at": flow.updated_at, "updated_by": flow.updated_by}  # fmt: skip
        changes = {k: v for k, v in values.items() if k != "name"}
        for _ in range(2):  # a concurrent insert of the same name: replace it
            try:
                with self._engine.begin() as conn:
                    done = conn.execute(
                        sa.update(ivr_flows).where(ivr_flows.c.name == flow.name).values(changes)
                    )
                    if done.rowcount > 0:
                        return False
                    conn.execute(sa.insert(ivr_flows).values(values))
                    return True
            except sa.exc.IntegrityError:
                continue
        raise StoreError(f"cannot store IVR flow {flow.name!r}: it keeps changing")

    def delete(self, name: str) -> bool:
        """Remove the stored flow ``name``; False if there was none."""
        with self._engine.begin() as conn:
            return conn.execute(sa.delete(ivr_flows).where(ivr_flows.c.name == name)
                                ).rowcount > 0  # fmt: skip


def _flow(row: Mapping[str, Any]) -> StoredFlow:
    return StoredFlow(name=row["name"], definition=row["definition"],
                      updated_at=row["updated_at"], updated_by=row["updated_by"])  # fmt: skip
