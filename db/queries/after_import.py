"""What every import does last, inside its transaction (one call from ``db.importer.run``): keep the
collection ledger of the contracts it touched and recompute the stored finding runs of the days whose
calls, meetings, PBX records or documents it touched. Screens and digests only read the results.

On PostgreSQL it first analyses each table the import changed by more than autovacuum's own
threshold: autovacuum analyses only after the commit, so without this the hook's reads would be
planned on statistics from before a bulk load (a payments read by contract chunk then scanned every
payment through the date index: 108 s instead of 30 s for a tenth-size payments import).

What the import touched comes from the import's own staging tables (``db.importer.writer.Staging``):
the contracts it wrote or removed and the contracts of the payments it wrote (before and after a
move) or removed, and the ids of the rows it wrote; a row skipped as unchanged by its digest touches
nothing, so an entity whose rows all came back unchanged touches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TextualSelect

from db.models import Document, FindingRun, Interaction, PbxCall
from db.queries import recompute_finding_runs
from db.queries.ledger import LedgerUpdate, keep_ledgers

DISCIPLINE_ENTITIES = ("interactions", "pbx", "documents")
TABLES_WRITTEN = {
    "contracts": ("clients", "contracts"),
    "payments": ("payments",),
    "interactions": ("interactions",),
    "pbx": ("pbx_calls",),
    "documents": ("documents",),
}  # the tables the hook reads that each entity's import writes
ANALYZE_THRESHOLD = 50  # PostgreSQL's autovacuum_analyze_threshold and _scale_factor defaults:
ANALYZE_SCALE_FACTOR = 0.1  # a table is analysed once more rows changed than 50 + 10 % of its rows


class Changed(Protocol):
    """An import's counts of one entity (``db.importer.report.Counts``)."""

    added: int
    updated: int
    removed: int


class Touched(Protocol):
    """What an import touched (``db.importer.writer.Staging``)."""

    touched_contracts: set[str]

    def written_ids(self, entity: str) -> TextualSelect | None:
        """A subquery of the ids of ``entity``'s rows this import wrote (``None``: none)."""


def _changed(counts: Mapping[str, Changed], entity: str) -> bool:
    c = counts.get(entity)
    return c is not None and bool(c.added or c.updated or c.removed)


async def after_import(
    session: AsyncSession, counts: Mapping[str, Changed], today: date, now: datetime, touched: Touched
) -> tuple[LedgerUpdate | None, list[date]]:
    """Keep the ledger of the contracts this import touched (payments' contracts, contracts read,
    contracts removed or that lost a payment) as of ``today`` (the office's local date of the
    import), and recompute the finding runs from the earliest day it touched on. ``now``: UTC, naive.
    Returns the ledger update (``None`` when nothing collection-related changed) and the days whose
    findings were recomputed."""
    await _analyse_bulk_writes(session, counts)
    update: LedgerUpdate | None = None
    if _changed(counts, "payments") or _changed(counts, "contracts"):
        moved = any(
            c is not None and (c.removed or (entity == "payments" and c.updated))
            for entity, c in ((e, counts.get(e)) for e in ("payments", "contracts"))
        )  # a payment moved to another contract, or removed: its old contract counts one too many
        update = await keep_ledgers(session, today, now, set(touched.touched_contracts), removed=moved)
    days: list[date] = []
    if any(_changed(counts, e) for e in DISCIPLINE_ENTITIES) and await _has_runs(session):
        removed = any((c := counts.get(e)) is not None and c.removed for e in DISCIPLINE_ENTITIES)
        since = None if removed else await _earliest_touched(session, counts, touched)
        days = await recompute_finding_runs(session, since, now)
    return update, days


async def _analyse_bulk_writes(session: AsyncSession, counts: Mapping[str, Changed]) -> list[str]:
    """On PostgreSQL, ``ANALYZE`` inside the import's transaction each table of :data:`TABLES_WRITTEN`
    whose entity changed more rows than autovacuum's rule (50 + 10 % of the rows the statistics
    counted; a never-analysed table counts 0), so the hook's reads are planned on its new contents.
    Returns the tables analysed (none on SQLite, whose planner has no such statistics until
    ``ANALYZE`` and does not need them for these reads)."""
    if (await session.connection()).dialect.name != "postgresql":
        return []
    analysed: list[str] = []
    for entity, tables in TABLES_WRITTEN.items():
        c = counts.get(entity)
        if c is None or not (changed := c.added + c.updated + c.removed):
            continue
        for table in tables:
            counted = (await session.execute(
                text("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = to_regclass(:table)"), {"table": table}
            )).scalar()  # fmt: skip
            if counted is not None and changed > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * counted:
                await session.execute(text(f"ANALYZE {table}"))
                analysed.append(table)
    return analysed


async def _has_runs(session: AsyncSession) -> bool:
    """Whether any stored finding run can be recomputed (none before the first morning: then the
    days an import touched are not looked up at all)."""
    statement = select(FindingRun.day).where(FindingRun.as_of.is_not(None)).limit(1)
    return (await session.execute(statement)).first() is not None


async def _earliest_touched(session: AsyncSession, counts: Mapping[str, Changed], touched: Touched) -> date | None:
    """The earliest local day among the calls, meetings, PBX records and documents the import wrote
    (``None``: nothing found, so every run)."""
    found: list[Any] = []
    if _changed(counts, "interactions") and (read := touched.written_ids("interactions")) is not None:
        for column in (Interaction.planned_at, Interaction.done_at):
            found.append((await session.execute(select(func.min(column)).where(Interaction.id.in_(read)))).scalar())
    if _changed(counts, "pbx") and (read := touched.written_ids("pbx")) is not None:
        found.append((await session.execute(select(func.min(PbxCall.started_at)).where(PbxCall.id.in_(read)))).scalar())
    if _changed(counts, "documents") and (read := touched.written_ids("documents")) is not None:
        found.append((await session.execute(select(func.min(Document.doc_date)).where(Document.id.in_(read)))).scalar())
    days = [_day(value) for value in found if value is not None]
    return min(days) if days else None


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite returns MIN over a date/time column as text
