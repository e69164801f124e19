"""Alembic environment for Tamas.

Used programmatically by ``tamas.store.migrate`` (which hands over an open connection) and by
developers running ``alembic -c src/tamas/store/alembic.ini -x url=... revision/upgrade``.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from tamas.store.tables import metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = (
        url
        or os.environ.get("TAMAS_DATABASE_URL")
        or context.config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError("give a database URL: -x url=... or TAMAS_DATABASE_URL")
    return url


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
    else:
        engine = sa.create_engine(_url())
        try:
            with engine.begin() as connection:
                _run(connection)
        finally:
            engine.dispose()
