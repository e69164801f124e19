"""Every column of every registered report has a Persian and an Arabic title, and the
exports use them (reports.language, or language=)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from reportlog import LOG, T0

from tamas.cli.report_cmd import catch_up
from tamas.config import parse_config
from tamas.reporting.table import Table
from tamas.reporting.titles import TITLES, translate
from tamas.runtime.reportservice import REPORTS, ReportService
from tamas.store import events as store_events
from tamas.store import open_store

CONFIG = """
agents: [{id: a1}, {id: a2}]
reports:
  language: fa
  schedules:
    - agent: a1
      days: [mon, tue, wed, thu, fri, sat, sun]
      shifts: [{start: "00:00", end: "24:00"}]
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportService]:
    path: Path = tmp_path_factory.mktemp("titles") / "tamas.db"
    config = parse_config(CONFIG, "titles.yaml")
    with open_store(f"sqlite:///{path}") as store:
        store_events.append_many(store.engine, LOG)
        catch_up(store.engine, config.reports.settings(), "UTC")
        yield ReportService(store.engine, config.reports, clock=lambda: T0 + 7200)


def every_table(service: ReportService) -> Iterator[Table]:
    """Each registered report with each of its groupings, over the hand-built log (so that
    the columns made from values, the pause reasons, are there too)."""
    for name, info in sorted(REPORTS.items()):
        for group in info.groups or (None,):
            params = {"from": str(int(T0)), "to": str(int(T0) + 3600)}
            if group is not None:
                params["group"] = group.value
            yield service.run(name, service.query(params))


def test_every_column_of_every_report_has_a_fa_and_an_ar_title(service: ReportService) -> None:
    missing: set[tuple[str, str, str]] = set()
    seen = 0
    for table in every_table(service):
        for column in table.columns:
            seen += 1
            for language in ("fa", "ar"):
                text = translate(column.title, language)
                if not text or text == column.title:
                    missing.add((table.name, column.title, language))
    assert seen > 150 and not missing, sorted(missing)
    assert "Paused: lunch" in {c.title for t in every_table(service) for c in t.columns}


def test_patterns_and_unknown_titles() -> None:
    assert translate("Answered ≤ 20 s", "fa") == "پاسخ در ≤ 20 ثانیه"
    assert translate("Paused: lunch", "ar") == "إيقاف مؤقت: lunch"
    assert translate("Queue", "en") == "Queue" and translate("No such column", "fa") is None
    assert translate("Queue", "de") is None
    assert all(fa and ar and fa != ar for fa, ar in TITLES.values())


def test_exports_use_the_centers_language(service: ReportService) -> None:
    table = service.run("adherence", service.query({"from": str(int(T0)),
                                                    "to": str(int(T0) + 3600)}))  # fmt: skip
    csv_text = service.export(table, "csv", service.display()).body.decode("utf-8-sig")
    assert "کارشناس,روز,آغاز روز,برنامه‌ریزی‌شده" in csv_text  # Agent, Day, Day start, ...
    arabic = service.display({"language": "ar"})
    book = openpyxl.load_workbook(io.BytesIO(service.export(table, "xlsx", arabic).body))
    header = [c.value for c in next(book.worksheets[0].iter_rows())]
    assert header[:3] == ["الوكيل", "اليوم", "بداية اليوم"]
    assert book.worksheets[0].sheet_view.rightToLeft
    english = service.display({"language": "en"})
    assert "Agent,Day,Day start" in service.export(table, "csv", english).body.decode()
