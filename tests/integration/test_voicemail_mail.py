"""Voicemail e-mail: composing, delivery through a local SMTP server, retries and failure."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from tamas.config.voicemail import SmtpConfig
from tamas.runtime.voicemail_mail import Mailer, Notice, compose

controller = pytest.importorskip("aiosmtpd.controller")


class Server:
    """aiosmtpd handler: refuses the first ``refuse`` messages with 451, keeps the rest."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 Try again later"
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def notice(tmp_path: Path, attach: bool = True) -> Notice:
    wav = tmp_path / "m1.wav"
    wav.write_bytes(b"RIFF" + bytes(range(256)) * 4)
    return Notice(to="al@example.com", box="1001", box_name="Al", caller="2000",
                  at=1_764_500_000.0, duration=4.25, message_id="m1",
                  attachment=wav if attach else None)  # fmt: skip


def test_compose_says_who_and_attaches_the_wav(tmp_path: Path) -> None:
    n = notice(tmp_path)
    audio = n.attachment.read_bytes() if n.attachment else None
    mail = compose(n, "vm@tamas.local", audio)
    assert (mail["From"], mail["To"]) == ("vm@tamas.local", "al@example.com")
    assert mail["Subject"] == "New voicemail from 2000 in box 1001"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Al (1001)" in text and "4.2 seconds" in text and "2025-11-30" in text
    (part,) = list(mail.iter_attachments())
    assert part.get_content_type() == "audio/wav" and part.get_content() == audio
    assert part.get_filename() == "voicemail-m1.wav"
    assert list(compose(n, "vm@tamas.local", None).iter_attachments()) == []


def run_server(refuse: int = 0) -> tuple[Server, Any, SmtpConfig]:
    port = free_port()
    server = Server(refuse)
    smtpd = controller.Controller(server, hostname="127.0.0.1", port=port)
    smtpd.start()
    return server, smtpd, SmtpConfig(host="127.0.0.1", port=port, from_address="vm@tamas.local")


def test_delivered_with_the_attachment(tmp_path: Path) -> None:
    server, smtpd, smtp = run_server()
    mailer = Mailer(smtp)
    try:
        assert mailer.send(notice(tmp_path)).result(timeout=10) is True
    finally:
        mailer.close()
        smtpd.stop()
    ((sender, to, raw),) = server.received
    assert (sender, to) == ("vm@tamas.local", ["al@example.com"])
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    (part,) = list(mail.iter_attachments())  # type: ignore[attr-defined]
    assert part.get_content() == (tmp_path / "m1.wav").read_bytes()
    assert mailer.sent == 1 and mailer.failed == 0


def test_a_refused_mail_is_retried_after_a_growing_delay(tmp_path: Path) -> None:
    server, smtpd, smtp = run_server(refuse=2)
    slept: list[float] = []
    mailer = Mailer(smtp, retry_delay=0.5, sleep=slept.append)
    try:
        assert mailer.send(notice(tmp_path, attach=False)).result(timeout=10) is True
    finally:
        mailer.close()
        smtpd.stop()
    assert slept == [0.5, 1.0]
    assert len(server.received) == 1


def test_an_unreachable_server_fails_after_the_attempts_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    smtp = SmtpConfig(host="127.0.0.1", port=free_port(), attempts=3, timeout_seconds=2)
    slept: list[float] = []
    mailer = Mailer(smtp, retry_delay=1.0, sleep=slept.append)
    caplog.set_level(logging.INFO, logger="tamas.voicemail")
    try:
        assert mailer.send(notice(tmp_path)).result(timeout=30) is False
    finally:
        mailer.close()
    assert slept == [1.0, 2.0] and mailer.failed == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "failed after 3 attempts" in errors[0]
    assert mailer.send(notice(tmp_path)).result(timeout=1) is False  # closed: refused at once
