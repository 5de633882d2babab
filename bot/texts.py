"""Every user-facing string and formatter. Russian interface, HTML parse mode.

Numbers go through Babel (``263 492 ₽``, ``90,53 %``); every string from the data (names, titles)
goes through :func:`q`, the same escaping as aiogram's ``html.quote`` (a test holds them equal);
aiogram itself is not imported here because it takes seconds to import and the CLI does not need it.
Babel's no-break spaces are written as plain spaces so the CLI, the tests and Telegram all show the
same characters.
"""

from __future__ import annotations

import html as std_html
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from bot.rules import Collection, Finding, Month, Rule

LOCALE = "ru_RU"
MAX_MESSAGE = 4096

ROLE_NAMES = {"manager": "менеджер", "supervisor": "руководитель", "admin": "администратор"}


def _plain_spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def q(value: object) -> str:
    """Escape a value from the data for HTML parse mode."""
    return std_html.escape(str(value), quote=False)


def money(kopecks: int) -> str:
    """``26349200`` → ``263 492 ₽``; kopecks are shown only when there are any (``2 818,50 ₽``)."""
    amount = Decimal(kopecks) / 100
    pattern = "#,##0 ¤" if kopecks % 100 == 0 else "#,##0.00 ¤"
    return _plain_spaces(format_currency(amount, "RUB", format=pattern, locale=LOCALE, currency_digits=False))


def percent(value: Decimal | None) -> str:
    """``Decimal("90.53")`` → ``90,53 %``; ``None`` (no base) → ``—``."""
    if value is None:
        return "—"
    return _plain_spaces(format_decimal(value, format="#,##0.00", locale=LOCALE)) + " %"


def threshold(value: Decimal) -> str:
    """A tier threshold: ``85`` → ``85 %``, ``84.5`` → ``84,5 %``."""
    return _plain_spaces(format_decimal(value, format="#,##0.##", locale=LOCALE)) + " %"


def coefficient(value: Decimal) -> str:
    """``Decimal("0.2")`` → ``0,2``; ``0`` → ``0``."""
    return _plain_spaces(format_decimal(value.normalize(), format="0.####", locale=LOCALE))


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
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


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
        lines.append(
            f"Долг: <b>{money(collection.debt)}</b>, "
            f"{collection.debtors} {plural(collection.debtors, 'должник', 'должника', 'должников')}"
        )
    else:
        lines.append("Долгов нет.")
    return lines


def gap_lines(collection: Collection, clients: dict[str, str], fees: dict[str, int], limit: int = 3) -> list[str]:
    """The gap to the next tier and the 1–3 clients whose payments close it."""
    step = collection.next_step
    if step is None:
        if collection.base > 0:
            return ["Высший уровень KPI достигнут. 👏"]
        return []
    lines = [
        f"До {threshold(step.tier.threshold)} (KPI {coefficient(step.tier.coefficient)}) "
        f"не хватает <b>{money(step.gap)}</b>."
    ]
    if step.contract_ids:
        shown = step.contract_ids[:limit]
        names = ", ".join(f"{q(clients[c])} ({money(fees[c])})" for c in shown)
        more = len(step.contract_ids) - len(shown)
        tail = f" и ещё {more}" if more > 0 else ""
        verb = "закроет" if len(step.contract_ids) == 1 else "закроют"
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
    return "\n\n".join(parts)


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
    rows = [team_line(member, collection, low, discipline) for member, collection, low, discipline in members]
    if not rows:
        rows = ["В команде нет менеджеров."]
    return fit("\n".join(head), rows, "\n\n".join(tail))


def warning_block(text: str) -> str:
    return f"⚠️ <b>{q(text)}</b>"


def stale_warning(imported_at: datetime | None) -> str:
    """The top line of every digest when 1C data did not arrive since the previous working day."""
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
        f"🚫 {q(name)} (id {q(employee_id)}) заблокировал(а) бота: сводки ему(ей) больше не доставляются.\n"
        "Когда сотрудник снова напишет боту, доставка возобновится."
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


def statement(month: Month, base: int, paid: int, value: Decimal | None, coefficient_value: Decimal) -> str:
    """The final statement of a finished month, from its frozen snapshot."""
    return (
        f"📋 <b>Итоги {month_genitive(month)}</b>\n"
        f"Сбор: <b>{percent(value)}</b> — KPI <b>{coefficient(coefficient_value)}</b>\n"
        f"База {money(base)} · оплачено {money(paid)}\n"
        "<i>Цифры зафиксированы и больше не меняются.</i>"
    )


def attention_block(
    fell: Sequence[tuple[str, Decimal, Decimal]],
    old_debts: Sequence[tuple[str, str, int, int]],
    escalate_after: int,
    limit: int = 5,
) -> str | None:
    """What needs a supervisor's attention: managers whose percent fell; debts older than the limit."""
    lines: list[str] = []
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


def fit(head: str, rows: Sequence[str], tail: str, limit: int = MAX_MESSAGE) -> str:
    """Join ``head``, as many ``rows`` as fit and ``tail`` into one message of at most ``limit``
    characters; the rows left out are counted ("… и ещё 12, полный список — /team")."""
    reserve = 64  # room for the note about the rows left out
    budget = limit - len(head) - len(tail) - 2 - reserve
    shown: list[str] = []
    used = 0
    for row in rows:
        if used + len(row) + 1 > budget:
            break
        shown.append(row)
        used += len(row) + 1
    if len(shown) < len(rows):
        shown.append(f"… и ещё {len(rows) - len(shown)}, полный список — /team")
    return "\n\n".join(part for part in (head + "\n".join(shown), tail) if part)


# --------------------------------------------------------------------------------------------------
# The bot's messages
# --------------------------------------------------------------------------------------------------

NO_ACCESS = "Нет доступа. Попросите у руководителя ссылку-приглашение."
NOT_YOURS = "Нет доступа к этим данным."
SOMETHING_WRONG = "Что-то пошло не так, попробуйте ещё раз."
TOO_FAST = "Не так быстро — подождите пару секунд."
HINT = "Не понял. Список команд — /help"
STALE = "Эти данные больше недоступны. Откройте список заново."

MANAGER_COMMANDS = [
    ("kpi", "сбор и KPI за месяц: /kpi, /kpi 2019-02, /kpi январь"),
    ("debtors", "должники и ожидаемые оплаты"),
    ("contracts", "мои договоры, поиск: /contracts Ромашка"),
    ("calls", "замечания по звонкам и встречам: /calls, /calls неделя"),
    ("docs", "документы, оригиналы которых не вернулись"),
    ("settings", "время утренней сводки и пауза на отпуск"),
    ("help", "список команд"),
]
TEAM_COMMANDS = [("team", "команда: сбор и KPI каждого менеджера")]
ADMIN_COMMANDS = [("invite", "ссылка-приглашение: /invite Иванов")]


def commands_for(role: str) -> list[tuple[str, str]]:
    commands = MANAGER_COMMANDS[:-1]
    if role in {"supervisor", "admin"}:
        commands = commands + TEAM_COMMANDS
    if role == "admin":
        commands = commands + ADMIN_COMMANDS
    return [*commands, MANAGER_COMMANDS[-1]]


def help_text(role: str) -> str:
    lines = ["<b>Команды</b>"] + [f"/{name} — {q(what)}" for name, what in commands_for(role)]
    return "\n".join(lines)


def start_text(name: str, role: str) -> str:
    return (
        f"Здравствуйте, {q(first_name(name))}! Вы — {ROLE_NAMES.get(role, role)}.\n\n"
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


def bad_month(reason: str) -> str:
    return (
        f"Не получилось: {q(reason)}.\nУкажите месяц так: /kpi 2019-02, /kpi 02.2019, /kpi февраль "
        "или /kpi февраль 2019. Без аргумента — текущий месяц."
    )


def kpi_view(
    manager_name: str,
    collection: Collection,
    clients: dict[str, str],
    awaiting: dict[str, int],
    imported_at: datetime | None,
    *,
    frozen_on: date | None = None,
    own: bool = True,
) -> str:
    head = f"<b>{q(manager_name)}</b>" if not own else "<b>Ваш KPI</b>"
    parts = [head, "\n".join(collection_lines(collection))]
    if frozen_on is not None:
        parts.append(f"Итог месяца зафиксирован {short_date(frozen_on)}: поздние оплаты его не меняют.")
    else:
        gap = gap_lines(collection, clients, awaiting)
        if gap:
            parts.append("\n".join(gap))
    parts.append(f"<i>{freshness(imported_at)}</i>")
    return "\n\n".join(parts)


def debtor_line(number: int, client: str, debt: int, since: Month | None, age_days: int) -> str:
    since_text = f", с {month_genitive(since)}" if since else ""
    return f"{number}. {q(client)} — <b>{money(debt)}</b>{since_text} ({days(age_days)})"


def awaiting_line(number: int, client: str, amount: int) -> str:
    return f"{number}. {q(client)} — {money(amount)}"


def debtors_page(
    title: str,
    debt_rows: Sequence[str],
    awaiting_rows: Sequence[str],
    debt_total: int,
    awaiting_total: int,
    month: Month,
) -> str:
    parts = [f"<b>{q(title)}</b>"]
    if debt_rows:
        parts.append(f"<b>Долг</b> — {money(debt_total)}:\n" + "\n".join(debt_rows))
    if awaiting_rows:
        parts.append(
            f"<b>Ждём оплату за {month_name(month)}</b> — {money(awaiting_total)}:\n" + "\n".join(awaiting_rows)
        )
    if not debt_rows and not awaiting_rows:
        parts.append("Должников нет, все оплаты месяца получены. 👏")
    return "\n\n".join(parts)


def contract_line(number: int, client: str, contract_number: str, fee: int) -> str:
    num = f" · {q(contract_number)}" if contract_number else ""
    return f"{number}. {q(client)}{num} · {money(fee)}/мес"


def contracts_page(title: str, rows: Sequence[str], total: int, query: str) -> str:
    found = f" по запросу «{q(query)}»" if query else ""
    if not rows:
        return f"<b>{q(title)}</b>\n\nДоговоров{found} не найдено."
    return f"<b>{q(title)}</b> — {total}{found}:\n\n" + "\n".join(rows)


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
    lines = [f"<b>{q(client)}</b>"]
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
    return "\n".join(lines)


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
    return f"{head}\n<b>Менеджеры, худшие сверху</b>{page_note}:\n{body}\n\n<i>{freshness(imported_at)}</i>"


def invite_text(name: str, link: str, expires: datetime) -> str:
    return (
        f"Приглашение для <b>{q(name)}</b>:\n{q(link)}\n\n"
        f"Ссылка одноразовая, действует до {expires.strftime('%d.%m.%Y %H:%M')}."
    )


# --- /settings -------------------------------------------------------------------------------------


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
        "Пауза на отпуск: /settings пауза 15.12.2026."
    )


def bad_settings(reason: str, examples: str) -> str:
    return f"Не понял: {q(reason)}.\nПримеры: {q(examples)}"


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
    return "\n".join(parts)


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
    return (
        f"<b>{q(title)}</b>: {total}, из них дольше {days(grace)} — {overdue}\n"
        "Старые сверху. ⚠️ — пора вернуть, 🔴 — уже у руководителя.\n\n" + "\n".join(rows)
    )


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
