"""End to end: /report and /chart answered by ``kpibot run``, and the month-end table sent by
``kpibot digest --send``, through the fake Bot API on 127.0.0.1 (multipart uploads as Telegram gets
them), on the demo data. Marked slow; CI runs them."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot import charts, texts
from db.session import create_engine, create_session_pool
from tests.fake_bot_api import FakeBotApi
from tests.test_end_to_end import KPIBOT, kpibot
from tests.world import link_all

pytestmark = pytest.mark.slow


def upload(params: dict[str, object]) -> tuple[str, bytes]:
    files = params["files"]
    assert isinstance(files, dict) and len(files) == 1
    ((name, content),) = files.values()
    return name, content


async def demo_company(tmp_path: Path, database_url: str, api_url: str) -> dict[str, str]:
    """The demo imported and linked; today and tomorrow are days off, so no morning digest or
    month-end table of the real calendar mixes into what the test waits for."""
    from bot.demo import write_exports

    calendar = tmp_path / "calendar.txt"
    today = datetime.now(UTC).date()
    calendar.write_text(f"{today.isoformat()} off\n{(today + timedelta(days=1)).isoformat()} off\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOT_TOKEN", "TELEGRAM_API_URL"}}
    env.update(DATABASE_URL=database_url, BOT_TOKEN="42:TEST", TELEGRAM_API_URL=api_url, TIMEZONE="UTC",
               WORK_CALENDAR_FILE=str(calendar), COMPANY_NAME="ООО «Софт-Сервис»")  # fmt: skip
    write_exports(tmp_path / "exports")
    status, _, err = await kpibot("import", str(tmp_path / "exports"), env=env, cwd=tmp_path)
    assert status == 0, err
    engine = create_engine(database_url)
    try:
        await link_all(create_session_pool(engine))
    finally:
        await engine.dispose()
    return env


async def test_report_and_chart_through_the_bot_api(tmp_path: Path, database_url: str) -> None:
    api = FakeBotApi()
    env = await demo_company(tmp_path, database_url, await api.start())
    process = await asyncio.create_subprocess_exec(
        KPIBOT, "run", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        api.push_message(1001, "/report 2019-02")
        api.push_message(1010, "/chart 2019-02")
        documents = await api.wait_for(1, "sendDocument")
        photos = await api.wait_for(2, "sendPhoto")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        await api.stop()
    assert "Traceback" not in err.decode(), err.decode()[-3000:]
    (report,) = documents
    assert int(report["chat_id"]) == 1001 and report["parse_mode"] == "HTML"
    name, content = upload(report)
    assert name.startswith("raschet-oplat-2019-02-na-")
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    assert sheet["A1"].value == "ООО «Софт-Сервис»: расчёт оплат за регулярное сопровождение"
    assert [c.value for c in sheet[5]][:4] == ["Аракелян Наринэ 90,53 %", None, 263492, 238539]
    assert {int(p["chat_id"]) for p in photos} == {1010}
    sizes = [Image.open(BytesIO(upload(p)[1])).size for p in photos]
    assert sizes == [(charts.WIDTH_PX, charts.HEIGHT_PX), (charts.WIDTH_PX, charts.team_bars_height(3))]
    assert "сбор 84,03 %, худшие сверху" in photos[1]["caption"]


async def test_month_end_table_arrives_attached_to_the_statement(tmp_path: Path, database_url: str) -> None:
    api = FakeBotApi()
    env = await demo_company(tmp_path, database_url, await api.start())
    try:
        status, out, err = await kpibot("digest", "--send", "--date", "2019-03-01", "--employee", "000000010",
                                        env=env, cwd=tmp_path)  # fmt: skip
    finally:
        await api.stop()
    assert status == 0, err
    assert texts.cli_enqueued(2, date(2019, 3, 1)) in out and texts.cli_delivery(2, 0, 0, 0, 2, None) in out
    (statement,) = api.sent("sendDocument")
    assert int(statement["chat_id"]) == 1010
    assert statement["caption"].startswith("📋 <b>Итоги февраля 2019</b> — команда «Сопровождение»")
    name, content = upload(statement)
    assert name == "kpi-itogi-2019-02.xlsx"
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    assert sheet["A5"].value == "Смирнова Ольга"  # worst first
    assert sheet["A1"].value == "ООО «Софт-Сервис»: Итоги февраля 2019: сбор и KPI для расчёта премий"
