"""What every import does last, inside its transaction (one call from ``db.importer.run``): keep the
collection ledger of the contracts it touched and recompute the stored finding runs of the days whose
calls, meetings, PBX records or documents it touched. Screens and digests only read the results.

What the import touched is read from the import's own table of the ids it read
(``kpibot_import_seen``, ``db.importer.writer.SeenIds``), so an entity whose rows all came back
unchanged touches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.importer.writer import SEEN
from db.models import Document, Interaction, Payment, PbxCall
from db.queries import recompute_finding_runs
from db.queries.ledger import LedgerUpdate, keep_ledgers

DISCIPLINE_ENTITIES = ("interactions", "pbx", "documents")


class Changed(Protocol):
    """An import's counts of one entity (``db.importer.report.Counts``)."""

    added: int
    updated: int
    removed: int


def _changed(counts: Mapping[str, Changed], entity: str) -> bool:
    c = counts.get(entity)
    return c is not None and bool(c.added or c.updated or c.removed)


async def after_import(
    session: AsyncSession, counts: Mapping[str, Changed], today: date, now: datetime
) -> tuple[LedgerUpdate | None, list[date]]:
    """Keep the ledger of the contracts this import touched (payments' contracts, contracts read,
    contracts removed or that lost a payment) as of ``today`` (the office's local date of the
    import), and recompute the finding runs from the earliest day it touched on. ``now``: UTC, naive.
    Returns the ledger update (``None`` when nothing collection-related changed) and the days whose
    findings were recomputed."""
    update: LedgerUpdate | None = None
    if _changed(counts, "payments") or _changed(counts, "contracts"):
        touched: set[str] = set()
        if _changed(counts, "payments"):
            read = select(SEEN.c.id).where(SEEN.c.entity == "payments")
            touched.update((await session.execute(
                select(Payment.contract_id).where(Payment.id.in_(read)).distinct()
            )).scalars())  # fmt: skip
        if _changed(counts, "contracts"):
            touched.update((await session.execute(select(SEEN.c.id).where(SEEN.c.entity == "contracts"))).scalars())
        moved = any(
            c is not None and (c.removed or (entity == "payments" and c.updated))
            for entity, c in ((e, counts.get(e)) for e in ("payments", "contracts"))
        )  # a payment moved to another contract, or removed: its old contract counts one too many
        update = await keep_ledgers(session, today, now, touched, removed=moved)
    days: list[date] = []
    if any(_changed(counts, e) for e in DISCIPLINE_ENTITIES):
        removed = any((c := counts.get(e)) is not None and c.removed for e in DISCIPLINE_ENTITIES)
        since = None if removed else await _earliest_touched(session, counts)
        days = await recompute_finding_runs(session, since, now)
    return update, days


async def _earliest_touched(session: AsyncSession, counts: Mapping[str, Changed]) -> date | None:
    """The earliest local day among the calls, meetings, PBX records and documents the import read
    (``None``: nothing found, so every run)."""
    found: list[Any] = []
    if _changed(counts, "interactions"):
        read = select(SEEN.c.id).where(SEEN.c.entity == "interactions")
        for column in (Interaction.planned_at, Interaction.done_at):
            found.append((await session.execute(select(func.min(column)).where(Interaction.id.in_(read)))).scalar())
    if _changed(counts, "pbx"):
        read = select(SEEN.c.id).where(SEEN.c.entity == "pbx")
        found.append((await session.execute(select(func.min(PbxCall.started_at)).where(PbxCall.id.in_(read)))).scalar())
    if _changed(counts, "documents"):
        read = select(SEEN.c.id).where(SEEN.c.entity == "documents")
        found.append((await session.execute(select(func.min(Document.doc_date)).where(Document.id.in_(read)))).scalar())
    days = [_day(value) for value in found if value is not None]
    return min(days) if days else None


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite returns MIN over a date/time column as text
