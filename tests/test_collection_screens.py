"""The collection as people read it: /team, /kpi, the digest and ``kpibot digest --date`` agree for
every manager, today and on a replayed past day; months to come, before the data, finished and
closed; and the contracts of a manager who left, shown as "без менеджера"."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import update

from bot import texts
from bot.demo import DEMO_IMPORTED_AT_UTC, DEMO_TODAY
from bot.rules import Month
from bot.settings import Settings
from db import queries
from db.importer import import_paths
from db.models import Employee
from db.session import SessionPool
from jobs.digests import below_first_tier, build_digest, morning
from tests.telegram import texts_of
from tests.test_cli import kpibot
from tests.world import ADMIN, ARAKELYAN, IVANOV, MSK, SMIRNOVA, SUPERVISOR, World, link_all

MANAGERS = (ARAKELYAN, IVANOV, SMIRNOVA)


async def demo_world(pool: SessionPool, settings: Settings, exports: Path, day: date) -> World:
    await import_paths(pool, [exports], zone=MSK, now=DEMO_IMPORTED_AT_UTC)
    await link_all(pool)
    return World(pool, settings, now=datetime.combine(day, time(10), MSK))


async def digests_of(world: World, day: date) -> dict[str, str]:
    async with world.pool() as session:
        context = await morning(session, day, world.settings)
        result = {}
        for employee_id in (*MANAGERS, SUPERVISOR):
            employee = await queries.get_employee(session, employee_id)
            assert employee is not None
            result[employee_id] = (await build_digest(session, employee, day, world.settings, context)).text
    return result


@pytest.mark.slow
@pytest.mark.parametrize("day", [DEMO_TODAY, date(2019, 2, 15)], ids=["demo-morning", "replayed-15-february"])
async def test_team_kpi_digest_and_kpibot_digest_agree_for_every_manager(
    pool: SessionPool, settings: Settings, demo_exports: Path, database_url: str, tmp_path: Path, day: date
) -> None:
    world = await demo_world(pool, settings, demo_exports, day)
    team = texts_of(await world.employee(SUPERVISOR).send("/team"))[0]
    digests = await digests_of(world, day)
    printed = kpibot("digest", "--date", day.isoformat(), cwd=tmp_path, env={"DATABASE_URL": database_url})
    assert printed.returncode == 0, printed.stderr
    async with pool() as session:
        figures = await queries.collections(session, list(MANAGERS), Month.of(day), day, settings.kpi_tiers)
        names = {e: (await queries.get_employee(session, e)).name for e in MANAGERS}  # type: ignore[union-attr]
    for manager_id in MANAGERS:
        collection = figures[manager_id].collection
        kpi = texts_of(await world.employee(manager_id).send("/kpi"))[0]
        block = printed.stdout.split(f"══ {names[manager_id]}")[1].split("\n══ ")[0]
        for line in (texts.collection_lines(collection)[0], *texts.collection_lines(collection)[2:]):
            assert line in kpi and line in digests[manager_id], (manager_id, line)
            assert texts.html_to_plain(line) in block, (manager_id, line)
        row = texts.team_line(names[manager_id], collection, below_first_tier(collection, settings.kpi_tiers))
        assert row in team and row in digests[SUPERVISOR], (manager_id, row)
        assert texts.html_to_plain(row) in printed.stdout
    if day == DEMO_TODAY:  # the source report, as the demo prints it
        assert "Сбор за февраль 2019: 90,53 % — KPI 0,2" in printed.stdout


async def test_a_replayed_day_sees_no_later_payment(pool: SessionPool, settings: Settings, demo_exports: Path) -> None:
    world = await demo_world(pool, settings, demo_exports, date(2019, 2, 15))
    async with pool() as session:
        on_15th = await queries.collection_of(session, ARAKELYAN, Month(2019, 2), date(2019, 2, 15), settings.kpi_tiers)
        on_25th = await queries.collection_of(session, ARAKELYAN, Month(2019, 2), DEMO_TODAY, settings.kpi_tiers)
        dated = [p.paid_on for p in await queries.payments_of_managers(session, [ARAKELYAN])]
    assert max(dated) > date(2019, 2, 15)  # the demo has payments after the 15th ...
    assert on_15th.collection.paid < on_25th.collection.paid  # ... which the replay does not see
    kpi = texts_of(await world.employee(ARAKELYAN).send("/kpi"))[0]
    assert texts.percent(on_15th.collection.percent) in kpi


# --- months without data, finished and closed months ----------------------------------------------------


async def test_a_month_to_come_is_refused_and_one_before_the_data_has_none(world: World) -> None:
    (future,) = texts_of(await world.employee(ARAKELYAN).send("/kpi 2019-03"))
    assert future == "Март 2019 ещё не наступил: цифры появятся, когда месяц начнётся."
    (before,) = texts_of(await world.employee(ARAKELYAN).send("/kpi 2010-01"))
    assert before.startswith("За январь 2010 данных нет: они начинаются с ")
    (team_future,) = texts_of(await world.employee(SUPERVISOR).send("/team 2019-03"))
    assert "ещё не наступил" in team_future


async def test_a_finished_month_shows_its_own_debt_and_says_it_is_preliminary(world: World) -> None:
    tiers = world.settings.kpi_tiers
    async with world.pool() as session:
        december = await queries.collection_of(session, ARAKELYAN, Month(2018, 12), DEMO_TODAY, tiers)
        february = await queries.collection_of(session, ARAKELYAN, Month(2019, 2), DEMO_TODAY, tiers)
    assert december.collection.debt != february.collection.debt  # December's month-end debt, not today's
    (text,) = texts_of(await world.employee(ARAKELYAN).send("/kpi 2018-12"))
    assert "Сбор за декабрь 2018" in text
    assert texts.collection_lines(december.collection)[3] in text
    assert "Предварительно: месяц ещё не закрыт" in text  # its close day passed without a close
    assert "ждём" not in text


async def test_a_closed_month_shows_its_frozen_figures(world: World, tmp_path: Path) -> None:
    async with world.pool() as session, session.begin():
        await queries.close_month(session, Month(2019, 1), date(2019, 2, 5), world.settings.kpi_tiers,
                                  datetime(2019, 2, 5, 6), "test")  # fmt: skip
        frozen = (await queries.closed_collections(session, [ARAKELYAN], Month(2019, 1)) or {})[ARAKELYAN]
    (text,) = texts_of(await world.employee(ARAKELYAN).send("/kpi 2019-01"))
    assert texts.collection_headline(frozen) in text
    assert "Месяц закрыт 05.02.2019" in text
    (team,) = texts_of(await world.employee(SUPERVISOR).send("/team 2019-01"))
    assert "Месяц закрыт 05.02.2019" in team


# --- managers who leave -----------------------------------------------------------------------------------


async def test_contracts_of_a_manager_who_left_stay_in_sight_as_unassigned(world: World) -> None:
    (before,) = texts_of(await world.employee(SUPERVISOR).send("/team"))
    async with world.pool() as session, session.begin():
        await session.execute(update(Employee).where(Employee.id == IVANOV).values(active=False))
    (team,) = texts_of(await world.employee(SUPERVISOR).send("/team"))
    assert "Иванов Пётр:" not in team
    found = re.search(r"⚠️ Без менеджера: .* — (\d+) договор\w* жд\w+ нового владельца", team)
    assert found and int(found.group(1)) > 0
    total = re.search(r"Сбор за февраль 2019: <b>([^<]+)</b>", before)
    assert total and f"<b>{total.group(1)}</b>" in team  # the team's total keeps Ivanov's contracts
    (debtors,) = texts_of(await world.employee(ADMIN).send("/debtors"))
    assert "⚠️ Без менеджера:" in debtors and "· без менеджера" in debtors
    async with world.pool() as session:
        supervisor = await queries.get_employee(session, SUPERVISOR)
        assert supervisor is not None
        digest = await build_digest(session, supervisor, DEMO_TODAY, world.settings)
    assert f"Без менеджера:</b> {found.group(1)}" in digest.text
    (own,) = texts_of(await world.employee(ARAKELYAN).send("/debtors"))
    assert "без менеджера" not in own  # a manager sees only their own contracts


async def test_a_closed_month_shows_the_frozen_figures_of_a_manager_who_left(world: World, tmp_path: Path) -> None:
    from bot.rules.team import totals_of_team
    from tests.factories import PAYMENTS_HEADER, write_csv

    january, tiers = Month(2019, 1), world.settings.kpi_tiers
    async with world.pool() as session, session.begin():
        await queries.close_month(session, january, date(2019, 2, 5), tiers, datetime(2019, 2, 5, 6), "test")
        await session.execute(update(Employee).where(Employee.id == IVANOV).values(active=False))
        live = (await queries.collections(session, [IVANOV], january, DEMO_TODAY, tiers))[IVANOV]
    unpaid = next(p.contract_id for p in live.positions if p.paid < p.base)  # January still owed there
    write_csv(tmp_path / "payments.csv", PAYMENTS_HEADER, [["late", unpaid, "20.02.2019", "99 000,00", "01.2019"]])
    await import_paths(world.pool, [tmp_path / "payments.csv"], zone=MSK, now=datetime(2019, 2, 20, 6))
    async with world.pool() as session:
        frozen = await queries.closed_collections(session, [IVANOV], january)
        supervisor = await queries.get_employee(session, SUPERVISOR)
        assert frozen is not None and supervisor is not None
        unassigned = await queries.unassigned_month(session, supervisor, january, DEMO_TODAY, tiers)
        assert unassigned is not None
    (team,) = texts_of(await world.employee(SUPERVISOR).send("/team 2019-01"))
    expected = totals_of_team(january, list(frozen.values()), tiers)
    assert texts.unassigned_line(expected, unassigned.waiting) in team
    assert expected.paid != unassigned.collection.paid  # the late payment moved only the live figures
