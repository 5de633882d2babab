"""Every message fits, whatever the data: hostile names (HTML, right-to-left marks, emoji and other
astral characters) as long as each column holds (4,000 characters on SQLite) in every field, through
the real Dispatcher and the recording session, which refuses what Telegram would refuse."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import texts
from bot.settings import Settings, load_settings
from db.importer import import_paths
from db.models import Client, Contract, Document, Employee, Interaction, Payment
from db.session import SessionPool, create_engine, create_session_pool
from jobs.digests import build_digest
from tests.telegram import Client as Person
from tests.telegram import telegram_violation, texts_of, utf16
from tests.world import MSK, World

TODAY = date(2019, 2, 25)
HOSTILE = "ООО «Рога & Копыта» <b>жирный</b> &amp; ‏שלום‏ ‮наоборот‬ 😀👨‍👩‍👧‍👦 𝕏 "
M1, M2, SUP, ADMIN = 3001, 3002, 3010, 3099


def hostile(n: object, length: int) -> str:
    """A name of exactly ``length`` characters (code points, as the columns count them)."""
    return (f"{HOSTILE}{n} " + "Ж😀&<" * length)[:length]


async def hostile_company(engine: AsyncEngine, pool: SessionPool) -> None:
    """Two managers, a supervisor and an admin in one team; 25 contracts of the first manager with debt
    and awaited payments; calls and meetings with findings; documents without originals. Every text
    field as long as its column allows (on SQLite, which does not enforce lengths: 4,000)."""
    sqlite = engine.dialect.name == "sqlite"

    def size(limit: int) -> int:
        return 4000 if sqlite else limit

    team = hostile("команда", size(200))
    async with pool() as session, session.begin():
        for eid, role, tg in (("m1", "manager", M1), ("m2", "manager", M2), ("s1", "supervisor", SUP),
                              ("a1", "admin", ADMIN)):  # fmt: skip
            session.add(Employee(id=eid, name=hostile(eid, size(200)), role=role, team=team, telegram_id=tg))
        await session.flush()
        for n in range(25):
            session.add(Client(id=f"k{n}", name=hostile(f"клиент {n}", size(300))))
            await session.flush()
            session.add(Contract(id=f"c{n}", number=hostile(n, size(100)), client_id=f"k{n}",
                                 manager_id="m1" if n < 22 else "m2", start=date(2018, 11, 1), months=None,
                                 monthly_fee=1_234_50 + n, title=hostile("ИТС", size(300))))  # fmt: skip
        await session.flush()
        for n in range(0, 25, 3):
            session.add(Payment(id=f"p{n}", contract_id=f"c{n}", paid_on=date(2019, 2, 5), amount=1_000_00,
                                period=date(2019, 2, 1)))  # fmt: skip
        for n in range(15):
            at = datetime(2019, 2, 22, 9) + timedelta(minutes=10 * n)
            session.add(Interaction(id=f"i{n}", kind="call", direction="out", manager_id="m1", client_id=f"k{n}",
                                    client_name=hostile(f"клиент {n}", size(300)), contact=hostile("лицо", size(300)),
                                    planned_at=at, done_at=None, duration_s=None, status="planned", next_at=None,
                                    subject=hostile("тема", size(500))))  # fmt: skip
            session.add(Document(id=f"d{n}", kind=hostile("Акт", size(100)), number=hostile(n, size(100)),
                                 doc_date=date(2019, 1, 10) + timedelta(days=n), client_id=f"k{n}",
                                 client_name=hostile(f"клиент {n}", size(300)), manager_id="m1",
                                 amount=1_234_50, original_received=False))  # fmt: skip


COMMANDS = ["/start", "/help", "/kpi", "/kpi январь", "/debtors", "/contracts", "/contracts Ж",
            "/contracts " + hostile("поиск", 4000), "/team", "/calls", "/calls неделя", "/docs", "/settings",
            "/kpi Рога", "/debtors Рога", "/calls Рога", "/kpi " + hostile("кто", 4000), "/invite Рога",
            "/settings " + hostile("время", 4000), hostile("просто текст", 4000)]  # fmt: skip


async def press_everything(person: Person, sent: list[Any], limit: int) -> int:
    """Press every button of every message in ``sent`` and of what they show, breadth first, up to
    ``limit`` presses; returns how many were pressed."""
    queue, seen, pressed = list(sent), set(), 0
    while queue and pressed < limit:
        method = queue.pop(0)
        markup = getattr(method, "reply_markup", None)
        if not isinstance(markup, InlineKeyboardMarkup):
            continue
        for button in (b for row in markup.inline_keyboard for b in row):
            if button.callback_data in seen or button.callback_data == "noop" or pressed >= limit:
                continue
            seen.add(button.callback_data)
            pressed += 1
            queue.extend(await person.press(str(button.callback_data), getattr(method, "message_id", None) or 1))
    return pressed


async def test_hostile_names_in_every_field_never_break_a_message(
    engine: AsyncEngine, pool: SessionPool, settings: Settings
) -> None:
    await hostile_company(engine, pool)
    world = World(pool, settings)
    replies: list[str] = []
    pressed = 0
    for tg in (M1, SUP, ADMIN):
        person = world.user(tg)
        for command in COMMANDS:
            sent = await person.send(command)
            replies += texts_of(sent)
            pressed += await press_everything(person, sent, 12)
    assert world.session.violations == []
    assert texts.SOMETHING_WRONG not in replies
    assert pressed > 60  # pages, cards, back buttons, team members' screens were all opened
    assert any("Рога &amp; Копыта" in r and "…" in r for r in replies)  # names arrive escaped and shortened
    assert any("нашлось несколько менеджеров" in r for r in replies)  # "/kpi Рога" names two managers


async def test_every_digest_fits_whatever_the_names(engine: AsyncEngine, pool: SessionPool, settings: Settings) -> None:
    await hostile_company(engine, pool)
    async with pool() as session:
        for employee_id in ("m1", "m2", "s1", "a1"):
            employee = await session.get(Employee, employee_id)
            assert employee is not None
            digest = await build_digest(session, employee, TODAY, settings)
            assert telegram_violation(SendMessage(chat_id=1, text=digest.text)) is None
            assert "Рога &amp; Копыта" in digest.text


async def test_case_15_long_names_from_1c_fit_in_start_contracts_and_team(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """cases/import/15-telegram-message-too-long: an employee named with 4,000 characters and ten
    clients of 500 each; /start and /contracts of that employee and /team of the admin were all
    rejected as "message is too long". (SQLite: PostgreSQL's columns refuse such names at import.)"""
    folder = tmp_path / "exports"
    folder.mkdir()
    employee_name = "Длинный " + "Д" * 4000
    (folder / "employees.csv").write_text(
        f"Код;Сотрудник;Роль;Отдел;Telegram\r\n1;Админ;Администратор;;1001\r\n12;{employee_name};Менеджер;Отдел;1012\r\n",
        encoding="utf-8-sig",
    )
    rows = "".join(f"Д-{n};К-{n};ООО {'Я' * 500} {n};12;01.06.2026;1000,00\r\n" for n in range(10))
    (folder / "contracts.csv").write_text(
        "Код;Код контрагента;Контрагент;Код менеджера;Дата начала;Сумма в месяц\r\n" + rows, encoding="utf-8-sig"
    )
    target = tmp_path / "kpibot.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite+aiosqlite:///{target}"
    engine = create_engine(url)
    try:
        pool = create_session_pool(engine)
        report = await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 29, 6))
        assert report is not None
        world = World(pool, load_settings(bot_token="42:TEST", database_url=url),
                      now=datetime(2026, 11, 29, 10, tzinfo=MSK))  # fmt: skip
        replies = texts_of(await world.user(1012).send("/start")) + texts_of(await world.user(1012).send("/contracts"))
        replies += texts_of(await world.user(1001).send("/team"))
        assert world.session.violations == []
        assert len(replies) == 3 and texts.SOMETHING_WRONG not in replies
        assert replies[0].startswith("Здравствуйте, ДДДД") and "…" in replies[0]
        assert "— 10:" in replies[1] and replies[1].count("ООО ЯЯЯ") == 10  # every contract on the one page
        assert all(utf16(r) <= texts.MAX_MESSAGE for r in replies)
    finally:
        await engine.dispose()


async def test_a_team_of_long_names_is_paged_by_size_and_every_page_fits(
    engine: AsyncEngine, pool: SessionPool, settings: Settings
) -> None:
    """30 managers whose names fill their column: /team cuts its pages by size (fewer than 20 a page),
    every page fits, and paging forward reaches the last manager."""
    length = 4000 if engine.dialect.name == "sqlite" else 200
    async with pool() as session, session.begin():
        session.add(Employee(id="a1", name="Админ", role="admin", team="", telegram_id=ADMIN))
        for n in range(30):
            session.add(Employee(id=f"m{n:02d}", name=f"{n:02d} " + hostile(n, length - 3), role="manager", team="T"))
        await session.flush()
        session.add(Client(id="c-team", name="ООО Данные"))  # one contract: the month has data at all
        await session.flush()
        session.add(Contract(id="k-team", client_id="c-team", manager_id="m00", start=date(2019, 1, 1), months=12,
                             monthly_fee=100000))  # fmt: skip
    world = World(pool, settings)
    admin = world.user(ADMIN)
    sent = await admin.send("/team")
    pages = 1
    while any(b.text == "▶" for m in sent if isinstance(getattr(m, "reply_markup", None), InlineKeyboardMarkup)
              for row in m.reply_markup.inline_keyboard for b in row):  # fmt: skip
        sent = await admin.click(sent, "▶")
        pages += 1
    assert world.session.violations == []
    assert pages > 2  # 20 a page by count; the size cut makes more pages
    assert "29 ООО «Рога &amp; Копыта»" in texts_of(sent)[0]  # the last manager, on the last page
