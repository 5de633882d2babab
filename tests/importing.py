"""Importing in tests: the importer called as ``kpibot import`` would, and what it refused."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from db.importer import ImportFailed, ImportReport, import_paths
from db.session import SessionPool

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2019, 2, 25, 4, 30)


async def run(pool: SessionPool, *paths: Path, full: tuple[str, ...] = ()) -> ImportReport:
    return await import_paths(pool, list(paths), zone=MSK, now=NOW, full=full)


async def problems(pool: SessionPool, *paths: Path, full: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ImportFailed) as failure:
        await run(pool, *paths, full=full)
    return failure.value.problems


async def count(pool: SessionPool, model: type) -> int:
    async with pool() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()
