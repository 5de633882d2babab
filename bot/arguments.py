"""Parsing what people type after a command: months, days, times, periods and a manager's name.

Every parser raises :class:`BadArgument` with the reason; the one error handler
(``handlers/errors.py``) answers it with the reason and how to write the argument."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from bot import texts
from bot.rules import Month

_MONTH_STEMS = {
    "январ": 1, "янв": 1, "феврал": 2, "фев": 2, "март": 3, "мар": 3, "апрел": 4, "апр": 4, "ма": 5,
    "июн": 6, "июл": 7, "август": 8, "авг": 8, "сентябр": 9, "сен": 9, "сент": 9, "октябр": 10, "окт": 10,
    "ноябр": 11, "ноя": 11, "декабр": 12, "дек": 12,
}  # fmt: skip
_ENDINGS = ("ь", "я", "е", "ю", "ём", "ем", "а", "")


T = TypeVar("T")


class BadArgument(ValueError):
    """The argument cannot be read; ``reason`` says what was wrong (the error handler adds how to
    write the command's argument)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def name_and_rest(text: str, parse: Callable[[str], T]) -> tuple[str, T]:
    """``"Иванов январь"`` → ``("Иванов", parse("январь"))``: the whole text if ``parse`` reads it (no
    name), else the longest tail of at most two words that it reads after a name, else the whole text
    as a name and ``parse("")``.

    A last word without a letter is never part of a name: when ``parse`` cannot read it, its reason
    is the answer (``Иванов 31.02.2019`` is a wrong date, not an unknown manager), or the reason for
    the two-word tail when its first word alone is an argument (``Иванов февраль 2150``). Raises
    BadArgument then, or when ``parse("")`` does."""
    words = text.split()
    try:
        return "", parse(text)
    except BadArgument:
        pass
    reasons: dict[int, BadArgument] = {}
    for size in (2, 1):
        if len(words) > size:
            try:
                return " ".join(words[:-size]), parse(" ".join(words[-size:]))
            except BadArgument as error:
                reasons[size] = error
    if not any(char.isalpha() for char in text):  # "2019-13" is a bad month, not a name
        parse(text)
    if words and not any(char.isalpha() for char in words[-1]):
        if 2 in reasons and _reads(parse, words[-2]):
            raise reasons[2]
        raise reasons.get(1) or BadArgument(texts.not_an_argument(words[-1]))
    return " ".join(words), parse("")


def _reads(parse: Callable[[str], object], word: str) -> bool:
    try:
        parse(word)
    except BadArgument:
        return False
    return True


def _month_number(word: str) -> int | None:
    word = word.lower().replace("ё", "е").rstrip(".")
    if word in {"май", "мая", "мае", "маю"}:
        return 5
    for stem, number in sorted(_MONTH_STEMS.items(), key=lambda item: -len(item[0])):
        if stem == "ма":
            continue
        for ending in _ENDINGS:
            if word == stem + ending:
                return number
    return None


# The years a month or day argument may name, in the bot and in the CLI alike (2-digit years are
# 20yy); outside them a typo, not a question, and the calendar arithmetic around it (a month back,
# 14 days on, a working-day count) stays within date's range.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_month(text: str, today: date) -> Month:
    """``2019-02``, ``02.2019``, ``2.2019``, ``февраль``, ``февраль 2019``, ``фев 19``; empty → this month.

    A month name without a year is the latest such month that is not in the future.
    """
    raw = text.strip()
    current = Month.of(today)
    if not raw:
        return current
    numeric = re.fullmatch(r"(\d{4})-(\d{1,2})", raw) or re.fullmatch(r"(\d{1,2})[./](\d{4})", raw)
    if numeric:
        first, second = (int(g) for g in numeric.groups())
        year, month = (first, second) if first > 12 else (second, first)
        if 1 <= month <= 12 and FIRST_YEAR <= year <= LAST_YEAR:
            return Month(year, month)
        raise BadArgument(f"нет такого месяца: «{raw}»")
    words = raw.split()
    number = _month_number(words[0]) if words else None
    if number is None or len(words) > 2:
        raise BadArgument(f"«{raw}» — не месяц")
    if len(words) == 2:
        if not re.fullmatch(r"\d{2}|\d{4}", words[1]):
            raise BadArgument(f"«{words[1]}» — не год")
        year = int(words[1]) + (2000 if len(words[1]) == 2 else 0)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise BadArgument(f"нет такого месяца: «{raw}»")
        return Month(year, number)
    candidate = Month(current.year, number)
    return candidate if candidate <= current else Month(current.year - 1, number)


def month_or_current(text: str, today: date) -> Month:
    """For callback data, which we wrote ourselves: an unreadable month falls back to the current."""
    try:
        return parse_month(text, today)
    except BadArgument:
        return Month.of(today)


# --- /settings -------------------------------------------------------------------------------------

FOREVER = date(9999, 12, 31)  # "pause until I resume"
MAX_PAUSE_DAYS = 366


def parse_time(text: str) -> str:
    """``8:30``, ``08.30``, ``0830`` → ``"08:30"``."""
    found = re.fullmatch(r"(\d{1,2})[:.]?(\d{2})", text.strip())
    if not found or not (0 <= int(found.group(1)) <= 23 and 0 <= int(found.group(2)) <= 59):
        raise BadArgument(f"«{text}» — не время. Например: 08:30")
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def parse_day(text: str, today: date) -> date:
    """``15.12.2026``, ``15.12.26``, ``15.12`` (the next such day), ``2026-12-15``; a year within
    FIRST_YEAR..LAST_YEAR. Raises BadArgument: "не дата", "год вне 2000–2100", or what is wrong with a day the calendar
    lacks (``29.02.2019``: "в 2019 году нет 29 февраля"; ``31.04``: "в апреле 30 дней")."""
    text = text.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    dotted = re.fullmatch(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4}))?", text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif dotted and dotted.group(3):
        day, month, year = (int(part) for part in dotted.groups())
        year += 2000 if len(dotted.group(3)) == 2 else 0
    elif dotted:
        day, month, year = int(dotted.group(1)), int(dotted.group(2)), today.year
    else:
        raise BadArgument(texts.not_a_date(text))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadArgument(texts.year_out_of_range(text, FIRST_YEAR, LAST_YEAR))
    if not 1 <= month <= 12:
        raise BadArgument(texts.no_such_month_number(text, month))
    if not 1 <= day <= calendar.monthrange(year if dotted is None or dotted.group(3) else 2000, month)[1]:
        raise BadArgument(texts.no_such_day(text, day, month, year if dotted is None or dotted.group(3) else None))
    if dotted and not dotted.group(3):  # "15.12": the next such day ("29.02": the next leap year's)
        return _same_day(day, month, today.year, step=1, accept=lambda found: found >= today)
    return date(year, month, day)


def _same_day(day: int, month: int, year: int, *, step: int, accept: Callable[[date], bool]) -> date:
    """The first ``day.month`` from ``year`` on (``step`` 1) or back (``step`` -1) that exists and
    that ``accept`` takes; at most 9 years away (29 February)."""
    for offset in range(9):
        try:
            found = date(year + step * offset, month, day)
        except ValueError:
            continue
        if accept(found):
            return found
    raise BadArgument(texts.not_a_date(f"{day:02d}.{month:02d}"))


def parse_pause(text: str, today: date) -> date:
    """The last day of a pause: ``пауза`` alone is until resumed; a date must be today or later,
    within a year."""
    if not text.strip():
        return FOREVER
    until = parse_day(text, today)
    if until < today:
        raise BadArgument(f"{until:%d.%m.%Y} уже прошло: укажите сегодняшний или будущий день")
    if (until - today).days > MAX_PAUSE_DAYS:
        raise BadArgument("пауза — не больше года; для бессрочной напишите просто «/settings пауза»")
    return until


# --- /calls ----------------------------------------------------------------------------------------

WEEK_WORDS = {"неделя", "неделю", "week", "7"}
YESTERDAY_WORDS = {"вчера", "yesterday"}


@dataclass(frozen=True)
class CallsPeriod:
    """What /calls shows: the findings of the digest days ``first_day`` … ``last_day``, and of
    those only what happened between ``start`` and ``end`` (``None``: all of them)."""

    code: str  # for the page buttons
    first_day: date
    last_day: date
    start: date | None = None
    end: date | None = None  # exclusive


def calls_period(text: str, today: date) -> CallsPeriod:
    """``""`` / ``вчера``: today's digest (since the previous working day); ``неделя``: the last 7 days;
    a date; a month. Raises BadArgument."""
    raw = text.strip().lower()
    if not raw or raw in YESTERDAY_WORDS:
        return CallsPeriod("", today, today)
    if raw in WEEK_WORDS:
        return CallsPeriod("w", today - timedelta(days=6), today)
    if re.fullmatch(r"\d{1,2}\.\d{1,2}(\.\d{2}|\.\d{4})?|\d{4}-\d{2}-\d{2}", raw):  # a day, not 02.2019
        day = parse_day(raw, today)
        if day > today and re.fullmatch(r"\d{1,2}\.\d{1,2}", raw):  # "15.12" in November: last year's
            day = _same_day(day.day, day.month, today.year, step=-1, accept=lambda found: found <= today)
        elif day > today and date(day.year - 1, day.month, min(day.day, 28)) <= today:
            day = _same_day(day.day, day.month, day.year - 1, step=-1, accept=lambda found: True)
        return CallsPeriod(f"d{day:%Y%m%d}", day, day + timedelta(days=14), day, day + timedelta(days=1))
    month = parse_month(raw, today)
    first = month.first_day()
    after = month.shift(1).first_day()
    return CallsPeriod(f"m{month.year}{month.month:02d}", first, after + timedelta(days=14), first, after)


def calls_period_of_code(code: str, today: date) -> CallsPeriod:
    """From our own button data; anything unreadable falls back to the default."""
    try:
        if code == "w":
            return calls_period("неделя", today)
        if code.startswith("d") and len(code) == 9:
            return calls_period(f"{code[1:5]}-{code[5:7]}-{code[7:9]}", today)
        if code.startswith("m") and len(code) == 7:
            return calls_period(f"{code[1:5]}-{code[5:7]}", today)
    except (BadArgument, ValueError):
        pass
    return calls_period("", today)
