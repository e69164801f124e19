"""Exporting a report :class:`~tamas.reporting.table.Table` as JSON, CSV or XLSX.

A table's values are raw (epoch seconds, seconds, shares in 0..1); a :class:`DisplayFormat`
says how people want to read them: which calendar (Gregorian or Jalali) and time zone for
``TIME`` columns, the language of the file's own labels and of the column titles (en, fa,
ar, from the catalogue :mod:`tamas.reporting.titles`; fa and ar also turn the XLSX sheet
right-to-left), native digits in dates, and durations as seconds or h:mm:ss.

* JSON is :meth:`Table.as_json` as it is: raw values, for programs (no display format).
* CSV (RFC 4180: comma separated, fields with a comma, quote or line break quoted, quotes
  doubled, CRLF line ends) is text for people and spreadsheets: a ``TIME`` is a local
  date-time (``2024-11-30 14:05:00`` or ``1403/09/10 14:05:00``), a ``RATIO`` a percent
  (``85.0%``), a ``SECONDS`` whole or tenth seconds (or ``0:02:05``). The report's title and
  parameters come first, then an empty row, then the header row (``preamble=False`` leaves
  only header and rows). ``bom`` starts the file with a UTF-8 byte order mark so that Excel
  reads Persian text right. A text value starting with ``=`` or ``@`` gets a leading ``'``
  so that a spreadsheet does not run it as a formula (a caller id is set by the caller).
* XLSX: sheet one has the header row (frozen, with a filter) and typed cells: numbers are
  numbers (a ``RATIO`` with a percent format, a ``SECONDS`` in seconds or, as h:mm:ss, in
  days with ``[h]:mm:ss``), a Gregorian ``TIME`` a date-time cell, a Jalali one text (a
  spreadsheet has no Jalali date type). Sheet two holds the title, name, parameters and
  targets. The title is also the workbook's title property.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from tamas.core.jalali import format_jalali, to_arabic_digits, to_persian_digits
from tamas.reporting.table import Column, Kind, Table, Value
from tamas.reporting.titles import translate

__all__ = [
    "Calendar",
    "DisplayFormat",
    "Durations",
    "ExportError",
    "format_time",
    "format_value",
    "to_csv",
    "to_json",
    "to_xlsx",
]

LANGUAGES = ("en", "fa", "ar")
_RTL = frozenset({"fa", "ar"})
#: The file's own labels (the column titles are in :mod:`tamas.reporting.titles`).
_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "report": "Report",
        "about": "Parameters",
        "title": "Title",
        "name": "Name",
        "parameter": "Parameter",
        "value": "Value",
        "targets": "Targets",
        "target": "Target",
        "yes": "yes",
        "no": "no",
    },
    "fa": {
        "report": "گزارش",
        "about": "پارامترها",
        "title": "عنوان",
        "name": "نام",
        "parameter": "پارامتر",
        "value": "مقدار",
        "targets": "اهداف",
        "target": "هدف",
        "yes": "بله",
        "no": "خیر",
    },
    "ar": {
        "report": "تقرير",
        "about": "المعايير",
        "title": "العنوان",
        "name": "الاسم",
        "parameter": "المعيار",
        "value": "القيمة",
        "targets": "الأهداف",
        "target": "الهدف",
        "yes": "نعم",
        "no": "لا",
    },
}
#: Parameters holding epoch seconds, shown as times on the parameters sheet and in the preamble.
TIME_PARAMS = frozenset({"start", "end", "from", "to", "until"})
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class ExportError(ValueError):
    """A display format or table that cannot be exported (unknown zone, language...)."""


class Calendar(enum.StrEnum):
    GREGORIAN = "gregorian"
    JALALI = "jalali"


class Durations(enum.StrEnum):
    SECONDS = "seconds"  # 125 -> 125
    CLOCK = "clock"  # 125 -> 0:02:05


@dataclass(frozen=True, slots=True, kw_only=True)
class DisplayFormat:
    """How a report is shown to people (the settings of a center or a user)."""

    calendar: Calendar = Calendar.GREGORIAN
    #: IANA time zone name, e.g. ``Asia/Tehran``.
    zone: str = "UTC"
    #: Language of the file's labels; fa and ar also make the XLSX sheet right-to-left.
    language: str = "en"
    #: Write the digits of dates and times in the language's own digits (fa, ar).
    native_digits: bool = False
    durations: Durations = Durations.SECONDS
    #: Column titles by column key, replacing the table's (e.g. translated ones).
    titles: Mapping[str, str] = field(default_factory=dict)
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ExportError(f"language {self.language!r}: expected one of {LANGUAGES}")
        try:
            tz = ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ExportError(f"unknown time zone {self.zone!r}") from exc
        object.__setattr__(self, "_tz", tz)
        object.__setattr__(self, "calendar", Calendar(self.calendar))
        object.__setattr__(self, "durations", Durations(self.durations))

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def title(self, column: Column) -> str:
        """The column's title in the format's language: ``titles`` first, then the message
        catalogue (:mod:`tamas.reporting.titles`), else the table's English title."""
        given = self.titles.get(column.key)
        if given is not None:
            return given
        return translate(column.title, self.language) or column.title

    def label(self, key: str) -> str:
        return _LABELS[self.language][key]

    def digits(self, text: str) -> str:
        if not self.native_digits:
            return text
        if self.language == "fa":
            return to_persian_digits(text)
        if self.language == "ar":
            return to_arabic_digits(text)
        return text


# Values as text ------------------------------------------------------------------------


def local_time(at: float, fmt: DisplayFormat) -> datetime:
    """Epoch seconds as wall-clock time in the format's zone (naive, whole seconds)."""
    local = datetime.fromtimestamp(math.floor(at), tz=UTC).astimezone(fmt.tz)
    return local.replace(tzinfo=None)


def format_time(at: float, fmt: DisplayFormat) -> str:
    """``2024-11-30 14:05:00`` or, in the Jalali calendar, ``1403/09/10 14:05:00``."""
    local = local_time(at, fmt)
    clock = local.strftime("%H:%M:%S")
    if fmt.calendar is Calendar.JALALI:
        day = format_jalali(local.date())
    else:
        day = local.strftime("%Y-%m-%d")
    return fmt.digits(f"{day} {clock}")


def _clock(seconds: float) -> str:
    whole = round(seconds)
    sign = "-" if whole < 0 else ""
    hours, rest = divmod(abs(whole), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _finite(value: Value) -> bool:
    return not (isinstance(value, float) and not math.isfinite(value))


def format_value(value: Value, kind: Kind, fmt: DisplayFormat) -> str:
    """One value as the text a person reads (CSV cells, the parameters of a file)."""
    if value is None or not _finite(value):
        return ""
    if isinstance(value, bool):
        return fmt.label("yes" if value else "no")
    if isinstance(value, str):
        return value
    if kind is Kind.TIME:
        return format_time(value, fmt)
    if kind is Kind.SECONDS:
        if fmt.durations is Durations.CLOCK:
            return _clock(value)
        return _number(round(value, 1))
    if kind is Kind.RATIO:
        return f"{value * 100:.1f}%"
    return _number(value)


# JSON ------------------------------------------------------------------------------------


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def to_json(table: Table) -> str:
    """:meth:`Table.as_json` as JSON text (UTF-8 characters kept; NaN/infinity as null)."""
    return json.dumps(_json_safe(table.as_json()), ensure_ascii=False, allow_nan=False)


# CSV -------------------------------------------------------------------------------------


def _csv_text(value: Value, kind: Kind, fmt: DisplayFormat) -> str:
    text = format_value(value, kind, fmt)
    if isinstance(value, str) and text[:1] in ("=", "@"):
        return "'" + text
    return text


def _param_text(key: str, value: Value, fmt: DisplayFormat) -> str:
    kind = Kind.TIME if key in TIME_PARAMS and isinstance(value, int | float) else Kind.TEXT
    return format_value(value, kind, fmt)


def to_csv(table: Table, fmt: DisplayFormat, *, bom: bool = False, preamble: bool = True) -> str:
    """The table as RFC 4180 CSV text (see the module's docstring for the layout)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if preamble:
        writer.writerow([table.title])
        writer.writerow([fmt.label("name"), table.name])
        for key, value in table.params.items():
            writer.writerow([key, _param_text(key, value, fmt)])
        writer.writerow([])
    writer.writerow([fmt.title(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_text(row[c.key], c.kind, fmt) for c in table.columns])
    return ("\ufeff" if bom else "") + out.getvalue()


# XLSX ------------------------------------------------------------------------------------

_NUMBER_FORMATS = {
    Kind.INT: "0",
    Kind.FLOAT: "0.00",
    Kind.RATIO: "0.0%",
    Kind.SECONDS: "0",
}
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_CLOCK_FORMAT = "[h]:mm:ss"


def _xml_text(text: str) -> str:
    return _ILLEGAL_XML.sub("", text)


def _put(ws: object, row: int, col: int, value: object, number_format: str = "") -> None:
    """Write one cell; text is always text (openpyxl takes ``=...`` for a formula)."""
    cell = ws.cell(row=row, column=col)  # type: ignore[attr-defined]
    if isinstance(value, str):
        cell.value = _xml_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    if number_format:
        cell.number_format = number_format


def _xlsx_cell(value: Value, column: Column, fmt: DisplayFormat) -> tuple[object, str]:
    """A cell's value and number format."""
    if value is None or not _finite(value):
        return None, ""
    if isinstance(value, str | bool):
        return value, ""
    kind = column.kind
    if kind is Kind.TIME:
        if fmt.calendar is Calendar.JALALI:
            return format_time(value, fmt), ""
        return local_time(value, fmt), _DATETIME_FORMAT
    if kind is Kind.SECONDS and fmt.durations is Durations.CLOCK:
        return value / 86400, _CLOCK_FORMAT
    if kind is Kind.SECONDS and value != int(value):
        return value, "0.0"
    return value, _NUMBER_FORMATS.get(kind, "")


def _sheet_name(text: str) -> str:
    return _SHEET_NAME_BAD.sub("_", text)[:31] or "report"


def to_xlsx(table: Table, fmt: DisplayFormat) -> bytes:
    """The table as an Excel workbook (see the module's docstring for the layout)."""
    wb = Workbook()
    wb.properties.title = _xml_text(table.title)
    wb.properties.subject = _xml_text(table.name)
    rtl = fmt.language in _RTL

    ws = wb.active
    ws.title = _sheet_name(table.name)
    ws.sheet_view.rightToLeft = rtl
    widths = [len(fmt.title(c)) for c in table.columns]
    for j, column in enumerate(table.columns, start=1):
        _put(ws, 1, j, fmt.title(column))
        ws.cell(row=1, column=j).font = Font(bold=True)
    for i, row in enumerate(table.rows, start=2):
        for j, column in enumerate(table.columns, start=1):
            value, number_format = _xlsx_cell(row[column.key], column, fmt)
            _put(ws, i, j, value, number_format)
            shown = 19 if isinstance(value, datetime) else len(str(value or ""))
            widths[j - 1] = max(widths[j - 1], shown)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, width + 2))
    ws.freeze_panes = "A2"
    if table.columns:
        last = get_column_letter(len(table.columns))
        ws.auto_filter.ref = f"A1:{last}{max(1, len(table.rows) + 1)}"

    about = wb.create_sheet(_sheet_name(fmt.label("about")))
    about.sheet_view.rightToLeft = rtl
    lines: list[tuple[str, object]] = [
        (fmt.label("title"), table.title),
        (fmt.label("name"), table.name),
        ("", None),
        (fmt.label("parameter"), fmt.label("value")),
    ]
    for key, param in table.params.items():
        lines.append((key, _param_text(key, param, fmt) if key in TIME_PARAMS else param))
    if table.targets:
        lines.append(("", None))
        lines.append((fmt.label("targets"), fmt.label("target")))
        for key, target in table.targets.items():
            title = next((fmt.title(c) for c in table.columns if c.key == key), key)
            lines.append((title, target))
    for i, (label, value) in enumerate(lines, start=1):
        _put(about, i, 1, label)
        if value is not None and _finite(value):  # type: ignore[arg-type]
            _put(about, i, 2, value)
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 40

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
