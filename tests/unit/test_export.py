"""Exporters: JSON, CSV (RFC 4180, read back with csv) and XLSX (read back with openpyxl)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import openpyxl
import pytest

from tamas.reporting.export import (
    Calendar,
    DisplayFormat,
    Durations,
    ExportError,
    format_time,
    format_value,
    to_csv,
    to_json,
    to_xlsx,
)
from tamas.reporting.table import Column, Kind, Table

# 2024-11-30 14:05:00 UTC = 17:35:00 in Tehran (UTC+03:30) = 1403/09/10 (10 Azar)
T1 = 1_732_975_500.0
# 2025-03-20 20:45:00 UTC = 2025-03-21 00:15:00 in Tehran = 1404/01/01 (Nowruz)
T2 = 1_742_503_500.0

TRICKY = 'Ali, "the boss"\nline two'
PERSIAN = "تماس از دست رفته"


def sample() -> Table:
    return Table(
        name="missed_calls",
        title="Missed calls",
        columns=(
            Column(key="time", title="Time", kind=Kind.TIME),
            Column(key="caller", title="Caller"),
            Column(key="position", title="Position", kind=Kind.INT),
            Column(key="wait", title="Wait", kind=Kind.SECONDS),
            Column(key="sl", title="Service level", kind=Kind.RATIO),
            Column(key="score", title="Score", kind=Kind.FLOAT),
            Column(key="short", title="Short", kind=Kind.TEXT),
        ),
        rows=(
            {
                "time": T1,
                "caller": TRICKY,
                "position": 3,
                "wait": 125,
                "sl": 0.8512,
                "score": 4.25,
                "short": False,
            },
            {
                "time": T2,
                "caller": PERSIAN,
                "position": None,
                "wait": 7.25,
                "sl": None,
                "score": float("nan"),
                "short": True,
            },
            {
                "time": None,
                "caller": '=HYPERLINK("x")',
                "position": 1,
                "wait": 3725,
                "sl": 1.0,
                "score": 3.0,
                "short": None,
            },
        ),
        params={"start": T1, "end": T2, "queue": "sales"},
        targets={"sl": 0.8},
    )


TEHRAN = DisplayFormat(zone="Asia/Tehran")
TEHRAN_JALALI = DisplayFormat(zone="Asia/Tehran", calendar=Calendar.JALALI, language="fa")


def test_times_in_zone_and_calendar() -> None:
    assert format_time(T1, DisplayFormat()) == "2024-11-30 14:05:00"
    assert format_time(T1, TEHRAN) == "2024-11-30 17:35:00"
    assert format_time(T1, TEHRAN_JALALI) == "1403/09/10 17:35:00"
    # the local date crosses into Nowruz: 00:15 on 1 Farvardin 1404
    assert format_time(T2, TEHRAN_JALALI) == "1404/01/01 00:15:00"
    assert format_time(T2 + 0.9, TEHRAN) == "2025-03-21 00:15:00"  # fractions cut, not rounded
    persian = DisplayFormat(
        zone="Asia/Tehran", calendar="jalali", language="fa", native_digits=True
    )  # type: ignore[arg-type]
    assert format_time(T1, persian) == "۱۴۰۳/۰۹/۱۰ ۱۷:۳۵:۰۰"  # noqa: RUF001
    arabic = DisplayFormat(language="ar", native_digits=True)
    assert format_time(T1, arabic) == "٢٠٢٤-١١-٣٠ ١٤:٠٥:٠٠"  # noqa: RUF001


def test_value_formats() -> None:
    fmt = DisplayFormat()
    assert format_value(0.8512, Kind.RATIO, fmt) == "85.1%"
    assert format_value(125, Kind.SECONDS, fmt) == "125"
    assert format_value(7.25, Kind.SECONDS, fmt) == "7.2"  # tenths (7.25 rounds to even)
    clock = DisplayFormat(durations=Durations.CLOCK)
    assert format_value(3725, Kind.SECONDS, clock) == "1:02:05"  # 3600 + 120 + 5
    assert format_value(-65, Kind.SECONDS, clock) == "-0:01:05"
    assert format_value(4.25, Kind.FLOAT, fmt) == "4.25"
    assert format_value(1 / 3, Kind.FLOAT, fmt) == "0.3333"
    assert format_value(12.0, Kind.INT, fmt) == "12"
    assert format_value(None, Kind.INT, fmt) == ""
    assert format_value(float("inf"), Kind.FLOAT, fmt) == ""
    assert format_value(True, Kind.TEXT, fmt) == "yes"
    assert format_value(True, Kind.TEXT, DisplayFormat(language="fa")) == "بله"


def test_bad_display_formats() -> None:
    with pytest.raises(ExportError, match="time zone"):
        DisplayFormat(zone="Mars/Olympus")
    with pytest.raises(ExportError, match="language"):
        DisplayFormat(language="de")
    with pytest.raises(ValueError):
        DisplayFormat(calendar="julian")  # type: ignore[arg-type]


def test_json_keeps_raw_values() -> None:
    data = json.loads(to_json(sample()))
    assert data["name"] == "missed_calls" and data["title"] == "Missed calls"
    assert data["rows"][0]["time"] == T1 and data["rows"][0]["caller"] == TRICKY
    assert data["rows"][1]["score"] is None  # NaN is not JSON
    assert data["rows"][1]["caller"] == PERSIAN
    assert PERSIAN in to_json(sample())  # not \u escaped
    assert data["targets"] == {"sl": 0.8}
    assert data["columns"][3] == {"key": "wait", "title": "Wait", "kind": "seconds",
                                  "description": ""}  # fmt: skip


def test_csv_round_trip_with_quotes_commas_newlines_and_persian() -> None:
    text = to_csv(sample(), TEHRAN_JALALI, bom=True)
    assert text.startswith("\ufeffMissed calls\r\n")
    assert '"Ali, ""the boss""\nline two"' in text  # RFC 4180: quoted, quotes doubled
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    # preamble: title, name, three parameters, an empty row; then header and 3 rows
    assert rows[0] == ["Missed calls"]
    assert rows[1] == ["نام", "missed_calls"]
    assert rows[2] == ["start", "1403/09/10 17:35:00"]
    assert rows[3] == ["end", "1404/01/01 00:15:00"]
    assert rows[4] == ["queue", "sales"]
    assert rows[5] == []
    # column titles in the format's language (fa) where the catalogue has them
    assert rows[6] == ["زمان", "تماس‌گیرنده", "Position", "انتظار", "سطح خدمت", "Score", "Short"]
    assert rows[7] == ["1403/09/10 17:35:00", TRICKY, "3", "125", "85.1%", "4.25", "خیر"]
    assert rows[8] == ["1404/01/01 00:15:00", PERSIAN, "", "7.2", "", "", "بله"]
    # a formula-looking text is defused; 3725 s stays seconds
    assert rows[9] == ["", '\'=HYPERLINK("x")', "1", "3725", "100.0%", "3", ""]
    assert len(rows) == 10


def test_csv_without_preamble_and_with_titles() -> None:
    fmt = DisplayFormat(titles={"caller": "تماس‌گیرنده"}, durations=Durations.CLOCK)
    text = to_csv(sample(), fmt, preamble=False)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][1] == "تماس‌گیرنده"
    assert rows[1][0] == "2024-11-30 14:05:00" and rows[1][3] == "0:02:05"
    assert rows[3][3] == "1:02:05"
    assert text.endswith("\r\n") and not text.startswith("\ufeff")


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_typed_cells_header_and_params_sheet() -> None:
    wb = _open(to_xlsx(sample(), TEHRAN))
    assert wb.sheetnames == ["missed_calls", "Parameters"]
    assert wb.properties.title == "Missed calls"
    ws = wb["missed_calls"]
    assert [c.value for c in ws[1]] == [
        "Time", "Caller", "Position", "Wait", "Service level", "Score", "Short",
    ]  # fmt: skip
    assert ws["A1"].font.b
    assert ws.freeze_panes == "A2"
    assert ws.sheet_view.rightToLeft in (None, False)
    # Gregorian time: a real date-time cell in Tehran time
    assert ws["A2"].value == datetime(2024, 11, 30, 17, 35, 0)
    assert ws["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws["B2"].value == TRICKY
    assert ws["C2"].value == 3 and ws["C2"].data_type == "n"
    assert ws["D2"].value == 125 and ws["D2"].data_type == "n"
    assert ws["E2"].value == pytest.approx(0.8512) and ws["E2"].number_format == "0.0%"
    assert ws["F2"].value == pytest.approx(4.25)
    assert ws["G2"].value is False and ws["G2"].data_type == "b"
    assert ws["B3"].value == PERSIAN
    assert ws["C3"].value is None and ws["E3"].value is None and ws["F3"].value is None
    assert ws["D3"].value == pytest.approx(7.25) and ws["D3"].number_format == "0.0"
    # text that looks like a formula stays text
    assert ws["B4"].value == '=HYPERLINK("x")' and ws["B4"].data_type == "s"
    about = wb["Parameters"]
    pairs = [(r[0].value, r[1].value) for r in about.iter_rows(min_row=1, max_col=2)]
    assert pairs[:2] == [("Title", "Missed calls"), ("Name", "missed_calls")]
    assert ("start", "2024-11-30 17:35:00") in pairs
    assert ("queue", "sales") in pairs
    assert ("Service level", pytest.approx(0.8)) in pairs  # the target, by column title


def test_xlsx_jalali_rtl_and_clock_durations() -> None:
    fmt = DisplayFormat(
        zone="Asia/Tehran", calendar=Calendar.JALALI, language="fa", durations=Durations.CLOCK
    )
    wb = _open(to_xlsx(sample(), fmt))
    ws = wb.worksheets[0]
    assert ws.sheet_view.rightToLeft is True
    assert wb.worksheets[1].sheet_view.rightToLeft is True
    assert wb.worksheets[1].title == "پارامترها"
    assert ws["A2"].value == "1403/09/10 17:35:00" and ws["A2"].data_type == "s"
    assert ws["A3"].value == "1404/01/01 00:15:00"
    # 125 s stored as 125/86400 of a day, shown [h]:mm:ss (openpyxl reads it as a timedelta)
    assert ws["D2"].number_format == "[h]:mm:ss"
    assert ws["D2"].value == timedelta(seconds=125)
    assert ws["G2"].value is False  # booleans stay booleans in XLSX


def test_xlsx_of_an_empty_table_and_odd_names() -> None:
    table = Table(
        name="a/b:c*d?e[f]g-very-long-name-over-31-characters",
        title="Empty\x01",
        columns=(Column(key="x", title="X", kind=Kind.INT),),
        rows=(),
    )
    wb = _open(to_xlsx(table, DisplayFormat(language="ar")))
    ws = wb.worksheets[0]
    assert ws.title == "a_b_c_d_e_f_g-very-long-name-ov"
    assert ws.max_row == 1 and ws["A1"].value == "X"
    assert ws.sheet_view.rightToLeft is True
    assert wb.properties.title == "Empty"  # a control character cannot go into XML
