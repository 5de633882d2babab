"""Findings are computed by the morning job and after an import; screens and digests only read them
(``docs/discipline.md``, "When findings are computed"). The day of ``tests/test_discipline_day.py``.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.arguments import CallsPeriod
from bot.rules import Month
from bot.settings import Settings
from db.importer import import_paths
from db.models import Employee, FindingRow, FindingRun
from db.session import SessionPool
from handlers.screens import calls_screen, team_screen
from jobs.digests import build_digest, store_findings
from jobs.morning import enqueue_digests
from tests.factories import INTERACTIONS_HEADER, write_csv
from tests.test_discipline_day import IMPORTED, TUESDAY, day_exports
from tests.world import MSK, link_all


async def stored(pool: SessionPool) -> tuple[int, int]:
    async with pool() as session:
        runs = (await session.execute(select(func.count()).select_from(FindingRun))).scalar_one()
        rows = (await session.execute(select(func.count()).select_from(FindingRow))).scalar_one()
    return runs, rows


async def not_done(pool: SessionPool) -> set[str]:
    async with pool() as session:
        statement = select(FindingRow.subject_id).where(FindingRow.day == TUESDAY, FindingRow.rule == "not_done")
        return set((await session.execute(statement)).scalars())


async def test_screens_and_digests_read_findings_and_write_none(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [day_exports(tmp_path / "exports", 16)], zone=MSK, now=IMPORTED)
    now = datetime(2019, 2, 26, 12, 0)
    async with pool() as session, session.begin():
        m1, s1 = await session.get(Employee, "m1"), await session.get(Employee, "s1")
        assert m1 is not None and s1 is not None
        before = (await calls_screen(session, m1, CallsPeriod("", TUESDAY, TUESDAY), 0, TUESDAY, now, settings)).text
        await team_screen(session, s1, Month.of(TUESDAY), 0, TUESDAY, settings)
        digest = (await build_digest(session, m1, TUESDAY, settings)).text
        assert not session.new and not session.dirty
    assert await stored(pool) == (0, 0)  # nothing was written by reading
    assert "Смирнов" in before  # i4, the call planned for 11:00 and not done: computed in memory
    async with pool() as session, session.begin():
        await store_findings(session, TUESDAY, settings)  # the morning job's step
    runs, rows = await stored(pool)
    assert runs == 1 and rows > 0
    async with pool() as session:  # what was computed in memory is what the morning job stores
        m1 = await session.get(Employee, "m1")
        assert m1 is not None
        after = (await calls_screen(session, m1, CallsPeriod("", TUESDAY, TUESDAY), 0, TUESDAY, now, settings)).text
        assert after == before
        assert (await build_digest(session, m1, TUESDAY, settings)).text == digest


async def test_an_import_recomputes_the_stored_days_it_touches(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    folder = day_exports(tmp_path / "exports", 16)
    await import_paths(pool, [folder], zone=MSK, now=IMPORTED)
    await link_all(pool)
    await enqueue_digests(pool, settings, datetime(2019, 2, 26, 9, 0, tzinfo=MSK))  # the morning job stores
    assert await not_done(pool) == {"i4"}
    later = tmp_path / "later"
    later.mkdir()
    shutil.copy(folder / "interactions.csv", later / "interactions.csv")
    write_csv(later / "interactions.csv", INTERACTIONS_HEADER, [  # i4 turns out done, at 11:05
        ["i4", "Звонок", "Исходящий", "m1", "k2", "ИП Смирнов", "Смирнов А.", "25.02.2019 11:00",
         "25.02.2019 11:05", "120", "Выполнено", "27.02.2019 10:00", "счёт"],
    ])  # fmt: skip
    await import_paths(pool, [later / "interactions.csv"], zone=MSK, now=datetime(2019, 2, 26, 10, 0))
    assert await not_done(pool) == set()  # the stored day was recomputed by the import, not by a screen
