"""The kinds the shared cases are examples of: files as 1C and Excel save them, and bad input refused
in one line each with nothing written. Real files on SQLite and PostgreSQL."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot import texts
from db.models import Client, Contract, Document, Employee, Payment
from db.session import SessionPool
from tests.factories import CONTRACTS_HEADER, DOCUMENTS_HEADER, PAYMENTS_HEADER, small_exports, write_csv
from tests.importing import count, problems, run
from tests.test_cli import kpibot


@pytest.fixture
async def base(pool: SessionPool, tmp_path: Path) -> SessionPool:
    await run(pool, small_exports(tmp_path / "base"))
    return pool


# --- encodings -----------------------------------------------------------------------------------------

RUSSIAN_PAYMENTS = "Номер;Код договора;Дата;Сумма;Период\r\nПП-1;c1;05.02.2019;1 000,00;Февраль 2019 г.\r\n"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8", RUSSIAN_PAYMENTS),
        ("utf-8-sig", RUSSIAN_PAYMENTS),
        ("cp1251", RUSSIAN_PAYMENTS),
        ("utf-16", RUSSIAN_PAYMENTS.replace(";", "\t")),  # Excel's "Unicode text": UTF-16 LE, BOM, tabs
        ("utf-16-le", RUSSIAN_PAYMENTS.replace(";", "\t")),  # the same without the byte-order mark
        ("utf-16-be", RUSSIAN_PAYMENTS),
        ("koi8_r", RUSSIAN_PAYMENTS),
        ("mac_cyrillic", RUSSIAN_PAYMENTS),
    ],
)
async def test_every_encoding_russian_offices_save_in_is_read(
    base: SessionPool, tmp_path: Path, encoding: str, text: str
) -> None:
    path = tmp_path / "Оплаты.csv"
    path.write_bytes(text.encode(encoding))
    report = await run(base, path)
    assert report.counts["payments"].added == 1
    async with base() as session:
        payment = await session.get(Payment, "ПП-1")
    assert payment is not None and (payment.amount, payment.period) == (100000, date(2019, 2, 1))


async def test_an_unreadable_encoding_is_one_line_showing_the_header_read(base: SessionPool, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    # ISO 8859-5, a Cyrillic code page no Russian office software writes: read as something else
    path.write_bytes("Номер;Код договора;Дата;Сумма\r\nПП-1;c1;05.02.2019;1 000,00\r\n".encode("iso8859_5"))
    lines = await problems(base, path)
    assert len(lines) == 1
    assert "no header row found in lines 1–2: none names id (Код), contract_id (Код договора)" in lines[0]
    assert "the file was read as" in lines[0] and "save it from Excel or 1C as UTF-8 or Windows-1251" in lines[0]


async def test_a_utf8_file_with_one_line_in_windows_1251_names_that_line(base: SessionPool, tmp_path: Path) -> None:
    """A UTF-8 export with a line pasted in from a Windows-1251 file: the file is UTF-8 (its Russian
    header read as such) and the problem is that line, not line 2 read as mojibake in cp1251."""
    path = tmp_path / "payments.csv"
    rows = [f"ПП-{n};c1;05.02.2019;1 000,00;Февраль 2019 г.\r\n".encode() for n in range(1, 5)]
    rows[2] = "ПП-3;c1;05.02.2019;1 000,00;Февраль 2019 г.\r\n".encode("cp1251")
    path.write_bytes(RUSSIAN_PAYMENTS.split("\r\n")[0].encode() + b"\r\n" + b"".join(rows))
    [line] = await problems(base, path)
    assert line.startswith("payments.csv:4: (file): ") and line.endswith(": not valid UTF-8 text (byte 0xCF)")


async def test_a_utf16_file_with_a_broken_surrogate_names_its_line(base: SessionPool, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    good = "id\tcontract_id\tdate\tamount\r\np1\tc1\t05.01.2019\t1\r\n".encode("utf-16")
    path.write_bytes(good + "p9\tc1\t05.01.2019\t".encode("utf-16-le") + b"\x00\xd8" + "\r\n".encode("utf-16-le"))
    [line] = await problems(base, path)
    assert line.startswith("payments.csv:3: (file): : not valid UTF-16 text")


# --- XLSX as Excel and 1C save it ----------------------------------------------------------------------


def report_book(path: Path, rows: list[list[object]], sheet: str = "TDSheet") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def as_excel_writes(path: Path, numbers: dict[str, str]) -> Path:
    """Put numbers into the sheet XML as Excel writes them (17 significant digits:
    ``124599.99999999999``), where openpyxl would round them to 16; ``numbers`` maps a placeholder
    number written with openpyxl to the digits Excel would store."""
    with zipfile.ZipFile(path) as archive:
        parts = {info: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts.items():
            if info.filename.startswith("xl/worksheets/"):
                for placeholder, digits in numbers.items():
                    data = data.replace(f"<v>{placeholder}</v>".encode(), f"<v>{digits}</v>".encode())
            archive.writestr(info, data)
    return path


async def test_binary_float_amounts_round_to_kopecks_and_a_third_decimal_is_refused(
    base: SessionPool, tmp_path: Path
) -> None:
    good = report_book(tmp_path / "Оплаты.xlsx", [
        ["Номер", "Код договора", "Дата", "Сумма"],
        ["x1", "c1", datetime(2019, 2, 5), 111.25],
        ["x2", "c2", datetime(2019, 2, 5), 222.25],
        ["x3", "c3", 43501, 333.25],  # a bare number in a date column: Excel's serial, 05.02.2019
    ])  # fmt: skip
    as_excel_writes(good, {"111.25": "124599.99999999999", "222.25": "500.00000000000006",
                           "333.25": "0.30000000000000004"})  # fmt: skip
    await run(base, good)
    async with base() as session:
        paid = {p.id: (p.amount, p.paid_on) for p in (await session.execute(select(Payment))).scalars()}
    assert paid["x1"] == (124_600_00, date(2019, 2, 5))
    assert paid["x2"] == (500_00, date(2019, 2, 5))
    assert paid["x3"] == (30, date(2019, 2, 5))
    bad = report_book(tmp_path / "b" / "Оплаты.xlsx", [["Номер", "Код договора", "Дата", "Сумма"],
                                                      ["x4", "c1", datetime(2019, 2, 5), 10.005]])  # fmt: skip
    assert await problems(base, bad) == [
        "Оплаты.xlsx[TDSheet]:2: amount: 10.005: more than two digits after the decimal separator"
    ]


async def test_totals_rows_anywhere_and_trailing_empty_rows_are_skipped(base: SessionPool, tmp_path: Path) -> None:
    book = report_book(tmp_path / "Платежи.xlsx", [
        ["Отчёт"], [],
        ["Номер", "Код договора", "Дата", "Сумма"],
        ["x1", "c1", "05.02.2019", 100],
        ["Итого по договору c1", None, None, 100],
        ["x2", "c2", "05.02.2019", 50],
        [None, "Всего", None, 150],
        [None, None, None, None], [None, None, None, None],
    ])  # fmt: skip
    report = await run(base, book)
    assert report.counts["payments"].added == 2
    assert report.notes[1:] == [
        "Платежи.xlsx[TDSheet]:5: totals row skipped: Итого по договору c1 100",
        "Платежи.xlsx[TDSheet]:7: totals row skipped: Всего 150",
    ]


async def test_a_broken_zip_crc_is_not_a_readable_workbook_or_sheet(base: SessionPool, tmp_path: Path) -> None:
    book = report_book(tmp_path / "src.xlsx", [["id", "contract_id", "date", "amount"]] + [
        [f"x{i}", "c1", "05.02.2019", i + 1] for i in range(200)
    ], sheet="payments")  # fmt: skip
    data = bytearray(book.read_bytes())
    with zipfile.ZipFile(book) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    data[start] ^= 0xFF
    broken = tmp_path / "book.xlsx"
    broken.write_bytes(bytes(data))
    before = await count(base, Payment)
    [line] = await problems(base, broken)
    assert line.startswith("book.xlsx") and "not a readable XLSX" in line
    assert await count(base, Payment) == before


# --- refunds, periods, flags ---------------------------------------------------------------------------


async def test_a_refund_is_a_negative_payment_and_zero_is_refused(base: SessionPool, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", PAYMENTS_HEADER, [
        ["r1", "c1", "06.02.2019", "-1 500,00", "январь 2019"],
        ["r2", "c1", "07.02.2019", "−200", ""],
    ])  # fmt: skip
    await run(base, path)
    async with base() as session:
        refunds = {p.id: (p.amount, p.period) for p in (await session.execute(select(Payment))).scalars()}
    assert refunds["r1"] == (-150000, date(2019, 1, 1)) and refunds["r2"] == (-20000, None)
    zero = write_csv(tmp_path / "z" / "payments.csv", PAYMENTS_HEADER, [["r3", "c1", "06.02.2019", "0,00", ""]])
    assert await problems(base, zero) == [
        "payments.csv:2: amount: 0,00: a payment of zero (a refund is a negative amount)"
    ]


async def test_contract_fees_stay_non_negative(base: SessionPool, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "contracts.csv", CONTRACTS_HEADER,
                     [["c9", "", "k1", "ООО", "m1", "01.01.2019", "", "-10", "", ""]])  # fmt: skip
    assert await problems(base, path) == ["contracts.csv:2: monthly_fee: -10: must not be negative"]


# --- headers --------------------------------------------------------------------------------------------


async def test_two_spellings_of_one_column_are_ambiguous(base: SessionPool, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", ["Код", "Идентификатор", "Код договора", "Дата", "Сумма"],
                     [["p7", "p8", "c1", "05.02.2019", "1"]])  # fmt: skip
    assert await problems(base, path) == [
        "payments.csv:1: id: Код | Идентификатор: header columns 1 and 2 both mean id: keep one of them"
    ]


async def test_more_values_than_header_columns_is_refused(base: SessionPool, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_text("id;contract_id;date;amount\r\np7;c1;05.02.2019;1 000;50\r\n", encoding="utf-8")
    assert await problems(base, path) == [
        "payments.csv:2: (record): 5 values: more values than the header's 4 columns "
        "(a separator inside an unquoted value?)"
    ]


async def test_a_quote_closed_rows_later_is_refused(base: SessionPool, tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_text('id;contract_id;date;amount\r\np7;c1;"05.02.2019;1\r\np8;c1;05.02.2019;1\r\np9;c1;05.02.2019";1\r\n',
                    encoding="utf-8")  # fmt: skip
    [line] = await problems(base, path)
    assert line.startswith("payments.csv:2: (file): : unbalanced quote")


# --- what is written ------------------------------------------------------------------------------------


async def test_a_missing_optional_column_leaves_the_field_as_it_is(base: SessionPool, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "contracts.csv", ["id", "client_id", "client", "manager_id", "start", "monthly_fee"],
                     [["c1", "k1", "ООО «Ромашка»", "m1", "01.01.2019", "3 000,00"]])  # fmt: skip
    report = await run(base, path)
    assert report.counts["contracts"].updated == 1
    async with base() as session:
        contract = await session.get(Contract, "c1")
    assert contract is not None and (contract.title, contract.number, contract.monthly_fee) == ("ИТС", "РС-1", 300000)


async def test_documents_without_original_columns_keep_what_is_known(base: SessionPool, tmp_path: Path) -> None:
    write_csv(tmp_path / "a" / "documents.csv", DOCUMENTS_HEADER,
              [["d1", "Акт", "1", "01.02.2019", "k1", "", "m1", "100", "да", "05.02.2019"]])  # fmt: skip
    await run(base, tmp_path / "a")
    write_csv(tmp_path / "b" / "documents.csv", ["id", "date", "manager_id", "amount"],
              [["d1", "01.02.2019", "m1", "120"]])  # fmt: skip
    await run(base, tmp_path / "b")
    async with base() as session:
        document = await session.get(Document, "d1")
    assert document is not None
    assert (document.amount, document.original_received, document.received_on, document.kind) == (
        12000,
        True,
        date(2019, 2, 5),
        "Акт",
    )


async def test_full_with_a_header_only_file_removes_nothing(base: SessionPool, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "payments.csv", PAYMENTS_HEADER, [])
    before = await count(base, Payment)
    assert await problems(base, path, full=("payments",)) == [
        "payments.csv:1: (file): : no data rows: --full payments refuses to remove every row on the strength of "
        "an empty file"
    ]
    assert await count(base, Payment) == before
    assert (await run(base, path)).counts["payments"].added == 0  # without --full it is just nothing to add


async def test_employees_file_without_active_keeps_inactive_employees_inactive(
    base: SessionPool, tmp_path: Path
) -> None:
    async with base() as session, session.begin():
        employee = await session.get(Employee, "m2")
        assert employee is not None
        employee.active = False
    write_csv(tmp_path / "employees.csv", ["Код", "ФИО", "Роль"], [["m2", "Петров Пётр", "Менеджер"]])
    await run(base, tmp_path / "employees.csv")
    async with base() as session:
        employee = await session.get(Employee, "m2")
        client = await session.get(Client, "k1")
    assert employee is not None and employee.active is False and employee.team == "B"
    assert client is not None


# --- the command line -----------------------------------------------------------------------------------


def test_full_goes_before_or_after_the_paths(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    folder = small_exports(tmp_path / "exports")
    assert kpibot("import", str(folder), cwd=tmp_path, env=env).returncode == 0
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [["p1", "c1", "05.01.2019", "2 818,50", ""]])
    before = kpibot("import", "--full", "payments", str(folder / "payments.csv"), cwd=tmp_path, env=env)
    assert before.returncode == 0, before.stderr
    assert "оплаты" in before.stdout and " 2\n" in before.stdout  # two payments removed
    after = kpibot("import", str(folder), "--full", "payments", "contracts", cwd=tmp_path, env=env)
    assert after.returncode == 0, after.stderr
    typo = kpibot("import", "--full", "payment", str(folder), cwd=tmp_path, env=env)
    assert typo.returncode == 2 and "«payment» — не вид данных" in typo.stderr


def test_the_command_prints_notes_and_problems_one_line_each(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    folder = small_exports(tmp_path / "exports")
    assert kpibot("import", str(folder), cwd=tmp_path, env=env).returncode == 0
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "payments.csv").write_bytes(b'id;contract_id;date;amount\r\np9;c1;"05.02.2019\n\x00x";1\r\n')
    result = kpibot("import", str(tmp_path / "bad"), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "payments.csv:2: date: 05.02.2019\\n\\x00x: not a date (e.g. 23.02.2019 or 2019-02-23)",
        f"kpibot: {texts.cli_problems_found(1)}",
    ]


async def test_an_empty_sheet_is_refused_as_empty(base: SessionPool, tmp_path: Path) -> None:
    book = report_book(tmp_path / "export.xlsx", [], sheet="payments")
    assert await problems(base, book) == [
        "export.xlsx[payments]:1: (file): : the sheet is empty: no header row, no data"
    ]


def test_the_command_prints_what_it_skipped_as_notes(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    folder = small_exports(tmp_path / "exports")
    assert (
        kpibot("import", str(folder / "employees.csv"), str(folder / "contracts.csv"), cwd=tmp_path, env=env).returncode
        == 0
    )
    book = report_book(tmp_path / "Оплаты.xlsx", [
        ["Поступления оплат"], ["Номер", "Код договора", "Дата", "Сумма"], ["x1", "c1", "05.02.2019", 100],
        ["Итого", None, None, 100],
    ])  # fmt: skip
    result = kpibot("import", str(book), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        texts.cli_note("Оплаты.xlsx[TDSheet]: строка 1 над заголовком (строка 2) пропущена: Поступления оплат"),
        texts.cli_note("Оплаты.xlsx[TDSheet]:4: totals row skipped: Итого 100"),
    ]


def test_a_file_that_cannot_be_read_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from db.importer.sources import discover

    locked = write_csv(tmp_path / "payments.csv", PAYMENTS_HEADER, [])
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refuse)
    assert discover([tmp_path]) == ([], ["payments.csv: cannot read the file (Permission denied)"])


def test_a_database_that_refuses_writes_is_one_line_without_sql(tmp_path: Path) -> None:
    folder = small_exports(tmp_path / "exports")
    db = tmp_path / "k.db"
    assert kpibot("import", str(folder / "employees.csv"), cwd=tmp_path,
                  env={"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}).returncode == 0  # fmt: skip
    read_only = {"DATABASE_URL": f"sqlite+aiosqlite:///file:{db}?mode=ro&uri=true"}
    result = kpibot("import", str(folder / "contracts.csv"), cwd=tmp_path, env=read_only)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"kpibot: {texts.cli_database_stopped('загрузку', 'attempt to write a readonly database')}"
    ]
