"""The worked example of docs/import.md, number by number, on both databases."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select

from db.importer import import_paths
from db.models import Payment
from db.session import SessionPool
from tests.factories import small_exports
from tests.test_import_kinds import as_excel_writes

DOC = Path(__file__).parents[1] / "docs" / "import.md"
MSK = ZoneInfo("Europe/Moscow")


def the_report(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "TDSheet"
    sheet["A1"] = "Поступления оплат по договорам сопровождения"
    sheet.merge_cells("A1:E1")
    sheet["A2"] = "Период: 01.02.2019 - 28.02.2019"
    sheet.append([])
    sheet.append(["Номер", "Код договора", "Дата", "Сумма", "Период"])
    sheet.append(["ПП-101", "c1", datetime(2019, 2, 5), 111.25, "Февраль 2019 г."])
    sheet.append(["ПП-102", "c2", 43503, 222.25, None])
    sheet.append(["ВЗ-7", "c1", "12.02.2019", "-2 000,00", "январь 2019"])
    sheet.append(["Итого", None, None, 333.25, None])
    book.save(path)
    # the binary floats Excel's own arithmetic leaves, as Excel writes them
    return as_excel_writes(path, {"111.25": "124599.99999999999", "222.25": "500.00000000000006",
                                  "333.25": "123099.99999999999"})  # fmt: skip


async def test_the_worked_example(pool: SessionPool, tmp_path: Path) -> None:
    now = datetime(2019, 2, 25, 4, 30)
    await import_paths(pool, [small_exports(tmp_path / "base")], zone=MSK, now=now)
    report = await import_paths(pool, [the_report(tmp_path / "Оплаты.xlsx")], zone=MSK, now=now)
    assert report.notes == [
        "Оплаты.xlsx[TDSheet]: строки 1–3 над заголовком (строка 4) пропущены: "
        "Поступления оплат по договорам сопровождения",
        "Оплаты.xlsx[TDSheet]:8: totals row skipped: Итого 123099.99999999999",
    ]
    async with pool() as session:
        found = await session.execute(select(Payment).where(Payment.id.in_(["ПП-101", "ПП-102", "ВЗ-7"])))
        rows = {p.id: (p.contract_id, p.paid_on, p.amount, p.period) for p in found.scalars()}
    assert rows == {
        "ПП-101": ("c1", date(2019, 2, 5), 12_460_000, date(2019, 2, 1)),
        "ПП-102": ("c2", date(2019, 2, 7), 50_000, None),
        "ВЗ-7": ("c1", date(2019, 2, 12), -200_000, date(2019, 1, 1)),
    }
    assert sum(amount for _, _, amount, _ in rows.values()) == 12_310_000
    doc = DOC.read_text(encoding="utf-8")
    for figure in ("12 460 000", "50 000", "−200 000", "12 310 000 kopecks", "07.02.2019 (serial 43503)"):
        assert figure in doc, figure
