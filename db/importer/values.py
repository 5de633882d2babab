"""Parsers for the values 1C and Asterisk write: money, integers, dates, date-times, yes/no, enums.

Each parser takes what a CSV cell (``str``) or an XLSX cell (``str``, ``int``, ``float``,
``datetime``, ``bool``) holds and returns a Python value, or raises :class:`BadValue` with a short
Russian-agnostic English reason that the importer prints as ``file:line: column: value: reason``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.rules import Month

Cell = str | int | float | datetime | date | bool | None
T = TypeVar("T")


class BadValue(ValueError):
    """A value that cannot be read; the message is the reason."""


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']")
_CURRENCY = re.compile(r"(₽|руб\.?|р\.|rub)$", re.IGNORECASE)
_MONEY = re.compile(r"^\d+([.,]\d+)?$")


_MEMO_LIMIT = 1 << 16


def _memo(parse: Callable[[Cell], T]) -> Callable[[Cell], T]:
    """Remember what a text cell parsed to: exports repeat the same dates, months and amounts on
    thousands of rows. Only successes are kept; the memory is bounded (cleared when full)."""
    memory: dict[str, T] = {}

    def parse_cell(cell: Cell) -> T:
        if not isinstance(cell, str):
            return parse(cell)
        found = memory.get(cell)
        if found is None:
            found = parse(cell)
            if len(memory) >= _MEMO_LIMIT:
                memory.clear()
            memory[cell] = found
        return found

    parse_cell.__doc__ = parse.__doc__
    parse_cell.__name__ = parse.__name__
    return parse_cell


def text(cell: Cell) -> str:
    """The cell as trimmed text (``12.0`` from XLSX becomes ``12``)."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    return str(cell).strip()


@_memo
def money(cell: Cell) -> int:
    """Kopecks from ``2 818,50``, ``2818.50``, ``2 818,50 ₽`` or a number cell; never negative."""
    if isinstance(cell, bool):
        raise BadValue("not an amount of money")
    if isinstance(cell, int):
        raw = str(cell)
    elif isinstance(cell, float):
        raw = repr(cell)
    else:
        raw = text(cell)
    compact = _CURRENCY.sub("", _SPACES.sub("", raw)).strip()
    compact = _SPACES.sub("", compact)
    if compact.startswith("-"):
        raise BadValue("must not be negative")
    if "," in compact and "." in compact:
        # 2,818.50 or 2.818,50: the last separator is the decimal one, the other groups thousands
        decimal_sep = "," if compact.rfind(",") > compact.rfind(".") else "."
        compact = compact.replace("." if decimal_sep == "," else ",", "")
    if not _MONEY.match(compact):
        raise BadValue("not an amount of money (e.g. 2 818,50)")
    try:
        value = Decimal(compact.replace(",", "."))
    except InvalidOperation:
        raise BadValue("not an amount of money (e.g. 2 818,50)") from None
    kopecks = value * 100
    if kopecks != kopecks.to_integral_value():
        raise BadValue("more than two digits after the decimal separator")
    return int(kopecks)


def integer(cell: Cell, *, minimum: int | None = None) -> int:
    if isinstance(cell, bool):
        raise BadValue("not a whole number")
    if isinstance(cell, float):
        if not cell.is_integer():
            raise BadValue("not a whole number")
        value = int(cell)
    elif isinstance(cell, int):
        value = cell
    else:
        raw = _SPACES.sub("", text(cell))
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise BadValue("not a whole number")
        value = int(raw)
    if minimum is not None and value < minimum:
        raise BadValue(f"must be at least {minimum}")
    return value


_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


@lru_cache(maxsize=_MEMO_LIMIT)  # dates and times of day repeat across the rows of an export
def _date_part(raw: str) -> date:
    for pattern, order in _DATE_PATTERNS:
        found = pattern.match(raw)
        if found:
            parts = dict(zip(order, (int(g) for g in found.groups()), strict=True))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise BadValue("no such date") from None
    raise BadValue("not a date (e.g. 23.02.2019 or 2019-02-23)")


@lru_cache(maxsize=_MEMO_LIMIT)
def _time_part(raw: str) -> time:
    found = _TIME.match(raw)
    if not found:
        raise BadValue("not a time (e.g. 14:05 or 14:05:00)")
    hours, minutes, seconds = (int(g) if g else 0 for g in found.groups())
    try:
        return time(hours, minutes, seconds)
    except ValueError:
        raise BadValue("no such time of day") from None


@_memo
def day(cell: Cell) -> date:
    """A date: ``23.02.2019``, ``2019-02-23``, ``23.02.2019 0:00:00`` (1C's own) or a date cell."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    raw = text(cell)
    return _date_part(re.split(r"[ T]", raw, maxsplit=1)[0])


def moment(cell: Cell, zone: ZoneInfo) -> datetime:
    """A local date-time: ``23.02.2019 14:05[:00]``, ISO 8601 (with an offset it is converted to
    ``zone``); a bare date means midnight."""
    if isinstance(cell, datetime):
        if cell.tzinfo is not None:
            return cell.astimezone(zone).replace(tzinfo=None)
        return cell
    if isinstance(cell, date):
        return datetime.combine(cell, time())
    raw = text(cell)
    offset_match = _OFFSET.search(raw) if "T" in raw or raw.count(":") >= 2 else None
    if offset_match and "-" in raw[:10]:
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise BadValue("not a date-time (e.g. 23.02.2019 14:05)") from None
        return parsed.astimezone(zone).replace(tzinfo=None)
    parts = re.split(r"[ T]", raw, maxsplit=1)
    the_day = _date_part(parts[0])
    if len(parts) == 1 or not parts[1].strip():
        return datetime.combine(the_day, time())
    return datetime.combine(the_day, _time_part(parts[1].strip()))


@_memo
def period(cell: Cell) -> Month:
    """A month paid for: ``2019-02``, ``02.2019``, or any date in it."""
    if isinstance(cell, date | datetime):
        return Month.of(cell if isinstance(cell, date) else cell.date())
    raw = text(cell)
    found = re.fullmatch(r"(\d{4})-(\d{1,2})", raw) or re.fullmatch(r"(\d{1,2})\.(\d{4})", raw)
    if found:
        first, second = (int(g) for g in found.groups())
        year, month = (first, second) if first > 12 else (second, first)
        if not 1 <= month <= 12:
            raise BadValue("no such month")
        return Month(year, month)
    try:
        return Month.of(day(raw))
    except BadValue:
        raise BadValue("not a month (e.g. 2019-02 or 02.2019)") from None


_TRUE = {"1", "да", "yes", "y", "true", "истина", "+", "д"}
_FALSE = {"0", "нет", "no", "n", "false", "ложь", "-", "н"}


def flag(cell: Cell) -> bool:
    if isinstance(cell, bool):
        return cell
    raw = text(cell).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadValue("not yes/no (да/нет, 1/0, true/false)")


def choice(cell: Cell, options: Mapping[str, str]) -> str:
    """One of ``options`` (keys are accepted spellings, lower case; values the stored word)."""
    raw = text(cell).lower().replace("ё", "е")
    if raw in options:
        return options[raw]
    allowed = ", ".join(sorted(set(options.values())))
    raise BadValue(f"must be one of: {allowed}")
