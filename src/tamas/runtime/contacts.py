"""The IVR's contact look-up: answers a flow's ``lookup`` step from the contacts store.

The :class:`~tamas.runtime.callcenter.ivr_runner.IvrRunner` hands each ``LookupContact`` to
:meth:`ContactLookup.request` with a function to call with the ``ContactResult``. The
repository is synchronous, so the work runs in a worker thread; the reply is delivered on
the event loop. The flow never stops on a database error: it is logged and answered as
"not found" (the session's own ``timeout`` covers a database that does not answer at all).

By number: a contact found → its id and fields; none → a contact is created with that
number and source ``ivr`` (``created=True``: the flow takes its ``unknown`` branch, with
``contact.id`` set). A caller id that is no phone number (``anonymous``, empty) is not
found and creates nothing. By code: found or not; a code typed by a caller never creates a
contact. One lock serialises find-or-create in this process, so two calls from the same new
number at once make one contact (several Tamas processes on one database could still make
two).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from tamas.ivr.commands import LookupContact
from tamas.ivr.events import ContactResult
from tamas.ivr.model import LookupBy
from tamas.store.contacts import Contact, Contacts, ContactSource, InvalidContact

__all__ = ["ContactLookup", "contact_fields"]

log = logging.getLogger("tamas.contacts")


def contact_fields(contact: Contact) -> tuple[tuple[str, str], ...]:
    """What a flow sees of a contact: ``contact.name``, ``contact.code``,
    ``contact.language`` (empty text when not set)."""
    return (
        ("name", contact.name),
        ("code", contact.code or ""),
        ("language", contact.language or ""),
    )


class ContactLookup:
    """Answers ``LookupContact`` commands off the loop (see the module's docstring)."""

    def __init__(self, contacts: Contacts, *, clock: Callable[[], float] = time.time) -> None:
        self.contacts = contacts
        self.clock = clock
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def request(self, command: LookupContact, reply: Callable[[ContactResult], None]) -> None:
        """Start answering ``command``; ``reply`` is called on the loop with the result."""

        async def run() -> None:
            result = await asyncio.to_thread(self.answer, command)
            reply(result)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def answer(self, command: LookupContact) -> ContactResult:
        """The result for ``command`` (blocking: call it from a worker thread)."""
        try:
            if command.by is LookupBy.CODE:
                contact, created = self.contacts.find_by_code(command.value), False
            else:
                contact, created = self._by_number(command.value)
        except InvalidContact:
            contact, created = None, False
        except Exception as exc:  # the database: the flow goes on as if nothing was found
            log.error("contact look-up by %s failed (%s); answered as not found",
                      command.by.value, exc)  # fmt: skip
            contact, created = None, False
        if contact is None:
            return ContactResult(request_id=command.request_id, contact_id=None)
        return ContactResult(request_id=command.request_id, contact_id=contact.id,
                             created=created, fields=contact_fields(contact))  # fmt: skip

    def _by_number(self, number: str) -> tuple[Contact | None, bool]:
        with self._lock:
            found = self.contacts.find_by_number(number)
            if found is not None:
                return found, False
            made = self.contacts.add({"numbers": [number]}, source=ContactSource.IVR,
                                     now=self.clock())  # fmt: skip
            log.info("contact %s created for a new caller", made.id)
            return made, True

    async def aclose(self) -> None:
        """Wait for the look-ups under way (their replies are still delivered)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
