"""The 1C report "Расчёт оплат", the month-end table and the debtors export as XLSX, opened with openpyxl
the way Excel would read them; their numbers against the digest's, on the demo data in a real database."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from bot import texts, workbooks
from bot.app import create_bot
from bot.rules import DEFAULT_TIERS, Collection, ContractTerms, Month, PaymentRecord, collection_for
from db import queries
from db.models import Employee, KpiSnapshot, OutboxMessage
from jobs.digests import build_digest
from jobs.month_end import month_end_statement
from jobs.morning import enqueue_digests
from jobs.outbox import Pacer, Sender, enqueue
from tests.telegram import RecordingSession, files_of
from tests.world import ADMIN, ARAKELYAN, IVANOV, MSK, SMIRNOVA, SUPERVISOR, World

TODAY = date(2019, 2, 25)
FEBRUARY = Month(2019, 2)
HEADER_ROW = 4


@dataclass
class Row:
    number: int
    values: list[Any]
    outline: int
    bold: bool
    formats: list[str]


def read_rows(content: bytes) -> list[Row]:
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    return [
        Row(cells[0].row, [c.value for c in cells], sheet.row_dimensions[cells[0].row].outline_level,
            bool(cells[0].font.bold), [c.number_format for c in cells])
        for cells in sheet.iter_rows(min_row=HEADER_ROW + 1, max_col=4)
    ]  # fmt: skip


def blocks(rows: list[Row]) -> dict[str, list[Row]]:
    """Each manager row's label → the contract rows under it (the total row left out)."""
    found: dict[str, list[Row]] = {}
    current: list[Row] = []
    for row in rows[:-1]:
        if row.outline == 0:
            current = found.setdefault(row.values[0], [])
        else:
            current.append(row)
    return found


async def report_bytes(world: World, viewer_id: str, month: Month = FEBRUARY, today: date = TODAY) -> bytes:
    from handlers.report import report_file, scope_title

    async with world.pool() as session:
        viewer = await queries.get_employee(session, viewer_id)
        assert viewer is not None
        managers = await queries.managers_in_scope(session, viewer)
        file = await report_file(session, managers, scope_title(viewer), month, today, world.settings)
    return file.content


# --- the report's layout ------------------------------------------------------------------------------------


async def test_arakelyan_row_reads_the_source_numbers_with_each_contract_under_it(world: World) -> None:
    content = await report_bytes(world, ADMIN)
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    assert sheet["A1"].value == "Расчёт оплат за регулярное сопровождение" and sheet["A1"].font.bold
    assert sheet["A2"].value == "Февраль 2019. На дату 25.02.2019"
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:D1", "A2:D2"}  # the title spans the table, as in 1C
    assert [c.value for c in sheet[HEADER_ROW]] == list(workbooks.REPORT_HEADER)
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"  # the title and the header stay on screen
    assert sheet.sheet_properties.outlinePr.summaryBelow is False  # the manager row heads its group
    rows = read_rows(content)
    (manager,) = [r for r in rows if str(r.values[0]).startswith("Аракелян")]
    assert manager.values == ["Аракелян Наринэ 90,53 %", None, 263492, 238539]
    assert manager.bold and manager.outline == 0
    assert all(type(v) is int for v in manager.values[2:])  # numbers Excel sums, not text
    assert manager.formats[2:] == ["#,##0", "#,##0"]
    contracts = blocks(rows)["Аракелян Наринэ 90,53 %"]
    async with world.pool() as session:
        figure = await queries.collection_of(session, ARAKELYAN, FEBRUARY, TODAY, world.settings.kpi_tiers)
    expected = {figure.contracts[p.contract_id].client: p for p in figure.positions if p.base or p.paid}
    assert len(contracts) == len(expected) > 10
    for row in contracts:
        assert row.outline == 1 and not row.bold
        label = row.values[0]
        assert label.startswith("+ ") and label.endswith("(01.09.2018, бессрочно)")
        client = label.removeprefix("+ ").removesuffix(" (01.09.2018, бессрочно)")
        position = expected[client]
        assert row.values[1:] == [figure.contracts[position.contract_id].monthly_fee // 100, position.base // 100,
                                  position.paid // 100]  # fmt: skip
    assert sum(r.values[2] for r in contracts) == 263492
    assert sum(r.values[3] for r in contracts) == 238539


async def test_totals_equal_the_sums_and_the_digests_numbers(world: World) -> None:
    rows = read_rows(await report_bytes(world, ADMIN))
    managers = [r for r in rows[:-1] if r.outline == 0]
    total = rows[-1]
    labels = ["Аракелян Наринэ 90,53 %", "Иванов Пётр 79,37 %", "Смирнова Ольга 67,53 %"]
    assert [m.values[0] for m in managers] == labels
    assert total.values[2] == sum(m.values[2] for m in managers) == 454292
    assert total.values[3] == sum(m.values[3] for m in managers) == 381739
    assert total.values[0] == "Итого 84,03 %" and total.bold
    async with world.pool() as session:  # the same numbers as `kpibot digest` prints
        for employee_id, row in zip((ARAKELYAN, IVANOV, SMIRNOVA), managers, strict=True):
            employee = await queries.get_employee(session, employee_id)
            assert employee is not None
            digest = texts.html_to_plain((await build_digest(session, employee, TODAY, world.settings)).text)
            percent = row.values[0].split(" ", 2)[2]
            assert f"Сбор за февраль 2019: {percent}" in digest
            assert f"База {texts.money(row.values[2] * 100)} · оплачено {texts.money(row.values[3] * 100)}" in digest
        admin = await queries.get_employee(session, ADMIN)
        assert admin is not None
        team = texts.html_to_plain((await build_digest(session, admin, TODAY, world.settings)).text)
    assert "Все команды: Сбор за февраль 2019: 84,03 %" in team


async def test_a_managers_report_carries_no_other_managers_row(world: World) -> None:
    rows = read_rows(await report_bytes(world, ARAKELYAN))
    assert [r.values[0] for r in rows if r.outline == 0] == ["Аракелян Наринэ 90,53 %", "Итого 90,53 %"]
    async with world.pool() as session:
        others = {c.client for c in await queries.contracts_of(session, [IVANOV, SMIRNOVA])}
        own = {c.client for c in await queries.contracts_of(session, [ARAKELYAN])}
    labels = " ".join(str(r.values[0]) for r in rows)
    assert not [client for client in others - own if f"+ {client} (" in labels]


async def test_a_finished_month_is_read_from_its_frozen_snapshot(world: World) -> None:
    async with world.pool() as session, session.begin():  # frozen with other numbers than today's data
        session.add(KpiSnapshot(manager_id=ARAKELYAN, month="2019-01", base=10_000_00, paid=8_000_00,
                                percent=Decimal("80.00"), coefficient=Decimal("0.1"),
                                frozen_at=datetime(2019, 2, 1, 6)))  # fmt: skip
    rows = read_rows(await report_bytes(world, ARAKELYAN, Month(2019, 1)))
    assert rows[0].values == ["Аракелян Наринэ 80,00 %", None, 10000, 8000]
    sheet = load_workbook(BytesIO(await report_bytes(world, ARAKELYAN, Month(2019, 1)))).active
    assert sheet is not None
    assert sheet.cell(HEADER_ROW + 1, 5).value == "зафиксировано 01.02.2019"
    assert rows[-1].values == ["Итого 80,00 %", None, 10000, 8000]


def contract(client: str, fee: int, base: int, paid: int, months: int | None = 12) -> queries.ReportContract:
    return queries.ReportContract("c-" + client, client, date(2018, 10, 1), months, fee, base, paid)


def manager_of(name: str, lines: list[queries.ReportContract], percent: str | None) -> queries.ReportManager:
    base, paid = sum(c.base for c in lines), sum(c.paid for c in lines)
    value = Decimal(percent) if percent is not None else None
    collection = Collection(FEBRUARY, base, paid, 0, 0, 0, value, Decimal("0"), None)
    return queries.ReportManager("m-" + name, name, "A", collection, lines, None)


def test_terms_kopecks_and_company_name_as_1c_prints_them() -> None:
    lines = [contract("ООО «Ромашка»", 2_818_50, 2_818_50, 1_000_00), contract("ИП Смирнов", 1_234_567_00, 0, 0, None)]
    manager = manager_of("Петров Пётр", lines, "35.48")
    content = workbooks.collection_report("ООО «Софт»", FEBRUARY, TODAY, [manager], manager.collection)
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    assert sheet["A1"].value == "ООО «Софт»: расчёт оплат за регулярное сопровождение"
    first, second = read_rows(content)[1:3]
    assert first.values == ["+ ООО «Ромашка» (01.10.2018, 12 мес.)", 2818.5, 2818.5, 1000]
    assert first.formats[1:] == ["#,##0.00", "#,##0.00", "#,##0"]  # kopecks are never hidden
    assert second.values[0] == "+ ИП Смирнов (01.10.2018, бессрочно)" and second.values[1] == 1234567
    width = sheet.column_dimensions["A"].width
    assert width is not None and width >= len(first.values[0])  # the widest label fits


@given(st.lists(st.integers(min_value=0, max_value=10**11), min_size=1, max_size=20))
def test_amounts_are_exact_roubles_for_any_kopecks(amounts: list[int]) -> None:
    for kopecks in amounts:
        value = workbooks.roubles(kopecks)
        assert Decimal(value) * 100 == kopecks
        assert isinstance(value, int) == (kopecks % 100 == 0)


def sender_of(world: World, session: RecordingSession) -> Sender:
    """A sender on a fake monotonic clock ten seconds a tick: no chat ever waits for its next message."""
    ticks = itertools.count(step=10.0)
    return Sender(create_bot(world.settings, session=session), world.pool, rate=1000, lease_seconds=60, zone=MSK,
                  clock=lambda: datetime(2019, 3, 1, 6), pacer=Pacer(1000, lambda: next(ticks)))  # fmt: skip


# --- the month-end table -----------------------------------------------------------------------------------


async def test_month_end_table_goes_to_supervisors_and_admins_with_the_statement(world: World) -> None:
    march_first = datetime(2019, 3, 1, 9, tzinfo=MSK)  # a Friday, the first working day of March
    await enqueue_digests(world.pool, world.settings, march_first)
    async with world.pool() as session:
        rows = list((await session.execute(select(OutboxMessage).where(OutboxMessage.kind == "statement"))).scalars())
        frozen = {s.manager_id: s for s in (await session.execute(select(KpiSnapshot))).scalars()}
    heads = {r.employee_id: r for r in rows if r.document is not None}
    assert set(heads) == {SUPERVISOR, ADMIN}
    table = heads[SUPERVISOR]
    assert "Итоги февраля 2019" in table.text and "84,03 %" in table.text
    assert texts.utf16_len(table.text) <= texts.MAX_CAPTION
    sheet = load_workbook(BytesIO(table.document or b"")).active
    assert sheet is not None
    header = [c.value for c in sheet[HEADER_ROW]]
    assert header == list(workbooks.TABLE_HEADER)
    body = [[c.value for c in row] for row in sheet.iter_rows(min_row=HEADER_ROW + 1)]
    assert [r[0] for r in body] == ["Смирнова Ольга", "Иванов Пётр", "Аракелян Наринэ", "Итого"]  # worst first
    arakelyan = body[2]
    assert arakelyan[2] == pytest.approx(0.9053) and arakelyan[3] == pytest.approx(0.2)
    assert arakelyan[4:6] == [263492, 238539]
    assert frozen == {}  # 1 March: February is not closed yet (MONTH_CLOSE_WORKDAY), live and preliminary
    assert "Предварительно" in table.text
    assert sheet.cell(HEADER_ROW + 3, 3).number_format == "0.00%"
    assert body[3][4] == sum(r[4] for r in body[:3]) and body[3][6] == sum(r[6] for r in body[:3])

    session = RecordingSession()  # the outbox sends it as one sendDocument with the text as its caption
    await sender_of(world, session).drain()
    documents = {m.chat_id: m for m in files_of(session.requests)}
    assert set(documents) == {1010, 1099}
    sent = documents[1010]
    assert sent.caption == table.text and sent.document.filename == "kpi-itogi-2019-02.xlsx"
    assert sent.document.data == table.document
    assert len(session.of("SendMessage")) == 5 + 3 + 1  # digests, the managers' statements, the admin's "stale"


async def test_a_statement_too_long_for_a_caption_goes_as_a_message_then_the_file(world: World) -> None:
    async with world.pool() as session, session.begin():
        admin = await session.get(Employee, ADMIN)
        assert admin is not None
        table = await month_end_statement(session, admin, date(2019, 3, 1), world.settings)
        assert table is not None
        long = type(table)(table.employee_id, table.kind, table.day, table.chat_id, "🧾" * 600, None, table.document)
        await enqueue(session, [long], datetime(2019, 3, 1, 6))
    session_api = RecordingSession()
    assert (await sender_of(world, session_api).drain()).sent == 1
    assert [type(r).__name__ for r in session_api.requests] == ["SendMessage", "SendDocument"]
    assert session_api.requests[1].caption is None


async def test_no_table_on_other_days_or_for_managers(world: World) -> None:
    async with world.pool() as session:
        supervisor = await session.get(Employee, SUPERVISOR)
        manager = await session.get(Employee, ARAKELYAN)
        assert supervisor is not None and manager is not None
        assert await month_end_statement(session, supervisor, date(2019, 3, 4), world.settings) is None
        assert await month_end_statement(session, manager, date(2019, 3, 1), world.settings) is None


# --- the debtors export and the curve's data -----------------------------------------------------------------


async def test_debtors_rows_match_the_debtors_screen(world: World) -> None:
    async with world.pool() as session:
        managers = [e for e in await queries.list_employees(session) if e.role == "manager"]
        debtors = await queries.debtors_of(session, managers, TODAY, world.settings.kpi_tiers)
        figures = await queries.collections(session, [m.id for m in managers], FEBRUARY, TODAY,
                                            world.settings.kpi_tiers)  # fmt: skip
    assert sum(d.debt for d in debtors) == sum(f.collection.debt for f in figures.values()) == 51_900_00
    assert [d.debt for d in debtors] == sorted((d.debt for d in debtors), reverse=True)
    content = workbooks.debtors_workbook("Должники", TODAY, debtors)
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    first = [c.value for c in sheet[HEADER_ROW + 1]]
    assert first[0] == debtors[0].client and first[3] == debtors[0].debt // 100 and first[5] == debtors[0].age_days
    if debtors[0].last_payment is not None:
        assert first[6].date() == debtors[0].last_payment
    assert sheet.cell(HEADER_ROW + 1 + len(debtors), 4).value == 51900


async def test_the_curve_ends_on_the_digests_percent_and_each_day_is_the_rules_own(world: World) -> None:
    from bot.rules import collection_percent

    async with world.pool() as session:
        curve = await queries.paid_by_day(session, [ARAKELYAN], FEBRUARY, TODAY)
        infos = await queries.contracts_of(session, [ARAKELYAN])
        payments = await queries.payments_of_managers(session, [ARAKELYAN])
    assert curve.days[0] == date(2019, 2, 1) and curve.days[-1] == TODAY
    assert curve.base == 263_492_00 and curve.paid[-1] == 238_539_00
    assert collection_percent(curve.paid[-1], curve.base) == Decimal("90.53")
    assert curve.paid == sorted(curve.paid)  # money only ever arrives
    terms = [queries.terms_of(i) for i in infos]
    for day, paid in zip(curve.days, curve.paid, strict=True):  # against the whole rule, day by day
        known = [p for p in payments if p.paid_on <= day]
        collection, _ = collection_for(FEBRUARY, day, terms, known, world.settings.kpi_tiers)
        assert (collection.base, collection.paid) == (curve.base, paid), day


def test_names_with_control_characters_and_formulas_stay_plain_text() -> None:
    evil = '=HYPERLINK("http://evil")'
    lines = [contract(evil, 1_000_00, 1_000_00, 0), contract("ООО «Звонок\x07»", 100, 100, 100)]
    manager = manager_of("=1+1\x0b", lines, "9.90")
    content = workbooks.collection_report("=СУММ(1)", FEBRUARY, TODAY, [manager], manager.collection)
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    assert sheet["A1"].value == "=СУММ(1): расчёт оплат за регулярное сопровождение"
    assert sheet["A1"].data_type == "s"
    values = [r.values[0] for r in read_rows(content)]
    assert values[:2] == ["=1+1  9,90 %", '+ =HYPERLINK("http://evil") (01.10.2018, 12 мес.)']
    assert values[2] == "+ ООО «Звонок » (01.10.2018, 12 мес.)"
    assert all(cell.data_type == "s" for cell in sheet["A"] if isinstance(cell.value, str))


# --- the curve's rule, for any contracts and payments ------------------------------------------------------

MONTHS = [Month(2018, 12), Month(2019, 1), Month(2019, 2), Month(2019, 3)]
contracts_strategy = st.lists(
    st.builds(
        lambda n, fee, start, months, closed: ContractTerms(f"c{n}", "m", fee, start, months, closed),
        st.integers(0, 5), st.integers(0, 500_00), st.sampled_from(MONTHS), st.one_of(st.none(), st.integers(1, 4)),
        st.one_of(st.none(), st.dates(date(2018, 12, 1), date(2019, 3, 31))),
    ),
    max_size=6, unique_by=lambda terms: terms.id,
)  # fmt: skip
payments_strategy = st.lists(
    st.builds(
        lambda n, contract, day, amount, period: PaymentRecord(f"p{n}", f"c{contract}", day, amount, period),
        st.integers(), st.integers(0, 5), st.dates(date(2018, 12, 1), date(2019, 3, 10)), st.integers(1, 900_00),
        st.one_of(st.none(), st.sampled_from(MONTHS)),
    ),
    max_size=15,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(contracts_strategy, payments_strategy)
def test_each_day_of_the_curve_is_what_the_rules_count_with_the_payments_known_that_day(
    contracts: list[ContractTerms], payments: list[PaymentRecord]
) -> None:
    known = {c.id for c in contracts}
    payments = [p for p in payments if p.contract_id in known]
    curve = queries.paid_by_day_of(contracts, payments, FEBRUARY, date(2019, 2, 28))
    assert len(curve.days) == len(curve.paid) == 28
    for day, paid in zip(curve.days, curve.paid, strict=True):
        collection, _ = collection_for(FEBRUARY, day, contracts, [p for p in payments if p.paid_on <= day],
                                       DEFAULT_TIERS)  # fmt: skip
        assert (curve.base, paid) == (collection.base, collection.paid), day
