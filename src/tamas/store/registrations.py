"""Location-service persistence: registered contacts survive a restart."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tamas.store.records import Binding
from tamas.store.tables import registrations

_KEY = ("aor", "contact_uri")


class Registrations:
    """Bindings of addresses-of-record to contacts, keyed by (aor, contact_uri)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def upsert_binding(self, binding: Binding) -> None:
        """Insert ``binding`` or replace the stored one with the same aor and contact URI."""
        values = dataclasses.asdict(binding)
        changes = {k: v for k, v in values.items() if k not in _KEY}
        stmt: Any
        if self._engine.dialect.name == "postgresql":
            pg = postgresql.insert(registrations).values(values)
            stmt = pg.on_conflict_do_update(index_elements=list(_KEY), set_=changes)
        elif self._engine.dialect.name == "sqlite":
            lite = sqlite.insert(registrations).values(values)
            stmt = lite.on_conflict_do_update(index_elements=list(_KEY), set_=changes)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            with self._engine.begin() as conn:
                conn.execute(
                    sa.delete(registrations).where(*_match(binding.aor, binding.contact_uri))
                )
                conn.execute(sa.insert(registrations).values(values))
            return
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def delete_binding(self, aor: str, contact_uri: str) -> bool:
        """Remove one contact; True if it existed."""
        with self._engine.begin() as conn:
            result = conn.execute(sa.delete(registrations).where(*_match(aor, contact_uri)))
        return result.rowcount > 0

    def delete_aor(self, aor: str) -> int:
        """Remove every contact of ``aor``; returns how many there were."""
        with self._engine.begin() as conn:
            result = conn.execute(sa.delete(registrations).where(registrations.c.aor == aor))
        return result.rowcount

    def load_bindings(self, now: float) -> list[Binding]:
        """Every binding that has not expired at ``now``, ordered by aor then age."""
        query = (
            sa.select(*[registrations.c[f.name] for f in dataclasses.fields(Binding)])
            .where(registrations.c.expires_at > now)
            .order_by(registrations.c.aor, registrations.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Binding(**row) for row in rows]

    def purge_expired(self, now: float) -> int:
        """Delete bindings expired at ``now``; returns how many."""
        with self._engine.begin() as conn:
            result = conn.execute(sa.delete(registrations).where(registrations.c.expires_at <= now))
        return result.rowcount


def _match(aor: str, contact_uri: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (registrations.c.aor == aor, registrations.c.contact_uri == contact_uri)
