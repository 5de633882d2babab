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
from bot.keyboards import (
    PAGE_SIZE,
    ContractCard,
    ManagerView,
    ScopeView,
    TeamView,
    View,
    button,
    markup,
    page_slice,
    pager,
)
from bot.rules import Collection, Month, allocate, months_between, position
from bot.settings import Settings
from db import queries
from db.models import Employee
from jobs.digests import below_first_tier, local_time, team_total, worst_first

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
    figures = await queries.collections(session, [m.id for m in managers], month, today, settings.kpi_tiers)
    names = {m.id: m.name for m in managers}
    total = team_total(month, list(figures.values()), settings.kpi_tiers)
    ordered = worst_first(figures, names)
    shown, page, pages = page_slice(ordered, page, TEAM_PAGE)
    rows = [texts.team_line(name, c, below_first_tier(c, settings.kpi_tiers)) for name, _, c in shown]
    title = f"Команда «{viewer.team}»" if viewer.role == "supervisor" else "Все команды"
    text = texts.team_view(title, total, rows, await _imported_at(session, settings), page, pages)
    buttons = [button(name, ManagerView(view=View.KPI, manager=mid, month=str(month))) for name, mid, _ in shown]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append(pager(page, pages, TeamView, month=str(month)))
    return Screen(text, markup(keyboard))
