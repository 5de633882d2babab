"""A whole day end to end: 1C interactions and documents and the PBX's Master.csv (in each of its
shapes) imported through the real importer, then the morning: the manager's digest, /calls, /docs,
and the supervisor's column and escalations, each equal to what the rules give by hand.

The day: the digest of Tuesday 26.02.2019 reports Monday 25.02. Аракелян (m1, extension 101):
- i4, a call planned for 11:00, neither done nor cancelled                       → not done
- PBX: an answered incoming call from +7 903 555-00-00 at 09:30, 3 billed seconds → abnormal duration
- i1, a call typed into 1C as 12 s at 10:00: no PBX call of 101 within 5 minutes, so
  its typed duration is judged                                                  → abnormal duration
- i3, a meeting done at 15:00 with no contact person                             → no contact
- i5, a call done at 16:00 with nothing planned after it                         → no follow-up
  (i1 is followed by i2, planned for 27.02)
- PBX: a missed call from +7 916 123-45-67 at 12:00, called back at 16:30 (4 h 30) → missed
  (a missed call at 13:00 from +7 903 777-00-00 was returned at 16:59: 3 h 59, fine)
- documents: d1 of 20.01 (37 days, over 30 → escalated), d3 of 20.02 (6 days); d2 of 21.02 is 5 days
  old (still within grace), d4's original came back.
Петров (m2, team B, no PBX records): i6, a 60 s call at 12:00 with no contact → no contact (not "no
follow-up": Аракелян's call i5 with the same client at 16:00 came after it).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from bot.keyboards import CallsView
from bot.settings import Settings
from db.importer import import_paths
from db.models import Employee
from db.session import SessionPool
from jobs.digests import build_digest, morning
from tests.factories import DOCUMENTS_HEADER, EMPLOYEES_HEADER, INTERACTIONS_HEADER, small_exports, write_csv
from tests.telegram import texts_of
from tests.world import MSK, World

TUESDAY = date(2019, 2, 26)
NOW = datetime(2019, 2, 26, 9, 0, tzinfo=MSK)
IMPORTED = datetime(2019, 2, 26, 3, 0)  # UTC: 06:00 in Moscow, the nightly import
M1_CHAT, M2_CHAT, S1_CHAT = 2001, 2002, 2010


def cdr(n: int, shape: int, src: str, dst: str, channel: str, dstchannel: str, start: str, answer: str, end: str,
        duration: int, billsec: int, disposition: str) -> list[str]:  # fmt: skip
    row = ["", src, dst, "from-trunk", f'"" <{src}>', channel, dstchannel, "Dial", "", start, answer, end,
           str(duration), str(billsec), disposition, "DOCUMENTATION"]  # fmt: skip
    extra = {16: [], 18: [f"1551000000.{n}", ""], 21: [f"1551000000.{n}", "", "", f"1551000000.{n}", str(n)]}
    return row + extra[shape]


def day_exports(folder: Path, shape: int) -> Path:
    small_exports(folder)
    write_csv(folder / "employees.csv", EMPLOYEES_HEADER, [
        ["m1", "Аракелян Наринэ", "manager", "A", "101", str(M1_CHAT), "1"],
        ["m2", "Петров Пётр", "manager", "B", "102", str(M2_CHAT), "1"],
        ["s1", "Кузнецова Марина", "supervisor", "A", "110", str(S1_CHAT), "1"],
        ["a1", "Соколов Андрей", "admin", "", "", "", "1"],
    ])  # fmt: skip
    write_csv(folder / "interactions.csv", INTERACTIONS_HEADER, [
        ["i1", "Звонок", "Исходящий", "m1", "k1", "ООО «Ромашка»", "Иванов И.", "", "25.02.2019 10:00", "12",
         "Выполнено", "", "ИТС"],
        ["i2", "Звонок", "Исходящий", "m1", "k1", "ООО «Ромашка»", "Иванов И.", "27.02.2019 10:00", "", "",
         "Запланировано", "", "продление"],
        ["i3", "Встреча", "", "m1", "k2", "ИП Смирнов", "", "", "25.02.2019 15:00", "3600", "Выполнено",
         "01.03.2019 10:00", "обучение"],
        ["i4", "Звонок", "Исходящий", "m1", "k2", "ИП Смирнов", "Смирнов А.", "25.02.2019 11:00", "", "",
         "Запланировано", "", "счёт"],
        ["i5", "Звонок", "Входящий", "m1", "k3", "АО «Вектор»", "Сидорова Е.", "", "25.02.2019 16:00", "300",
         "Выполнено", "", "вопрос"],
        ["i6", "Звонок", "Исходящий", "m2", "k3", "АО «Вектор»", "", "", "25.02.2019 12:00", "60", "Выполнено", "",
         ""],
    ])  # fmt: skip
    write_csv(folder / "documents.csv", DOCUMENTS_HEADER, [
        ["d1", "Акт", "15", "20.01.2019", "k1", "ООО «Ромашка»", "m1", "2 818,50", "Нет", ""],
        ["d2", "Счёт-фактура", "16", "21.02.2019", "k2", "ИП Смирнов", "m1", "3000", "Нет", ""],
        ["d3", "Акт", "17", "20.02.2019", "k2", "ИП Смирнов", "m1", "3000", "", ""],
        ["d4", "Акт", "18", "01.02.2019", "k3", "АО «Вектор»", "m1", "1500", "Да", "10.02.2019"],
    ])  # fmt: skip
    rows = [
        cdr(1, shape, "+79035550000", "101", "SIP/trunk-1", "SIP/101-1", "2019-02-25 09:30:00",
            "2019-02-25 09:30:04", "2019-02-25 09:30:07", 7, 3, "ANSWERED"),
        cdr(2, shape, "+79161234567", "101", "SIP/trunk-2", "SIP/101-2", "2019-02-25 12:00:00", "",
            "2019-02-25 12:00:30", 30, 0, "NO ANSWER"),
        cdr(3, shape, "101", "89161234567", "SIP/101-3", "SIP/trunk-3", "2019-02-25 16:30:00",
            "2019-02-25 16:30:10", "2019-02-25 16:31:50", 110, 100, "ANSWERED"),
        cdr(4, shape, "+79037770000", "101", "SIP/trunk-4", "SIP/101-4", "2019-02-25 13:00:00", "",
            "2019-02-25 13:00:20", 20, 0, "BUSY"),
        cdr(5, shape, "101", "+79037770000", "SIP/101-5", "SIP/trunk-5", "2019-02-25 16:59:00",
            "2019-02-25 16:59:05", "2019-02-25 17:00:00", 60, 55, "ANSWERED"),
    ]  # fmt: skip
    write_csv(folder / "Master.csv", None, rows, delimiter=",", quoting=1)  # QUOTE_ALL, as Asterisk writes
    return folder


@pytest.fixture(params=[16, 18, 21], ids=lambda shape: f"cdr{shape}")
async def day(request: pytest.FixtureRequest, pool: SessionPool, settings: Settings, tmp_path: Path) -> World:
    await import_paths(pool, [day_exports(tmp_path / "exports", request.param)], zone=MSK, now=IMPORTED)
    return World(pool, settings, now=NOW)


async def digest_of(day: World, employee_id: str) -> str:
    async with day.pool() as session:
        context = await morning(session, TUESDAY, day.settings, NOW)
        employee = await session.get(Employee, employee_id)
        assert employee is not None
        return (await build_digest(session, employee, TUESDAY, day.settings, context)).text


async def test_the_managers_digest_counts_each_rule(day: World) -> None:
    text = await digest_of(day, "m1")
    assert (
        "🧭 <b>Дисциплина</b> с 25.02.2019:\n"
        "• не выполнены в срок — 1\n"
        "• звонки аномальной длины — 2\n"
        "• без контактного лица — 1\n"
        "• без следующего шага — 1\n"
        "• пропущенные без перезвона — 1\n"
        "• оригиналы не вернулись — 2\n"
        "Подробнее: /calls, /docs"
    ) in text
    other = await digest_of(day, "m2")
    assert "с 25.02.2019:\n• без контактного лица — 1\nПодробнее" in other
    assert "не выполнены" not in other and "длины" not in other


async def test_calls_lists_each_finding_with_time_client_contact_and_what_is_wrong(day: World) -> None:
    sent = await day.user(M1_CHAT).send("/calls")
    (text,) = texts_of(sent)
    assert text.startswith("<b>Ваши звонки и встречи</b> — с 25.02.2019: 6 замечаний")
    assert (
        "<b>Не выполнены в срок</b> (1)\n"
        "1. 25.02 11:00 · ИП Смирнов · Смирнов А. — запланировано, не выполнено и не отменено\n"
        "\n<b>Звонки аномальной длины</b> (2)\n"
        "2. 25.02 09:30 · +79035550000 — длительность 3 с (по АТС)\n"
        "3. 25.02 10:00 · ООО «Ромашка» · Иванов И. — длительность 12 с\n"
        "\n<b>Без контактного лица</b> (1)\n"
        "4. 25.02 15:00 · ИП Смирнов — не указано контактное лицо\n"
        "\n<b>Без следующего шага</b> (1)\n"
        "5. 25.02 16:00 · АО «Вектор» · Сидорова Е. — не запланирован следующий контакт\n"
        "\n<b>Пропущенные без перезвона</b> (1)\n"
        "6. 25.02 12:00 · +79161234567 — пропущенный, не перезвонили за 4 ч"
    ) in text
    week = texts_of(await day.user(M1_CHAT).send("/calls неделя"))[0]
    assert ": 6 замечаний" in week
    assert "Замечаний нет" in texts_of(await day.user(M1_CHAT).send("/calls 22.02.2019"))[0]
    assert texts_of(await day.user(M1_CHAT).send("/calls вчерашний день"))[0].startswith("Не понял")


async def test_docs_lists_the_originals_oldest_first(day: World) -> None:
    (text,) = texts_of(await day.user(M1_CHAT).send("/docs"))
    assert text == (
        "<b>Оригиналы, которые ждём</b>: 3, из них дольше 5 дней — 2\n"
        "Старые сверху. ⚠️ — пора вернуть, 🔴 — уже у руководителя.\n\n"
        "1. 🔴 Акт № 15 от 20.01.2019 · ООО «Ромашка» · 2 818,50 ₽ · 37 дней\n"
        "2. ⚠️ Акт № 17 от 20.02.2019 · ИП Смирнов · 3 000 ₽ · 6 дней\n"
        "3. Счёт-фактура № 16 от 21.02.2019 · ИП Смирнов · 3 000 ₽ · 5 дней"
    )
    (other,) = texts_of(await day.user(M2_CHAT).send("/docs"))
    assert "Все подписанные оригиналы вернулись" in other  # m1's documents are not m2's business


async def test_the_supervisor_sees_the_column_and_the_escalation(day: World) -> None:
    text = await digest_of(day, "s1")
    assert "Аракелян Наринэ: " in text and "замечаний 8, за неделю 6 ↑" in text
    assert "Петров" not in text  # another team
    assert "🚨 <b>Эскалации</b>\n• Аракелян Наринэ: оригиналы старше 30 дней — 1 (самому старому 37 дней)" in text
    (team,) = texts_of(await day.user(S1_CHAT).send("/team"))
    assert "замечаний 8, за неделю 6 ↑" in team
    (calls,) = texts_of(await day.user(S1_CHAT).send("/calls"))
    assert "(Аракелян Наринэ)" not in calls  # one manager in scope: no names needed
    pressed = await day.user(M1_CHAT).press(CallsView(period="w", page=0).pack())
    assert ": 6 замечаний" in texts_of(pressed)[0]


async def test_a_rule_broken_every_working_day_of_a_week_is_escalated(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    from jobs.digests import store_findings

    folder = day_exports(tmp_path / "exports", 16)
    days = [date(2019, 2, d) for d in (18, 19, 20, 21, 22)]  # 23.02 (Saturday) is a holiday, then Monday
    write_csv(folder / "interactions.csv", INTERACTIONS_HEADER, [
        [f"w{n}", "Встреча", "", "m1", "k1", "ООО «Ромашка»", "", "", f"{d:%d.%m.%Y} 11:00", "1800", "Выполнено",
         "01.03.2019 10:00", ""]
        for n, d in enumerate(days)
    ])  # fmt: skip
    (folder / "Master.csv").unlink()
    await import_paths(pool, [folder], zone=MSK, now=datetime(2019, 2, 18, 3, 0))
    async with pool() as session, session.begin():
        for digest_day in [*days[1:], date(2019, 2, 25)]:  # each digest reports the day before
            await store_findings(session, digest_day, settings)
    async with pool() as session:
        monday = date(2019, 2, 25)
        context = await morning(session, monday, settings, datetime(2019, 2, 25, 9, 0))
        supervisor = await session.get(Employee, "s1")
        assert supervisor is not None
        text = (await build_digest(session, supervisor, monday, settings, context)).text
    assert "• Аракелян Наринэ: «без контактного лица» — каждый рабочий день недели" in text
    assert "замечаний 2, за неделю 5 ↑" in text  # today: the meeting of Friday + the 36-day-old original (d1)
