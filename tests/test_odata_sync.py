"""``kpibot sync``: 1C's standard OData interface read into the same rows as a file import, against a
fake 1C (tests/fake_1c_odata.py) on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot import texts
from bot.settings import ConfigError, Settings, load_settings
from db.importer import ImportFailed, import_paths
from db.importer import values as v
from db.importer.odata import EMPTY_DATE, EMPTY_GUID, ODataError, check_odata, odata_cell, sync_odata
from db.importer.odata_mapping import DEFAULT_MAPPING, MappingError, load_mapping
from db.models import Client, Contract, Document, Employee, ImportRun, Interaction, Payment
from db.session import SessionPool
from tests.factories import EMPLOYEES_HEADER, write_csv
from tests.fake_1c_odata import PASSWORD, USER, FakeOData

NOW = datetime(2026, 11, 28, 23, 0)  # UTC: 02:00 on the 29th in Moscow, the nightly sync

MANAGER = "3f0a9c2e-5b1d-11ee-8c99-0242ac120002"
SUPERVISOR = "3f0a9c2e-5b1d-11ee-8c99-0242ac120003"
CLIENT_1 = "a1b2c3d4-0001-11ee-8c99-0242ac120002"
CLIENT_2 = "a1b2c3d4-0002-11ee-8c99-0242ac120002"
CONTRACT_1 = "c0c0c0c0-0001-11ee-8c99-0242ac120002"
CONTRACT_2 = "c0c0c0c0-0002-11ee-8c99-0242ac120002"
CONTRACT_DELETED = "c0c0c0c0-0003-11ee-8c99-0242ac120002"
CONTRACT_CLOSED = "c0c0c0c0-0004-11ee-8c99-0242ac120002"


def guid(n: int, prefix: str = "d0c0") -> str:
    return f"{prefix}{n:04d}-0000-11ee-8c99-0242ac120002"


def one_c_base() -> dict[str, list[dict[str, Any]]]:
    """A 1C:Управление торговлей 11 base as its OData interface shows it (the default mapping)."""
    # fmt: off
    contract = {"DeletionMark": False, "Менеджер_Key": MANAGER, "ДатаОкончанияДействия": EMPTY_DATE, "СрокМесяцев": 0}
    return {
        "Catalog_Контрагенты": [
            {"Ref_Key": CLIENT_1, "DeletionMark": False, "Code": "00-000001", "Description": "ООО «Ромашка»"},
            {"Ref_Key": CLIENT_2, "DeletionMark": True, "Code": "00-000002", "Description": "ИП Смирнов <старый>"},
        ],
        "Catalog_ДоговорыКонтрагентов": [
            {**contract, "Ref_Key": CONTRACT_1, "Номер": "РС-1", "Description": "ИТС ПРОФ", "Контрагент_Key": CLIENT_1,
             "ДатаНачалаДействия": "2026-01-01T00:00:00", "СуммаВМесяц": Decimal("2818.50")},
            {**contract, "Ref_Key": CONTRACT_2, "Номер": "РС-2", "Description": "Сопровождение",
             "Контрагент_Key": CLIENT_2, "ДатаНачалаДействия": "2026-03-01T00:00:00", "СуммаВМесяц": 3000,
             "СрокМесяцев": 12},
            {**contract, "Ref_Key": CONTRACT_DELETED, "DeletionMark": True, "Номер": "РС-3", "Description": "Удалён",
             "Контрагент_Key": CLIENT_1, "ДатаНачалаДействия": "2026-01-01T00:00:00", "СуммаВМесяц": 1},
            {**contract, "Ref_Key": CONTRACT_CLOSED, "Номер": "РС-4", "Description": "Закрыт",
             "Контрагент_Key": CLIENT_1, "ДатаНачалаДействия": "2026-01-01T00:00:00", "СуммаВМесяц": 1500,
             "ДатаОкончанияДействия": "2026-06-30T00:00:00"},
        ],
        "Document_ПоступлениеБезналичныхДенежныхСредств": [
            _payment(1, CONTRACT_1, "2026-11-05T10:12:00", Decimal("2818.50")),
            _payment(2, CONTRACT_2, "2026-11-06T11:00:00", 3000),
            _payment(3, CONTRACT_2, "2026-11-07T11:00:00", 3000, posted=False),  # unposted: not money yet
            _payment(4, CONTRACT_1, "2026-11-08T11:00:00", 100, deleted=True),
            _payment(5, CONTRACT_1, "2026-10-05T09:00:00", Decimal("2818.5")),
        ],
        "Document_ПриходныйКассовыйОрдер": [_payment(6, CONTRACT_1, "2026-09-05T16:30:00", Decimal("2818.50"))],
        "Document_ТелефонныйЗвонок": [
            {"Ref_Key": guid(1, "ca11"), "DeletionMark": False, "Posted": True, "Date": "2026-11-27T10:15:00",
             "Входящий": True, "Ответственный_Key": MANAGER, "АбонентПредставление": "Иванова Анна",
             "Тема": "Обновление 1С"},
            {"Ref_Key": guid(2, "ca11"), "DeletionMark": False, "Posted": True, "Date": "2026-11-27T12:00:00",
             "Входящий": False, "Ответственный_Key": MANAGER, "АбонентПредставление": "Петров",
             "Тема": "Счёт на ИТС"},
        ],
        "Document_Встреча": [
            {"Ref_Key": guid(1, "4ee7"), "DeletionMark": False, "Posted": True, "Date": "2026-11-20T09:00:00",
             "ДатаНачала": "2026-11-30T15:00:00", "Рассмотрено": False, "Ответственный_Key": MANAGER,
             "Место": "Офис клиента", "Тема": "Продление договора"},
        ],
        "Document_РеализацияТоваровУслуг": [
            {"Ref_Key": guid(1, "5a1e"), "DeletionMark": False, "Posted": True, "Number": "00УТ-000017",
             "Date": "2026-11-02T12:00:00", "Контрагент_Key": CLIENT_1, "Менеджер_Key": MANAGER,
             "СуммаДокумента": Decimal("2818.50")},
            {"Ref_Key": guid(2, "5a1e"), "DeletionMark": False, "Posted": True, "Number": "00УТ-000018",
             "Date": "2026-11-03T12:00:00", "Контрагент_Key": EMPTY_GUID, "Менеджер_Key": MANAGER,
             "СуммаДокумента": 500},
        ],
    }
    # fmt: on


def _payment(n: int, contract: str, day: str, amount: object, *, posted: bool = True, deleted: bool = False
             ) -> dict[str, Any]:  # fmt: skip
    return {"Ref_Key": guid(n, "9a70"), "DeletionMark": deleted, "Posted": posted, "Number": f"00БП-{n:06d}",
            "Date": day, "Договор_Key": contract, "СуммаДокумента": amount}  # fmt: skip


@pytest.fixture
async def one_c() -> AsyncIterator[FakeOData]:
    fake = await FakeOData(one_c_base()).start()
    yield fake
    await fake.stop()


def odata_settings(fake: FakeOData, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {"odata_url": fake.url, "odata_user": USER, "odata_password": PASSWORD,
                              "odata_page_size": 2, "database_url": database_url, **extra}  # fmt: skip
    return load_settings(**values)


async def employees_from_csv(pool: SessionPool, folder: Path) -> None:
    """Roles and teams are kpibot's: employees.csv with the 1C users' guids as ids."""
    write_csv(folder / "employees.csv", EMPLOYEES_HEADER, [
        [MANAGER, "Аракелян Наринэ", "manager", "A", "101", "", "1"],
        [SUPERVISOR, "Кузнецова Марина", "supervisor", "A", "110", "", "1"],
    ])  # fmt: skip
    settings = load_settings()
    await import_paths(pool, [folder / "employees.csv"], zone=settings.zone, now=NOW)


async def rows(pool: SessionPool, model: type) -> dict[str, Any]:
    async with pool() as session:
        return {row.id: row for row in (await session.execute(select(model))).scalars()}


async def sync(pool: SessionPool, settings: Settings, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return await sync_odata(pool, settings, now, backoff=0.001)


# --------------------------------------------------------------------------------------------------
# What a sync writes
# --------------------------------------------------------------------------------------------------


async def test_sync_writes_1c_entries_as_the_rows_an_import_writes(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    report = await sync(pool, odata_settings(one_c, database_url))

    contracts = await rows(pool, Contract)
    assert set(contracts) == {CONTRACT_1, CONTRACT_2, CONTRACT_CLOSED}  # the one marked for deletion is not
    first = contracts[CONTRACT_1]
    assert (first.number, first.title, first.monthly_fee, first.months) == ("РС-1", "ИТС ПРОФ", 281850, None)
    assert (first.client_id, first.manager_id, first.start) == (CLIENT_1, MANAGER, date(2026, 1, 1))
    assert first.closed_on is None  # 1C's empty date
    assert contracts[CONTRACT_CLOSED].closed_on == date(2026, 6, 30)
    assert contracts[CONTRACT_2].months == 12
    clients = await rows(pool, Client)
    # the reference resolved to its name, even to a client since marked for deletion
    assert clients[CLIENT_1].name == "ООО «Ромашка»" and clients[CLIENT_2].name == "ИП Смирнов <старый>"

    payments = await rows(pool, Payment)
    assert {p: (x.contract_id, x.paid_on, x.amount) for p, x in payments.items()} == {
        guid(1, "9a70"): (CONTRACT_1, date(2026, 11, 5), 281850),
        guid(2, "9a70"): (CONTRACT_2, date(2026, 11, 6), 300000),
        guid(5, "9a70"): (CONTRACT_1, date(2026, 10, 5), 281850),
        guid(6, "9a70"): (CONTRACT_1, date(2026, 9, 5), 281850),  # the cash desk's receipt
    }  # the unposted (3) and the deleted (4) are not money

    calls = await rows(pool, Interaction)
    incoming = calls[guid(1, "ca11")]
    assert (incoming.kind, incoming.direction, incoming.status) == ("call", "in", "done")
    assert (incoming.done_at, incoming.contact, incoming.subject) == (
        datetime(2026, 11, 27, 10, 15), "Иванова Анна", "Обновление 1С")  # fmt: skip
    assert calls[guid(2, "ca11")].direction == "out"
    meeting = calls[guid(1, "4ee7")]
    assert (meeting.kind, meeting.status, meeting.planned_at) == ("meeting", "planned", datetime(2026, 11, 30, 15))

    documents = await rows(pool, Document)
    sale = documents[guid(1, "5a1e")]
    assert (sale.number, sale.doc_date, sale.client_name, sale.amount) == (
        "00УТ-000017", date(2026, 11, 2), "ООО «Ромашка»", 281850)  # fmt: skip
    no_client = documents[guid(2, "5a1e")]
    assert (no_client.client_id, no_client.client_name) == (None, "")  # 1C's empty guid is no client

    assert report.counts["payments"].added == 4
    assert report.files[0] == "Catalog_ДоговорыКонтрагентов"


async def test_sync_pages_selects_and_filters_as_1c_expects(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    await sync(pool, odata_settings(one_c, database_url))
    pages = one_c.requested("Document_ПоступлениеБезналичныхДенежныхСредств")
    # five bank payments (documents are read with their marks) at two a page: the short page ends the run
    assert [(p["$skip"], p["$top"]) for p in pages] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert all(p["$format"] == "json" and p["$orderby"] == "Ref_Key" for p in pages)
    assert "$filter" not in pages[0]  # the first sync reads every document
    assert pages[0]["$select"].split(",") == ["Ref_Key", "DeletionMark", "Posted", "Договор_Key", "Date",
                                              "СуммаДокумента"]  # fmt: skip
    contracts = one_c.requested("Catalog_ДоговорыКонтрагентов")[0]
    assert contracts["$filter"] == "DeletionMark eq false"  # a catalog is never posted
    names = one_c.requested("Catalog_Контрагенты")[0]
    assert names["$select"] == "Ref_Key,Description" and "$filter" not in names


async def test_a_second_sync_reads_documents_changed_since_the_last_less_the_lookback(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    settings = odata_settings(one_c, database_url)
    await sync(pool, settings)
    one_c.requests.clear()
    one_c.sets["Document_ПоступлениеБезналичныхДенежныхСредств"].append(
        _payment(7, CONTRACT_2, "2026-11-29T09:00:00", 3000)
    )
    later = datetime(2026, 11, 29, 23, 0)
    report = await sync(pool, settings, later)
    page = one_c.requested("Document_ПоступлениеБезналичныхДенежныхСредств")[0]
    # the last sync was 02:00 on 29.11 in Moscow; 45 days before that day's midnight
    assert page["$filter"] == "Date ge datetime'2026-10-15T00:00:00'"
    assert one_c.requested("Catalog_ДоговорыКонтрагентов")[0]["$filter"] == "DeletionMark eq false"
    assert report.counts["payments"].added == 1
    assert report.counts["payments"].unchanged == 2  # 05.10 and 05.09 are older than the window
    assert guid(7, "9a70") in await rows(pool, Payment)


async def test_entries_are_checked_even_when_1c_ignores_the_filter(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tests.fake_1c_odata as fake_module

    monkeypatch.setattr(fake_module, "_matches", lambda entry, condition: True)
    await employees_from_csv(pool, tmp_path)
    await sync(pool, odata_settings(one_c, database_url))
    assert CONTRACT_DELETED not in await rows(pool, Contract)
    assert set(await rows(pool, Payment)) == {guid(n, "9a70") for n in (1, 2, 5, 6)}


async def test_a_payment_unposted_or_deleted_in_1c_since_the_last_sync_no_longer_counts(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    settings = odata_settings(one_c, database_url)
    await sync(pool, settings)
    bank = one_c.sets["Document_ПоступлениеБезналичныхДенежныхСредств"]
    bank[0]["Posted"] = False  # payment 1: the accountant cancelled its posting
    bank[1]["DeletionMark"] = True  # payment 2: marked for deletion
    one_c.sets["Document_ТелефонныйЗвонок"][0]["DeletionMark"] = True
    report = await sync(pool, settings, datetime(2026, 11, 29, 23, 0))
    assert set(await rows(pool, Payment)) == {guid(5, "9a70"), guid(6, "9a70")}
    assert guid(1, "ca11") not in await rows(pool, Interaction)
    assert (report.counts["payments"].removed, report.counts["interactions"].removed) == (2, 1)
    assert (await rows(pool, Contract)).keys() == {CONTRACT_1, CONTRACT_2, CONTRACT_CLOSED}


# --------------------------------------------------------------------------------------------------
# All or nothing
# --------------------------------------------------------------------------------------------------


async def test_a_bad_value_names_the_entity_set_and_guid_and_imports_nothing(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    one_c.sets["Catalog_ДоговорыКонтрагентов"][1]["СуммаВМесяц"] = -3000
    one_c.sets["Document_ПриходныйКассовыйОрдер"][0]["Date"] = "2026-13-05T16:30:00"
    with pytest.raises(ImportFailed) as failure:
        await sync(pool, odata_settings(one_c, database_url))
    problems = failure.value.problems
    assert len(problems) == 2
    assert problems[0].startswith(f"Catalog_ДоговорыКонтрагентов(guid'{CONTRACT_2}'): monthly_fee: -3000: ")
    assert problems[1].startswith(f"Document_ПриходныйКассовыйОрдер(guid'{guid(6, '9a70')}'): date: 2026-13-05")
    assert await rows(pool, Contract) == {} and await rows(pool, Payment) == {}


async def test_a_reference_to_nothing_is_a_problem_not_a_blank(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    lost = "ffffffff-0000-11ee-8c99-0242ac120002"
    one_c.sets["Catalog_ДоговорыКонтрагентов"][0]["Контрагент_Key"] = lost
    with pytest.raises(ImportFailed) as failure:
        await sync(pool, odata_settings(one_c, database_url))
    assert failure.value.problems == [
        f"Catalog_ДоговорыКонтрагентов(guid'{CONTRACT_1}'): client: {lost}: no such entry in Catalog_Контрагенты"
    ]
    assert await rows(pool, Contract) == {}


async def test_a_500_in_a_page_run_is_retried_and_the_sync_completes(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    one_c.faults[("Document_ПоступлениеБезналичныхДенежныхСредств", 2)] = [500, 503]
    await sync(pool, odata_settings(one_c, database_url))
    skips = [p["$skip"] for p in one_c.requested("Document_ПоступлениеБезналичныхДенежныхСредств")]
    assert skips == ["0", "2", "2", "2", "4"]  # the second page, asked three times
    assert len(await rows(pool, Payment)) == 4


async def test_a_500_that_persists_fails_the_sync_and_leaves_the_data_as_it_was(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    settings = odata_settings(one_c, database_url)
    await sync(pool, settings)
    before = {p: x.amount for p, x in (await rows(pool, Payment)).items()}
    one_c.sets["Catalog_ДоговорыКонтрагентов"][0]["СуммаВМесяц"] = 9999  # read on page 1, never written
    one_c.faults[("Document_ПоступлениеБезналичныхДенежныхСредств", 2)] = [500] * 10
    with pytest.raises(ODataError) as failure:
        await sync(pool, settings, datetime(2026, 11, 29, 23, 0))
    assert str(failure.value) == (
        "1C failed answering Document_ПоступлениеБезналичныхДенежныхСредств (entries 3–4) (500): "
        "1C says: Внутренняя ошибка сервера; gave up after 5 attempts"
    )
    assert {p: x.amount for p, x in (await rows(pool, Payment)).items()} == before
    assert (await rows(pool, Contract))[CONTRACT_1].monthly_fee == 281850
    async with pool() as session:
        assert len((await session.execute(select(ImportRun))).all()) == 2  # employees.csv and the first sync


# --------------------------------------------------------------------------------------------------
# What 1C refuses: one line each
# --------------------------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_pool(sqlite_url: str) -> AsyncIterator[SessionPool]:
    from db.session import create_engine, create_session_pool

    engine = create_engine(sqlite_url)
    yield create_session_pool(engine)
    await engine.dispose()


async def test_a_wrong_password_is_one_line_naming_the_settings(
    sqlite_pool: SessionPool, sqlite_url: str, one_c: FakeOData
) -> None:
    with pytest.raises(ODataError) as failure:
        await sync(sqlite_pool, odata_settings(one_c, sqlite_url, odata_password="wrong"))
    assert str(failure.value) == (
        f"1C refused the login (401 Unauthorized) at {one_c.url}: check ODATA_USER and ODATA_PASSWORD: "
        "1C says: Ошибка аутентификации"
    )
    assert len(one_c.requests) == 1  # a refused login is not retried


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (403, "1C forbids reading Catalog_ДоговорыКонтрагентов (entries 1–2) (403 Forbidden): give the 1C user "
              "ODATA_USER the right to read it: 1C says: Нет прав"),
        (404, "1C has no Catalog_ДоговорыКонтрагентов (entries 1–2) (404 Not Found) at {url}: check ODATA_URL and "
              "that the set is published in the OData interface (kpibot sync --check): 1C says: Нет прав"),
    ],
)  # fmt: skip
async def test_forbidden_and_not_found_are_one_line_each(
    sqlite_pool: SessionPool, sqlite_url: str, one_c: FakeOData, status: int, expected: str
) -> None:
    one_c.faults[("Catalog_ДоговорыКонтрагентов", 0)] = [status]
    with pytest.raises(ODataError) as failure:
        await sync(sqlite_pool, odata_settings(one_c, sqlite_url))
    assert str(failure.value) == expected.format(url=one_c.url)
    assert len(one_c.requests) == 1


async def test_a_slow_answer_times_out_and_retries_then_fails(
    sqlite_pool: SessionPool, sqlite_url: str, one_c: FakeOData
) -> None:
    one_c.slow_seconds = 1.0
    one_c.faults[("Catalog_ДоговорыКонтрагентов", 0)] = ["slow"] * 5
    with pytest.raises(ODataError) as failure:
        await sync(sqlite_pool, odata_settings(one_c, sqlite_url, odata_timeout=0.2))
    assert str(failure.value) == (
        "1C did not answer Catalog_ДоговорыКонтрагентов (entries 1–2) within 0.2 s (ODATA_TIMEOUT); "
        "gave up after 5 attempts"
    )


async def test_a_slow_answer_once_is_retried(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(pool, tmp_path)
    one_c.slow_seconds = 1.0
    one_c.faults[("Document_ТелефонныйЗвонок", 0)] = ["slow"]
    await sync(pool, odata_settings(one_c, database_url, odata_timeout=0.3))
    assert len(await rows(pool, Interaction)) == 3


async def test_an_answer_that_is_not_odata_json_is_one_line(
    sqlite_pool: SessionPool, sqlite_url: str, one_c: FakeOData
) -> None:
    one_c.faults[("Catalog_ДоговорыКонтрагентов", 0)] = ["login page"]
    with pytest.raises(ODataError) as failure:
        await sync(sqlite_pool, odata_settings(one_c, sqlite_url))
    assert str(failure.value) == (
        "1C's answer for Catalog_ДоговорыКонтрагентов is not OData JSON with a 'value' list "
        "(is ODATA_URL the standard.odata interface?)"
    )


@pytest.mark.parametrize("page_size", [1, 3, 5, 1000])
async def test_every_page_size_reads_every_entry_once(
    sqlite_pool: SessionPool, sqlite_url: str, one_c: FakeOData, tmp_path: Path, page_size: int
) -> None:
    await employees_from_csv(sqlite_pool, tmp_path)
    report = await sync(sqlite_pool, odata_settings(one_c, sqlite_url, odata_page_size=page_size))
    assert set(await rows(sqlite_pool, Payment)) == {guid(n, "9a70") for n in (1, 2, 5, 6)}
    assert (report.counts["contracts"].added, report.counts["interactions"].added) == (3, 3)


async def test_nothing_listening_is_one_line(sqlite_pool: SessionPool, sqlite_url: str, one_c: FakeOData) -> None:
    url = one_c.url
    await one_c.stop()
    settings = load_settings(odata_url=url, odata_user=USER, odata_password=PASSWORD, database_url=sqlite_url)
    with pytest.raises(ODataError) as failure:
        await sync(sqlite_pool, settings)
    line = str(failure.value)
    assert line.startswith(f"нет связи с 1С по адресу {url} (") and line.endswith("; gave up after 5 attempts")
    assert "\n" not in line


# --------------------------------------------------------------------------------------------------
# The mapping and --check
# --------------------------------------------------------------------------------------------------


async def test_check_lists_what_the_mapping_reads_and_what_1c_lacks(one_c: FakeOData, sqlite_url: str) -> None:
    one_c.unpublished.add("Document_Встреча")
    one_c.hidden_fields["Catalog_ДоговорыКонтрагентов"] = {"СрокМесяцев"}
    lines, ok = await check_odata(odata_settings(one_c, sqlite_url))
    assert not ok
    assert lines[0] == f"mapping: {DEFAULT_MAPPING}"
    assert (
        "Catalog_ДоговорыКонтрагентов → contracts: Ref_Key, DeletionMark, Номер, Контрагент_Key, Менеджер_Key, "
        "ДатаНачалаДействия, ДатаОкончанияДействия, Description, СуммаВМесяц, СрокМесяцев"
    ) in lines
    assert lines[lines.index(next(x for x in lines if x.startswith("Catalog_ДоговорыКонтрагентов"))) + 1] == (
        "  MISSING fields: СрокМесяцев"
    )
    assert "Document_Встреча → interactions: MISSING: not published in the OData interface" in lines
    assert "Catalog_Контрагенты (names): Ref_Key, Description" in lines


async def test_check_of_a_base_with_everything_is_ok(one_c: FakeOData, sqlite_url: str) -> None:
    lines, ok = await check_odata(odata_settings(one_c, sqlite_url))
    assert ok, lines
    assert not any("MISSING" in line for line in lines)
    assert one_c.requests[0][0] == "$metadata"


async def test_a_mapping_syncs_employees_with_constants_and_translated_values(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[[employees]]\nentity_set = "Catalog_Пользователи"\n'
        '[employees.columns]\nid = "Ref_Key"\nname = "Description"\nrole = "=manager"\nactive = "Недействителен"\n'
        '[employees.values]\nactive = { true = "нет", false = "да" }\n',
        encoding="utf-8",
    )
    one_c.sets["Catalog_Пользователи"] = [
        {"Ref_Key": MANAGER, "DeletionMark": False, "Description": "Аракелян Наринэ", "Недействителен": False},
        {"Ref_Key": SUPERVISOR, "DeletionMark": False, "Description": "Уволенный Иван", "Недействителен": True},
    ]
    await sync(pool, odata_settings(one_c, database_url, odata_mapping=str(mapping)))
    employees = await rows(pool, Employee)
    assert {e: (x.name, x.role, x.active) for e, x in employees.items()} == {
        MANAGER: ("Аракелян Наринэ", "manager", True),
        SUPERVISOR: ("Уволенный Иван", "manager", False),
    }


def test_the_default_mapping_reads_every_entity_but_employees() -> None:
    mapping = load_mapping()
    assert [s.entity_set for s in mapping.sets] == [
        "Catalog_ДоговорыКонтрагентов",
        "Document_ПоступлениеБезналичныхДенежныхСредств",
        "Document_ПриходныйКассовыйОрдер",
        "Document_ТелефонныйЗвонок",
        "Document_Встреча",
        "Document_РеализацияТоваровУслуг",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[contracts]\n", "not valid TOML"),
        ('[[clients]]\nentity_set = "Catalog_Контрагенты"\n', "unknown entity clients"),
        ('[[payments]]\nentity_set = "Document_X"\n[payments.columns]\nid = "Ref_Key"\n',
         "[[payments]] Document_X: columns: required column(s) not mapped: contract_id, date, amount"),
        ('[[payments]]\nentity_set = "Document_X"\n[payments.columns]\nsumma = "Сумма"\n',
         "columns.summa: not a column of payments"),
        ('[[payments]]\nentity_set = "InformationRegister_X"\n[payments.columns]\nid = "Ref_Key"\n',
         "entity_set must be a catalog or a document"),
        ('[[payments]]\nentity_set = "Document_X"\n[payments.columns]\nid = "Ref Key"\n',
         "columns.id: 'Ref Key' is not a field"),
    ],
)  # fmt: skip
def test_a_bad_mapping_stops_start_up_naming_it(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as failure:
        load_mapping(path)
    assert expected in str(failure.value) and str(path) in str(failure.value)
    with pytest.raises(ConfigError) as config:
        load_settings(odata_mapping=str(path))
    assert str(config.value).startswith("Настройка ODATA_MAPPING: ")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://1c.local/buh/odata/standard.odata", "http://1c.local/buh/odata/standard.odata/"),
        ("https://1c.local/buh/odata/standard.odata/", "https://1c.local/buh/odata/standard.odata/"),
    ],
)
def test_odata_url_is_the_standard_interface(url: str, expected: str) -> None:
    assert load_settings(odata_url=url).odata_url == expected


@pytest.mark.parametrize(
    "url",
    [
        "1c.local/buh/odata/standard.odata/",
        "http://1c.local/buh/hs/api/",
        "http://kpibot:secret@1c.local/buh/odata/standard.odata/",
    ],
)
def test_an_odata_url_elsewhere_stops_start_up(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^Настройка ODATA_URL: "):
        load_settings(odata_url=url)


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_an_amount_in_json_is_exact_kopecks(amount: Decimal) -> None:
    assert v.money(odata_cell(amount)) == int(amount * 100)


def test_1c_empty_values_read_as_empty() -> None:
    assert odata_cell(EMPTY_GUID) == odata_cell(EMPTY_DATE) == odata_cell(None) == ""
    assert (odata_cell(True), odata_cell(False), odata_cell(0)) == ("true", "false", "0")


# --------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------


async def kpibot(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    kpibot_path = str(Path(sys.executable).with_name("kpibot"))
    full_env = {k: value for k, value in os.environ.items() if not k.startswith(("DATABASE_URL", "ODATA_"))}
    process = await asyncio.create_subprocess_exec(
        kpibot_path, *args, env={**full_env, **env}, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


@pytest.mark.slow
async def test_kpibot_sync_and_check_from_the_command_line(
    sqlite_pool: SessionPool, sqlite_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    await employees_from_csv(sqlite_pool, tmp_path)
    env = {"DATABASE_URL": sqlite_url, "ODATA_URL": one_c.url, "ODATA_USER": USER, "ODATA_PASSWORD": PASSWORD}
    status, out, err = await kpibot("sync", env=env, cwd=tmp_path)
    assert status == 0, err
    assert "оплаты" in out and "синхронизировано 6 наборов 1С: Catalog_ДоговорыКонтрагентов" in out

    one_c.hidden_fields["Catalog_ДоговорыКонтрагентов"] = {"СуммаВМесяц"}
    status, out, err = await kpibot("sync", "--check", env=env, cwd=tmp_path)
    assert status == 1
    assert "  MISSING fields: СуммаВМесяц" in out
    assert err.strip() == f"kpibot: {texts.CLI_ODATA_MISSING}"

    status, out, err = await kpibot("sync", "--check", env={**env, "ODATA_PASSWORD": "wrong"}, cwd=tmp_path)
    assert status == 1 and err.startswith("kpibot: не удалось проверить 1С: 1C refused the login (401 Unauthorized)")

    status, out, err = await kpibot("sync", env={**env, "ODATA_URL": ""}, cwd=tmp_path)
    assert status == 2
    assert err.strip() == f"kpibot: {texts.CLI_NO_ODATA_URL}"

    status, out, err = await kpibot("sync", env={**env, "ODATA_PASSWORD": "wrong"}, cwd=tmp_path)
    assert status == 1 and "Traceback" not in err
    assert err.strip() == (
        "kpibot: синхронизация не удалась, ничего не загружено: "
        f"1C refused the login (401 Unauthorized) at {one_c.url}: "
        "check ODATA_USER and ODATA_PASSWORD: 1C says: Ошибка аутентификации"
    )
