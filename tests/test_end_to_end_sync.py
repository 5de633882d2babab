"""End to end, with nobody at the keyboard: ``kpibot run`` as a real process against the fake Bot API
(tests/fake_bot_api.py), the fake 1C OData interface (tests/fake_1c_odata.py) and a watched folder
with employees.csv and the PBX's Master.csv. The night's run imports the folder, syncs 1C, and the
morning digests carry the synced money; after a restart with 1C failing in mid-paging the data stay
as they were, the admin is told once, and /status shows both sources. Marked slow; CI runs it."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import Contract, Payment, PbxCall
from db.session import create_engine, create_session_pool
from tests.factories import EMPLOYEES_HEADER, write_csv
from tests.fake_1c_odata import PASSWORD, USER, FakeOData
from tests.fake_bot_api import FakeBotApi
from tests.test_end_to_end import KPIBOT, morning_env

pytestmark = pytest.mark.slow

MANAGER = "3f0a9c2e-5b1d-11ee-8c99-0242ac120002"
CLIENT = "a1b2c3d4-0001-11ee-8c99-0242ac120002"
CONTRACT = "c0c0c0c0-0001-11ee-8c99-0242ac120002"
MANAGER_CHAT, ADMIN_CHAT = 7001, 7999
PAYMENTS_SET = "Document_ПоступлениеБезналичныхДенежныхСредств"


def one_c_base(today: date) -> dict[str, list[dict[str, Any]]]:
    """One support contract of 3 000 ₽ a month from the 1st of this month, and three payments this
    month: 700 + 800 + 318,50 = 1 818,50 ₽, so the month's collection is 60,62 % (1 818,50 / 3 000,
    rounded half up to 0,01 %), a figure only the synced payments make."""
    first = today.replace(day=1).isoformat() + "T00:00:00"
    others = ("Document_ПриходныйКассовыйОрдер", "Document_ТелефонныйЗвонок", "Document_Встреча",
              "Document_РеализацияТоваровУслуг")  # fmt: skip
    empty_sets: dict[str, list[dict[str, Any]]] = {name: [] for name in others}
    contract = {"Ref_Key": CONTRACT, "DeletionMark": False, "Номер": "РС-1", "Description": "ИТС ПРОФ",
                "Контрагент_Key": CLIENT, "Менеджер_Key": MANAGER, "ДатаНачалаДействия": first,
                "ДатаОкончанияДействия": "0001-01-01T00:00:00", "СуммаВМесяц": 3000, "СрокМесяцев": 0}  # fmt: skip
    return {
        "Catalog_Контрагенты": [
            {"Ref_Key": CLIENT, "DeletionMark": False, "Code": "00-000001", "Description": "ООО «Ромашка»"}
        ],
        "Catalog_ДоговорыКонтрагентов": [contract],
        PAYMENTS_SET: [payment(1, first, "700"), payment(2, first, "800"), payment(3, first, "318.5")],
        **empty_sets,
    }


def payment(n: int, day: str, amount: str) -> dict[str, Any]:
    from decimal import Decimal

    return {"Ref_Key": f"9a70{n:04d}-0000-11ee-8c99-0242ac120002", "DeletionMark": False, "Posted": True,
            "Number": f"00БП-{n:06d}", "Date": day, "Договор_Key": CONTRACT,
            "СуммаДокумента": Decimal(amount)}  # fmt: skip


def inbox(folder: Path, today: date) -> Path:
    """What lands in the watched folder: kpibot's employees (the 1C user's guid as the manager's id)
    and Asterisk's Master.csv with two calls to the manager's extension today."""
    folder.mkdir()
    write_csv(folder / "employees.csv", EMPLOYEES_HEADER, [
        [MANAGER, "Аракелян Наринэ", "manager", "A", "101", str(MANAGER_CHAT), "1"],
        ["a1", "Соколов Андрей", "admin", "", "", str(ADMIN_CHAT), "1"],
    ])  # fmt: skip
    day = today.isoformat()
    (folder / "Master.csv").write_text(
        f'"","79161234567","101","from-trunk","""Клиент"" <79161234567>","SIP/trunk-1","SIP/101-1","Dial",'
        f'"SIP/101,30","{day} 00:00:01","{day} 00:00:05","{day} 00:01:05","64","60","ANSWERED","DOCUMENTATION",'
        f'"1700000000.1",""\n'
        f'"","79161234568","101","from-trunk","""Клиент"" <79161234568>","SIP/trunk-2","SIP/101-2","Dial",'
        f'"SIP/101,30","{day} 00:00:10","","{day} 00:00:30","20","0","NO ANSWER","DOCUMENTATION",'
        f'"1700000010.2",""\n',
        encoding="utf-8",
    )
    return folder


async def figures(database_url: str) -> tuple[int, int, int, int]:
    """Payments, their sum in kopecks, the contract's fee in kopecks, PBX calls."""
    engine = create_engine(database_url)
    try:
        async with create_session_pool(engine)() as session:
            count = await session.scalar(select(func.count()).select_from(Payment))
            total = await session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)))
            fee = await session.scalar(select(Contract.monthly_fee).where(Contract.id == CONTRACT))
            calls = await session.scalar(select(func.count()).select_from(PbxCall))
    finally:
        await engine.dispose()
    return int(count or 0), int(total or 0), int(fee or 0), int(calls or 0)


async def until(condition: Any, seconds: float = 45) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def stop(process: asyncio.subprocess.Process, log: Path) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    await asyncio.to_thread(log.write_bytes, err)  # for the reader of a failure
    return err.decode()


async def test_run_syncs_1c_and_the_folder_at_night_and_keeps_the_data_when_1c_fails(
    tmp_path: Path, database_url: str
) -> None:
    now = datetime.now(UTC)
    if now.time() < time(0, 2):  # IMPORT_TIME 00:00 and DIGEST_TIME 00:01 (UTC) must both be past
        await asyncio.sleep(125 - now.second - 60 * now.minute)
    today = datetime.now(UTC).date()
    api = FakeBotApi()
    one_c = await FakeOData(one_c_base(today)).start()
    try:
        url = await api.start()
        env = morning_env(database_url, url, tmp_path)
        env.update(IMPORT_DIR=str(inbox(tmp_path / "inbox", today)), IMPORT_TIME="00:00", DIGEST_TIME="00:01",
                   IMPORT_SETTLE_SECONDS="0", ODATA_URL=one_c.url, ODATA_USER=USER, ODATA_PASSWORD=PASSWORD,
                   ODATA_PAGE_SIZE="2")  # fmt: skip
        run = [KPIBOT, "run"]
        pipes: dict[str, Any] = {"stdout": asyncio.subprocess.DEVNULL, "stderr": asyncio.subprocess.PIPE}

        # the night: an empty database, nobody at the keyboard, two instances on it
        first = await asyncio.create_subprocess_exec(*run, env=env, cwd=tmp_path, **pipes)
        other = await asyncio.create_subprocess_exec(*run, env=env, cwd=tmp_path, **pipes)
        try:
            await until(lambda: {int(p["chat_id"]) for p in api.sent() if "Доброе утро" in p["text"]}
                        >= {MANAGER_CHAT, ADMIN_CHAT})  # fmt: skip
            await asyncio.sleep(1)  # a second import, sync or digest would have been seen by now
        finally:
            logs = await asyncio.gather(stop(first, tmp_path / "first.log"), stop(other, tmp_path / "other.log"))
            err = "".join(logs)
        assert "Traceback" not in err, err[-3000:]
        assert err.count("synced 1C over OData") == 1  # the holder of the imports lease syncs, once
        (digest,) = [p["text"] for p in api.sent() if int(p["chat_id"]) == MANAGER_CHAT]
        assert "<b>60,62 %</b>" in digest, digest  # 1 818,50 of 3 000 ₽: the synced payments
        assert "не обновлялись" not in digest
        assert await figures(database_url) == (3, 181850, 300000, 2)
        assert [params["$skip"] for params in one_c.requested(PAYMENTS_SET)] == ["0", "2"]  # one sync
        assert not [p for p in api.sent() if "не прошла" in p["text"]]

        # a restart; 1C has a new payment, but fails on the second page of payments every time
        one_c.sets[PAYMENTS_SET].append(payment(4, today.replace(day=1).isoformat() + "T00:00:00", "1181.5"))
        one_c.sets["Catalog_ДоговорыКонтрагентов"][0]["СуммаВМесяц"] = 9999  # read on a page before the fault
        one_c.faults[(PAYMENTS_SET, 2)] = [500] * 20
        sent_before = len(api.sent())
        second = await asyncio.create_subprocess_exec(*run, env=env, cwd=tmp_path, **pipes)
        try:
            await until(lambda: any("Ночная синхронизация с 1С не прошла" in p["text"] for p in api.sent()), 50)
            api.push_message(ADMIN_CHAT, "/status")
            status = (await api.wait_for(sent_before + 2))[-1]
            await asyncio.sleep(1.5)  # the next minutes' runs would tell again, if they did
        finally:
            err = await stop(second, tmp_path / "second.log")
        assert "Traceback" not in err, err[-3000:]
        notices = [p for p in api.sent() if "не прошла" in p["text"]]
        assert len(notices) == 1 and int(notices[0]["chat_id"]) == ADMIN_CHAT
        assert f"{PAYMENTS_SET} (entries 3–4) (500)" in notices[0]["text"]
        assert "gave up after 5 attempts" in notices[0]["text"]
        assert await figures(database_url) == (3, 181850, 300000, 2)  # as they were
        assert int(status["chat_id"]) == ADMIN_CHAT
        text = status["text"]
        assert "✅ папка выгрузки" in text and "❌ 1С по OData" in text and "замечаний 1" in text
        assert "Следующая загрузка папки" in text and "Следующая синхронизация с 1С" in text
        assert len(api.sent()) == sent_before + 2  # no digest twice, nothing else
    finally:
        await one_c.stop()
        await api.stop()
