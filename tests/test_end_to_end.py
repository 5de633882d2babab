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
