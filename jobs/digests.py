"""Building the morning digests: the queries, the rules and the texts for one employee and one day.

No aiogram here: ``kpibot digest`` and ``kpibot demo`` print digests without paying for it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.clock import local_moment, local_of_aware, maybe_local_of_utc, utc_of_local
from bot.rules import (
    RULE_ORDER,
    Collection,
    ContractPosition,
    Discipline,
    Finding,
    Month,
    Period,
    Tier,
    awaiting_by_client,
    summarize,
    working_week,
)
from bot.rules.team import below_first_tier, totals_of_team, worst_first
from bot.settings import Settings
from db import queries
from db.attempts import night_failed
from db.models import DailyFigure, Employee
from db.queries import ledger


@dataclass(frozen=True)
class Digest:
    employee_id: str
    name: str
    role: str
    text: str


@dataclass
class Morning:
    """What all digests of one day share, read once: data freshness, the previous digests' figures,
    and (filled as needed) each manager's month."""

    today: date
    imported_at: datetime | None  # local, naive
    stale: bool
    previous: dict[str, DailyFigure]
    imported_later: bool = False  # nothing imported by the day's moment, something after it (a replay)
    figures: dict[str, queries.ManagerMonth] = field(default_factory=dict)
    discipline: dict[str, Discipline] | None = None  # None: no calls, meetings or documents imported yet
    since: date | None = None  # the start of the discipline period
    fresh: list[Finding] | None = None  # today's findings computed in memory: a day the morning job never stored
    ledger: bool | None = None  # whether the stored ledger gives today's figures (None: not asked yet)
    digest_figures: dict[str, ledger.DigestFigure] = field(default_factory=dict)  # when ``ledger``
    owing: dict[str, list[tuple[str, str | None, int, int]]] | None = None  # every manager's owing clients


def local_time(moment_utc: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A naive UTC timestamp from the database as naive local time in ``zone`` (``bot.clock``)."""
    return maybe_local_of_utc(moment_utc, zone)


def is_stale(imported_at: datetime | None, previous_working_day: date | None) -> bool:
    """No import since the previous working day began (``imported_at`` local)."""
    if imported_at is None:
        return True
    return previous_working_day is not None and imported_at.date() < previous_working_day


async def night_run_failed(session: AsyncSession, today: date, as_of: datetime, settings: Settings) -> bool:
    """Whether ``today``'s night run (``IMPORT_TIME``, working days, of the sources ``kpibot run``
    imports: the folder and the OData sync) failed as of ``as_of`` (naive local) and nothing of that
    source succeeded since: the digests then say the data were not updated, as the admins were told
    (issue 13). No night run configured, a day off or a moment before ``IMPORT_TIME``: ``False``."""
    sources = settings.night_sources
    night = local_moment(today, settings.import_time)
    if not sources or as_of < night or not settings.calendar.is_working_day(today):
        return False
    zone = settings.zone
    return await night_failed(session, sources, utc_of_local(night, zone), utc_of_local(as_of, zone))


def team_total(month: Month, members: list[queries.ManagerMonth], tiers: tuple[Tier, ...]) -> Collection:
    positions: list[ContractPosition] = [p for m in members for p in m.positions]
    return summarize(month, positions, tiers)


def change_since(collection: Collection, previous: DailyFigure | None) -> Decimal | None:
    """Percentage points since the previous digest of the same month (``None``: nothing to compare)."""
    if previous is None or previous.percent is None or collection.percent is None:
        return None
    return collection.percent - Decimal(previous.percent).quantize(Decimal("0.01"))


async def morning(session: AsyncSession, today: date, settings: Settings, now: datetime | None = None) -> Morning:
    """What ``today``'s digests share. Discipline is as of ``today``'s digest moment (``DIGEST_TIME``),
    whatever ``now`` is, so a replayed day (``kpibot digest --date``) reads what that morning read;
    the data's freshness is judged as of ``now`` (aware, or naive local), by default that moment."""
    as_of = local_of_aware(now, settings.zone) if now is not None else local_moment(today, settings.digest_time)
    imported_at = local_time(
        await queries.last_import_at(session, until=utc_of_local(as_of, settings.zone)), settings.zone
    )
    stale = is_stale(imported_at, settings.calendar.previous_working_day(today))
    if not stale:
        stale = await night_run_failed(session, today, as_of, settings)
    context = Morning(today, imported_at, stale, await queries.previous_figures(session, today))
    if imported_at is None:
        context.imported_later = await queries.last_import_at(session) is not None
    if await queries.has_discipline_data(session):
        period, context.fresh = await queries.day_findings(
            session,
            today,
            previous_working_day=settings.calendar.previous_working_day(today),
            digest_time=settings.digest_time,
            limits=settings.thresholds,
        )  # stored by the morning job; a day it never computed (a replay) is computed, not stored
        context.discipline = {}
        context.since = period.start.date()
    return context


async def store_findings(
    session: AsyncSession, day: date, settings: Settings, computed_at: datetime | None = None
) -> Period:
    """The morning job's: compute and store ``day``'s discipline findings unless stored and no import
    came since: its period (from the previous working day), as of its digest moment. ``computed_at``:
    UTC, naive (default: the real time, as imports are stamped). Returns the period."""
    return await queries.store_findings(
        session,
        day,
        previous_working_day=settings.calendar.previous_working_day(day),
        digest_time=settings.digest_time,
        limits=settings.thresholds,
        computed_at=computed_at,
    )


async def discipline_for(
    session: AsyncSession, context: Morning, manager_ids: list[str], settings: Settings
) -> dict[str, Discipline] | None:
    if context.discipline is None:
        return None
    missing = [m for m in manager_ids if m not in context.discipline]
    if missing:
        week = working_week(context.today, settings.calendar.previous_working_day)
        context.discipline.update(await queries.discipline_of(session, missing, context.today, week, context.fresh))
    return {m: context.discipline[m] for m in manager_ids}


async def figures_of(
    session: AsyncSession, context: Morning, manager_ids: list[str], settings: Settings
) -> dict[str, queries.ManagerMonth]:
    missing = [m for m in manager_ids if m not in context.figures]
    if missing:
        month = Month.of(context.today)
        context.figures.update(await queries.collections(session, missing, month, context.today, settings.kpi_tiers))
    return {m: context.figures[m] for m in manager_ids}


async def ledger_serves(session: AsyncSession, context: Morning) -> bool:
    """Whether the stored ledger gives the morning's figures: asked once per morning."""
    if context.ledger is None:
        context.ledger = await ledger.ledger_serves(session, context.today)
    return context.ledger


async def digest_figures_of(
    session: AsyncSession, context: Morning, manager_ids: list[str], settings: Settings
) -> dict[str, ledger.DigestFigure]:
    """The managers' figures from the ledger (only when :func:`ledger_serves`), read once a morning."""
    missing = [m for m in manager_ids if m not in context.digest_figures]
    if missing:
        context.digest_figures.update(await ledger.digest_figures(session, missing, context.today, settings.kpi_tiers))
    return {m: context.digest_figures[m] for m in manager_ids}


async def owing_of(
    session: AsyncSession, context: Morning, manager_ids: list[str]
) -> dict[str, list[tuple[str, str | None, int, int]]]:
    """Each manager's owing clients as :func:`client_debts` gives them, names not read (``None``),
    from the ledger (only when :func:`ledger_serves`): every manager's read once a morning."""
    if context.owing is None:
        context.owing = {}
        every = [e.id for e in await queries.list_employees(session) if e.role == "manager"]
        missing = sorted(set(manager_ids) | set(every))
    else:
        missing = [m for m in manager_ids if m not in context.owing]
    if missing:
        today = context.today
        for manager_id, rows in (await ledger.owing_clients(session, missing)).items():
            context.owing[manager_id] = [(o.client_id, None, o.debt, (today - o.oldest).days) for o in rows]
    return {m: context.owing[m] for m in manager_ids}


async def collections_of(
    session: AsyncSession, context: Morning, manager_ids: list[str], settings: Settings
) -> dict[str, Collection]:
    """The managers' collections of the morning (the ledger's totals when it serves)."""
    if await ledger_serves(session, context):
        return {m: f.collection for m, f in (await digest_figures_of(session, context, manager_ids, settings)).items()}
    return {m: f.collection for m, f in (await figures_of(session, context, manager_ids, settings)).items()}


async def prepare(session: AsyncSession, context: Morning, employees: list[Employee], settings: Settings) -> None:
    """The shared reads of a morning's digests for ``employees``: every manager's figures and
    discipline in one read each (instead of one read per digest), and, for supervisors and admins,
    every manager's owing clients. Optional: :func:`build_digest` reads what is missing."""
    managers = [e.id for e in await queries.list_employees(session, active_only=True) if e.role == "manager"]
    if await ledger_serves(session, context):
        await digest_figures_of(session, context, managers, settings)
        if any(e.role != "manager" for e in employees):
            await owing_of(session, context, managers)
    else:
        await figures_of(session, context, managers, settings)
    await discipline_for(session, context, managers, settings)


async def build_digest(
    session: AsyncSession, employee: Employee, today: date, settings: Settings, context: Morning | None = None
) -> Digest:
    if context is None:
        context = await morning(session, today, settings)
    tiers = settings.kpi_tiers
    warning = texts.stale_warning(context.imported_at, imported_later=context.imported_later) if context.stale else None
    if employee.role == "manager":
        if await ledger_serves(session, context):
            light = (await digest_figures_of(session, context, [employee.id], settings))[employee.id]
            collection, clients, awaiting = light.collection, light.clients, light.awaiting
        else:
            figure = (await figures_of(session, context, [employee.id], settings))[employee.id]
            collection, clients = figure.collection, figure.client_names()
            awaiting = awaiting_by_client(figure.positions)
        own = await discipline_for(session, context, [employee.id], settings)
        blocks = [texts.discipline_block(own[employee.id].counts, context.since)] if own and context.since else []
        text = texts.manager_digest(
            employee.name,
            collection,
            clients,
            awaiting,
            context.imported_at,
            blocks,
            warning=warning,
            change=change_since(collection, context.previous.get(employee.id)),
        )
    else:
        managers = await queries.managers_in_scope(session, employee)
        ids = [m.id for m in managers]
        names = {m.id: m.name for m in managers}
        departed = await queries.departed_in_scope(session, employee)  # their contracts: "без менеджера"
        orphans = await figures_of(session, context, [d.id for d in departed], settings)
        unassigned = team_total(Month.of(today), list(orphans.values()), tiers) if orphans else None
        waiting = sum(1 for f in orphans.values() for p in f.positions if p.base or p.debt or p.awaiting)
        title = f"Команда «{employee.team}»" if employee.role == "supervisor" else "Все команды"
        if await ledger_serves(session, context):  # the ledger's totals: no position per contract read
            light = await digest_figures_of(session, context, ids, settings)
            collections = {m: f.collection for m, f in light.items()}
            debts = await owing_of(session, context, ids)
            debtors = {client for rows in debts.values() for client, *_ in rows}  # a client once across the team
            debtors.update(p.client_id for f in orphans.values() for p in f.positions if p.debt > 0)
            members_and_orphans = [*collections.values(), *(f.collection for f in orphans.values())]
            total = dataclasses.replace(
                totals_of_team(Month.of(today), members_and_orphans, tiers), debtors=len(debtors)
            )
        else:
            figures = await figures_of(session, context, ids, settings)
            collections = {m: f.collection for m, f in figures.items()}
            debts = {m: client_debts(f) for m, f in figures.items()}
            total = team_total(Month.of(today), [*figures.values(), *orphans.values()], tiers)
        debts.update({d: client_debts(f) for d, f in orphans.items()})
        members = worst_first(collections, names)
        everyone = {**names, **dict.fromkeys(orphans, texts.UNASSIGNED)}
        old_debts = await old_debts_of(session, debts, everyone, settings.escalate_after_days)
        attention = attention_of(members, old_debts, context, settings.escalate_after_days, unassigned=waiting)
        team = await discipline_for(session, context, [m.id for m in managers], settings)
        escalations = texts.escalations_block(escalation_items(team, names, settings)) if team else None
        orphan_line = texts.unassigned_line(unassigned, waiting) if unassigned is not None else None
        text = texts.team_digest(
            employee.name,
            title,
            total,
            [(name, c, below_first_tier(c, tiers), column(team, mid)) for name, mid, c in members],
            context.imported_at,
            [block for block in (orphan_line, attention, escalations) if block],
            warning=warning,
        )
    return Digest(employee.id, employee.name, employee.role, text)


def column(team: dict[str, Discipline] | None, manager_id: str) -> str:
    if not team:
        return ""
    own = team[manager_id]
    return texts.discipline_column(own.total, own.week, own.previous_week)


def escalation_items(team: dict[str, Discipline], names: dict[str, str], settings: Settings) -> list[str]:
    """Originals past ORIGINALS_ESCALATE_DAYS, and rules a manager broke every working day of a week."""
    items = []
    for manager_id in sorted(team, key=lambda m: (names[m], m)):
        own = team[manager_id]
        if own.originals_overdue:
            oldest = max(f.value for f in own.originals_overdue)
            items.append(texts.overdue_originals_item(names[manager_id], len(own.originals_overdue), oldest,
                                                      settings.originals_escalate_days))  # fmt: skip
        repeated = [rule for rule in RULE_ORDER if rule in own.every_day]
        if repeated:
            items.append(texts.every_day_item(names[manager_id], repeated))
    return items


def client_debts(figure: queries.ManagerMonth) -> list[tuple[str, str | None, int, int]]:
    """(client id, client name, debt in kopecks, age in days of its oldest unpaid month) per client
    with debt, in the order of its first such contract: a client with two unpaid contracts is one
    debtor."""
    debts: dict[str, tuple[str, str | None, int, int]] = {}
    for p in figure.positions:
        if p.debt > 0:
            _, name, debt, age = debts.get(p.client_id, (p.client_id, figure.contracts[p.contract_id].client, 0, 0))
            debts[p.client_id] = (p.client_id, name, debt + p.debt, max(age, p.debt_age_days))
    return list(debts.values())


ATTENTION_SHOWN = 5  # the debts texts.attention_block names


async def old_debts_of(
    session: AsyncSession,
    debts: dict[str, list[tuple[str, str | None, int, int]]],
    names: dict[str, str],
    escalate_after: int,
) -> list[tuple[str, str, int, int]]:
    """``(manager, client, debt, age)`` of every debt older than ``escalate_after`` days, largest
    first, then oldest, then by client name (``debts``: each manager's owing clients as
    :func:`client_debts` gives them; a name ``None`` is read here). Only the clients that can be
    among the first :data:`ATTENTION_SHOWN` have their names read and the rest are sorted without;
    the block shows only those and counts the rest."""
    old = [
        (manager_id, client_id, client, debt, age)
        for manager_id, owing in debts.items()
        for client_id, client, debt, age in owing
        if age > escalate_after
    ]
    old.sort(key=lambda item: (-item[3], -item[4]))  # stable: ties keep the managers' and contracts' order
    cut = len(old)
    if cut > ATTENTION_SHOWN:  # every debt tied with the last shown may be shown, by its name
        last = (old[ATTENTION_SHOWN - 1][3], old[ATTENTION_SHOWN - 1][4])
        cut = next((n for n in range(ATTENTION_SHOWN, len(old)) if (old[n][3], old[n][4]) != last), len(old))
    unnamed = {client_id for _, client_id, client, _, _ in old[:cut] if client is None}
    found = await queries.client_names(session, unnamed) if unnamed else {}
    head = sorted(
        (
            (names[m], found.get(c, "") if client is None else client, debt, age)
            for m, c, client, debt, age in old[:cut]
        ),
        key=lambda item: (-item[2], -item[3], item[1]),
    )
    return head + [(names[m], client or "", debt, age) for m, _, client, debt, age in old[cut:]]


def attention_of(
    members: list[tuple[str, str, Collection]],
    old_debts: list[tuple[str, str, int, int]],
    context: Morning,
    escalate_after: int,
    *,
    unassigned: int = 0,
) -> str | None:
    """Managers whose percent fell since their previous digest; debts older than ``escalate_after`` days
    as :func:`old_debts_of` orders them."""
    fell = []
    for name, manager_id, collection in members:
        before = context.previous.get(manager_id)
        change = change_since(collection, before)
        if change is not None and change < 0 and before is not None and collection.percent is not None:
            fell.append((name, collection.percent, collection.percent - change))
    return texts.attention_block(fell, old_debts, escalate_after, ATTENTION_SHOWN, unassigned=unassigned)
