"""/team read from the ledger's per-manager totals in one statement (issue 15: an admin's /team over a
thousand managers under 20 ms) is the very screen the rules' reading gives: the same text and the
same buttons, page by page, for an admin and a supervisor, over the demo data and over a generated
team with a departed manager, ties and names to escape. And the small
facts a screen reads first in one statement are each the reading of its own query."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import DEMO_TODAY
from bot.rules import DEFAULT_TIERS, Month, collection_of_totals, worst_first, worst_first_of_totals
from bot.settings import Settings
from db import queries
from db.importer import import_paths
from db.models import Employee, LedgerState
from db.queries import ledger
from db.session import SessionPool
from handlers.screens import Screen, team_screen
from tests.test_collection_cases import CONTRACTS, EMPLOYEES, PAYMENTS, write
from tests.world import MSK, World

TODAY = date(2026, 11, 20)
IMPORTED_AT = datetime(2026, 11, 20, 4, 0)  # 07:00 in Moscow


# --- the order ---------------------------------------------------------------------------------------------


@given(
    st.dictionaries(
        st.sampled_from([f"m{n}" for n in range(12)]),
        st.tuples(st.integers(0, 3), st.integers(-1, 3), st.sampled_from(["Б", "А", "А&Я", "а"])),
        max_size=12,
    )
)
def test_worst_first_of_totals_orders_as_worst_first_over_the_collections(
    managers: dict[str, tuple[int, int, str]],
) -> None:
    month = Month(2026, 11)
    names = {m: name for m, (_, _, name) in managers.items()}
    totals = {
        m: (paid * 100_000, max(base, 0) * 100_000 + (7 if base > 0 else 0)) for m, (paid, base, _) in managers.items()
    }
    collections = {m: collection_of_totals(month, base, paid, base - paid, 0, 0, DEFAULT_TIERS)
                   for m, (paid, base) in totals.items()}  # fmt: skip
    assert worst_first_of_totals(totals, names) == [(n, m) for n, m, _ in worst_first(collections, names)]


def test_equal_percents_are_ordered_by_name_then_id_and_no_base_comes_last() -> None:
    totals = {"3": (50, 100), "2": (1, 2), "1": (50, 100), "4": (0, 0), "5": (0, 100)}
    names = {"1": "Я", "2": "А", "3": "А", "4": "А", "5": "Ю"}
    assert worst_first_of_totals(totals, names) == [("Ю", "5"), ("А", "2"), ("А", "3"), ("Я", "1"), ("А", "4")]


# --- the facts read first ----------------------------------------------------------------------------------


async def facts_each_by_its_own_query(session: AsyncSession, day: date, until: datetime) -> queries.ScreenFacts:
    state = await ledger.ledger_state(session)
    return queries.ScreenFacts(
        await queries.first_data_month(session),
        state.as_of if state is not None else None,
        state.debtors if state is not None else None,
        await queries.has_discipline_data(session),
        await queries.finding_run(session, day) is not None,
        await queries.last_import_at(session, until=until),
    )


async def test_screen_facts_are_each_the_reading_of_its_own_query(pool: SessionPool, world: World) -> None:
    from jobs.morning import keep_for_today

    moments = [datetime(2019, 2, 25, 4, 29), datetime(2019, 2, 25, 4, 30), datetime(2019, 2, 26, 21, 0)]
    async with pool() as session:
        empty = await queries.screen_facts(session, DEMO_TODAY, moments[0])
        for day in (DEMO_TODAY, DEMO_TODAY - timedelta(days=1)):
            for until in moments:
                assert await queries.screen_facts(session, day, until) == await facts_each_by_its_own_query(
                    session, day, until
                )
    assert empty.first_month is not None and empty.discipline_data and empty.imported_at is None
    async with pool() as session, session.begin():  # the morning job stores the day's findings
        now = datetime(2019, 2, 25, 6, 0)
        await keep_for_today(session, DEMO_TODAY, world.settings, now)
    async with pool() as session:
        facts = await queries.screen_facts(session, DEMO_TODAY, moments[2])
        assert facts == await facts_each_by_its_own_query(session, DEMO_TODAY, moments[2])
    assert facts.findings_stored and facts.ledger_as_of == DEMO_TODAY


async def test_screen_facts_of_an_empty_database(pool: SessionPool) -> None:
    async with pool() as session:
        facts = await queries.screen_facts(session, TODAY, IMPORTED_AT)
        assert facts == await facts_each_by_its_own_query(session, TODAY, IMPORTED_AT)
    assert facts == queries.ScreenFacts(None, None, None, False, False, None)


# --- the screen: the ledger's reading equals the rules' ------------------------------------------------------


async def both_readings(
    pool: SessionPool, viewer_id: str, page: int, today: date, settings: Settings
) -> tuple[Screen, Screen]:
    """/team of ``today``'s month read from the ledger, then, the ledger state deleted (so it no longer
    answers), by the rules; the deletion rolled back."""
    async with pool() as session:
        viewer = await session.get(Employee, viewer_id)
        assert viewer is not None
        assert await ledger.ledger_serves(session, today)
        from_ledger = await team_screen(session, viewer, Month.of(today), page, today, settings)
        assert not session.new and not session.dirty  # a screen only reads
        await session.execute(delete(LedgerState))
        assert not await ledger.ledger_serves(session, today)
        by_rules = await team_screen(session, viewer, Month.of(today), page, today, settings)
        await session.rollback()
    return from_ledger, by_rules


async def test_team_from_the_ledger_is_the_rules_screen_over_the_demo_data(world: World, pool: SessionPool) -> None:
    for viewer_id in ("000000099", "000000010"):  # the admin, the supervisor
        from_ledger, by_rules = await both_readings(pool, viewer_id, 0, DEMO_TODAY, world.settings)
        assert from_ledger == by_rules
        assert "Аракелян Наринэ: 90,53 %" in from_ledger.text


def generated_team(folder: Path, seed: int = 15) -> Path:
    """Forty-five managers of one team (three pages), a departed one still holding contracts, one
    without contracts, equal percents, names to escape and a client at two managers."""
    rng = random.Random(seed)
    names = [f"Менеджер {n:02d}" for n in range(45)]
    names[3], names[4], names[5] = "Ковалёв & сын", "<Тег> Петров", "Очень " + "длинное имя " * 12
    names[7] = names[8] = "Тёзка Иван"
    employees = ["1;Белов Игорь;admin;;100;;1", "5;Орлова Анна;supervisor;Север;105;;1",
                 "6;Пустов Павел;supervisor;;106;;1", "90;Ушедший Тест;manager;Север;190;;0",
                 "91;Без договоров;manager;Север;191;;1", "92;Южный Менеджер;manager;Юг;192;;1"]  # fmt: skip
    employees += [f"{10 + n};{name};manager;Север;{200 + n};;1" for n, name in enumerate(names)]
    contracts, payments = [], []
    holders = [str(10 + n) for n in range(45)] + ["90", "90", "92"]
    for n in range(160):
        manager = holders[n % len(holders)]
        client = "c0" if n in (0, 1) else f"c{n}"  # K0 and K1: one client at managers 10 and 11
        fee = rng.choice([5000, 7500, 10000, 12000])
        start = date(2026, 8, 1) if n in (0, 1) else date(2026, rng.randint(6, 11), 1)
        contracts.append(f"K{n};Д-{n};{client};Клиент {client};{manager};{start:%d.%m.%Y};12;{fee},00;Сопровождение;")
        month = Month.of(start)
        while month <= Month(2026, 11):
            if n not in (0, 1) and (rng.random() < 0.7 or n in (12, 13)):  # K12 and K13 pay alike: an equal percent
                day = month.first_day() + timedelta(days=rng.randint(0, 18))
                amount = fee if n in (12, 13) or rng.random() < 0.8 else fee // 2
                payments.append(f"p{n}-{month};K{n};{day:%d.%m.%Y};{amount},00;{month}")
            month = month.shift(1)
    write(folder, "employees.csv", EMPLOYEES, *employees)
    write(folder, "contracts.csv", CONTRACTS, *contracts)
    write(folder, "payments.csv", PAYMENTS, *payments)
    return folder


async def test_team_from_the_ledger_is_the_rules_screen_page_by_page_for_a_generated_team(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [generated_team(tmp_path / "team")], zone=MSK, now=IMPORTED_AT)
    shown: dict[str, list[str]] = {}
    for viewer_id in ("1", "5", "6"):  # an admin, the team's supervisor, one without a team
        first, _ = await both_readings(pool, viewer_id, 0, TODAY, settings)
        found = re.search(r"\(стр\. 1 из (\d+)\)", first.text)
        pages = int(found.group(1)) if found else 1
        assert pages >= 3 or viewer_id == "6"
        for page in range(pages + 1):  # and one past the last: the last again
            from_ledger, by_rules = await both_readings(pool, viewer_id, page, TODAY, settings)
            assert from_ledger == by_rules, (viewer_id, page)
            shown.setdefault(viewer_id, []).append(from_ledger.text)
            if pages > 1:
                assert f"(стр. {min(page, pages - 1) + 1} из {pages})" in from_ledger.text
    assert "Без менеджера" in shown["1"][0] and "Без менеджера" in shown["5"][0]
    assert "Ковалёв &amp; сын" in "".join(shown["1"]) and "&lt;Тег&gt; Петров" in "".join(shown["5"])
    assert "Южный Менеджер" in "".join(shown["1"]) and "Южный Менеджер" not in "".join(shown["5"])
    assert "В команде нет менеджеров." in shown["6"][0]


async def test_the_team_reading_lists_whom_the_scope_rule_lets_see_with_the_ledger_figures(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [generated_team(tmp_path / "team")], zone=MSK, now=IMPORTED_AT)
    async with pool() as session:
        for viewer_id, count in (("1", 48), ("5", 47), ("6", 0)):
            viewer = await session.get(Employee, viewer_id)
            assert viewer is not None
            members = await ledger.team_from_ledger(session, viewer)
            active = {m.id for m in await queries.managers_in_scope(session, viewer)}
            departed = {d.id for d in await queries.departed_in_scope(session, viewer)}
            assert {m.manager_id for m in members if m.active} == active
            assert {m.manager_id for m in members if not m.active} == departed
            assert len(members) == count
            expected = await ledger.team_totals_from_ledger(
                session, sorted(active | departed), TODAY, settings.kpi_tiers
            )
            for m in members:
                c = expected.members[m.manager_id]
                assert (m.base, m.paid, m.debt, m.debtors) == (c.base, c.paid, c.debt, c.debtors)
