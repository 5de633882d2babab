"""The working-day calendar: Russian holidays, transferred days off, working Saturdays, extra dates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import ConfigError, load_settings
from bot.workdays import CalendarFileError, WorkCalendar, parse_extra_days

RU = WorkCalendar("ru")
WEEKDAYS = WorkCalendar("none")


@pytest.mark.parametrize("day", [date(2025, 1, d) for d in range(1, 9)] + [date(2026, 1, 9)])
def test_new_year_holidays_are_days_off(day: date) -> None:
    assert not RU.is_working_day(day)


def test_after_the_new_year_holidays_work_starts_and_that_is_the_first_working_day_of_january() -> None:
    assert RU.is_working_day(date(2025, 1, 9))
    assert RU.is_first_working_day_of_month(date(2025, 1, 9))
    assert not RU.is_first_working_day_of_month(date(2025, 1, 10))
    assert RU.previous_working_day(date(2025, 1, 9)) == date(2024, 12, 28)  # a working Saturday


def test_victory_day_and_its_transfer() -> None:
    assert not RU.is_working_day(date(2024, 5, 9))
    assert not RU.is_working_day(date(2024, 5, 10))  # transferred from 6 January
    assert RU.previous_working_day(date(2024, 5, 13)) == date(2024, 5, 8)


@pytest.mark.parametrize("day", [date(2024, 4, 29), date(2024, 4, 30), date(2024, 12, 30), date(2024, 12, 31)])
def test_transferred_days_off_on_weekdays(day: date) -> None:
    assert day.weekday() < 5
    assert not RU.is_working_day(day)
    assert WEEKDAYS.is_working_day(day)  # WORK_CALENDAR=none knows no holidays


@pytest.mark.parametrize("day", [date(2024, 4, 27), date(2024, 11, 2), date(2024, 12, 28)])
def test_working_saturdays(day: date) -> None:
    assert day.weekday() == 5
    assert RU.is_working_day(day)
    assert not WEEKDAYS.is_working_day(day)


def test_plain_weeks() -> None:
    assert [RU.is_working_day(date(2024, 6, d)) for d in range(17, 24)] == [True] * 5 + [False] * 2
    assert WEEKDAYS.is_working_day(date(2024, 5, 9))


def test_extra_dates_override_either_calendar() -> None:
    extra = parse_extra_days(
        "# company days\n2024-06-19 off  # corporate day\n\n22.06.2024 work\n09.05.2024 рабочий\n2024-06-20\n"
    )
    assert extra == {
        date(2024, 6, 19): False,
        date(2024, 6, 22): True,
        date(2024, 5, 9): True,
        date(2024, 6, 20): False,
    }
    for mode in ("ru", "none"):
        calendar = WorkCalendar(mode, extra)
        assert not calendar.is_working_day(date(2024, 6, 19))
        assert calendar.is_working_day(date(2024, 6, 22))
        assert calendar.is_working_day(date(2024, 5, 9))


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2024-13-01 off", "line 1: '2024-13-01' is not a date"), ("\n2024-06-19 maybe", "line 2: 'maybe' must be")],
)
def test_a_bad_extra_dates_line_is_named(text: str, reason: str) -> None:
    with pytest.raises(CalendarFileError, match=reason):
        parse_extra_days(text)


def test_settings_name_the_calendar_setting_and_the_file_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Настройка WORK_CALENDAR: 'ru' \\(производственный"):
        load_settings(work_calendar="us")
    with pytest.raises(ConfigError, match="Настройка WORK_CALENDAR_FILE: не удалось прочитать"):
        load_settings(work_calendar_file=str(tmp_path / "missing.txt"))
    bad = tmp_path / "days.txt"
    bad.write_text("2024-06-19 off\n31.02.2024 off\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"Настройка WORK_CALENDAR_FILE: .*days.txt: line 2: '31.02.2024' is not a date"
    ):
        load_settings(work_calendar_file=str(bad))
    good = tmp_path / "good.txt"
    good.write_text("2024-06-19 off\n", encoding="utf-8")
    settings = load_settings(work_calendar="none", work_calendar_file=str(good))
    assert not settings.calendar.is_working_day(date(2024, 6, 19))
    good.write_text("2024-06-18 off\n", encoding="utf-8")  # edited: read again
    assert settings.calendar.is_working_day(date(2024, 6, 19))
    assert not settings.calendar.is_working_day(date(2024, 6, 18))


def test_moscow_has_no_daylight_saving_the_morning_is_at_06_00_utc_all_year() -> None:
    zone = ZoneInfo("Europe/Moscow")
    for month in range(1, 13):
        morning = datetime(2025, month, 15, 9, 0, tzinfo=zone)
        assert morning.utcoffset() is not None and morning.utcoffset().total_seconds() == 3 * 3600  # type: ignore[union-attr]
