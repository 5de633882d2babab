"""The collection ledger: what the rules allocate per contract and month, kept in ``ledger_months``
and ``ledger_contracts`` so that the digests and screens read it instead of allocating every payment
again (``docs/collection.md``, "Where the ledger is kept").

The ledger is the present: it is kept as of one day (``ledger_state.as_of``: payments dated up to it,
allocated up to its month) and answers for that day and the later days of the month on which no
payment is dated. It is written

- at the end of every import (:func:`keep_ledgers`, called once from ``db.importer.run``): the
  contracts the import read (payments' contracts, contracts), the contracts removed and those whose
  payments were removed, each with the other contracts of its client (a renewal bills a month once
  across them);
- by the morning job (:func:`keep_ledgers` with nothing touched): the contracts with payments dated
  since the ledger's day, or every contract on a new month (the horizon moved).

A replay or any other day the ledger does not answer for is computed by the rules, never written.
Queries take the session first and do not commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, case, delete, func, insert, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import (
    Collection,
    ContractPosition,
    Month,
    Tier,
    apply_renewals,
    collection_of_totals,
    keep_ledger,
    month_first_day,
    summarize,
)
from db.models import (
    Client,
    Contract,
    Employee,
    LedgerContractRow,
    LedgerManagerRow,
    LedgerMonthRow,
    LedgerState,
    Payment,
)
from db.queries import (
    INFO_COLUMNS,
    ContractInfo,
    ManagerMonth,
    _chunks,
    client_names,
    contract_starts,
    manager_in,
    team_members_where,
    terms_history,
    terms_of,
)
from db.queries.bulk import insert_rows

STATE_ID = 1
MONTHS_TABLE = cast(Table, LedgerMonthRow.__table__)
CONTRACTS_TABLE = cast(Table, LedgerContractRow.__table__)
CONTRACT_COLUMNS = ("contract_id", "client_id", "manager_id", "credit", "payments", "written", "base", "paid", "debt",
                    "oldest_unpaid")  # fmt: skip
MONTH_COLUMNS = ("contract_id", "month", "base", "allocated", "paid", "unpaid", "written")
WIDE_CHUNK = 30000  # ids in one IN list where one statement matters: under SQLite's 32766 and asyncpg's 32767
CHUNK_WHOLE_TABLE = 5000  # contracts beyond which one read of the whole table beats lookups by id
WHOLE_MANAGERS = 200  # managers beyond which one read of the whole ledger beats lookups by manager


@dataclass(frozen=True)
class LedgerUpdate:
    """What one :func:`keep_ledgers` did: the day the ledger is kept for, how many contracts were
    recomputed and month rows written, and whether it was a full rebuild."""

    as_of: date
    contracts: int
    rows: int
    full: bool


async def ledger_state(session: AsyncSession) -> LedgerState | None:
    return await session.get(LedgerState, STATE_ID)


async def ledger_serves(session: AsyncSession, today: date) -> bool:
    """Whether the stored ledger gives ``today``'s figures (local date): it is kept for a day of
    ``today``'s month not after ``today``, and no payment is dated after that day up to ``today``.
    One index lookup (``ix_payments_paid_on``)."""
    state = await ledger_state(session)
    return await ledger_serves_from(session, state.as_of if state is not None else None, today)


async def ledger_serves_from(session: AsyncSession, as_of: date | None, today: date) -> bool:
    """:func:`ledger_serves` for a ledger kept as of ``as_of`` (``None``: no ledger), the state read
    already (``db.queries.screen_facts`` reads it with what a screen needs first): no query when the
    ledger is kept for ``today`` itself, else the one index lookup."""
    if as_of is None or as_of > today or Month.of(as_of) != Month.of(today):
        return False
    if as_of == today:
        return True
    later = select(Payment.id).where(Payment.paid_on > as_of, Payment.paid_on <= today).limit(1)
    return (await session.execute(later)).first() is None


async def keep_ledgers(
    session: AsyncSession,
    today: date,
    now: datetime,
    touched: Iterable[str] = (),
    *,
    removed: bool = False,
) -> LedgerUpdate:
    """Bring the ledger to ``today`` (local date; a day before the ledger's keeps the ledger's day) and
    recompute ``touched`` contracts. ``removed``: the caller removed contracts or payments, so the
    contracts that lost payments (their stored count differs) and the removed contracts' clients are
    found and recomputed too. A first ledger, or a new month, rebuilds every contract. ``now`` (UTC,
    naive) is stamped on the state. Returns what was written."""
    state = await ledger_state(session)
    day = today if state is None else max(today, state.as_of)
    if state is None:
        state = LedgerState(id=STATE_ID, as_of=day, writes=0, updated_at=now)
        session.add(state)
        full = True
    else:
        full = Month.of(state.as_of) != Month.of(day)
    state.writes += 1
    write = state.writes
    if full:
        await session.execute(delete(LedgerMonthRow))
        await session.execute(delete(LedgerContractRow))
        ids = list((await session.execute(select(Contract.id).order_by(Contract.id))).scalars())
        rows, _ = await _recompute(session, ids, day, write, replace=False)
        await _sum_managers(session, None)
    else:
        todo = set(touched)
        if day > state.as_of:
            todo.update(await _paid_between(session, state.as_of, day))
        if removed:
            todo.update(await _removed_or_short(session, state.as_of))
        todo = await _with_client_siblings(session, todo)
        ids = sorted(todo)
        rows, managers = await _recompute(session, ids, day, write, replace=True)
        await _sum_managers(session, managers)
    state.as_of = day
    state.updated_at = now
    owing = select(func.count(func.distinct(LedgerContractRow.client_id))).where(LedgerContractRow.debt > 0)
    state.debtors = int((await session.execute(owing)).scalar_one())
    await session.flush()
    return LedgerUpdate(day, len(ids), rows, full)


async def _paid_between(session: AsyncSession, after: date, until: date) -> set[str]:
    statement = select(Payment.contract_id).where(Payment.paid_on > after, Payment.paid_on <= until).distinct()
    return set((await session.execute(statement)).scalars())


async def _removed_or_short(session: AsyncSession, as_of: date) -> set[str]:
    """Contracts kept in the ledger that are gone, or that count more payments than they have now."""
    counted = (
        select(Payment.contract_id, func.count().label("n"))
        .where(Payment.paid_on <= as_of)
        .group_by(Payment.contract_id)
        .subquery()
    )
    statement = (
        select(LedgerContractRow.contract_id)
        .outerjoin(counted, counted.c.contract_id == LedgerContractRow.contract_id)
        .where(LedgerContractRow.payments != func.coalesce(counted.c.n, 0))
    )
    gone = select(LedgerContractRow.contract_id).where(LedgerContractRow.contract_id.not_in(select(Contract.id)))
    return set((await session.execute(statement)).scalars()) | set((await session.execute(gone)).scalars())


async def _with_client_siblings(session: AsyncSession, contract_ids: set[str]) -> set[str]:
    """``contract_ids`` with every contract of their clients (as kept, and as in 1C now)."""
    clients: set[str] = set()
    for chunk in _chunks(sorted(contract_ids)):
        kept = select(LedgerContractRow.client_id).where(LedgerContractRow.contract_id.in_(chunk))
        now = select(Contract.client_id).where(Contract.id.in_(chunk))
        clients.update((await session.execute(kept)).scalars())
        clients.update((await session.execute(now)).scalars())
    result = set(contract_ids)
    for chunk in _chunks(sorted(clients)):
        result.update((await session.execute(select(Contract.id).where(Contract.client_id.in_(chunk)))).scalars())
        kept_ids = select(LedgerContractRow.contract_id).where(LedgerContractRow.client_id.in_(chunk))
        result.update((await session.execute(kept_ids)).scalars())
    return result


async def _recompute(
    session: AsyncSession, contract_ids: Sequence[str], day: date, write: int, *, replace: bool
) -> tuple[int, set[str]]:
    """Allocate these contracts' payments dated up to ``day`` up to ``day``'s month by the rules and
    store the result, stamped ``write``; a contract no longer in 1C only loses its rows. Returns the
    month rows written and the managers whose contracts changed (before and after)."""
    horizon = Month.of(day)
    written = 0
    managers: set[str] = set()
    for chunk in _chunks(list(contract_ids)):
        if replace:
            before = select(LedgerContractRow.manager_id).where(LedgerContractRow.contract_id.in_(chunk))
            managers.update((await session.execute(before)).scalars())
            await session.execute(delete(LedgerMonthRow).where(LedgerMonthRow.contract_id.in_(chunk)))
            await session.execute(delete(LedgerContractRow).where(LedgerContractRow.contract_id.in_(chunk)))
        columns = (Contract.id, Contract.number, Contract.client_id, Contract.title, Contract.manager_id,
                   Contract.monthly_fee, Contract.start, Contract.months, Contract.closed_on)  # fmt: skip
        infos = [
            ContractInfo(cid, number, client_id, "", title, manager_id, fee, start, months, closed_on)
            for cid, number, client_id, title, manager_id, fee, start, months, closed_on in await session.execute(
                select(*columns).where(Contract.id.in_(chunk))
            )
        ]
        if not infos:
            continue
        history = await terms_history(session, [i.id for i in infos])
        renewed = apply_renewals(
            [terms_of(i, history.get(i.id)) for i in infos],
            await contract_starts(session, [i.client_id for i in infos if i.closed_on]),
        )
        by_contract = await _payments_until(session, [i.id for i in infos], day)
        month_rows: list[tuple[Any, ...]] = []
        contract_rows: list[tuple[Any, ...]] = []
        by_id = {i.id: i for i in infos}
        for terms in renewed:
            own = by_contract.get(terms.id, ())
            kept = keep_ledger(terms, own, horizon)
            manager_id = manager_in(by_id[terms.id], history.get(terms.id), horizon)
            oldest = None if kept.oldest_unpaid is None else month_first_day(kept.oldest_unpaid)
            contract_rows.append((terms.id, terms.client, manager_id, kept.credit, len(own), write, kept.base,
                                  kept.paid, kept.debt, oldest))  # fmt: skip
            contract_id = terms.id
            month_rows.extend([(contract_id, month_first_day(index), base, allocated, paid, unpaid, write)
                               for index, base, allocated, paid, unpaid in kept.months])  # fmt: skip
        # the driver's bulk path (executemany / COPY) with plain tuples: no per-row parameter work
        conn = await session.connection()
        await insert_rows(conn, CONTRACTS_TABLE, CONTRACT_COLUMNS, contract_rows)
        await insert_rows(conn, MONTHS_TABLE, MONTH_COLUMNS, month_rows)
        written += len(month_rows)
        managers.update(row[2] for row in contract_rows)
    return written, managers


async def _payments_until(
    session: AsyncSession, contract_ids: Sequence[str], day: date
) -> dict[str, list[tuple[int, int | None]]]:
    """These contracts' payments dated up to ``day``, by contract, as :func:`bot.rules.keep_ledger`
    takes them: ``(amount in kopecks, the month index of the period or None)``. Read through the
    connection (no ORM row and no record per payment); each period's month index is computed once.

    The date is compared here, not in SQL: right after a bulk import PostgreSQL's statistics still
    describe the table before it, and with ``paid_on <= day`` in the query its planner took the
    ``paid_on`` index and scanned every payment for each chunk of contracts (27 s a chunk at full
    size), where the contract id index reads only the chunk's payments."""
    conn = await session.connection()
    months: dict[date, int] = {}
    by_contract: dict[str, list[tuple[int, int | None]]] = {}
    for chunk in _chunks(list(contract_ids)):
        rows = await conn.execute(
            select(Payment.contract_id, Payment.amount, Payment.period, Payment.paid_on).where(
                Payment.contract_id.in_(chunk)
            )
        )
        for contract_id, amount, period, paid_on in rows:
            if _as_date(paid_on) > day:
                continue
            index = None
            if period is not None:
                index = months.get(period)
                if index is None:
                    index = months[period] = period.year * 12 + period.month - 1
            found = by_contract.get(contract_id)
            if found is None:
                found = by_contract[contract_id] = []
            found.append((amount, index))
    return by_contract


async def _sum_managers(session: AsyncSession, manager_ids: set[str] | None) -> None:
    """Sum ``ledger_contracts`` into ``ledger_managers`` for these managers (every manager: ``None``)."""
    kept, summary = LedgerContractRow, cast(Table, LedgerManagerRow.__table__)
    sums = select(
        kept.manager_id,
        func.sum(kept.base),
        func.sum(kept.paid),
        func.sum(kept.debt),
        func.count(func.distinct(case((kept.debt > 0, kept.client_id), else_=None))),
    ).group_by(kept.manager_id)
    columns = ["manager_id", "base", "paid", "debt", "debtors"]
    if manager_ids is None:
        await session.execute(delete(summary))
        await session.execute(insert(summary).from_select(columns, sums))
        return
    for chunk in _chunks(sorted(manager_ids)):
        await session.execute(delete(summary).where(summary.c.manager_id.in_(chunk)))
        await session.execute(insert(summary).from_select(columns, sums.where(kept.manager_id.in_(chunk))))


async def positions_from_ledger(
    session: AsyncSession, contracts: Sequence[tuple[str, str]], month: Month, today: date
) -> dict[str, ContractPosition]:
    """Each contract's position in ``month`` as of ``today`` read from the stored ledger, aggregated in
    SQL (``bot.rules.position_of_months`` is the same reading in Python, held equal by a test).
    ``contracts`` are ``(contract id, client id)``; a contract without stored months is all zero.
    Only when :func:`ledger_serves` ``today`` and ``month`` is not after ``today``'s."""
    current = Month.of(today)
    if month > current:
        raise ValueError(f"the ledger is kept up to {current}, not {month}")
    bound = (month if month < current else current.shift(-1)).first_day()
    first = month.first_day()
    row = LedgerMonthRow
    owed = and_(row.month <= bound, row.unpaid > 0)
    clients = dict(contracts)
    result: dict[str, ContractPosition] = {}
    if month == current:  # the ledger's own month: one stored row per contract, nothing to aggregate
        await _current_positions(session, clients, month, today, result)
    for chunk in _chunks(list(clients) if month != current else []):
        statement = (
            select(
                row.contract_id,
                func.sum(case((row.month == first, row.base), else_=0)),
                func.sum(case((row.month == first, row.paid), else_=0)),
                func.sum(case((owed, row.unpaid), else_=0)),
                func.min(case((owed, row.month), else_=None)),
            )
            .where(row.contract_id.in_(chunk), row.month <= max(bound, first))
            .group_by(row.contract_id)
        )
        for contract_id, base, paid, debt, oldest_day in await session.execute(statement):
            base, paid, debt = int(base or 0), int(paid or 0), int(debt or 0)
            oldest = Month.of(_as_date(oldest_day)) if oldest_day is not None else None
            result[contract_id] = ContractPosition(
                contract_id=contract_id,
                base=base,
                paid=paid,
                awaiting=base - paid if month == current else 0,
                debt=debt,
                oldest_unpaid=oldest,
                debt_age_days=(today - oldest.first_day()).days if oldest else 0,
                client_id=clients[contract_id],
            )
    for contract_id, client_id in contracts:
        if contract_id not in result:
            result[contract_id] = ContractPosition(contract_id, 0, 0, 0, 0, None, 0, client_id)
    return result


async def _current_positions(
    session: AsyncSession, clients: dict[str, str], month: Month, today: date, result: dict[str, ContractPosition]
) -> None:
    """:func:`positions_from_ledger` for the ledger's own month, read from ``ledger_contracts``: by
    contract id for a few contracts, the whole table once for many (a morning's digests)."""
    kept = LedgerContractRow
    columns = (kept.contract_id, kept.base, kept.paid, kept.debt, kept.oldest_unpaid)
    if len(clients) > CHUNK_WHOLE_TABLE:
        batches: Iterable[Any] = [await session.execute(select(*columns))]
    else:
        batches = [
            await session.execute(select(*columns).where(kept.contract_id.in_(chunk)))
            for chunk in _chunks(list(clients))
        ]
    for rows in batches:
        for contract_id, base, paid, debt, oldest_day in rows:
            client_id = clients.get(contract_id)
            if client_id is None:
                continue
            oldest = Month.of(_as_date(oldest_day)) if oldest_day is not None else None
            result[contract_id] = ContractPosition(
                contract_id=contract_id,
                base=base,
                paid=paid,
                awaiting=base - paid,
                debt=debt,
                oldest_unpaid=oldest,
                debt_age_days=(today - oldest.first_day()).days if oldest else 0,
                client_id=client_id,
            )


async def collections_of_current_month(
    session: AsyncSession, manager_ids: Sequence[str], today: date, tiers: Sequence[Tier]
) -> dict[str, ManagerMonth]:
    """``db.queries.collections`` of ``today``'s month read from the ledger alone: who managed each
    contract in the month and its position there are what the ledger keeps for its own month
    (``ledger_contracts``), so neither the terms history nor the renewals are read again. One join by
    the manager index per chunk of managers. Only when :func:`ledger_serves` ``today``."""
    month = Month.of(today)
    kept = LedgerContractRow
    own: dict[str, list[ContractPosition]] = {m: [] for m in manager_ids}
    infos: dict[str, dict[str, ContractInfo]] = {m: {} for m in manager_ids}
    for chunk in _chunks(list(manager_ids)):
        statement = (
            select(*INFO_COLUMNS, kept.manager_id, kept.client_id, kept.base, kept.paid, kept.debt, kept.oldest_unpaid)
            .join(kept, kept.contract_id == Contract.id)
            .join(Client, Client.id == Contract.client_id)
            .where(kept.manager_id.in_(chunk))
            .order_by(Contract.id)
        )
        for row in await session.execute(statement):
            info = ContractInfo(*row[:10])
            manager_id, client_id, base, paid, debt, oldest_day = row[10:]
            oldest = Month.of(_as_date(oldest_day)) if oldest_day is not None else None
            own[manager_id].append(ContractPosition(
                info.id, base, paid, base - paid, debt, oldest,
                (today - oldest.first_day()).days if oldest else 0, client_id,
            ))  # fmt: skip
            infos[manager_id][info.id] = info
    return {m: ManagerMonth(m, summarize(month, own[m], tiers), own[m], infos[m]) for m in manager_ids}


def _as_date(value: Any) -> date:
    """``MIN`` over a date column comes back as text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def stored_ledger(
    session: AsyncSession,
) -> tuple[dict[tuple[str, date], tuple[int, int, int, int]], dict[str, int]]:
    """The whole stored ledger, for tests and checks: ``(contract, month) → (base, allocated, paid,
    unpaid)`` and ``contract → credit``."""
    months = {
        (r.contract_id, r.month): (r.base, r.allocated, r.paid, r.unpaid)
        for r in (await session.execute(select(LedgerMonthRow))).scalars()
    }
    credits = {r.contract_id: r.credit for r in (await session.execute(select(LedgerContractRow))).scalars()}
    return months, credits


async def last_payment_days(session: AsyncSession, contract_ids: Sequence[str], today: date) -> dict[str, date]:
    """Each contract's latest payment dated up to ``today`` (contracts without one left out): one
    aggregate per chunk instead of reading every payment."""
    found: dict[str, date] = {}
    for chunk in _chunks(list(contract_ids)):
        statement = (
            select(Payment.contract_id, func.max(Payment.paid_on))
            .where(Payment.contract_id.in_(chunk), Payment.paid_on <= today)
            .group_by(Payment.contract_id)
        )
        found.update((cid, _as_date(day)) for cid, day in await session.execute(statement))
    return found


@dataclass(frozen=True)
class TeamTotals:
    """Managers' month totals and the team's debtors: clients with debt counted once across the
    managers (a client with contracts at two managers is one debtor of the team)."""

    members: dict[str, Collection]
    debtors: int


async def team_totals_from_ledger(
    session: AsyncSession, manager_ids: Sequence[str], today: date, tiers: Sequence[Tier]
) -> TeamTotals:
    """Each manager's current month (``today``'s) and the team's debtors, read from what the ledger
    keeps for its own month: one ``ledger_managers`` row per manager, and the owing contracts' clients
    (``ix_ledger_contracts_owing``) counted once across the managers, or, when the managers are every
    manager the ledger holds (an admin's), the count kept on ``ledger_state``. The same figures as
    ``summarize`` over the positions (a test holds them equal). Only when :func:`ledger_serves`
    ``today``."""
    month = Month.of(today)
    summary = LedgerManagerRow
    sums: dict[str, tuple[int, int, int, int]] = {}
    wanted = set(manager_ids)
    statement = select(summary.manager_id, summary.base, summary.paid, summary.debt, summary.debtors)
    everyone = len(wanted) > WHOLE_MANAGERS  # many managers: the whole table once
    for one in [statement] if everyone else [statement.where(summary.manager_id.in_(c)) for c in _chunks(list(wanted))]:
        for manager_id, base, paid, debt, debtors in await session.execute(one):
            if manager_id in wanted:
                sums[manager_id] = (base, paid, debt, debtors)
            else:
                everyone = False  # a manager in the ledger left out: count this team's debtors
    state = await ledger_state(session) if everyone else None
    if state is not None and state.debtors is not None:  # every manager in the ledger: kept at its write
        team_debtors = state.debtors
    else:
        team_debtors = await _owing_clients_of(session, manager_ids)
    members: dict[str, Collection] = {}
    for manager_id in manager_ids:
        base, paid, debt, owing = sums.get(manager_id, (0, 0, 0, 0))
        members[manager_id] = collection_of_totals(month, base, paid, base - paid, debt, owing, tiers)
    return TeamTotals(members, team_debtors)


IN_DEBT = LedgerContractRow.debt > literal_column("0")  # a literal, as the partial index says it (not a parameter)


async def _owing_clients_of(session: AsyncSession, manager_ids: Sequence[str]) -> int:
    """The clients with debt at any of these managers in the ledger's month, counted once
    (``ix_ledger_contracts_owing``): one number from the database, not every owing client."""
    kept = LedgerContractRow
    if len(manager_ids) <= WIDE_CHUNK:
        count = select(func.count(func.distinct(kept.client_id))).where(kept.manager_id.in_(manager_ids), IN_DEBT)
        return int((await session.execute(count)).scalar_one())
    clients: set[str] = set()
    for chunk in _chunks(list(manager_ids), WIDE_CHUNK):
        owing_clients = select(kept.client_id).where(kept.manager_id.in_(chunk), IN_DEBT).distinct()
        clients.update((await session.execute(owing_clients)).scalars())
    return len(clients)


class TeamMember(NamedTuple):
    """A manager a team view lists, with their totals in the ledger's own month (``ledger_managers``;
    kopecks, all zero for a manager without contracts there). ``active`` is ``False`` for one who
    left still holding contracts (shown as unassigned). A named tuple: an admin's view reads a
    thousand of them on every page turn."""

    manager_id: str
    name: str
    active: bool
    base: int
    paid: int
    debt: int
    debtors: int


async def team_from_ledger(session: AsyncSession, viewer: Employee) -> list[TeamMember]:
    """Whom ``viewer``'s team view lists (``db.queries.team_members_where``, the one scope rule) with
    their totals from ``ledger_managers``: one statement, the employees joined to their one summary
    row by its key. The same figures as :func:`team_totals_from_ledger` over the listed ids (a test
    holds them equal); the team's debtors are not read (``/team`` does not show them). Only when
    :func:`ledger_serves` the day read."""
    summary = LedgerManagerRow
    joined = select(
        Employee.id, Employee.name, Employee.active, func.coalesce(summary.base, 0),
        func.coalesce(summary.paid, 0), func.coalesce(summary.debt, 0), func.coalesce(summary.debtors, 0),
    ).outerjoin(summary, summary.manager_id == Employee.id)  # fmt: skip
    active, *departed = [joined.where(clause) for clause in team_members_where(viewer)]
    statement = union_all(active, *departed) if departed else active
    return [TeamMember(*row) for row in await session.execute(statement)]


@dataclass(frozen=True)
class DigestFigure:
    """A manager's current month as the morning digest reads it: the collection with its plan to the
    next tier, and what the plan names. The same numbers as ``summarize`` over the manager's
    positions (a test holds them equal) without reading a position per contract."""

    manager_id: str
    collection: Collection
    awaiting: dict[str, int]  # client id → the month's fees still awaited (kopecks), ``awaiting_by_client``
    clients: dict[str, str]  # client id → name, of the clients the plan names


async def digest_figures(
    session: AsyncSession, manager_ids: Sequence[str], today: date, tiers: Sequence[Tier]
) -> dict[str, DigestFigure]:
    """Each manager's :class:`DigestFigure` for ``today``'s month from what the ledger keeps for its
    own month: the totals (``ledger_managers``), the contracts still awaited (their fees summed per
    client) and the names of the clients the plans name. For many managers (a morning's) each table
    is read once whole. Only when :func:`ledger_serves` ``today``."""
    month = Month.of(today)
    kept, summary = LedgerContractRow, LedgerManagerRow
    wanted = set(manager_ids)
    totals_statement = select(summary.manager_id, summary.base, summary.paid, summary.debt, summary.debtors)
    awaited = select(kept.manager_id, kept.client_id, kept.base - kept.paid).where(kept.base > kept.paid)
    batches = (
        [(totals_statement, awaited)]
        if len(wanted) > WHOLE_MANAGERS
        else [
            (totals_statement.where(summary.manager_id.in_(chunk)), awaited.where(kept.manager_id.in_(chunk)))
            for chunk in _chunks(sorted(wanted))
        ]
    )
    sums: dict[str, tuple[int, int, int, int]] = {}
    awaiting: dict[str, dict[str, int]] = {m: {} for m in wanted}
    for totals_of, awaited_of in batches:
        for manager_id, base, paid, debt, debtors in await session.execute(totals_of):
            if manager_id in wanted:
                sums[manager_id] = (base, paid, debt, debtors)
        for manager_id, client_id, amount in await session.execute(awaited_of):
            if manager_id in wanted:  # summed per client as awaiting_by_client sums positions
                own = awaiting[manager_id]
                own[client_id] = own.get(client_id, 0) + amount
    collections: dict[str, Collection] = {}
    for manager_id in manager_ids:
        base, paid, debt, debtors = sums.get(manager_id, (0, 0, 0, 0))
        collections[manager_id] = collection_of_totals(
            month, base, paid, base - paid, debt, debtors, tiers, awaiting_clients=awaiting[manager_id]
        )
    names = await client_names(
        session, {c for f in collections.values() if f.next_step for c in f.next_step.client_ids}
    )
    return {
        m: DigestFigure(
            m, c, awaiting[m], {i: names[i] for i in (c.next_step.client_ids if c.next_step else ()) if i in names}
        )
        for m, c in collections.items()
    }


@dataclass(frozen=True)
class OwingClient:
    """A client owing to one manager in the ledger's month: the debt of its contracts with debt
    summed (kopecks) and the oldest unpaid month among them, as ``jobs.digests.client_debts`` reads
    positions. ``first_contract``: the smallest id of those contracts (the positions' order)."""

    manager_id: str
    client_id: str
    debt: int
    oldest: date  # the first day of the oldest unpaid month
    first_contract: str


async def owing_clients(session: AsyncSession, manager_ids: Sequence[str]) -> dict[str, list[OwingClient]]:
    """Each manager's owing clients in the ledger's own month, in the order of their first owing
    contract: one aggregate over the owing contracts (``ix_ledger_contracts_owing``), the whole
    index once for many managers. Client names are not read (:func:`db.queries.client_names`).
    Only when :func:`ledger_serves` the day read."""
    kept = LedgerContractRow
    wanted = set(manager_ids)
    statement = (
        select(kept.manager_id, kept.client_id, func.sum(kept.debt), func.min(kept.oldest_unpaid),
               func.min(kept.contract_id))
        .where(kept.debt > literal_column("0"))
        .group_by(kept.manager_id, kept.client_id)
    )  # fmt: skip
    statements = (
        [statement]
        if len(wanted) > WHOLE_MANAGERS
        else [statement.where(kept.manager_id.in_(chunk)) for chunk in _chunks(sorted(wanted))]
    )
    result: dict[str, list[OwingClient]] = {m: [] for m in manager_ids}
    for one in statements:
        for manager_id, client_id, debt, oldest, first in await session.execute(one):
            if manager_id in wanted:
                result[manager_id].append(OwingClient(manager_id, client_id, int(debt), _as_date(oldest), first))
    for owing in result.values():
        owing.sort(key=lambda o: o.first_contract)
    return result
