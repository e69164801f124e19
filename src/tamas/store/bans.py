"""The ban log: which source addresses were refused, why and until when."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from tamas.store.records import Ban
from tamas.store.tables import bans

_COLUMNS = [bans.c[f.name] for f in dataclasses.fields(Ban)]


class Bans:
    """Bans are appended, never edited; the active ones are those whose ``until`` is ahead."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add_ban(self, ban: Ban) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.insert(bans).values(dataclasses.asdict(ban)))

    def active_bans(self, now: float) -> list[Ban]:
        """Bans still in force at ``now`` (a source may appear more than once), oldest first."""
        query = sa.select(*_COLUMNS).where(bans.c.until > now).order_by(bans.c.id)
        with self._engine.connect() as conn:
            return [Ban(**row) for row in conn.execute(query).mappings().all()]

    def recent_bans(self, limit: int = 50) -> list[Ban]:
        """The latest ``limit`` bans, newest first (active or not)."""
        query = sa.select(*_COLUMNS).order_by(bans.c.id.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [Ban(**row) for row in conn.execute(query).mappings().all()]

    def purge_expired(self, now: float) -> int:
        """Forget bans that ended at or before ``now``; returns how many."""
        with self._engine.begin() as conn:
            return conn.execute(sa.delete(bans).where(bans.c.until <= now)).rowcount
