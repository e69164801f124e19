"""The ``voicemail:`` section: mailboxes, the access numbers and e-mail delivery.

```yaml
voicemail:
  own_box_number: "*97"      # a caller's own box (by the caller's extension), asks the PIN
  any_box_number: "*98"      # any box: asks the box number, then its PIN
  max_seconds: 180
  email_attach: true
  smtp: {host: 127.0.0.1, port: 25, from_address: voicemail@tamas.local}
  boxes:
    - {box: "1001", pin: "1234", email: al@example.com, name: Al}
    - {box: "600", pin: "4321", name: Support queue, language: fa, greeting: /srv/support.wav}
```

A box is just a number: an extension's, a queue's or the whole center's. Field rules live
here; rules that relate the section to the rest of the file (duplicate boxes, access numbers
taken by an extension or an application, an application naming an unknown box) are in
:func:`check_voicemail`, which :func:`tamas.config.checks.check` calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final, Literal

from pydantic import AfterValidator, Field, model_validator

from tamas.config.errors import Issue
from tamas.config.section import Section

if TYPE_CHECKING:
    from tamas.config.model import Config

__all__ = ["LANGUAGES", "Mailbox", "SmtpConfig", "VoicemailConfig", "check_voicemail"]

#: The languages a box's prompts are spoken in (espeak-ng voices).
LANGUAGES: Final = ("en", "fa", "ar")

_DIGITS = re.compile(r"[0-9]+")
_PIN = re.compile(r"[0-9]{4,12}")
_DIAL = re.compile(r"[0-9*#]+")
# Deliberately loose (local@domain.tld): the SMTP server is the judge; this catches typos.
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+")


def _box(value: str) -> str:
    if not _DIGITS.fullmatch(value):
        raise ValueError("must contain only digits 0-9")
    return value


def _pin(value: str) -> str:
    if not _PIN.fullmatch(value):
        raise ValueError("must be 4 to 12 digits")
    return value


def _dial(value: str) -> str:
    if not _DIAL.fullmatch(value):
        raise ValueError("may contain only digits, '*' and '#'")
    return value


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an e-mail address such as al@example.com")
    return value


def _host(value: str) -> str:
    if not value.strip() or any(c.isspace() for c in value):
        raise ValueError("must be a host name or IP address without spaces")
    return value


Email = Annotated[str, AfterValidator(_email)]


class Mailbox(Section):
    """One voicemail box."""

    box: Annotated[str, AfterValidator(_box)]
    pin: Annotated[str, AfterValidator(_pin)]
    #: Where new messages are e-mailed (with the audio attached when ``email_attach``).
    email: Email | None = None
    name: str = ""
    #: A WAV file played instead of the spoken default greeting.
    greeting: Path | None = None
    #: The language of the spoken prompts (greeting, menu).
    language: Literal["en", "fa", "ar"] = "en"


class SmtpConfig(Section):
    """The mail server new messages are sent through (plain SMTP, optionally STARTTLS)."""

    host: Annotated[str, AfterValidator(_host)] = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    from_address: Email = "voicemail@tamas.local"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    #: Attempts per message before it is given up (logged).
    attempts: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _credentials_together(self) -> SmtpConfig:
        if (self.username is None) != (self.password is None):
            missing = "password" if self.password is None else "username"
            raise ValueError(f"username and password go together: set {missing} too")
        return self


class VoicemailConfig(Section):
    """Voicemail settings (see docs/voicemail.md)."""

    boxes: tuple[Mailbox, ...] = ()
    #: Dialed to reach the caller's own box (the box numbered as the caller's extension).
    own_box_number: Annotated[str, AfterValidator(_dial)] | None = "*97"
    #: Dialed to reach any box: the caller is asked for the box number, then its PIN.
    any_box_number: Annotated[str, AfterValidator(_dial)] | None = "*98"
    #: The longest message; recording stops there.
    max_seconds: int = Field(default=180, ge=5, le=3600)
    #: Attach the WAV to the e-mail (else the mail only tells that a message arrived).
    email_attach: bool = True
    smtp: SmtpConfig = SmtpConfig()

    def mailbox(self, box: str) -> Mailbox | None:
        return next((b for b in self.boxes if b.box == box), None)


def _issue(loc: tuple[str | int, ...], message: str, hint: str, got: str | None = None) -> Issue:
    return Issue(loc=loc, position=None, message=message, hint=hint, got=got)


def check_voicemail(config: Config) -> Iterator[Issue]:
    """Problems between ``voicemail:`` and the rest of ``config`` (each names its key)."""
    vm = config.voicemail
    seen: dict[str, int] = {}
    for i, box in enumerate(vm.boxes):
        if box.box in seen:
            yield _issue(("voicemail", "boxes", i, "box"),
                         f"box {box.box} is already defined at voicemail.boxes[{seen[box.box]}]",
                         "give each mailbox its own number", got=repr(box.box))  # fmt: skip
        else:
            seen[box.box] = i
    taken = {e.number for e in config.extensions} | {
        a.number for a in config.media.applications if not str(a.kind).startswith("voicemail")
    }
    for key in ("own_box_number", "any_box_number"):
        number = getattr(vm, key)
        if number is not None and number in taken:
            yield _issue(("voicemail", key), "this number is taken by an extension or application",
                         "choose a number of its own, e.g. *97 and *98",
                         got=repr(number))  # fmt: skip
    if vm.own_box_number is not None and vm.own_box_number == vm.any_box_number:
        yield _issue(("voicemail", "any_box_number"), "the same number as own_box_number",
                     "give the two access numbers different numbers",
                     got=repr(vm.any_box_number))  # fmt: skip
    for i, app in enumerate(config.media.applications):
        wanted: str | None = getattr(app, "box", None)
        if app.kind == "voicemail" and (wanted is None or wanted not in seen):
            yield _issue(("media", "applications", i, "box"), "no voicemail box has this number",
                         "add the box under voicemail.boxes, or use one of: "
                         + (", ".join(seen) or "(none defined)"),
                         got=repr(wanted))  # fmt: skip
