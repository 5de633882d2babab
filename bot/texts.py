"""Every user-facing string and formatter. Russian interface, HTML parse mode.

Numbers go through Babel (``263 492 ₽``, ``90,53 %``); every string from the data (names, titles)
goes through :func:`q`, the same escaping as aiogram's ``html.quote`` (a test holds them equal);
aiogram itself is not imported here because it takes seconds to import and the CLI does not need it.
Babel's no-break spaces are written as plain spaces so the CLI, the tests and Telegram all show the
same characters.
"""

from __future__ import annotations

import calendar
import html as std_html
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, overload

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from bot.rules import Collection, Finding, Month, Rule

LOCALE = "ru_RU"
MAX_MESSAGE = 4096  # Telegram's limit for a message, in UTF-16 units
MAX_CAPTION = 1024  # for a photo's or a document's caption
MAX_BUTTON = 40  # a button's label we draw (Telegram cuts long ones on a phone anyway)
NAME_LIMIT = 100  # a name or a title from the data inside a line (escaped, UTF-16 units)
CARD_NAME_LIMIT = 300  # the same at the top of a card, where it stands alone
ROWS_BUDGET = 3000  # the rows of one page; the rest of a message (heading, totals, tail) fits in 1,000
_RU = Locale.parse(LOCALE)

ROLE_NAMES = {"manager": "менеджер", "supervisor": "руководитель", "admin": "администратор"}


def _plain_spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji or another astral character is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _escaped(char: str) -> str:
    return std_html.escape(char, quote=False)


def q(value: object, limit: int | None = None) -> str:
    """Escape a value from the data for HTML parse mode, shortened with "…" so that the escaped text
    is at most ``limit`` UTF-16 units (default ``NAME_LIMIT``; ``0``: no limit). Line breaks become
    spaces (a name is one line). Never cuts an entity (``&amp;``) or an astral character in two."""
    text = str(value)
    limit = NAME_LIMIT if limit is None else limit
    if "\n" in text or "\r" in text:
        text = " ".join(text.split())
    escaped = std_html.escape(text, quote=False)
    if not limit or utf16_len(escaped) <= limit:
        return escaped
    kept: list[str] = []
    used = 1  # the "…"
    for char in text:
        piece = _escaped(char)
        size = utf16_len(piece)
        if used + size > limit:
            break
        kept.append(piece)
        used += size
    return "".join(kept).rstrip() + "…"


def shorten(text: str, limit: int) -> str:
    """Plain text (no HTML) shortened to ``limit`` UTF-16 units with "…" (a button's label, a caption)."""
    if utf16_len(text) <= limit:
        return text
    kept, used = [], 1
    for char in text:
        size = utf16_len(char)
        if used + size > limit:
            break
        kept.append(char)
        used += size
    return "".join(kept).rstrip() + "…"


def fit_lines(text: str, limit: int = 0) -> str:
    """The last guard of every message: ``text`` if it fits in ``limit`` UTF-16 units (default
    ``MAX_MESSAGE``), else as many whole lines as fit and "…". Our texts keep every HTML tag within one
    line, so cutting between lines never breaks the markup."""
    limit = limit or MAX_MESSAGE
    if utf16_len(text) <= limit:
        return text
    kept: list[str] = []
    used = 2  # "\n…"
    for line in text.split("\n"):
        size = utf16_len(line) + 1
        if used + size > limit:
            break
        kept.append(line)
        used += size
    return "\n".join(kept) + "\n…"


def shown_size(value: str, limit: int | None = None) -> int:
    """An upper bound of ``utf16_len(q(value, limit))`` without building it (cheap enough for every row
    of a 100,000-contract list): escaping turns ``&`` into 5 units and ``<``, ``>`` into 4."""
    limit = NAME_LIMIT if limit is None else limit
    size = utf16_len(value) + 4 * value.count("&") + 3 * (value.count("<") + value.count(">"))
    return min(size, limit) if limit else size


def row_size(overhead: int, *values: str | None) -> int:
    """An upper bound of a list row's size: its data shown through ``q`` plus ``overhead``, the bound
    of everything else on the row (numbers, money, dates, separators)."""
    return overhead + sum(shown_size(v) for v in values if v)


# upper bounds of the rest of each kind of row (numbers, money, dates, marks, separators)
CONTRACT_ROW, DEBTOR_ROW, AWAITING_ROW, TEAM_ROW, FINDING_ROW, DOCUMENT_ROW = 70, 110, 60, 230, 130, 110


@lru_cache(maxsize=1 << 13)
def team_row_size(name: str) -> int:
    """``row_size(TEAM_ROW, name)``, remembered by name: an admin's /team sizes every manager's row on
    every page turn to cut the pages (a thousand names, the same ones all day)."""
    return row_size(TEAM_ROW, name)


def pages_by_size(sizes: Sequence[int], per_page: int, budget: int = 0) -> list[range]:
    """Split rows of ``sizes`` (UTF-16 units, e.g. from ``row_size``) into pages of at most ``per_page``
    rows and ``budget`` units (a row and its line break; default ``ROWS_BUDGET``); always at least one
    page, and at least one row on each."""
    budget = budget or ROWS_BUDGET
    pages: list[range] = []
    start, used = 0, 0
    for index, size in enumerate(sizes):
        if index > start and (index - start >= per_page or used + size + 1 > budget):
            pages.append(range(start, index))
            start, used = index, 0
        used += size + 1
    pages.append(range(start, len(sizes)))
    return pages


@lru_cache(maxsize=1 << 16)  # a morning formats tens of thousands of amounts, most of them repeated
def money(kopecks: int) -> str:
    """``26349200`` → ``263 492 ₽``; kopecks are shown only when there are any (``2 818,50 ₽``)."""
    amount = Decimal(kopecks) / 100
    pattern = "#,##0 ¤" if kopecks % 100 == 0 else "#,##0.00 ¤"
    return _plain_spaces(format_currency(amount, "RUB", format=pattern, locale=LOCALE, currency_digits=False))


def percent(value: Decimal | None) -> str:
    """``Decimal("90.53")`` → ``90,53 %``; ``None`` (no base) → ``—``."""
    if value is None:
        return "—"
    return _percent(str(value))


@lru_cache(maxsize=1 << 14)  # a /team page formats forty, Babel's formatter is the slow part
def _percent(value: str) -> str:
    # keyed by the Decimal's text, not the Decimal: Decimal("-0") == Decimal("0") would share a key
    return _plain_spaces(format_decimal(Decimal(value), format="#,##0.00", locale=LOCALE)) + " %"


def threshold(value: Decimal) -> str:
    """A tier threshold: ``85`` → ``85 %``, ``84.5`` → ``84,5 %``."""
    return _plain_spaces(format_decimal(value, format="#,##0.##", locale=LOCALE)) + " %"


def coefficient(value: Decimal) -> str:
    """``Decimal("0.2")`` → ``0,2``; ``0`` → ``0``."""
    return _coefficient(str(value))


@lru_cache(maxsize=1 << 10)  # keyed by the text, as _percent is
def _coefficient(value: str) -> str:
    return _plain_spaces(format_decimal(Decimal(value).normalize(), format="0.####", locale=LOCALE))


def month_name(month: Month) -> str:
    """``февраль 2019``."""
    return format_date(month.first_day(), "LLLL yyyy", locale=LOCALE)


def month_genitive(month: Month) -> str:
    """``февраля 2019`` (as in ``с февраля 2019``)."""
    return format_date(month.first_day(), "MMMM yyyy", locale=LOCALE)


def short_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def stamp(moment: datetime) -> str:
    """``23.02 14:05``."""
    return moment.strftime("%d.%m %H:%M")


def progress_bar(value: Decimal | None, width: int = 10) -> str:
    if value is None:
        return "▱" * width
    filled = min(width, int(value * width // 100))
    return "▰" * filled + "▱" * (width - filled)


def first_name(full_name: str) -> str:
    """1C writes "Фамилия Имя [Отчество]": greet by what follows the surname."""
    parts = full_name.split()
    return " ".join(parts[1:]) if len(parts) > 1 else full_name


def days(n: int) -> str:
    return f"{n} {plural(n, 'день', 'дня', 'дней')}"


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian form for ``n`` by CLDR's plural rules (through Babel): 1 должник, 2 должника,
    5 должников, 11 должников, 21 должник."""
    form = _RU.plural_form(abs(n))
    return one if form == "one" else few if form == "few" else many


def debtors_count(n: int) -> str:
    """``1 должник``, ``2 должника``, ``5 должников``: debtors are clients."""
    return f"{n} {plural(n, 'должник', 'должника', 'должников')}"


def freshness(imported_at: datetime | None) -> str:
    """``данные 1С на 23.02 14:05`` (``imported_at`` already in local time)."""
    if imported_at is None:
        return "данные 1С ещё не загружались"
    return f"данные 1С на {stamp(imported_at)}"


def html_to_plain(text: str) -> str:
    """For the terminal: drop tags, unescape entities."""
    return std_html.unescape(re.sub(r"<[^>]+>", "", text))


# --------------------------------------------------------------------------------------------------
# Collection blocks
# --------------------------------------------------------------------------------------------------


def collection_headline(collection: Collection) -> str:
    return (
        f"Сбор за {month_name(collection.month)}: <b>{percent(collection.percent)}</b> — "
        f"KPI <b>{coefficient(collection.coefficient)}</b>"
    )


def collection_lines(collection: Collection) -> list[str]:
    lines = [
        collection_headline(collection),
        progress_bar(collection.percent),
        f"База {money(collection.base)} · оплачено {money(collection.paid)}"
        + (f" · ждём {money(collection.awaiting)}" if collection.awaiting else ""),
    ]
    if collection.debt:
        lines.append(f"Долг: <b>{money(collection.debt)}</b>, {debtors_count(collection.debtors)}")
    else:
        lines.append("Долгов нет.")
    return lines


def gap_lines(collection: Collection, clients: dict[str, str], fees: dict[str, int], limit: int = 3) -> list[str]:
    """The gap to the next tier and the 1–3 clients whose payments close it: each client once, with
    the sum of its unpaid fees of the month (``clients`` and ``fees`` by client id)."""
    step = collection.next_step
    if step is None:
        if collection.base > 0:
            return ["Высший уровень KPI достигнут. 👏"]
        return []
    lines = [
        f"До {threshold(step.tier.threshold)} (KPI {coefficient(step.tier.coefficient)}) "
        f"не хватает <b>{money(step.gap)}</b>."
    ]
    if step.client_ids:
        shown = step.client_ids[:limit]
        names = ", ".join(f"{q(clients.get(c, c))} ({money(fees[c])})" for c in shown)
        more = len(step.client_ids) - len(shown)
        tail = f" и ещё {more}" if more > 0 else ""
        verb = "закроет" if len(step.client_ids) == 1 else "закроют"
        if step.covered:
            lines.append(f"Это {verb}: {names}{tail}.")
        else:
            lines.append(f"Даже все ожидаемые оплаты не закрывают разрыв: {names}{tail}.")
    return lines


def team_line(name: str, collection: Collection, below_first_tier: bool, discipline: str = "") -> str:
    mark = "🔻 " if below_first_tier else ""
    return (
        f"{mark}{q(name)}: {percent(collection.percent)}, KPI {coefficient(collection.coefficient)}, "
        f"оплачено {money(collection.paid)} из {money(collection.base)}"
        + (f", долг {money(collection.debt)}" if collection.debt else "")
        + (f" · {discipline}" if discipline else "")
    )


UNASSIGNED = "без менеджера"


def waiting_contracts(n: int) -> str:
    """``3 договора ждут нового владельца``: contracts of managers who left."""
    return f"{n} {plural(n, 'договор ждёт', 'договора ждут', 'договоров ждут')} нового владельца"


def unassigned_line(collection: Collection, waiting: int) -> str:
    """The contracts of managers who left, as one line of a team view."""
    return (
        f"⚠️ Без менеджера: {percent(collection.percent)}, оплачено {money(collection.paid)} из "
        f"{money(collection.base)}"
        + (f", долг {money(collection.debt)}" if collection.debt else "")
        + f" — {waiting_contracts(waiting)}"
    )


# --------------------------------------------------------------------------------------------------
# Digests
# --------------------------------------------------------------------------------------------------


def manager_digest(
    name: str,
    collection: Collection,
    clients: dict[str, str],
    awaiting: dict[str, int],
    imported_at: datetime | None,
    extra_blocks: Sequence[str] = (),
    *,
    warning: str | None = None,
    change: Decimal | None = None,
) -> str:
    lines = collection_lines(collection)
    if change is not None:
        lines.insert(2, change_line(change))
    parts = [
        *([warning_block(warning)] if warning else []),
        f"<b>Доброе утро, {q(first_name(name))}!</b>",
        "\n".join(lines),
    ]
    gap = gap_lines(collection, clients, awaiting)
    if gap:
        parts.append("\n".join(gap))
    parts.extend(extra_blocks)
    parts.append(f"<i>{freshness(imported_at)}</i>")
    return fit_lines("\n\n".join(parts))


def team_digest(
    name: str,
    title: str,
    total: Collection,
    members: Sequence[tuple[str, Collection, bool, str]],
    imported_at: datetime | None,
    extra_blocks: Sequence[str] = (),
    *,
    warning: str | None = None,
) -> str:
    head = [
        *([warning_block(warning), ""] if warning else []),
        f"<b>Доброе утро, {q(first_name(name))}!</b>",
        "",
        f"<b>{q(title)}</b>: {collection_headline(total)}",
        f"База {money(total.base)} · оплачено {money(total.paid)} · долг {money(total.debt)}",
        "",
    ]
    tail = [*extra_blocks, f"<i>{freshness(imported_at)}</i>"]
    rows: Sequence[str] = Rendered(members, lambda member: team_line(*member))
    if not rows:
        rows = ["В команде нет менеджеров."]
    return fit("\n".join(head), rows, "\n\n".join(tail))


class Rendered(Sequence[str]):
    """``items`` rendered as lines only when read: :func:`fit` reads the lines that fit and only
    counts the others (an admin's digest lists a thousand managers, a message holds a few dozen)."""

    def __init__(self, items: Sequence[Any], render: Callable[[Any], str]) -> None:
        self.items = items
        self.render = render

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self.render(item) for item in self.items[index]]
        return self.render(self.items[index])


def warning_block(text: str) -> str:
    return f"⚠️ <b>{q(text, 300)}</b>"


def stale_warning(imported_at: datetime | None, *, imported_later: bool = False) -> str:
    """The top line of every digest when 1C data did not arrive since the previous working day.
    ``imported_later``: nothing was imported by the digest's moment but something was after it (a
    replayed day before the first import): the figures below come from those later imports, as of
    the day, so they are not empty."""
    if imported_at is None and imported_later:
        return "Данные 1С к этому утру ещё не загружались: цифры ниже — по выгрузкам, загруженным позже."
    if imported_at is None:
        return "Данные 1С ещё не загружались: цифры ниже пустые."
    return f"Данные 1С не обновлялись с {stamp(imported_at)}: цифры ниже могут быть устаревшими."


def stale_notice(imported_at: datetime | None, previous_working_day: date | None) -> str:
    """To the admins, once a day, when the import is overdue."""
    since = f"с {stamp(imported_at)}" if imported_at is not None else "ни разу"
    expected = f" (ожидалась выгрузка за {short_date(previous_working_day)})" if previous_working_day else ""
    return (
        f"⚠️ <b>Данные 1С не обновлялись {since}</b>{expected}.\n"
        "Сотрудники получили сводки на старых данных. Проверьте выгрузку из 1С и запустите "
        "<code>kpibot import</code>."
    )


def blocked_notice(name: str, employee_id: str) -> str:
    return (
        f"🚫 Бот заблокирован в чате сотрудника: {q(name)} (id {q(employee_id, 40)}). Сводки туда больше "
        "не доставляются.\nКогда сотрудник снова напишет боту, доставка возобновится."
    )


def unreachable_notice(name: str, employee_id: str, description: str) -> str:
    """To the admins, once: Telegram says this employee cannot be reached (``description`` is
    Telegram's own reason: blocked, deactivated, chat not found)."""
    reason = description.lower()
    if "blocked" in reason:
        return blocked_notice(name, employee_id)
    what = "удалил(а) аккаунт Telegram" if "deactivated" in reason else "недоступен(на) в Telegram (чат не найден)"
    return (
        f"🚫 {q(name)} (id {q(employee_id)}) {what}: сводки больше не доставляются.\n"
        "Когда сотрудник снова напишет боту, доставка возобновится."
    )


def change_line(change: Decimal) -> str:
    """``С прошлой сводки: +1,25 п.п.`` (percentage points)."""
    if change == 0:
        return "С прошлой сводки: без изменений"
    sign = "+" if change > 0 else "−"
    return f"С прошлой сводки: {sign}{percent(abs(change)).removesuffix(' %')} п.п."


def statement(
    month: Month,
    base: int,
    paid: int,
    value: Decimal | None,
    coefficient_value: Decimal,
    *,
    closes_on: date | None = None,
) -> str:
    """The statement of a finished month: final from its close, "предварительно" before it
    (``closes_on``: the day the month closes)."""
    head = f"📋 <b>Итоги {month_genitive(month)}</b>" + (" — предварительно" if closes_on else "")
    note = (
        f"<i>Предварительно: месяц закрывается {short_date(closes_on)}, оплаты, загруженные до этого, "
        "ещё войдут в итог.</i>"
        if closes_on
        else "<i>Месяц закрыт: цифры больше не меняются.</i>"
    )
    return (
        f"{head}\n"
        f"Сбор: <b>{percent(value)}</b> — KPI <b>{coefficient(coefficient_value)}</b>\n"
        f"База {money(base)} · оплачено {money(paid)}\n"
        f"{note}"
    )


def attention_block(
    fell: Sequence[tuple[str, Decimal, Decimal]],
    old_debts: Sequence[tuple[str, str, int, int]],
    escalate_after: int,
    limit: int = 5,
    *,
    unassigned: int = 0,
) -> str | None:
    """What needs a supervisor's attention: managers whose percent fell; debts older than the limit;
    ``unassigned`` contracts of managers who left, waiting for a new owner."""
    lines: list[str] = []
    if unassigned:
        lines.append(f"<b>Без менеджера:</b> {waiting_contracts(unassigned)}")
    if fell:
        lines.append("<b>Процент упал:</b>")
        lines += [f"• {q(name)}: {percent(now)} (было {percent(before)})" for name, now, before in fell[:limit]]
        if len(fell) > limit:
            lines.append(f"… и ещё {len(fell) - limit}")
    if old_debts:
        shown = old_debts[:limit]
        lines.append(f"<b>Долги старше {days(escalate_after)}:</b> {len(old_debts)}")
        lines += [f"• {q(client)} — {money(debt)}, {days(age)} ({q(manager)})" for manager, client, debt, age in shown]
        if len(old_debts) > limit:
            lines.append(f"… и ещё {len(old_debts) - limit}, подробнее — /debtors")
    if not lines:
        return None
    return "🔎 <b>Требует внимания</b>\n" + "\n".join(lines)


def fit(head: str, rows: Sequence[str], tail: str, limit: int = MAX_MESSAGE, more: str = "/team") -> str:
    """Join ``head``, as many ``rows`` as fit and ``tail`` into one message of at most ``limit`` UTF-16
    units, the whole message counted; the rows left out are counted ("… и ещё 12, полный список —
    /team"). A head or tail too long on its own is shortened by whole lines (``fit_lines``)."""
    note_room = 64  # the note about the rows left out
    budget = limit - utf16_len(head) - utf16_len(tail) - 2 - note_room
    shown: list[str] = []
    used = 0
    for row in rows:
        if used + utf16_len(row) + 1 > budget:
            break
        shown.append(row)
        used += utf16_len(row) + 1
    if len(shown) < len(rows):
        shown.append(f"… и ещё {len(rows) - len(shown)}, полный список — {more}")
    return fit_lines("\n\n".join(part for part in (head + "\n".join(shown), tail) if part), limit)


# --------------------------------------------------------------------------------------------------
# The bot's messages
# --------------------------------------------------------------------------------------------------

NO_ACCESS = "Нет доступа. Попросите у руководителя ссылку-приглашение."
NOT_YOURS = "Нет доступа к этим данным."
CONTRACT_MOVED = "Этот договор передан другому менеджеру и больше не в вашем списке. Откройте список заново."
TEAM_ONLY = "Команда доступна руководителям. Ваши цифры — /kpi"
INVITES_ADMIN_ONLY = "Приглашения выдаёт администратор."
INVITE_WHOM = "Кого пригласить? Например: /invite 000000002 или /invite Иванов"
SOMETHING_WRONG = "Что-то пошло не так, попробуйте ещё раз."
TOO_FAST = "Не так быстро — подождите пару секунд."
HINT = "Не понял. Список команд — /help"
STALE = "Эти данные больше недоступны. Откройте список заново."

MANAGER_COMMANDS = [
    ("kpi", "сбор и KPI за месяц: /kpi, /kpi январь"),
    ("debtors", "должники и ожидаемые оплаты"),
    ("contracts", "мои договоры, поиск: /contracts Ромашка"),
    ("calls", "замечания по звонкам и встречам: /calls, /calls неделя"),
    ("docs", "документы, оригиналы которых не вернулись"),
    ("report", "расчёт оплат как в 1С, файлом Excel: /report, /report январь"),
    ("chart", "график сбора по дням: /chart, /chart январь"),
    ("settings", "время утренней сводки и пауза на отпуск"),
    ("help", "список команд"),
]
TEAM_COMMANDS = [("team", "команда: сбор и KPI каждого менеджера; по фамилии: /kpi Иванов, /debtors Иванов")]
ADMIN_COMMANDS = [
    ("invite", "ссылка-приглашение: /invite Иванов"),
    ("status", "последние загрузки данных, следующая загрузка, доставка сводок сегодня"),
]


def commands_for(role: str) -> list[tuple[str, str]]:
    commands = MANAGER_COMMANDS[:-1]
    if role in {"supervisor", "admin"}:
        commands = commands + TEAM_COMMANDS
    if role == "admin":
        commands = commands + ADMIN_COMMANDS
    return [*commands, MANAGER_COMMANDS[-1]]


def help_text(role: str) -> str:
    lines = ["<b>Команды</b>"] + [f"/{name} — {q(what, 0)}" for name, what in commands_for(role)]
    return "\n".join(lines)


def start_text(name: str, role: str) -> str:
    return (
        f"Здравствуйте, {q(first_name(name))}! Вы — {ROLE_NAMES.get(role, q(role, 40))}.\n\n"
        "Каждое рабочее утро я присылаю сбор оплат за регулярное сопровождение, KPI, должников и что "
        "поможет выйти на следующий уровень.\n\n" + help_text(role)
    )


INVITE_RESULTS = {
    "unknown": "Ссылка-приглашение не найдена. Попросите у руководителя новую.",
    "used": "Эта ссылка-приглашение уже использована. Попросите у руководителя новую.",
    "expired": "Срок действия ссылки-приглашения истёк. Попросите у руководителя новую.",
    "inactive": "Сотрудник по этой ссылке не активен. Обратитесь к руководителю.",
    "taken": "Этот аккаунт Telegram уже привязан к другому сотруднику. Обратитесь к администратору.",
}


def bad_argument(reason: str, examples: str) -> str:
    """The one answer to an argument we cannot read: what was wrong and how to write it."""
    return f"Не понял: {q(reason, 300)}.\n{q(examples, 600)}".rstrip()


def examples_for(command: str, today: date, *, team: bool = False) -> str:
    """How to write the argument of ``/command``, with this year's dates in the examples; ``team``:
    the person may also name a manager (supervisors, admins)."""
    year = today.year
    if command == "settings":
        return f"Примеры: /settings 08:30, {pause_example(today)}, /settings пауза, /settings возобновить"
    if command == "calls":
        text = f"Примеры: /calls, /calls неделя, /calls {short_date(today)}, /calls февраль"
        return text + (f". {name_examples(command, year)}" if team else "")
    if command in {"report", "chart"}:
        return month_examples(command, year)
    if command in {"kpi", "team", "debtors"}:
        named = team and command != "team"
        return month_examples(command, year) + (f" {name_examples(command, year)}" if named else "")
    return "Список команд — /help"


def month_examples(command: str, year: int) -> str:
    """How to name a month after ``/command``, with the current year in the examples."""
    return (
        f"Укажите месяц так: /{command} {year}-02, /{command} 02.{year}, /{command} февраль "
        f"или /{command} февраль {year}. Без аргумента — текущий месяц."
    )


def name_examples(command: str, year: int) -> str:
    return f"Руководитель может спросить о менеджере: /{command} Иванов (и месяц: /{command} Иванов 02.{year})."


def no_such_manager(name: str, candidates: Sequence[str]) -> str:
    """An unknown name after /kpi, /debtors, /calls: the managers one may ask about."""
    listed = ", ".join(q(c, 60) for c in candidates[:15])
    more = f" и ещё {len(candidates) - 15}" if len(candidates) > 15 else ""
    if not candidates:
        return f"Менеджер «{q(name, 60)}» не найден: в вашей команде нет менеджеров."
    return f"Менеджер «{q(name, 60)}» не найден. Можно спросить о: {listed}{more}."


def several_managers(name: str, matches: Sequence[str]) -> str:
    listed = "\n".join(f"• {q(m, 80)}" for m in matches[:15])
    more = f"\n… и ещё {len(matches) - 15}" if len(matches) > 15 else ""
    return f"По запросу «{q(name, 60)}» нашлось несколько менеджеров, уточните:\n{listed}{more}"


def future_month(month: Month) -> str:
    return f"{month_name(month).capitalize()} ещё не наступил: цифры появятся, когда месяц начнётся."


def no_data_month(month: Month, first: Month | None) -> str:
    if first is None:
        return "Данных ещё нет: 1С ещё не выгружала договоры и оплаты."
    return f"За {month_name(month)} данных нет: они начинаются с {month_genitive(first)}."


def month_state_note(frozen_on: date | None, closes_on: date | None, today: date | None = None) -> str:
    """Whether a finished month's figures are final (closed) or still preliminary (``closes_on``: the
    day it is due to close; past it, the month simply waits for its close)."""
    if frozen_on is not None:
        return f"Месяц закрыт {short_date(frozen_on)}: цифры и долг на конец месяца больше не меняются."
    if closes_on is not None and (today is None or closes_on > today):
        return (
            f"Предварительно: месяц закрывается {short_date(closes_on)}, оплаты, загруженные до этого, "
            "ещё войдут в итог."
        )
    if closes_on is not None:
        return "Предварительно: месяц ещё не закрыт, оплаты, загруженные до закрытия, войдут в итог."
    return ""


def kpi_view(
    manager_name: str,
    collection: Collection,
    clients: dict[str, str],
    awaiting: dict[str, int],
    imported_at: datetime | None,
    *,
    frozen_on: date | None = None,
    closes_on: date | None = None,
    today: date | None = None,
    own: bool = True,
) -> str:
    """A manager's month. ``clients`` and ``awaiting`` are by client id (the plan names clients);
    ``frozen_on``: the day a finished month was closed; ``closes_on``: the day it will close."""
    head = f"<b>KPI: {q(manager_name)}</b>" if not own else "<b>Ваш KPI</b>"
    parts = [head, "\n".join(collection_lines(collection))]
    if frozen_on is not None or closes_on is not None:
        parts.append(month_state_note(frozen_on, closes_on, today))
    else:
        gap = gap_lines(collection, clients, awaiting)
        if gap:
            parts.append("\n".join(gap))
    parts.append(f"<i>{freshness(imported_at)}</i>")
    return fit_lines("\n\n".join(parts))


CONTRACTS_INSIDE = 5  # a client's contracts listed under it on /debtors; the rest are counted
CONTRACT_INSIDE_ROW = 40  # the bound of one such line besides its label (indent, money, separators)


def _contracts_inside(contracts: Sequence[tuple[str, int]]) -> str:
    lines = "".join(f"\n    · {q(label)} — {money(amount)}" for label, amount in contracts[:CONTRACTS_INSIDE])
    more = len(contracts) - CONTRACTS_INSIDE
    return lines + (f"\n    · и ещё {more} {plural(more, 'договор', 'договора', 'договоров')}" if more > 0 else "")


def debtor_line(
    number: int,
    client: str,
    debt: int,
    since: Month | None,
    age_days: int,
    contracts: Sequence[tuple[str, int]] = (),
    *,
    unassigned: bool = False,
) -> str:
    """A client with debt; with several contracts, each inside (``(number, debt)``)."""
    since_text = f", с {month_genitive(since)}" if since else ""
    mark = f" · {UNASSIGNED}" if unassigned else ""
    return f"{number}. {q(client)} — <b>{money(debt)}</b>{since_text} ({days(age_days)}){mark}" + _contracts_inside(
        contracts
    )


def awaiting_line(
    number: int, client: str, amount: int, contracts: Sequence[tuple[str, int]] = (), *, unassigned: bool = False
) -> str:
    mark = f" · {UNASSIGNED}" if unassigned else ""
    return f"{number}. {q(client)} — {money(amount)}{mark}" + _contracts_inside(contracts)


def debtors_page(
    title: str,
    debt_rows: Sequence[str],
    awaiting_rows: Sequence[str],
    debt_total: int,
    awaiting_total: int,
    month: Month,
    *,
    debtors_total: int | None = None,
    unassigned: int = 0,
) -> str:
    parts = [f"<b>{q(title)}</b>"]
    if unassigned:
        parts.append(f"⚠️ Без менеджера: {waiting_contracts(unassigned)}; они отмечены «{UNASSIGNED}».")
    if debt_rows:
        count = f", {debtors_count(debtors_total)}" if debtors_total is not None else ""
        parts.append(f"<b>Долг</b> — {money(debt_total)}{count}:\n" + "\n".join(debt_rows))
    if awaiting_rows:
        parts.append(
            f"<b>Ждём оплату за {month_name(month)}</b> — {money(awaiting_total)}:\n" + "\n".join(awaiting_rows)
        )
    if not debt_rows and not awaiting_rows:
        parts.append("Должников нет, все оплаты месяца получены. 👏")
    return fit_lines("\n\n".join(parts))


def contract_line(number: int, client: str, contract_number: str, fee: int) -> str:
    num = f" · {q(contract_number)}" if contract_number else ""
    return f"{number}. {q(client)}{num} · {money(fee)}/мес"


SEARCH_QUERY_LIMIT = 100


def search_query(typed: str) -> str:
    """What a contract search looks for: the typed text, at most ``SEARCH_QUERY_LIMIT`` characters."""
    return typed.strip()[:SEARCH_QUERY_LIMIT]


def contracts_page(title: str, rows: Sequence[str], total: int, query: str, *, cut: bool = False) -> str:
    """``cut``: the typed query was longer than what was searched for (shown ending with "…")."""
    found = f" по запросу «{q(query + ('…' if cut else ''), 60)}»" if query else ""
    if not rows:
        return f"<b>{q(title)}</b>\n\nДоговоров{found} не найдено."
    return fit_lines(f"<b>{q(title)}</b> — {total}{found}:\n\n" + "\n".join(rows))


def term_text(start: date, months: int | None, closed_on: date | None) -> str:
    text = f"с {short_date(start)}"
    if months is not None:
        last = Month.of(start).shift(months - 1)
        text += f", на {months} мес. (по {month_name(last)})"
    else:
        text += ", бессрочный"
    if closed_on is not None:
        text += f", закрыт {short_date(closed_on)}"
    return text


def contract_card(
    client: str,
    number: str,
    title: str,
    manager_name: str,
    term: str,
    fee: int,
    months: Sequence[tuple[Month, int, int]],
    debt: int,
    oldest_unpaid: Month | None,
    age_days: int,
    payments: Sequence[tuple[date, int, Month | None]],
) -> str:
    lines = [f"<b>{q(client, CARD_NAME_LIMIT)}</b>"]
    lines.append(" · ".join(q(x) for x in (f"Договор {number}" if number else "Договор", title) if x))
    lines.append(f"Менеджер: {q(manager_name)}")
    lines.append(f"Срок: {term}")
    lines.append(f"Абонентская плата: {money(fee)}/мес")
    if months:
        lines.append("")
        lines.append("<b>По месяцам</b> (начислено / оплачено):")
        for month, base, paid in months:
            mark = "✅" if base and paid >= base else ("⏳" if base else "—")
            lines.append(f"{month_name(month)}: {money(base)} / {money(paid)} {mark}")
    lines.append("")
    if debt:
        since = f" с {month_genitive(oldest_unpaid)}" if oldest_unpaid else ""
        lines.append(f"Долг: <b>{money(debt)}</b>{since} ({days(age_days)})")
    else:
        lines.append("Долга нет.")
    if payments:
        lines.append("")
        lines.append("<b>Последние оплаты</b>:")
        for paid_on, amount, period in payments:
            for_month = f" за {month_name(period)}" if period else ""
            lines.append(f"{short_date(paid_on)} — {money(amount)}{for_month}")
    return fit_lines("\n".join(lines))


def team_view(
    title: str,
    total: Collection,
    rows: Sequence[str],
    imported_at: datetime | None,
    page: int,
    pages: int,
) -> str:
    head = f"<b>{q(title)}</b>\n{collection_headline(total)}\n"
    head += f"База {money(total.base)} · оплачено {money(total.paid)} · долг {money(total.debt)}\n"
    page_note = f" (стр. {page + 1} из {pages})" if pages > 1 else ""
    body = "\n".join(rows) if rows else "В команде нет менеджеров."
    return fit_lines(f"{head}\n<b>Менеджеры, худшие сверху</b>{page_note}:\n{body}\n\n<i>{freshness(imported_at)}</i>")


def invite_text(name: str, link: str, expires: datetime) -> str:
    return (
        f"Приглашение — <b>{q(name)}</b>:\n{q(link, 0)}\n\n"
        f"Ссылка одноразовая, действует до {expires.strftime('%d.%m.%Y %H:%M')}."
    )


# --- /settings -------------------------------------------------------------------------------------


def pause_example(today: date) -> str:
    """``/settings пауза 15.12.2026``: a day within the next year, so the example itself works."""
    day = date(today.year, 12, 15)
    return f"/settings пауза {short_date(day if day >= today else date(today.year + 1, 12, 15))}"


def settings_view(default_time: str, personal_time: str | None, paused_until: date | None, today: date) -> str:
    time_line = (
        f"Утренняя сводка приходит в <b>{q(personal_time)}</b> (ваше время; общее — {q(default_time)})"
        if personal_time
        else f"Утренняя сводка приходит в <b>{q(default_time)}</b> (общее время)"
    )
    if paused_until is None or paused_until < today:
        pause_line = "Пауза: нет — сводки приходят каждый рабочий день."
    elif paused_until.year == 9999:
        pause_line = "⏸ <b>Сводки на паузе</b>, пока вы их не возобновите."
    else:
        pause_line = f"⏸ <b>Сводки на паузе</b> по {short_date(paused_until)} включительно."
    return (
        "<b>Настройки</b>\n"
        f"{time_line}, по рабочим дням.\n"
        f"{pause_line}\n\n"
        "Выберите время кнопкой или напишите: /settings 08:45. "
        f"Пауза на отпуск: {pause_example(today)}."
    )


def bad_settings(reason: str, examples: str) -> str:
    return f"Не понял: {q(reason, 300)}.\nПримеры: {q(examples, 600)}"


# --- discipline ----------------------------------------------------------------------------------------

RULE_TITLES = {
    Rule.NOT_DONE: "не выполнены в срок",
    Rule.DURATION: "звонки аномальной длины",
    Rule.NO_CONTACT: "без контактного лица",
    Rule.NO_FOLLOW_UP: "без следующего шага",
    Rule.MISSED: "пропущенные без перезвона",
    Rule.ORIGINALS: "оригиналы не вернулись",
}


def seconds(n: int) -> str:
    """``12 с``, ``31 мин 5 с``, ``1 ч 2 мин``."""
    if n < 60:
        return f"{n} с"
    if n < 3600:
        return f"{n // 60} мин {n % 60} с" if n % 60 else f"{n // 60} мин"
    return f"{n // 3600} ч {n % 3600 // 60} мин"


def discipline_block(counts: dict[Rule, int], since: date) -> str:
    """The digest's block: the counts per rule, only the non-zero ones."""
    if not counts:
        return f"🧭 <b>Дисциплина</b> с {short_date(since)}: замечаний нет 👍"
    parts = [f"{RULE_TITLES[rule]} — {n}" for rule, n in counts.items()]
    return (
        f"🧭 <b>Дисциплина</b> с {short_date(since)}:\n"
        + "\n".join(f"• {p}" for p in parts)
        + "\nПодробнее: /calls, /docs"
    )


def discipline_column(today: int, week: int, previous_week: int) -> str:
    """For /team and the supervisor's digest: ``замечаний 3, за неделю 12 ↑``."""
    trend = "↑" if week > previous_week else "↓" if week < previous_week else "="
    return f"замечаний {today}, за неделю {week} {trend}"


def what_is_wrong(finding: Finding) -> str:
    if finding.rule is Rule.NOT_DONE:
        return "запланировано, не выполнено и не отменено"
    if finding.rule is Rule.DURATION:
        return f"длительность {seconds(finding.value)}" + (" (по АТС)" if finding.source == "pbx" else "")
    if finding.rule is Rule.NO_CONTACT:
        return "не указано контактное лицо"
    if finding.rule is Rule.NO_FOLLOW_UP:
        return "не запланирован следующий контакт"
    if finding.rule is Rule.MISSED:
        return f"пропущенный, не перезвонили за {finding.value} ч"
    return f"{days(finding.value)} без подписанного оригинала"


def finding_line(number: int, finding: Finding, manager: str | None = None) -> str:
    who = [q(finding.client) if finding.client else "клиент не указан"]
    if finding.contact:
        who.append(q(finding.contact))
    tail = f" ({q(manager)})" if manager else ""
    return f"{number}. {stamp(finding.at)} · {' · '.join(who)} — {what_is_wrong(finding)}{tail}"


def calls_page(title: str, period: str, groups: Sequence[tuple[Rule, int, Sequence[str]]], total: int) -> str:
    """``groups``: (rule, its count over the whole period, this page's lines of it)."""
    if not total:
        return f"<b>{q(title)}</b> — {q(period)}\nЗамечаний нет 👍"
    parts = [f"<b>{q(title)}</b> — {q(period)}: {total} {plural(total, 'замечание', 'замечания', 'замечаний')}"]
    for rule, count, lines in groups:
        parts.append(f"\n<b>{RULE_TITLES[rule].capitalize()}</b> ({count})\n" + "\n".join(lines))
    return fit_lines("\n".join(parts))


def document_line(number: int, kind: str, doc_number: str, doc_date: date, client: str, amount: int | None,
                  age: int, grace: int, escalate: int) -> str:  # fmt: skip
    mark = "🔴 " if age > escalate else "⚠️ " if age > grace else ""
    name = " ".join(part for part in (q(kind) or "Документ", f"№ {q(doc_number)}" if doc_number else "") if part)
    money_part = f" · {money(amount)}" if amount is not None else ""
    who = q(client) or "клиент не указан"
    return f"{number}. {mark}{name} от {short_date(doc_date)} · {who}{money_part} · {days(age)}"


def docs_page(title: str, rows: Sequence[str], total: int, overdue: int, grace: int) -> str:
    if not total:
        return f"<b>{q(title)}</b>\nВсе подписанные оригиналы вернулись 👍"
    text = (
        f"<b>{q(title)}</b>: {total}, из них дольше {days(grace)} — {overdue}\n"
        "Старые сверху. ⚠️ — пора вернуть, 🔴 — уже у руководителя.\n\n" + "\n".join(rows)
    )
    return fit_lines(text)


def escalations_block(items: Sequence[str], limit: int = 8) -> str | None:
    if not items:
        return None
    lines = [f"• {item}" for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"… и ещё {len(items) - limit}")
    return "🚨 <b>Эскалации</b>\n" + "\n".join(lines)


def overdue_originals_item(manager: str, count: int, oldest_age: int, limit: int) -> str:
    return f"{q(manager)}: оригиналы старше {days(limit)} — {count} (самому старому {days(oldest_age)})"


def every_day_item(manager: str, rules: Sequence[Rule]) -> str:
    names = ", ".join(f"«{RULE_TITLES[rule]}»" for rule in rules)
    return f"{q(manager)}: {names} — каждый рабочий день недели"


def employee_not_found(query: str) -> str:
    return f"Сотрудник «{q(query, 60)}» не найден."


def several_employees(matches: Sequence[tuple[str, str]]) -> str:
    """(id, name) of the employees a part of a name matched: the admin picks one by its id."""
    names = "\n".join(f"{q(employee_id, 40)} — {q(name, 80)}" for employee_id, name in matches[:20])
    return f"Нашлось несколько, уточните (можно по коду):\n{names}"


BACK_TO_DEBTORS = "◀ Должники"
BACK_TO_CONTRACTS = "◀ Договоры"


def search_shows_first(shown: int) -> str:
    return f"Показаны первые {shown}: уточните запрос."


def whose(manager: str) -> str:
    """`` (Иванов Пётр)`` after a line of a team's list."""
    return f" ({q(manager, 60)})"


OWN_DEBTORS = "Ваши должники"
TEAM_DEBTORS = "Должники команды"
OWN_CONTRACTS = "Ваши договоры"
TEAM_CONTRACTS = "Договоры команды"


def debtors_of(manager: str) -> str:
    """A list's title for one manager: "Должники: Иванов Пётр" (no declension needed)."""
    return f"Должники: {manager}"


def contracts_of(manager: str) -> str:
    return f"Договоры: {manager}"


def calls_of(manager: str) -> str:
    return f"Звонки и встречи: {manager}"


RESUME_BUTTON = "▶️ Возобновить сводки"
PAUSE_WEEK_BUTTON = "⏸ Пауза на неделю"
PAUSE_TWO_WEEKS_BUTTON = "⏸ На две недели"


def default_time_button(default: str) -> str:
    return f"Общее время ({default})"


DEFAULT_COMMANDS = [("start", "начать"), ("help", "команды")]  # the menu of a chat nobody linked yet
DEBTORS_BUTTON = "Должники"
CONTRACTS_BUTTON = "Договоры"
BACK_TO_TEAM = "◀ Команда"
ALL_TEAMS = "Все команды"
OWN_CALLS = "Ваши звонки и встречи"
TEAM_CALLS = "Звонки и встречи команды"
OWN_ORIGINALS = "Оригиналы, которые ждём"
TEAM_ORIGINALS = "Оригиналы, которые ждёт команда"
YESTERDAY = "за вчера"
LAST_WEEK = "за 7 дней"


def team_title(team: str) -> str:
    return f"Команда «{team}»"


def since_day(day: date) -> str:
    return f"с {short_date(day)}"


def caption(text: str) -> str:
    """A photo's or a document's caption: at most ``MAX_CAPTION`` UTF-16 units, cut by whole lines."""
    return fit_lines(text, MAX_CAPTION)


# --------------------------------------------------------------------------------------------------
# Files and pictures: /report, /chart, the month-end table, the debtors export
# --------------------------------------------------------------------------------------------------


NO_MANAGERS = "В вашей команде нет менеджеров — показывать нечего."
NO_DEBTORS_FILE = "Должников нет — выгружать нечего."
FILE_SENT = "Файл отправлен."


def month_not_begun(month: Month) -> str:
    return f"{month_name(month)} ещё не начался"


def report_file_name(month: Month, as_of: date) -> str:
    """ASCII, so every client and mail gateway keeps it: ``raschet-oplat-2019-02-na-25.02.2019.xlsx``."""
    return f"raschet-oplat-{month}-na-{as_of:%d.%m.%Y}.xlsx"


def month_end_file_name(month: Month) -> str:
    return f"kpi-itogi-{month}.xlsx"


def debtors_file_name(as_of: date) -> str:
    return f"dolzhniki-{as_of:%Y-%m-%d}.xlsx"


def report_caption(title: str, total: Collection, managers: int, contracts: int, as_of: date) -> str:
    """``📊 Команда «…»: расчёт оплат за февраль 2019 на 25.02.2019 — 3 менеджера, 75 договоров, сбор 88,12 %``."""
    return caption(
        f"📊 <b>{q(title)}</b>: расчёт оплат за {month_name(total.month)} на {short_date(as_of)}\n"
        f"{managers} {plural(managers, 'менеджер', 'менеджера', 'менеджеров')}, {contracts} "
        f"{plural(contracts, 'договор', 'договора', 'договоров')}; база {money(total.base)}, "
        f"оплачено {money(total.paid)}, сбор <b>{percent(total.percent)}</b>.\n"
        "Менеджеры сворачиваются, как в 1С: «−» и «+» слева."
    )


def debtors_caption(title: str, clients: int, debt: int, as_of: date) -> str:
    return caption(
        f"💸 <b>{q(title)}</b> на {short_date(as_of)}: {clients} "
        f"{plural(clients, 'клиент', 'клиента', 'клиентов')} с долгом, всего {money(debt)}."
    )


def _points(change: Decimal) -> str:
    return percent(abs(change)).removesuffix(" %") + " п.п."


def curve_caption(
    title: str,
    month: Month,
    day: date,
    value: Decimal | None,
    coefficient_value: Decimal,
    next_threshold: Decimal | None,
    gap: int,
    previous_month: Month,
    previous_value: Decimal | None,
) -> str:
    """The collection curve in words: where the month stands on ``day``, the tier, what the next
    tier needs, and the previous month on the same day of the month."""
    lines = [f"📈 <b>{q(title)}</b>, {month_name(month)}"]
    if value is None:
        lines.append(f"На {short_date(day)} базы нет: в этом месяце нет действующих договоров.")
        return caption("\n".join(lines))
    lines.append(f"На {short_date(day)} собрано <b>{percent(value)}</b> — KPI <b>{coefficient(coefficient_value)}</b>.")
    if next_threshold is not None:
        lines.append(f"До {threshold(next_threshold)} не хватает {money(gap)}.")
    if previous_value is None:
        lines.append(f"За {month_name(previous_month)} сравнить не с чем.")
    else:
        compared = value - previous_value
        how = "без изменений" if compared == 0 else f"на {_points(compared)} {'лучше' if compared > 0 else 'хуже'}"
        lines.append(f"Месяцем раньше к {day.day}-му числу было {percent(previous_value)}: сейчас {how}.")
    return caption("\n".join(lines))


def team_chart_caption(
    title: str, month: Month, managers: Sequence[tuple[str, Decimal | None]], thresholds: Sequence[Decimal],
    total: Decimal | None,
) -> str:  # fmt: skip
    """The team's bars in words: the total, who is below the first tier (worst first), who reached the top."""
    lines = [f"👥 <b>{q(title)}</b>, {month_name(month)}: сбор {percent(total)}, худшие сверху."]
    with_base = [(name, value) for name, value in managers if value is not None]
    if thresholds:
        first, top = thresholds[0], thresholds[-1]
        below = [(name, value) for name, value in with_base if value < first]
        reached = sum(1 for _, value in with_base if value >= top)
        if below:
            names = ", ".join(f"{q(name)} ({percent(value)})" for name, value in below[:10])
            more = f" и ещё {len(below) - 10}" if len(below) > 10 else ""
            lines.append(f"Ниже {threshold(first)}: {len(below)} из {len(managers)} — {names}{more}.")
        else:
            lines.append(f"Ниже {threshold(first)} никого.")
        lines.append(f"{threshold(top)} и выше: {reached} из {len(managers)}.")
    return caption("\n".join(lines))


def team_statement(title: str, total: Collection, managers: int, state: str) -> str:
    """The caption of the month-end table for supervisors and admins; ``state``: ``month_state_note``
    (preliminary until the month closes, final after)."""
    return caption(
        f"📋 <b>Итоги {month_genitive(total.month)}</b> — {q(title)}\n"
        f"Сбор: <b>{percent(total.percent)}</b>; база {money(total.base)} · оплачено {money(total.paid)}\n"
        f"Таблица для расчёта премий ({managers} {plural(managers, 'менеджер', 'менеджера', 'менеджеров')}: "
        "сбор, KPI, база, оплачено, долг) — в файле.\n"
        f"<i>{q(state, 0)}</i>"
    )


# --- imports: the watched folder, uploads, /status -------------------------------------------------------

ENTITY_NAMES = {
    "employees": "сотрудники",
    "contracts": "договоры",
    "payments": "оплаты",
    "interactions": "взаимодействия",
    "documents": "документы",
    "pbx": "звонки АТС",
}
SOURCE_NAMES = {"folder": "папка выгрузки", "upload": "файл в Telegram", "odata": "1С по OData", "cli": "kpibot import"}
NEXT_RUN_NAMES = {"folder": "Следующая загрузка папки", "odata": "Следующая синхронизация с 1С"}
IMPORT_DIR_EMPTY = "(папка): в папке выгрузки нет файлов выгрузки"
PROBLEMS_FILE = "problems.txt"
STATUS_ADMIN_ONLY = "Состояние загрузок видит администратор."
UPLOAD_ADMIN_ONLY = "Файлы с данными загружает администратор. Этот файл не прочитан."
UPLOAD_TOO_BIG = (
    "Файл больше 20 МБ: Telegram не отдаёт ботам файлы такого размера. Положите его в папку выгрузки "
    "(IMPORT_DIR) или сожмите в zip и пришлите снова."
)
UPLOAD_KIND = "Пришлите выгрузку CSV или XLSX из 1С, Master.csv с АТС или zip с ними."


def bad_zip(reason: str) -> str:
    return f"Архив не загружен: {q(reason, 0)}. Ничего не изменилось."


def _problem_lines(problems: Sequence[str], shown: int) -> list[str]:
    lines = [f"<code>{q(p, 300)}</code>" for p in problems[:shown]]
    if len(problems) > shown:
        lines.append(f"…и ещё {len(problems) - shown}")
    return lines


def import_failed_notice(problems: Sequence[str], shown: int) -> str:
    """To the admins, once a day: the night's import of the watched folder failed."""
    return fit_lines(
        f"⚠️ <b>Ночная загрузка данных не прошла</b>: замечаний {len(problems)}, ничего не изменилось.\n"
        + "\n".join(_problem_lines(problems, shown))
        + "\nИсправьте выгрузку в папке — она загрузится сама, как только файлы перестанут меняться."
    )


def sync_failed_notice(problems: Sequence[str], shown: int) -> str:
    """To the admins, once a day: the night's OData sync with 1C failed (nothing was written)."""
    return fit_lines(
        f"⚠️ <b>Ночная синхронизация с 1С не прошла</b>: замечаний {len(problems)}, ничего не изменилось.\n"
        + "\n".join(_problem_lines(problems, shown))
        + "\nСводки уйдут на прежних данных. Проверьте 1С и её публикацию OData (<code>kpibot sync --check</code>); "
        "следующая попытка — ночью или при перезапуске бота, вручную — <code>kpibot sync</code>."
    )


def import_missing(folder: object, *, unsettled: bool) -> str:
    """To the admins, once a day: the night's export did not arrive in the watched folder."""
    why = "файлы в ней всё ещё дописываются" if unsettled else "новых файлов в ней нет"
    return (
        f"⚠️ <b>Ночная выгрузка не пришла</b>: {why} (папка <code>{q(folder, 200)}</code>).\n"
        "Сводки уйдут на прежних данных. Проверьте регламентную выгрузку 1С и АТС."
    )


def import_summary(counts: dict[str, tuple[int, int, int, int]], skipped: Sequence[str]) -> str:
    """An upload's answer: per entity (added, updated, unchanged, removed)."""
    lines = ["✅ <b>Данные загружены</b>"]
    for entity, (added, updated, unchanged, removed) in counts.items():
        parts = [f"новых {added}", f"изменено {updated}", f"без изменений {unchanged}"]
        if removed:
            parts.append(f"удалено {removed}")
        lines.append(f"{ENTITY_NAMES.get(entity, q(entity, 40))}: " + ", ".join(parts))
    if skipped:
        lines.append("Не читались (такие же, как в прошлый раз): " + ", ".join(q(s, 80) for s in skipped))
    return fit_lines("\n".join(lines))


def upload_failed(problems: Sequence[str], shown: int, attached: bool) -> str:
    """An upload's answer when it had problems (caption-sized when the full list follows as a file)."""
    head = f"❌ <b>Не загружено</b>: замечаний {len(problems)}, ничего не изменилось."
    if attached:
        return fit_lines(head + "\n" + "\n".join(_problem_lines(problems, shown)) + "\nПолный список — в файле.", 1024)
    return fit_lines(head + "\n" + "\n".join(_problem_lines(problems, shown)))


def status_text(
    attempts: Sequence[tuple[str, datetime, bool, int, int, str]],
    next_runs: Sequence[tuple[str, datetime]],
    delivery: dict[str, int],
    watched: bool,
    synced: bool = False,
) -> str:
    """/status: per source (name, local time, ok, rows, problems, first problem), the next night run
    of each configured source (``folder``, ``odata``; local), today's outbox by status. ``watched``:
    ``IMPORT_DIR`` is set; ``synced``: ``ODATA_URL`` is."""
    lines = ["<b>Загрузка данных</b>"]
    if not attempts:
        lines.append("Загрузок ещё не было.")
    for source, moment, ok, rows, problems, first in attempts:
        mark = "✅" if ok else "❌"
        line = f"{mark} {SOURCE_NAMES.get(source, q(source, 40))}: {stamp(moment)}, строк {rows}"
        if problems:
            line += f", замечаний {problems}"
        lines.append(line)
        if first:
            lines.append(f"   <code>{q(first, 200)}</code>")
    for source, moment in next_runs:
        what = NEXT_RUN_NAMES.get(source) or f"Следующая загрузка ({SOURCE_NAMES.get(source, q(source, 40))})"
        lines.append(f"{what}: {stamp(moment)}")
    if not watched and not synced:
        lines.append("Папка выгрузки (IMPORT_DIR) и 1С по OData (ODATA_URL) не заданы: данные загружают вручную.")
    sent, pending, failed = (
        delivery.get("sent", 0),
        delivery.get("pending", 0) + delivery.get("sending", 0),
        delivery.get("failed", 0),
    )
    lines.append(f"\n<b>Доставка сегодня</b>: отправлено {sent}, в очереди {pending}, не доставлено {failed}")
    return fit_lines("\n".join(lines))


# --- arguments: what is wrong with a typed date (the bot's /calls, /settings and the CLI alike) ---------


def not_a_date(text: str) -> str:
    return f"«{text}» — не дата"


def year_out_of_range(text: str, first: int, last: int) -> str:
    """A date whose year kpibot does not take (``bot.arguments.FIRST_YEAR`` … ``LAST_YEAR``)."""
    return f"«{text}»: год вне {first}–{last}"


def not_an_argument(text: str) -> str:
    return f"«{text}» — не дата и не месяц"


def no_such_month_number(text: str, month: int) -> str:
    return f"«{text}» — не дата: месяца {month} нет"


def no_such_day(text: str, day: int, month: int, year: int | None) -> str:
    """A day the calendar lacks: ``в 2019 году нет 29 февраля``, ``31 апреля не бывает (в месяце 30 дней)``."""
    named = format_date(date(2000, month, 1), "d MMMM", locale=LOCALE).removeprefix("1 ")  # genitive
    if month == 2 and day == 29 and year is not None:
        return f"в {year} году нет 29 февраля: год не високосный"
    if year is not None:
        length = days(calendar.monthrange(year, month)[1])
    else:
        length = "28 или 29 дней" if month == 2 else days(calendar.monthrange(2000, month)[1])
    return f"{day} {named} не бывает (в месяце {length})"


def future_day(day: date) -> str:
    return f"{short_date(day)} ещё не наступило: сводка бывает за сегодня или прошедший день"


# --------------------------------------------------------------------------------------------------
# The kpibot command line: what the office admin reads in the terminal (plain text, no HTML; log
# lines stay English). Counts go through plural() as in the bot.
# --------------------------------------------------------------------------------------------------

CLI_DESCRIPTION = "Ежедневная обратная связь по KPI в Telegram для менеджеров партнёра 1С."
CLI_USAGE = "использование: "
CLI_HELP = "показать эту справку и выйти"
CLI_COMMANDS = "команды"
CLI_OPTIONS = "параметры"
CLI_ARGUMENTS = "аргументы"
CLI_COMMAND_HELP = {
    "import": "загрузить выгрузки 1С и Master.csv АТС (файлы или папки)",
    "sync": "прочитать 1С по стандартному интерфейсу OData (ODATA_URL): всё или ничего",
    "employees": "кто привязан к Telegram, а кто нет",
    "digest": "показать утреннюю сводку каждого сотрудника",
    "close-month": "закрыть завершённый месяц сейчас (администратор) или открыть его снова",
    "outbox": "кто и когда получил какое сообщение, что не доставлено и почему",
    "report": "отчёт 1С «Расчёт оплат» файлом XLSX",
    "run": "запустить бота: обновления (webhook или long polling), утренние сводки, очередь отправки",
    "invite": "напечатать одноразовую ссылку-приглашение для сотрудника",
    "bench": "замеры на объёме крупной сети (см. python -m bench --help)",
    "demo": "создать заново демо-базу и показать сводки (токен не нужен)",
}
CLI_OPTION_HELP = {
    "import --full": "считать эти файлы полным набором и удалить строки, которых в них нет ({entities})",
    "sync --check": "перечислить наборы и поля, которые читает сопоставление, и чего в 1С нет",
    "digest --date": "день, ГГГГ-ММ-ДД (по умолчанию — сегодня в TIMEZONE)",
    "digest --employee": "только этот сотрудник",
    "digest --send": "отправить через Telegram сейчас (очередь отправки), а не печатать",
    "digest --force": "с --send: отправить и то, что уже доставлено; отправить в выходной",
    "close-month --reopen": "открыть закрытый месяц снова (записывается); живые цифры до нового закрытия",
    "outbox --date": "только этот день, ГГГГ-ММ-ДД",
    "report --month": "месяц, ГГГГ-ММ (по умолчанию — месяц из --date)",
    "report --date": "день отчёта, ГГГГ-ММ-ДД (по умолчанию — сегодня в TIMEZONE)",
    "report --team": "только менеджеры этой команды (по умолчанию — все команды)",
    "report --output": "куда записать файл (по умолчанию — имя с месяцем)",
    "demo --db": "файл SQLite демо-базы (заменяется)",
    "demo --exports": "куда записать демо-выгрузки 1С",
}
# argparse's own messages (Python's gettext catalogue has no Russian): the English text → Russian
CLI_ARGPARSE = {
    "the following arguments are required: %s": "не хватает аргументов: %s",
    "unrecognized arguments: %s": "непонятные аргументы: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "нет такой команды: %(value)s (есть: %(choices)s)",
    "expected one argument": "нужно одно значение",
    "expected at least one argument": "нужно хотя бы одно значение",
    "argument %(argument_name)s: %(message)s": "аргумент %(argument_name)s: %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s: ошибка: %(message)s\n",
    "ambiguous option: %(option)s could match %(matches)s": "неоднозначный параметр: %(option)s — это %(matches)s?",
    "positional arguments": "аргументы",
    "options": "параметры",
    "show this help message and exit": "показать эту справку и выйти",
    "usage: ": "использование: ",
}


def cli_counted(n: int, one: str, few: str, many: str) -> str:
    """``3 файла``: a count and the Russian form of its noun."""
    return f"{n} {plural(n, one, few, many)}"


def _named(text: str, reason: str) -> str:
    return reason if f"«{text}»" in reason else f"«{text}»: {reason}"


def cli_bad_day(text: str, reason: str, years: tuple[int, int]) -> str:
    """A date argument the CLI cannot take: the bot's reason, and how to write one."""
    return f"{_named(text, reason)}; нужна дата ГГГГ-ММ-ДД, год с {years[0]} по {years[1]}"


def cli_bad_month(text: str, reason: str, years: tuple[int, int]) -> str:
    return f"{_named(text, reason)}; нужен месяц ГГГГ-ММ, год с {years[0]} по {years[1]}, например 2026-11"


def cli_no_database(path: object) -> str:
    return (
        f"базы данных нет ({path}): сначала загрузите выгрузки 1С (kpibot import ПУТЬ) "
        "или укажите в .env DATABASE_URL той базы, с которой работает kpibot run"
    )


def cli_database_unreachable(url: str, reason: str) -> str:
    return f"не открывается база данных ({url}): {reason}"


def cli_database_stopped(what: str, reason: str) -> str:
    """``what``: "загрузку" or "синхронизацию"; ``reason``: the driver's own first line."""
    return f"база данных остановила {what}, ничего не загружено: {reason}"


def cli_more_problems(hidden: int) -> str:
    return f"... и ещё {cli_counted(hidden, 'замечание', 'замечания', 'замечаний')}"


def cli_problems_found(n: int) -> str:
    return f"{cli_counted(n, 'замечание', 'замечания', 'замечаний')}; ничего не загружено"


def cli_note(note: str) -> str:
    return f"примечание: {note}"


CLI_IMPORT_COLUMNS = (("данные", 16), ("новых", 8), ("изменено", 10), ("без изменений", 15), ("удалено", 9))


def cli_import_table(counts: dict[str, tuple[int, int, int, int]]) -> list[str]:
    """The import's (and the sync's) table: per entity added, updated, unchanged, removed."""
    (title, width), *numbers = CLI_IMPORT_COLUMNS
    lines = [f"{title:<{width}}" + "".join(f"{name:>{size}}" for name, size in numbers)]
    for entity, values in counts.items():
        cells = "".join(f"{value:>{size}}" for value, (_, size) in zip(values, numbers, strict=True))
        lines.append(f"{ENTITY_NAMES.get(entity, entity):<{width}}{cells}")
    return lines


def cli_imported(files: Sequence[str]) -> str:
    return f"загружено {cli_counted(len(files), 'файл', 'файла', 'файлов')}: {', '.join(files)}"


def cli_skipped(files: Sequence[str]) -> str:
    return f"не изменились с прошлой загрузки, не читались: {', '.join(files)}"


def cli_synced(sets: Sequence[str]) -> str:
    return f"синхронизировано {cli_counted(len(sets), 'набор', 'набора', 'наборов')} 1С: {', '.join(sets)}"


CLI_NO_ODATA_URL = "Параметр ODATA_URL пуст: укажите в .env адрес 1С вида http://сервер/база/odata/standard.odata/"


def cli_odata_check_failed(error: object) -> str:
    return f"не удалось проверить 1С: {error}"


def cli_sync_failed(error: object) -> str:
    return f"синхронизация не удалась, ничего не загружено: {error}"


CLI_ODATA_MISSING = "в 1С нет того, что читает сопоставление (MISSING выше): см. docs/odata.md"
CLI_ODATA_ALL_PUBLISHED = "всё, что читает сопоставление, опубликовано"
CLI_NO_EMPLOYEES = "сотрудников ещё нет: сначала загрузите employees.csv (kpibot import ПУТЬ)"
CLI_NO_MANAGERS = "активных менеджеров ещё нет: сначала загрузите employees.csv (kpibot import ПУТЬ)"
CLI_EMPLOYEE_COLUMNS = (("id", 12), ("сотрудник", 32), ("роль", 16), ("команда", 22))


def cli_employee_row(employee_id: str, name: str, role: str, team: str, telegram_id: int | None,
                     active: bool, unreachable: bool) -> str:  # fmt: skip
    link = f"привязан ({telegram_id})" if telegram_id else "не привязан"
    if not active:
        link += ", не активен"
    if unreachable:
        link += ", недоступен в Telegram (бот заблокирован, чат не найден или аккаунт удалён)"
    cells = (employee_id, name, ROLE_NAMES.get(role, role), team)
    return (
        "".join(f"{cell[: width - 1]:<{width}}" for cell, (_, width) in zip(cells, CLI_EMPLOYEE_COLUMNS, strict=True))
        + link
    )


def cli_employees_header() -> str:
    return "".join(f"{title:<{width}}" for title, width in CLI_EMPLOYEE_COLUMNS) + "Telegram"


def cli_linked(linked: int, total: int) -> str:
    return f"к Telegram привязаны {linked} из {total}"


def cli_no_employee(employee_id: str) -> str:
    return f"нет сотрудника с id {employee_id} (см. kpibot employees)"


def cli_not_linked(name: str, employee_id: str) -> str:
    return f"{name} (id {employee_id}) не привязан к Telegram (kpibot invite)"


def cli_inactive(name: str, employee_id: str) -> str:
    return f"сотрудник {employee_id} ({name}) не активен"


def cli_digest_heading(name: str, role: str, employee_id: str, day: date) -> str:
    return f"══ {name} ({ROLE_NAMES.get(role, role)}, id {employee_id}) — {short_date(day)} ══"


CLI_FORCE_WITHOUT_SEND = "--force работает вместе с --send (без него сводки просто печатаются)"


def cli_not_working_day(day: date, calendar_name: str) -> str:
    return (
        f"{short_date(day)} — нерабочий день (WORK_CALENDAR={calendar_name}); "
        "чтобы отправить всё равно, добавьте --force"
    )


def cli_enqueued(n: int, day: date) -> str:
    return f"в очередь за {short_date(day)}: {cli_counted(n, 'сообщение', 'сообщения', 'сообщений')}"


def cli_delivery(sent: int, unreachable: int, failed: int, pending: int, total: int, holder: str | None) -> str:
    """``digest --send``'s counts line; ``sent + unreachable + failed + pending == total``."""
    line = f"доставлено {sent}, недоступны {unreachable}, не доставлено {failed}, в очереди {pending} из {total}"
    if pending:
        line += f" (их отправит {holder or 'kpibot run'})"
    return line


def cli_unreachable(n: int) -> str:
    return (
        f"{cli_counted(n, 'сообщение не доставлено', 'сообщения не доставлены', 'сообщений не доставлено')}: "
        "человек заблокировал бота или удалил аккаунт Telegram (см. kpibot outbox); администраторам сообщено"
    )


def cli_month_not_finished(month: str) -> str:
    return f"{month} ещё не закончился: закрыть или открыть снова можно только прошедший месяц"


def cli_month_not_closed(month: str) -> str:
    return f"{month} не закрыт: открывать нечего"


def cli_month_reopened(month: str) -> str:
    return f"{month} открыт снова: цифры считаются вживую до нового закрытия (kpibot close-month {month})"


def cli_month_closed(month: str, again: bool, day: date, frozen: int) -> str:
    managers = cli_counted(frozen, "менеджера", "менеджеров", "менеджеров")  # genitive after "цифры"
    return f"{month} закрыт{' повторно' if again else ''} на {short_date(day)}: цифры {managers} зафиксированы"


OUTBOX_STATUS_NAMES = {
    "pending": "в очереди",
    "claimed": "взято",
    "sending": "отправка",
    "sent": "доставлено",
    "failed": "ошибка",
}
OUTBOX_KIND_NAMES = {"digest": "сводка", "statement": "итог месяца", "stale": "устарело", "blocked": "блокировка"}
CLI_OUTBOX_COLUMNS = (("день", 11), ("сотрудник", 28), ("что", 12), ("статус", 12), ("попыток", 8), ("отправлено", 18))


def outbox_kind(kind: str) -> str:
    return OUTBOX_KIND_NAMES.get(kind.split(":", 1)[0], kind)


def cli_outbox_empty(day: date | None) -> str:
    return "очередь отправки пуста" + (f" за {short_date(day)}" if day else "")


def cli_outbox_header() -> str:
    return "".join(f"{title:<{width}}" for title, width in CLI_OUTBOX_COLUMNS) + "ошибка"


def cli_outbox_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{OUTBOX_STATUS_NAMES.get(status, status)}: {n}" for status, n in sorted(counts.items()))


def cli_demo_database(path: object, exports: object) -> str:
    return f"Демо-база: {path} (выгрузки 1С в {exports}/)"


def cli_demo_digests(day: date) -> str:
    return f"Сводки на {short_date(day)}:\n"


def cli_demo_failed(problems: Sequence[str]) -> str:
    return "демо-данные не загрузились: " + "; ".join(problems[:5])


def cli_month_not_begun(month: str, day: date) -> str:
    return f"месяц {month} на {short_date(day)} ещё не начался"


def cli_no_team(team: str, teams: Sequence[str]) -> str:
    known = ", ".join(f"«{t}»" for t in teams) or "нет ни одной (сначала загрузите employees.csv)"
    return f"в команде «{team}» нет активных менеджеров; команды: {known}"


def cli_cannot_write(path: object, reason: str) -> str:
    return f"не удалось записать {path}: {reason}"


def cli_invitation(name: str, employee_id: str, expires: datetime) -> str:
    return f"Приглашение — {name} (id {employee_id}); одноразовое, действует до {expires:%d.%m.%Y %H:%M}:"


def cli_no_username(error: object) -> str:
    return f"не удалось узнать у Telegram имя бота ({error}); укажите BOT_USERNAME"


def cli_unexpected(error: BaseException) -> str:
    return f"непредвиденная ошибка: {type(error).__name__}: {error} (подробности — в журнале с LOG_LEVEL=DEBUG)"


CLI_INTERRUPTED = "прервано"
CLI_IMPORT_NEEDS_PATH = "import: укажите хотя бы один ПУТЬ (файл или папку)"


def cli_not_an_entity(value: str, entities: Sequence[str]) -> str:
    return f"аргумент --full: «{value}» — не вид данных (один из: {', '.join(entities)})"


# --- Start-up settings errors (bot/settings.py) and the database folder (bot/cli.py), issue 12 -------
# One Russian line each for the office admin; a setting is always named by its English env name.


def setting_bad(name: str, reason: str) -> str:
    return f"Настройка {name}: {reason}"


def settings_bad(reason: str) -> str:
    """A rule across settings: the reason names them."""
    return f"Настройки: {reason}"


def setting_misspelled(name: str, meant: str) -> str:
    return f"Настройка {name} неизвестна: может быть, {meant}?"


def setting_env_file_missing(variable: str, path: object) -> str:
    return f"{variable}: {path} — не файл"


SETTING_TOKEN_EMPTY = "Настройка BOT_TOKEN пуста: впишите в .env токен от @BotFather"
SETTING_CALL_LIMITS = "CALL_MIN_SECONDS должна быть меньше CALL_MAX_SECONDS"
SETTING_ORIGINALS_LIMITS = "ORIGINALS_GRACE_DAYS должна быть меньше ORIGINALS_ESCALATE_DAYS"
SETTING_WEBHOOK_NEEDS_SECRET = (
    "WEBHOOK_SECRET обязательна вместе с WEBHOOK_URL (Telegram присылает его с каждым обновлением)"
)
SETTING_WEBHOOK_NEEDS_LISTEN = (
    "WEBHOOK_LISTEN обязательна вместе с WEBHOOK_URL (host:port, на котором слушать, например 0.0.0.0:8080)"
)
SETTING_WEBHOOK_ALONE = (
    "WEBHOOK_SECRET и WEBHOOK_LISTEN задаются только вместе с WEBHOOK_URL (оставьте все три пустыми для опроса)"
)
SETTING_IMPORT_AFTER_DIGEST = "IMPORT_TIME должна быть раньше DIGEST_TIME (сводки несут ночную загрузку)"
SETTING_WEBHOOK_URL = "нужен адрес https://, доступный Telegram, например https://kpi.example.ru/telegram"
SETTING_WEBHOOK_PORT = "Telegram шлёт вебхуки только на порты 443, 80, 88 или 8443"
SETTING_WEBHOOK_SECRET = "нужно от 16 до 256 символов из A-Z, a-z, 0-9, _ и - (те, что допускает Telegram)"
SETTING_DATABASE_URL = (
    "должна начинаться с sqlite+aiosqlite:// или postgresql+asyncpg:// (например sqlite+aiosqlite:///kpibot.db)"
)
SETTING_USERNAME = "нужно имя пользователя бота, например kpi_company_bot"
SETTING_COMPANY_PRINTABLE = "нужен печатный текст, например ООО «Ромашка-Софт»"
SETTING_ODATA_URL = "нужен адрес http:// или https://, например http://1c.local/buh/odata/standard.odata/"
SETTING_ODATA_CREDENTIALS = "пользователя и пароль 1С укажите в ODATA_USER и ODATA_PASSWORD, а не в адресе"
SETTING_ODATA_STANDARD = (
    "нужен стандартный интерфейс OData 1С, адрес на /odata/standard.odata/ "
    "(например http://1c.local/buh/odata/standard.odata/)"
)
SETTING_API_URL = "нужен адрес http:// или https://, например http://127.0.0.1:8081"
SETTING_LOG_LEVEL = "одно из: DEBUG, INFO, WARNING, ERROR"
SETTING_WORK_CALENDAR = "'ru' (производственный календарь РФ) или 'none' (все дни с понедельника по пятницу)"


def setting_listen(value: str) -> str:
    return f"'{value}' — не host:port (например 0.0.0.0:8080)"


def setting_company_too_long(length: int) -> str:
    return f"не длиннее 120 символов (оно в заголовке каждого отчёта), сейчас {length}"


def setting_unknown_zone(value: str, example: str = "Europe/Moscow") -> str:
    return f"неизвестный часовой пояс '{value}' (например {example})"


PBX_ZONE_EXAMPLE = "UTC, если в cdr.conf usegmtime=yes"


def setting_not_a_folder(path: object) -> str:
    return f"{path} — не папка (папка, куда 1С и АТС кладут выгрузку и Master.csv)"


def setting_not_hhmm(value: str) -> str:
    return f"'{value}' — не время ЧЧ:ММ (например 09:00)"


def setting_not_time_of_day(value: str) -> str:
    return f"'{value}' — не время суток (от 00:00 до 23:59)"


def setting_cannot_read(path: object, reason: str) -> str:
    return f"не удалось прочитать {path}: {reason}"


def setting_not_utf8(path: object) -> str:
    return f"{path} — не текст в UTF-8"


# pydantic's own checks (Field(ge=..., le=...), numbers), by its error type; others keep pydantic's words.
_PYDANTIC_REASONS = {
    "greater_than_equal": "должно быть не меньше {ge}",
    "greater_than": "должно быть больше {gt}",
    "less_than_equal": "должно быть не больше {le}",
    "less_than": "должно быть меньше {lt}",
    "int_parsing": "нужно целое число",
    "int_from_float": "нужно целое число",
    "float_parsing": "нужно число",
    "finite_number": "нужно конечное число",
}


def setting_pydantic_reason(kind: str, context: dict[str, object] | None, fallback: str) -> str:
    """Russian for one of pydantic's built-in checks (``kind`` is its error type, ``context`` its
    ``ctx``); ``fallback`` (pydantic's English or a validator's own line) for every other."""
    template = _PYDANTIC_REASONS.get(kind)
    if template is None:
        return fallback
    return template.format(**{key: str(value) for key, value in (context or {}).items()})


def cli_no_database_folder(path: object) -> str:
    return f"папки для базы данных нет ({path}): проверьте DATABASE_URL или создайте папку"
