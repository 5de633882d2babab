"""Screens: what a command or a button shows. Each is queries → rules → texts + a keyboard.

Scope is decided by the caller (``bot.access``) before a screen is built; screens only render.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    chart_button,
    export_debtors_button,
    markup,
    page_slice,
    pager,
)
from bot.rules import RULE_ORDER, Collection, Month, Rule, allocate, months_between, position
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


async def kpi_screen(
    session: AsyncSession, viewer: Employee, manager: Employee, month: Month, today: date, settings: Settings
) -> Screen:
    figure = await queries.collection_of(session, manager.id, month, today, settings.kpi_tiers)
    collection = figure.collection
    frozen_on: date | None = None
    if month < Month.of(today):
        snapshot = await queries.get_snapshot(session, manager.id, month)
        if snapshot is not None:
            collection = Collection(
                month=month,
                base=snapshot.base,
                paid=snapshot.paid,
                awaiting=0,
                debt=collection.debt,
                debtors=collection.debtors,
                percent=queries.snapshot_percent(snapshot),
                coefficient=snapshot.coefficient,
                next_step=None,
            )
            frozen_on = snapshot.frozen_at.date()
    clients = {cid: info.client for cid, info in figure.contracts.items()}
    awaiting = {p.contract_id: p.awaiting for p in figure.positions}
    text = texts.kpi_view(
        manager.name,
        collection,
        clients,
        awaiting,
        await _imported_at(session, settings),
        frozen_on=frozen_on,
        own=viewer.id == manager.id,
    )
    rows = [
        [
            button("Должники", ManagerView(view=View.DEBTORS, manager=manager.id)),
            button("Договоры", ManagerView(view=View.CONTRACTS, manager=manager.id)),
        ]
    ]
    rows.append([chart_button(manager.id, str(month))])
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
) -> Screen:
    month = Month.of(today)
    figures = await queries.collections(session, [m.id for m in managers], month, today, settings.kpi_tiers)
    debt_items: list[tuple[int, str, str]] = []  # (amount, client, contract id)
    awaiting_items: list[tuple[int, str, str]] = []
    positions = {}
    for figure in figures.values():
        for p in figure.positions:
            info = figure.contracts[p.contract_id]
            positions[p.contract_id] = p
            if p.debt:
                debt_items.append((p.debt, info.client, p.contract_id))
            if p.awaiting:
                awaiting_items.append((p.awaiting, info.client, p.contract_id))
    debt_items.sort(key=lambda item: (-item[0], item[1], item[2]))
    awaiting_items.sort(key=lambda item: (-item[0], item[1], item[2]))
    entries = [("debt", *item) for item in debt_items] + [("awaiting", *item) for item in awaiting_items]
    shown, page, pages = page_slice(entries, page)
    debt_rows, awaiting_rows, buttons = [], [], []
    for offset, (kind, amount, client, contract_id) in enumerate(shown):
        number = page * PAGE_SIZE + offset + 1
        if kind == "debt":
            p = positions[contract_id]
            debt_rows.append(texts.debtor_line(number, client, amount, p.oldest_unpaid, p.debt_age_days))
        else:
            awaiting_rows.append(texts.awaiting_line(number, client, amount))
        buttons.append(button(str(number), ContractCard(contract=contract_id)))
    text = texts.debtors_page(
        title,
        debt_rows,
        awaiting_rows,
        sum(item[0] for item in debt_items),
        sum(item[0] for item in awaiting_items),
        month,
    )
    rows = [buttons[:5], buttons[5:], pager(page, pages, page_callback, **page_data)]
    rows.append([export_debtors_button(str(page_data.get("manager", "")))])
    return Screen(text, markup(rows))


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
    payments = await queries.payments_of_contract(session, info.id)
    terms = queries.terms_of(info)
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
        info.monthly_fee,
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
    managers = await queries.managers_in_scope(session, viewer)
    totals = await queries.collection_totals(session, [m.id for m in managers], month, today, settings.kpi_tiers)
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
    title = f"Команда «{viewer.team}»" if viewer.role == "supervisor" else "Все команды"
    text = texts.team_view(title, total, rows, await _imported_at(session, settings), page, pages)
    buttons = [button(name, ManagerView(view=View.KPI, manager=mid, month=str(month))) for name, mid, _ in shown]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append(pager(page, pages, TeamView, month=str(month)))
    keyboard.append([chart_button(month=str(month))])
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
