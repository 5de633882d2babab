"""Screens: what a command or a button shows. Each is queries → rules → texts + a keyboard.

Scope is decided by the caller (``bot.access``) before a screen is built; screens only render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.access import Person
from bot.arguments import CallsPeriod
from bot.keyboards import (
    PAGE_SIZE,
    CallsView,
    ContractCard,
    DocsView,
    ManagerView,
    ScopeView,
    TeamView,
    View,
    button,
    markup,
    page_slice,
    pager,
)
from bot.rules import (
    RULE_ORDER,
    Month,
    Rule,
    allocate,
    apply_renewals,
    awaiting_by_client,
    close_day,
    known_on,
    months_between,
    position,
)
from bot.settings import Settings
from db import queries
from db.models import Employee
from jobs.digests import below_first_tier, column, local_time, totals_of_team, worst_first
from jobs.discipline import as_finding, discipline_of, ensure_findings

TEAM_PAGE = 20
CARD_MONTHS = 6
CARD_PAYMENTS = 5


@dataclass(frozen=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None


def person(employee: Employee) -> Person:
    return Person(employee.id, employee.role, employee.team, employee.active)


async def _imported_at(session: AsyncSession, settings: Settings) -> datetime | None:
    return local_time(await queries.last_import_at(session), settings.zone)


# --- /kpi ---------------------------------------------------------------------------------------------


async def month_refusal(session: AsyncSession, month: Month, today: date) -> str | None:
    """Why ``month`` cannot be shown, or ``None``: a month to come, or one before any data."""
    if month > Month.of(today):
        return texts.future_month(month)
    first = await queries.first_data_month(session)
    if first is None or month < first:
        return texts.no_data_month(month, first)
    return None


async def month_status(
    session: AsyncSession, month: Month, today: date, settings: Settings
) -> tuple[date | None, date | None]:
    """(closed on, closes on) of a finished month in local dates; (None, None) for the current one."""
    if month >= Month.of(today):
        return None, None
    state = await queries.month_close_state(session, month)
    if state is not None and state.action == "close":
        closed = local_time(state.at, settings.zone)
        return (closed.date() if closed else None), None
    return None, close_day(month, settings.month_close_workday, settings.calendar.is_working_day)


async def kpi_screen(
    session: AsyncSession, viewer: Employee, manager: Employee, month: Month, today: date, settings: Settings
) -> Screen:
    """A manager's month as of ``today``: the current month live; a finished month closed (its frozen
    figures and month-end debt) or, before its close, live and marked preliminary."""
    refusal = await month_refusal(session, month, today)
    if refusal is not None:
        return Screen(refusal)
    figure = await queries.collection_of(session, manager.id, month, today, settings.kpi_tiers)
    collection = figure.collection
    frozen_on, closes_on = await month_status(session, month, today, settings)
    if frozen_on is not None:
        closed = await queries.closed_collections(session, [manager.id], month)
        if closed is not None:
            collection = closed[manager.id]
    text = texts.kpi_view(
        manager.name,
        collection,
        figure.client_names(),
        awaiting_by_client(figure.positions),
        await _imported_at(session, settings),
        frozen_on=frozen_on,
        closes_on=closes_on,
        today=today,
        own=viewer.id == manager.id,
    )
    rows = [
        [
            button("Должники", ManagerView(view=View.DEBTORS, manager=manager.id)),
            button("Договоры", ManagerView(view=View.CONTRACTS, manager=manager.id)),
        ]
    ]
    if viewer.id != manager.id:
        rows.append([button("◀ Команда", TeamView(month=str(month)))])
    return Screen(text, markup(rows))


# --- /debtors --------------------------------------------------------------------------------------------


async def debtors_screen(
    session: AsyncSession,
    managers: list[Employee],
    title: str,
    page: int,
    today: date,
    settings: Settings,
    page_data: dict[str, object],
    page_callback: type[ManagerView] | type[ScopeView],
    unassigned: Sequence[Employee] = (),
) -> Screen:
    """Clients with debt, largest first, then the month's awaited payments; each client once with its
    contracts inside. ``unassigned``: managers who left, whose contracts are marked "без менеджера"."""
    month = Month.of(today)
    ids = [m.id for m in managers] + [d.id for d in unassigned]
    figures = await queries.collections(session, ids, month, today, settings.kpi_tiers)
    departed = {d.id for d in unassigned}
    debtors: dict[tuple[str, bool], DebtorEntry] = {}  # by client: a debtor is a client, its contracts inside
    awaiting: dict[tuple[str, bool], DebtorEntry] = {}
    waiting = 0
    for manager_id, figure in figures.items():
        orphan = manager_id in departed
        for p in figure.positions:
            info = figure.contracts[p.contract_id]
            if orphan and (p.base or p.debt or p.awaiting):
                waiting += 1
            if p.debt:
                entry = debtors.setdefault((p.client_id, orphan), DebtorEntry(info.client, p.client_id, orphan))
                entry.add(p.contract_id, info.number or info.id, p.debt, p.oldest_unpaid, p.debt_age_days)
            if p.awaiting:
                entry = awaiting.setdefault((p.client_id, orphan), DebtorEntry(info.client, p.client_id, orphan))
                entry.add(p.contract_id, info.number or info.id, p.awaiting, None, 0)

    def order(entry: DebtorEntry) -> tuple[int, str, str]:
        return -entry.amount, entry.client, entry.client_id

    entries = [("debt", e) for e in sorted(debtors.values(), key=order)]
    entries += [("awaiting", e) for e in sorted(awaiting.values(), key=order)]
    shown, page, pages = page_slice(entries, page)
    debt_rows, awaiting_rows, buttons = [], [], []
    for offset, (kind, entry) in enumerate(shown):
        number = page * PAGE_SIZE + offset + 1
        contracts = [(label, amount) for _, label, amount in entry.contracts] if len(entry.contracts) > 1 else []
        if kind == "debt":
            debt_rows.append(texts.debtor_line(number, entry.client, entry.amount, entry.oldest, entry.age, contracts,
                                               unassigned=entry.unassigned))  # fmt: skip
        else:
            awaiting_rows.append(texts.awaiting_line(number, entry.client, entry.amount, contracts,
                                                     unassigned=entry.unassigned))  # fmt: skip
        many = len(entry.contracts) > 1
        for contract_id, label, _ in entry.contracts[: texts.CONTRACTS_INSIDE]:  # ≤ 50 buttons a page
            buttons.append(
                button(f"{number}·{label}"[:24] if many else str(number), ContractCard(contract=contract_id))
            )
    text = texts.debtors_page(
        title,
        debt_rows,
        awaiting_rows,
        sum(e.amount for e in debtors.values()),
        sum(e.amount for e in awaiting.values()),
        month,
        debtors_total=len({client for client, _ in debtors}),
        unassigned=waiting,
    )
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    rows.append(pager(page, pages, page_callback, **page_data))
    return Screen(text, markup(rows))


@dataclass
class DebtorEntry:
    """One client on the debtors screen: its total and its contracts (id, label, amount)."""

    client: str
    client_id: str
    unassigned: bool = False  # the contracts of a manager who left
    amount: int = 0
    oldest: Month | None = None
    age: int = 0
    contracts: list[tuple[str, str, int]] = field(default_factory=list)

    def add(self, contract_id: str, label: str, amount: int, oldest: Month | None, age: int) -> None:
        self.amount += amount
        self.contracts.append((contract_id, label, amount))
        if oldest is not None and (self.oldest is None or oldest < self.oldest):
            self.oldest, self.age = oldest, age


# --- /contracts -----------------------------------------------------------------------------------------

SEARCH_LIMIT = 20


async def contracts_screen(
    session: AsyncSession,
    managers: list[Employee],
    title: str,
    page: int,
    today: date,
    query: str,
    page_data: dict[str, object],
    page_callback: type[ManagerView] | type[ScopeView],
) -> Screen:
    month = Month.of(today)
    infos = await queries.contracts_of(session, [m.id for m in managers])
    active = [i for i in infos if queries.terms_of(i).is_active(month)]
    key = query.casefold().replace("ё", "е")
    if key:
        active = [i for i in active if key in i.client.casefold().replace("ё", "е") or key in i.number.casefold()]
    active.sort(key=lambda i: (i.client.casefold(), i.id))
    if key:  # a search is not paged (the query would not fit into a button): the first matches
        pages, page = 1, 0
        shown = active[:SEARCH_LIMIT]
    else:
        shown, page, pages = page_slice(active, page)
    rows_text, buttons = [], []
    for offset, info in enumerate(shown):
        number = page * PAGE_SIZE + offset + 1
        rows_text.append(texts.contract_line(number, info.client, info.number, info.monthly_fee))
        buttons.append(button(str(number), ContractCard(contract=info.id)))
    text = texts.contracts_page(title, rows_text, len(active), query)
    if key and len(active) > SEARCH_LIMIT:
        text += f"\n\nПоказаны первые {SEARCH_LIMIT}: уточните запрос."
    keyboard = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    keyboard.append(pager(page, pages, None if key else page_callback, **page_data))
    return Screen(text, markup(keyboard))


# --- contract card ----------------------------------------------------------------------------------------


async def contract_screen(
    session: AsyncSession, info: queries.ContractInfo, manager: Employee, viewer: Employee, today: date
) -> Screen:
    current = Month.of(today)
    payments = known_on(await queries.payments_of_contract(session, info.id), today)
    history = await queries.terms_history(session, [info.id])
    starts = await queries.contract_starts(session, [info.client_id])
    terms = apply_renewals([queries.terms_of(info, history.get(info.id))], starts)[0]
    ledger = allocate(terms, payments, current)
    place = position(ledger, current, today)
    first = max(terms.start, current.shift(-(CARD_MONTHS - 1)))
    months = [(m, ledger.base(m), ledger.paid(m)) for m in months_between(first, current)]
    text = texts.contract_card(
        info.client,
        info.number,
        info.title,
        manager.name,
        texts.term_text(info.start, info.months, info.closed_on),
        terms.fee(current),
        months,
        place.debt,
        place.oldest_unpaid,
        place.debt_age_days,
        [(p.paid_on, p.amount, p.period) for p in payments[:CARD_PAYMENTS]],
    )
    back = (
        ScopeView(view=View.DEBTORS) if viewer.id == manager.id else ManagerView(view=View.DEBTORS, manager=manager.id)
    )
    return Screen(text, markup([[button("◀ Должники", back)]]))


# --- /team ------------------------------------------------------------------------------------------------


async def team_screen(
    session: AsyncSession, viewer: Employee, month: Month, page: int, today: date, settings: Settings
) -> Screen:
    refusal = await month_refusal(session, month, today)
    if refusal is not None:
        return Screen(refusal)
    managers = await queries.managers_in_scope(session, viewer)
    ids = [m.id for m in managers]
    frozen_on, closes_on = await month_status(session, month, today, settings)
    closed = await queries.closed_collections(session, ids, month) if frozen_on else None
    totals = closed or await queries.collection_totals(session, ids, month, today, settings.kpi_tiers)
    names = {m.id: m.name for m in managers}
    total = totals_of_team(month, list(totals.values()), settings.kpi_tiers)
    ordered = worst_first(totals, names)
    shown, page, pages = page_slice(ordered, page, TEAM_PAGE)
    team = None
    if month == Month.of(today) and await queries.has_discipline_data(session):
        await ensure_findings(session, today, settings, datetime.combine(today, settings.digest_time))
        team = await discipline_of(session, [mid for _, mid, _ in shown], today, settings)
    rows = [texts.team_line(name, c, below_first_tier(c, settings.kpi_tiers), column(team, mid))
            for name, mid, c in shown]  # fmt: skip
    unassigned = await queries.unassigned_month(session, viewer, month, today, settings.kpi_tiers)
    if unassigned is not None:  # contracts of managers who left stay in sight, and in the total
        orphans = unassigned.collection
        frozen = await queries.closed_collections(session, list(unassigned.figures), month) if frozen_on else None
        if frozen is not None:  # a closed month: their frozen figures, like everyone's
            orphans = totals_of_team(month, list(frozen.values()), settings.kpi_tiers)
        total = totals_of_team(month, [*totals.values(), orphans], settings.kpi_tiers)
        if page == 0:
            rows.append(texts.unassigned_line(orphans, unassigned.waiting))
    title = f"Команда «{viewer.team}»" if viewer.role == "supervisor" else "Все команды"
    text = texts.team_view(title, total, rows, await _imported_at(session, settings), page, pages)
    if frozen_on or closes_on:
        text += "\n" + texts.month_state_note(frozen_on, closes_on, today)
    buttons = [button(name, ManagerView(view=View.KPI, manager=mid, month=str(month))) for name, mid, _ in shown]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append(pager(page, pages, TeamView, month=str(month)))
    return Screen(text, markup(keyboard))


# --- /calls and /docs --------------------------------------------------------------------------------------


async def calls_screen(
    session: AsyncSession,
    viewer: Employee,
    period: CallsPeriod,
    page: int,
    today: date,
    now: datetime,
    settings: Settings,
) -> Screen:
    """The findings of the viewer's scope for ``period``, grouped by rule (originals are /docs)."""
    managers = await queries.managers_in_scope(session, viewer)
    names = {m.id: m.name for m in managers}
    if await queries.has_discipline_data(session):
        await ensure_findings(session, today, settings, now)
    rows = await queries.findings_between(session, list(names), period.first_day, period.last_day)
    seen: set[tuple[str, str]] = set()
    findings = []
    for row in rows:
        finding = as_finding(row)
        key = (row.rule, row.subject_id)
        if finding.rule is Rule.ORIGINALS or key in seen:
            continue
        if period.start is not None and period.end is not None and not period.start <= row.at.date() < period.end:
            continue
        seen.add(key)
        findings.append(finding)
    order = {rule: n for n, rule in enumerate(RULE_ORDER)}
    findings.sort(key=lambda f: (order[f.rule], f.at, f.subject_id))
    shown, page, pages = page_slice(findings, page)
    counts = {rule: sum(1 for f in findings if f.rule is rule) for rule in RULE_ORDER}
    groups: list[tuple[Rule, int, list[str]]] = []
    for offset, finding in enumerate(shown):
        who = names.get(finding.manager_id) if len(names) > 1 else None
        line = texts.finding_line(page * PAGE_SIZE + offset + 1, finding, who)
        if not groups or groups[-1][0] is not finding.rule:
            groups.append((finding.rule, counts[finding.rule], []))
        groups[-1][2].append(line)
    title = "Ваши звонки и встречи" if viewer.role == "manager" else "Звонки и встречи команды"
    text = texts.calls_page(title, calls_period_title(period, today, settings), groups, len(findings))
    return Screen(text, markup([pager(page, pages, CallsView, period=period.code)]))


def calls_period_title(period: CallsPeriod, today: date, settings: Settings) -> str:
    if period.code == "":
        since = settings.calendar.previous_working_day(today)
        return f"с {texts.short_date(since)}" if since else "за вчера"
    if period.code == "w":
        return "за 7 дней"
    if period.code.startswith("d") and period.start is not None:
        return texts.short_date(period.start)
    return texts.month_name(Month.of(period.first_day))


async def docs_screen(session: AsyncSession, viewer: Employee, page: int, today: date, settings: Settings) -> Screen:
    """Documents waiting for their signed originals, oldest first, with age and amount."""
    managers = await queries.managers_in_scope(session, viewer)
    names = {m.id: m.name for m in managers}
    papers = await queries.papers_without_originals(session, list(names))
    limits = settings.thresholds
    overdue = sum(1 for p in papers if (today - p.doc_date).days > limits.originals_grace_days)
    shown, page, pages = page_slice(papers, page)
    rows = []
    for offset, paper in enumerate(shown):
        line = texts.document_line(page * PAGE_SIZE + offset + 1, paper.kind, paper.number, paper.doc_date,
                                   paper.client, paper.amount, (today - paper.doc_date).days,
                                   limits.originals_grace_days, limits.originals_escalate_days)  # fmt: skip
        if len(names) > 1:
            line += f" ({texts.q(names[paper.manager_id])})"
        rows.append(line)
    title = "Оригиналы, которые ждём" if viewer.role == "manager" else "Оригиналы, которые ждёт команда"
    text = texts.docs_page(title, rows, len(papers), overdue, limits.originals_grace_days)
    return Screen(text, markup([pager(page, pages, DocsView)]))
