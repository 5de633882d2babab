"""The bot, through the real Dispatcher built by ``create_dispatcher`` and a recording session,
on the demo data in a real database."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest

from bot import texts
from bot.demo import DEMO_IMPORTED_AT_UTC, DEMO_TODAY
from bot.keyboards import Back, ContractCard, ManagerView, ScopeView, TeamView, View, button, owner_tag
from bot.settings import Settings
from db import queries
from db.importer import import_paths
from db.models import Employee
from db.session import SessionPool
from handlers.middlewares import ThrottleMiddleware
from jobs.digests import build_digest
from tests.factories import CONTRACTS_HEADER, EMPLOYEES_HEADER, PAYMENTS_HEADER, write_csv
from tests.telegram import answers_of, texts_of
from tests.world import ADMIN, ARAKELYAN, IVANOV, MSK, SMIRNOVA, SUPERVISOR, World, link_all

# --- access ---------------------------------------------------------------------------------------------


async def test_unlinked_user_gets_one_short_refusal_and_no_data(world: World) -> None:
    stranger = world.user(5555)
    for text in ["/start", "/kpi", "/debtors", "/team", "привет"]:
        sent = await stranger.send(text)
        assert texts_of(sent) == [texts.NO_ACCESS]
    sent = await stranger.press(ContractCard(contract="Д-0001").pack())
    assert [a.text for a in answers_of(sent)] == [texts.NO_ACCESS]
    assert texts_of(sent) == []


async def test_invite_link_links_once_and_refuses_a_second_use(pool: SessionPool, settings: Settings,
                                                               demo_exports: Path) -> None:  # fmt: skip
    await import_paths(pool, [demo_exports], zone=MSK, now=DEMO_IMPORTED_AT_UTC)
    world = World(pool, settings)
    async with pool() as session, session.begin():
        invite = await queries.create_invite(session, IVANOV, datetime(2019, 2, 25, 6))
    sent = await world.user(2002).send(f"/start {invite.token}")
    assert texts_of(sent)[0].startswith("Здравствуйте, Пётр! Вы — менеджер.")
    assert world.session.of("SetMyCommands")[-1].scope.chat_id == 2002
    assert texts_of(await world.user(2002).send("/kpi"))[0].startswith("<b>Ваш KPI</b>")
    second = await world.user(3003).send(f"/start {invite.token}")
    assert texts_of(second) == [texts.INVITE_RESULTS["used"]]
    assert texts_of(await world.user(3003).send("/kpi")) == [texts.NO_ACCESS]


async def test_expired_and_unknown_invites_are_refused(pool: SessionPool, settings: Settings,
                                                       demo_exports: Path) -> None:  # fmt: skip
    await import_paths(pool, [demo_exports], zone=MSK, now=DEMO_IMPORTED_AT_UTC)
    world = World(pool, settings)
    async with pool() as session, session.begin():
        old = await queries.create_invite(session, IVANOV, datetime(2019, 2, 1))
    assert texts_of(await world.user(2002).send(f"/start {old.token}")) == [texts.INVITE_RESULTS["expired"]]
    assert texts_of(await world.user(2002).send("/start nosuchtoken")) == [texts.INVITE_RESULTS["unknown"]]


async def test_manager_pressing_a_forged_callback_for_another_managers_contract_sees_nothing(world: World) -> None:
    async with world.pool() as session:
        smirnova = (await queries.contracts_of(session, [SMIRNOVA]))[0]
    manager = world.employee(ARAKELYAN)
    for data in [ContractCard(contract=smirnova.id), ManagerView(view=View.DEBTORS, manager=SMIRNOVA),
                 ManagerView(view=View.KPI, manager=SMIRNOVA), ManagerView(view=View.CONTRACTS, manager=IVANOV),
                 TeamView()]:  # fmt: skip
        sent = await manager.press(data.pack())
        assert [a.text for a in answers_of(sent)] == [texts.NOT_YOURS]
        assert texts_of(sent) == []


async def test_supervisor_of_team_a_cannot_see_a_manager_of_team_b(world: World) -> None:
    async with world.pool() as session, session.begin():
        session.add(Employee(id="m-b", name="Чужой Менеджер", role="manager", team="Другая", active=True))
    supervisor = world.employee(SUPERVISOR)
    sent = await supervisor.press(ManagerView(view=View.KPI, manager="m-b").pack())
    assert [a.text for a in answers_of(sent)] == [texts.NOT_YOURS]
    team = texts_of(await supervisor.send("/team"))[0]
    assert "Чужой Менеджер" not in team and "Аракелян Наринэ" in team
    admin_team = texts_of(await world.employee(ADMIN).send("/team"))[0]
    assert "Чужой Менеджер" in admin_team


# --- numbers equal the digest ---------------------------------------------------------------------------


async def test_kpi_shows_the_same_numbers_as_the_digest(world: World) -> None:
    sent = texts_of(await world.employee(ARAKELYAN).send("/kpi"))[0]
    async with world.pool() as session:
        employee = await queries.get_employee(session, ARAKELYAN)
        assert employee is not None
        digest = await build_digest(session, employee, DEMO_TODAY, world.settings)
    for line in ["Сбор за февраль 2019: <b>90,53 %</b> — KPI <b>0,2</b>",
                 "База 263 492 ₽ · оплачено 238 539 ₽ · ждём 24 953 ₽", "Долг: <b>28 800 ₽</b>, 3 должника",
                 "данные 1С на 25.02 07:30"]:  # fmt: skip
        assert line in sent
        assert line in digest.text


async def test_kpi_for_a_named_month(world: World) -> None:
    sent = texts_of(await world.employee(ARAKELYAN).send("/kpi январь"))[0]
    assert "Сбор за январь 2019" in sent
    sent = texts_of(await world.employee(ARAKELYAN).send("/kpi 2019-01"))[0]
    assert "Сбор за январь 2019" in sent


async def test_bad_month_argument_gets_a_helpful_answer(world: World) -> None:
    (answer,) = texts_of(await world.employee(ARAKELYAN).send("/kpi abc"))
    assert answer.startswith("Не понял: «abc» — не месяц.") and "/kpi 2019-02" in answer  # this year's example


async def test_team_lists_managers_worst_first_with_total_and_buttons(world: World) -> None:
    sent = await world.employee(SUPERVISOR).send("/team")
    (text,) = texts_of(sent)
    assert text.index("Смирнова Ольга") < text.index("Иванов Пётр") < text.index("Аракелян Наринэ")
    assert "Команда «Сопровождение»" in text and "84,03 %" in text
    kpi = await world.employee(SUPERVISOR).click(sent, "Аракелян Наринэ")
    assert "90,53 %" in texts_of(kpi)[0] and len(answers_of(kpi)) == 1
    debtors = await world.employee(SUPERVISOR).click(kpi, "Должники")
    assert texts_of(debtors)[0].startswith("<b>Должники: Аракелян Наринэ</b>")


async def test_manager_cannot_use_team(world: World) -> None:
    assert "руководителям" in texts_of(await world.employee(ARAKELYAN).send("/team"))[0]


# --- lists, cards, escaping ----------------------------------------------------------------------------------


async def test_debtors_largest_first_with_awaiting_apart_and_cards(world: World) -> None:
    sent = await world.employee(ARAKELYAN).send("/debtors")
    (text,) = texts_of(sent)
    assert text.index("<b>Долг</b> — 28 800 ₽") < text.index("<b>Ждём оплату за февраль 2019</b>")
    assert "24 000 ₽" in text.split("\n")[3]  # the largest debt first (December + January)
    card = await world.employee(ARAKELYAN).click(sent, "1")
    card_text = texts_of(card)[0]
    assert "Долг: <b>24 000 ₽</b> с декабря 2018" in card_text
    assert "Абонентская плата: 12 000 ₽/мес" in card_text
    assert len(answers_of(card)) == 1


async def test_hostile_client_names_arrive_escaped(world: World) -> None:
    (text,) = texts_of(await world.employee(SMIRNOVA).send("/contracts Рога"))
    assert "ООО «Рога &amp; Копыта» &lt;b&gt;" in text


async def test_contract_search_by_number(world: World) -> None:
    (text,) = texts_of(await world.employee(ARAKELYAN).send("/contracts РС-0003"))
    assert "— 1 по запросу «РС-0003»" in text


async def test_manager_with_300_contracts_gets_pages_within_telegram_limits(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    long_name = "ООО «Очень длинное название клиента & партнёры <группа компаний>»"
    write_csv(
        tmp_path / "employees.csv", EMPLOYEES_HEADER, [["m1", "Большой Менеджер", "manager", "A", "", "7001", ""]]
    )
    write_csv(tmp_path / "contracts.csv", CONTRACTS_HEADER,
              [[f"c{i:03d}", f"N-{i}", f"k{i}", f"{long_name} {i}", "m1", "01.01.2019", "", "1500", "ИТС", ""]
               for i in range(300)])  # fmt: skip
    write_csv(tmp_path / "payments.csv", PAYMENTS_HEADER,
              [[f"p{i}", f"c{i:03d}", "05.01.2019", "1500", ""] for i in range(0, 300, 2)])  # fmt: skip
    await import_paths(pool, [tmp_path], zone=MSK, now=DEMO_IMPORTED_AT_UTC)
    world = World(pool, settings)
    client = world.user(7001)
    sent = await client.send("/contracts")
    assert "— 300:" in texts_of(sent)[0] and "1/30" in str(sent[-1].reply_markup)
    for _ in range(3):
        sent = await client.click(sent, "▶")
        assert len(answers_of(sent)) == 1
    assert "31. " in texts_of(sent)[0]
    debtors = await client.send("/debtors")
    assert "1/45" in str(debtors[-1].reply_markup)  # 150 debtors and 300 awaiting, 10 a page
    last = await client.press(ScopeView(view=View.DEBTORS, page=44).pack())
    assert "450. " in texts_of(last)[0]


async def test_every_callback_is_answered_even_unknown_and_page_counters(world: World) -> None:
    manager = world.employee(ARAKELYAN)
    for data in ["noop", "garbage", "c1:", ScopeView(view=View.CONTRACTS, page=999).pack()]:
        assert len(answers_of(await manager.press(data))) == 1


def test_callback_data_fit_in_64_bytes_or_the_button_is_left_out() -> None:
    longest = ManagerView(view=View.CONTRACTS, manager="Ж" * 20, page=9999, month="2019-12")
    assert len(longest.pack().encode()) <= 64
    card = {"back": Back.MANAGER_CONTRACTS, "page": 999, "owner": owner_tag("000000001")}
    assert button("x", ContractCard(contract="Д" * 20, **card)) is not None  # 55 bytes packed: fits
    assert button("x", ContractCard(contract="0f8fad5b-d9cb-469f-a165-70867728950e", **card)) is not None  # a GUID
    assert button("x", ContractCard(contract="Д" * 25, **card)) is None  # 65 bytes: no broken button


# --- robustness ------------------------------------------------------------------------------------------------


async def test_a_failing_handler_is_logged_and_the_user_told(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.session.queue_error("SendMessage", 400, "Bad Request: can't parse entities")
    with caplog.at_level(logging.ERROR):
        sent = await world.employee(ARAKELYAN).send("/kpi")
    assert texts_of(sent)[-1] == texts.SOMETHING_WRONG
    assert any("failed" in r.getMessage() for r in caplog.records)
    assert "90,53 %" in texts_of(await world.employee(ARAKELYAN).send("/kpi"))[0]  # still serving


async def test_a_burst_from_one_user_is_throttled_without_starving_others(
    pool: SessionPool, settings: Settings, demo_exports: Path
) -> None:
    await import_paths(pool, [demo_exports], zone=MSK, now=DEMO_IMPORTED_AT_UTC)
    await link_all(pool)
    frozen = [0.0]
    world = World(pool, settings, ThrottleMiddleware(rate=1.0, burst=3, clock=lambda: frozen[0]))
    spammer = world.employee(ARAKELYAN)
    replies = [texts_of(await spammer.send("/kpi")) for _ in range(10)]
    assert sum(1 for r in replies if r and "90,53 %" in r[0]) == 3
    assert sum(1 for r in replies if r == [texts.TOO_FAST]) == 1  # one notice, then silence
    assert "79,37 %" in texts_of(await world.employee(IVANOV).send("/kpi"))[0]
    frozen[0] = 2.0
    assert "90,53 %" in texts_of(await spammer.send("/kpi"))[0]


async def test_help_and_free_text(world: World) -> None:
    help_text = texts_of(await world.employee(ADMIN).send("/help"))[0]
    assert "/team" in help_text and "/invite" in help_text
    assert "/invite" not in texts_of(await world.employee(ARAKELYAN).send("/help"))[0]
    assert texts_of(await world.employee(ARAKELYAN).send("как дела?")) == [texts.HINT]
    assert texts_of(await world.employee(ARAKELYAN).send("/nonsense")) == [texts.HINT]


async def test_admin_invites_by_part_of_the_name(world: World) -> None:
    (text,) = texts_of(await world.employee(ADMIN).send("/invite Иванов"))
    assert "Приглашение — <b>Иванов Пётр</b>" in text and "https://t.me/kpi_test_bot?start=" in text
    assert "уточните" in texts_of(await world.employee(ADMIN).send("/invite ов"))[0]
    assert "администратор" in texts_of(await world.employee(ARAKELYAN).send("/invite Иванов"))[0]


async def test_linking_survives_a_failing_set_my_commands(pool: SessionPool, settings: Settings,
                                                          demo_exports: Path) -> None:  # fmt: skip
    await import_paths(pool, [demo_exports], zone=MSK, now=DEMO_IMPORTED_AT_UTC)
    world = World(pool, settings)
    async with pool() as session, session.begin():
        invite = await queries.create_invite(session, SMIRNOVA, datetime(2019, 2, 25, 6))
    world.session.queue_error("SetMyCommands", 500, "Internal Server Error")
    sent = await world.user(4004).send(f"/start {invite.token}")
    assert texts_of(sent)[0].startswith("Здравствуйте, Ольга!")
    assert "67,53 %" in texts_of(await world.user(4004).send("/kpi"))[0]
