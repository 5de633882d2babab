"""Reading the values 1C writes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# --- 1C's and Excel's spellings, and the limits of both databases ------------------------------------------


@pytest.mark.parametrize(
    ("cell", "month"),
    [
        ("Февраль 2019 г.", Month(2019, 2)),
        ("февраль 2019", Month(2019, 2)),
        ("ФЕВРАЛЯ 2019", Month(2019, 2)),
        ("02.2019", Month(2019, 2)),
        ("2019-02", Month(2019, 2)),
        ("ноя.26", Month(2026, 11)),
        ("сен.19", Month(2019, 9)),
        ("май 2019г.", Month(2019, 5)),
        (datetime(2026, 11, 1), Month(2026, 11)),  # what Excel made of 11.2026 typed into a cell
    ],
)
def test_periods_in_1c_and_excel_spellings(cell: object, month: Month) -> None:
    assert v.period(cell) == month  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("01.0000", "no such month"), ("0012-05", "outside 1900–2999"), ("2019-2-3x", "not a month"),
     ("брюмер 2019", "not a month name"), ("13.2019", "no such month")],
)  # fmt: skip
def test_bad_periods_say_why_and_list_the_spellings(cell: str, reason: str) -> None:
    with pytest.raises(v.BadValue, match=reason):
        v.period(cell)
    with pytest.raises(v.BadValue, match="февраль 2019"):
        v.period("февраль-двадцать")


@pytest.mark.parametrize(
    ("cell", "kopecks"),
    [(124599.99999999999, 12460000), (500.00000000000006, 50000), (0.1 + 0.2, 30), (2818.5, 281850),
     (1e15, 10**17), ("-1 500,00", -150000), ("−200", -20000)],
)  # fmt: skip
def test_binary_floats_round_to_kopecks_and_refunds_are_signed(cell: object, kopecks: int) -> None:
    assert v.signed_money(cell) == kopecks  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", [10.005, 0.001, 1234.567])
def test_a_real_third_decimal_in_a_float_is_refused(cell: float) -> None:
    with pytest.raises(v.BadValue, match="two digits"):
        v.money(cell)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("92233720368547758,08", "too large"), ("9" * 5000, "too large"), (float("inf"), "not an amount"),
     (float("nan"), "not an amount")],
)  # fmt: skip
def test_money_beyond_bigint_or_not_finite(cell: object, reason: str) -> None:
    with pytest.raises(v.BadValue, match=reason):
        v.money(cell)  # type: ignore[arg-type]


def test_integers_within_the_columns_ranges() -> None:
    assert v.integer(str(v.INT_MAX)) == v.INT_MAX
    with pytest.raises(v.BadValue, match="too large"):
        v.integer(str(v.INT_MAX + 1))
    with pytest.raises(v.BadValue, match="too large"):
        v.integer("9" * 5000)
    assert v.integer(str(v.BIGINT_MAX), maximum=v.BIGINT_MAX) == v.BIGINT_MAX


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(43504, date(2019, 2, 8)), (43504.75, date(2019, 2, 8)), (1, date(1900, 1, 1)), (61, date(1900, 3, 1))],
)
def test_a_bare_number_in_a_date_column_is_an_excel_serial(cell: float, expected: date) -> None:
    assert v.day(cell) == expected
    assert v.moment(43504.75, MSK) == datetime(2019, 2, 8, 18, 0)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("05.09.2018 25:99 что-то", "not a time"), ("05.09.2018 что-то", "not a time"),
     ("05.09.2018 14:05 x", "not a time"),
     ("01.01.1899", "outside 1900–2999"), ("0001-01-01T00:00:00+05:00", "outside"),
     ("9999-12-31T23:59:59-05:00", "outside")],
)  # fmt: skip
def test_trailing_text_after_a_date_and_dates_outside_the_years_are_refused(cell: str, reason: str) -> None:
    with pytest.raises(v.BadValue, match=reason):
        v.moment(cell, MSK) if "T" in cell else v.day(cell)


def test_choices_list_the_russian_spellings() -> None:
    with pytest.raises(v.BadValue, match=r"manager \(менеджер\)"):
        v.choice("директор", {"manager": "manager", "менеджер": "manager"})
    with pytest.raises(v.BadValue, match="да/нет"):
        v.flag("может быть")


@given(
    st.integers(min_value=-(10**17), max_value=10**17), st.sampled_from(["{r},{k:02d}", "{r}.{k:02d}", "{g},{k:02d}"])
)
def test_money_written_any_way_1c_writes_it_reads_back_exactly(kopecks: int, style: str) -> None:
    rubles, rest = divmod(abs(kopecks), 100)
    written = style.format(r=rubles, k=rest, g=f"{rubles:,}".replace(",", "\u00a0"))
    assert v.signed_money(("-" if kopecks < 0 else "") + written) == kopecks


@given(st.integers(min_value=1, max_value=10**13))
def test_an_amount_excel_stored_as_a_float_reads_back_to_its_kopecks(kopecks: int) -> None:
    assert v.money(kopecks / 100) == kopecks  # Excel's cell holds the nearest binary float


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_a_month_in_any_spelling_reads_back(day: date) -> None:
    names = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
             "ноябрь", "декабрь"]  # fmt: skip
    month = Month(day.year, day.month)
    for written in (f"{day:%Y-%m}", f"{day:%m.%Y}", f"{names[day.month - 1]} {day.year} г.", f"{day:%d.%m.%Y}"):
        assert v.period(written) == month, written
