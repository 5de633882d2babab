"""Workbooks (XLSX) people open in Excel: the 1C report "Расчёт оплат", the month-end table for payroll
and the debtors export. Presentation: plain data in, bytes out; no queries, no arithmetic on money
beyond turning kopecks into roubles.

Amounts are stored as numbers (roubles, exact: ``Decimal(kopecks) / 100``) so Excel sums them, with
the number format ``#,##0`` (``#,##0.00`` when there are kopecks). That is the file's locale-free
form of what a Russian Excel shows and lets you type as ``# ##0``: in the file format the comma is
always "group thousands", and Excel (and LibreOffice) draw it with the reader's separator, a space
in Russia. A literal ``# ##0`` in the file would mean "a space after the thousands" and print a
million as ``1000 000``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.worksheet import Worksheet

from bot import texts
from bot.rules import Collection, Month

if TYPE_CHECKING:  # the records only; this module never touches the database
    from db.queries import DebtorRow, ReportManager

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AMOUNT = "#,##0"
AMOUNT_WITH_KOPECKS = "#,##0.00"
PERCENT = "0.00%"
COEFFICIENT = "0.0##"
DAY = "DD.MM.YYYY"
MAX_WIDTH = 70

REPORT_TITLE = "Расчёт оплат за регулярное сопровождение"
REPORT_HEADER = ("Заказ покупателя", "ежемесячный платёж", "база этого месяца", "оплачено в этом месяце")
TABLE_HEADER = ("Менеджер", "Команда", "Сбор", "KPI", "База", "Оплачено", "Долг")
DEBTORS_HEADER = ("Клиент", "Договоры", "Менеджер", "Долг", "Долг с", "Дней", "Последняя оплата")

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="FFF2CC")  # 1C's pale yellow header
MANAGER_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="BFBFBF")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
INDENTED = Alignment(indent=1)


def cell_text(value: str) -> str:
    """A string from the data as a cell can hold it: control characters (which 1C exports may carry
    and the XLSX format forbids) become spaces."""
    return ILLEGAL_CHARACTERS_RE.sub(" ", value)


def _text(sheet: Worksheet, row: int, column: int, value: str) -> Any:
    """Write a string cell; a value starting with ``=`` stays text, never a formula."""
    cell = sheet.cell(row, column, cell_text(value))
    cell.data_type = "s"
    return cell


def roubles(kopecks: int) -> int | Decimal:
    """Kopecks as an exact number of roubles: ``26349200`` → ``263492``, ``281850`` → ``2818.5``."""
    whole, rest = divmod(kopecks, 100)
    return whole if rest == 0 else Decimal(kopecks) / 100


def _amount(cell: Any, kopecks: int) -> None:
    cell.value = roubles(kopecks)
    cell.number_format = AMOUNT if kopecks % 100 == 0 else AMOUNT_WITH_KOPECKS


def _fraction(value: Decimal | None) -> Decimal | None:
    """A percent (``90.53``) as the fraction Excel's percent format expects (``0.9053``)."""
    return value / 100 if value is not None else None


def term_label(start: date, months: int | None) -> str:
    """``(01.10.2018, 12 мес.)`` as 1C prints a contract's term; ``(01.10.2018, бессрочно)``."""
    return f"({texts.short_date(start)}, {f'{months} мес.' if months is not None else 'бессрочно'})"


def manager_label(name: str, value: Decimal | None) -> str:
    """``Аракелян Наринэ 90,53 %`` (no percent without a base: ``Иванов Пётр —``)."""
    return f"{name} {texts.percent(value)}"


def _save(book: Workbook) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _title(sheet: Worksheet, lines: Sequence[str], columns: int) -> int:
    """The title lines from row 1, each merged across the table as 1C does (the first large and
    bold); returns the header's row."""
    for row, line in enumerate(lines, start=1):
        _text(sheet, row, 1, line).font = TITLE if row == 1 else Font(italic=True)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    return len(lines) + 2


def _header(sheet: Worksheet, row: int, names: Sequence[str]) -> None:
    for column, name in enumerate(names, start=1):
        cell = sheet.cell(row, column, name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.border = GRID
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=column > 1)
    sheet.freeze_panes = sheet.cell(row + 1, 1)  # the title and the header stay when scrolling


def _display(value: Any, number_format: str) -> str:
    """Roughly what Excel shows, to size a column."""
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and number_format in {AMOUNT, AMOUNT_WITH_KOPECKS}:
        return f"{value:,.2f}" if number_format == AMOUNT_WITH_KOPECKS else f"{value:,.0f}"
    if isinstance(value, Decimal) and number_format == PERCENT:
        return f"{value * 100:.2f} %"
    if isinstance(value, date):
        return "00.00.0000"
    return str(value)


def _fit_columns(sheet: Worksheet, first_row: int, minimum: Sequence[int]) -> None:
    """Widths that fit the longest value of each column from ``first_row`` (the title may overflow)."""
    widths = list(minimum)
    for row in sheet.iter_rows(min_row=first_row):
        for cell in row:
            column = cell.column - 1  # type: ignore[operator]
            if column < len(widths):
                length = len(_display(cell.value, cell.number_format))
                if cell.row == first_row:  # the header wraps: its longest word counts
                    length = max((len(word) for word in str(cell.value or "").split()), default=0)
                widths[column] = max(widths[column], min(length + 2, MAX_WIDTH))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


# --------------------------------------------------------------------------------------------------
# The 1C report
# --------------------------------------------------------------------------------------------------


def collection_report(
    company: str, month: Month, as_of: date, managers: Sequence[ReportManager], total: Collection
) -> bytes:
    """ "Расчёт оплат за регулярное сопровождение" in the layout of the 1C report.

    Title (company, month, "На дату DD.MM.YYYY"), the header, per manager a bold row ``Фамилия Имя
    90,53 %`` with base and paid, and under it, on outline level 1 (Excel's grouping, folded and
    unfolded with the ``-``/``+`` in the margin as in 1C), a row per contract ``+ Клиент (01.10.2018,
    12 мес.)`` with fee, base and paid; then the total. Amounts are numbers in roubles (see the module).
    A manager whose totals come from the frozen month-end snapshot says so in a note after the row.
    """
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Расчёт оплат"
    heading = f"{company}: {REPORT_TITLE.lower()}" if company else REPORT_TITLE
    header_row = _title(sheet, [heading, f"{texts.month_name(month).capitalize()}. На дату {as_of:%d.%m.%Y}"],
                        len(REPORT_HEADER))  # fmt: skip
    _header(sheet, header_row, REPORT_HEADER)
    sheet.sheet_properties.outlinePr.summaryBelow = False  # the manager row is above its contracts
    detail = RowDimension(sheet, outlineLevel=1)  # one for every contract row: openpyxl's are slow to build
    row = header_row + 1
    for manager in managers:
        collection = manager.collection
        _text(sheet, row, 1, manager_label(manager.name, collection.percent))
        _amount(sheet.cell(row, 3), collection.base)
        _amount(sheet.cell(row, 4), collection.paid)
        for column in range(1, 5):
            sheet.cell(row, column).font = BOLD
            sheet.cell(row, column).fill = MANAGER_FILL
        if manager.frozen_on is not None:
            sheet.cell(row, 5, f"зафиксировано {manager.frozen_on:%d.%m.%Y}").font = Font(italic=True)
        row += 1
        for line in manager.contracts:
            _text(sheet, row, 1, f"+ {line.client} {term_label(line.start, line.months)}")
            sheet.cell(row, 1).alignment = INDENTED
            _amount(sheet.cell(row, 2), line.monthly_fee)
            _amount(sheet.cell(row, 3), line.base)
            _amount(sheet.cell(row, 4), line.paid)
            sheet.row_dimensions[row] = detail
            row += 1
    sheet.cell(row, 1, f"Итого {texts.percent(total.percent)}")
    _amount(sheet.cell(row, 3), total.base)
    _amount(sheet.cell(row, 4), total.paid)
    for column in range(1, 5):
        sheet.cell(row, column).font = BOLD
        sheet.cell(row, column).border = Border(top=Side(style="medium"))
    _fit_columns(sheet, header_row, (30, 12, 12, 12))
    return _save(book)


# --------------------------------------------------------------------------------------------------
# The month-end table for payroll
# --------------------------------------------------------------------------------------------------


def month_end_table(
    company: str, month: Month, as_of: date, managers: Sequence[ReportManager], total: Collection
) -> bytes:
    """The finished month per manager for payroll: percent, KPI coefficient, base, paid, debt.

    The percent is stored as a fraction with Excel's percent format (``0.9053`` shows ``90,53 %``),
    the coefficient as a number; the rows in the order given (worst first).
    """
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "KPI"
    heading = f"Итоги {texts.month_genitive(month)}: сбор и KPI для расчёта премий"
    header_row = _title(sheet, [f"{company}: {heading}" if company else heading, f"На дату {as_of:%d.%m.%Y}"],
                        len(TABLE_HEADER))  # fmt: skip
    _header(sheet, header_row, TABLE_HEADER)
    row = header_row + 1
    for manager in managers:
        collection = manager.collection
        _text(sheet, row, 1, manager.name)
        _text(sheet, row, 2, manager.team)
        sheet.cell(row, 3, _fraction(collection.percent)).number_format = PERCENT
        sheet.cell(row, 4, collection.coefficient.normalize()).number_format = COEFFICIENT
        _amount(sheet.cell(row, 5), collection.base)
        _amount(sheet.cell(row, 6), collection.paid)
        _amount(sheet.cell(row, 7), collection.debt)
        row += 1
    sheet.cell(row, 1, "Итого").font = BOLD
    sheet.cell(row, 3, _fraction(total.percent)).number_format = PERCENT
    _amount(sheet.cell(row, 5), total.base)
    _amount(sheet.cell(row, 6), total.paid)
    _amount(sheet.cell(row, 7), sum(m.collection.debt for m in managers))
    for column in range(1, 8):
        sheet.cell(row, column).font = BOLD
        sheet.cell(row, column).border = Border(top=Side(style="medium"))
    _fit_columns(sheet, header_row, (24, 10, 9, 6, 12, 12, 12))
    return _save(book)


# --------------------------------------------------------------------------------------------------
# Debtors
# --------------------------------------------------------------------------------------------------


def debtors_workbook(title: str, as_of: date, debtors: Sequence[DebtorRow]) -> bytes:
    """One row per client with debt: client, contracts, manager, debt, since which month, age in
    days, the date of the last payment (a real date cell; empty when there was none)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Должники"
    header_row = _title(sheet, [title, f"На дату {as_of:%d.%m.%Y}"], len(DEBTORS_HEADER))
    _header(sheet, header_row, DEBTORS_HEADER)
    row = header_row + 1
    for debtor in debtors:
        _text(sheet, row, 1, debtor.client)
        _text(sheet, row, 2, ", ".join(debtor.contracts))
        _text(sheet, row, 3, debtor.manager)
        _amount(sheet.cell(row, 4), debtor.debt)
        sheet.cell(row, 5, texts.month_name(debtor.oldest_unpaid) if debtor.oldest_unpaid else None)
        sheet.cell(row, 6, debtor.age_days)
        if debtor.last_payment is not None:
            sheet.cell(row, 7, debtor.last_payment).number_format = DAY
        row += 1
    sheet.cell(row, 1, f"Итого: {len(debtors)}").font = BOLD
    _amount(sheet.cell(row, 4), sum(d.debt for d in debtors))
    sheet.cell(row, 4).font = BOLD
    if debtors:
        sheet.auto_filter.ref = f"A{header_row}:G{row - 1}"
    _fit_columns(sheet, header_row, (24, 12, 16, 12, 14, 6, 12))
    return _save(book)
