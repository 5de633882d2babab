"""Import attempts by source (``import_attempts``): every run of the watched folder (``folder``), an
upload in Telegram (``upload``), ``kpibot import`` (``cli``) and the night's OData sync (``odata``) is
kept with its files (entity sets for a sync), rows, problems and duration, for ``/status`` and the
night's failure notice. Times are UTC, naive."""

from __future__ import annotations

import json
import time as timing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.importer import ImportFailed, ImportReport, import_paths
from db.models import ImportAttempt
from db.session import SessionPool

if TYPE_CHECKING:
    from db.importer.odata import ODataSettings

FIRST_PROBLEMS = 5  # problem lines kept with an attempt


@dataclass(frozen=True)
class Attempt:
    """One import attempt as recorded: ``report`` when it succeeded, else the problem lines."""

    source: str
    ok: bool
    files: list[str]
    rows: int
    problems: list[str]
    report: ImportReport | None = None


def rows_of(report: ImportReport) -> int:
    return sum(c.added + c.updated + c.unchanged + c.removed for c in report.counts.values())


async def record(pool: SessionPool, attempt: Attempt, started_at: datetime, duration: float) -> None:
    """Keep ``attempt`` in ``import_attempts`` (``started_at`` UTC, naive; ``duration`` seconds)."""
    async with pool() as session, session.begin():
        session.add(ImportAttempt(
            source=attempt.source, started_at=started_at, duration_ms=round(duration * 1000), ok=attempt.ok,
            files=json.dumps(attempt.files, ensure_ascii=False), rows=attempt.rows,
            problems=len(attempt.problems), first_problems="\n".join(attempt.problems[:FIRST_PROBLEMS]),
        ))  # fmt: skip


async def run_import(
    pool: SessionPool, source: str, paths: Sequence[Path], now_utc: datetime, *, zone: ZoneInfo, pbx_zone: ZoneInfo
) -> Attempt:
    """``import_paths`` on ``paths``, recorded as one attempt of ``source``; never raises
    :class:`ImportFailed` (its lines are the attempt's problems)."""
    started = timing.monotonic()
    try:
        report = await import_paths(pool, paths, zone=zone, pbx_zone=pbx_zone, now=now_utc)
    except ImportFailed as failure:
        attempt = Attempt(source, False, [p.name for p in paths], 0, failure.problems)
    else:
        attempt = Attempt(source, True, report.files, rows_of(report), [], report)
    await record(pool, attempt, now_utc, timing.monotonic() - started)
    return attempt


async def run_sync(pool: SessionPool, settings: ODataSettings, now_utc: datetime, *, backoff: float = 1.0) -> Attempt:
    """:func:`~db.importer.odata.sync_odata`, recorded as one attempt of source ``odata``; never
    raises for what 1C, the mapping or the entries did wrong: a 401/403/404, a 5xx that outlasted the
    retries (:class:`ODataError`), a broken mapping file (:class:`MappingError`) or entries that break
    the value rules (:class:`ImportFailed`) become the attempt's problem lines, and nothing is written.
    ``files`` are the entity sets imported (none when the sync failed)."""
    from db.importer.odata import ODataError, sync_odata  # aiohttp: only where a sync runs
    from db.importer.odata_mapping import MappingError

    started = timing.monotonic()
    try:
        report = await sync_odata(pool, settings, now_utc, backoff=backoff)
    except ImportFailed as failure:
        attempt = Attempt("odata", False, [], 0, failure.problems)
    except ODataError as error:
        attempt = Attempt("odata", False, [], 0, [f"(1C OData): {error}"])
    except MappingError as error:
        attempt = Attempt("odata", False, [], 0, [f"(ODATA_MAPPING): {error}"])
    else:
        attempt = Attempt("odata", True, report.files, rows_of(report), [], report)
    await record(pool, attempt, now_utc, timing.monotonic() - started)
    return attempt


async def last_attempts(session: AsyncSession) -> list[ImportAttempt]:
    """The latest attempt of each source, by source name."""
    latest = select(ImportAttempt.source, func.max(ImportAttempt.id).label("id")).group_by(ImportAttempt.source)
    ids = [row.id for row in await session.execute(latest)]
    if not ids:
        return []
    rows = await session.execute(select(ImportAttempt).where(ImportAttempt.id.in_(ids)).order_by(ImportAttempt.source))
    return list(rows.scalars())


async def night_attempted(session: AsyncSession, source: str, since_utc: datetime) -> bool:
    statement = select(func.count()).where(ImportAttempt.source == source, ImportAttempt.started_at >= since_utc)
    return bool((await session.execute(statement)).scalar_one())


async def night_failed(session: AsyncSession, sources: Sequence[str], since_utc: datetime, until_utc: datetime) -> bool:
    """Whether the night's run of any of ``sources`` failed: its latest attempt in
    [``since_utc``, ``until_utc``] (the night's ``IMPORT_TIME`` to the moment asked, naive UTC) was
    not ok. A source with no attempt in the window is not counted here (the admins are told of a
    missing run by the job itself)."""
    for source in sources:
        latest = (
            select(ImportAttempt.ok)
            .where(ImportAttempt.source == source, ImportAttempt.started_at >= since_utc,
                   ImportAttempt.started_at <= until_utc)
            .order_by(ImportAttempt.started_at.desc(), ImportAttempt.id.desc())
            .limit(1)
        )  # fmt: skip
        if (await session.execute(latest)).scalar() is False:
            return True
    return False
