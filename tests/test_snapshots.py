"""Month close: a finished month is live until it closes (late payments imported before the close
count), then frozen; an admin may close it early or reopen it, and every action is recorded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.rules import DEFAULT_TIERS, Month
from bot.settings import Settings
from db import queries
from db.importer import import_paths
from db.migrate import downgrade, upgrade
from db.models import ContractTermsRow, KpiSnapshot, MonthClose
from db.session import SessionPool
from jobs.morning import close_due_month, month_close_day, statement_text
from tests.factories import PAYMENTS_HEADER, small_exports, write_csv

MSK = ZoneInfo("Europe/Moscow")
FEBRUARY = Month(2019, 2)


async def late_payment(folder: Path, pool: SessionPool, paid_on: str, imported: datetime) -> None:
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [["p9", "c1", paid_on, "2 818,50", "02.2019"]])
    await import_paths(pool, [folder / "payments.csv"], zone=MSK, now=imported)


async def test_a_late_payment_imported_before_the_close_counts_after_it_does_not(
    pool: SessionPool, tmp_path: Path
) -> None:
    folder = small_exports(tmp_path)
    await import_paths(pool, [folder], zone=MSK, now=datetime(2019, 3, 1, 4))
    await late_payment(folder, pool, "01.03.2019", datetime(2019, 3, 2, 4))  # before the close: counts
    async with pool() as session, session.begin():
        assert await queries.close_month(session, FEBRUARY, date(2019, 3, 5), DEFAULT_TIERS, datetime(2019, 3, 5, 6),
                                         "test") == 2  # fmt: skip
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [["p10", "c2", "06.03.2019", "3 000,00", "01.2019"]])
    await import_paths(pool, [folder / "payments.csv"], zone=MSK, now=datetime(2019, 3, 6, 4))
    async with pool() as session:
        closed = await queries.closed_collections(session, ["m1"], FEBRUARY)
        live = await queries.collection_of(session, "m1", FEBRUARY, date(2019, 3, 6), DEFAULT_TIERS)
    assert closed is not None
    frozen = closed["m1"]
    assert (frozen.base, frozen.paid, frozen.percent) == (581850, 581850, Decimal("100.00"))
    assert frozen.debt == 300000 and frozen.debtors == 1  # c2's January, as it stood at the close
    assert live.collection.debt == 0  # the January payment after the close closed it for real


async def test_a_preview_and_an_unfinished_month_never_close(pool: SessionPool, tmp_path: Path) -> None:
    await import_paths(pool, [small_exports(tmp_path)], zone=MSK, now=datetime(2019, 3, 1, 4))
    async with pool() as session:
        with pytest.raises(ValueError, match="not finished"):
            await queries.close_month(session, Month(2019, 3), date(2019, 3, 15), DEFAULT_TIERS, datetime.now(), "t")
        assert await queries.closed_collections(session, ["m1"], FEBRUARY) is None


async def test_reopen_is_recorded_and_the_month_is_live_until_closed_again(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    await import_paths(pool, [folder], zone=MSK, now=datetime(2019, 3, 1, 4))
    async with pool() as session, session.begin():
        assert not await queries.reopen_month(session, FEBRUARY, datetime(2019, 3, 4), "admin")  # not closed
        await queries.close_month(session, FEBRUARY, date(2019, 3, 5), DEFAULT_TIERS, datetime(2019, 3, 5), "job")
    await late_payment(folder, pool, "06.03.2019", datetime(2019, 3, 6, 4))
    async with pool() as session, session.begin():
        assert (await queries.closed_collections(session, ["m1"], FEBRUARY) or {})["m1"].paid == 300000
        assert await queries.reopen_month(session, FEBRUARY, datetime(2019, 3, 7), "admin")
        assert await queries.closed_collections(session, ["m1"], FEBRUARY) is None
        assert (await session.execute(select(func.count()).select_from(KpiSnapshot))).scalar_one() == 0
        await queries.close_month(session, FEBRUARY, date(2019, 3, 7), DEFAULT_TIERS, datetime(2019, 3, 7), "admin")
        assert (await queries.closed_collections(session, ["m1"], FEBRUARY) or {})["m1"].paid == 581850
        actions = (await session.execute(select(MonthClose.action).order_by(MonthClose.id))).scalars().all()
    assert actions == ["close", "reopen", "close"]


async def test_the_morning_job_closes_on_the_third_working_day_and_not_before(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [small_exports(tmp_path)], zone=MSK, now=datetime(2019, 3, 1, 4))
    assert month_close_day(FEBRUARY, settings) == date(2019, 3, 5)  # Fri 1, Mon 4, Tue 5 March 2019
    async with pool() as session, session.begin():
        assert await close_due_month(session, date(2019, 3, 4), settings, datetime(2019, 3, 4, 6)) is None
        preliminary = await statement_text(session, "m1", FEBRUARY, date(2019, 3, 4), settings)
        assert await close_due_month(session, date(2019, 3, 5), settings, datetime(2019, 3, 5, 6)) == FEBRUARY
        assert await close_due_month(session, date(2019, 3, 6), settings, datetime(2019, 3, 6, 6)) is None
        final = await statement_text(session, "m1", FEBRUARY, date(2019, 3, 5), settings)
    assert "предварительно" in preliminary and "05.03.2019" in preliminary
    assert "предварительно" not in final.lower() and "закрыт" in final


async def test_a_reopened_month_is_not_closed_again_by_the_morning_job(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [small_exports(tmp_path)], zone=MSK, now=datetime(2019, 3, 1, 4))
    async with pool() as session, session.begin():
        await close_due_month(session, date(2019, 3, 5), settings, datetime(2019, 3, 5, 6))
        await queries.reopen_month(session, FEBRUARY, datetime(2019, 3, 6), "admin")
        assert await close_due_month(session, date(2019, 3, 7), settings, datetime(2019, 3, 7, 6)) is None
        assert not await queries.is_closed(session, FEBRUARY)


async def test_migration_0007_records_the_terms_of_existing_contracts(engine: AsyncEngine) -> None:
    """A database upgraded with contracts in it: each contract's terms from its start month, so the
    first fee change after the upgrade is recorded from its own month and rewrites nothing."""
    await downgrade(engine, "0004")
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO employees (id, name, role, team, active) VALUES ('m', 'M', 'manager', '', true)")
        )
        await conn.execute(text("INSERT INTO clients (id, name) VALUES ('k', 'K')"))
        await conn.execute(text("INSERT INTO contracts (id, number, client_id, manager_id, start, monthly_fee, title) "
                                "VALUES ('c', '', 'k', 'm', '2026-06-17', 1000000, '')"))  # fmt: skip
    await upgrade(engine)
    async with engine.connect() as conn:
        t = ContractTermsRow
        rows = (await conn.execute(select(t.contract_id, t.from_month, t.monthly_fee, t.manager_id))).all()
    assert [tuple(r) for r in rows] == [("c", date(2026, 6, 1), 1000000, "m")]


async def test_the_morning_job_closes_at_the_digest_time_whoever_is_due(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    from jobs.morning import enqueue_digests

    await import_paths(pool, [small_exports(tmp_path)], zone=MSK, now=datetime(2019, 3, 1, 4))  # nobody linked
    await enqueue_digests(pool, settings, datetime(2019, 3, 5, 8, 59, tzinfo=MSK))  # before DIGEST_TIME 09:00
    async with pool() as session:
        assert not await queries.is_closed(session, FEBRUARY)
    await enqueue_digests(pool, settings, datetime(2019, 3, 5, 9, 0, tzinfo=MSK))
    async with pool() as session:
        assert await queries.is_closed(session, FEBRUARY)
