"""Importing in tests: the importer called as ``kpibot import`` would, and what it refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from db.importer import ImportFailed, ImportReport, import_paths
from db.importer import run as run_module
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


def watch_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """From now on, ``(entity, line)`` of every data record the importer maps to columns, for
    payments and PBX records: what a test asserts to tell a record read from one skipped."""
    seen: list[tuple[str, int]] = []

    class Reading(run_module.TableReader):
        def __call__(self, rows: Any) -> Iterator[tuple[int, dict[str, Any]]]:
            for line, cells in super().__call__(rows):
                if self.source.entity == "payments":
                    seen.append(("payments", line))
                yield line, cells

    original = run_module.pbx_rows

    def pbx_rows(source: Any, rows: Any, found: Any) -> Iterator[tuple[int, dict[str, Any]]]:
        for line, cells in original(source, rows, found):
            seen.append(("pbx", line))
            yield line, cells

    monkeypatch.setattr(run_module, "TableReader", Reading)
    monkeypatch.setattr(run_module, "pbx_rows", pbx_rows)
    return seen
