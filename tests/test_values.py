"""Reading the values 1C writes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.rules import Month
from db.importer import values as v

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("cell", "kopecks"),
    [
        ("2 818,50", 281850),
        ("2818.50", 281850),
        ("2\u00a0818,50", 281850),
        ("2\u202f818,5", 281850),
        ("263 492", 26349200),
        ("1 234 567,89 ₽", 123456789),
        ("1,234.56", 123456),
        ("1.234,56", 123456),
        ("0,01", 1),
        (2818.5, 281850),
        (263492, 26349200),
    ],
)
def test_money_in_the_shapes_1c_and_excel_write(cell: object, kopecks: int) -> None:
    assert v.money(cell) == kopecks  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("abc", "not an amount"), ("-100", "negative"), ("1,005", "two digits"), ("", "not an amount"),
     ("12 34,5,6", "not an amount")],
)  # fmt: skip
def test_bad_money_says_why(cell: str, reason: str) -> None:
    with pytest.raises(v.BadValue, match=reason):
        v.money(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("23.02.2019", date(2019, 2, 23)),
        ("2019-02-23", date(2019, 2, 23)),
        ("23.02.2019 0:00:00", date(2019, 2, 23)),
        ("3.2.2019", date(2019, 2, 3)),
        (datetime(2019, 2, 23, 14, 5), date(2019, 2, 23)),
    ],
)
def test_dates(cell: object, expected: date) -> None:
    assert v.day(cell) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("cell", "reason"), [("30.02.2019", "no such date"), ("2019/02/23", "not a date"),
                                              ("23.02.19", "not a date")])  # fmt: skip
def test_bad_dates_say_why(cell: str, reason: str) -> None:
    with pytest.raises(v.BadValue, match=reason):
        v.day(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("23.02.2019 14:05", datetime(2019, 2, 23, 14, 5)),
        ("23.02.2019 9:05:07", datetime(2019, 2, 23, 9, 5, 7)),
        ("2019-02-23T14:05:00", datetime(2019, 2, 23, 14, 5)),
        ("2019-02-23 14:05", datetime(2019, 2, 23, 14, 5)),
        ("2019-02-23T11:05:00Z", datetime(2019, 2, 23, 14, 5)),
        ("2019-02-23T14:05:00+03:00", datetime(2019, 2, 23, 14, 5)),
        ("23.02.2019", datetime(2019, 2, 23)),
    ],
)
def test_date_times_are_local_wall_clock(cell: str, expected: datetime) -> None:
    assert v.moment(cell, MSK) == expected


def test_bad_time_says_why() -> None:
    with pytest.raises(v.BadValue, match="no such time"):
        v.moment("23.02.2019 25:00", MSK)


@pytest.mark.parametrize(("cell", "month"), [("2019-02", Month(2019, 2)), ("02.2019", Month(2019, 2)),
                                             ("2.2019", Month(2019, 2)), ("15.02.2019", Month(2019, 2))])  # fmt: skip
def test_periods(cell: str, month: Month) -> None:
    assert v.period(cell) == month


def test_bad_period() -> None:
    with pytest.raises(v.BadValue, match="month"):
        v.period("2019-13")


@pytest.mark.parametrize(("cell", "expected"), [("Да", True), ("нет", False), ("1", True), ("0", False),
                                                ("Истина", True), (True, True)])  # fmt: skip
def test_flags(cell: object, expected: bool) -> None:
    assert v.flag(cell) is expected  # type: ignore[arg-type]


def test_integers_from_xlsx_floats_and_text() -> None:
    assert v.integer(12.0) == 12
    assert v.integer(" 1 200 ") == 1200
    with pytest.raises(v.BadValue):
        v.integer(1.5)
    with pytest.raises(v.BadValue, match="at least 1"):
        v.integer("0", minimum=1)
