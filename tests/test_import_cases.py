"""Every import case of the shared cases (``cases/import`` and the XLSX report of ``cases/realworld``,
copied into ``tests/cases/`` with their ``expected.md``) as a test with the value ``expected.md``
asks for, on SQLite and PostgreSQL.

Each case is an example of a kind; the kind itself is tested beside it (tests/test_import_kinds.py,
tests/test_values.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Employee, Payment
from db.session import SessionPool
from tests.importing import count, problems, run

CASES = Path(__file__).with_name("cases")
IMPORT = CASES / "import"


@pytest.fixture
async def demo(pool: SessionPool, demo_exports: Path) -> SessionPool:
    await run(pool, demo_exports)
    return pool


def case(name: str) -> Path:
    return next(IMPORT.glob(f"{name}-*"))


async def test_01_a_blank_but_not_empty_active_cell_means_active(demo: SessionPool) -> None:
    report = await run(demo, case("01") / "employees.csv")
    assert report.counts["employees"].unchanged == 1
    async with demo() as session:
        employee = await session.get(Employee, "000000001")
    assert employee is not None and employee.active is True


async def test_02_an_amount_beyond_bigint_is_too_large(demo: SessionPool) -> None:
    assert await problems(demo, case("02") / "payments.csv") == [
        "payments.csv:2: amount: 99999999999999999999: too large (at most 92233720368547758 roubles)"
    ]


async def test_03_a_5000_digit_duration_is_too_large_not_a_crash(demo: SessionPool) -> None:
    [line] = await problems(demo, case("03") / "interactions.csv")
    assert line.startswith("interactions.csv:2: duration_s: 999999") and line.endswith(
        "...: too large (at most 2147483647)"
    )


async def test_04_an_undefined_cp1251_byte_in_a_small_file_names_its_line(demo: SessionPool) -> None:
    assert await problems(demo, case("04") / "employees.csv") == [
        "employees.csv:2: (file): 000000001;Аракелян \ufffd: not valid cp1251 text (byte 0x98)"
    ]


async def test_05_a_decode_error_names_the_physical_line(demo: SessionPool) -> None:
    [line] = await problems(demo, case("05") / "contracts.csv")
    assert line.startswith("contracts.csv:2602: (file): ") and line.endswith(": not valid UTF-8 text (byte 0xFF)")
    raw = (case("05") / "contracts.csv").read_bytes().split(b"\n")
    assert b"\xff" in raw[2601] and all(b"\xff" not in r for r in raw[:2601])  # the hand count


async def test_06_an_iso_date_time_at_the_edge_of_the_calendar_is_refused(demo: SessionPool) -> None:
    assert await problems(demo, case("06") / "Master.csv") == [
        "Master.csv:1: start: 0001-01-01T00:00:00+05:00: the year is outside 1900–2999"
    ]


async def test_07_period_of_year_zero_is_no_such_month(demo: SessionPool) -> None:
    assert await problems(demo, case("07") / "payments.csv") == ["payments.csv:2: period: 01.0000: no such month"]


async def test_08a_an_xlsx_that_is_not_a_zip(demo: SessionPool) -> None:
    assert await problems(demo, case("08a") / "export.xlsx") == [
        "export.xlsx: not a readable XLSX workbook (BadZipFile: File is not a zip file)"
    ]


async def test_08b_a_truncated_sheet_xml_is_not_a_readable_sheet(demo: SessionPool) -> None:
    before = await count(demo, Payment)
    [line] = await problems(demo, case("08b") / "export.xlsx")
    assert line.startswith("export.xlsx[payments]:") and ": (file): : not a readable XLSX sheet (ParseError" in line
    assert await count(demo, Payment) == before


async def test_09_an_unbalanced_quote_is_refused_not_swallowing_rows(demo: SessionPool) -> None:
    assert await problems(demo, case("09") / "contracts.csv") == [
        "contracts.csv:2: (file): : unbalanced quote: the quote opened on this line is never closed"
    ]


async def test_10_a_value_holding_a_newline_is_escaped_on_one_line(demo: SessionPool) -> None:
    lines = await problems(demo, case("10") / "payments.csv")
    assert lines == ["payments.csv:2: date: 01.02.2019\\nдата: not a date (e.g. 23.02.2019 or 2019-02-23)"]
    assert all("\n" not in line and "\r" not in line for line in lines)


async def test_11_an_empty_file_is_refused_and_full_removes_nothing(demo: SessionPool) -> None:
    before = await count(demo, Payment)
    assert before > 500
    assert await problems(demo, case("11") / "payments.csv", full=("payments",)) == [
        "payments.csv:1: (file): : the file is empty: no header row, no data"
    ]
    assert await count(demo, Payment) == before


async def test_12_two_columns_meaning_the_same_field_are_refused(demo: SessionPool) -> None:
    assert await problems(demo, case("12") / "payments.csv") == [
        "payments.csv:1: amount: Сумма | Сумма: header columns 4 and 5 both mean amount: keep one of them"
    ]


async def test_13_a_date_with_garbage_after_it_is_refused(demo: SessionPool) -> None:
    assert await problems(demo, case("13") / "payments.csv") == [
        "payments.csv:2: date: 05.09.2018 25:99 что-то: not a time after the date "
        "(e.g. 23.02.2019 14:05 or 23.02.2019 14:05:00)"
    ]


async def test_14_a_period_is_read_by_its_pattern_and_year_12_is_refused(demo: SessionPool) -> None:
    # YYYY-MM is year 12, May, never December of year 5; a year outside 1900–2999 is refused
    assert await problems(demo, case("14") / "payments.csv") == [
        "payments.csv:2: period: 0012-05: the year is outside 1900–2999"
    ]


async def test_15_the_long_names_import_for_the_screens_to_fit_them(pool: SessionPool) -> None:
    folder = case("15")
    report = await run(pool, folder / "employees.csv", folder / "contracts.csv")
    assert (report.counts["employees"].added, report.counts["contracts"].added) == (2, 10)
    async with pool() as session:
        longest = max(len(e.name) for e in (await session.execute(select(Employee))).scalars())
    assert longest == 4008  # stored whole on both databases (TEXT): the screens must fit it (H6)


async def test_16_overlong_values_are_refused_alike_on_both_databases(demo: SessionPool, tmp_path: Path) -> None:
    # the case's 220-character name fits since names are TEXT (case 15); the kind, a value longer
    # than its column, is an id (64), a team (200) and a NUL byte
    report = await run(demo, case("16") / "employees.csv")
    assert report.counts["employees"].updated == 1
    bad = tmp_path / "employees.csv"
    bad.write_text(
        "Код;Сотрудник;Роль;Отдел\r\n" + "9" * 65 + ";Иван;Менеджер;A\r\n" + "m2;Пётр;Менеджер;" + "Т" * 201 + "\r\n"
        "m3;Ни\x00на;Менеджер;A\r\n",
        encoding="utf-8",
    )
    assert await problems(demo, bad) == [
        f"employees.csv:2: id: {'9' * 57}...: too long: 65 characters, at most 64",
        f"employees.csv:3: team: {'Т' * 57}...: too long: 201 characters, at most 200",
        "employees.csv:4: name: Ни\\x00на: contains a NUL character, which a database cannot store in text",
    ]


# --- realworld/01: a 1C report saved as XLSX -----------------------------------------------------------

REPORT = CASES / "realworld" / "01-xlsx-1c-report-title-and-totals"


async def test_realworld_01_a_1c_report_saved_as_xlsx_imports_its_three_payments(pool: SessionPool) -> None:
    await run(pool, REPORT / "base")
    report = await run(pool, REPORT / "Оплаты.xlsx")
    assert report.counts["payments"].added == 3
    assert report.notes == [
        "Оплаты.xlsx[TDSheet]: строки 1–3 над заголовком (строка 4) пропущены: "
        "Поступления оплат по договорам сопровождения",
        "Оплаты.xlsx[TDSheet]:8: totals row skipped: Итого 23000",
    ]
    async with pool() as session:
        payments = (await session.execute(select(Payment).order_by(Payment.id))).scalars().all()
    assert sum(p.amount for p in payments) == 23_000_00  # the report's own total
    assert [(p.id, p.contract_id, p.paid_on, p.period) for p in payments] == [
        ("ПП-101", "Д-1", date(2019, 2, 5), date(2019, 2, 1)),
        ("ПП-102", "Д-2", date(2019, 2, 7), None),
        ("ПП-103", "Д-3", date(2019, 2, 11), None),
    ]
    again = await run(pool, REPORT / "Оплаты-без-шапки.xlsx")  # the same rows, the title lines cut by hand
    assert again.counts["payments"].unchanged == 3


async def test_realworld_01_no_header_row_says_where_it_looked(pool: SessionPool, tmp_path: Path) -> None:
    await run(pool, REPORT / "base")
    from openpyxl import load_workbook

    book = load_workbook(REPORT / "Оплаты.xlsx")
    book.active["B4"] = "Счёт"  # the header no longer names contract_id
    book.save(tmp_path / "Оплаты.xlsx")
    assert await problems(pool, tmp_path / "Оплаты.xlsx") == [
        "Оплаты.xlsx[TDSheet]:4: contract_id: : required column is missing from the header"
    ]


def test_every_import_case_has_a_test() -> None:
    tested = {name.split("_")[1] for name in globals() if name.startswith("test_") and name[5:7].isdigit()}
    cases = {path.name.split("-")[0] for path in IMPORT.iterdir()}
    assert cases <= tested, cases - tested
