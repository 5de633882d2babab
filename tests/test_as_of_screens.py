"""Issue 11's leftovers on the screens: /kpi and /team say how fresh the data were at the moment they
show (a replayed day, a closed month), a client with contracts at two managers is one debtor of the
team, and the departed managers follow the one scope rule."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from bot import texts
from bot.rules import Month
from bot.settings import Settings
from db import queries
from db.importer import import_paths
from db.models import Employee
from db.session import SessionPool
from handlers.screens import kpi_screen, team_screen
from jobs.digests import team_total
from tests.test_collection_cases import CONTRACTS, EMPLOYEES, PAYMENTS, write
from tests.world import MSK


def exports(folder: Path, *payments: str) -> Path:
    write(folder, "employees.csv", EMPLOYEES, "1;Белов Игорь;admin;;100;;1", "5;Орлова Анна;supervisor;Север;105;;1",
          "6;Пустов Павел;supervisor;;106;;1", "31;Менеджер31 Тест;manager;Север;131;;1",
          "32;Менеджер32 Тест;manager;Север;132;;1", "33;Ушедший Тест;manager;;133;;0")  # fmt: skip
    write(folder, "contracts.csv", CONTRACTS,
          "K1;Д-1;c1;ООО «Альфа»;31;01.09.2026;12;10000,00;Сопровождение;",
          "K2;Д-2;c1;ООО «Альфа»;32;01.09.2026;12;5000,00;Аренда;",
          "K3;Д-3;c2;ООО «Бета»;33;01.09.2026;12;7000,00;Сопровождение;")  # fmt: skip
    write(folder, "payments.csv", PAYMENTS, "p1;K1;05.09.2026;10000,00;2026-09", *payments)
    return folder


async def screen_text(pool: SessionPool, settings: Settings, viewer_id: str, today: date, kind: str) -> str:
    async with pool() as session:
        viewer = await session.get(Employee, viewer_id)
        assert viewer is not None
        if kind == "team":
            screen = await team_screen(session, viewer, Month.of(today), 0, today, settings)
        else:
            screen = await kpi_screen(session, viewer, viewer, Month.of(today), today, settings)
        assert not session.new and not session.dirty  # a screen only reads
        return texts.html_to_plain(screen.text)


async def test_a_replayed_day_says_how_fresh_the_data_were_that_day(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [exports(tmp_path / "a")], zone=MSK, now=datetime(2026, 11, 2, 4, 0))  # 07:00 MSK
    await import_paths(pool, [exports(tmp_path / "b", "p2;K2;10.11.2026;5000,00;")], zone=MSK,
                       now=datetime(2026, 11, 10, 4, 0))  # fmt: skip
    earlier = await screen_text(pool, settings, "31", date(2026, 11, 5), "kpi")
    later = await screen_text(pool, settings, "31", date(2026, 11, 12), "kpi")
    assert "данные 1С на 02.11 07:00" in earlier
    assert "данные 1С на 10.11 07:00" in later
    assert "данные 1С на 02.11 07:00" in await screen_text(pool, settings, "1", date(2026, 11, 5), "team")


async def test_a_client_at_two_managers_is_one_debtor_of_the_team(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [exports(tmp_path / "a")], zone=MSK, now=datetime(2026, 11, 20, 4, 0))
    today = date(2026, 11, 20)
    async with pool() as session:
        team = await queries.team_totals(session, ["31", "32"], Month.of(today), today, settings.kpi_tiers)
        figures = await queries.collections(session, ["31", "32"], Month.of(today), today, settings.kpi_tiers)
    assert (team.members["31"].debtors, team.members["32"].debtors, team.debtors) == (1, 1, 1)  # ООО «Альфа»
    # the supervisor digest's team total (summarize over every position) counts the same
    assert team_total(Month.of(today), list(figures.values()), settings.kpi_tiers).debtors == 1


async def test_a_supervisor_without_a_team_sees_no_departed_managers(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [exports(tmp_path / "a")], zone=MSK, now=datetime(2026, 11, 20, 4, 0))
    async with pool() as session:
        nobody, north, admin = [await session.get(Employee, i) for i in ("6", "5", "1")]
        assert nobody is not None and north is not None and admin is not None
        assert await queries.departed_in_scope(session, nobody) == []
        assert await queries.departed_in_scope(session, north) == []  # 33 had no team
        assert [e.id for e in await queries.departed_in_scope(session, admin)] == ["33"]
