"""The store against real databases: SQLite always, PostgreSQL when it is reachable."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tamas.store import (
    Ban,
    Binding,
    CallDirection,
    CallRecord,
    Store,
    StoreError,
    open_store,
)
from tamas.store.migrate import head_revision


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def binding(aor: str = "1001", contact: str = "sip:1001@127.0.0.1:5070", **kw: object) -> Binding:
    fields: dict[str, object] = {
        "aor": aor,
        "contact_uri": contact,
        "flow_transport": "udp",
        "flow_host": "127.0.0.1",
        "flow_port": 5070,
        "expires_at": 1_000.0,
        "call_id": "reg-1",
        "cseq": 1,
        "user_agent": "baresip",
        "updated_at": 900.0,
    }
    fields.update(kw)
    return Binding(**fields)  # type: ignore[arg-type]


def call(call_id: str = "c1", started_at: float = 100.0, **kw: object) -> CallRecord:
    fields: dict[str, object] = {
        "call_id": call_id,
        "caller": "1001",
        "callee": "1002",
        "direction": CallDirection.INTERNAL,
        "started_at": started_at,
    }
    fields.update(kw)
    return CallRecord(**fields)  # type: ignore[arg-type]


# --- migrations --------------------------------------------------------------------------


def test_migrates_empty_database_to_head(store: Store) -> None:
    assert store.revision() == head_revision() is not None
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"registrations", "calls", "bans", "alembic_version"} <= names


def test_reopening_a_migrated_database_is_a_no_op(store_url: str) -> None:
    open_store(store_url).close()
    with open_store(store_url) as again:
        assert again.revision() == head_revision()


def test_sqlite_file_and_directory_are_created_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "tamas.db"
    with open_store(f"sqlite:///{path}") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert path.is_file()


def test_in_memory_sqlite_works() -> None:
    with open_store("sqlite://") as store:
        store.calls.insert_call(call())
        assert store.calls.get_call("c1") is not None


def test_bad_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("no-such-thing")


def test_unreachable_database_is_a_store_error_without_password() -> None:
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/x?connect_timeout=2"
    with pytest.raises(StoreError, match="cannot open the database") as info:
        open_store(url)
    assert "secret" not in str(info.value)


# --- registrations -----------------------------------------------------------------------


def test_upsert_inserts_then_replaces_same_contact(store: Store) -> None:
    regs = store.registrations
    regs.upsert_binding(binding())
    regs.upsert_binding(binding(cseq=2, expires_at=2_000.0, q=0.5, instance_id="<urn:uuid:1>"))
    assert regs.load_bindings(now=0.0) == [
        binding(cseq=2, expires_at=2_000.0, q=0.5, instance_id="<urn:uuid:1>")
    ]


def test_load_bindings_filters_expired_and_orders(store: Store) -> None:
    regs = store.registrations
    regs.upsert_binding(binding("1002", "sip:b", expires_at=500.0))
    regs.upsert_binding(binding("1001", "sip:a2", expires_at=1_500.0))
    regs.upsert_binding(binding("1001", "sip:a1", expires_at=1_500.0))
    live = regs.load_bindings(now=600.0)
    assert [(b.aor, b.contact_uri) for b in live] == [("1001", "sip:a2"), ("1001", "sip:a1")]
    assert regs.load_bindings(now=1_500.0) == []  # expiry instant counts as expired


def test_delete_binding_and_aor(store: Store) -> None:
    regs = store.registrations
    for contact in ("sip:a", "sip:b", "sip:c"):
        regs.upsert_binding(binding("1001", contact))
    regs.upsert_binding(binding("1002", "sip:z"))
    assert regs.delete_binding("1001", "sip:a") is True
    assert regs.delete_binding("1001", "sip:a") is False
    assert regs.delete_aor("1001") == 2
    assert [b.aor for b in regs.load_bindings(0.0)] == ["1002"]


def test_purge_expired(store: Store) -> None:
    regs = store.registrations
    regs.upsert_binding(binding("1001", "sip:old", expires_at=10.0))
    regs.upsert_binding(binding("1001", "sip:new", expires_at=20.0))
    assert regs.purge_expired(now=10.0) == 1
    assert regs.purge_expired(now=10.0) == 0
    assert [b.contact_uri for b in regs.load_bindings(0.0)] == ["sip:new"]


def test_bindings_survive_a_restart(store_url: str) -> None:
    with open_store(store_url) as first:
        first.registrations.upsert_binding(binding(expires_at=1_234.5678, q=1.0))
    with open_store(store_url) as second:
        assert second.registrations.load_bindings(now=1_000.0) == [
            binding(expires_at=1_234.5678, q=1.0)
        ]


# --- calls -------------------------------------------------------------------------------


def test_insert_get_and_update_call(store: Store) -> None:
    store.calls.insert_call(call(trunk=None))
    store.calls.update_call("c1", answered_at=101.5)
    store.calls.update_call("c1", ended_at=160.25, cause="normal clearing", status=200)
    got = store.calls.get_call("c1")
    assert got == call(answered_at=101.5, ended_at=160.25, cause="normal clearing", status=200)
    assert got is not None and got.direction is CallDirection.INTERNAL


def test_insert_calls_stores_every_field_of_each(store: Store) -> None:
    records = [
        call(),
        dataclasses.replace(call(), call_id="c2", trunk=None, direction=CallDirection.INBOUND,
                            answered_at=101.5, ended_at=160.25, cause="bye", status=200),
    ]  # fmt: skip
    store.calls.insert_calls(records)
    assert [store.calls.get_call(r.call_id) for r in records] == records


def test_insert_calls_row_values_name_every_column_in_table_order() -> None:
    from tamas.store import calls as calls_module
    from tamas.store.tables import calls as calls_table

    assert tuple(calls_table.c.keys()) == calls_module._ROW_COLUMNS
    record = dataclasses.replace(call(), trunk="t", answered_at=1.0, ended_at=2.0, status=200)
    values = dict(zip(calls_module._ROW_COLUMNS, calls_module._values(record), strict=True))
    assert values == {**dataclasses.asdict(record), "direction": record.direction.value}


def test_insert_calls_of_an_empty_batch_is_nothing(store: Store) -> None:
    store.calls.insert_calls([])
    assert store.calls.recent_calls() == []


def test_get_missing_call_is_none(store: Store) -> None:
    assert store.calls.get_call("nope") is None


def test_duplicate_call_id_is_a_store_error(store: Store) -> None:
    store.calls.insert_call(call())
    with pytest.raises(StoreError, match="already recorded"):
        store.calls.insert_call(call())


def test_update_errors(store: Store) -> None:
    with pytest.raises(StoreError, match="no call"):
        store.calls.update_call("ghost", cause="x")
    store.calls.insert_call(call())
    with pytest.raises(StoreError, match="caller"):
        store.calls.update_call("c1", caller="someone")  # type: ignore[call-arg]
    store.calls.update_call("c1")  # nothing to change is fine


def test_recent_calls_newest_first_with_limit(store: Store) -> None:
    for i, direction in enumerate(CallDirection):
        store.calls.insert_call(
            call(f"c{i}", started_at=100.0 + i, direction=direction, trunk="provider")
        )
    recent = store.calls.recent_calls(limit=2)
    assert [c.call_id for c in recent] == ["c2", "c1"]
    assert recent[1].direction is CallDirection.OUTBOUND


def test_calls_survive_a_restart(store_url: str) -> None:
    with open_store(store_url) as first:
        first.calls.insert_call(call(direction=CallDirection.INBOUND, trunk="provider"))
    with open_store(store_url) as second:
        assert second.calls.recent_calls(10) == [
            call(direction=CallDirection.INBOUND, trunk="provider")
        ]


# --- bans --------------------------------------------------------------------------------


def test_bans_active_recent_and_purge(store: Store) -> None:
    early = Ban(source="192.0.2.1", reason="5 failed auth", banned_at=0.0, until=600.0)
    late = dataclasses.replace(early, source="192.0.2.2", banned_at=100.0, until=700.0)
    store.bans.add_ban(early)
    store.bans.add_ban(late)
    assert store.bans.active_bans(now=650.0) == [late]
    assert store.bans.active_bans(now=0.0) == [early, late]
    assert store.bans.recent_bans(limit=1) == [late]
    assert store.bans.purge_expired(now=650.0) == 1
    assert store.bans.recent_bans() == [late]
