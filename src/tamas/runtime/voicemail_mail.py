"""E-mail of new voicemail messages: composed on the loop, sent by one worker thread.

Theory of operation
-------------------
:meth:`Mailer.send` queues a :class:`Notice` and returns a future at once; the event loop
never waits on SMTP. One daemon thread takes notices in order, reads the WAV (when attached)
and hands the mail to :mod:`smtplib` (STARTTLS and login when configured). A failed attempt
(refused connection, timeout, an SMTP error) is retried after ``retry_delay`` seconds, doubled
each time, up to ``attempts`` attempts; then the failure is logged and the future resolves to
False. A mail is never fatal to anything else. :meth:`Mailer.close` lets the queue drain.

The SMTP server is the one the administrator configured (``voicemail.smtp``); no address is
ever taken from a call or a message.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from tamas.config.voicemail import SmtpConfig

__all__ = ["Mailer", "Notice", "compose"]

log = logging.getLogger("tamas.voicemail")


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A new message to tell a box's owner about."""

    to: str
    box: str
    box_name: str
    caller: str
    at: float
    duration: float
    message_id: str
    #: The WAV to attach (read by the worker), or None to send the notice alone.
    attachment: Path | None


def compose(notice: Notice, sender: str, audio: bytes | None) -> EmailMessage:
    """The e-mail of ``notice`` (``audio``: the WAV's bytes, attached as audio/wav)."""
    when = datetime.fromtimestamp(notice.at, UTC)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = notice.to
    mail["Subject"] = f"New voicemail from {notice.caller} in box {notice.box}"
    mail["Date"] = format_datetime(when)
    mail["Message-ID"] = make_msgid("voicemail")
    owner = f"{notice.box_name} ({notice.box})" if notice.box_name else notice.box
    mail.set_content(
        f"There is a new voicemail message for {owner}.\n\n"
        f"From: {notice.caller}\n"
        f"Received: {when:%Y-%m-%d %H:%M:%S} UTC\n"
        f"Length: {notice.duration:.1f} seconds\n"
        f"Message: {notice.message_id}\n"
    )
    if audio is not None:
        mail.add_attachment(audio, maintype="audio", subtype="wav",
                            filename=f"voicemail-{notice.message_id}.wav")  # fmt: skip
    return mail


class Mailer:
    """The worker thread that sends the notices through the configured SMTP server."""

    def __init__(
        self,
        smtp: SmtpConfig,
        *,
        retry_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.smtp = smtp
        self.retry_delay = retry_delay
        self._sleep = sleep
        self._queue: queue.Queue[tuple[Notice, concurrent.futures.Future[bool]] | None]
        self._queue = queue.Queue()
        self.sent = 0
        self.failed = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="tamas-voicemail-mail", daemon=True)
        self._thread.start()

    def send(self, notice: Notice) -> concurrent.futures.Future[bool]:
        """Queue ``notice``; the future says (later) whether it was delivered."""
        future: concurrent.futures.Future[bool] = concurrent.futures.Future()
        if self._closed:
            future.set_result(False)
            return future
        self._queue.put((notice, future))
        return future

    def close(self) -> None:
        """Send what is queued, then end the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            notice, future = item
            future.set_result(self._deliver(notice))

    def _deliver(self, notice: Notice) -> bool:
        delay = self.retry_delay
        attempts = self.smtp.attempts
        for attempt in range(1, attempts + 1):
            try:
                audio = notice.attachment.read_bytes() if notice.attachment is not None else None
                self._send(compose(notice, self.smtp.from_address, audio))
            except (OSError, smtplib.SMTPException) as exc:
                if attempt == attempts:
                    self.failed += 1
                    log.error("voicemail %s: e-mail to %s failed after %d attempts: %s",
                              notice.message_id, notice.to, attempts, exc)  # fmt: skip
                    return False
                log.warning("voicemail %s: e-mail to %s failed (attempt %d of %d): %s",
                            notice.message_id, notice.to, attempt, attempts, exc)  # fmt: skip
                self._sleep(delay)
                delay *= 2
            else:
                self.sent += 1
                log.info("voicemail %s: e-mailed to %s", notice.message_id, notice.to)
                return True
        return False  # pragma: no cover - attempts >= 1

    def _send(self, mail: EmailMessage) -> None:
        cfg = self.smtp
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds) as client:
            if cfg.starttls:
                client.starttls(context=ssl.create_default_context())
            if cfg.username is not None and cfg.password is not None:
                client.login(cfg.username, cfg.password)
            client.send_message(mail)
