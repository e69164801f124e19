"""Fixtures shared across the test suite. Keep this file small."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get(
    "TAMAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty database: SQLite under tmp_path, or a fresh PostgreSQL schema.

    The PostgreSQL variant is skipped when the server at TAMAS_TEST_POSTGRES_URL
    (default: postgres@127.0.0.1:5432/test, trust auth) cannot be reached.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'tamas.db'}"
        return
    import psycopg
    import sqlalchemy as sa

    conninfo = sa.make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)
    schema = f"t_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
