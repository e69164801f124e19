"""Stored IVR flows: the repository and migration 0008 (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tamas.store import Store, migrate, open_store
from tamas.store.ivr_flows import IvrFlows, StoredFlow

MAIN = {
    "language": "fa",
    "start": "menu",
    "steps": [
        {"id": "menu", "menu": {"prompt": {"fa": "یک برای فروش", "en": "1 for sales"},
                                "options": {"1": {"queue": "sales"}, "#": "bye"}}},
        {"id": "bye", "hangup": True},
    ],
}  # fmt: skip


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def flows(store: Store) -> IvrFlows:
    return IvrFlows(store.engine)


def flow(name: str = "main", definition: dict[str, object] | None = None,
         at: float = 10.0, by: str = "api") -> StoredFlow:  # fmt: skip
    return StoredFlow(name=name, definition=MAIN if definition is None else definition,
                      updated_at=at, updated_by=by)  # fmt: skip


def test_put_inserts_then_replaces(flows: IvrFlows) -> None:
    assert flows.list() == [] and flows.get("main") is None
    assert flows.put(flow()) is True  # new
    assert flows.get("main") == flow()  # the definition round-trips: order, text, booleans
    changed = flow(definition={"steps": [{"id": "x", "queue": "support"}]}, at=20.5, by="ann")
    assert flows.put(changed) is False  # replaced
    assert flows.get("main") == changed
    assert flows.list() == [changed]


def test_list_is_by_name(flows: IvrFlows) -> None:
    for name in ("sales", "after_hours", "main"):
        flows.put(flow(name))
    assert [f.name for f in flows.list()] == ["after_hours", "main", "sales"]


def test_step_order_and_option_order_are_kept(flows: IvrFlows) -> None:
    flows.put(flow())
    got = flows.get("main")
    assert got is not None
    assert [s["id"] for s in got.definition["steps"]] == ["menu", "bye"]
    assert list(got.definition["steps"][0]["menu"]["options"]) == ["1", "#"]


def test_delete(flows: IvrFlows) -> None:
    flows.put(flow("a"))
    flows.put(flow("b"))
    assert flows.delete("a") is True
    assert flows.delete("a") is False
    assert [f.name for f in flows.list()] == ["b"]


def test_flows_survive_a_restart(store_url: str) -> None:
    with open_store(store_url) as first:
        IvrFlows(first.engine).put(flow())
    with open_store(store_url) as second:
        assert IvrFlows(second.engine).list() == [flow()]


def test_migration_0008_down_and_up_again(store: Store, flows: IvrFlows) -> None:
    flows.put(flow())
    migrate.downgrade(store.engine, "0007")
    assert store.revision() == "0007"
    tables = set(sa.inspect(store.engine).get_table_names())
    assert "ivr_flows" not in tables
    assert {"contacts", "queue_days"} <= tables  # earlier tables are untouched
    migrate.upgrade(store.engine)
    assert store.revision() == migrate.head_revision()  # 0008 and the later ones, again
    assert flows.list() == []  # back, empty
    flows.put(flow())
    assert flows.get("main") is not None


def test_the_table_matches_migration_0008(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tamas.store.tables import metadata

    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if "ivr_flows" in repr(d)] == []
