"""Screens: what a command or a button shows. Each is queries → rules → texts + a keyboard.

Scope is checked before a screen is built (the filters of ``handlers.common``, the rule of
``bot.rules.access``); screens only render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.arguments import CallsPeriod
from bot.clock import maybe_local_of_utc, utc_of_local
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
    Finding,
    Month,
    Person,
    Role,
    Rule,
    allocate,
    apply_renewals,
    awaiting_by_client,
    below_first_tier,
    close_day,
    collection_of_totals,
    known_on,
    months_between,
    original_age,
    original_overdue,
    position,
    totals_of_team,
    working_week,
    worst_first,
    worst_first_of_totals,
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


def card_button(
    number: int, contract_id: str, manager_id: str, back: Back, page: int, *, label: str | None = None
) -> InlineKeyboardButton | None:
    """The numbered button (or ``label``) that opens a contract card and remembers where to go back."""
    data = ContractCard(contract=contract_id, back=back, page=page, owner=owner_tag(manager_id))
    return button(label or str(number), data)


async def _imported_at(
    session: AsyncSession, settings: Settings, month: Month | None = None, today: date | None = None
) -> datetime | None:
    """The last import (local time) known when the figures shown were made: a closed ``month``'s close,
    else the end of ``today`` (a replayed day sees no later import); without them, the last one."""
    until: datetime | None = None
    if month is not None and today is not None:
        state = await queries.month_close_state(session, month) if month < Month.of(today) else None
        if state is not None and state.action == "close":
            until = state.at
        else:
            until = utc_of_local(datetime.combine(today + timedelta(days=1), time()), settings.zone)
    return maybe_local_of_utc(await queries.last_import_at(session, until=until), settings.zone)


# --- /kpi ---------------------------------------------------------------------------------------------


async def month_refusal(session: AsyncSession, month: Month, today: date) -> str | None:
    """Why ``month`` cannot be shown, or ``None``: a month to come, or one before any data."""
    if month > Month.of(today):
        return texts.future_month(month)
    return refusal_of_month(month, today, await queries.first_data_month(session))


def refusal_of_month(month: Month, today: date, first: Month | None) -> str | None:
    """:func:`month_refusal` with the first month of data (``queries.first_data_month``) read already."""
    if month > Month.of(today):
        return texts.future_month(month)
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
        closed = maybe_local_of_utc(state.at, settings.zone)
        return (closed.date() if closed else None), None
    return None, close_day(month, settings.month_close_workday, settings.calendar.is_working_day)


async def kpi_screen(
    session: AsyncSession, viewer: Employee, manager: Employee, month: Month, today: date, settings: Settings
) -> Screen:
    """A manager's month as of ``today``: the current month live; a finished month closed (its frozen
    figures and month-end debt) or, before its close, live and marked preliminary. The small facts
    come first in one statement (``queries.screen_facts``)."""
    until = utc_of_local(datetime.combine(today + timedelta(days=1), time()), settings.zone)
    facts = await queries.screen_facts(session, today, until)
    refusal = refusal_of_month(month, today, facts.first_month)
    if refusal is not None:
        return Screen(refusal)
    serves = await queries.ledger.ledger_serves_from(session, facts.ledger_as_of, today)
    figure = await queries.collection_of(session, manager.id, month, today, settings.kpi_tiers, serves=serves)
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
        maybe_local_of_utc(facts.imported_at, settings.zone)
        if month == Month.of(today)  # else the close of the month may bound it
        else await _imported_at(session, settings, month, today),
        frozen_on=frozen_on,
        closes_on=closes_on,
        today=today,
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
    owners: dict[str, str] = {}
    for manager_id, figure in figures.items():
        orphan = manager_id in departed
        for p in figure.positions:
            info = figure.contracts[p.contract_id]
            owners[p.contract_id] = info.manager_id
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
    sizes = [
        texts.row_size(
            (texts.DEBTOR_ROW if kind == "debt" else texts.AWAITING_ROW) + texts.CONTRACT_INSIDE_ROW * len(e.contracts),
            e.client,
            *(label for _, label, _ in e.contracts[: texts.CONTRACTS_INSIDE]),
        )
        for kind, e in entries
    ]
    shown, page, pages = page_of(sizes, page)
    debt_rows, awaiting_rows, buttons = [], [], []
    for index in shown:
        kind, entry = entries[index]
        number = index + 1
        contracts = [(label, amount) for _, label, amount in entry.contracts] if len(entry.contracts) > 1 else []
        if kind == "debt":
            debt_rows.append(texts.debtor_line(number, entry.client, entry.amount, entry.oldest, entry.age, contracts,
                                               unassigned=entry.unassigned))  # fmt: skip
        else:
            awaiting_rows.append(texts.awaiting_line(number, entry.client, entry.amount, contracts,
                                                     unassigned=entry.unassigned))  # fmt: skip
        many = len(entry.contracts) > 1
        for contract_id, label, _ in entry.contracts[: texts.CONTRACTS_INSIDE]:  # ≤ 50 buttons a page
            buttons.append(card_button(number, contract_id, owners[contract_id], back, page,
                                       label=texts.shorten(f"{number}·{label}", 24) if many else None))  # fmt: skip
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
    rows.append([export_debtors_button(str(page_data.get("manager", "")))])
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
    """One line per manager in ``viewer``'s scope, worst first, a page at a time, and the total. The
    ledger's own month is read from the ledger's per-manager totals (:func:`_team_of_ledger`); any
    other month, or a day the ledger does not answer for, by the rules (or a closed month's frozen
    figures). The small facts come first in one statement (``queries.screen_facts``)."""
    until = utc_of_local(datetime.combine(today + timedelta(days=1), time()), settings.zone)
    facts = await queries.screen_facts(session, today, until)
    refusal = refusal_of_month(month, today, facts.first_month)
    if refusal is not None:
        return Screen(refusal)
    if month == Month.of(today) and await queries.ledger.ledger_serves_from(session, facts.ledger_as_of, today):
        return await _team_of_ledger(session, viewer, month, page, today, settings, facts)
    managers = await queries.manager_names_in_scope(session, viewer)
    ids = [manager_id for manager_id, _ in managers]
    frozen_on, closes_on = await month_status(session, month, today, settings)
    closed = await queries.closed_collections(session, ids, month) if frozen_on else None
    unassigned = await queries.unassigned_month(session, viewer, month, today, settings.kpi_tiers)
    debtors: int | None = None  # the team's: a client with contracts at two managers counted once
    if closed is not None:
        totals = closed
    else:
        departed = list(unassigned.figures) if unassigned is not None else []
        live = await queries.team_totals(session, [*ids, *departed], month, today, settings.kpi_tiers)
        totals, debtors = {m: live.members[m] for m in ids}, live.debtors
    names = dict(managers)
    total = totals_of_team(month, list(totals.values()), settings.kpi_tiers)
    ordered = worst_first(totals, names)
    indices, page, pages = page_of([texts.team_row_size(name) for name, _, _ in ordered], page, TEAM_PAGE)
    shown = [ordered[n] for n in indices]
    team = await _team_discipline(session, [mid for _, mid, _ in shown], month, today, settings, facts)
    rows = [texts.team_line(name, c, below_first_tier(c, settings.kpi_tiers), column(team, mid))
            for name, mid, c in shown]  # fmt: skip
    if unassigned is not None:  # contracts of managers who left stay in sight, and in the total
        orphans = unassigned.collection
        frozen = await queries.closed_collections(session, list(unassigned.figures), month) if frozen_on else None
        if frozen is not None:  # a closed month: their frozen figures, like everyone's
            orphans = totals_of_team(month, list(frozen.values()), settings.kpi_tiers)
        total = totals_of_team(month, [*totals.values(), orphans], settings.kpi_tiers)
        if page == 0:
            rows.append(texts.unassigned_line(orphans, unassigned.waiting))
    if debtors is not None:
        total = replace(total, debtors=debtors)
    imported_at = await _imported_at(session, settings, month, today)
    return _team_view(viewer, month, total, rows, [(n, m) for n, m, _ in shown], imported_at, page, pages, today,
                      frozen_on, closes_on)  # fmt: skip


async def _team_of_ledger(
    session: AsyncSession,
    viewer: Employee,
    month: Month,
    page: int,
    today: date,
    settings: Settings,
    facts: queries.ScreenFacts,
) -> Screen:
    """:func:`team_screen` of the ledger's own month (only when the ledger answers for ``today``): the
    members and their totals in one statement (``ledger.team_from_ledger``), ordered by the same rule
    from their paid and base alone (``worst_first_of_totals``), and a collection built only for the
    rows shown. The same screen as the rules' reading (a test holds them equal), without the team's
    debtor count, which /team does not show."""
    tiers = settings.kpi_tiers
    members = await queries.ledger.team_from_ledger(session, viewer)
    listed = {m.manager_id: m for m in members if m.active}
    ordered = worst_first_of_totals({mid: (m.paid, m.base) for mid, m in listed.items()},
                                    {mid: m.name for mid, m in listed.items()})  # fmt: skip
    indices, page, pages = page_of([texts.team_row_size(name) for name, _ in ordered], page, TEAM_PAGE)
    shown = [ordered[n] for n in indices]
    discipline = await _team_discipline(session, [mid for _, mid in shown], month, today, settings, facts)
    rows = []
    for name, mid in shown:
        m = listed[mid]
        collection = collection_of_totals(month, m.base, m.paid, m.base - m.paid, m.debt, m.debtors, tiers)
        rows.append(texts.team_line(name, collection, below_first_tier(collection, tiers), column(discipline, mid)))
    active_members = listed.values()
    base, paid = sum(m.base for m in active_members), sum(m.paid for m in active_members)
    debt, debtors = sum(m.debt for m in active_members), sum(m.debtors for m in active_members)
    awaiting = base - paid
    if len(listed) < len(members):  # contracts of managers who left stay in sight, and in the total
        unassigned = await queries.unassigned_month(session, viewer, month, today, tiers)
        if unassigned is not None:
            orphans = unassigned.collection
            base, paid, awaiting, debt, debtors = (base + orphans.base, paid + orphans.paid,
                                                   awaiting + orphans.awaiting, debt + orphans.debt,
                                                   debtors + orphans.debtors)  # fmt: skip
            if page == 0:
                rows.append(texts.unassigned_line(orphans, unassigned.waiting))
    # debtors summed per manager as ``totals_of_team`` sums them: /team does not show the team's count
    total = collection_of_totals(month, base, paid, awaiting, debt, debtors, tiers)
    imported_at = maybe_local_of_utc(facts.imported_at, settings.zone)
    return _team_view(viewer, month, total, rows, shown, imported_at, page, pages, today, None, None)


async def _team_discipline(
    session: AsyncSession,
    manager_ids: list[str],
    month: Month,
    today: date,
    settings: Settings,
    facts: queries.ScreenFacts,
) -> dict[str, Discipline] | None:
    """The discipline column of /team's shown rows: only for the current month, and only once calls,
    meetings, documents or PBX records were imported (``None``: no column)."""
    if month != Month.of(today) or not facts.discipline_data:
        return None
    fresh = None if facts.findings_stored else await _fresh_findings(session, today, settings)
    week = working_week(today, settings.calendar.previous_working_day)
    return await queries.discipline_of(session, manager_ids, today, week, fresh)


def _team_view(
    viewer: Employee,
    month: Month,
    total: Collection,
    rows: list[str],
    shown: list[tuple[str, str]],
    imported_at: datetime | None,
    page: int,
    pages: int,
    today: date,
    frozen_on: date | None,
    closes_on: date | None,
) -> Screen:
    """/team's text and keyboard: the title, the total, the rows of the page, a button per shown
    manager ``(name, id)``, the pager and the chart."""
    title = texts.team_title(viewer.team) if viewer.role == Role.SUPERVISOR else texts.ALL_TEAMS
    text = texts.team_view(title, total, rows, imported_at, page, pages)
    if frozen_on or closes_on:
        text += "\n" + texts.month_state_note(frozen_on, closes_on, today)
    buttons = [button(name, ManagerView(view=View.KPI, manager=mid, month=str(month))) for name, mid in shown]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    keyboard.append(pager(page, pages, TeamView, month=str(month)))
    keyboard.append([chart_button(month=str(month))])
    return Screen(text, markup(keyboard))


# --- /calls and /docs --------------------------------------------------------------------------------------


async def _findings_of_days(
    session: AsyncSession, manager_ids: list[str], first: date, last: date, today: date, settings: Settings
) -> list[tuple[date, Finding]]:
    """The findings of digest days ``first`` … ``last`` for these managers: stored ones as they are,
    and for a working day up to ``today`` the morning job never computed (before the bot ran, or today
    before the digest) computed in memory and not stored. A screen only reads."""
    rows = await queries.findings_between(session, manager_ids, first, last)
    found = [(row.day, queries.as_finding(row)) for row in rows]
    stored = await queries.finding_run_days(session, first, last)
    wanted = set(manager_ids)
    day = first
    while day <= min(last, today):
        if day not in stored and settings.calendar.is_working_day(day):
            fresh = await _fresh_findings(session, day, settings)
            found.extend((day, f) for f in fresh or () if f.manager_id in wanted)
        day += timedelta(days=1)
    return sorted(found, key=lambda item: (item[0], item[1].at, item[1].subject_id))


async def _fresh_findings(session: AsyncSession, day: date, settings: Settings) -> list[Finding] | None:
    """A day's findings computed in memory when the morning job has not stored them (else ``None``)."""
    _, fresh = await queries.day_findings(
        session,
        day,
        previous_working_day=settings.calendar.previous_working_day(day),
        digest_time=settings.digest_time,
        limits=settings.thresholds,
    )
    return fresh


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
    rows: list[tuple[date, Finding]] = []
    if await queries.has_discipline_data(session):
        rows = await _findings_of_days(session, list(names), period.first_day, period.last_day, today, settings)
    seen: set[tuple[Rule, str]] = set()
    findings = []
    for _, finding in rows:
        key = (finding.rule, finding.subject_id)
        if finding.rule is Rule.ORIGINALS or key in seen:
            continue
        if period.start is not None and period.end is not None and not period.start <= finding.at.date() < period.end:
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
