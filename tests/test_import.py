"""``kpibot import`` on real files and real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.demo import DEMO_TODAY
from bot.rules import DEFAULT_TIERS, Month
from db import queries
from db.importer import ImportFailed, import_paths
from db.models import Client, Contract, Employee, ImportRun, Payment, PbxCall
from db.session import SessionPool
from tests.factories import (
    CONTRACTS_HEADER,
    EMPLOYEES_HEADER,
    PAYMENTS_HEADER,
    small_exports,
    write_csv,
)

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2019, 2, 25, 4, 30)


async def run_import(pool: SessionPool, *paths: Path, full: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return await import_paths(pool, list(paths), zone=MSK, now=NOW, full=full)


async def count(pool: SessionPool, model: type) -> int:
    async with pool() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_demo_exports_import_and_reproduce_the_source_report(pool: SessionPool, demo_exports: Path) -> None:
    report = await run_import(pool, demo_exports)
    assert report.counts["employees"].added == 5
    async with pool() as session:
        figure = await queries.collection_of(session, "000000001", Month(2019, 2), DEMO_TODAY, DEFAULT_TIERS)
    assert figure.collection.base == 263_492_00
    assert figure.collection.paid == 238_539_00
    assert str(figure.collection.percent) == "90.53"
    assert figure.collection.coefficient == 0 + figure.collection.coefficient  # Decimal
    assert str(figure.collection.coefficient) == "0.2"


async def test_reimport_of_the_same_folder_reports_everything_unchanged(pool: SessionPool, demo_exports: Path) -> None:
    first = await run_import(pool, demo_exports)
    second = await run_import(pool, demo_exports)
    for entity, counts in second.counts.items():
        assert counts.added == counts.updated == counts.removed == 0, entity
        assert counts.unchanged == first.counts[entity].added, entity
    assert sorted(second.skipped) == sorted(first.files)  # byte-identical files are not read again


async def test_a_file_is_skipped_only_when_it_is_the_entitys_last_import_byte_for_byte(
    pool: SessionPool, tmp_path: Path
) -> None:
    base = small_exports(tmp_path / "a")
    await run_import(pool, base)
    payments = base / "payments.csv"
    assert (await run_import(pool, payments)).skipped == ["payments.csv"]
    other = write_csv(tmp_path / "b" / "payments.csv", PAYMENTS_HEADER, [["p1", "c1", "05.01.2019", "2 000,00", ""]])
    changed = await run_import(pool, other)  # another payments file changes p1
    assert changed.skipped == [] and changed.counts["payments"].updated == 1
    again = await run_import(pool, payments)  # the first file is no longer the last: read, p1 restored
    assert again.skipped == [] and again.counts["payments"].updated == 1
    assert (await run_import(pool, payments, full=("payments",))).skipped == []  # --full always reads


async def test_a_bad_row_imports_nothing_and_names_file_line_column_and_reason(
    pool: SessionPool, demo_exports: Path, tmp_path: Path
) -> None:
    await run_import(pool, small_exports(tmp_path / "good"))
    before = (await count(pool, Contract), await count(pool, Payment))
    bad = tmp_path / "bad"
    shutil.copytree(demo_exports, bad)
    with (bad / "payments.csv").open("a", encoding="cp1251", newline="") as handle:
        handle.write("ПП-X;Д-0001;31.02.2019 0:00:00;1 000,00;\r\n")
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, bad)
    lines = (bad / "payments.csv").read_text(encoding="cp1251").splitlines()
    assert failure.value.problems == [f"payments.csv:{len(lines)}: date: 31.02.2019 0:00:00: no such date"]
    assert (await count(pool, Contract), await count(pool, Payment)) == before
    assert await count(pool, ImportRun) == 1


async def test_every_problem_in_every_file_is_reported_at_once(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    write_csv(folder / "contracts.csv", CONTRACTS_HEADER, [
        ["c1", "1", "k1", "ООО", "m9", "01.01.2019", "", "abc", "", ""],
        ["c1", "2", "k1", "ООО", "m1", "01.13.2019", "0", "100", "", ""],
    ])  # fmt: skip
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [["p1", "c7", "05.01.2019", "0", ""]])
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, folder)
    assert failure.value.problems == [
        "contracts.csv:2: monthly_fee: abc: not an amount of money (e.g. 2 818,50)",
        "contracts.csv:2: manager_id: m9: unknown manager",
        "contracts.csv:3: start: 01.13.2019: no such date",
        "contracts.csv:3: months: 0: must be at least 1",
        "contracts.csv:3: id: c1: duplicate id: this id appears earlier in the import",
        "payments.csv:2: contract_id: c7: unknown contract",
        "payments.csv:2: amount: 0: a payment of zero (a refund is a negative amount)",
    ]
    assert await count(pool, Employee) == 0


async def test_missing_required_column_is_reported_on_the_header_line(pool: SessionPool, tmp_path: Path) -> None:
    write_csv(tmp_path / "employees.csv", ["id", "name"], [["m1", "Иван"]])
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, tmp_path)
    assert failure.value.problems == ["employees.csv:1: role: : required column is missing from the header"]


async def test_unknown_file_name_is_refused_before_anything_is_read(pool: SessionPool, tmp_path: Path) -> None:
    write_csv(tmp_path / "отчёт.csv", ["a"], [["1"]])
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, tmp_path)
    assert failure.value.problems[0].startswith("отчёт.csv: cannot tell what the file holds")


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("cp1251", ";"), ("utf-8-sig", ";"), ("utf-8", ","), ("utf-8", "\t"), ("cp1251", "\t")],
)
async def test_csv_in_every_encoding_and_delimiter_1c_writes(
    pool: SessionPool, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    write_csv(tmp_path / "Сотрудники.csv", ["Код", "Сотрудник", "Роль", "Отдел", "Внутренний номер"],
              [["7", "Ёлкина Алёна", "Менеджер", "Отдел продаж, сопровождение", "107"]],
              encoding=encoding, delimiter=delimiter)  # fmt: skip
    write_csv(tmp_path / "Договоры.csv",
              ["Код", "Номер договора", "Код контрагента", "Контрагент", "Код менеджера", "Дата начала",
               "Срок (мес.)", "Сумма в месяц", "Наименование", "Дата закрытия"],
              [["Д1", "РС-1", "К1", 'ООО "Кавычки; и точка с запятой"', "7", "01.02.2019 0:00:00", "",
                "1\u00a0234\u00a0567,89", "ИТС ПРОФ", ""]],
              encoding=encoding, delimiter=delimiter)  # fmt: skip
    await run_import(pool, tmp_path)
    async with pool() as session:
        employee = await session.get(Employee, "7")
        contract = await session.get(Contract, "Д1")
        client = await session.get(Client, "К1")
    assert employee is not None and employee.name == "Ёлкина Алёна" and employee.role == "manager"
    assert employee.team == "Отдел продаж, сопровождение"
    assert contract is not None and contract.monthly_fee == 123456789 and contract.start == date(2019, 2, 1)
    assert client is not None and client.name == 'ООО "Кавычки; и точка с запятой"'


async def test_xlsx_with_one_sheet_per_entity(pool: SessionPool, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "employees"
    sheet.append(EMPLOYEES_HEADER)
    sheet.append(["m1", "Аракелян Наринэ", "manager", "A", 101, None, True])
    contracts = book.create_sheet("contracts")
    contracts.append(CONTRACTS_HEADER)
    contracts.append(["c1", "РС-1", 15, "ООО «Ромашка»", "m1", datetime(2019, 1, 1), 12, 2818.5, "ИТС", None])
    payments = book.create_sheet("payments")
    payments.append(PAYMENTS_HEADER)
    payments.append([1001, "c1", datetime(2019, 1, 9), 2818.5, "2019-01"])
    book.create_sheet("Notes").append(["anything"])
    book.save(tmp_path / "export.xlsx")
    report = await run_import(pool, tmp_path / "export.xlsx")
    assert {e: c.added for e, c in report.counts.items()} == {"employees": 1, "contracts": 1, "payments": 1}
    async with pool() as session:
        contract = await session.get(Contract, "c1")
        payment = await session.get(Payment, "1001")
    assert contract is not None and contract.monthly_fee == 281850 and contract.client_id == "15"
    assert payment is not None and payment.period == date(2019, 1, 1) and payment.amount == 281850


async def test_xlsx_bad_cell_is_reported_with_sheet_and_row(pool: SessionPool, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Сотрудники"
    sheet.append(EMPLOYEES_HEADER)
    sheet.append(["m1", "Иван", "директор", "", None, None, None])
    book.save(tmp_path / "staff.xlsx")
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, tmp_path / "staff.xlsx")
    assert failure.value.problems == [
        "staff.xlsx[Сотрудники]:2: role: директор: must be one of: admin (администратор, админ), manager (менеджер), "
        "supervisor (руководитель, руководитель отдела, руководитель группы, супервайзер)"
    ]


async def test_full_removes_rows_absent_from_the_files(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path / "a")
    await run_import(pool, folder)
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [["p1", "c1", "05.01.2019", "2 818,50", ""]])
    partial = await run_import(pool, folder)
    assert partial.counts["payments"].removed == 0 and await count(pool, Payment) == 3
    full = await run_import(pool, folder, full=("payments",))
    assert full.counts["payments"].removed == 2
    assert full.counts["payments"].unchanged == 1
    assert await count(pool, Payment) == 1


async def test_full_refuses_to_remove_rows_still_referenced(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path / "a")
    await run_import(pool, folder)
    write_csv(folder / "contracts.csv", CONTRACTS_HEADER,
              [["c1", "РС-1", "k1", "ООО «Ромашка»", "m1", "01.01.2019", "", "2 818,50", "ИТС", ""]])  # fmt: skip
    (folder / "payments.csv").unlink()
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, folder, full=("contracts",))
    assert "still referenced" in failure.value.problems[0]
    assert await count(pool, Contract) == 3


async def test_full_without_that_entitys_file_is_refused(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    (folder / "payments.csv").unlink()
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, folder, full=("payments",))
    assert failure.value.problems == [
        "--full payments: no payments file among the given paths, refusing to remove every row"
    ]


async def test_import_never_unlinks_a_telegram_account_linked_by_invitation(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    await run_import(pool, folder)
    async with pool() as session, session.begin():
        employee = await session.get(Employee, "m1")
        assert employee is not None
        employee.telegram_id = 555
    report = await run_import(pool, folder)
    assert report.counts["employees"].unchanged == 4
    async with pool() as session:
        employee = await session.get(Employee, "m1")
    assert employee is not None and employee.telegram_id == 555


async def test_one_telegram_account_cannot_belong_to_two_employees(pool: SessionPool, tmp_path: Path) -> None:
    write_csv(tmp_path / "employees.csv", EMPLOYEES_HEADER, [
        ["m1", "Один", "manager", "A", "", "777", ""],
        ["m2", "Два", "manager", "A", "", "777", ""],
    ])  # fmt: skip
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, tmp_path)
    assert failure.value.problems == ["employees.csv:3: telegram_id: 777: already belongs to employee m1"]


async def test_changed_rows_are_updated_and_counted(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    await run_import(pool, folder)
    write_csv(folder / "contracts.csv", CONTRACTS_HEADER, [
        ["c1", "РС-1", "k1", "ООО «Ромашка»", "m1", "01.01.2019", "", "3 000,00", "ИТС", "20.02.2019"],
        ["c2", "РС-2", "k2", "ИП Смирнов", "m1", "2019-01-01", "12", "3000", "ИТС", ""],
        ["c3", "РС-3", "k3", "АО «Вектор»", "m2", "01.01.2019", "", "1500.00", "ИТС", ""],
        ["c4", "РС-4", "k3", "АО «Вектор»", "m2", "01.02.2019", "", "900", "ИТС", ""],
    ])  # fmt: skip
    report = await run_import(pool, folder / "contracts.csv")
    counts = report.counts["contracts"]
    assert (counts.added, counts.updated, counts.unchanged) == (1, 1, 2)
    async with pool() as session:
        contract = await session.get(Contract, "c1")
    assert contract is not None and contract.monthly_fee == 300000 and contract.closed_on == date(2019, 2, 20)


# --- Asterisk Master.csv --------------------------------------------------------------------------------

CDR_16 = ['', '+79161234567', '101', 'from-trunk', '"Иван" <+79161234567>', 'SIP/trunk-00000001',
          'SIP/101-00000002', 'Dial', 'SIP/101,30', '2019-02-22 10:00:00', '2019-02-22 10:00:05',
          '2019-02-22 10:00:08', '8', '3', 'ANSWERED', 'DOCUMENTATION']  # fmt: skip
CDR_MISSED = ['', '+79161234567', '102', 'from-trunk', '', 'SIP/trunk-00000003', 'SIP/102-00000004', 'Dial',
              'SIP/102,30', '2019-02-22 11:00:00', '', '2019-02-22 11:00:30', '30', '0', 'NO ANSWER',
              'DOCUMENTATION']  # fmt: skip
CDR_OUT = ['', '101', '84951234567', 'from-internal', '"Аракелян" <101>', 'SIP/101-00000005', 'SIP/trunk-6',
           'Dial', 'SIP/trunk/84951234567', '2019-02-22 12:00:00', '2019-02-22 12:00:10', '2019-02-22 12:05:10',
           '310', '300', 'ANSWERED', 'DOCUMENTATION']  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "extra"),
    [
        (16, []),
        (18, ["1550829600.1", "userfield"]),
        (21, ["1550829600.1", "", "", "1550829600.0", "3"]),
    ],
)
async def test_asterisk_master_csv_in_its_shapes(
    pool: SessionPool, tmp_path: Path, shape: int, extra: list[str]
) -> None:
    await run_import(pool, small_exports(tmp_path / "base"))
    rows = [CDR_16 + extra, CDR_MISSED + [e.replace(".1", ".2") for e in extra],
            CDR_OUT + [e.replace(".1", ".3") for e in extra]]  # fmt: skip
    assert all(len(r) == shape for r in rows)
    write_csv(tmp_path / "pbx" / "Master.csv", None, rows, delimiter=",", quoting=1)  # QUOTE_ALL, as Asterisk
    report = await run_import(pool, tmp_path / "pbx")
    assert report.counts["pbx"].added == 3
    async with pool() as session:
        calls = {c.dst: c for c in (await session.execute(select(PbxCall))).scalars()}
    incoming = calls["101"]
    assert (incoming.direction, incoming.employee_id, incoming.billsec) == ("in", "m1", 3)
    assert incoming.answered_at == datetime(2019, 2, 22, 10, 0, 5)
    missed = calls["102"]
    assert (missed.direction, missed.employee_id, missed.disposition) == ("in", "m2", "NO ANSWER")
    assert missed.answered_at is None
    outgoing = calls["84951234567"]
    assert (outgoing.direction, outgoing.employee_id, outgoing.billsec) == ("out", "m1", 300)
    again = await run_import(pool, tmp_path / "pbx")
    assert again.counts["pbx"].unchanged == 3


async def test_broken_master_csv_record_is_reported(pool: SessionPool, tmp_path: Path) -> None:
    bad = CDR_16[:]
    bad[13] = "три"
    write_csv(tmp_path / "Master.csv", None, [CDR_16, bad[:10]], delimiter=",", quoting=1)
    with pytest.raises(ImportFailed) as failure:
        await run_import(pool, tmp_path / "Master.csv")
    assert failure.value.problems == ["Master.csv:2: (record): 10 fields: not an Asterisk CDR record (16 to 21 fields)"]
