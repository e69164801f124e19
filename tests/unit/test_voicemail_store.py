"""Voicemail message rows, and migration 0004 up and down: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tamas.store import Store, StoreError, migrate, open_store
from tamas.store.voicemail import MessageStatus, VoicemailMessage, Voicemails


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def boxes(store: Store) -> Voicemails:
    return Voicemails(store.engine)


def message(
    mid: str = "m1", box: str = "1001", at: float = 1_000.0, **kw: object
) -> VoicemailMessage:
    fields: dict[str, object] = {
        "id": mid,
        "box": box,
        "caller": "2000",
        "call_id": f"call-{mid}",
        "at": at,
        "duration": 4.25,
        "path": f"voicemail/{box}/{mid}.wav",
    }
    fields.update(kw)
    return VoicemailMessage(**fields)  # type: ignore[arg-type]


def test_add_and_get_round_trip_every_field(boxes: Voicemails) -> None:
    full = message(status=MessageStatus.OLD, assigned_to="agent-7")
    boxes.add_message(full)
    assert boxes.get_message("m1") == full
    assert boxes.get_message("nope") is None


def test_a_new_message_is_new_and_unassigned(boxes: Voicemails) -> None:
    boxes.add_message(message())
    got = boxes.get_message("m1")
    assert got is not None and got.status is MessageStatus.NEW and got.assigned_to is None


def test_duplicate_id_is_a_store_error(boxes: Voicemails) -> None:
    boxes.add_message(message())
    with pytest.raises(StoreError, match="already stored"):
        boxes.add_message(message(duration=1.0))


def test_list_newest_first_by_box_status_and_assignee(boxes: Voicemails) -> None:
    boxes.add_message(message("a", "1001", 100.0))
    boxes.add_message(message("b", "1001", 300.0, status=MessageStatus.OLD))
    boxes.add_message(message("c", "600", 200.0, assigned_to="ann"))
    boxes.add_message(message("d", "1001", 400.0, status=MessageStatus.DELETED))

    def ids(**kw: object) -> list[str]:
        return [m.id for m in boxes.list_messages(**kw)]  # type: ignore[arg-type]

    assert ids() == ["b", "c", "a"]  # deleted ones are not listed by default
    assert ids(box="1001") == ["b", "a"]
    assert ids(box="1001", statuses=[MessageStatus.NEW]) == ["a"]
    assert ids(statuses=list(MessageStatus)) == ["d", "b", "c", "a"]
    assert ids(assigned_to="ann") == ["c"]
    assert ids(box="9") == []
    assert ids(limit=2) == ["b", "c"] and ids(limit=2, offset=2) == ["a"]


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": 501}, {"offset": -1}])
def test_bad_page_is_a_store_error(boxes: Voicemails, bad: dict[str, int]) -> None:
    with pytest.raises(StoreError):
        boxes.list_messages(**bad)  # type: ignore[arg-type]


def test_counts_per_status(boxes: Voicemails) -> None:
    for i, status in enumerate([MessageStatus.NEW] * 3 + [MessageStatus.OLD]):
        boxes.add_message(message(f"m{i}", status=status))
    boxes.add_message(message("x", box="600"))
    assert boxes.counts("1001") == {
        MessageStatus.NEW: 3, MessageStatus.OLD: 1, MessageStatus.DELETED: 0}  # fmt: skip
    assert boxes.counts("7") == dict.fromkeys(MessageStatus, 0)


def test_status_and_assignment_change_and_deleted_stays_deleted(boxes: Voicemails) -> None:
    boxes.add_message(message())
    read = boxes.set_status("m1", MessageStatus.OLD)
    assert read is not None and read.status is MessageStatus.OLD
    given = boxes.assign("m1", "agent-7")
    assert (
        given is not None and given.assigned_to == "agent-7" and given.status is MessageStatus.OLD
    )
    taken_back = boxes.assign("m1", None)
    assert taken_back is not None and taken_back.assigned_to is None
    deleted = boxes.set_status("m1", MessageStatus.DELETED)
    assert deleted is not None and deleted.status is MessageStatus.DELETED
    again = boxes.set_status("m1", MessageStatus.NEW)
    assert again is not None and again.status is MessageStatus.DELETED
    assert boxes.set_status("ghost", MessageStatus.OLD) is None
    assert boxes.assign("ghost", "x") is None


def test_messages_survive_a_restart(store_url: str) -> None:
    with open_store(store_url) as first:
        Voicemails(first.engine).add_message(message())
    with open_store(store_url) as second:
        assert Voicemails(second.engine).list_messages() == [message()]


def test_migration_0004_down_and_up_again(store: Store, boxes: Voicemails) -> None:
    boxes.add_message(message())
    inspector = sa.inspect(store.engine)
    assert {ix["name"] for ix in inspector.get_indexes("voicemail_messages")} == {
        "ix_voicemail_messages_box_status",
        "ix_voicemail_messages_at",
    }
    migrate.downgrade(store.engine, "0003")
    assert store.revision() == "0003"
    tables = set(sa.inspect(store.engine).get_table_names())
    assert "voicemail_messages" not in tables
    assert {"registrations", "calls", "bans", "recordings"} <= tables
    migrate.upgrade(store.engine)
    assert store.revision() == migrate.head_revision()
    assert boxes.list_messages() == []
    boxes.add_message(message())
    assert boxes.get_message("m1") is not None
