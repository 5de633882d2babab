"""Building the morning digests: the queries, the rules and the texts for one employee and one day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.rules import Collection, ContractPosition, Month, Tier, summarize
from bot.settings import Settings
from db import queries
from db.models import Employee


@dataclass(frozen=True)
class Digest:
    employee_id: str
    name: str
    role: str
    text: str


def local_time(moment_utc: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A naive UTC timestamp from the database as naive local time in ``zone``."""
    if moment_utc is None:
        return None
    return moment_utc.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def below_first_tier(collection: Collection, tiers: tuple[Tier, ...]) -> bool:
    return collection.base > 0 and collection.coefficient == 0 and bool(tiers)


def team_total(month: Month, members: list[queries.ManagerMonth], tiers: tuple[Tier, ...]) -> Collection:
    positions: list[ContractPosition] = [p for m in members for p in m.positions]
    return summarize(month, positions, tiers)


def worst_first(figures: dict[str, queries.ManagerMonth], names: dict[str, str]) -> list[tuple[str, str, Collection]]:
    """(name, manager id, collection), lowest percent first, managers without base last, ties by name
    then id. The digest and /team both order by this, so they always list managers alike."""
    return sorted(
        ((names[mid], mid, figure.collection) for mid, figure in figures.items()),
        key=lambda item: (item[2].percent is None, item[2].percent or 0, item[0], item[1]),
    )


async def build_digest(session: AsyncSession, employee: Employee, today: date, settings: Settings) -> Digest:
    tiers = settings.kpi_tiers
    month = Month.of(today)
    imported_at = local_time(await queries.last_import_at(session), settings.zone)
    if employee.role == "manager":
        figure = await queries.collection_of(session, employee.id, month, today, tiers)
        clients = {cid: info.client for cid, info in figure.contracts.items()}
        awaiting = {p.contract_id: p.awaiting for p in figure.positions}
        text = texts.manager_digest(employee.name, figure.collection, clients, awaiting, imported_at)
    else:
        managers = await queries.managers_in_scope(session, employee)
        figures = await queries.collections(session, [m.id for m in managers], month, today, tiers)
        names = {m.id: m.name for m in managers}
        title = f"Команда «{employee.team}»" if employee.role == "supervisor" else "Все команды"
        total = team_total(month, list(figures.values()), tiers)
        members = worst_first(figures, names)
        text = texts.team_digest(
            employee.name,
            title,
            total,
            [(name, c, below_first_tier(c, tiers)) for name, _, c in members],
            imported_at,
        )
    return Digest(employee.id, employee.name, employee.role, text)
