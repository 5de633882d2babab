"""bot/clock.py: the one home of UTC ↔ office-local conversions, at the examples its docstrings give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.clock import local_of_aware, local_of_utc, local_stamp, office_wall_time, utc_of_aware, utc_of_local

MOSCOW = ZoneInfo("Europe/Moscow")


def test_a_stored_utc_moment_is_shown_in_the_offices_time() -> None:
    assert local_of_utc(datetime(2019, 2, 26, 3, 0), MOSCOW) == datetime(2019, 2, 26, 6, 0)
    assert local_stamp(datetime(2019, 2, 26, 3, 0), MOSCOW) == "26.02.2019 06:00"


def test_a_utc_writing_pbx_call_at_06_30_is_mondays_09_30_in_moscow() -> None:
    assert office_wall_time(datetime(2026, 11, 30, 6, 30), UTC, MOSCOW) == datetime(2026, 11, 30, 9, 30)
    assert office_wall_time(datetime(2026, 11, 29, 22, 10), UTC, MOSCOW) == datetime(2026, 11, 30, 1, 10)
    assert office_wall_time(datetime(2026, 11, 30, 9, 30), MOSCOW, MOSCOW) == datetime(2026, 11, 30, 9, 30)
    with_offset = datetime(2026, 11, 30, 8, 30, tzinfo=timezone(timedelta(hours=2)))
    assert office_wall_time(with_offset, UTC, MOSCOW) == datetime(2026, 11, 30, 9, 30)  # its own offset wins


def test_a_pbx_in_a_zone_with_summer_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert office_wall_time(datetime(2026, 7, 1, 10, 0), berlin, MOSCOW) == datetime(2026, 7, 1, 11, 0)  # CEST +2
    assert office_wall_time(datetime(2026, 12, 1, 10, 0), berlin, MOSCOW) == datetime(2026, 12, 1, 12, 0)  # CET +1


def test_the_bots_aware_clock_and_a_naive_local_time_are_both_local() -> None:
    aware = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
    assert local_of_aware(aware, MOSCOW) == datetime(2026, 11, 30, 9, 30)
    assert local_of_aware(datetime(2026, 11, 30, 9, 30), MOSCOW) == datetime(2026, 11, 30, 9, 30)
    assert utc_of_aware(aware.astimezone(MOSCOW)) == datetime(2026, 11, 30, 6, 30)


@given(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2100, 1, 1)))
def test_utc_to_local_and_back_is_the_same_moment(moment_utc: datetime) -> None:
    """Since 2015 Moscow has one offset all year (its last change, 26.10.2014, repeated an hour)."""
    assert utc_of_local(local_of_utc(moment_utc, MOSCOW), MOSCOW) == moment_utc
