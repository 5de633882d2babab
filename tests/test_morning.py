"""The morning job on the demo data: who is due when, working days only, late starts, stale data,
the month-end statement, the change since the previous digest, what needs a supervisor's attention,
and the buttons and /settings that go with the digest. Every ``now`` is explicit."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot import texts
from bot.keyboards import Open, Preference
from bot.settings import Settings, load_settings
from db.models import DailyFigure, Employee, OutboxMessage
from db.session import SessionPool, create_engine, create_session_pool
from jobs.morning import digest_trigger, enqueue_digests, morning_job
from tests.telegram import answers_of, texts_of
from tests.world import ADMIN, ARAKELYAN, IVANOV, MSK, SMIRNOVA, SUPERVISOR, World

MONDAY = date(2019, 2, 25)  # the demo's day; the data was imported at 07:30 that morning


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK)


async def outbox(pool: SessionPool) -> list[OutboxMessage]:
    async with pool() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


def of(rows: list[OutboxMessage], employee_id: str, kind: str = "digest") -> OutboxMessage:
    (row,) = [r for r in rows if r.employee_id == employee_id and r.kind == kind]
    return row


async def set_employee(pool: SessionPool, employee_id: str, **values: object) -> None:
    async with pool() as session, session.begin():
        await session.execute(update(Employee).where(Employee.id == employee_id).values(**values))


def test_the_trigger_fires_on_every_minute_in_the_office_zone(settings: Settings) -> None:
    trigger = digest_trigger(settings)
    assert trigger.get_next_fire_time(None, at(MONDAY, 8, 59).replace(second=30)) == at(MONDAY, 9, 0)
    assert trigger.get_next_fire_time(None, at(MONDAY, 9, 0).replace(microsecond=1)) == at(MONDAY, 9, 1)
    assert str(trigger.timezone) == "Europe/Moscow"


async def test_digests_are_enqueued_at_digest_time_once(world: World) -> None:
    assert (await enqueue_digests(world.pool, world.settings, at(MONDAY, 8, 59))).added == 0
    result = await enqueue_digests(world.pool, world.settings, at(MONDAY, 9, 0))
    assert (result.working_day, result.employees, result.added) == (True, 5, 5)
    assert (await enqueue_digests(world.pool, world.settings, at(MONDAY, 9, 1))).added == 0
    rows = await outbox(world.pool)
    assert {(r.kind, r.day, r.status) for r in rows} == {("digest", MONDAY, "pending")}
    assert "Сбор за февраль 2019: <b>90,53 %</b> — KPI <b>0,2</b>" in of(rows, ARAKELYAN).text
    assert of(rows, ARAKELYAN).chat_id == 1001
    buttons = json.loads(of(rows, ARAKELYAN).markup or "{}")["inline_keyboard"]
    assert [b["callback_data"] for row in buttons for b in row] == ["o1:k", "o1:d", "o1:c", "o1:s"]
    assert all(len(r.text) <= texts.MAX_MESSAGE for r in rows)


async def test_nothing_on_days_off(world: World) -> None:
    for day in (date(2019, 2, 23), date(2019, 2, 24), date(2019, 3, 8), date(2019, 5, 9)):
        result = await enqueue_digests(world.pool, world.settings, at(day, 12))
        assert not result.working_day and result.added == 0
    assert await outbox(world.pool) == []


async def test_a_late_start_sends_todays_digests_and_never_yesterdays(world: World) -> None:
    result = await enqueue_digests(world.pool, world.settings, at(MONDAY, 15, 30))
    assert result.added == 5
    assert {r.day for r in await outbox(world.pool)} == {MONDAY}


async def test_personal_time_pause_and_blocked_users(world: World) -> None:
    await set_employee(world.pool, IVANOV, digest_time="10:30")
    await set_employee(world.pool, SMIRNOVA, paused_until=date(2019, 2, 26))
    await set_employee(world.pool, SUPERVISOR, unreachable_since=datetime(2019, 2, 1))
    await enqueue_digests(world.pool, world.settings, at(MONDAY, 9, 0))
    assert {r.employee_id for r in await outbox(world.pool)} == {ARAKELYAN, ADMIN}
    await enqueue_digests(world.pool, world.settings, at(MONDAY, 10, 29))
    assert IVANOV not in {r.employee_id for r in await outbox(world.pool)}
    await enqueue_digests(world.pool, world.settings, at(MONDAY, 10, 30))
    assert {r.employee_id for r in await outbox(world.pool)} == {ARAKELYAN, ADMIN, IVANOV}
    await enqueue_digests(world.pool, world.settings, at(date(2019, 2, 26), 9))  # the last day of the pause
    assert SMIRNOVA not in {r.employee_id for r in await outbox(world.pool)}
    await enqueue_digests(world.pool, world.settings, at(date(2019, 2, 27), 9))
    assert SMIRNOVA in {r.employee_id for r in await outbox(world.pool)}
    assert SUPERVISOR not in {r.employee_id for r in await outbox(world.pool)}


async def test_stale_data_is_said_at_the_top_and_admins_are_told(world: World) -> None:
    await enqueue_digests(world.pool, world.settings, at(MONDAY, 9))
    rows = await outbox(world.pool)
    assert not any("не обновлялись" in r.text for r in rows)  # imported this morning
    wednesday = date(2019, 2, 27)  # the previous working day (Tuesday) brought no import
    await enqueue_digests(world.pool, world.settings, at(wednesday, 9))
    rows = [r for r in await outbox(world.pool) if r.day == wednesday]
    digest = of(rows, IVANOV).text
    assert digest.startswith("⚠️ <b>Данные 1С не обновлялись с 25.02 07:30: цифры ниже могут быть устаревшими.</b>")
    notice = of(rows, ADMIN, "stale").text
    assert "Данные 1С не обновлялись с 25.02 07:30" in notice and "26.02.2019" in notice
    assert {r.kind for r in rows} == {"digest", "stale"}
    assert [r.employee_id for r in rows if r.kind == "stale"] == [ADMIN]


async def test_the_first_working_day_brings_the_frozen_statement_of_the_month(world: World) -> None:
    march_first = date(2019, 3, 1)  # a Friday, the first working day of March
    await enqueue_digests(world.pool, world.settings, at(march_first, 9))
    rows = await outbox(world.pool)
    statement = of(rows, ARAKELYAN, "statement").text
    assert "Итоги февраля 2019" in statement
    assert "Сбор: <b>90,53 %</b> — KPI <b>0,2</b>" in statement
    assert "База 263 492 ₽ · оплачено 238 539 ₽" in statement
    assert "79,37 %" in of(rows, IVANOV, "statement").text
    assert of(rows, ARAKELYAN, "statement").document is None  # a manager's statement is text only
    for head in (SUPERVISOR, ADMIN):  # the month-end table for payroll is attached (tests/test_reports.py)
        assert of(rows, head, "statement").document_name == "kpi-itogi-2019-02.xlsx"
    await enqueue_digests(world.pool, world.settings, at(date(2019, 3, 4), 9))  # Monday: no statement again
    assert len([r for r in await outbox(world.pool) if r.kind == "statement"]) == 5


async def test_change_since_the_previous_digest_and_whose_percent_fell(world: World) -> None:
    await enqueue_digests(world.pool, world.settings, at(MONDAY, 9))
    async with world.pool() as session, session.begin():
        figures = {f.manager_id: f for f in (await session.execute(select(DailyFigure))).scalars()}
        assert figures[ARAKELYAN].percent == Decimal("90.53") and figures[ARAKELYAN].paid == 23853900
        figures[ARAKELYAN].percent = Decimal("88.00")  # as if she had collected less yesterday
        figures[IVANOV].percent = Decimal("80.00")  # as if his percent had been higher
    tuesday = date(2019, 2, 26)
    await enqueue_digests(world.pool, world.settings, at(tuesday, 9))
    rows = [r for r in await outbox(world.pool) if r.day == tuesday]
    assert "С прошлой сводки: +2,53 п.п." in of(rows, ARAKELYAN).text
    assert "С прошлой сводки: −0,63 п.п." in of(rows, IVANOV).text
    assert "С прошлой сводки: без изменений" in of(rows, SMIRNOVA).text
    team = of(rows, SUPERVISOR).text
    assert "<b>Процент упал:</b>\n• Иванов Пётр: 79,37 % (было 80,00 %)" in team
    assert "Аракелян Наринэ: 90,53 % (было" not in team
    assert "<b>Долги старше 45 дней:</b> 10\n• ИП «Мир окон» — 24 000 ₽, 87 дней (Аракелян Наринэ)" in team


async def test_no_change_line_on_the_first_digest_of_a_month(world: World) -> None:
    await enqueue_digests(world.pool, world.settings, at(MONDAY, 9))
    await enqueue_digests(world.pool, world.settings, at(date(2019, 3, 1), 9))
    march = [r for r in await outbox(world.pool) if r.day == date(2019, 3, 1) and r.kind == "digest"]
    assert march and not any("С прошлой сводки" in r.text for r in march)


async def test_the_scheduled_job_enqueues_and_wakes_the_sender(world: World) -> None:
    woken = []
    job = morning_job(world.pool, world.settings, lambda: at(MONDAY, 9, 0), lambda: woken.append(True))
    await job()
    await job()
    assert woken == [True]  # the second run added nothing and woke nobody
    assert len(await outbox(world.pool)) == 5


async def test_the_job_survives_a_failure_and_logs_it(world: World, caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine("sqlite+aiosqlite:////nonexistent/dir/kpibot.db")
    woken = []
    job = morning_job(create_session_pool(engine), world.settings, lambda: at(MONDAY, 9), lambda: woken.append(1))
    await job()  # must not raise into the scheduler
    await engine.dispose()
    assert "the morning job failed" in caplog.text and woken == []


async def test_working_calendar_none_sends_every_weekday(world: World) -> None:
    settings = load_settings(bot_token="42:TEST", database_url=world.settings.database_url, work_calendar="none")
    assert (await enqueue_digests(world.pool, settings, at(date(2019, 3, 8), 9))).employees == 5
    assert not (await enqueue_digests(world.pool, settings, at(date(2019, 3, 9), 9))).working_day


# --- the digest's buttons and /settings ------------------------------------------------------------------


async def test_digest_buttons_open_a_new_message_and_respect_roles(world: World) -> None:
    manager = world.employee(ARAKELYAN)
    sent = await manager.press(Open(view="d").pack())
    assert [type(m).__name__ for m in sent] == ["SendMessage", "AnswerCallbackQuery"]  # the digest stays
    assert texts_of(sent)[0].startswith("<b>Ваши должники")
    sent = await manager.press(Open(view="t").pack())
    assert texts_of(sent) == [] and answers_of(sent)[0].text == texts.NOT_YOURS
    sent = await world.employee(SUPERVISOR).press(Open(view="t").pack())
    assert "Аракелян Наринэ" in texts_of(sent)[0]
    sent = await world.employee(IVANOV).press(Open(view="k").pack())
    assert "79,37 %" in texts_of(sent)[0]


async def test_settings_set_a_time_a_pause_and_resume(world: World) -> None:
    manager = world.employee(IVANOV)
    sent = await manager.send("/settings")
    assert "Утренняя сводка приходит в <b>09:00</b> (общее время)" in texts_of(sent)[0]
    sent = await manager.send("/settings 8:45")
    assert "приходит в <b>08:45</b> (ваше время; общее — 09:00)" in texts_of(sent)[0]
    sent = await manager.send("/settings пауза 01.03.2019")
    assert "на паузе</b> по 01.03.2019 включительно" in texts_of(sent)[0]
    async with world.pool() as session:
        employee = await session.get(Employee, IVANOV)
        assert employee is not None and employee.digest_time == "08:45"
        assert employee.paused_until == date(2019, 3, 1)
    sent = await manager.send("/settings пауза 01.01.2019")
    assert texts_of(sent)[0].startswith("Не понял: 01.01.2019 уже прошло")
    sent = await manager.send("/settings 25:00")
    assert texts_of(sent)[0].startswith("Не понял: «25:00» — не время")
    sent = await manager.click(await manager.send("/settings"), "▶️ Возобновить сводки")
    assert "Пауза: нет" in texts_of(sent)[0]
    sent = await manager.press(Preference(action="p", value="7").pack())
    assert "по 03.03.2019 включительно" in texts_of(sent)[0]
    sent = await manager.press(Preference(action="t", value="0730").pack())
    assert "<b>07:30</b>" in texts_of(sent)[0]
    sent = await manager.press(Preference(action="d").pack())
    assert "<b>09:00</b> (общее время)" in texts_of(sent)[0]
    sent = await manager.press(Preference(action="p", value="9999").pack())
    assert answers_of(sent)[0].text == texts.STALE


async def test_writing_to_the_bot_again_makes_a_blocked_user_reachable(world: World) -> None:
    await set_employee(world.pool, IVANOV, unreachable_since=datetime(2019, 2, 20))
    await world.employee(IVANOV).send("/kpi")
    async with world.pool() as session:
        employee = await session.get(Employee, IVANOV)
        assert employee is not None and employee.unreachable_since is None
    assert (await enqueue_digests(world.pool, world.settings, at(MONDAY + timedelta(days=1), 9))).employees == 5


async def test_team_totals_from_the_cache_equal_the_full_computation_and_a_new_import_refreshes_them(
    world: World, tmp_path: Path
) -> None:
    from bot.rules import Month
    from db import queries
    from db.importer import import_paths
    from tests.factories import PAYMENTS_HEADER, write_csv

    month, today, tiers = Month(2019, 2), MONDAY, world.settings.kpi_tiers
    managers = [ARAKELYAN, IVANOV, SMIRNOVA]
    async with world.pool() as session, session.begin():
        full = await queries.collections(session, managers, month, today, tiers)
        first = await queries.collection_totals(session, managers, month, today, tiers)  # computes, caches
        cached = await queries.collection_totals(session, managers, month, today, tiers)  # reads the cache
    for manager in managers:
        expected = full[manager].collection
        for got in (first[manager], cached[manager]):
            assert (got.base, got.paid, got.awaiting, got.debt, got.debtors, got.percent, got.coefficient) == (
                expected.base, expected.paid, expected.awaiting, expected.debt, expected.debtors, expected.percent,
                expected.coefficient)  # fmt: skip
    before = texts_of(await world.employee(SUPERVISOR).send("/team"))[0]
    assert "Смирнова Ольга: 67,53 %" in before
    async with world.pool() as session:
        contract = next(
            c for c in await queries.contracts_of(session, [SMIRNOVA]) if c.client.startswith("ИП «Фортуна")
        )
    write_csv(
        tmp_path / "payments.csv", PAYMENTS_HEADER, [["late-1", contract.id, "25.02.2019", "2 900,00", "02.2019"]]
    )
    await import_paths(world.pool, [tmp_path / "payments.csv"], zone=MSK, now=datetime(2019, 2, 25, 8, 0))
    after = texts_of(await world.employee(SUPERVISOR).send("/team"))[0]
    assert "Смирнова Ольга: 67,53 %" not in after and "Смирнова Ольга: 71,70 %" in after


async def test_a_replay_of_a_morning_before_the_first_import_says_its_figures_come_from_later_data(
    world: World,
) -> None:
    """A replay reads the imports made since (issue 11: "given the same imports"), so the morning of
    Friday 22 February, before the import of Monday 07:30, shows figures: its top line says they come
    from data loaded later instead of calling them empty."""
    from jobs.digests import build_digest, morning

    friday = date(2019, 2, 22)
    async with world.pool() as session:
        context = await morning(session, friday, world.settings, at(friday, 9))
        assert context.stale and context.imported_at is None and context.imported_later
        employee = await session.get(Employee, ARAKELYAN)
        assert employee is not None
        text = (await build_digest(session, employee, friday, world.settings, context)).text
    assert "Данные 1С к этому утру ещё не загружались: цифры ниже — по выгрузкам, загруженным позже." in text
    assert "цифры ниже пустые" not in text and "%</b> — KPI" in text  # the figures are there, as said


async def test_a_replayed_day_tells_no_admin_that_the_data_are_late(world: World) -> None:
    """``kpibot digest --send --date D`` (``close=False``) replays D's digests, stale line included,
    but the admins' "данные не обновлялись" notice is for the present only."""
    wednesday = date(2019, 2, 27)  # stale as of that morning (see the test above)
    await enqueue_digests(world.pool, world.settings, at(wednesday, 9), any_time=True, close=False)
    rows = [r for r in await outbox(world.pool) if r.day == wednesday]
    assert {r.kind for r in rows} == {"digest"}
    assert of(rows, IVANOV).text.startswith("⚠️ <b>Данные 1С не обновлялись с 25.02 07:30")
