"""Contacts, the first piece of the CRM: who a customer is and the numbers they call from.

A contact has a name, an optional customer code (unique), phone numbers, an e-mail address,
a language (en, fa, ar), notes, and says where it came from (``ivr`` when an unknown caller
was created by a flow's ``lookup`` step, ``api``, ``import``).

Theory of operation (numbers). A number is stored *normalised*: digits only, with a
leading ``+`` when one was written; Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669)
digits become ASCII, and spaces, dashes, dots, slashes and parentheses are dropped. Each
stored number also keeps its *tail*: its last 10 digits, or NULL when it has fewer. A
look-up by number first tries the normalised number exactly; failing that, a number of at
least 10 digits matches any stored number with the same last 10 digits, so that
``+98 912 345 6789``, ``0098 912 345 6789`` and ``0912 345 6789`` all find the same
contact. When several contacts match at the same stage, the earliest created (then the
smallest id) wins.

Input is validated here (:func:`clean_fields`): a wrong value raises :class:`InvalidContact`
naming the field, a customer code already taken raises :class:`DuplicateCode`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from tamas.core.ids import new_id
from tamas.store.errors import StoreError
from tamas.store.tables import metadata

__all__ = [
    "LANGUAGES",
    "MAX_PAGE",
    "Contact",
    "ContactSource",
    "Contacts",
    "DuplicateCode",
    "InvalidContact",
    "clean_fields",
    "contact_numbers",
    "contacts",
    "normalize_code",
    "normalize_number",
    "number_tail",
]

#: The most rows one :meth:`Contacts.search` returns.
MAX_PAGE: Final = 500
#: The languages a contact may prefer.
LANGUAGES: Final = ("en", "fa", "ar")
#: How many trailing digits make two long numbers the same.
TAIL_DIGITS: Final = 10
_MAX_DIGITS: Final = 20
_MIN_TAIL_PREFIX: Final = 3
_MAX_NUMBERS: Final = 20
_LIMITS: Final = {"name": 200, "code": 64, "email": 254, "notes": 10_000}
_FIELDS: Final = ("name", "code", "numbers", "email", "language", "notes")

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=True, unique=True),
    sa.Column("email", sa.Text, nullable=True),
    sa.Column("language", sa.Text, nullable=True),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Index(None, "name"),
)

contact_numbers = sa.Table(
    "contact_numbers",
    metadata,
    sa.Column(
        "contact_id", sa.Text, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("tail", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("contact_id", "position"),
    sa.Index(None, "number"),
    sa.Index(None, "tail"),
)


class ContactSource(enum.StrEnum):
    IVR = "ivr"
    API = "api"
    IMPORT = "import"


class InvalidContact(StoreError):
    """A field's value is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class DuplicateCode(StoreError):
    """Another contact already has this customer code."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    id: str
    name: str
    #: The customer code (unique among contacts), if any.
    code: str | None
    #: Normalised phone numbers, in the order given.
    numbers: tuple[str, ...]
    email: str | None
    #: en, fa or ar; None when not known.
    language: str | None
    notes: str
    source: ContactSource
    #: Epoch seconds.
    created_at: float
    updated_at: float


_DIGITS: Final = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_SEPARATORS: Final = re.compile(r"[\s\-./()]+")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize_number(text: str) -> str:
    """``text`` as digits with an optional leading ``+``; InvalidContact if it is no number."""
    plain = _SEPARATORS.sub("", text.translate(_DIGITS))
    digits = plain.removeprefix("+")
    if not digits.isascii() or not digits.isdigit():
        raise InvalidContact("number", f"{text!r} is not a phone number")
    if len(digits) > _MAX_DIGITS:
        raise InvalidContact("number", f"{text!r} has more than {_MAX_DIGITS} digits")
    return plain


def number_tail(number: str) -> str | None:
    """The last 10 digits of a normalised number (None when it is shorter)."""
    digits = number.removeprefix("+")
    return digits[-TAIL_DIGITS:] if len(digits) >= TAIL_DIGITS else None


def normalize_code(text: str) -> str:
    """A customer code as stored: trimmed, Persian/Arabic-Indic digits made ASCII."""
    return text.strip().translate(_DIGITS)


def _text(values: Mapping[str, object], name: str, *, optional: bool) -> str | None:
    value = values[name]
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidContact(name, "must be text" + (" or null" if optional else ""))
    value = value.strip()
    if len(value) > _LIMITS[name]:
        raise InvalidContact(name, f"must be at most {_LIMITS[name]} characters")
    return (value or None) if optional else value


def clean_fields(values: Mapping[str, object]) -> dict[str, Any]:
    """Check and normalise the given fields (any of name, code, numbers, email, language,
    notes); the column values to store, ``numbers`` as a tuple. Raises InvalidContact."""
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise InvalidContact(unknown[0], f"is not a contact field ({', '.join(_FIELDS)})")
    clean: dict[str, Any] = {}
    for name in ("name", "notes"):
        if name in values:
            clean[name] = _text(values, name, optional=False)
    if "code" in values:
        code = _text(values, "code", optional=True)
        clean["code"] = None if code is None else normalize_code(code)
    if "email" in values:
        email = _text(values, "email", optional=True)
        if email is not None and not _EMAIL.fullmatch(email):
            raise InvalidContact("email", f"{email!r} is not an e-mail address")
        clean["email"] = email
    if "language" in values:
        language = values["language"]
        if language is not None and language not in LANGUAGES:
            raise InvalidContact("language", f"must be one of {', '.join(LANGUAGES)} or null")
        clean["language"] = language
    if "numbers" in values:
        clean["numbers"] = _numbers(values["numbers"])
    return clean


def _numbers(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidContact("numbers", "must be a list of phone numbers (text)")
    if len(value) > _MAX_NUMBERS:
        raise InvalidContact("numbers", f"at most {_MAX_NUMBERS} numbers")
    found: list[str] = []
    for text in value:
        try:
            number = normalize_number(text)
        except InvalidContact as exc:
            raise InvalidContact("numbers", str(exc).removeprefix("number: ")) from None
        if number not in found:
            found.append(number)
    return tuple(found)


class Contacts:
    """The contacts repository (synchronous: call it from a thread, not the event loop)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(
        self,
        fields: Mapping[str, object],
        *,
        source: ContactSource = ContactSource.API,
        now: float,
        contact_id: str | None = None,
    ) -> Contact:
        """Store a new contact from ``fields`` (see :func:`clean_fields`; missing ones are
        empty); DuplicateCode when the code is taken."""
        clean = {"name": "", "code": None, "numbers": (), "email": None, "language": None,
                 "notes": ""} | clean_fields(fields)  # fmt: skip
        numbers = clean.pop("numbers")
        row = clean | {"id": contact_id or new_id(), "source": source.value,
                       "created_at": now, "updated_at": now}  # fmt: skip
        with self._writing(clean.get("code")) as conn:
            conn.execute(sa.insert(contacts).values(row))
            _put_numbers(conn, row["id"], numbers)
        return _contact(row, numbers)

    def get(self, contact_id: str) -> Contact | None:
        found = self._load(contacts.c.id == contact_id)
        return found[0] if found else None

    def update(self, contact_id: str, changes: Mapping[str, object], *, now: float
               ) -> Contact | None:  # fmt: skip
        """Change the given fields (``numbers`` replaces the list); None if no such contact."""
        clean = clean_fields(changes)
        numbers = clean.pop("numbers", None)
        with self._writing(clean.get("code")) as conn:
            done = conn.execute(
                sa.update(contacts).where(contacts.c.id == contact_id)
                .values(clean | {"updated_at": now})
            )  # fmt: skip
            if done.rowcount == 0:
                return None
            if numbers is not None:
                conn.execute(sa.delete(contact_numbers)
                             .where(contact_numbers.c.contact_id == contact_id))  # fmt: skip
                _put_numbers(conn, contact_id, numbers)
        return self.get(contact_id)

    def delete(self, contact_id: str) -> bool:
        """Remove a contact and its numbers; False if there was none."""
        with self._engine.begin() as conn:
            conn.execute(sa.delete(contact_numbers)
                         .where(contact_numbers.c.contact_id == contact_id))  # fmt: skip
            return conn.execute(sa.delete(contacts).where(contacts.c.id == contact_id)
                                ).rowcount > 0  # fmt: skip

    def find_by_number(self, number: str) -> Contact | None:
        """The contact ``number`` belongs to, by the rule in the module's docstring.
        InvalidContact if ``number`` is not a phone number."""
        normal = normalize_number(number)
        found = self._load(contacts.c.id.in_(
            sa.select(contact_numbers.c.contact_id).where(contact_numbers.c.number == normal)
        ), limit=1)  # fmt: skip
        tail = number_tail(normal)
        if not found and tail is not None:
            found = self._load(contacts.c.id.in_(
                sa.select(contact_numbers.c.contact_id).where(contact_numbers.c.tail == tail)
            ), limit=1)  # fmt: skip
        return found[0] if found else None

    def find_by_code(self, code: str) -> Contact | None:
        normal = normalize_code(code)
        if not normal:
            return None
        found = self._load(contacts.c.code == normal)
        return found[0] if found else None

    def search(self, q: str = "", *, limit: int = 50, offset: int = 0) -> list[Contact]:
        """Contacts whose name, or a word of it, starts with ``q`` (ignoring case), or with a
        number starting with ``q`` normalised, or whose last 10 digits start with ``q``'s
        digits after its leading ``+`` and zeros (at least 3: "0912" finds "+98 912 ...");
        all when ``q`` is empty. Ordered by name, a page of ``limit`` after ``offset``."""
        if not 0 < limit <= MAX_PAGE:
            raise StoreError(f"limit must be 1-{MAX_PAGE}, not {limit}")
        if offset < 0:
            raise StoreError(f"offset must not be negative, not {offset}")
        q = q.strip()
        where: sa.ColumnElement[bool] = sa.true()
        if q:
            name = sa.func.lower(contacts.c.name)
            lowered = q.lower()
            where = sa.or_(name.startswith(lowered, autoescape=True),
                           name.contains(" " + lowered, autoescape=True))  # fmt: skip
            try:
                prefix = normalize_number(q)
            except InvalidContact:
                pass
            else:
                starts = contact_numbers.c.number.startswith(prefix, autoescape=True)
                national = prefix.lstrip("+0")
                if len(national) >= _MIN_TAIL_PREFIX:
                    starts = sa.or_(starts, contact_numbers.c.tail.startswith(national))
                owners = sa.select(contact_numbers.c.contact_id).where(starts)
                where = sa.or_(where, contacts.c.id.in_(owners))
        return self._load(where, limit=limit, offset=offset,
                          order=(contacts.c.name, contacts.c.id))  # fmt: skip

    @contextmanager
    def _writing(self, code: str | None) -> Iterator[sa.Connection]:
        """A write transaction; a unique-code violation becomes DuplicateCode."""
        try:
            with self._engine.begin() as conn:
                yield conn
        except sa.exc.IntegrityError:
            if code is None:
                raise StoreError("the contact is already stored") from None
            raise DuplicateCode(f"the customer code {code!r} is taken") from None

    def _load(
        self,
        where: sa.ColumnElement[bool],
        *,
        limit: int | None = None,
        offset: int = 0,
        order: Sequence[sa.ColumnElement[Any]] = (),
    ) -> list[Contact]:
        query = (sa.select(contacts).where(where)
                 .order_by(*(order or (contacts.c.created_at, contacts.c.id)))
                 .limit(limit).offset(offset))  # fmt: skip
        with self._engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            numbers = _numbers_of(conn, [r["id"] for r in rows])
        return [_contact(r, numbers.get(r["id"], ())) for r in rows]


def _put_numbers(conn: sa.Connection, contact_id: str, numbers: Iterable[str]) -> None:
    rows = [{"contact_id": contact_id, "position": i, "number": n, "tail": number_tail(n)}
            for i, n in enumerate(numbers)]  # fmt: skip
    if rows:
        conn.execute(sa.insert(contact_numbers), rows)


def _numbers_of(conn: sa.Connection, ids: list[str]) -> dict[str, tuple[str, ...]]:
    if not ids:
        return {}
    query = (sa.select(contact_numbers.c.contact_id, contact_numbers.c.number)
             .where(contact_numbers.c.contact_id.in_(ids))
             .order_by(contact_numbers.c.contact_id, contact_numbers.c.position))  # fmt: skip
    found: dict[str, list[str]] = {}
    for contact_id, number in conn.execute(query):
        found.setdefault(contact_id, []).append(number)
    return {k: tuple(v) for k, v in found.items()}


def _contact(row: Mapping[str, Any], numbers: Sequence[str]) -> Contact:
    values = dict(row)
    values["source"] = ContactSource(values["source"])
    return Contact(numbers=tuple(numbers), **values)
