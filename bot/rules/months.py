"""Months: the calendar unit of billing. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

Kopecks = int

# --------------------------------------------------------------------------------------------------
# Months
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month, ordered and countable (``Month(2019, 2) - Month(2018, 12) == 2``)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls.from_index(day.year * 12 + day.month - 1)

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Month:
        """The month, shared: the rules look months up in dicts millions of times, and a shared
        object is found by identity before any comparison."""
        month = _MONTHS.get(index)
        if month is None:
            month = _MONTHS.setdefault(index, cls(index // 12, index % 12 + 1))
        return month

    def shift(self, months: int) -> Month:
        return Month.from_index(self.index + months)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __sub__(self, other: Month) -> int:
        return self.index - other.index

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


_MONTHS: dict[int, Month] = {}


@cache
def month_first_day(index: int) -> date:
    """The first day of the month ``index`` (``Month.index``): ``month_first_day(24299) == date(2024, 12,
    1)``. Shared, as :meth:`Month.from_index` is: storing the ledger asks for it once per stored month."""
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: Month, last: Month) -> list[Month]:
    """All months from ``first`` to ``last`` inclusive (empty when ``last`` is before ``first``)."""
    return [Month.from_index(i) for i in range(first.index, last.index + 1)]


def close_day(month: Month, workday: int, is_working_day: Callable[[date], bool]) -> date:
    """The day ``month`` closes: the ``workday``-th working day of the next month (its last working
    day when it has fewer). With the Russian calendar and ``workday`` 3, November 2026 closes on
    Thursday 3 December 2026; December 2026 (New Year holidays until 10 January) on 13 January 2027."""
    if workday < 1:
        raise ValueError("workday counts from 1")
    day, last, count = month.shift(1).first_day(), None, 0
    end = month.shift(2).first_day()
    while day < end:
        if is_working_day(day):
            count += 1
            last = day
            if count == workday:
                return day
        day += timedelta(days=1)
    return last if last is not None else end - timedelta(days=1)
