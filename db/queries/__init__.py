"""Queries: plain async functions taking the session first. They never commit; the caller does.

They turn rows into the plain records of ``bot.rules`` and back, and nothing else: arithmetic lives
in the rules.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Date,
    DateTime,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import local_moment
from bot.rules import (
    Activity,
    Collection,
    ContractPosition,
    ContractTerms,
    Discipline,
    Finding,
    Month,
    Paper,
    PaymentRecord,
    Period,
    Person,
    PhoneCall,
    Role,
    Rule,
    Scope,
    Thresholds,
    Tier,
    allocate,
    apply_renewals,
    collection_for,
    collection_of_totals,
    debt_by_client,
    discipline,
    discipline_summary,
    period_of,
    scope_of,
    summarize,
)
from bot.rules.discipline import TREND_DAYS
from db.models import (
    Client,
    Contract,
    ContractTermsRow,
    DailyFigure,
    Document,
    Employee,
    FindingRow,
    FindingRun,
    ImportRun,
    Interaction,
    Invite,
    KpiSnapshot,
    LedgerState,
    MonthClose,
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


def person_of(employee: Employee) -> Person:
    """The plain record the scope rule (``bot.rules.access``) decides on."""
    return Person(employee.id, employee.role, employee.team, employee.active)


def scope_filter(scope: Scope) -> ColumnElement[bool]:
    """``scope`` (from ``bot.rules.scope_of``) as a ``WHERE`` clause on employees: the same decision as
    ``Scope.includes``, field by field (a property test holds them equal)."""
    if scope.viewer_id is None:
        return false()
    allowed: list[ColumnElement[bool]] = [Employee.id == scope.viewer_id]
    if scope.everyone:
        allowed.append(true())
    if scope.team is not None:
        allowed.append(and_(Employee.role == Role.MANAGER.value, Employee.team == scope.team))
    return or_(*allowed)


async def managers_in_scope(session: AsyncSession, viewer: Employee) -> list[Employee]:
    """The active managers ``viewer`` may see, by name: a manager themself, a supervisor their team's
    managers (none without a team), an admin all. The rule is ``bot.rules.scope_of``."""
    statement = select(Employee).where(
        scope_filter(scope_of(person_of(viewer))), Employee.role == Role.MANAGER.value, Employee.active.is_(True)
    )
    return list((await session.execute(statement.order_by(Employee.name, Employee.id))).scalars())


async def manager_names_in_scope(session: AsyncSession, viewer: Employee) -> list[tuple[str, str]]:
    """``(id, name)`` of :func:`managers_in_scope`, in its order: two columns for a screen that only
    lists them (an admin's /team: a thousand managers, no mapped object each)."""
    statement = select(Employee.id, Employee.name).where(
        scope_filter(scope_of(person_of(viewer))), Employee.role == Role.MANAGER.value, Employee.active.is_(True)
    )
    return [(i, n) for i, n in await session.execute(statement.order_by(Employee.name, Employee.id))]


def team_members_where(viewer: Employee) -> list[ColumnElement[bool]]:
    """The managers a team view lists for ``viewer``, as ``WHERE`` clauses on employees, each read on its
    own (a ``UNION ALL``): the active managers in scope (:func:`managers_in_scope`) and, for a supervisor
    or an admin, those in scope who left still holding contracts (:func:`departed_in_scope`). Not one
    ``OR``: an ``EXISTS`` under an ``OR`` makes PostgreSQL hash every contract's manager (29 ms at
    100,000 contracts once one manager has left) where a clause of its own probes the index. The scope
    is the one rule, :func:`scope_filter`."""
    in_scope = and_(scope_filter(scope_of(person_of(viewer))), Employee.role == Role.MANAGER.value)
    clauses = [and_(in_scope, Employee.active.is_(True))]
    if viewer.role in (Role.SUPERVISOR, Role.ADMIN):
        holds = exists().where(Contract.manager_id == Employee.id)
        clauses.append(and_(in_scope, Employee.active.is_(False), holds))
    return clauses


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


# what a ContractInfo is made of, in its field order: plain columns, no ORM objects to build (a
# morning reads every contract, and building mapped objects cost more than the query)
INFO_COLUMNS = (Contract.id, Contract.number, Contract.client_id, Client.name, Contract.title, Contract.manager_id,
                Contract.monthly_fee, Contract.start, Contract.months, Contract.closed_on)  # fmt: skip


def _infos(statement: Any) -> Any:
    return statement.join(Client, Client.id == Contract.client_id)


async def contracts_of(session: AsyncSession, manager_ids: Sequence[str]) -> list[ContractInfo]:
    infos: list[ContractInfo] = []
    for chunk in _chunks(list(manager_ids)):
        rows = await session.execute(
            _infos(select(*INFO_COLUMNS)).where(Contract.manager_id.in_(chunk)).order_by(Contract.id)
        )
        infos.extend(ContractInfo(*row) for row in rows)
    return infos


TermsHistory = list[tuple[Month, int, str]]  # (from month, monthly fee in kopecks, manager id), ascending


def terms_of(info: ContractInfo, history: TermsHistory | None = None) -> ContractTerms:
    """The rule record of a contract: its fee from the start and the later changes from ``history``
    (without history: today's fee for every month)."""
    fee, changes = info.monthly_fee, tuple[tuple[Month, int], ...]()
    if history:
        fee = history[0][1]
        changes = tuple((since, value) for since, value, _ in history[1:])
    return ContractTerms(
        id=info.id,
        manager_id=info.manager_id,
        monthly_fee=fee,
        start=Month.of(info.start),
        months=info.months,
        closed_on=info.closed_on,
        client_id=info.client_id,
        fee_changes=changes,
    )


def manager_in(info: ContractInfo, history: TermsHistory | None, month: Month) -> str:
    """Who managed the contract in ``month``: the terms in force then (before the first recorded
    terms, the first manager); without history, today's manager."""
    if not history:
        return info.manager_id
    manager = history[0][2]
    for since, _, manager_id in history:
        if since > month:
            break
        manager = manager_id
    return manager


async def terms_history(session: AsyncSession, contract_ids: Sequence[str]) -> dict[str, TermsHistory]:
    """Each contract's recorded terms, oldest first (``refresh_contract_terms`` keeps them)."""
    history: dict[str, TermsHistory] = {}
    for chunk in _chunks(list(contract_ids)):
        rows = await session.execute(
            select(ContractTermsRow.contract_id, ContractTermsRow.from_month, ContractTermsRow.monthly_fee,
                   ContractTermsRow.manager_id)
            .where(ContractTermsRow.contract_id.in_(chunk))
            .order_by(ContractTermsRow.contract_id, ContractTermsRow.from_month)
        )  # fmt: skip
        for contract_id, since, fee, manager_id in rows:
            history.setdefault(contract_id, []).append((Month.of(since), fee, manager_id))
    return history


def _month_of(session: AsyncSession, day: Any) -> Any:
    """SQL for the first day of ``day``'s month, in the session's dialect."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return cast_(func.date_trunc("month", day), Date)
    return func.date(day, "start of month")


async def refresh_contract_terms(session: AsyncSession, month: Month, now: datetime) -> int:
    """Record every contract whose fee or manager differs from its latest recorded terms; called at the
    end of an import that changed contracts. A contract seen for the first time gets its terms from its
    start month; a change applies from the contract's ``terms_from`` month when the export carries it,
    else from ``month`` (the office's month of the import), so finished months keep the terms they had.
    Two changes landing on the same month: the later one wins. History of removed contracts is dropped.
    Returns how many terms rows were written. Set-based: one statement for the contracts seen first,
    one read of the changed ones."""
    t = ContractTermsRow
    latest = select(func.max(t.from_month)).where(t.contract_id == Contract.id).correlate(Contract).scalar_subquery()
    changed = await session.execute(
        select(Contract.id, Contract.monthly_fee, Contract.manager_id, Contract.terms_from)
        .join(t, t.contract_id == Contract.id)
        .where(t.from_month == latest, or_(t.monthly_fee != Contract.monthly_fee, t.manager_id != Contract.manager_id))
    )
    inserts: list[dict[str, Any]] = []
    replaced: dict[date, list[str]] = {}
    for contract_id, fee, manager_id, terms_from in changed:
        since = (Month.of(terms_from) if terms_from else month).first_day()
        replaced.setdefault(since, []).append(contract_id)
        inserts.append({"contract_id": contract_id, "from_month": since, "monthly_fee": fee,
                        "manager_id": manager_id, "recorded_at": now})  # fmt: skip
    for since, ids in replaced.items():  # a second change in the same month replaces the first
        for chunk in _chunks(ids):
            await session.execute(delete(t).where(t.from_month == since, t.contract_id.in_(chunk)))
    for first in range(0, len(inserts), 500):
        await session.execute(insert_ignoring_duplicates(session, t), inserts[first : first + 500])
    await session.execute(delete(t).where(~exists().where(Contract.id == t.contract_id)))
    first_sight = (
        select(Contract.id, _month_of(session, Contract.start), Contract.monthly_fee, Contract.manager_id,
               literal(now, DateTime))
        .where(~exists().where(t.contract_id == Contract.id))
    )  # fmt: skip
    result = await session.execute(
        insert(t).from_select(["contract_id", "from_month", "monthly_fee", "manager_id", "recorded_at"], first_sight)
    )
    return len(inserts) + max(cast(CursorResult[Any], result).rowcount or 0, 0)


async def payments_of_managers(session: AsyncSession, manager_ids: Sequence[str]) -> list[PaymentRecord]:
    """Every payment on these managers' contracts. The hot read of the morning (millions of rows for
    a large network): on SQLite the rows come through the driver as text and each distinct date is
    parsed once."""
    records: list[PaymentRecord] = []
    sqlite = session.bind is not None and session.bind.dialect.name == "sqlite"
    for chunk in _chunks(list(manager_ids)):
        if sqlite:
            marks = ", ".join("?" * len(chunk))
            driver_rows = await (await session.connection()).exec_driver_sql(
                "SELECT p.id, p.contract_id, p.paid_on, p.amount, p.period FROM payments p "
                f"JOIN contracts c ON c.id = p.contract_id WHERE c.manager_id IN ({marks})",
                tuple(chunk),
            )
            records.extend(
                PaymentRecord(pid, contract_id, _iso_day(paid_on), amount, _iso_month(period) if period else None)
                for pid, contract_id, paid_on, amount, period in cast(Iterable[Any], driver_rows)
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

    def client_names(self) -> dict[str, str]:
        """Client id → client name (what the plan to the next tier names)."""
        return {info.client_id: info.client for info in self.contracts.values()}


async def _contracts_in_scope(
    session: AsyncSession, manager_ids: Sequence[str]
) -> tuple[list[ContractInfo], dict[str, TermsHistory]]:
    """The contracts these managers manage today or managed at some time, with their terms history:
    today's contracts by the manager index, the history of those and of the contracts handed over
    since in one read, and the handed-over contracts themselves (rare) last."""
    seen = {info.id: info for info in await contracts_of(session, manager_ids)}
    history: dict[str, TermsHistory] = {}
    loaded: set[str] = set()
    for chunk in _chunks(list(manager_ids)):
        today_s = select(Contract.id).where(Contract.manager_id.in_(chunk))
        earlier = select(ContractTermsRow.contract_id).where(ContractTermsRow.manager_id.in_(chunk))
        rows = await session.execute(
            select(ContractTermsRow.contract_id, ContractTermsRow.from_month, ContractTermsRow.monthly_fee,
                   ContractTermsRow.manager_id)
            .where(or_(ContractTermsRow.contract_id.in_(today_s), ContractTermsRow.contract_id.in_(earlier)))
            .order_by(ContractTermsRow.contract_id, ContractTermsRow.from_month)
        )  # fmt: skip
        for contract_id, since, fee, manager_id in rows:
            if contract_id not in loaded:  # a contract two chunks of managers share is read once
                history.setdefault(contract_id, []).append((Month.of(since), fee, manager_id))
        loaded.update(history)
    handed_over = sorted(cid for cid in history if cid not in seen)
    for chunk in _chunks(handed_over):
        found = await session.execute(_infos(select(*INFO_COLUMNS)).where(Contract.id.in_(chunk)))
        seen.update((row[0], ContractInfo(*row)) for row in found)
    return sorted(seen.values(), key=lambda info: info.id), history


async def contract_starts(session: AsyncSession, client_ids: Sequence[str]) -> list[tuple[str, str, Month]]:
    """``(contract id, client id, start month)`` of every contract of these clients, for renewals."""
    starts: list[tuple[str, str, Month]] = []
    for chunk in _chunks(sorted(set(client_ids))):
        rows = await session.execute(
            select(Contract.id, Contract.client_id, Contract.start).where(Contract.client_id.in_(chunk))
        )
        starts.extend((cid, client, Month.of(start)) for cid, client, start in rows)
    return starts


async def client_names(session: AsyncSession, client_ids: Iterable[str]) -> dict[str, str]:
    """Client id → name for these clients (those that exist)."""
    names: dict[str, str] = {}
    for chunk in _chunks(sorted(set(client_ids))):
        for client_id, name in await session.execute(select(Client.id, Client.name).where(Client.id.in_(chunk))):
            names[client_id] = name
    return names


async def payments_of_contracts(session: AsyncSession, contract_ids: Sequence[str]) -> list[PaymentRecord]:
    records: list[PaymentRecord] = []
    for chunk in _chunks(list(contract_ids)):
        rows = await session.execute(
            select(Payment.id, Payment.contract_id, Payment.paid_on, Payment.amount, Payment.period).where(
                Payment.contract_id.in_(chunk)
            )
        )
        records.extend(
            PaymentRecord(pid, contract_id, paid_on, amount, Month.of(period) if period else None)
            for pid, contract_id, paid_on, amount, period in rows
        )
    return records


async def collections(
    session: AsyncSession,
    manager_ids: Sequence[str],
    month: Month,
    today: date,
    tiers: Sequence[Tier],
    *,
    serves: bool | None = None,
) -> dict[str, ManagerMonth]:
    """The month's collection for each manager as of ``today`` (local date: payments dated later do
    not count), computed by the rules from the stored data. A contract counts for the manager who
    managed it in ``month`` and with the fee it had in each month (the terms history). Today's month,
    when the ledger answers for ``today``, is read from it alone. ``serves``: whether it does
    (``ledger.ledger_serves``) when the caller knows already; ``None``: asked here."""
    if serves is None and month <= Month.of(today):
        serves = await ledger.ledger_serves(session, today)
    if month == Month.of(today) and serves:
        return await ledger.collections_of_current_month(session, manager_ids, today, tiers)
    wanted = set(manager_ids)
    infos, history = await _contracts_in_scope(session, manager_ids)
    by_manager: dict[str, list[ContractInfo]] = {m: [] for m in manager_ids}
    owner: dict[str, str] = {}
    for info in infos:
        manager_id = manager_in(info, history.get(info.id), month)
        if manager_id in wanted:
            by_manager[manager_id].append(info)
            owner[info.id] = manager_id
    renewed = {
        t.id: t
        for t in apply_renewals(
            [terms_of(i, history.get(i.id)) for i in infos if i.id in owner],
            await contract_starts(session, [i.client_id for i in infos if i.id in owner and i.closed_on]),
        )
    }
    if month <= Month.of(today) and serves:
        return await _collections_from_ledger(session, manager_ids, by_manager, owner, renewed, month, today, tiers)
    current = {i.id for i in infos if i.manager_id in wanted}  # their payments come by manager, the fast read
    payments = await payments_of_managers(session, manager_ids)
    payments.extend(await payments_of_contracts(session, [cid for cid in owner if cid not in current]))
    payments_by_manager: dict[str, list[PaymentRecord]] = {m: [] for m in manager_ids}
    for payment in payments:
        paid_to = owner.get(payment.contract_id)
        if paid_to is not None:
            payments_by_manager[paid_to].append(payment)
    result: dict[str, ManagerMonth] = {}
    for manager_id in manager_ids:
        own = by_manager.get(manager_id, [])
        collection, positions = collection_for(
            month, today, [renewed[i.id] for i in own], payments_by_manager.get(manager_id, []), tiers
        )
        result[manager_id] = ManagerMonth(manager_id, collection, positions, {i.id: i for i in own})
    return result


async def _collections_from_ledger(
    session: AsyncSession,
    manager_ids: Sequence[str],
    by_manager: dict[str, list[ContractInfo]],
    owner: dict[str, str],
    renewed: dict[str, ContractTerms],
    month: Month,
    today: date,
    tiers: Sequence[Tier],
) -> dict[str, ManagerMonth]:
    """:func:`collections` read from the stored ledger (``db.queries.ledger``) when it answers for
    ``today``: the same positions, summarized by the same rule."""
    positions = await ledger.positions_from_ledger(session, [(cid, renewed[cid].client) for cid in owner], month, today)
    result: dict[str, ManagerMonth] = {}
    for manager_id in manager_ids:
        own = by_manager.get(manager_id, [])
        mine = [positions[i.id] for i in own]
        result[manager_id] = ManagerMonth(manager_id, summarize(month, mine, tiers), mine, {i.id: i for i in own})
    return result


async def departed_in_scope(session: AsyncSession, viewer: Employee) -> list[Employee]:
    """Managers who left (inactive) and still hold contracts in 1C, within ``viewer``'s scope: a
    supervisor's team, everyone for an admin, nobody for a manager. Their contracts and debts are shown
    as unassigned ("без менеджера") until 1C reassigns them."""
    if viewer.role not in (Role.SUPERVISOR, Role.ADMIN):
        return []
    holds = exists().where(Contract.manager_id == Employee.id)
    statement = select(Employee).where(
        scope_filter(scope_of(person_of(viewer))),  # the one scope rule: a supervisor without a team, nobody
        Employee.role == Role.MANAGER.value,
        Employee.active.is_(False),
        holds,
    )
    return list((await session.execute(statement.order_by(Employee.id))).scalars())


@dataclass(frozen=True)
class Unassigned:
    """The month of the contracts whose manager left, as one block."""

    collection: Collection
    figures: dict[str, ManagerMonth]  # by the departed manager's id
    waiting: int  # contracts waiting for a new owner: billed this month, awaited or in debt


async def unassigned_month(
    session: AsyncSession, viewer: Employee, month: Month, today: date, tiers: Sequence[Tier]
) -> Unassigned | None:
    """The unassigned contracts in ``viewer``'s scope for ``month`` as of ``today``, or ``None``."""
    departed = await departed_in_scope(session, viewer)
    if not departed:
        return None
    figures = await collections(session, [d.id for d in departed], month, today, tiers)
    positions = [p for f in figures.values() for p in f.positions]
    waiting = sum(1 for p in positions if p.base or p.debt or p.awaiting)
    return Unassigned(summarize(month, positions, tiers), figures, waiting)


async def collection_totals(
    session: AsyncSession, manager_ids: Sequence[str], month: Month, today: date, tiers: Sequence[Tier]
) -> dict[str, Collection]:
    """Each manager's month without the per-contract detail, as of ``today``. Reads only."""
    return (await team_totals(session, manager_ids, month, today, tiers)).members


async def team_totals(
    session: AsyncSession, manager_ids: Sequence[str], month: Month, today: date, tiers: Sequence[Tier]
) -> ledger.TeamTotals:
    """Each manager's month as of ``today`` and the team's debtors (a client counted once across the
    managers): ``today``'s month aggregated in SQL from the ledger when it answers for ``today``, any
    other month computed by the rules (:func:`collections`). Reads only."""
    if month == Month.of(today) and await ledger.ledger_serves(session, today):
        return await ledger.team_totals_from_ledger(session, manager_ids, today, tiers)
    figures = await collections(session, manager_ids, month, today, tiers)
    positions = [p for f in figures.values() for p in f.positions]
    members = {m: dataclasses.replace(figures[m].collection, next_step=None) for m in manager_ids}
    return ledger.TeamTotals(members, len(debt_by_client(positions)))


async def collection_of(
    session: AsyncSession,
    manager_id: str,
    month: Month,
    today: date,
    tiers: Sequence[Tier],
    *,
    serves: bool | None = None,
) -> ManagerMonth:
    return (await collections(session, [manager_id], month, today, tiers, serves=serves))[manager_id]


# --------------------------------------------------------------------------------------------------
# Data freshness and month-end snapshots
# --------------------------------------------------------------------------------------------------


async def last_import_at(session: AsyncSession, until: datetime | None = None) -> datetime | None:
    """When the last successful import finished (UTC, naive), or ``None``; with ``until`` (UTC,
    naive), the last one finished by then: how fresh the data was at that moment."""
    statement = select(func.max(ImportRun.finished_at))
    if until is not None:
        statement = statement.where(ImportRun.finished_at <= until)
    return (await session.execute(statement)).scalar_one_or_none()


async def first_data_month(session: AsyncSession) -> Month | None:
    """The first month with collection data: the earliest contract start (nothing is billed before
    it), or ``None`` before the first import. One index lookup (``ix_contracts_start``)."""
    first_start = (await session.execute(select(func.min(Contract.start)))).scalar_one_or_none()
    return Month.of(first_start) if first_start is not None else None


@dataclass(frozen=True)
class ScreenFacts:
    """What a screen reads before its figures (:func:`screen_facts`), each the reading of its own
    function: ``first_month`` :func:`first_data_month`; ``ledger_as_of`` and ``ledger_debtors`` the
    ledger state (``None``: no ledger kept); ``discipline_data`` :func:`has_discipline_data`;
    ``findings_stored`` whether the day's findings are stored (:func:`finding_run`);
    ``imported_at`` :func:`last_import_at` up to the moment given (UTC, naive)."""

    first_month: Month | None
    ledger_as_of: date | None
    ledger_debtors: int | None
    discipline_data: bool
    findings_stored: bool
    imported_at: datetime | None


async def screen_facts(session: AsyncSession, day: date, until: datetime) -> ScreenFacts:
    """:class:`ScreenFacts` for digest day ``day`` (local date) and imports finished by ``until`` (UTC,
    naive), in one statement of scalar subqueries instead of a round trip each (an admin's ``/team``
    read them one by one: five of its eleven statements). Each subquery is an index lookup or the
    first row of a table."""
    state = select(LedgerState.as_of).where(LedgerState.id == ledger.STATE_ID)
    discipline_data = or_(*(select(model.id).exists() for model in (Interaction, Document, PbxCall)))
    statement = select(
        select(func.min(Contract.start)).scalar_subquery(),
        state.scalar_subquery(),
        select(LedgerState.debtors).where(LedgerState.id == ledger.STATE_ID).scalar_subquery(),
        discipline_data,
        select(FindingRun.day).where(FindingRun.day == day).exists(),
        select(func.max(ImportRun.finished_at)).where(ImportRun.finished_at <= until).scalar_subquery(),
    )
    first_start, as_of, debtors, discipline_data_, stored, imported_at = (await session.execute(statement)).one()
    return ScreenFacts(
        Month.of(first_start) if first_start is not None else None,
        as_of,
        debtors,
        bool(discipline_data_),
        bool(stored),
        imported_at,
    )


async def get_snapshot(session: AsyncSession, manager_id: str, month: Month) -> KpiSnapshot | None:
    result = await session.execute(
        select(KpiSnapshot).where(KpiSnapshot.manager_id == manager_id, KpiSnapshot.month == str(month))
    )
    return result.scalar_one_or_none()


async def month_close_state(session: AsyncSession, month: Month) -> MonthClose | None:
    """The latest close or reopen of ``month`` (``None``: never closed, so live)."""
    statement = select(MonthClose).where(MonthClose.month == str(month)).order_by(MonthClose.id.desc()).limit(1)
    return (await session.execute(statement)).scalar_one_or_none()


async def is_closed(session: AsyncSession, month: Month) -> bool:
    state = await month_close_state(session, month)
    return state is not None and state.action == "close"


async def close_month(
    session: AsyncSession, month: Month, today: date, tiers: Sequence[Tier], now: datetime, by: str
) -> int:
    """Close ``month``: freeze every manager's figures as of ``today`` (base, paid, percent,
    coefficient and the month-end debt) into ``kpi_snapshots`` and record the close; returns how
    many managers were frozen. Until a month is closed it is computed live, so payments for it
    imported before the close count; after it, nothing changes its numbers (a reopen and a new close
    do). ``now`` is UTC, naive. Raises ``ValueError`` for a month that is not finished on ``today``.
    """
    if month >= Month.of(today):
        raise ValueError(f"month {month} is not finished on {today}")
    managers = [m.id for m in await list_employees(session) if m.role == "manager"]
    figures = await collections(session, managers, month, today, tiers)
    await session.execute(delete(KpiSnapshot).where(KpiSnapshot.month == str(month)))
    rows = [
        {
            "manager_id": manager_id,
            "month": str(month),
            "base": figure.collection.base,
            "paid": figure.collection.paid,
            "percent": figure.collection.percent,
            "coefficient": figure.collection.coefficient,
            "debt": figure.collection.debt,
            "debtors": figure.collection.debtors,
            "frozen_at": now,
        }
        for manager_id, figure in figures.items()
        if figure.collection.base or figure.collection.paid or figure.collection.debt
    ]
    if rows:  # another process may close the same month at the same moment: the first one wins
        await session.execute(insert_ignoring_duplicates(session, KpiSnapshot), rows)
    session.add(MonthClose(month=str(month), action="close", at=now, by=by))
    await session.flush()
    return len(rows)


async def reopen_month(session: AsyncSession, month: Month, now: datetime, by: str) -> bool:
    """Reopen a closed month: its snapshots are dropped and it is computed live again until the next
    close; the reopen is recorded. Returns ``False`` (and records nothing) when it was not closed."""
    if not await is_closed(session, month):
        return False
    await session.execute(delete(KpiSnapshot).where(KpiSnapshot.month == str(month)))
    session.add(MonthClose(month=str(month), action="reopen", at=now, by=by))
    await session.flush()
    return True


async def closed_collections(
    session: AsyncSession, manager_ids: Sequence[str], month: Month
) -> dict[str, Collection] | None:
    """A closed month's frozen figures per manager (zero for a manager without a snapshot), or
    ``None`` when the month is not closed."""
    if not await is_closed(session, month):
        return None
    found: dict[str, KpiSnapshot] = {}
    for chunk in _chunks(list(manager_ids)):
        rows = await session.execute(
            select(KpiSnapshot).where(KpiSnapshot.manager_id.in_(chunk), KpiSnapshot.month == str(month))
        )
        found.update({row.manager_id: row for row in rows.scalars()})
    result: dict[str, Collection] = {}
    for manager_id in manager_ids:
        row = found.get(manager_id)
        if row is None:
            result[manager_id] = Collection(month, 0, 0, 0, 0, 0, None, Decimal("0"), None)
            continue
        result[manager_id] = Collection(
            month, row.base, row.paid, 0, row.debt or 0, row.debtors or 0, snapshot_percent(row),
            Decimal(row.coefficient).normalize(), None,
        )  # fmt: skip
    return result


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


async def record_figures(session: AsyncSession, today: date, figures: Mapping[str, Collection]) -> None:
    """Keep today's collection per manager (by manager id; the first record of the day stays)."""
    rows = [
        {
            "manager_id": manager_id,
            "day": today,
            "base": collection.base,
            "paid": collection.paid,
            "percent": collection.percent,
        }
        for manager_id, collection in figures.items()
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
    """PBX legs from ``since`` to ``until`` (local, both inclusive), internal calls left out. The other
    party's number is ``src`` of an incoming (or unmatched) leg and ``dst`` of an outgoing one."""
    statement = select(PbxCall).where(
        PbxCall.started_at >= since, PbxCall.started_at <= until, PbxCall.direction != "internal"
    )
    return [
        PhoneCall(c.id, c.employee_id or "", c.direction, c.started_at, c.disposition, c.billsec,
                  c.dst if c.direction == "out" else c.src, c.dstchannel, c.lastapp, c.uniqueid, c.linkedid,
                  c.ended_at)
        for c in (await session.execute(statement.order_by(PbxCall.started_at, PbxCall.id))).scalars()
    ]  # fmt: skip


async def papers_without_originals(
    session: AsyncSession, manager_ids: Sequence[str] | None = None, as_of_day: date | None = None
) -> list[Paper]:
    """Documents whose signed original is not back; with ``as_of_day``, as that day saw them: an
    original received after it (``received_on``) was not back yet, and documents dated after it
    did not exist."""
    waiting: ColumnElement[bool] = Document.original_received.is_(False)
    if as_of_day is not None:
        waiting = or_(waiting, Document.received_on > as_of_day)
    statement = select(Document).where(waiting)
    if as_of_day is not None:
        statement = statement.where(Document.doc_date <= as_of_day)
    if manager_ids is not None:
        statement = statement.where(Document.manager_id.in_(list(manager_ids)))
    return [
        Paper(d.id, d.manager_id, d.client_name, d.kind, d.number, d.doc_date, d.amount, False)
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


async def finding_run_days(session: AsyncSession, first_day: date, last_day: date) -> set[date]:
    """The digest days from ``first_day`` to ``last_day`` whose findings are stored."""
    statement = select(FindingRun.day).where(FindingRun.day >= first_day, FindingRun.day <= last_day)
    return set((await session.execute(statement)).scalars())


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


async def _findings_of(
    session: AsyncSession, manager_ids: Sequence[str], first_day: date, last_day: date
) -> list[tuple[date, Finding]]:
    """:func:`findings_between` as ``(day, finding)`` in the same order, read as plain columns (a
    morning reads every manager's findings of two weeks: no mapped object per row)."""
    f = FindingRow
    columns = (
        f.day,
        f.at,
        f.id,
        f.rule,
        f.manager_id,
        f.subject_id,
        f.client,
        f.contact,
        f.value,
        f.source,
        f.escalate,
    )
    rows: list[Any] = []
    for chunk in _chunks(list(manager_ids)):
        statement = select(*columns).where(f.manager_id.in_(chunk), f.day >= first_day, f.day <= last_day)
        rows.extend(await session.execute(statement))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    rules = {rule.value: rule for rule in Rule}  # Rule(value) costs more than the rest of the row
    return [(r[0], Finding(rules[r[3]], r[4], r[5], r[1], r[6], r[7], r[8], r[9], r[10])) for r in rows]


def as_finding(row: FindingRow) -> Finding:
    """A stored finding as the rules' record."""
    return Finding(Rule(row.rule), row.manager_id, row.subject_id, row.at, row.client, row.contact, row.value,
                   row.source, row.escalate)  # fmt: skip


async def _findings(
    session: AsyncSession, day: date, period: Period, as_of: datetime, limits: Thresholds
) -> list[Finding]:
    """``bot.rules.discipline`` of digest day ``day`` over ``period`` as of ``as_of`` (local): whatever
    happened after that moment is left out. Only managers' findings. Reads only."""
    since = period.start - timedelta(minutes=limits.call_match_minutes)  # a 1C/PBX pair across the start
    activities = await activities_since(session, since)
    calls = await phone_calls_between(session, since, as_of)
    papers = await papers_without_originals(session, as_of_day=day)
    managers = {e.id for e in await list_employees(session) if e.role == "manager"}
    return [f for f in discipline(activities, calls, papers, period, day, as_of, limits) if f.manager_id in managers]


async def day_findings(
    session: AsyncSession, day: date, *, previous_working_day: date | None, digest_time: time, limits: Thresholds
) -> tuple[Period, list[Finding] | None]:
    """What a screen or a digest reads of digest day ``day``: its period and ``None`` when the day's
    findings are stored (read them with :func:`findings_between`), or, for a day never computed (a day
    before the bot ran, or today before the morning job), the findings computed in memory and NOT
    stored (``docs/discipline.md``, "When findings are computed"). Reads only."""
    period = period_of(day, previous_working_day)
    if await finding_run(session, day) is not None:
        return period, None
    return period, await _findings(session, day, period, local_moment(day, digest_time), limits)


async def store_findings(
    session: AsyncSession,
    day: date,
    *,
    previous_working_day: date | None,
    digest_time: time,
    limits: Thresholds,
    computed_at: datetime | None = None,
) -> Period:
    """Compute and store the findings of digest day ``day`` (the morning job): its period (from
    ``previous_working_day`` to ``day``) as of ``day`` at ``digest_time`` (local), recorded with the
    run so that an import can recompute it (:func:`recompute_finding_runs`). Unless stored and no import
    came since. ``computed_at``: UTC, naive. Returns the day's period."""
    period = period_of(day, previous_working_day)
    computed_at = computed_at or datetime.now(UTC).replace(tzinfo=None)
    run = await finding_run(session, day)
    last_import = await last_import_at(session)
    if run is not None and run.as_of is not None and (last_import is None or last_import <= run.computed_at):
        return period
    await _write_findings(session, day, period, local_moment(day, digest_time), limits, computed_at)
    return period


async def _write_findings(
    session: AsyncSession, day: date, period: Period, as_of: datetime, limits: Thresholds, computed_at: datetime
) -> int:
    findings = await _findings(session, day, period, as_of, limits)
    recipe = {"period_start": period.start, "as_of": as_of, "limits": json.dumps(dataclasses.asdict(limits))}
    run = await finding_run(session, day)
    if run is not None:
        await session.execute(delete(FindingRow).where(FindingRow.day == day))
        run.computed_at = computed_at
        for key, value in recipe.items():
            setattr(run, key, value)
    else:
        await session.execute(
            insert_ignoring_duplicates(session, FindingRun).values(day=day, computed_at=computed_at, **recipe)
        )
    rows = [
        {"manager_id": f.manager_id, "day": day, "rule": f.rule.value, "subject_id": f.subject_id[:160], "at": f.at,
         "client": f.client[:300], "contact": f.contact[:300], "value": f.value, "source": f.source,
         "escalate": f.escalate}
        for f in findings
    ]  # fmt: skip
    for start in range(0, len(rows), 500):
        await session.execute(insert_ignoring_duplicates(session, FindingRow), rows[start : start + 500])
    await session.flush()
    return len(rows)


async def recompute_finding_runs(session: AsyncSession, since: date | None, computed_at: datetime) -> list[date]:
    """After an import that touched calls, meetings, PBX records or documents: recompute every stored
    finding run of a day from ``since`` on (every run when ``None``) with the period, moment and
    thresholds it was computed with. Runs stored before those were recorded (migration 0011) are
    left as they are. Returns the days recomputed."""
    statement = select(FindingRun).where(FindingRun.as_of.is_not(None)).order_by(FindingRun.day)
    if since is not None:
        statement = statement.where(FindingRun.day >= since)
    days: list[date] = []
    for run in list((await session.execute(statement)).scalars()):
        if run.period_start is None or run.as_of is None or run.limits is None:
            continue
        period = Period(run.period_start, datetime.combine(run.day, time()))
        limits = Thresholds(**json.loads(run.limits))
        await _write_findings(session, run.day, period, run.as_of, limits, computed_at)
        days.append(run.day)
    return days


async def discipline_of(
    session: AsyncSession,
    manager_ids: Sequence[str],
    day: date,
    week_days: Sequence[date],
    fresh: Sequence[Finding] | None = None,
) -> dict[str, Discipline]:
    """Each manager's discipline summary for ``day`` from the stored findings (reads only; the
    morning job stores them, :func:`store_findings`). ``week_days``: ``bot.rules.working_week(day)``.
    ``fresh``: ``day``'s findings computed in memory when the day has no stored run
    (:func:`day_findings`); earlier days without a run count as days without findings."""
    by_manager: dict[str, list[tuple[date, Finding]]] = {m: [] for m in manager_ids}
    for found_on, finding in await _findings_of(session, manager_ids, day - timedelta(days=2 * TREND_DAYS - 1), day):
        if fresh is None or found_on != day:
            by_manager.setdefault(finding.manager_id, []).append((found_on, finding))
    wanted = set(manager_ids)
    for finding in fresh or ():
        if finding.manager_id in wanted:
            by_manager[finding.manager_id].append((day, finding))
    return {m: discipline_summary(by_manager[m], day, week_days) for m in manager_ids}


# --------------------------------------------------------------------------------------------------
# Reports and charts: the month as 1C's "Расчёт оплат" shows it, and the collection by day
# --------------------------------------------------------------------------------------------------


async def snapshots_of(session: AsyncSession, manager_ids: Sequence[str], month: Month) -> dict[str, KpiSnapshot]:
    """The frozen figures of ``month`` for these managers (those frozen; a manager may have none)."""
    found: dict[str, KpiSnapshot] = {}
    for chunk in _chunks(list(manager_ids)):
        rows = await session.execute(
            select(KpiSnapshot).where(KpiSnapshot.manager_id.in_(chunk), KpiSnapshot.month == str(month))
        )
        found.update({row.manager_id: row for row in rows.scalars()})
    return found


@dataclass(frozen=True)
class ReportContract:
    """One contract line of the report: the client, the term, the fee, the month's base and paid."""

    contract_id: str
    client: str
    start: date
    months: int | None
    monthly_fee: int  # kopecks
    base: int  # kopecks billed in the month (0: not active in it)
    paid: int  # kopecks allocated to the month, at most the base


@dataclass(frozen=True)
class ReportManager:
    """One manager's block of the report. ``collection`` is the frozen snapshot's for a finished
    month that has one (``frozen_on`` set), else computed by the rules like the digest's."""

    manager_id: str
    name: str
    team: str
    collection: Collection
    contracts: list[ReportContract]
    frozen_on: date | None


async def report_of(
    session: AsyncSession, managers: Sequence[Employee], month: Month, today: date, tiers: Sequence[Tier]
) -> list[ReportManager]:
    """Each manager's month for the report and the month-end table, in the order given.

    The figures are :func:`collections`' (the digest's); a finished month (before ``today``'s) takes
    the manager's totals from the frozen snapshot where one exists, as ``/kpi`` does. The contract
    lines are those with a base or a payment in the month, by client name.
    """
    ids = [m.id for m in managers]
    figures = await collections(session, ids, month, today, tiers)
    frozen = await snapshots_of(session, ids, month) if month < Month.of(today) else {}
    result: list[ReportManager] = []
    for manager in managers:
        figure = figures[manager.id]
        collection = figure.collection
        snapshot = frozen.get(manager.id)
        if snapshot is not None:
            collection = Collection(
                month=month,
                base=snapshot.base,
                paid=snapshot.paid,
                awaiting=0,
                debt=collection.debt,
                debtors=collection.debtors,
                percent=snapshot_percent(snapshot),
                coefficient=snapshot.coefficient,
                next_step=None,
            )
        lines = []
        for p in figure.positions:
            if not (p.base or p.paid):
                continue
            info = figure.contracts[p.contract_id]
            lines.append(ReportContract(info.id, info.client, info.start, info.months, info.monthly_fee, p.base,
                                        p.paid))  # fmt: skip
        lines.sort(key=lambda line: (line.client.casefold(), line.start, line.contract_id))
        result.append(ReportManager(manager.id, manager.name, manager.team, collection, lines,
                                    snapshot.frozen_at.date() if snapshot is not None else None))  # fmt: skip
    return result


@dataclass(frozen=True)
class PaidByDay:
    """The month's base and, for each day from the 1st to ``days[-1]``, what was paid for the month
    by the end of that day (kopecks; payments dated after the day left out)."""

    month: Month
    base: int
    days: list[date]
    paid: list[int]


async def paid_by_day(session: AsyncSession, manager_ids: Sequence[str], month: Month, last_day: date) -> PaidByDay:
    """The collection curve of these managers' contracts together, day by day up to ``last_day``."""
    infos = await contracts_of(session, manager_ids)
    payments = await payments_of_managers(session, manager_ids)
    return paid_by_day_of([terms_of(info) for info in infos], payments, month, last_day)


def paid_by_day_of(
    contracts: Sequence[ContractTerms], payments: Iterable[PaymentRecord], month: Month, last_day: date
) -> PaidByDay:
    """:func:`paid_by_day` on plain records: for each day, what ``collection_for(month, day, …)`` would
    count as paid with only the payments dated up to that day.

    Each contract's payments are allocated by the rules (:func:`bot.rules.allocate`) once per day on
    which one of its payments arrived in the month, not once per day, so a month costs about one
    allocation per payment.
    """
    first = month.first_day()
    days = [first + timedelta(days=n) for n in range((last_day - first).days + 1)]
    by_contract: dict[str, list[PaymentRecord]] = {}
    for payment in payments:
        by_contract.setdefault(payment.contract_id, []).append(payment)
    base = 0
    change = [0] * (len(days) + 1)  # what each day adds to the paid amount
    for terms in contracts:
        if not terms.is_active(month):
            continue
        own = by_contract.get(terms.id, [])
        base += terms.monthly_fee
        changes = sorted({p.paid_on for p in own if first <= p.paid_on <= last_day})
        before = 0
        for step in [first - timedelta(days=1), *changes]:  # the amount holds from ``step`` on
            amount = allocate(terms, [p for p in own if p.paid_on <= step], month).paid(month)
            change[max((step - first).days, 0)] += amount - before
            before = amount
    paid = list(itertools.accumulate(change[: len(days)]))
    return PaidByDay(month, base, days, paid)


@dataclass(frozen=True)
class DebtorRow:
    """A client who owes: their contracts with debt, the debt, its age and the last payment."""

    client_id: str
    client: str
    manager: str
    contracts: list[str]  # contract numbers (ids where there is no number)
    debt: int  # kopecks: unpaid base of the months before today's
    oldest_unpaid: Month | None
    age_days: int  # from the first day of the oldest unpaid month to today
    last_payment: date | None  # the latest payment on any of the client's contracts


async def debtors_of(
    session: AsyncSession, managers: Sequence[Employee], today: date, tiers: Sequence[Tier]
) -> list[DebtorRow]:
    """The clients of these managers with debt, largest debt first (then oldest, then by name):
    the positions are :func:`collections`' for today's month, the same as ``/debtors`` shows."""
    names = {m.id: m.name for m in managers}
    figures = await collections(session, list(names), Month.of(today), today, tiers)
    owing = [p.contract_id for f in figures.values() for p in f.positions if p.debt > 0]
    last_paid = await ledger.last_payment_days(session, owing, today)
    grouped: dict[str, list[tuple[ContractInfo, ContractPosition]]] = {}
    for figure in figures.values():
        for p in figure.positions:
            if p.debt > 0:
                info = figure.contracts[p.contract_id]
                grouped.setdefault(info.client_id, []).append((info, p))
    rows = []
    for client_id, owed in grouped.items():
        owed.sort(key=lambda item: item[0].id)
        oldest = min((p.oldest_unpaid for _, p in owed if p.oldest_unpaid is not None), default=None)
        payments = [last_paid[info.id] for info, _ in owed if info.id in last_paid]
        rows.append(DebtorRow(
            client_id, owed[0][0].client, ", ".join(sorted({names[info.manager_id] for info, _ in owed})),
            [info.number or info.id for info, _ in owed], sum(p.debt for _, p in owed), oldest,
            max(p.debt_age_days for _, p in owed), max(payments, default=None),
        ))  # fmt: skip
    rows.sort(key=lambda row: (-row.debt, -row.age_days, row.client.casefold(), row.client_id))
    return rows


def report_total(report: Sequence[ReportManager], month: Month, tiers: Sequence[Tier]) -> Collection:
    """The report's total row: the managers' sums, percent and tier by the rules (never an average)."""
    return collection_of_totals(
        month,
        sum(m.collection.base for m in report),
        sum(m.collection.paid for m in report),
        sum(m.collection.awaiting for m in report),
        sum(m.collection.debt for m in report),
        sum(m.collection.debtors for m in report),
        tiers,
    )


from db.queries import ledger  # noqa: E402  (it builds on the queries above)
