"""``HEALTHZ_LISTEN`` in polling mode: ``kpibot run`` as a real process, long-polling a fake Bot API,
answers ``GET /healthz`` with the database's and Telegram's state (issue 12). Marked slow."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.fake_bot_api import FakeBotApi
from tests.test_end_to_end import KPIBOT, free_port, morning_env

pytestmark = pytest.mark.slow


async def healthz(port: int) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


async def test_polling_instance_answers_healthz_and_503_when_telegram_does_not_answer(
    tmp_path: Path, database_url: str
) -> None:
    api = FakeBotApi()
    url = await api.start()
    port = free_port()
    env = morning_env(database_url, url, tmp_path)
    env.update(HEALTHZ_LISTEN=f"127.0.0.1:{port}", DIGEST_TIME="23:59")
    process = await asyncio.create_subprocess_exec(KPIBOT, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE)
    stopped = False
    try:
        await api.wait_for(1, "getUpdates")  # this instance holds the polling lease and polls
        status, report = await healthz(port)
        assert status == 200, report
        assert report["database"] == "ok" and report["telegram"] == "ok"
        assert ": polling;" in report["role"], report  # not "standby": it is the one that polls
        assert not api.sent("setWebhook")

        await api.stop()  # Telegram stops answering: the instance says so, and keeps running
        stopped = True
        status, report = await healthz(port)
        assert status == 503, report
        assert report["database"] == "ok" and report["telegram"] != "ok"
        assert "\n" not in report["telegram"] and "Traceback" not in report["telegram"]
        assert process.returncode is None
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        if not stopped:
            await api.stop()
    assert "Traceback" not in err.decode(), err.decode()[-3000:]
    assert process.returncode == 0
