"""Scope rules and command arguments."""

from __future__ import annotations

from datetime import date

import pytest

from bot.access import Person, can_view
from bot.arguments import BadArgument, parse_month
from bot.rules import Month

M_A = Person("m1", "manager", "A")
M_A2 = Person("m3", "manager", "A")
M_B = Person("m2", "manager", "B")
S_A = Person("s1", "supervisor", "A")
ADMIN = Person("a1", "admin", "")


@pytest.mark.parametrize(
    ("viewer", "subject", "allowed"),
    [
        (M_A, M_A, True),
        (M_A, M_A2, False),
        (M_A, M_B, False),
        (S_A, M_A, True),
        (S_A, M_B, False),
        (S_A, S_A, True),
        (S_A, Person("s2", "supervisor", "A"), False),
        (ADMIN, M_B, True),
        (Person("x", "manager", "A", active=False), Person("x", "manager", "A", active=False), False),
        (Person("s9", "supervisor", ""), Person("m9", "manager", ""), False),
    ],
)
def test_scope(viewer: Person, subject: Person, allowed: bool) -> None:
    assert can_view(viewer, subject) is allowed


TODAY = date(2019, 2, 25)


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("", Month(2019, 2)),
        ("2019-02", Month(2019, 2)),
        ("02.2019", Month(2019, 2)),
        ("1.2019", Month(2019, 1)),
        ("февраль", Month(2019, 2)),
        ("Январь", Month(2019, 1)),
        ("декабрь", Month(2018, 12)),  # the latest December not in the future
        ("март", Month(2018, 3)),
        ("май", Month(2018, 5)),
        ("фев 19", Month(2019, 2)),
        ("сентября 2018", Month(2018, 9)),
        ("ноябрь 2018", Month(2018, 11)),
    ],
)
def test_month_argument(text: str, month: Month) -> None:
    assert parse_month(text, TODAY) == month


@pytest.mark.parametrize("text", ["abc", "2019-13", "13.2019", "февраль двадцатого", "1 2 3", "0.2019"])
def test_bad_month_argument(text: str) -> None:
    with pytest.raises(BadArgument):
        parse_month(text, TODAY)
