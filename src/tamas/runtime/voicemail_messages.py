"""The messages as the HTTP API (and the phone menu) act on them: rows plus their files.

Synchronous (the store and the disk): call from a worker thread. A message's audio is served
only from a regular file inside ``<data_dir>/voicemail`` once links and ``..`` are resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from tamas.core.errors import TamasError
from tamas.store.voicemail import MessageStatus, VoicemailMessage, Voicemails

__all__ = ["MessageService", "NoSuchAgent", "NoSuchMessage", "VoicemailError"]


class VoicemailError(TamasError):
    """A request about voicemail messages cannot be done."""


class NoSuchMessage(VoicemailError):
    pass


class NoSuchAgent(VoicemailError):
    pass


class MessageService:
    """List, fetch, mark read, delete and assign messages."""

    def __init__(
        self,
        messages: Voicemails,
        data_dir: Path,
        *,
        known_agent: Callable[[str], bool] | None = None,
    ) -> None:
        self.messages = messages
        self.data_dir = Path(data_dir)
        #: Whether an agent id exists (None: any non-empty id is accepted).
        self.known_agent = known_agent

    def list(
        self,
        *,
        box: str | None,
        statuses: Iterable[MessageStatus],
        assigned_to: str | None,
        limit: int,
        offset: int,
    ) -> list[VoicemailMessage]:
        return self.messages.list_messages(box=box, statuses=statuses, assigned_to=assigned_to,
                                           limit=limit, offset=offset)  # fmt: skip

    def get(self, message_id: str) -> VoicemailMessage:
        message = self.messages.get_message(message_id)
        if message is None:
            raise NoSuchMessage(f"no voicemail message {message_id}")
        return message

    def audio(self, message_id: str) -> Path:
        """The message's WAV file; NoSuchMessage if deleted or missing."""
        message = self.get(message_id)
        root = (self.data_dir / "voicemail").resolve()
        path = (self.data_dir / message.path).resolve()
        if message.status is MessageStatus.DELETED or not path.is_relative_to(root):
            raise NoSuchMessage(f"voicemail message {message_id} has no audio")
        if not path.is_file():
            raise NoSuchMessage(f"voicemail message {message_id} has no audio")
        return path

    def mark_read(self, message_id: str) -> VoicemailMessage:
        found = self.messages.set_status(message_id, MessageStatus.OLD)
        if found is None or found.status is MessageStatus.DELETED:
            raise NoSuchMessage(f"no voicemail message {message_id}")
        return found

    def delete(self, message_id: str) -> VoicemailMessage:
        """Mark the message deleted and remove its file (idempotent)."""
        found = self.messages.set_status(message_id, MessageStatus.DELETED)
        if found is None:
            raise NoSuchMessage(f"no voicemail message {message_id}")
        root = (self.data_dir / "voicemail").resolve()
        path = (self.data_dir / found.path).resolve()
        if path.is_relative_to(root):
            path.unlink(missing_ok=True)
        return found

    def assign(self, message_id: str, agent: str | None) -> VoicemailMessage:
        """Give the message to ``agent`` (None: to nobody)."""
        if agent is not None and self.known_agent is not None and not self.known_agent(agent):
            raise NoSuchAgent(f"no agent {agent}")
        found = self.messages.assign(message_id, agent)
        if found is None or found.status is MessageStatus.DELETED:
            raise NoSuchMessage(f"no voicemail message {message_id}")
        return found
