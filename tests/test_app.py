"""Delivery around the outbox: replies that wait out a 429, the error handler and dead queries,
/healthz, the morning job on several instances, ``kpibot outbox`` and ``digest --send``'s counts,
the log format."""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot import texts
from bot.app import UtcFormatter, configure_logging, create_bot, health_route
from bot.cli import cmd_outbox, fit
from bot.settings import Settings
from db.models import Employee, OutboxMessage
from db.queries import outbox as store
from db.session import SessionPool
from jobs.morning import morning_job
from jobs.outbox import UNREACHABLE, Sender, deliver, enqueue
from jobs.outbox import Message as Outgoing
from tests.telegram import RecordingSession

MSK = ZoneInfo("Europe/Moscow")
START = datetime(2024, 6, 18, 6, 0)


async def test_healthz_says_whether_the_database_and_telegram_answer(pool: SessionPool, settings: Settings) -> None:
    session = RecordingSession()
    bot = create_bot(settings, session=session)
    app = web.Application()
    health_route(app, bot, pool, lambda: "host:1: polling; outbox sender")
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"database": "ok", "telegram": "ok", "role": "host:1: polling; outbox sender"}
        session.queue_error("GetMe", 401, "Unauthorized")
        response = await client.get("/healthz")
        report = await response.json()
        assert response.status == 503 and report["database"] == "ok" and "Unauthorized" in report["telegram"]


# --- the morning job on several instances ---------------------------------------------------------------


async def test_of_two_instances_one_enqueues_the_morning(world: object) -> None:
    from tests.test_morning import MONDAY, at, outbox

    woken: list[str] = []
    pool, settings = world.pool, world.settings  # type: ignore[attr-defined]
    first = morning_job(pool, settings, lambda: at(MONDAY, 9, 0), lambda: woken.append("a"), instance="host-a:1")
    second = morning_job(pool, settings, lambda: at(MONDAY, 9, 0), lambda: woken.append("b"), instance="host-b:1")
    await asyncio.gather(first(), second())
    assert len(woken) == 1 and len(await outbox(pool)) == 5  # the other skipped its minute, rendering nothing


# --- kpibot outbox and digest --send --------------------------------------------------------------------


def test_fit_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    assert fit("Константинопольский Александр Валерьевич", 27) == "Константинопольский…"
    assert fit("Иванов Иван", 27) == "Иванов Иван"
    assert fit("Очень\nдлинное\tимя", 30) == "Очень длинное имя"
    assert fit("Ааааааааааааааааааааааааааааааааааааа", 10) == "Ааааааааа…"  # one word longer than the column
    assert all(len(fit("слово " * n, 20)) <= 20 for n in range(1, 12))


async def test_kpibot_outbox_prints_one_line_per_row_whatever_the_error_says(
    pool: SessionPool, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    long_name = "Константинопольский-Щедрин Александр Валерьевич " * 3
    async with pool() as session, session.begin():
        session.add_all([Employee(id="e1", name=long_name, role="manager", team="A", telegram_id=1),
                         Employee(id="e2", name="Иванов Иван", role="manager", team="A", telegram_id=2)])  # fmt: skip
        await enqueue(session, [Outgoing("e1", "digest", date(2024, 6, 18), 1, "x"),
                                Outgoing("e2", "digest", date(2024, 6, 18), 2, "y")], START)  # fmt: skip
        for row in (await session.execute(select(OutboxMessage))).scalars():
            row.status, row.error = "failed", "TelegramBadRequest: Bad Request:\nmessage is too long\r\n\tsee details"
    assert await cmd_outbox(argparse.Namespace(date=None), settings) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4  # the heading, one line per row, the counts
    assert lines[1].endswith("TelegramBadRequest: Bad Request: message is too long see details")
    assert "Константинопольский-Щедрин…" in lines[1] and "Иванов Иван" in lines[2]
    assert lines[3] == texts.cli_outbox_counts({"failed": 2}) == "ошибка: 2"


async def test_kpibot_outbox_prints_no_terminal_control_characters_from_an_error_or_a_name(
    pool: SessionPool, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error text or a name holding ESC sequences, a backspace or a bell must not move the
    terminal's cursor or colour it: a cursor-up sequence would redraw over the previous row."""
    async with pool() as session, session.begin():
        session.add(Employee(id="e1", name="Иванов\x1b[2K Иван\x08\x07", role="manager", team="A", telegram_id=1))
        await enqueue(session, [Outgoing("e1", "digest", date(2024, 6, 18), 1, "x")], START)
        for row in (await session.execute(select(OutboxMessage))).scalars():
            row.status, row.error = "failed", "ClientError: \x1b[1A\x1b[31mbad\x1b[0m\x07gateway\u2028down"
    assert await cmd_outbox(argparse.Namespace(date=None), settings) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert all(ch.isprintable() for line in lines for ch in line)
    assert lines[1].endswith("ClientError: [1A [31mbad [0m gateway down")
    assert "Иванов [2K Иван" in lines[1]


async def test_digest_send_counts_add_up(pool: SessionPool, settings: Settings) -> None:
    people = [Employee(id=f"e{i}", name=f"Менеджер {i}", role="manager", team="A", telegram_id=100 + i)
              for i in range(4)]  # fmt: skip
    async with pool() as session, session.begin():
        session.add_all(people)
        await enqueue(session, [Outgoing(p.id, "digest", date(2024, 6, 18), p.telegram_id or 0, "x") for p in people],
                      START)  # fmt: skip
        ids = await store.undelivered_ids(session, date(2024, 6, 18))
    recording = RecordingSession()
    recording.queue_error("SendMessage", 403, "Forbidden: user is deactivated")
    recording.queue_error("SendMessage", 400, "Bad Request: message is too long")
    sender = Sender(create_bot(settings, session=recording), pool, rate=28, lease_seconds=2, zone=MSK, name="h:1")
    outcome = await deliver(sender, ids, patience=5)
    assert (outcome.total, outcome.sent, outcome.unreachable, outcome.failed, outcome.pending) == (4, 2, 1, 1, 0)
    assert not outcome.complete  # a failure other than "unreachable" makes the cron job fail
    async with pool() as session:
        failed = [s for s in await store.states(session, ids) if s.status == "failed"]
    assert sorted((s.error or "").startswith(UNREACHABLE) for s in failed) == [False, True]


# --- logs -----------------------------------------------------------------------------------------------


def test_every_log_line_is_in_utc_and_says_so() -> None:
    formatter = UtcFormatter("%(asctime)s %(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.created = datetime(2026, 11, 29, 21, 40, 0, 123000, tzinfo=ZoneInfo("UTC")).timestamp()
    record.msecs = 123
    assert formatter.format(record) == "2026-11-29T21:40:00.123Z hello"


def test_a_message_with_newlines_stays_one_log_line_and_a_traceback_keeps_its_lines() -> None:
    formatter = UtcFormatter("%(levelname)s %(message)s")
    text = "Bad Request: can't parse entities:\nunexpected end tag\r\nat byte 12"
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "sending failed: %s", (text,), None)
    assert formatter.format(record) == (
        "WARNING sending failed: Bad Request: can't parse entities:\\nunexpected end tag\\r\\nat byte 12"
    )
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "a\nb", None, sys.exc_info())
    lines = formatter.format(failed).splitlines()
    assert lines[0] == "ERROR a\\nb" and lines[1].startswith("Traceback") and lines[-1] == "ValueError: boom"


def test_apschedulers_per_run_lines_are_quiet_at_info() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
        assert logging.getLogger("jobs.outbox").isEnabledFor(logging.INFO)
        configure_logging("DEBUG")
        assert logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


# --- a stop while a scheduled job runs ------------------------------------------------------------------


async def test_a_stop_while_the_morning_job_runs_ends_it_in_one_line_without_a_traceback(
    pool: SessionPool, database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGTERM (here ``stop``) while the morning job waits on the database: APScheduler cancels the
    job, and the log says so in one WARNING line instead of an ERROR with a traceback (CI caught a
    ``kpibot run`` stopped mid-query printing one). The job runs again at the next start."""
    from bot.app import run_bot
    from bot.settings import load_settings
    from tests.fake_bot_api import FakeBotApi

    in_flight = asyncio.Event()

    def a_slow_morning(*args: object, **kwargs: object) -> object:
        async def job() -> None:
            in_flight.set()
            await asyncio.sleep(3600)  # stands for a query still running

        return job

    monkeypatch.setattr("jobs.morning.morning_job", a_slow_morning)
    api = FakeBotApi()
    settings = load_settings(bot_token="42:TEST", database_url=database_url, telegram_api_url=await api.start())
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    running = asyncio.create_task(run_bot(settings, pool, stop))
    try:
        await asyncio.wait_for(in_flight.wait(), 20)
        stop.set()
        await asyncio.wait_for(running, 30)
        await asyncio.sleep(0.05)  # the cancelled job's last step
    finally:
        stop.set()
        await api.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert any(
        r.levelno == logging.WARNING and r.getMessage().startswith("the morning job stopped with kpibot")
        for r in caplog.records
    )
    # the stop came at start-up (the job starts at once), most often before the poller began:
    # either way no poller is left behind (once one began after the stop and polled on)
    assert [t for t in asyncio.all_tasks() if t.get_name() == "polling"] == []
