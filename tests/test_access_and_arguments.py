"""Scope rules and command arguments."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from bot.arguments import BadArgument, calls_period, parse_day, parse_month
from bot.rules import Month, Person, Role, can_view, scope_of
from db import queries
from db.models import Employee
from db.session import create_engine, create_session_pool

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
        (Person("s9", "supervisor", ""), Person("s9", "supervisor", ""), True),
        (ADMIN, Person("s2", "supervisor", "B"), True),
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


@pytest.mark.parametrize("text", ["февраль 0000", "февраль 0001", "фев 9999", "март 2101"])
def test_a_month_name_with_a_year_outside_the_numeric_range_is_refused(text: str) -> None:
    """`/kpi февраль 0000` was Month(0, 2): "year 0 is out of range" deep in a handler, and the
    person got "Что-то пошло не так". A named month obeys the same 2000-2100 as ``2019-02``."""
    with pytest.raises(BadArgument, match="нет такого месяца"):
        parse_month(text, TODAY)


@pytest.mark.parametrize(
    ("text", "day"),
    [("01.01.19", date(2019, 1, 1)), ("01.01.2019", date(2019, 1, 1)), ("2019-01-01", date(2019, 1, 1))],
)
def test_day_argument(text: str, day: date) -> None:
    assert parse_day(text, TODAY) == day


@pytest.mark.parametrize("text", ["01.01.0001", "01.01.1", "0001-01-01", "9999-12-31", "31.12.9999", "01.01.2101"])
def test_a_day_outside_2000_2100_is_not_a_date(text: str) -> None:
    """`01.01.0001` was read as 2001 (any year below 100 got 2000 added, not only a two-digit one);
    `/calls 9999-12-31` overflowed adding the 14 days a day's findings may be recorded in. A year
    kpibot does not take is named as such ("01.01.1" is no date at all)."""
    with pytest.raises(BadArgument, match="не дата" if text == "01.01.1" else "год вне 2000–2100"):
        parse_day(text, TODAY)


@given(st.dates())
def test_calls_period_answers_every_date_or_refuses_it(day: date) -> None:
    """Whatever date is typed after /calls, the answer is a period or a BadArgument, never a crash."""
    for text in (f"{day:%d.%m.%Y}", day.isoformat()):
        try:
            period = calls_period(text, TODAY)
        except BadArgument:
            assert not 2000 <= day.year <= 2100
        else:
            assert period.first_day <= period.last_day


def test_roles_are_a_str_enum_matching_what_the_importer_stores() -> None:
    assert [str(r) for r in Role] == ["manager", "supervisor", "admin"]
    assert scope_of(Person("s9", Role.SUPERVISOR, "")).team is None  # no team: only themself


# --- the SQL filter and the button check are one rule -----------------------------------------------------

employees_strategy = st.lists(
    st.tuples(st.sampled_from(list(Role)), st.sampled_from(["", "A", "B"]), st.booleans()), min_size=1, max_size=8
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chart=employees_strategy)
def test_sql_scope_equals_the_button_check_on_random_org_charts(
    database_url: str, chart: list[tuple[Role, str, bool]]
) -> None:
    """For every viewer of a random org chart, ``managers_in_scope`` (SQL) lists exactly the active
    managers ``can_view`` lets the viewer open (the check made when a button is pressed)."""

    async def check() -> None:
        engine = create_engine(database_url)
        try:
            async with create_session_pool(engine)() as session, session.begin():
                await session.execute(delete(Employee))
                people = [Employee(id=f"e{n}", name=f"Сотрудник {n}", role=role.value, team=team, active=active)
                          for n, (role, team, active) in enumerate(chart)]  # fmt: skip
                session.add_all(people)
                await session.flush()
                for viewer in people:
                    listed = {e.id for e in await queries.managers_in_scope(session, viewer)}
                    allowed = {e.id for e in people if e.role == Role.MANAGER and e.active
                               and can_view(queries.person_of(viewer), queries.person_of(e))}  # fmt: skip
                    assert listed == allowed, (viewer.id, viewer.role, viewer.team, viewer.active)
                await session.rollback()
        finally:
            await engine.dispose()

    asyncio.run(check())


def test_docs_worked_example() -> None:
    """docs/bot.md, "Who sees whom": the org chart and what each person lists."""
    chart = [Person("arakelyan", "manager", "A"), Person("ivanov", "manager", "A"), Person("petrov", "manager", ""),
             Person("kuznetsova", "supervisor", "A"), Person("orlova", "supervisor", ""),
             Person("sokolov", "admin", "")]  # fmt: skip
    lists = {v.id: [s.id for s in chart if s.role == Role.MANAGER and can_view(v, s)] for v in chart}
    assert lists == {
        "arakelyan": ["arakelyan"],
        "ivanov": ["ivanov"],
        "petrov": ["petrov"],
        "kuznetsova": ["arakelyan", "ivanov"],
        "orlova": [],
        "sokolov": ["arakelyan", "ivanov", "petrov"],
    }
