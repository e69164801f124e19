"""Voicemail messages: one row per message kept (a message shorter than a second is not).

A message is *new* until it is heard (by phone) or marked read (API), then *old*; deleting
marks it *deleted* (the row stays for the record; the runtime removes its audio file). A
message may be *assigned* to an agent, who calls the caller back.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from tamas.store.errors import StoreError
from tamas.store.tables import metadata

__all__ = ["MAX_PAGE", "MessageStatus", "VoicemailMessage", "Voicemails", "voicemail_messages"]

#: The most rows one :meth:`Voicemails.list_messages` call returns.
MAX_PAGE: Final = 500

voicemail_messages = sa.Table(
    "voicemail_messages",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("box", sa.Text, nullable=False),
    sa.Column("caller", sa.Text, nullable=False),
    sa.Column("call_id", sa.Text, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("duration", sa.Double, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("assigned_to", sa.Text, nullable=True),
    sa.Index(None, "box", "status"),
    sa.Index(None, "at"),
)


class MessageStatus(enum.StrEnum):
    NEW = "new"
    OLD = "old"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class VoicemailMessage:
    """One message left in a box. ``path`` is relative to the data directory."""

    id: str
    box: str
    #: Who called (an extension number or the trunk caller's number).
    caller: str
    #: Tamas's call id of the call that left it.
    call_id: str
    #: When the recording started (epoch seconds).
    at: float
    #: Seconds of audio.
    duration: float
    path: str
    status: MessageStatus = MessageStatus.NEW
    #: The agent who is to deal with it (call back), if any.
    assigned_to: str | None = None


_COLUMNS = [voicemail_messages.c[f.name] for f in dataclasses.fields(VoicemailMessage)]


class Voicemails:
    """The messages repository (synchronous: call it from a thread, not the event loop)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add_message(self, message: VoicemailMessage) -> None:
        """Store a finished message; StoreError if its id is already stored."""
        values = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
        values["status"] = message.status.value
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.insert(voicemail_messages).values(values))
        except sa.exc.IntegrityError:
            raise StoreError(f"voicemail message {message.id} is already stored") from None

    def get_message(self, message_id: str) -> VoicemailMessage | None:
        query = sa.select(*_COLUMNS).where(voicemail_messages.c.id == message_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _message(row)

    def list_messages(
        self,
        *,
        box: str | None = None,
        statuses: Iterable[MessageStatus] = (MessageStatus.NEW, MessageStatus.OLD),
        assigned_to: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[VoicemailMessage]:
        """Messages newest first (of one box, in the given statuses, assigned to one agent),
        a page of at most ``limit`` rows after ``offset``."""
        if not 0 < limit <= MAX_PAGE:
            raise StoreError(f"limit must be 1-{MAX_PAGE}, not {limit}")
        if offset < 0:
            raise StoreError(f"offset must not be negative, not {offset}")
        table = voicemail_messages
        query = sa.select(*_COLUMNS).where(table.c.status.in_([s.value for s in statuses]))
        if box is not None:
            query = query.where(table.c.box == box)
        if assigned_to is not None:
            query = query.where(table.c.assigned_to == assigned_to)
        query = query.order_by(table.c.at.desc(), table.c.id).limit(limit).offset(offset)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_message(row) for row in rows]

    def counts(self, box: str) -> dict[MessageStatus, int]:
        """How many messages of ``box`` are in each status."""
        table = voicemail_messages
        query = (
            sa.select(table.c.status, sa.func.count())
            .where(table.c.box == box)
            .group_by(table.c.status)
        )
        found = {status: 0 for status in MessageStatus}
        with self._engine.connect() as conn:
            for status, count in conn.execute(query):
                found[MessageStatus(status)] = int(count)
        return found

    def set_status(self, message_id: str, status: MessageStatus) -> VoicemailMessage | None:
        """Move a message to ``status``; the updated message, or None if there is none.
        A deleted message stays deleted."""
        return self._update(message_id, status=status.value)

    def assign(self, message_id: str, agent: str | None) -> VoicemailMessage | None:
        """Give a message to ``agent`` (None: to nobody); None if there is no such message."""
        return self._update(message_id, assigned_to=agent)

    def _update(self, message_id: str, **values: Any) -> VoicemailMessage | None:
        table = voicemail_messages
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.id == message_id, table.c.status != MessageStatus.DELETED.value)
                .values(**values)
            )
            row = conn.execute(sa.select(*_COLUMNS).where(table.c.id == message_id))
            found = row.mappings().first()
        return None if found is None else _message(found)


def _message(row: sa.RowMapping) -> VoicemailMessage:
    values = dict(row)
    values["status"] = MessageStatus(values["status"])
    return VoicemailMessage(**values)
