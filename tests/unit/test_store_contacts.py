"""Contacts: the number rule, validation, the repository and migration 0005 (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tamas.store import Store, StoreError, migrate, open_store
from tamas.store.contacts import (
    Contact,
    Contacts,
    ContactSource,
    DuplicateCode,
    InvalidContact,
    clean_fields,
    normalize_code,
    normalize_number,
    number_tail,
)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def book(store: Store) -> Contacts:
    return Contacts(store.engine)


# --- the number rule (pure) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("+98 912 345 6789", "+989123456789"),
        ("0912-345-6789", "09123456789"),
        ("(021) 8.8/12", "0218812"),
        ("۰۹۱۲ ۳۴۵ ۶۷۸۹", "09123456789"),  # Persian digits
        ("٠٩١٢٣٤٥٦٧٨٩", "09123456789"),  # Arabic-Indic digits
        ("+۹۸۹۱۲۳۴۵۶۷۸۹", "+989123456789"),
        ("1001", "1001"),
    ],
)
def test_normalize_number(text: str, normal: str) -> None:
    assert normalize_number(text) == normal


@pytest.mark.parametrize(
    "text", ["", "+", "anonymous", "12a4", "++98", "98+12", "1" * 21, "\u0661\u0662x", "²³"]
)
def test_not_a_number(text: str) -> None:
    with pytest.raises(InvalidContact) as info:
        normalize_number(text)
    assert info.value.field == "number"


def test_tail_is_the_last_ten_digits_of_long_numbers_only() -> None:
    assert number_tail("+989123456789") == "9123456789"
    assert number_tail("09123456789") == "9123456789"
    assert number_tail("9123456789") == "9123456789"
    assert number_tail("+912345678") is None


def test_code_is_trimmed_with_digits_made_ascii() -> None:
    assert normalize_code("  ۱۲۳٤ ") == "1234"
    assert normalize_code("C-7") == "C-7"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"nmae": "x"}, "nmae"),
        ({"name": 3}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"code": 12}, "code"),
        ({"email": "not-an-address"}, "email"),
        ({"language": "de"}, "language"),
        ({"numbers": "0912"}, "numbers"),
        ({"numbers": ["0912", 5]}, "numbers"),
        ({"numbers": ["0912", "call me"]}, "numbers"),
        ({"numbers": ["1"] * 21}, "numbers"),
        ({"notes": "x" * 10_001}, "notes"),
    ],
)
def test_validation_names_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidContact) as info:
        clean_fields(fields)
    assert info.value.field == field and str(info.value).startswith(f"{field}: ")


def test_clean_fields_normalises() -> None:
    assert clean_fields({
        "name": "  Ali ", "code": " ", "email": " a@b.ir ", "language": None,
        "numbers": ["0912 345 6789", "09123456789", "+1 (212) 555-1234"], "notes": "",
    }) == {
        "name": "Ali", "code": None, "email": "a@b.ir", "language": None,
        "numbers": ("09123456789", "+12125551234"), "notes": "",
    }  # fmt: skip


# --- the repository ----------------------------------------------------------------------


def test_add_and_get_round_trip(book: Contacts) -> None:
    added = book.add(
        {"name": "Ali Rezaei", "code": "C1", "numbers": ["+98 912 345 6789", "021 8812"],
         "email": "ali@example.com", "language": "fa", "notes": "prefers mornings"},
        source=ContactSource.IMPORT, now=100.0,
    )  # fmt: skip
    assert added == Contact(
        id=added.id, name="Ali Rezaei", code="C1", numbers=("+989123456789", "0218812"),
        email="ali@example.com", language="fa", notes="prefers mornings",
        source=ContactSource.IMPORT, created_at=100.0, updated_at=100.0,
    )  # fmt: skip
    assert book.get(added.id) == added
    assert book.get("nope") is None


def test_defaults_of_a_bare_contact(book: Contacts) -> None:
    bare = book.add({}, now=1.0, contact_id="k1")
    assert (bare.id, bare.name, bare.code, bare.numbers, bare.email, bare.language) == (
        "k1", "", None, (), None, None)  # fmt: skip
    assert bare.source is ContactSource.API and book.get("k1") == bare
    with pytest.raises(StoreError, match="already stored"):
        book.add({}, now=1.0, contact_id="k1")


def test_code_is_unique_but_optional(book: Contacts) -> None:
    book.add({"code": "C1"}, now=1.0)
    book.add({}, now=1.0)
    book.add({"code": None}, now=1.0)  # several contacts without a code
    with pytest.raises(DuplicateCode, match="'C1' is taken"):
        book.add({"code": " C1"}, now=2.0)
    other = book.add({"code": "C2"}, now=2.0)
    with pytest.raises(DuplicateCode):
        book.update(other.id, {"code": "C1"}, now=3.0)
    assert book.find_by_code("C2") == book.get(other.id)


def test_find_by_number_exact_then_last_ten_digits(book: Contacts) -> None:
    ali = book.add({"name": "Ali", "numbers": ["+98 912 345 6789"]}, now=1.0)
    local = book.add({"name": "Local", "numbers": ["09123456789"]}, now=2.0)
    ext = book.add({"name": "Ext", "numbers": ["1001"]}, now=3.0)
    # exact first: each finds its own even though they share the last 10 digits
    assert book.find_by_number("+989123456789") == ali
    assert book.find_by_number("۰۹۱۲ ۳۴۵ ۶۷۸۹") == local
    # no exact match: the last 10 digits, earliest created first
    assert book.find_by_number("0098 912 345 6789") == ali
    assert book.find_by_number("9123456789") == ali
    # short numbers match exactly only
    assert book.find_by_number("1001") == ext
    assert book.find_by_number("+1001") is None
    assert book.find_by_number("+98 912 345 6780") is None
    with pytest.raises(InvalidContact):
        book.find_by_number("anonymous")


def test_find_by_code(book: Contacts) -> None:
    c = book.add({"name": "Coded", "code": "4711"}, now=1.0)
    assert book.find_by_code("۴۷۱۱") == c
    assert book.find_by_code("4712") is None
    assert book.find_by_code("  ") is None


def test_update_changes_given_fields_and_replaces_numbers(book: Contacts) -> None:
    c = book.add({"name": "Ann", "numbers": ["0912 111 2222", "1001"], "notes": "n"}, now=1.0)
    changed = book.update(c.id, {"name": "Ann B", "numbers": ["1002"], "email": None}, now=5.0)
    assert changed is not None
    assert (changed.name, changed.numbers, changed.notes) == ("Ann B", ("1002",), "n")
    assert (changed.created_at, changed.updated_at) == (1.0, 5.0)
    assert book.find_by_number("09121112222") is None
    assert book.find_by_number("1002") == changed
    assert book.update("ghost", {"name": "x"}, now=6.0) is None
    with pytest.raises(InvalidContact):
        book.update(c.id, {"language": "xx"}, now=7.0)


def test_delete_removes_contact_and_numbers(book: Contacts) -> None:
    c = book.add({"numbers": ["1001"]}, now=1.0)
    assert book.delete(c.id) is True
    assert book.delete(c.id) is False
    assert book.get(c.id) is None and book.find_by_number("1001") is None


def test_search_by_name_and_number_prefix_paged(book: Contacts) -> None:
    book.add({"name": "Zahra Ahmadi", "numbers": ["+98 912 345 6789"]}, now=1.0)
    book.add({"name": "Ali Rezaei", "numbers": ["021 8812 0000"]}, now=2.0)
    book.add({"name": "Alireza Karimi", "numbers": ["1001"]}, now=3.0)
    book.add({"name": "100% Sure", "numbers": []}, now=4.0)

    def names(q: str = "", **kw: int) -> list[str]:
        return [c.name for c in book.search(q, **kw)]

    # (names chosen to sort alike in the C and the linguistic collations)
    assert names() == ["100% Sure", "Ali Rezaei", "Alireza Karimi", "Zahra Ahmadi"]
    assert names("aLI") == ["Ali Rezaei", "Alireza Karimi"]  # ignoring case
    assert names("ahm") == ["Zahra Ahmadi"]  # a word of the name
    assert names("+98912") == ["Zahra Ahmadi"]  # number prefix
    assert names("0912") == ["Zahra Ahmadi"]  # national form: the last 10 digits
    assert names("۰۲۱ ۸۸") == ["Ali Rezaei"]
    assert names("100") == ["100% Sure", "Alireza Karimi"]
    assert names("100%") == ["100% Sure"]  # LIKE characters are literal
    assert names("_") == []
    assert names("nobody") == []
    assert names(limit=2) == ["100% Sure", "Ali Rezaei"]
    assert names(limit=2, offset=2) == ["Alireza Karimi", "Zahra Ahmadi"]
    assert names(limit=2, offset=4) == []


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": 501}, {"offset": -1}])
def test_bad_page_is_a_store_error(book: Contacts, bad: dict[str, int]) -> None:
    with pytest.raises(StoreError):
        book.search("", **bad)


def test_contacts_survive_a_restart(store_url: str) -> None:
    with open_store(store_url) as first:
        added = Contacts(first.engine).add({"name": "Ann", "numbers": ["1001"]}, now=1.0)
    with open_store(store_url) as second:
        assert Contacts(second.engine).find_by_number("1001") == added


def test_migration_0005_down_and_up_again(store: Store, book: Contacts) -> None:
    book.add({"name": "Ann", "code": "1", "numbers": ["1001"]}, now=1.0)
    inspector = sa.inspect(store.engine)
    assert {ix["name"] for ix in inspector.get_indexes("contact_numbers")} == {
        "ix_contact_numbers_number",
        "ix_contact_numbers_tail",
    }
    assert [u["column_names"] for u in inspector.get_unique_constraints("contacts")] == [["code"]]
    migrate.downgrade(store.engine, "0004")
    assert store.revision() == "0004"
    tables = set(sa.inspect(store.engine).get_table_names())
    assert not {"contacts", "contact_numbers"} & tables
    assert "voicemail_messages" in tables
    migrate.upgrade(store.engine)
    assert store.revision() == migrate.head_revision()
    assert book.search() == []
    book.add({"code": "1"}, now=2.0)
    assert book.find_by_code("1") is not None


def test_the_tables_match_migration_0005(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tamas.store.tables import metadata

    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if "contact" in repr(d)] == []
