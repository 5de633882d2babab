"""Month end: a finished month's KPI is frozen, and a late payment never rewrites it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.rules import DEFAULT_TIERS, Month
from db import queries
from db.importer import import_paths
from db.session import SessionPool
from tests.factories import PAYMENTS_HEADER, small_exports, write_csv

MSK = ZoneInfo("Europe/Moscow")


async def test_late_payment_does_not_rewrite_a_frozen_month(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    await import_paths(pool, [folder], zone=MSK, now=datetime(2019, 3, 1, 4))
    february, march_1 = Month(2019, 2), date(2019, 3, 1)
    async with pool() as session, session.begin():
        assert await queries.freeze_month(session, february, march_1, DEFAULT_TIERS, datetime(2019, 3, 1, 5)) == 2
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [["p9", "c1", "03.03.2019", "5 637,00", "02.2019"]])
    await import_paths(pool, [folder / "payments.csv"], zone=MSK, now=datetime(2019, 3, 4, 4))
    async with pool() as session, session.begin():
        assert await queries.freeze_month(session, february, date(2019, 3, 4), DEFAULT_TIERS, datetime.now()) == 0
        snapshot = await queries.get_snapshot(session, "m1", february)
        live = await queries.collection_of(session, "m1", february, date(2019, 3, 4), DEFAULT_TIERS)
    assert snapshot is not None
    assert (snapshot.base, snapshot.paid) == (581850, 300000)
    assert queries.snapshot_percent(snapshot) == Decimal("51.56")
    assert Decimal(snapshot.coefficient) == 0
    assert live.collection.paid == 581850  # the late payment closed February for real


async def test_an_unfinished_month_cannot_be_frozen(pool: SessionPool) -> None:
    async with pool() as session:
        try:
            await queries.freeze_month(session, Month(2019, 3), date(2019, 3, 15), DEFAULT_TIERS, datetime.now())
        except ValueError as error:
            assert "not finished" in str(error)
        else:  # pragma: no cover
            raise AssertionError("froze an unfinished month")
