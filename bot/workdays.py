"""Working days: the Russian production calendar, company-specific extra dates, or plain weekdays.

``WORK_CALENDAR=ru`` (the default) follows the ``holidays`` package's Russian calendar: public
holidays, transferred days off (e.g. 31 December 2026) and working Saturdays (e.g. 20 February 2027).
``WORK_CALENDAR=none`` counts every Monday to Friday. ``WORK_CALENDAR_FILE`` adds company days on top
of either, one per line::

    # date        what      comment
    2026-12-30    off       corporate day off
    26.12.2026    work      a working Saturday
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import holidays

MODES = ("ru", "none")
OFF_WORDS = {"off", "holiday", "выходной", "нерабочий"}
WORK_WORDS = {"work", "working", "рабочий"}
SEARCH_LIMIT = 400  # days: no real calendar has a longer run of days off


class CalendarFileError(ValueError):
    """A line of the extra dates file is wrong; the message names the line."""


def parse_extra_days(text: str) -> dict[date, bool]:
    """``{day: is_working}`` from the extra dates file's text (see the module docstring)."""
    days: dict[date, bool] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        day = _parse_date(words[0])
        if day is None:
            raise CalendarFileError(f"line {number}: '{words[0]}' is not a date (YYYY-MM-DD or DD.MM.YYYY)")
        kind = words[1].lower() if len(words) > 1 else "off"
        if kind in OFF_WORDS:
            days[day] = False
        elif kind in WORK_WORDS:
            days[day] = True
        else:
            raise CalendarFileError(f"line {number}: '{words[1]}' must be 'off' or 'work'")
    return days


def _parse_date(text: str) -> date | None:
    try:
        if "." in text:
            day, month, year = (int(part) for part in text.split("."))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


@cache
def _russian(year: int) -> Any:
    return holidays.country_holidays("RU", years=year)


@dataclass(frozen=True)
class WorkCalendar:
    mode: str = "ru"
    extra: Mapping[date, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown calendar '{self.mode}' (one of {', '.join(MODES)})")

    def is_working_day(self, day: date) -> bool:
        if day in self.extra:
            return self.extra[day]
        if self.mode == "none":
            return day.weekday() < 5
        return bool(_russian(day.year).is_working_day(day))

    def previous_working_day(self, day: date) -> date | None:
        """The last working day strictly before ``day`` (``None`` if there is none within a year)."""
        for back in range(1, SEARCH_LIMIT):
            candidate = day - timedelta(days=back)
            if self.is_working_day(candidate):
                return candidate
        return None

    def is_first_working_day_of_month(self, day: date) -> bool:
        if not self.is_working_day(day):
            return False
        earlier = self.previous_working_day(day)
        return earlier is None or (earlier.year, earlier.month) != (day.year, day.month)
