"""Screens: what a command or a button shows. Each is queries → rules → texts + a keyboard.

Scope is checked before a screen is built (the filters of ``handlers.common``, the rule of
``bot.rules.access``); screens only render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.arguments import CallsPeriod
from bot.clock import maybe_local_of_utc
from bot.keyboards import (
    PAGE_SIZE,
    Back,
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
    owner_tag,
    pager,
)
from bot.rules import (
    RULE_ORDER,
    Collection,
    Discipline,
    Month,
    Person,
    Role,
    Rule,
    allocate,
    below_first_tier,
    months_between,
    original_age,
    original_overdue,
    position,
    totals_of_team,
    working_week,
    worst_first,
)
from bot.settings import Settings
from db import queries
from db.models import Employee

TEAM_PAGE = 20
CARD_MONTHS = 6
CARD_PAYMENTS = 5


@dataclass(frozen=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None


def column(team: dict[str, Discipline] | None, manager_id: str) -> str:
    """A manager's discipline column in /team ("" when nothing about discipline was imported)."""
    if not team:
        return ""
    own = team[manager_id]
    return texts.discipline_column(own.total, own.week, own.previous_week)


def person(employee: Employee) -> Person:
    return queries.person_of(employee)


def page_of(sizes: list[int], page: int, per_page: int = PAGE_SIZE) -> tuple[range, int, int]:
    """The rows of ``page`` (clamped to the pages there are), the page and the number of pages; pages
    are cut by count and by size (``texts.pages_by_size`` over each row's bound, ``texts.row_size``),
    so a page of long names still fits, and only the page's rows are ever rendered."""
    pages = texts.pages_by_size(sizes, per_page)
    page = min(max(page, 0), len(pages) - 1)
    return pages[page], page, len(pages)


def card_button(number: int, contract_id: str, manager_id: str, back: Back, page: int) -> InlineKeyboardButton | None:
    """The numbered button that opens a contract card and remembers where to go back."""
    return button(str(number), ContractCard(contract=contract_id, back=back, page=page, owner=owner_tag(manager_id)))


async def _imported_at(session: AsyncSession, settings: Settings) -> datetime | None:
    return maybe_local_of_utc(await queries.last_import_at(session), settings.zone)


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
            button(texts.DEBTORS_BUTTON, ManagerView(view=View.DEBTORS, manager=manager.id)),
            button(texts.CONTRACTS_BUTTON, ManagerView(view=View.CONTRACTS, manager=manager.id)),
        ]
    ]
    rows.append([chart_button(manager.id, str(month))])
    if viewer.id != manager.id:
        rows.append([button(texts.BACK_TO_TEAM, TeamView(month=str(month)))])
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
    back: Back = Back.DEBTORS,
) -> Screen:
    month = Month.of(today)
    figures = await queries.collections(session, [m.id for m in managers], month, today, settings.kpi_tiers)
    debt_items: list[tuple[int, str, str]] = []  # (amount, client, contract id)
    awaiting_items: list[tuple[int, str, str]] = []
    positions = {}
    owners: dict[str, str] = {}
    for figure in figures.values():
        for p in figure.positions:
            info = figure.contracts[p.contract_id]
            positions[p.contract_id] = p
            owners[p.contract_id] = info.manager_id
            if p.debt:
                debt_items.append((p.debt, info.client, p.contract_id))
            if p.awaiting:
                awaiting_items.append((p.awaiting, info.client, p.contract_id))
    debt_items.sort(key=lambda item: (-item[0], item[1], item[2]))
    awaiting_items.sort(key=lambda item: (-item[0], item[1], item[2]))
    entries = [("debt", *item) for item in debt_items] + [("awaiting", *item) for item in awaiting_items]
    sizes = [texts.row_size(texts.DEBTOR_ROW if kind == "debt" else texts.AWAITING_ROW, client)
             for kind, _, client, _ in entries]  # fmt: skip
    shown, page, pages = page_of(sizes, page)
    debt_rows, awaiting_rows, buttons = [], [], []
    for index in shown:
        kind, amount, client, contract_id = entries[index]
        if kind == "debt":
            p = positions[contract_id]
            debt_rows.append(texts.debtor_line(index + 1, client, amount, p.oldest_unpaid, p.debt_age_days))
        else:
            awaiting_rows.append(texts.awaiting_line(index + 1, client, amount))
        buttons.append(card_button(index + 1, contract_id, owners[contract_id], back, page))
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
    back: Back = Back.CONTRACTS,
    cut: bool = False,
) -> Screen:
    """``query``: a search (not paged: the first ``SEARCH_LIMIT`` matches that fit); ``cut``: the
    typed query was longer than ``query``."""
    month = Month.of(today)
    infos = await queries.contracts_of(session, [m.id for m in managers])
    active = [i for i in infos if queries.terms_of(i).is_active(month)]
    key = query.casefold().replace("ё", "е")
    if key:
        active = [i for i in active if key in i.client.casefold().replace("ё", "е") or key in i.number.casefold()]
    active.sort(key=lambda i: (i.client.casefold(), i.id))
    sizes = [texts.row_size(texts.CONTRACT_ROW, i.client, i.number) for i in active]
    if key:  # a search is not paged (the query would not fit into a button): the first matches
        shown, page, pages = page_of(sizes, 0, SEARCH_LIMIT)
        pages = 1
    else:
        shown, page, pages = page_of(sizes, page)
    rows_text = [texts.contract_line(n + 1, active[n].client, active[n].number, active[n].monthly_fee) for n in shown]
    buttons = [card_button(n + 1, active[n].id, active[n].manager_id, back, page) for n in shown]
    text = texts.contracts_page(title, rows_text, len(active), query, cut=cut)
    if key and len(active) > len(shown):
        text += "\n\n" + texts.search_shows_first(len(shown))
    keyboard = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    keyboard.append(pager(page, pages, None if key else page_callback, **page_data))
    return Screen(text, markup(keyboard))


# --- contract card ----------------------------------------------------------------------------------------


async def contract_screen(
    session: AsyncSession,
    info: queries.ContractInfo,
    manager: Employee,
    today: date,
    back: Back = Back.DEBTORS,
    page: int = 0,
) -> Screen:
    """The card, with a back button to the list it was opened from (``back``, at ``page``)."""
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
    view = View.CONTRACTS if back in {Back.CONTRACTS, Back.MANAGER_CONTRACTS} else View.DEBTORS
    target: ScopeView | ManagerView = (
        ScopeView(view=view, page=page)
        if back in {Back.DEBTORS, Back.CONTRACTS}
        else ManagerView(view=view, manager=manager.id, page=page)
    )
    label = texts.BACK_TO_CONTRACTS if view == View.CONTRACTS else texts.BACK_TO_DEBTORS
    return Screen(text, markup([[button(label, target)]]))


# --- /team ------------------------------------------------------------------------------------------------


async def team_screen(
    session: AsyncSession, viewer: Employee, month: Month, page: int, today: date, settings: Settings
) -> Screen:
    managers = await queries.managers_in_scope(session, viewer)
    totals = await queries.collection_totals(session, [m.id for m in managers], month, today, settings.kpi_tiers)
    names = {m.id: m.name for m in managers}
    total = totals_of_team(month, list(totals.values()), settings.kpi_tiers)
    ordered = worst_first(totals, names)
    indices, page, pages = page_of([texts.row_size(texts.TEAM_ROW, name) for name, _, _ in ordered], page, TEAM_PAGE)
    shown = [ordered[n] for n in indices]
    team = None
    if month == Month.of(today) and await queries.has_discipline_data(session):
        await _ensure_findings(session, today, settings)
        week = working_week(today, settings.calendar.previous_working_day)
        team = await queries.discipline_of(session, [mid for _, mid, _ in shown], today, week)
    rows = [texts.team_line(name, c, below_first_tier(c, settings.kpi_tiers), column(team, mid))
            for name, mid, c in shown]  # fmt: skip
    title = texts.team_title(viewer.team) if viewer.role == Role.SUPERVISOR else texts.ALL_TEAMS
    text = texts.team_view(title, total, rows, await _imported_at(session, settings), page, pages)
    buttons = [button(name, ManagerView(view=View.KPI, manager=mid, month=str(month))) for name, mid, _ in shown]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append(pager(page, pages, TeamView, month=str(month)))
    keyboard.append([chart_button(month=str(month))])
    return Screen(text, markup(keyboard))


# --- /calls and /docs --------------------------------------------------------------------------------------


async def _ensure_findings(session: AsyncSession, today: date, settings: Settings) -> None:
    """Today's findings, as of today's digest moment (computed once; again after an import)."""
    await queries.ensure_findings(
        session,
        today,
        previous_working_day=settings.calendar.previous_working_day(today),
        digest_time=settings.digest_time,
        limits=settings.thresholds,
    )


async def calls_screen(
    session: AsyncSession,
    viewer: Employee,
    period: CallsPeriod,
    page: int,
    today: date,
    now: datetime,
    settings: Settings,
    manager: Employee | None = None,
) -> Screen:
    """The findings of the viewer's scope (or of one ``manager`` in it, already checked) for
    ``period``, grouped by rule (originals are /docs)."""
    managers = [manager] if manager is not None else await queries.managers_in_scope(session, viewer)
    names = {m.id: m.name for m in managers}
    if await queries.has_discipline_data(session):
        await _ensure_findings(session, today, settings)
    rows = await queries.findings_between(session, list(names), period.first_day, period.last_day)
    seen: set[tuple[str, str]] = set()
    findings = []
    for row in rows:
        finding = queries.as_finding(row)
        key = (row.rule, row.subject_id)
        if finding.rule is Rule.ORIGINALS or key in seen:
            continue
        if period.start is not None and period.end is not None and not period.start <= row.at.date() < period.end:
            continue
        seen.add(key)
        findings.append(finding)
    order = {rule: n for n, rule in enumerate(RULE_ORDER)}
    findings.sort(key=lambda f: (order[f.rule], f.at, f.subject_id))
    several = len(names) > 1
    whose = [names.get(f.manager_id, "") if several else "" for f in findings]
    sizes = [
        texts.row_size(texts.FINDING_ROW, f.client, f.contact, who) for f, who in zip(findings, whose, strict=True)
    ]
    shown, page, pages = page_of(sizes, page)
    counts = {rule: sum(1 for f in findings if f.rule is rule) for rule in RULE_ORDER}
    groups: list[tuple[Rule, int, list[str]]] = []
    for index in shown:
        finding = findings[index]
        line = texts.finding_line(index + 1, finding, whose[index] or None)
        if not groups or groups[-1][0] is not finding.rule:
            groups.append((finding.rule, counts[finding.rule], []))
        groups[-1][2].append(line)
    if manager is not None:
        title = texts.calls_of(manager.name)
    else:
        title = texts.OWN_CALLS if viewer.role == Role.MANAGER else texts.TEAM_CALLS
    text = texts.calls_page(title, calls_period_title(period, today, settings), groups, len(findings))
    fixed = {"period": period.code, "manager": manager.id if manager is not None else ""}
    return Screen(text, markup([pager(page, pages, CallsView, **fixed)]))


def calls_period_title(period: CallsPeriod, today: date, settings: Settings) -> str:
    if period.code == "":
        since = settings.calendar.previous_working_day(today)
        return texts.since_day(since) if since else texts.YESTERDAY
    if period.code == "w":
        return texts.LAST_WEEK
    if period.code.startswith("d") and period.start is not None:
        return texts.short_date(period.start)
    return texts.month_name(Month.of(period.first_day))


async def docs_screen(session: AsyncSession, viewer: Employee, page: int, today: date, settings: Settings) -> Screen:
    """Documents waiting for their signed originals, oldest first, with age and amount."""
    managers = await queries.managers_in_scope(session, viewer)
    names = {m.id: m.name for m in managers}
    papers = await queries.papers_without_originals(session, list(names))
    limits = settings.thresholds
    overdue = sum(1 for p in papers if original_overdue(p, today, limits))
    whose = [names[p.manager_id] if len(names) > 1 else "" for p in papers]
    sizes = [
        texts.row_size(texts.DOCUMENT_ROW, p.kind, p.number, p.client, who)
        for p, who in zip(papers, whose, strict=True)
    ]
    shown, page, pages = page_of(sizes, page)
    rows = []
    for n in shown:
        paper = papers[n]
        line = texts.document_line(n + 1, paper.kind, paper.number, paper.doc_date,
                                   paper.client, paper.amount, original_age(paper, today),
                                   limits.originals_grace_days, limits.originals_escalate_days)  # fmt: skip
        rows.append(line + (texts.whose(whose[n]) if whose[n] else ""))
    title = texts.OWN_ORIGINALS if viewer.role == Role.MANAGER else texts.TEAM_ORIGINALS
    text = texts.docs_page(title, rows, len(papers), overdue, limits.originals_grace_days)
    return Screen(text, markup([pager(page, pages, DocsView)]))
