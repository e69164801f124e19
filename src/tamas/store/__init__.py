"""Persistence: SQLAlchemy Core on SQLite (default) or PostgreSQL, schema by Alembic.

``open_store(url)`` migrates to the newest schema and returns a Store whose repositories
(``registrations``, ``calls``, ``bans``, ``recordings``) read and write the frozen records below.
Other repositories are built from ``store.engine`` where they are used: ``events`` (the event
log's tables and CDRs), ``voicemail.Voicemails`` and ``contacts.Contacts``.
"""

from tamas.store.errors import StoreError
from tamas.store.records import (
    Ban,
    Binding,
    CallDirection,
    CallRecord,
    CallUpdate,
    RecordingLayout,
    RecordingPause,
    RecordingRecord,
    RecordingStatus,
)
from tamas.store.store import Store, open_store

__all__ = [
    "Ban",
    "Binding",
    "CallDirection",
    "CallRecord",
    "CallUpdate",
    "RecordingLayout",
    "RecordingPause",
    "RecordingRecord",
    "RecordingStatus",
    "Store",
    "StoreError",
    "open_store",
]
