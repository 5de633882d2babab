"""The worked example of docs/report.md, number by number, imported from 1C-shaped CSV files into a
real database and read back through the same queries and workbook as /report and /chart."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from bot import workbooks
from bot.rules import Month, collection_percent
from bot.settings import Settings
from db import queries
from db.importer import import_paths
from db.session import SessionPool
from tests.factories import CONTRACTS_HEADER, EMPLOYEES_HEADER, PAYMENTS_HEADER, write_csv
from tests.world import MSK

DOC = Path(__file__).parents[1] / "docs" / "report.md"
FEBRUARY = Month(2019, 2)
TODAY = date(2019, 2, 25)


async def example(pool: SessionPool, folder: Path) -> None:
    write_csv(folder / "employees.csv", EMPLOYEES_HEADER, [["m1", "Петров Пётр", "manager", "A", "", "", "1"]])
    write_csv(folder / "contracts.csv", CONTRACTS_HEADER, [
        ["Д-1", "Д-1", "k1", "ООО «Ромашка»", "m1", "01.01.2019", "", "3 000,00", "ИТС", ""],
        ["Д-2", "Д-2", "k2", "ИП Смирнов", "m1", "01.01.2019", "12", "2 000,00", "ИТС", ""],
        ["Д-3", "Д-3", "k3", "АО «Вектор»", "m1", "01.02.2019", "12", "5 000,00", "ИТС", ""],
    ])  # fmt: skip
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [
        ["p1", "Д-1", "05.01.2019", "3 000,00", ""],
        ["p2", "Д-1", "10.02.2019", "3 000,00", ""],
        ["p3", "Д-2", "20.02.2019", "3 000,00", ""],
        ["p4", "Д-3", "31.01.2019", "5 000,00", ""],
    ])  # fmt: skip
    await import_paths(pool, [folder], zone=MSK, now=datetime(2019, 2, 25, 4))


async def test_the_curve_of_the_worked_example(pool: SessionPool, tmp_path: Path) -> None:
    await example(pool, tmp_path / "exports")
    async with pool() as session:
        curve = await queries.paid_by_day(session, ["m1"], FEBRUARY, date(2019, 2, 28))
    assert curve.base == 10_000_00
    expected = [5_000_00] * 9 + [8_000_00] * 10 + [9_000_00] * 9
    assert curve.paid == expected
    percents = {collection_percent(paid, curve.base) for paid in curve.paid}
    assert percents == {Decimal("50.00"), Decimal("80.00"), Decimal("90.00")}
    doc = DOC.read_text(encoding="utf-8")
    for line in ["| 1–9 | 5 000 | 50,00 % |", "| 10–19 | 8 000 | 80,00 % |", "| 20–28 | 9 000 | 90,00 % |"]:
        assert line in doc


async def test_the_report_of_the_worked_example(pool: SessionPool, settings: Settings, tmp_path: Path) -> None:
    await example(pool, tmp_path / "exports")
    async with pool() as session:
        managers = [e for e in await queries.list_employees(session) if e.role == "manager"]
        report = await queries.report_of(session, managers, FEBRUARY, TODAY, settings.kpi_tiers)
    total = queries.report_total(report, FEBRUARY, settings.kpi_tiers)
    sheet = load_workbook(BytesIO(workbooks.collection_report("", FEBRUARY, TODAY, report, total))).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5, max_col=4)]
    assert rows == [
        ["Петров Пётр 90,00 %", None, 10000, 9000],
        ["+ АО «Вектор» (01.02.2019, 12 мес.)", 5000, 5000, 5000],
        ["+ ИП Смирнов (01.01.2019, 12 мес.)", 2000, 2000, 1000],
        ["+ ООО «Ромашка» (01.01.2019, бессрочно)", 3000, 3000, 3000],
        ["Итого 90,00 %", None, 10000, 9000],
    ]
    doc = DOC.read_text(encoding="utf-8")
    for label, *numbers in rows:
        shown = " ".join(f"{n:,}".replace(",", " ") for n in numbers if n is not None)
        assert " ".join(f"{label} {shown}".split()) in " ".join(doc.split())
