"""Queries: plain async functions taking the session first. They never commit; the caller does.

They turn rows into the plain records of ``bot.rules`` and back, and nothing else: arithmetic lives
in the rules.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import (
    Activity,
    Collection,
    ContractPosition,
    ContractTerms,
    Month,
    Paper,
    PaymentRecord,
    PhoneCall,
    Tier,
    collection_for,
    collection_of_totals,
)
from db.models import (
    Client,
    CollectionCache,
    Contract,
    DailyFigure,
    Document,
    Employee,
    FindingRow,
    FindingRun,
    ImportRun,
    Interaction,
    Invite,
    KpiSnapshot,
    OutboxMessage,
    Payment,
    PbxCall,
)

CHUNK = 900  # ids per IN (...) list: well under SQLite's and asyncpg's parameter limits


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignoring_duplicates(session: AsyncSession, model: type[Any]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect: safe when two processes race."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)).on_conflict_do_nothing()


# --------------------------------------------------------------------------------------------------
# Employees
# --------------------------------------------------------------------------------------------------


async def get_employee(session: AsyncSession, employee_id: str) -> Employee | None:
    return await session.get(Employee, employee_id)


async def employee_by_telegram(session: AsyncSession, telegram_id: int) -> Employee | None:
    result = await session.execute(select(Employee).where(Employee.telegram_id == telegram_id))
    return result.scalar_one_or_none()


async def list_employees(session: AsyncSession, *, active_only: bool = False) -> list[Employee]:
    statement = select(Employee).order_by(Employee.team, Employee.role, Employee.name)
    if active_only:
        statement = statement.where(Employee.active.is_(True))
    return list((await session.execute(statement)).scalars())


async def managers_in_scope(session: AsyncSession, viewer: Employee) -> list[Employee]:
    """Who ``viewer`` may see: a manager themself, a supervisor their team's managers, an admin all."""
    if viewer.role == "manager":
        return [viewer]
    statement = select(Employee).where(Employee.role == "manager", Employee.active.is_(True))
    if viewer.role == "supervisor":
        statement = statement.where(Employee.team == viewer.team)
    elif viewer.role != "admin":
        return []
    return list((await session.execute(statement.order_by(Employee.name))).scalars())


# --------------------------------------------------------------------------------------------------
# Contracts and payments as rule records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractInfo:
    """What people read about a contract (the rules need only ``ContractTerms``)."""

    id: str
    number: str
    client_id: str
    client: str
    title: str
    manager_id: str
    monthly_fee: int
    start: date
    months: int | None
    closed_on: date | None


def _info(contract: Contract, client: str) -> ContractInfo:
    return ContractInfo(
        id=contract.id,
        number=contract.number,
        client_id=contract.client_id,
        client=client,
        title=contract.title,
        manager_id=contract.manager_id,
        monthly_fee=contract.monthly_fee,
        start=contract.start,
        months=contract.months,
        closed_on=contract.closed_on,
    )


async def contracts_of(session: AsyncSession, manager_ids: Sequence[str]) -> list[ContractInfo]:
    infos: list[ContractInfo] = []
    for chunk in _chunks(list(manager_ids)):
        rows = await session.execute(
            select(Contract, Client.name)
            .join(Client, Client.id == Contract.client_id)
            .where(Contract.manager_id.in_(chunk))
            .order_by(Contract.id)
        )
        infos.extend(_info(contract, client) for contract, client in rows)
    return infos


def terms_of(info: ContractInfo) -> ContractTerms:
    return ContractTerms(
        id=info.id,
        manager_id=info.manager_id,
        monthly_fee=info.monthly_fee,
        start=Month.of(info.start),
        months=info.months,
        closed_on=info.closed_on,
    )


async def payments_of_managers(session: AsyncSession, manager_ids: Sequence[str]) -> list[PaymentRecord]:
    """Every payment on these managers' contracts. The hot read of the morning (millions of rows for
    a large network): on SQLite the rows come through the driver as text and each distinct date is
    parsed once."""
    records: list[PaymentRecord] = []
    sqlite = session.bind is not None and session.bind.dialect.name == "sqlite"
    for chunk in _chunks(list(manager_ids)):
        if sqlite:
            marks = ", ".join("?" * len(chunk))
            rows = await (await session.connection()).exec_driver_sql(
                "SELECT p.id, p.contract_id, p.paid_on, p.amount, p.period FROM payments p "
                f"JOIN contracts c ON c.id = p.contract_id WHERE c.manager_id IN ({marks})",
                tuple(chunk),
            )
            records.extend(
                PaymentRecord(pid, contract_id, _iso_day(paid_on), amount, _iso_month(period) if period else None)
                for pid, contract_id, paid_on, amount, period in rows
            )
            continue
        rows = await session.execute(
            select(Payment.id, Payment.contract_id, Payment.paid_on, Payment.amount, Payment.period)
            .join(Contract, Contract.id == Payment.contract_id)
            .where(Contract.manager_id.in_(chunk))
        )
        records.extend(
            PaymentRecord(pid, contract_id, paid_on, amount, Month.of(period) if period else None)
            for pid, contract_id, paid_on, amount, period in rows
        )
    return records


@lru_cache(maxsize=1 << 16)
def _iso_day(raw: str) -> date:
    return date.fromisoformat(raw)


@lru_cache(maxsize=1 << 12)
def _iso_month(raw: str) -> Month:
    return Month.of(date.fromisoformat(raw))


async def payments_of_contract(session: AsyncSession, contract_id: str) -> list[PaymentRecord]:
    rows = await session.execute(
        select(Payment.id, Payment.contract_id, Payment.paid_on, Payment.amount, Payment.period)
        .where(Payment.contract_id == contract_id)
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
    )
    return [
        PaymentRecord(id=p, contract_id=c, paid_on=d, amount=a, period=Month.of(m) if m else None)
        for p, c, d, a, m in rows
    ]


# --------------------------------------------------------------------------------------------------
# Collection (KPI1)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagerMonth:
    """One manager's month: the collection, each contract's position and what people read."""

    manager_id: str
    collection: Collection
    positions: list[ContractPosition]
    contracts: dict[str, ContractInfo]


async def collections(
    session: AsyncSession,
    manager_ids: Sequence[str],
    month: Month,
    today: date,
    tiers: Sequence[Tier],
) -> dict[str, ManagerMonth]:
    """The month's collection for each manager, computed by the rules from the stored data."""
    infos = await contracts_of(session, manager_ids)
    payments = await payments_of_managers(session, manager_ids)
    by_manager: dict[str, list[ContractInfo]] = {m: [] for m in manager_ids}
    for info in infos:
        by_manager.setdefault(info.manager_id, []).append(info)
    payments_by_manager: dict[str, list[PaymentRecord]] = {m: [] for m in manager_ids}
    manager_of_contract = {info.id: info.manager_id for info in infos}
    for payment in payments:
        payments_by_manager[manager_of_contract[payment.contract_id]].append(payment)
    result: dict[str, ManagerMonth] = {}
    for manager_id in manager_ids:
        own = by_manager.get(manager_id, [])
        collection, positions = collection_for(
            month, today, [terms_of(i) for i in own], payments_by_manager.get(manager_id, []), tiers
        )
        result[manager_id] = ManagerMonth(manager_id, collection, positions, {i.id: i for i in own})
    return result


async def collection_totals(
    session: AsyncSession, manager_ids: Sequence[str], month: Month, today: date, tiers: Sequence[Tier]
) -> dict[str, Collection]:
    """Each manager's month without the per-contract detail, from the cache when it was computed
    today from the latest import; the rest is computed, and cached."""
    imported_at = await last_import_at(session)
    found: dict[str, Collection] = {}
    for chunk in _chunks(list(manager_ids)):
        rows = await session.execute(
            select(CollectionCache).where(
                CollectionCache.manager_id.in_(chunk), CollectionCache.month == str(month), CollectionCache.day == today
            )
        )
        for row in rows.scalars():
            if row.imported_at == imported_at:
                found[row.manager_id] = collection_of_totals(
                    month, row.base, row.paid, row.awaiting, row.debt, row.debtors, tiers
                )
    missing = [m for m in manager_ids if m not in found]
    if missing:
        computed = await collections(session, missing, month, today, tiers)
        await remember_totals(session, computed.values(), month, today, imported_at)
        found.update({m: figure.collection for m, figure in computed.items()})
    return {m: found[m] for m in manager_ids}


async def remember_totals(
    session: AsyncSession, figures: Iterable[ManagerMonth], month: Month, today: date, imported_at: datetime | None
) -> None:
    figures = list(figures)
    ids = [f.manager_id for f in figures]
    for chunk in _chunks(ids):
        await session.execute(
            delete(CollectionCache).where(
                CollectionCache.manager_id.in_(chunk), CollectionCache.month == str(month), CollectionCache.day == today
            )
        )
    rows = [
        {"manager_id": f.manager_id, "month": str(month), "day": today, "imported_at": imported_at,
         "base": f.collection.base, "paid": f.collection.paid, "awaiting": f.collection.awaiting,
         "debt": f.collection.debt, "debtors": f.collection.debtors}
        for f in figures
    ]  # fmt: skip
    for start in range(0, len(rows), 500):
        await session.execute(insert_ignoring_duplicates(session, CollectionCache), rows[start : start + 500])


async def collection_of(
    session: AsyncSession, manager_id: str, month: Month, today: date, tiers: Sequence[Tier]
) -> ManagerMonth:
    return (await collections(session, [manager_id], month, today, tiers))[manager_id]


# --------------------------------------------------------------------------------------------------
# Data freshness and month-end snapshots
# --------------------------------------------------------------------------------------------------


async def last_import_at(session: AsyncSession) -> datetime | None:
    """When the last successful import finished (UTC, naive), or ``None``."""
    return (await session.execute(select(func.max(ImportRun.finished_at)))).scalar_one_or_none()


async def get_snapshot(session: AsyncSession, manager_id: str, month: Month) -> KpiSnapshot | None:
    result = await session.execute(
        select(KpiSnapshot).where(KpiSnapshot.manager_id == manager_id, KpiSnapshot.month == str(month))
    )
    return result.scalar_one_or_none()


async def freeze_month(session: AsyncSession, month: Month, today: date, tiers: Sequence[Tier], now: datetime) -> int:
    """Freeze ``month``'s figures for every manager who has none frozen yet; returns how many.

    Called when the month is over (by the first digest of the next month). An existing snapshot is
    never rewritten, so a late payment cannot change a KPI that was already reported.
    """
    if month >= Month.of(today):
        raise ValueError(f"month {month} is not finished on {today}")
    frozen = set(
        (await session.execute(select(KpiSnapshot.manager_id).where(KpiSnapshot.month == str(month)))).scalars()
    )
    managers = [m.id for m in await list_employees(session) if m.role == "manager" and m.id not in frozen]
    if not managers:
        return 0
    figures = await collections(session, managers, month, today, tiers)
    rows = [
        {
            "manager_id": manager_id,
            "month": str(month),
            "base": figure.collection.base,
            "paid": figure.collection.paid,
            "percent": figure.collection.percent,
            "coefficient": figure.collection.coefficient,
            "frozen_at": now,
        }
        for manager_id, figure in figures.items()
        if figure.collection.base or figure.collection.paid
    ]
    if rows:  # another process may freeze the same month at the same moment: the first one wins
        await session.execute(insert_ignoring_duplicates(session, KpiSnapshot), rows)
    return len(rows)


def snapshot_percent(snapshot: KpiSnapshot) -> Decimal | None:
    return Decimal(snapshot.percent).quantize(Decimal("0.01")) if snapshot.percent is not None else None


# --------------------------------------------------------------------------------------------------
# Contracts one by one
# --------------------------------------------------------------------------------------------------


async def get_contract(session: AsyncSession, contract_id: str) -> ContractInfo | None:
    statement = select(Contract, Client.name).join(Client, Client.id == Contract.client_id)
    row = (await session.execute(statement.where(Contract.id == contract_id))).first()
    if row is None:
        return None
    return _info(*row)


# --------------------------------------------------------------------------------------------------
# Invitations and linking Telegram accounts
# --------------------------------------------------------------------------------------------------

INVITE_DAYS = 7


async def create_invite(session: AsyncSession, employee_id: str, now: datetime) -> Invite:
    invite = Invite(
        token=secrets.token_urlsafe(18),
        employee_id=employee_id,
        created_at=now,
        expires_at=now + timedelta(days=INVITE_DAYS),
    )
    session.add(invite)
    await session.flush()
    return invite


class Redeemed(enum.Enum):
    LINKED = "linked"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    INACTIVE = "inactive"
    TAKEN = "taken"  # this Telegram account already belongs to another employee


async def redeem_invite(
    session: AsyncSession, token: str, telegram_id: int, now: datetime
) -> tuple[Redeemed, Employee | None]:
    """Bind ``telegram_id`` to the invited employee; single use, valid for ``INVITE_DAYS``."""
    invite = (await session.execute(select(Invite).where(Invite.token == token).with_for_update())).scalar_one_or_none()
    if invite is None:
        return Redeemed.UNKNOWN, None
    if invite.used_at is not None:
        return Redeemed.USED, None
    if invite.expires_at <= now:
        return Redeemed.EXPIRED, None
    employee = await session.get(Employee, invite.employee_id)
    if employee is None or not employee.active:
        return Redeemed.INACTIVE, None
    owner = await employee_by_telegram(session, telegram_id)
    if owner is not None and owner.id != employee.id:
        return Redeemed.TAKEN, owner
    invite.used_at = now
    invite.used_by = telegram_id
    employee.telegram_id = telegram_id
    employee.unreachable_since = None
    await session.flush()
    return Redeemed.LINKED, employee


def matching_employees(employees: Iterable[Employee], text: str) -> list[Employee]:
    """Employees whose id equals ``text`` or whose name contains it (case-insensitive, ё = е)."""
    key = text.strip().casefold().replace("ё", "е")
    if not key:
        return []
    exact = [e for e in employees if e.id.casefold() == key]
    if exact:
        return exact
    return [e for e in employees if key in e.name.casefold().replace("ё", "е")]


# --------------------------------------------------------------------------------------------------
# The morning: who is due a digest, and the figures of the previous digests
# --------------------------------------------------------------------------------------------------


async def due_for_digest(session: AsyncSession, today: date) -> list[Employee]:
    """Linked, active, reachable, not paused employees without today's digest in the outbox.
    Their digest time is checked by the caller."""
    already = exists().where(
        OutboxMessage.employee_id == Employee.id, OutboxMessage.kind == "digest", OutboxMessage.day == today
    )
    statement = (
        select(Employee)
        .where(
            Employee.active.is_(True),
            Employee.telegram_id.is_not(None),
            Employee.unreachable_since.is_(None),
            or_(Employee.paused_until.is_(None), Employee.paused_until < today),
            ~already,
        )
        .order_by(Employee.id)
    )
    return list((await session.execute(statement)).scalars())


async def record_figures(session: AsyncSession, today: date, figures: Iterable[ManagerMonth]) -> None:
    """Keep today's collection per manager (the first record of the day stays)."""
    rows = [
        {
            "manager_id": figure.manager_id,
            "day": today,
            "base": figure.collection.base,
            "paid": figure.collection.paid,
            "percent": figure.collection.percent,
        }
        for figure in figures
    ]
    for chunk_start in range(0, len(rows), CHUNK):
        await session.execute(insert_ignoring_duplicates(session, DailyFigure), rows[chunk_start : chunk_start + CHUNK])


async def figures_recorded(session: AsyncSession, today: date) -> bool:
    return (await session.execute(select(DailyFigure.id).where(DailyFigure.day == today).limit(1))).first() is not None


async def previous_figures(session: AsyncSession, today: date) -> dict[str, DailyFigure]:
    """Each manager's latest recorded figure before ``today`` within today's month."""
    statement = (
        select(DailyFigure)
        .where(DailyFigure.day < today, DailyFigure.day >= Month.of(today).first_day())
        .order_by(DailyFigure.day)
    )
    return {figure.manager_id: figure for figure in (await session.execute(statement)).scalars()}


async def outbox_history(session: AsyncSession, day: date | None = None) -> list[tuple[OutboxMessage, str]]:
    """The outbox rows (of ``day``, or all), with the employee's name, oldest first."""
    statement = select(OutboxMessage, Employee.name).join(Employee, Employee.id == OutboxMessage.employee_id)
    if day is not None:
        statement = statement.where(OutboxMessage.day == day)
    statement = statement.order_by(OutboxMessage.day, OutboxMessage.created_at, OutboxMessage.id)
    return [(row, name) for row, name in (await session.execute(statement)).all()]


# --------------------------------------------------------------------------------------------------
# Discipline: the raw records the rules read, and the stored findings
# --------------------------------------------------------------------------------------------------


async def activities_since(session: AsyncSession, since: datetime) -> list[Activity]:
    """Every call and meeting planned or done at ``since`` or later (local time)."""
    statement = select(Interaction).where(or_(Interaction.planned_at >= since, Interaction.done_at >= since))
    return [
        Activity(i.id, i.kind, i.manager_id, i.client_id, i.client_name, i.contact, i.planned_at, i.done_at,
                 i.duration_s, i.status, i.next_at)
        for i in (await session.execute(statement)).scalars()
    ]  # fmt: skip


async def phone_calls_between(session: AsyncSession, since: datetime, until: datetime) -> list[PhoneCall]:
    """PBX records from ``since`` to ``until`` (local), internal calls left out. The other party's
    number is ``src`` of an incoming (or unmatched) call and ``dst`` of an outgoing one."""
    statement = select(PbxCall).where(
        PbxCall.started_at >= since, PbxCall.started_at <= until, PbxCall.direction != "internal"
    )
    return [
        PhoneCall(c.id, c.employee_id or "", c.direction, c.started_at, c.disposition, c.billsec,
                  c.dst if c.direction == "out" else c.src)
        for c in (await session.execute(statement)).scalars()
    ]  # fmt: skip


async def papers_without_originals(session: AsyncSession, manager_ids: Sequence[str] | None = None) -> list[Paper]:
    statement = select(Document).where(Document.original_received.is_(False))
    if manager_ids is not None:
        statement = statement.where(Document.manager_id.in_(list(manager_ids)))
    return [
        Paper(d.id, d.manager_id, d.client_name, d.kind, d.number, d.doc_date, d.amount, d.original_received)
        for d in (await session.execute(statement.order_by(Document.doc_date, Document.id))).scalars()
    ]


async def has_discipline_data(session: AsyncSession) -> bool:
    """Were any calls, meetings, documents or PBX records ever imported? (Without them the digest says
    nothing about discipline rather than a misleading "no findings".)"""
    for model in (Interaction, Document, PbxCall):
        if (await session.execute(select(model.id).limit(1))).first() is not None:
            return True
    return False


async def finding_run(session: AsyncSession, day: date) -> FindingRun | None:
    return await session.get(FindingRun, day)


async def findings_between(
    session: AsyncSession, manager_ids: Sequence[str], first_day: date, last_day: date
) -> list[FindingRow]:
    """Stored findings of the digest days ``first_day`` … ``last_day`` for these managers."""
    rows: list[FindingRow] = []
    for chunk in _chunks(list(manager_ids)):
        statement = select(FindingRow).where(
            FindingRow.manager_id.in_(chunk), FindingRow.day >= first_day, FindingRow.day <= last_day
        )
        rows.extend((await session.execute(statement)).scalars())
    return sorted(rows, key=lambda r: (r.day, r.at, r.id))
