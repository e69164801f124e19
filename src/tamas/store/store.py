"""Opening the database: engine set-up, SQLite tuning, migrations to head."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from tamas.store import migrate
from tamas.store.bans import Bans
from tamas.store.calls import Calls
from tamas.store.errors import StoreError
from tamas.store.recordings import Recordings
from tamas.store.registrations import Registrations


class Store:
    """The database and its repositories. Build with ``open_store``; ``close()`` when done."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.registrations = Registrations(engine)
        self.calls = Calls(engine)
        self.bans = Bans(engine)
        self.recordings = Recordings(engine)

    @property
    def url(self) -> str:
        """The database URL with any password hidden (safe to log)."""
        return self.engine.url.render_as_string(hide_password=True)

    def revision(self) -> str | None:
        """The schema revision the database is at."""
        return migrate.current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(url: str) -> Store:
    """Connect to ``url``, migrate the schema to the newest revision and return the Store.

    SQLite (``sqlite:///path``): the file's directory is created if missing and the database
    runs in WAL mode. PostgreSQL: ``postgresql+psycopg://user@host:port/db``.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r} ({exc})") from None
    engine = _engine(parsed)
    try:
        migrate.upgrade(engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        shown = parsed.render_as_string(hide_password=True)
        reason = getattr(exc, "orig", None) or exc
        raise StoreError(f"cannot open the database {shown}: {reason}") from None
    return Store(engine)


def _engine(url: sa.URL) -> sa.Engine:
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    database = url.database or ""
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if database in ("", ":memory:"):
        options["poolclass"] = StaticPool
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
