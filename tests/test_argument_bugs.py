"""Dates the calendar lacks, typed in the bot or the CLI: the answer says what is wrong with the date
(not "manager not found", not a bare "не дата"), and the bot and the CLI take the same years."""

from __future__ import annotations

import argparse
import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import arguments, cli, texts
from bot.arguments import BadArgument, calls_period, name_and_rest, parse_day
from tests.telegram import texts_of
from tests.world import ARAKELYAN, SUPERVISOR, World

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("29.02.2019", "в 2019 году нет 29 февраля: год не високосный"),
        ("2019-02-29", "в 2019 году нет 29 февраля: год не високосный"),
        ("29.02.19", "в 2019 году нет 29 февраля: год не високосный"),
        ("31.02.2019", "31 февраля не бывает (в месяце 28 дней)"),
        ("30.02.2024", "30 февраля не бывает (в месяце 29 дней)"),
        ("31.04.2026", "31 апреля не бывает (в месяце 30 дней)"),
        ("31.04", "31 апреля не бывает (в месяце 30 дней)"),
        ("32.01.2026", "32 января не бывает (в месяце 31 день)"),
        ("01.13.2026", "«01.13.2026» — не дата: месяца 13 нет"),
        ("00.01.2026", "0 января не бывает (в месяце 31 день)"),
    ],
)
def test_a_day_the_calendar_lacks_is_named(text: str, reason: str) -> None:
    with pytest.raises(BadArgument) as refused:
        parse_day(text, TODAY)
    assert refused.value.reason == reason


def test_29_february_without_a_year_is_the_next_leap_years_and_calls_looks_back_to_the_last() -> None:
    assert parse_day("29.02", TODAY) == date(2028, 2, 29)
    period = calls_period("29.02", TODAY)  # /calls asks about the past: the last 29 February
    assert (period.first_day, period.start) == (date(2024, 2, 29), date(2024, 2, 29))


@given(st.integers(0, 40), st.integers(0, 14), st.integers(1990, 2110))
def test_every_typed_day_is_a_date_or_a_reason_never_a_crash(day: int, month: int, year: int) -> None:
    typed = f"{day:02d}.{month:02d}.{year}"
    real = 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
    try:
        found = parse_day(typed, TODAY)
    except BadArgument as error:
        assert not real or not arguments.FIRST_YEAR <= year <= arguments.LAST_YEAR
        if arguments.FIRST_YEAR <= year <= arguments.LAST_YEAR and 1 <= month <= 12:
            assert "не бывает" in error.reason or "нет 29 февраля" in error.reason  # says why, not "не дата"
    else:
        assert real and found == date(year, month, day)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ("Аракелян 31.02.2019", "31 февраля не бывает (в месяце 28 дней)"),
        ("Аракелян Наринэ 29.02.2019", "в 2019 году нет 29 февраля: год не високосный"),
        ("Аракелян 2019-13", "нет такого месяца: «2019-13»"),
        ("Аракелян февраль 2150", "нет такого месяца: «февраль 2150»"),
    ],
)
def test_a_wrong_date_after_a_name_is_a_wrong_date_not_a_name(args: str, reason: str) -> None:
    with pytest.raises(BadArgument) as refused:
        name_and_rest(args, lambda text: calls_period(text, TODAY))
    assert refused.value.reason == reason


def test_a_name_without_a_date_is_still_a_name() -> None:
    assert name_and_rest("Аракелян Наринэ", lambda text: calls_period(text, TODAY))[0] == "Аракелян Наринэ"
    assert name_and_rest("Аракелян неделя", lambda text: calls_period(text, TODAY))[0] == "Аракелян"


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/calls Аракелян 31.02.2019", "31 февраля не бывает (в месяце 28 дней)"),
        ("/calls Аракелян 29.02.2019", "в 2019 году нет 29 февраля"),
        ("/calls 29.02.2019", "в 2019 году нет 29 февраля"),
    ],
)
async def test_the_bot_answers_the_date_is_wrong_not_that_the_manager_is_unknown(
    world: World, command: str, answer: str
) -> None:
    (reply,) = texts_of(await world.employee(SUPERVISOR).send(command))
    assert answer in reply and "не найден" not in reply and texts.SOMETHING_WRONG not in reply


async def test_a_manager_gets_the_same_answer_for_his_own_calls(world: World) -> None:
    (reply,) = texts_of(await world.employee(ARAKELYAN).send("/calls 30.02.2019"))
    assert "30 февраля не бывает" in reply


def test_the_cli_and_the_bot_take_the_same_years() -> None:
    assert cli.YEARS == (arguments.FIRST_YEAR, arguments.LAST_YEAR)
    assert cli.parse_day(f"{arguments.FIRST_YEAR}-01-01") == date(arguments.FIRST_YEAR, 1, 1)
    assert cli.parse_day(f"{arguments.LAST_YEAR}-12-31") == date(arguments.LAST_YEAR, 12, 31)
    for outside in (f"{arguments.FIRST_YEAR - 1}-12-31", f"{arguments.LAST_YEAR + 1}-01-01"):
        with pytest.raises(argparse.ArgumentTypeError, match="год с 2000 по 2100"):
            cli.parse_day(outside)
    for outside in (f"{arguments.FIRST_YEAR - 1}-12", f"{arguments.LAST_YEAR + 1}-01"):
        with pytest.raises(ValueError, match="год с 2000 по 2100"):
            cli.parse_month_arg(outside)


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_the_cli_takes_a_day_exactly_when_the_bot_does(day: date) -> None:
    try:
        parse_day(day.isoformat(), TODAY)
        bot_takes = True
    except BadArgument:
        bot_takes = False
    try:
        cli.parse_day(day.isoformat())
        cli_takes = True
    except argparse.ArgumentTypeError:
        cli_takes = False
    assert bot_takes == cli_takes == (arguments.FIRST_YEAR <= day.year <= arguments.LAST_YEAR)


def test_the_cli_says_why_a_day_is_wrong() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        cli.parse_day("2019-02-29")
    assert str(refused.value) == texts.cli_bad_day("2019-02-29", "в 2019 году нет 29 февраля: год не високосный",
                                                   cli.YEARS)  # fmt: skip
