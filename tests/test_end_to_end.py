"""End to end: ``kpibot invite`` and ``kpibot run`` as real processes against a fake Bot API server on
127.0.0.1, on the demo data. Marked slow; CI runs them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot import texts
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
    """The replies, and only the replies: the days around today are days off (``WORK_CALENDAR_FILE``),
    so no morning digest joins them. On a working day after ``DIGEST_TIME`` the people linked here
    became due at the next minute, and a digest arrived between a welcome and a /kpi reply whenever
    that minute fell inside the test (CI on a Monday at 11:54 Moscow time)."""
    from datetime import UTC, datetime, timedelta

    api = FakeBotApi()
    url = await api.start()
    calendar = tmp_path / "calendar.txt"
    today = datetime.now(UTC).date()
    calendar.write_text("".join(f"{today + timedelta(days=d)} off\n" for d in (-1, 0, 1)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOT_TOKEN", "TELEGRAM_API_URL"}}
    env.update(DATABASE_URL=database_url, BOT_TOKEN="42:TEST", TELEGRAM_API_URL=url, LOG_LEVEL="INFO",
               WORK_CALENDAR_FILE=str(calendar))  # fmt: skip
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
    assert f"доставлено: {MANAGERS + 1}" in out and "ошибка: 1" in out  # 49 digests + the admin's + the notice
    assert "blocked by the user" in out
    status, out, err = await kpibot("employees", env=env, cwd=tmp_path)
    assert "недоступен в Telegram" in next(line for line in out.splitlines() if "Менеджер 49" in line)


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
        assert "в очередь за" in out and ": 1 сообщение\n" in out and texts.cli_delivery(1, 0, 0, 0, 1, None) in out
        status, out, err = await kpibot("digest", "--send", "--employee", "m01", env=env, cwd=tmp_path)
        assert status == 0 and ": 0 сообщений\n" in out and "доставлено 0" in out
        status, out, err = await kpibot("digest", "--send", "--employee", "m01", "--force", env=env, cwd=tmp_path)
        assert ": 1 сообщение\n" in out and "доставлено 1," in out
        assert [int(p["chat_id"]) for p in api.sent()] == [7001, 7001]
        status, out, err = await kpibot("digest", "--send", "--employee", "nobody", env=env, cwd=tmp_path)
        assert status == 1 and texts.cli_no_employee("nobody") in err
        status, out, err = await kpibot("digest", "--send", "--date", "2024-05-09", env=env, cwd=tmp_path)
        assert status == 1 and "09.05.2024 — нерабочий день" in err and "--force" in err
        status, out, err = await kpibot("outbox", "--date", "2024-05-09", env=env, cwd=tmp_path)
        assert status == 0 and texts.cli_outbox_empty(date(2024, 5, 9)) in out
    finally:
        await api.stop()


# --- faults: kill -9 at random points, two instances, webhooks ---------------------------------------------


def expected_chats() -> set[int]:
    return {7000 + i for i in range(MANAGERS) if 7000 + i != BLOCKED_CHAT} | {ADMIN_CHAT}


async def wait_until(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.05)


def assert_delivered_once_but_in_flight(api: FakeBotApi) -> None:
    """Everyone reachable got the digest; a repeat only for a request in flight at a kill (at most
    CONCURRENCY, each once more); pacing never tripped Telegram's limits."""
    from jobs.outbox import CONCURRENCY

    counts = digests_by_chat(api)
    assert set(counts) == expected_chats(), f"missing: {expected_chats() - set(counts)}"
    assert sum(n - 1 for n in counts.values()) <= CONCURRENCY and max(counts.values()) <= 2, counts
    assert [p["error_code"] for p in api.refused].count(429) == 0, api.floods
    assert api.max_per_second() <= 30


@pytest.mark.parametrize("command", ["run", "send"])
async def test_kill_9_at_a_random_point_of_a_broadcast_loses_nothing(
    tmp_path: Path, database_url: str, command: str
) -> None:
    import random
    import time

    seed = int(os.environ.get("KPIBOT_KILL_SEED") or time.time_ns())
    print(f"kill -9 point seed: KPIBOT_KILL_SEED={seed}")  # shown when the test fails, to replay it
    api = FakeBotApi(rate=30, blocked={BLOCKED_CHAT}, delay=0.05)
    url = await api.start()
    env = morning_env(database_url, url, tmp_path)
    if command == "send":
        env["DIGEST_TIME"] = "23:59"  # only digest --send enqueues
    status, _, err = await kpibot("import", str(company(tmp_path / "exports")), env=env, cwd=tmp_path)
    assert status == 0, err
    args = ["run"] if command == "run" else ["digest", "--send"]
    kill_after = random.Random(seed).randint(1, 45)
    try:
        quiet = asyncio.subprocess.DEVNULL
        first = await asyncio.create_subprocess_exec(KPIBOT, *args, env=env, cwd=tmp_path, stdout=quiet, stderr=quiet)
        await api.wait_for(kill_after)
        first.kill()
        await first.wait()
        assert len(api.sent()) < MANAGERS + 1  # the broadcast really was cut short
        if command == "send":
            status, out, err = await kpibot(*args, env=env, cwd=tmp_path)  # the cron job, run again
            assert status == 0, out + err
            done = re.search(r"доставлено (\d+), недоступны (\d+), не доставлено (\d+), в очереди (\d+) из (\d+)", out)
            assert done, out
            sent, unreachable, failed, pending, total = map(int, done.groups())
            assert (unreachable, failed, pending) == (1, 0, 0) and sent + unreachable == total, out
        else:
            second = await asyncio.create_subprocess_exec(KPIBOT, *args, env=env, cwd=tmp_path,
                                                          stderr=asyncio.subprocess.PIPE)  # fmt: skip
            try:
                await wait_until(lambda: set(digests_by_chat(api)) >= expected_chats())
            finally:
                second.send_signal(signal.SIGTERM)
                _, err_bytes = await asyncio.wait_for(second.communicate(), 30)
            assert "Traceback" not in err_bytes.decode(), err_bytes.decode()[-3000:]
    finally:
        await api.stop()
    assert_delivered_once_but_in_flight(api)


async def test_digest_send_beside_kpibot_run_reports_its_own_rows(tmp_path: Path, database_url: str) -> None:
    api = FakeBotApi(rate=30, blocked={BLOCKED_CHAT}, delay=0.02)
    url = await api.start()
    env = morning_env(database_url, url, tmp_path)
    env["DIGEST_TIME"] = "23:59"
    status, _, err = await kpibot("import", str(company(tmp_path / "exports")), env=env, cwd=tmp_path)
    assert status == 0, err
    run = await asyncio.create_subprocess_exec(KPIBOT, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE)
    try:
        await api.wait_for(1, "getUpdates")  # kpibot run is up and holds the outbox
        status, out, err = await kpibot("digest", "--send", env=env, cwd=tmp_path)
    finally:
        run.send_signal(signal.SIGTERM)
        await asyncio.wait_for(run.communicate(), 30)
        await api.stop()
    assert status == 0, out + err
    assert texts.cli_delivery(MANAGERS, 1, 0, 0, MANAGERS + 1, None) in out  # 49 + the admin's
    assert texts.cli_unreachable(1) in out
    assert_delivered_once_but_in_flight(api)


async def test_two_instances_send_once_within_telegrams_rate_and_only_one_polls(
    tmp_path: Path, database_url: str
) -> None:
    api = FakeBotApi(rate=30, blocked={BLOCKED_CHAT})
    url = await api.start()
    env = morning_env(database_url, url, tmp_path)
    status, _, err = await kpibot("import", str(company(tmp_path / "exports")), env=env, cwd=tmp_path)
    assert status == 0, err
    instances = [
        await asyncio.create_subprocess_exec(KPIBOT, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE)
        for _ in range(2)
    ]
    try:
        await wait_until(lambda: set(digests_by_chat(api)) >= expected_chats())
        api.push_message(9999, "/kpi")  # whoever polls answers, once
        await wait_until(lambda: any(int(p["chat_id"]) == 9999 for p in api.sent()))
        await asyncio.sleep(1.5)  # time for a second getUpdates loop to conflict, were there one
        instances[0].kill()  # the first one dies: the other takes over polling within the lease
        await instances[0].wait()
        api.push_message(9998, "/kpi")
        await wait_until(lambda: any(int(p["chat_id"]) == 9998 for p in api.sent()), seconds=30)
    finally:
        for process in instances:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        errors = [(await asyncio.wait_for(process.communicate(), 30))[1].decode() for process in instances]
        await api.stop()
    counts = digests_by_chat(api)
    assert set(counts) == expected_chats() and max(counts.values()) == 1, counts  # no kill mid-broadcast here
    assert api.max_per_second() <= 30 and not [p for p in api.refused if p["error_code"] == 429]
    assert api.conflicts == 0  # never two getUpdates at once
    assert [int(p["chat_id"]) for p in api.sent()].count(9999) == 1
    assert all("Traceback" not in e for e in errors), errors[1][-3000:]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret_on_every_update_and_serves_healthz(
    tmp_path: Path, database_url: str
) -> None:
    import aiohttp

    api = FakeBotApi()
    url = await api.start()
    port = free_port()
    env = morning_env(database_url, url, tmp_path)
    env.update(WEBHOOK_URL="https://kpi.example.ru/telegram/hook", WEBHOOK_SECRET="s3cret-token_for-TESTS",
               WEBHOOK_LISTEN=f"127.0.0.1:{port}", DIGEST_TIME="23:59")  # fmt: skip
    process = await asyncio.create_subprocess_exec(KPIBOT, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE)
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    try:
        await api.wait_for(1, "setWebhook")
        (registered,) = api.sent("setWebhook")
        assert registered["url"] == env["WEBHOOK_URL"] and registered["secret_token"] == env["WEBHOOK_SECRET"]
        async with aiohttp.ClientSession() as client:
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
            async with client.post(hook, json=api.message_update(9999, "/kpi"), headers=wrong) as response:
                assert response.status == 401
            async with client.post(hook, json=api.message_update(9999, "/kpi")) as response:
                assert response.status == 401  # no secret at all
            right = {"X-Telegram-Bot-Api-Secret-Token": env["WEBHOOK_SECRET"]}
            async with client.post(hook, json=api.message_update(9998, "/kpi"), headers=right) as response:
                assert response.status == 200
            (reply,) = await api.wait_for(1)
            assert int(reply["chat_id"]) == 9998  # the two refused updates were never handled
            async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                report = await response.json()
        assert report["database"] == "ok" and report["telegram"] == "ok" and "webhook" in report["role"]
        assert not api.sent("getUpdates")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        await api.stop()
    assert "Traceback" not in err.decode(), err.decode()[-3000:]


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
