"""Callback data and inline keyboards.

Callback data carry ids only, under short versioned prefixes, and are at most 64 bytes (a test
packs the longest). A button whose data would not fit (an unusually long 1C id) is left out rather
than sent broken. Scope is checked again when a button is pressed, never trusted from the data.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import MAX_BUTTON, shorten

MAX_CALLBACK_BYTES = 64
T = TypeVar("T")
PAGE_SIZE = 10


class View(StrEnum):
    KPI = "k"
    DEBTORS = "d"
    CONTRACTS = "c"


class ManagerView(CallbackData, prefix="v1"):
    """A manager's /kpi, /debtors or /contracts, opened from /team or from a card."""

    view: View
    manager: str
    page: int = 0
    month: str = ""


class ScopeView(CallbackData, prefix="s1"):
    """A page of the presser's own /debtors or /contracts (their whole scope)."""

    view: View
    page: int = 0


class Back(StrEnum):
    """Where a contract card was opened from, so its back button returns there."""

    DEBTORS = "d"  # the presser's own /debtors
    CONTRACTS = "c"  # the presser's own /contracts
    MANAGER_DEBTORS = "md"  # a manager's debtors, opened from /team
    MANAGER_CONTRACTS = "mc"


class ContractCard(CallbackData, prefix="c2"):
    """A contract card. ``owner`` is a short tag of the manager the contract had when the button was
    drawn (``owner_tag``): a press after 1C moved the contract to someone else says it moved."""

    contract: str
    back: Back = Back.DEBTORS
    page: int = 0
    owner: str = ""


def owner_tag(manager_id: str) -> str:
    """4 hex digits of the manager id's SHA-1: enough to tell "moved" from "never yours"."""
    return hashlib.sha1(manager_id.encode()).hexdigest()[:4]


class TeamView(CallbackData, prefix="t1"):
    month: str = ""
    page: int = 0


class OpenScreen(StrEnum):
    """What a button under a digest opens."""

    KPI = "k"
    DEBTORS = "d"
    CONTRACTS = "c"
    TEAM = "t"
    SETTINGS = "s"


class Open(CallbackData, prefix="o1"):
    """A button under a digest or a notice: opens a screen as a new message, so the digest stays."""

    view: OpenScreen


NOOP = "noop"  # the page counter between ◀ and ▶: answered, does nothing


def button(text: str, data: CallbackData) -> InlineKeyboardButton | None:
    """A button, or ``None`` when its packed data would exceed Telegram's 64 bytes. A long label is
    shortened with "…" to ``MAX_BUTTON`` UTF-16 units."""
    try:
        packed = data.pack()
    except ValueError:
        return None
    if len(packed.encode()) > MAX_CALLBACK_BYTES:
        return None
    return InlineKeyboardButton(text=shorten(" ".join(text.split()) or "…", MAX_BUTTON), callback_data=packed)


def markup(rows: list[list[InlineKeyboardButton | None]]) -> InlineKeyboardMarkup | None:
    clean = [[b for b in row if b is not None] for row in rows]
    clean = [row for row in clean if row]
    return InlineKeyboardMarkup(inline_keyboard=clean) if clean else None


def pager(
    page: int, pages: int, make: type[CallbackData] | None = None, **fixed: object
) -> list[InlineKeyboardButton | None]:
    """◀ 2/5 ▶ — ``make(**fixed, page=n)`` builds each side's data."""
    if pages <= 1 or make is None:
        return []
    row: list[InlineKeyboardButton | None] = []
    if page > 0:
        row.append(button("◀", make(**fixed, page=page - 1)))
    row.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=NOOP))
    if page < pages - 1:
        row.append(button("▶", make(**fixed, page=page + 1)))
    return row


def pages_of(count: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-count // size))


def page_slice(items: list[T], page: int, size: int = PAGE_SIZE) -> tuple[list[T], int, int]:
    """The items of ``page`` (clamped to the pages there are), the page and the number of pages."""
    pages = pages_of(len(items), size)
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], page, pages


class Action(StrEnum):
    """What a /settings button does."""

    TIME = "t"  # value: the digest time, ``0830``
    DEFAULT_TIME = "d"
    PAUSE = "p"  # value: days
    RESUME = "r"


class Preference(CallbackData, prefix="p1"):
    """/settings buttons: ``action`` and its ``value``."""

    action: Action
    value: str = ""


class CallsView(CallbackData, prefix="k1"):
    """A page of the presser's /calls for a period: "" (since the previous working day), "w" (7 days),
    "d20190225" (a day), "m201902" (a month)."""

    period: str = ""
    page: int = 0
    manager: str = ""  # one manager's (a supervisor asked by name), checked again on every page


class DocsView(CallbackData, prefix="q1"):
    """A page of the presser's /docs."""

    page: int = 0


class ExportKind(StrEnum):
    DEBTORS = "d"


class Export(CallbackData, prefix="x1"):
    """A file of what the presser sees: the debtors of their scope (``manager`` empty) or of one
    manager (checked against the presser's scope when pressed)."""

    what: ExportKind
    manager: str = ""


class ChartView(CallbackData, prefix="g1"):
    """/chart as pictures: the presser's scope (``manager`` empty) or one manager's curve."""

    manager: str = ""
    month: str = ""


CHART_LABEL = "📈 График"
EXPORT_LABEL = "📥 Выгрузить"


def chart_button(manager: str = "", month: str = "") -> InlineKeyboardButton | None:
    """Under /kpi and /team: the month's collection as pictures."""
    return button(CHART_LABEL, ChartView(manager=manager, month=month))


def export_debtors_button(manager: str = "") -> InlineKeyboardButton | None:
    """Under /debtors: the debtors as an XLSX file."""
    return button(EXPORT_LABEL, Export(what=ExportKind.DEBTORS, manager=manager))
