"""End to end: ``kpibot invite`` and ``kpibot run`` as real processes against a fake Bot API server on
127.0.0.1, on the demo data. Marked slow; CI runs them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from tests.fake_bot_api import FakeBotApi

KPIBOT = str(Path(sys.executable).with_name("kpibot"))
pytestmark = pytest.mark.slow


async def kpibot(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        KPIBOT, *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_run_links_by_invite_and_answers_kpi_through_the_bot_api(tmp_path: Path, database_url: str) -> None:
    api = FakeBotApi()
    url = await api.start()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOT_TOKEN", "TELEGRAM_API_URL"}}
    env.update(DATABASE_URL=database_url, BOT_TOKEN="42:TEST", TELEGRAM_API_URL=url, LOG_LEVEL="INFO")
    from bot.demo import write_exports

    write_exports(tmp_path / "exports")
    status, _, err = await kpibot("import", str(tmp_path / "exports"), env=env, cwd=tmp_path)
    assert status == 0, err
    links = {}
    for employee_id in ("000000001", "000000002", "000000010"):
        status, out, err = await kpibot("invite", employee_id, env=env, cwd=tmp_path)  # asks getMe for the name
        assert status == 0, err
        found = re.search(r"https://t\.me/kpi_test_bot\?start=([A-Za-z0-9_-]+)", out)
        assert found, out
        links[employee_id] = found.group(1)

    process = await asyncio.create_subprocess_exec(
        KPIBOT, "run", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        # aiogram handles updates concurrently: each person waits for the link before asking
        api.push_message(1001, f"/start {links['000000001']}")
        api.push_message(1002, f"/start {links['000000002']}")
        api.push_message(1010, f"/start {links['000000010']}")
        await api.wait_for(3)
        api.push_message(1001, "/kpi 2019-02")
        api.push_message(1002, "/kpi 2019-02")
        api.push_message(1010, "/team 2019-02")
        api.push_message(9999, "/kpi")
        sent = await api.wait_for(7)
        by_chat: dict[int, list[str]] = {}
        for params in sent:
            by_chat.setdefault(int(params["chat_id"]), []).append(params["text"])
        assert by_chat[1001][0].startswith("Здравствуйте, Наринэ!")
        assert "Сбор за февраль 2019: <b>90,53 %</b> — KPI <b>0,2</b>" in by_chat[1001][1]
        assert "79,37 %" in by_chat[1002][1]
        assert "Аракелян Наринэ: 90,53 %" in by_chat[1010][1]
        assert by_chat[9999] == ["Нет доступа. Попросите у руководителя ссылку-приглашение."]
        assert all(params.get("parse_mode") == "HTML" for params in sent)
        assert api.sent("setMyCommands")  # menus were set, per role
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        await api.stop()
    assert "Traceback" not in err.decode(), err.decode()[-3000:]


# --- the morning broadcast ------------------------------------------------------------------------------

MANAGERS = 50
ADMIN_CHAT = 7999
BLOCKED_CHAT = 7049


def company(folder: Path) -> Path:
    """50 linked managers with one contract each, one admin; one manager has blocked the bot."""
    from tests.factories import CONTRACTS_HEADER, EMPLOYEES_HEADER, PAYMENTS_HEADER, write_csv

    people = [[f"m{i:02d}", f"Менеджер {i:02d}", "manager", "A", "", str(7000 + i), "1"] for i in range(MANAGERS)]
    people.append(["a1", "Соколов Андрей", "admin", "", "", str(ADMIN_CHAT), "1"])
    write_csv(folder / "employees.csv", EMPLOYEES_HEADER, people)
    write_csv(folder / "contracts.csv", CONTRACTS_HEADER,
              [[f"c{i}", f"РС-{i}", f"k{i}", f"ООО «Клиент {i}»", f"m{i:02d}", "01.01.2024", "", "3000", "ИТС", ""]
               for i in range(MANAGERS)])  # fmt: skip
    write_csv(
        folder / "payments.csv",
        PAYMENTS_HEADER,
        [[f"p{i}", f"c{i}", "05.01.2024", "3000", ""] for i in range(0, MANAGERS, 2)],
    )
    return folder


def morning_env(database_url: str, api_url: str, tmp_path: Path) -> dict[str, str]:
    """Today is made a working day by the extra dates file (the test may run on a Saturday), and the
    digest time is 00:00 UTC, so the digests are due the moment the bot starts."""
    from datetime import UTC, datetime

    calendar = tmp_path / "calendar.txt"
    calendar.write_text(f"{datetime.now(UTC).date().isoformat()} work  # the test's day\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOT_TOKEN", "TELEGRAM_API_URL"}}
    env.update(DATABASE_URL=database_url, BOT_TOKEN="42:TEST", TELEGRAM_API_URL=api_url, LOG_LEVEL="INFO",
               TIMEZONE="UTC", DIGEST_TIME="00:00", WORK_CALENDAR_FILE=str(calendar),
               OUTBOX_LEASE_SECONDS="3")  # fmt: skip
    return env


def digests_by_chat(api: FakeBotApi) -> dict[int, int]:
    counts: dict[int, int] = {}
    for params in api.sent():
        if params["text"].startswith("<b>Доброе утро"):
            counts[int(params["chat_id"])] = counts.get(int(params["chat_id"]), 0) + 1
    return counts


async def test_fifty_digests_arrive_once_across_429s_a_blocked_user_and_a_kill_9(
    tmp_path: Path, database_url: str
) -> None:
    from jobs.outbox import CONCURRENCY

    api = FakeBotApi(rate=30, refuse_first=3, blocked={BLOCKED_CHAT}, delay=0.05)
    url = await api.start()
    env = morning_env(database_url, url, tmp_path)
    status, _, err = await kpibot("import", str(company(tmp_path / "exports")), env=env, cwd=tmp_path)
    assert status == 0, err
    run = [KPIBOT, "run"]
    first = await asyncio.create_subprocess_exec(*run, env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE)
    try:
        await api.wait_for(15)  # mid-broadcast ...
        first.kill()  # ... kill -9
        await first.wait()
        delivered_before_kill = sum(digests_by_chat(api).values())
        assert delivered_before_kill < MANAGERS  # the broadcast really was cut short
        second = await asyncio.create_subprocess_exec(*run, env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE)
        try:
            expected = {7000 + i for i in range(MANAGERS) if 7000 + i != BLOCKED_CHAT} | {ADMIN_CHAT}
            for _ in range(600):
                notices = [p for p in api.sent() if "Бот заблокирован" in p["text"]]
                if set(digests_by_chat(api)) >= expected and notices:
                    break
                await asyncio.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            _, second_err = await asyncio.wait_for(second.communicate(), 30)
    finally:
        await api.stop()
    counts = digests_by_chat(api)
    assert set(counts) == expected, f"missing: {expected - set(counts)}"
    twice = [chat for chat, n in counts.items() if n > 1]
    # only what was in flight at the kill may arrive twice, and only once more
    assert len(twice) <= CONCURRENCY and max(counts.values()) <= 2, counts
    assert [p["error_code"] for p in api.refused].count(429) == 3  # the planned refusals; pacing caused none
    refused = [int(p["chat_id"]) for p in api.refused if p["error_code"] == 403]
    assert refused == [BLOCKED_CHAT], second_err.decode()[-5000:]
    notices = [p for p in api.sent() if "Бот заблокирован" in p["text"]]
    assert len(notices) == 1 and int(notices[0]["chat_id"]) == ADMIN_CHAT and "Менеджер 49" in notices[0]["text"]
    assert "Traceback" not in second_err.decode(), second_err.decode()[-3000:]

    status, out, err = await kpibot("outbox", env=env, cwd=tmp_path)
    assert status == 0, err
    assert f"sent: {MANAGERS + 1}" in out and "failed: 1" in out  # 49 digests + the admin's + the notice
    assert "blocked by the user" in out
    status, out, err = await kpibot("employees", env=env, cwd=tmp_path)
    assert "blocked the bot" in next(line for line in out.splitlines() if "Менеджер 49" in line)


async def test_digest_send_sends_now_and_not_twice_without_force(tmp_path: Path, database_url: str) -> None:
    api = FakeBotApi(rate=30)
    url = await api.start()
    env = morning_env(database_url, url, tmp_path)
    env["DIGEST_TIME"] = "23:59"  # --send does not wait for the digest time
    try:
        status, _, err = await kpibot("import", str(company(tmp_path / "exports")), env=env, cwd=tmp_path)
        assert status == 0, err
        status, out, err = await kpibot("digest", "--send", "--employee", "m01", env=env, cwd=tmp_path)
        assert status == 0, err
        assert "1 message(s) enqueued" in out and "sent 1, failed 0" in out
        status, out, err = await kpibot("digest", "--send", "--employee", "m01", env=env, cwd=tmp_path)
        assert "0 message(s) enqueued" in out and "sent 0" in out
        status, out, err = await kpibot("digest", "--send", "--employee", "m01", "--force", env=env, cwd=tmp_path)
        assert "1 message(s) enqueued" in out and "sent 1" in out
        assert [int(p["chat_id"]) for p in api.sent()] == [7001, 7001]
        status, out, err = await kpibot("digest", "--send", "--employee", "nobody", env=env, cwd=tmp_path)
        assert status == 1 and "no employee with id nobody" in err
        status, out, err = await kpibot("digest", "--send", "--date", "2024-05-09", env=env, cwd=tmp_path)
        assert status == 1 and "09.05.2024 is not a working day" in err and "--force" in err
        status, out, err = await kpibot("outbox", "--date", "2024-05-09", env=env, cwd=tmp_path)
        assert status == 0 and "the outbox is empty for 09.05.2024" in out
    finally:
        await api.stop()


# --- data arriving by themselves: the watched folder and uploads -----------------------------------------


async def test_run_imports_the_folder_tells_the_admin_and_takes_an_admins_upload(
    tmp_path: Path, database_url: str
) -> None:
    """``kpibot run`` with nobody at the keyboard: the night's folder holds a broken payments.csv, so
    nothing changes and the admin is told once; the admin then uploads a fixed file in Telegram, a
    manager's upload is refused unread, and /status shows both sources."""
    from tests.factories import PAYMENTS_HEADER, write_csv

    api = FakeBotApi()
    url = await api.start()
    env = morning_env(database_url, url, tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env.update(DIGEST_TIME="23:59", IMPORT_DIR=str(inbox), IMPORT_TIME="00:00", IMPORT_SETTLE_SECONDS="0")
    status, _, err = await kpibot("import", str(company(tmp_path / "exports")), env=env, cwd=tmp_path)
    assert status == 0, err
    write_csv(inbox / "payments.csv", PAYMENTS_HEADER, [["p-new", "c1", "05.01.2024", "сто рублей", ""]])
    fixed = tmp_path / "fixed.csv"
    write_csv(fixed, PAYMENTS_HEADER, [["p-new", "c1", "05.01.2024", "100", ""]])
    process = await asyncio.create_subprocess_exec(
        KPIBOT, "run", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        (notice,) = await api.wait_for(1)
        assert int(notice["chat_id"]) == ADMIN_CHAT and "Ночная загрузка данных не прошла" in notice["text"]
        assert "payments.csv:2" in notice["text"] and "сто рублей" in notice["text"]
        api.push_document(7001, "payments.csv", fixed.read_bytes())
        refusal = (await api.wait_for(2))[-1]
        assert int(refusal["chat_id"]) == 7001 and "загружает администратор" in refusal["text"]
        assert api.sent("getFile") == [] and api.downloads == []
        api.push_document(ADMIN_CHAT, "payments.csv", fixed.read_bytes())
        answer = (await api.wait_for(3))[-1]
        assert int(answer["chat_id"]) == ADMIN_CHAT and "оплаты: новых 1" in answer["text"]
        assert len(api.downloads) == 1
        api.push_message(ADMIN_CHAT, "/status")
        status_text = (await api.wait_for(4))[-1]["text"]
        assert "❌ папка выгрузки" in status_text and "✅ файл в Telegram" in status_text
        assert "Следующая загрузка папки" in status_text
    finally:
        process.send_signal(signal.SIGTERM)
        _, err_bytes = await asyncio.wait_for(process.communicate(), 30)
        await api.stop()
    assert "Traceback" not in err_bytes.decode(), err_bytes.decode()[-3000:]
    assert len([p for p in api.sent() if "Ночная загрузка" in p["text"]]) == 1
