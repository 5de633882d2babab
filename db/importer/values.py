"""Parsers for the values 1C, Excel and Asterisk write: money, integers, dates, date-times, months,
yes/no, enums.

Each parser takes what a CSV cell (``str``) or an XLSX cell (``str``, ``int``, ``float``,
``datetime``, ``date``, ``time``, ``timedelta``, ``bool``) holds and returns a Python value, or
raises :class:`BadValue` with a short English reason (listing the Russian spellings where there are
some) that the importer prints as ``file:line: column: value: reason``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.rules import Month

Cell = str | int | float | datetime | date | time | timedelta | bool | None
T = TypeVar("T")

BIGINT_MAX = 2**63 - 1  # BigInteger on both databases: money (kopecks), telegram ids
INT_MAX = 2**31 - 1  # Integer on both databases: months, seconds

# the most digits a whole number may have before it is refused without being converted (Python
# refuses to convert more than 4300 digits, and nothing kpibot stores has more than 19)
_MAX_DIGITS = 30


class BadValue(ValueError):
    """A value that cannot be read; the message is the reason."""


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']")
_CURRENCY = re.compile(r"(₽|руб\.?|р\.|rub)$", re.IGNORECASE)
_MONEY = re.compile(r"^\d+([.,]\d+)?$")
_MINUS = ("-", "\u2212", "\u2013")  # hyphen-minus, the minus sign, and the en dash Word puts there


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


# --------------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------------


def _float_kopecks(cell: float) -> int:
    """Kopecks from an XLSX number cell, which holds a binary float.

    ``124599.99999999999`` (what Excel's arithmetic leaves) is 124 600,00 and ``500.00000000000006``
    is 500,00: a value within a few units in the last place of a whole number of kopecks is that
    number. Anything farther from one (``0.005``) has a real third decimal and is refused.
    """
    if not math.isfinite(cell):
        raise BadValue("not an amount of money (e.g. 2 818,50)")
    kopecks = Decimal(cell) * 100  # exact: every float is a finite binary fraction
    nearest = kopecks.to_integral_value(rounding=ROUND_HALF_EVEN)
    tolerance = Decimal(math.ulp(cell)) * 100 * 8
    if abs(kopecks - nearest) > tolerance:
        raise BadValue("more than two digits after the decimal separator")
    return int(nearest)


def _signed_money(cell: Cell) -> int:
    if isinstance(cell, bool) or not isinstance(cell, str | int | float):
        raise BadValue("not an amount of money (e.g. 2 818,50)")
    if isinstance(cell, int):
        kopecks = cell * 100
    elif isinstance(cell, float):
        kopecks = _float_kopecks(cell)
    else:
        compact = _SPACES.sub("", _CURRENCY.sub("", _SPACES.sub("", cell)).strip())
        negative = compact.startswith(_MINUS)
        if negative:
            compact = compact[1:]
        if "," in compact and "." in compact:
            # 2,818.50 or 2.818,50: the last separator is the decimal one, the other groups thousands
            decimal_sep = "," if compact.rfind(",") > compact.rfind(".") else "."
            compact = compact.replace("." if decimal_sep == "," else ",", "")
        if not _MONEY.match(compact):
            raise BadValue("not an amount of money (e.g. 2 818,50)")
        if len(compact) > _MAX_DIGITS:
            raise BadValue(f"too large (at most {BIGINT_MAX // 100} roubles)")
        try:
            value = Decimal(compact.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
            raise BadValue("not an amount of money (e.g. 2 818,50)") from None
        exact = value * 100
        if exact != exact.to_integral_value():
            raise BadValue("more than two digits after the decimal separator")
        kopecks = -int(exact) if negative else int(exact)
    if abs(kopecks) > BIGINT_MAX:
        raise BadValue(f"too large (at most {BIGINT_MAX // 100} roubles)")
    return kopecks


@_memo
def money(cell: Cell) -> int:
    """Kopecks from ``2 818,50``, ``2818.50``, ``2 818,50 ₽`` or a number cell; never negative.

    Raises :class:`BadValue`: not a number, negative, a third decimal, beyond BIGINT.
    """
    kopecks = _signed_money(cell)
    if kopecks < 0:
        raise BadValue("must not be negative")
    return kopecks


@_memo
def signed_money(cell: Cell) -> int:
    """Kopecks, as :func:`money`, but a minus sign is allowed: 1C writes refunds ("возврат",
    "сторно") as negative payments, ``-1 500,00``."""
    return _signed_money(cell)


# --------------------------------------------------------------------------------------------------
# Whole numbers
# --------------------------------------------------------------------------------------------------


def integer(cell: Cell, *, minimum: int | None = None, maximum: int = INT_MAX) -> int:
    """A whole number from text (``1 200``) or a number cell (``12.0``), within ``minimum`` and
    ``maximum`` (default: what an Integer column holds on both databases)."""
    if isinstance(cell, bool):
        raise BadValue("not a whole number")
    if isinstance(cell, float):
        if not math.isfinite(cell) or not cell.is_integer():
            raise BadValue("not a whole number")
        value = int(cell)
    elif isinstance(cell, int):
        value = cell
    elif isinstance(cell, str):
        raw = _SPACES.sub("", cell)
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise BadValue("not a whole number")
        if len(raw) > _MAX_DIGITS:
            raise BadValue(f"too large (at most {maximum})")
        value = int(raw)
    else:
        raise BadValue("not a whole number")
    if minimum is not None and value < minimum:
        raise BadValue(f"must be at least {minimum}")
    if value > maximum:
        raise BadValue(f"too large (at most {maximum})")
    return value


# --------------------------------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------------------------------

_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_SIGNS = ("+", "-")
# Years an export's dates may name: a contract, a payment or a call outside them is a typo (or 1C's
# "empty date" 01.01.0001, which the importer reads as empty before a parser sees it), and a month
# thousands of years from today would make the rules walk thousands of years of months.
YEARS = (1900, 2999)
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel counts a 29.02.1900 that never was)
_SERIAL_MAX = 2958465  # 31.12.9999


@lru_cache(maxsize=_MEMO_LIMIT)  # dates and times of day repeat across the rows of an export
def _date_part(raw: str) -> date:
    for pattern, order in _DATE_PATTERNS:
        found = pattern.match(raw)
        if found:
            parts = dict(zip(order, (int(g) for g in found.groups()), strict=True))
            try:
                the_day = date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise BadValue("no such date") from None
            return _in_years(the_day)
    raise BadValue("not a date (e.g. 23.02.2019 or 2019-02-23)")


@lru_cache(maxsize=1 << 17)  # every second of a day (86,400) fits: an LRU smaller than that misses on all
def _time_part(raw: str) -> time:
    found = _TIME.match(raw)
    if not found:
        raise BadValue("not a time after the date (e.g. 23.02.2019 14:05 or 23.02.2019 14:05:00)")
    hours, minutes, seconds = (int(g) if g else 0 for g in found.groups())
    try:
        return time(hours, minutes, seconds)
    except ValueError:
        raise BadValue("no such time of day") from None


def _in_years(the_day: date) -> date:
    if not YEARS[0] <= the_day.year <= YEARS[1]:
        raise BadValue(f"the year is outside {YEARS[0]}–{YEARS[1]}")
    return the_day


def _excel_serial(cell: int | float) -> datetime:
    """A bare number in a date column of a workbook: Excel's date serial (``43504`` is 08.02.2019,
    the fraction is the time of day)."""
    if not math.isfinite(cell) or not 1 <= cell < _SERIAL_MAX + 1:
        raise BadValue("not a date (a number, and not an Excel date serial either)")
    whole = int(cell)
    seconds = round((cell - whole) * 86400)
    if whole < 61:  # Excel's phantom 29.02.1900: serials before it are one day later than counted
        whole += 1
    return _EXCEL_EPOCH + timedelta(days=whole, seconds=seconds)


def _split_date_time(raw: str) -> tuple[str, str]:
    """The date and what follows its first space or ``T`` (stripped)."""
    space, letter = raw.find(" "), raw.find("T")
    cut = space if letter < 0 or 0 <= space < letter else letter
    if cut < 0:
        return raw, ""
    return raw[:cut], raw[cut + 1 :].strip()


@_memo
def day(cell: Cell) -> date:
    """A date: ``23.02.2019``, ``2019-02-23``, ``23.02.2019 0:00:00`` (1C's own), a date cell, or an
    Excel date serial. A time after the date must be a time; anything else after it is refused."""
    if isinstance(cell, datetime):
        return _in_years(cell.date())
    if isinstance(cell, date):
        return _in_years(cell)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return _in_years(_excel_serial(cell).date())
    if not isinstance(cell, str):
        raise BadValue("not a date (e.g. 23.02.2019 or 2019-02-23)")
    date_text, time_text = _split_date_time(cell.strip())
    if time_text:
        _time_part(time_text)
    return _date_part(date_text)


def moment(cell: Cell, zone: ZoneInfo) -> datetime:
    """A local date-time: ``23.02.2019 14:05[:00]``, ISO 8601 (with an offset it is converted to
    ``zone``), a date-time cell or an Excel serial; a bare date means midnight."""
    if isinstance(cell, datetime):
        _in_years(cell.date())
        return _to_zone(cell, zone) if cell.tzinfo is not None else cell
    if isinstance(cell, date):
        return datetime.combine(_in_years(cell), time())
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return datetime.combine(_in_years(_excel_serial(cell).date()), _excel_serial(cell).time())
    if not isinstance(cell, str):
        raise BadValue("not a date-time (e.g. 23.02.2019 14:05)")
    raw = cell.strip()
    if (
        "-" in raw[:10]
        and ("T" in raw or raw.count(":") >= 2)
        and (raw[-1:] == "Z" or raw[-6:-5] in _SIGNS or raw[-5:-4] in _SIGNS)  # the offset's shapes, quickly
        and _OFFSET.search(raw)
    ):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise BadValue("not a date-time (e.g. 23.02.2019 14:05)") from None
        _in_years(parsed.date())
        return _to_zone(parsed, zone)
    date_text, time_text = _split_date_time(raw)
    the_day = _date_part(date_text)
    if not time_text:
        return datetime.combine(the_day, time())
    return datetime.combine(the_day, _time_part(time_text))


def _to_zone(moment_: datetime, zone: ZoneInfo) -> datetime:
    try:
        return moment_.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError):  # 0001-01-01T00:00:00+05:00 has no local time in year 1
        raise BadValue("not a date-time: outside the calendar once converted to the office's time zone") from None


# --------------------------------------------------------------------------------------------------
# Months (periods paid for)
# --------------------------------------------------------------------------------------------------

# nominative and genitive month names, and Excel's three-letter abbreviations (``ноя.26``)
_MONTH_NAMES: dict[str, int] = {}
for _number, _forms in enumerate(
    (
        ("январь", "января", "янв"),
        ("февраль", "февраля", "фев"),
        ("март", "марта", "мар"),
        ("апрель", "апреля", "апр"),
        ("май", "мая"),
        ("июнь", "июня", "июн"),
        ("июль", "июля", "июл"),
        ("август", "августа", "авг"),
        ("сентябрь", "сентября", "сен", "сент"),
        ("октябрь", "октября", "окт"),
        ("ноябрь", "ноября", "ноя", "нояб"),
        ("декабрь", "декабря", "дек"),
    ),
    start=1,
):
    for _form in _forms:
        _MONTH_NAMES[_form] = _number

_PERIOD_FORMS = (
    # (pattern, what the groups are)
    (re.compile(r"(\d{4})-(\d{1,2})"), "ym"),  # 2019-02
    (re.compile(r"(\d{1,2})\.(\d{4})"), "my"),  # 02.2019
    (re.compile(r"([а-я]+)\.?\s*(\d{4})(?:\s*г(?:од|\.)?)?\.?"), "Ny"),  # Февраль 2019 г., февраль 2019
    (re.compile(r"([а-я]+)[.\-\s]\s*(\d{2})"), "Nyy"),  # ноя.26, фев-19 (Excel's mmm.yy)
)
PERIOD_EXAMPLES = "2019-02, 02.2019, февраль 2019, Февраль 2019 г., фев.19"


@_memo
def period(cell: Cell) -> Month:
    """A month paid for: ``2019-02``, ``02.2019``, ``Февраль 2019 г.``, ``февраль 2019``, Excel's
    ``ноя.26`` (two-digit years are 20xx), a date cell, or any date in the month."""
    if isinstance(cell, date | int | float) and not isinstance(cell, bool):
        return Month.of(day(cell))
    if not isinstance(cell, str):
        raise BadValue(f"not a month (e.g. {PERIOD_EXAMPLES})")
    raw = cell.strip().lower().replace("ё", "е")
    for pattern, form in _PERIOD_FORMS:
        found = pattern.fullmatch(raw)
        if found is None:
            continue
        first, second = found.groups()
        if form == "ym":
            year, month = int(first), int(second)
        elif form == "my":
            month, year = int(first), int(second)
        else:
            if first not in _MONTH_NAMES:
                raise BadValue(f"not a month name (e.g. {PERIOD_EXAMPLES})")
            month = _MONTH_NAMES[first]
            year = int(second) + (2000 if form == "Nyy" else 0)
        if not 1 <= month <= 12 or year == 0:
            raise BadValue("no such month")
        _in_years(date(year, month, 1))
        return Month(year, month)
    try:
        return Month.of(day(raw))
    except BadValue:
        raise BadValue(f"not a month (e.g. {PERIOD_EXAMPLES})") from None


# --------------------------------------------------------------------------------------------------
# Yes/no and choices
# --------------------------------------------------------------------------------------------------

_TRUE = {"1", "да", "yes", "y", "true", "истина", "+", "д"}
_FALSE = {"0", "нет", "no", "n", "false", "ложь", "-", "н"}


def flag(cell: Cell) -> bool:
    """Yes or no: ``Да``/``Нет``, ``Истина``/``Ложь``, ``1``/``0``, ``true``/``false``, a boolean cell."""
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    raw = text(cell).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadValue("not yes/no (да/нет, истина/ложь, 1/0, true/false)")


def choice(cell: Cell, options: Mapping[str, str]) -> str:
    """One of ``options`` (keys are accepted spellings, lower case; values the stored word). The
    reason lists each stored word with its Russian spellings: ``manager (менеджер)``."""
    raw = " ".join(text(cell).lower().replace("ё", "е").split())
    if raw in options:
        return options[raw]
    spellings: dict[str, list[str]] = {}
    for spelling, word in options.items():
        if spelling != word and re.search("[а-я]", spelling):
            spellings.setdefault(word, []).append(spelling)
    allowed = ", ".join(
        f"{word} ({', '.join(spellings[word])})" if word in spellings else word
        for word in sorted(set(options.values()))
    )
    raise BadValue(f"must be one of: {allowed}")
