"""Months: the calendar unit of billing. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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


def months_between(first: Month, last: Month) -> list[Month]:
    """All months from ``first`` to ``last`` inclusive (empty when ``last`` is before ``first``)."""
    return [Month.from_index(i) for i in range(first.index, last.index + 1)]
