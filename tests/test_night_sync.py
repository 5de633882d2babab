"""The OData sync in the night job (``jobs.imports``): after the watched folder, once a working day
from IMPORT_TIME and once after a restart, recorded as source ``odata``; a failed sync writes nothing
and tells the admins once, beside a failed folder import. Against the fake 1C (tests/fake_1c_odata.py),
on a fake clock, on both databases."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import texts
from bot.settings import Settings, load_settings
from db import queries
from db.models import Contract, ImportAttempt, OutboxMessage, Payment
from db.session import SessionPool
from jobs.digests import morning
from jobs.imports import SettleWatch, SyncState, import_folder, imports_job, night_pending, sources, sync_night
from tests.factories import EMPLOYEES_HEADER, PAYMENTS_HEADER, write_csv
from tests.fake_1c_odata import PASSWORD, USER, FakeOData
from tests.test_odata_sync import CONTRACT_1, MANAGER, SUPERVISOR, one_c_base
from tests.world import MSK

NIGHT = datetime(2026, 11, 30, 7, 30, tzinfo=MSK)  # a Monday, IMPORT_TIME
ADMIN_ID, ADMIN_CHAT = "a-1", 5001
PAYMENTS_SET = "Document_ПоступлениеБезналичныхДенежныхСредств"


@pytest.fixture
async def one_c() -> AsyncIterator[FakeOData]:
    fake = await FakeOData(one_c_base()).start()
    yield fake
    await fake.stop()


def inbox(tmp_path: Path) -> Path:
    """The watched folder with kpibot's employees.csv: the 1C users' guids as ids, and an admin."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    write_csv(folder / "employees.csv", EMPLOYEES_HEADER, [
        [MANAGER, "Аракелян Наринэ", "manager", "A", "101", "", "1"],
        [SUPERVISOR, "Кузнецова Марина", "supervisor", "A", "110", "", "1"],
        [ADMIN_ID, "Соколов Андрей", "admin", "", "", str(ADMIN_CHAT), "1"],
    ])  # fmt: skip
    stamp = (NIGHT - timedelta(hours=3)).timestamp()
    os.utime(folder / "employees.csv", (stamp, stamp))
    return folder


def night_settings(fake: FakeOData, database_url: str, folder: Path | None, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": "42:TEST", "database_url": database_url, "odata_url": fake.url, "odata_user": USER,
        "odata_password": PASSWORD, "odata_page_size": 2, "import_settle_seconds": 0, **extra,
    }  # fmt: skip
    if folder is not None:
        values["import_dir"] = str(folder)
    return load_settings(**values)


async def attempts(pool: SessionPool) -> list[ImportAttempt]:
    async with pool() as session:
        return list((await session.execute(select(ImportAttempt).order_by(ImportAttempt.id))).scalars())


async def notices(pool: SessionPool) -> list[OutboxMessage]:
    async with pool() as session:
        statement = select(OutboxMessage).where(OutboxMessage.kind.in_(["import", "sync"])).order_by(OutboxMessage.id)
        return list((await session.execute(statement)).scalars())


async def payments(pool: SessionPool) -> dict[str, int]:
    async with pool() as session:
        return {p.id: p.amount for p in (await session.execute(select(Payment))).scalars()}


async def fee(pool: SessionPool) -> int:
    async with pool() as session:
        contract = await session.get(Contract, CONTRACT_1)
        assert contract is not None
        return contract.monthly_fee


async def test_the_night_job_imports_the_folder_then_syncs_once_and_the_digests_see_it(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    settings = night_settings(one_c, database_url, inbox(tmp_path))
    assert [name for name, _ in sources(settings, SyncState())] == ["folder", "odata"]  # the folder first
    state = SyncState(backoff=0.001)
    minute = [NIGHT - timedelta(minutes=1)]
    job = imports_job(pool, settings, lambda: minute[0], lambda: None, state)
    await job()  # before IMPORT_TIME: the folder's new files are imported, 1C is not asked
    assert [(a.source, a.ok) for a in await attempts(pool)] == [("folder", True)]
    assert one_c.requests == []
    for step in range(3):  # the night's run, then two more minutes: one sync
        minute[0] = NIGHT + timedelta(minutes=step)
        await job()
    recorded = await attempts(pool)
    # the folder's night run reads it again (unchanged files are skipped inside), then 1C once
    assert [(a.source, a.ok) for a in recorded] == [("folder", True), ("folder", True), ("odata", True)]
    sync = recorded[2]
    assert sync.started_at == NIGHT.astimezone(UTC).replace(tzinfo=None) and sync.problems == 0
    assert PAYMENTS_SET in sync.files and "Catalog_ДоговорыКонтрагентов" in sync.files
    assert sync.rows == 4 + 3 + 2 + 1 + 2  # posted payments, contracts not deleted, calls, a meeting, sales
    assert len(await payments(pool)) == 4 and await fee(pool) == 281850
    async with pool() as session:  # the digests' "данные 1С на …" reads the sync
        assert await queries.last_import_at(session) == sync.started_at
    assert await notices(pool) == []
    async with pool() as session:  # a night that went well: no "данные 1С не обновлялись" line
        assert not (await morning(session, NIGHT.date(), settings, NIGHT + timedelta(hours=1))).stale
    # a restart later that day (a deploy) syncs once more; the next minute does not
    again = imports_job(pool, settings, lambda: NIGHT + timedelta(hours=5), lambda: None, SyncState(backoff=0.001))
    await again()
    await again()
    assert [a.source for a in await attempts(pool)].count("odata") == 2


async def test_no_sync_before_import_time_on_a_day_off_or_without_odata_url(
    pool: SessionPool, database_url: str, one_c: FakeOData
) -> None:
    settings = night_settings(one_c, database_url, None)
    state = SyncState(backoff=0.001)
    assert await sync_night(pool, settings, state, NIGHT - timedelta(seconds=1)) is None
    assert await sync_night(pool, settings, state, NIGHT - timedelta(days=2)) is None  # a Saturday at 7:30
    plain = load_settings(bot_token="42:TEST", database_url=database_url)
    assert await sync_night(pool, plain, state, NIGHT) is None and sources(plain, SyncState()) == []
    assert one_c.requests == [] and await attempts(pool) == []
    assert [name for name, _ in sources(settings, SyncState())] == ["odata"]


async def test_a_sync_failing_in_mid_paging_leaves_the_data_and_tells_the_admins_once(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    """The next night 1C answers 500 on the second page of payments until the retries give up: the
    contract fee read on the first page is not written, the payments stay, one notice reaches the
    admin; a failed folder import the same night is a second notice of its own kind."""
    folder = inbox(tmp_path)
    settings = night_settings(one_c, database_url, folder)
    await imports_job(pool, settings, lambda: NIGHT, lambda: None, SyncState(backoff=0.001))()
    before = await payments(pool)
    assert len(before) == 4
    one_c.sets["Catalog_ДоговорыКонтрагентов"][0]["СуммаВМесяц"] = 9999
    one_c.faults[(PAYMENTS_SET, 2)] = [500] * 50
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [["p1", CONTRACT_1, "05.11.2026", "три тысячи", ""]])
    tomorrow = NIGHT + timedelta(days=1)
    stamp = (tomorrow - timedelta(hours=2)).timestamp()
    os.utime(folder / "payments.csv", (stamp, stamp))
    minute = [tomorrow]
    job = imports_job(pool, settings, lambda: minute[0], lambda: None, SyncState(backoff=0.001))
    for step in range(3):
        minute[0] = tomorrow + timedelta(minutes=step)
        await job()
    await sync_night(pool, settings, SyncState(backoff=0.001), tomorrow + timedelta(minutes=5))  # a restart
    assert await payments(pool) == before and await fee(pool) == 281850
    failed = [a for a in await attempts(pool) if a.source == "odata" and not a.ok]
    assert len(failed) == 2 and failed[0].rows == 0 and failed[0].problems == 1
    assert "(500)" in failed[0].first_problems and "gave up after 5 attempts" in failed[0].first_problems
    told = await notices(pool)
    assert sorted(n.kind for n in told) == ["import", "sync"]
    assert all(n.employee_id == ADMIN_ID and n.chat_id == ADMIN_CHAT for n in told)
    (sync,) = [n for n in told if n.kind == "sync"]
    assert "Ночная синхронизация с 1С не прошла" in sync.text and PAYMENTS_SET in sync.text
    assert "Внутренняя ошибка сервера" in sync.text
    assert "три тысячи" in next(n for n in told if n.kind == "import").text
    async with pool() as session:  # and the digests of that morning say the data were not updated
        context = await morning(session, tomorrow.date(), settings, tomorrow + timedelta(hours=1))
        assert context.stale and texts.stale_warning(context.imported_at).startswith("Данные 1С не обновлялись с")
        # before the night's run the same day, the previous night's data are simply the latest
        assert not (await morning(session, tomorrow.date(), settings, tomorrow - timedelta(minutes=1))).stale


@pytest.mark.parametrize("fault", ["password", "value"])
async def test_a_refused_login_or_a_bad_value_is_one_line_in_the_notice(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path, fault: str
) -> None:
    extra = {"odata_password": "не тот"} if fault == "password" else {}
    if fault == "value":
        one_c.sets[PAYMENTS_SET][0]["СуммаДокумента"] = "abc"
    settings = night_settings(one_c, database_url, inbox(tmp_path), **extra)
    await imports_job(pool, settings, lambda: NIGHT, lambda: None, SyncState(backoff=0.001))()
    assert await payments(pool) == {}
    (notice,) = await notices(pool)
    if fault == "password":
        assert "401 Unauthorized" in notice.text and "ODATA_USER and ODATA_PASSWORD" in notice.text
    else:
        assert f"{PAYMENTS_SET}(guid&#x27;" in notice.text or f"{PAYMENTS_SET}(guid'" in notice.text
        assert "amount: abc" in notice.text
    assert len(notice.text) <= 4096 and "Traceback" not in notice.text
    assert texts.SOURCE_NAMES["odata"]


async def test_an_import_while_the_bot_renews_its_leases_does_not_find_the_database_locked(
    pool: SessionPool, demo_exports: Path
) -> None:
    """kpibot run commits a lease renewal every second while the folder or a sync imports: on SQLite
    an import that read first and wrote later failed at once with "database is locked"."""
    from db.importer import import_paths
    from db.queries.outbox import take_lease

    stop = False
    renewed = asyncio.Event()

    async def renew() -> int:
        n = 0
        while not stop:
            if n:
                renewed.set()
            moment = datetime(2026, 1, 1) + timedelta(seconds=n)
            async with pool() as session, session.begin():
                await take_lease(session, "polling", "other", moment, moment + timedelta(seconds=50))
            n += 1
            await asyncio.sleep(0.002)
        return n

    renewing = asyncio.create_task(renew())
    await renewed.wait()
    try:
        for _ in range(3):
            await import_paths(pool, [demo_exports], zone=MSK, now=datetime(2026, 1, 1), reread=True)
    finally:
        stop = True
        renewals = await renewing
    assert renewals >= 2  # the renewals really ran beside the imports


async def test_the_digests_wait_for_the_nights_import_and_sync_at_most_ten_minutes(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    """Another instance may be importing or syncing: the morning job on any instance holds while a
    configured source has no attempt since IMPORT_TIME, for at most ten minutes past IMPORT_TIME or
    the process's start."""
    settings = night_settings(one_c, database_url, inbox(tmp_path))
    early = NIGHT - timedelta(hours=1)  # the process started before the night
    assert not await night_pending(pool, settings, NIGHT - timedelta(seconds=1), early)
    assert await night_pending(pool, settings, NIGHT + timedelta(minutes=1), early)
    assert not await night_pending(pool, settings, NIGHT + timedelta(minutes=10), early)  # waited enough
    late = NIGHT + timedelta(hours=3)  # a late start: ten minutes from it
    assert await night_pending(pool, settings, late + timedelta(minutes=9), late)
    assert not await night_pending(pool, settings, NIGHT + timedelta(days=5, minutes=1), early)  # a Saturday
    await import_folder(pool, settings, SettleWatch(timedelta(0)), NIGHT)
    assert await night_pending(pool, settings, NIGHT + timedelta(minutes=1), early)  # the sync is still due
    await sync_night(pool, settings, SyncState(backoff=0.001), NIGHT + timedelta(minutes=1))
    assert not await night_pending(pool, settings, NIGHT + timedelta(minutes=2), early)
    plain = load_settings(bot_token="42:TEST", database_url=database_url)
    assert not await night_pending(pool, plain, NIGHT + timedelta(minutes=1), early)  # nothing to wait for


async def test_of_two_instances_the_lease_holder_syncs_once_and_a_stopped_one_hands_over(
    pool: SessionPool, database_url: str, one_c: FakeOData, tmp_path: Path
) -> None:
    from jobs.imports import NightImports

    settings = night_settings(one_c, database_url, inbox(tmp_path))
    first = NightImports(pool, settings, lambda: NIGHT, lambda: None, instance="a")
    second = NightImports(pool, settings, lambda: NIGHT, lambda: None, instance="b")
    await first.run_once()
    await second.run_once()  # "a" holds the lease: "b" reads and asks nothing
    assert [a.source for a in await attempts(pool)] == ["folder", "odata"]
    assert await second.morning_may_run() and await first.morning_may_run()
    await first.release()  # "a" stops: "b" takes over at its next minute, and catches up
    await second.run_once()
    assert [a.source for a in await attempts(pool)] == ["folder", "odata", "folder", "odata"]
    idle = NightImports(pool, load_settings(bot_token="42:TEST", database_url=database_url), lambda: NIGHT,
                        lambda: None, instance="c")  # fmt: skip
    assert not idle.configured and await idle.morning_may_run()
