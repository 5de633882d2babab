"""Handlers as people meet them: callbacks answered once whatever happens, names after /kpi, /debtors
and /calls, the contract card's way back, a contract that moved, one scope rule, the per-chat pace.
Through the real Dispatcher on the demo data, on both databases."""

from __future__ import annotations

import logging

import pytest
from aiogram.exceptions import TelegramRetryAfter
from sqlalchemy import update

from bot import texts
from bot.keyboards import Action, Back, ContractCard, ManagerView, Preference, ScopeView, View, owner_tag
from bot.settings import Settings
from db import queries
from db.models import Contract, Employee
from db.session import SessionPool
from handlers.middlewares import ThrottleMiddleware
from tests.telegram import answers_of, texts_of
from tests.world import ARAKELYAN, IVANOV, SMIRNOVA, SUPERVISOR, World

EXPIRED = "Bad Request: query is too old and response timeout expired or query ID is invalid"


async def digest_time_of(world: World, employee_id: str) -> str | None:
    async with world.pool() as session:
        employee = await queries.get_employee(session, employee_id)
        assert employee is not None
        return employee.digest_time


# --- callbacks answered as infrastructure --------------------------------------------------------------


async def test_an_expired_callback_query_keeps_the_change_the_person_sees(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """cases/realworld/07-expired-callback-rolls-back-settings: "09:30" pressed while the bot was down;
    by the time it is handled Telegram refuses to answer the query. The new time is stored and shown,
    the dead query is not answered twice, nothing is logged as an error."""
    world.session.queue_error("AnswerCallbackQuery", 400, EXPIRED)
    with caplog.at_level(logging.INFO):
        sent = await world.employee(ARAKELYAN).press(Preference(action=Action.TIME, value="0930").pack())
    assert "Утренняя сводка приходит в <b>09:30</b>" in texts_of(sent)[0]
    assert await digest_time_of(world, ARAKELYAN) == "09:30"
    assert len(world.session.of("AnswerCallbackQuery")) == 1
    assert texts.SOMETHING_WRONG not in texts_of(sent)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_failing_button_is_answered_once_and_changes_nothing(world: World) -> None:
    """The screen could not be shown: the person is told once, and the change is not kept either."""
    world.session.queue_error("EditMessageText", 400, "Bad Request: message to edit not found")
    sent = await world.employee(ARAKELYAN).press(Preference(action=Action.TIME, value="0930").pack())
    (answer,) = answers_of(sent)
    assert answer.text == texts.SOMETHING_WRONG and answer.show_alert
    assert await digest_time_of(world, ARAKELYAN) is None


async def test_a_button_of_an_unknown_action_is_stale_not_a_failure(world: World) -> None:
    sent = await world.employee(ARAKELYAN).press("p1:x:1")
    assert [a.text for a in answers_of(sent)] == [texts.STALE]
    sent = await world.employee(ARAKELYAN).press(Preference(action=Action.PAUSE, value="9999").pack())
    assert [a.text for a in answers_of(sent)] == [texts.STALE]


# --- one scope rule ------------------------------------------------------------------------------------


async def test_a_supervisor_without_a_team_sees_only_themself(world: World) -> None:
    async with world.pool() as session, session.begin():
        session.add(Employee(id="s-none", name="Без Команды", role="supervisor", team="", telegram_id=4040))
        session.add(Employee(id="m-none", name="Ничейный Менеджер", role="manager", team="", telegram_id=None))
    supervisor = world.user(4040)
    (team,) = texts_of(await supervisor.send("/team"))
    assert "Ничейный Менеджер" not in team and "В команде нет менеджеров." in team
    for data in (ManagerView(view=View.KPI, manager="m-none"), ManagerView(view=View.DEBTORS, manager=ARAKELYAN)):
        assert [a.text for a in answers_of(await supervisor.press(data.pack()))] == [texts.NOT_YOURS]
    assert "не найден: в вашей команде нет менеджеров" in texts_of(await supervisor.send("/kpi Ничейный"))[0]


# --- asking by name ------------------------------------------------------------------------------------


async def test_a_supervisor_asks_about_a_manager_by_name(world: World) -> None:
    supervisor = world.employee(SUPERVISOR)
    (kpi,) = texts_of(await supervisor.send("/kpi Иванов"))
    assert kpi.startswith("<b>KPI: Иванов Пётр</b>") and "79,37 %" in kpi
    (january,) = texts_of(await supervisor.send("/kpi иванов январь"))
    assert "Сбор за январь 2019" in january
    (debtors,) = texts_of(await supervisor.send("/debtors Аракелян"))
    assert debtors.startswith("<b>Должники: Аракелян Наринэ</b>")
    (calls,) = texts_of(await supervisor.send("/calls Смирнова неделя"))
    assert calls.startswith("<b>Звонки и встречи: Смирнова Ольга</b> — за 7 дней")


async def test_an_ambiguous_or_unknown_name_gets_the_list_of_matches(world: World) -> None:
    supervisor = world.employee(SUPERVISOR)
    (several,) = texts_of(await supervisor.send("/kpi ов"))
    assert "нашлось несколько" in several and "• Иванов Пётр" in several and "• Смирнова Ольга" in several
    (unknown,) = texts_of(await supervisor.send("/debtors Петров"))
    assert "«Петров» не найден" in unknown and "Аракелян Наринэ" in unknown and "Иванов Пётр" in unknown


async def test_a_manager_cannot_ask_about_a_colleague(world: World) -> None:
    (answer,) = texts_of(await world.employee(ARAKELYAN).send("/kpi Иванов"))
    assert answer.startswith("Не понял: «Иванов» — не месяц.")
    (own,) = texts_of(await world.employee(ARAKELYAN).send("/debtors Иванов"))
    assert own.startswith("<b>Ваши должники</b>")


# --- texts and buttons ---------------------------------------------------------------------------------


async def test_the_contract_card_returns_where_it_came_from(world: World) -> None:
    manager = world.employee(ARAKELYAN)
    contracts = await manager.send("/contracts")
    card = await manager.click(contracts, "1")
    back = await manager.click(card, texts.BACK_TO_CONTRACTS)
    assert texts_of(back)[0].startswith("<b>Ваши договоры</b>")
    debtors = await manager.send("/debtors")
    card = await manager.click(debtors, "1")
    back = await manager.click(card, texts.BACK_TO_DEBTORS)
    assert texts_of(back)[0].startswith("<b>Ваши должники</b>")
    supervisor = world.employee(SUPERVISOR)
    kpi = await supervisor.press(ManagerView(view=View.CONTRACTS, manager=IVANOV, page=1).pack())
    card = await supervisor.click(kpi, "11")
    back = await supervisor.click(card, texts.BACK_TO_CONTRACTS)
    assert texts_of(back)[0].startswith("<b>Договоры: Иванов Пётр</b>") and "11. " in texts_of(back)[0]


async def test_an_old_button_of_a_contract_that_moved_says_so(world: World) -> None:
    async with world.pool() as session, session.begin():
        contract = (await queries.contracts_of(session, [ARAKELYAN]))[0]
        session.add(Employee(id="m-b", name="Другой Менеджер", role="manager", team="Другая"))
        await session.flush()
        await session.execute(update(Contract).where(Contract.id == contract.id).values(manager_id="m-b"))
    old = ContractCard(contract=contract.id, back=Back.DEBTORS, owner=owner_tag(ARAKELYAN))
    assert [a.text for a in answers_of(await world.employee(ARAKELYAN).press(old.pack()))] == [texts.CONTRACT_MOVED]
    forged = ContractCard(contract=contract.id, back=Back.DEBTORS, owner=owner_tag("m-b"))
    assert [a.text for a in answers_of(await world.employee(SMIRNOVA).press(forged.pack()))] == [texts.NOT_YOURS]


async def test_a_long_search_is_cut_and_says_so(world: World) -> None:
    (text,) = texts_of(await world.employee(ARAKELYAN).send("/contracts " + "Ромашка" * 30))
    assert "Договоров по запросу «" in text and "…»" in text


async def test_examples_use_the_current_year(world: World) -> None:
    (calls,) = texts_of(await world.employee(ARAKELYAN).send("/calls когда-нибудь"))
    assert calls.startswith("Не понял") and "/calls 25.02.2019" in calls
    (settings,) = texts_of(await world.employee(ARAKELYAN).send("/settings"))
    assert "/settings пауза 15.12.2019" in settings
    (team,) = texts_of(await world.employee(SUPERVISOR).send("/team 2019-13"))
    assert "/team 2019-02" in team and "/team Иванов" not in team
    (kpi,) = texts_of(await world.employee(SUPERVISOR).send("/kpi 2019-13"))
    assert "/kpi Иванов" in kpi  # a supervisor is also told they may name a manager


async def test_a_second_page_numbers_its_rows_on(world: World) -> None:
    manager = world.employee(IVANOV)
    second = await manager.press(ScopeView(view=View.CONTRACTS, page=1).pack())
    assert "11. " in texts_of(second)[0]


# --- the per-chat pace ---------------------------------------------------------------------------------


async def test_the_default_throttle_follows_telegrams_pace_for_one_chat(
    pool: SessionPool, settings: Settings, world: World
) -> None:
    """Telegram allows about one message a second in one chat: six commands tapped at once get three
    replies and one "not so fast" (no reply lost to a 429), then one a second again."""
    frozen = [0.0]
    default = ThrottleMiddleware()
    paced = World(pool, settings, ThrottleMiddleware(default.rate, default.burst, clock=lambda: frozen[0]))
    replies = [texts_of(await paced.employee(ARAKELYAN).send("/kpi")) for _ in range(6)]
    assert sum(1 for r in replies if r and "90,53 %" in r[0]) == 3
    assert sum(1 for r in replies if r == [texts.TOO_FAST]) == 1
    frozen[0] = 1.0
    assert "90,53 %" in texts_of(await paced.employee(ARAKELYAN).send("/kpi"))[0]
    assert texts_of(await paced.employee(ARAKELYAN).send("/kpi")) == [texts.TOO_FAST]  # a new streak


# --- replies are delivered too -------------------------------------------------------------------------


async def test_a_reply_refused_by_flood_control_is_sent_after_retry_after(world: World) -> None:
    world.session.queue_error("SendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    sent = await world.employee(ARAKELYAN).send("/kpi")
    assert len(world.session.of("SendMessage")) == 2  # refused, then sent again
    assert "90,53 %" in texts_of(sent)[-1]


async def test_the_something_went_wrong_answer_is_not_lost_to_flood_control(world: World) -> None:
    world.session.queue_error("SendMessage", 400, "Bad Request: message to be replied not found")
    world.session.queue_error("SendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    sent = await world.employee(ARAKELYAN).send("/kpi")
    assert texts_of(sent)[-1] == texts.SOMETHING_WRONG and len(texts_of(sent)) == 3


async def test_outside_an_update_a_429_is_left_to_the_sender(world: World) -> None:
    world.session.queue_error("SendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    with pytest.raises(TelegramRetryAfter):
        await world.bot.send_message(1001, "сводка")
    assert len(world.session.of("SendMessage")) == 1
