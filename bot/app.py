"""Wiring: the Bot, the Dispatcher with its middlewares and routers, logging, and ``kpibot run``
(webhook or polling, /healthz, the morning job, the outbox sender).

``create_dispatcher`` is the one wiring function: production and the tests both call it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from bot import texts
from bot.arguments import BadArgument
from bot.settings import Settings
from db.session import SessionPool
from handlers import (
    access,
    chart,
    contracts,
    debtors,
    digest_buttons,
    discipline,
    errors,
    fallback,
    invite,
    kpi,
    preferences,
    report,
    start,
    status,
    team,
    upload,
)
from handlers.common import Refused
from handlers.middlewares import CallbackAnswers, DatabaseMiddleware, ReplyScope, RetryReplies, ThrottleMiddleware

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------
# Logging: one zone (UTC), said in every line
# --------------------------------------------------------------------------------------------------


class UtcFormatter(logging.Formatter):
    """``2026-11-29T21:40:00.123Z INFO name: message``: every time in UTC, and the line says so."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def formatMessage(self, record: logging.LogRecord) -> str:
        """One record, one line: a newline inside the message (an error text Telegram returned) is
        written ``\\n``; a traceback, added after this, keeps its lines."""
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


def configure_logging(level: str) -> None:
    """The log format and levels of every command. APScheduler's per-run INFO lines ("Running job",
    "executed successfully", every minute) show only at DEBUG."""
    handler = logging.StreamHandler()
    handler.setFormatter(UtcFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in ("apscheduler.executors.default", "apscheduler.scheduler", "alembic"):
        logging.getLogger(name).setLevel(quiet)


# --------------------------------------------------------------------------------------------------
# The Bot: replies honour Telegram's retry_after
# --------------------------------------------------------------------------------------------------


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """The Bot. Its replies to a person wait out a 429 while an update is handled (``RetryReplies``);
    the outbox sender paces and retries itself."""
    if session is None:
        session = AiohttpSession()
        if settings.telegram_api_url:
            session.api = TelegramAPIServer.from_base(settings.telegram_api_url)
    session.middleware(RetryReplies())
    return Bot(settings.token(), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def system_clock(settings: Settings) -> Callable[[], datetime]:
    zone = settings.zone
    return lambda: datetime.now(zone)


def refusal_text(error: Exception) -> str:
    """What a refused button press shows: the refusal's own text; an unreadable argument in callback
    data (ours, so it is an old button) says the data are no longer available."""
    return error.text if isinstance(error, Refused) else texts.STALE


def create_dispatcher(
    settings: Settings,
    session_pool: SessionPool,
    *,
    clock: Callable[[], datetime] | None = None,
    throttle: ThrottleMiddleware | None = None,
    **extra: Any,
) -> Dispatcher:
    dp = Dispatcher(settings=settings, clock=clock or system_clock(settings), session_pool=session_pool, **extra)
    dp.update.outer_middleware(ReplyScope())
    dp.update.outer_middleware(throttle or ThrottleMiddleware())
    dp.update.outer_middleware(CallbackAnswers((Refused, BadArgument), refusal_text))
    dp.update.outer_middleware(DatabaseMiddleware(session_pool))
    dp.include_routers(
        errors.setup(),
        start.setup(),
        access.setup(),
        kpi.setup(),
        debtors.setup(),
        contracts.setup(),
        team.setup(),
        discipline.setup(),
        invite.setup(),
        preferences.setup(),
        digest_buttons.setup(),
        report.setup(),
        chart.setup(),
        upload.setup(),
        status.setup(),
        fallback.setup(),
    )
    return dp


# --------------------------------------------------------------------------------------------------
# /healthz
# --------------------------------------------------------------------------------------------------

HEALTH_TIMEOUT = 5.0


async def health(bot: Bot, session_pool: SessionPool) -> dict[str, str]:
    """Whether the database and Telegram answer, within a few seconds each: ``{"database": "ok",
    "telegram": "ok"}`` or the reason in one line."""

    async def database() -> None:
        async with session_pool() as session:
            await session.execute(text("SELECT 1"))

    report = {}
    for name, check in (("database", database()), ("telegram", bot.get_me(request_timeout=int(HEALTH_TIMEOUT)))):
        try:
            await asyncio.wait_for(check, HEALTH_TIMEOUT)
            report[name] = "ok"
        except Exception as error:  # any failure is an answer here, never a traceback
            report[name] = f"{type(error).__name__}: {' '.join(str(error).split())}"[:200] or type(error).__name__
    return report


def health_route(app: web.Application, bot: Bot, session_pool: SessionPool, role: Callable[[], str]) -> None:
    """``GET /healthz``: 200 when the database and Telegram answer, 503 when one does not; the body
    says which, and what this instance does (``role``)."""

    async def healthz(_request: web.Request) -> web.Response:
        report = await health(bot, session_pool)
        report["role"] = role()
        healthy = report["database"] == "ok" and report["telegram"] == "ok"
        return web.json_response(report, status=200 if healthy else 503)

    app.router.add_get("/healthz", healthz)


async def serve(app: web.Application, listen: str) -> web.AppRunner:
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]"), int(port)).start()
    return runner


POLLING_LEASE = "polling"


def stoppable(job: Callable[[], Awaitable[None]], what: str) -> Callable[[], Awaitable[None]]:
    """``job`` as a scheduled job that a stop may cut short: when ``kpibot run`` stops (SIGTERM, a
    deploy), APScheduler cancels the jobs in flight, and a cancelled job is one log line, not
    APScheduler's "raised an exception" traceback. Nothing is lost: each job's work is in
    transactions that roll back, and every job runs again at the next start (``next_run_time``)."""

    @functools.wraps(job)
    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            log.warning("%s stopped with kpibot before it finished; it runs again at the next start", what)

    return run


async def run_bot(settings: Settings, session_pool: SessionPool, stop: asyncio.Event | None = None) -> None:
    """``kpibot run``: updates (webhook, or long polling by one instance at a time), the morning job
    and the outbox sender, until SIGINT/SIGTERM (or ``stop``).

    Any number of instances may run on one database: with ``WEBHOOK_URL`` each serves the updates
    the load balancer gives it; with polling, the one holding the ``polling`` lease polls and the
    others take over within ``OUTBOX_LEASE_SECONDS`` when it stops. Every instance schedules the
    morning job (one enqueues each minute) and runs a sender (one sends at a time).
    """
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from db import queries
    from db.queries.outbox import release_lease, take_lease
    from handlers.commands import set_default_commands
    from jobs.morning import digest_trigger, morning_job
    from jobs.outbox import Sender, sender_name, utc_now

    name = sender_name()
    bot = create_bot(settings)
    sender = Sender(create_bot(settings), session_pool, rate=settings.send_rate,
                    lease_seconds=settings.outbox_lease_seconds, zone=settings.zone, name=name)  # fmt: skip
    clock = system_clock(settings)
    dp = create_dispatcher(settings, session_pool, clock=clock, sender=sender)
    scheduler = AsyncIOScheduler(timezone=settings.zone)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal_number, stop.set)
    polling = False
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    beat = max(settings.outbox_lease_seconds / 3, 0.2)

    def role() -> str:
        updates = "webhook" if settings.webhook_url else ("polling" if polling else "standby (another instance polls)")
        return f"{name}: {updates}; outbox {'sender' if sender.leading else 'standby'}"

    app = web.Application()
    health_route(app, bot, session_pool, role)
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, path=settings.webhook_path)
    listen = settings.webhook_listen or settings.healthz_listen
    runner = await serve(app, listen) if listen else None

    async with session_pool() as session:
        linked = [(e.telegram_id, e.role) for e in await queries.list_employees(session, active_only=True)
                  if e.telegram_id]  # fmt: skip
    background = [
        asyncio.create_task(sender.run(stop), name="outbox-sender"),
        asyncio.create_task(set_default_commands(sender.bot, linked, sender.pacer.wait), name="menus"),
    ]
    from jobs.imports import NightImports

    night = NightImports(session_pool, settings, clock, sender.wake.set, instance=name)
    morning = morning_job(session_pool, settings, clock, sender.wake.set, instance=name)

    async def morning_after_imports() -> None:
        if await night.morning_may_run():  # the night's import and sync first (at most ten minutes)
            await morning()

    scheduler.add_job(
        stoppable(morning_after_imports, "the morning job"),
        digest_trigger(settings),
        id="morning",
        next_run_time=clock(),  # at once: a late start still sends today's digests
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    if night.configured:  # the watched folder every minute, its night run and the OData sync at IMPORT_TIME
        scheduler.add_job(stoppable(night.run_once, "the import job"), digest_trigger(settings), id="imports",
                          next_run_time=clock(), coalesce=True, max_instances=1, misfire_grace_time=None)  # fmt: skip
    scheduler.start()
    log.info("%s: the morning job and the outbox sender are running (digests at %s)", name, settings.digest_time)

    async def hold_polling() -> bool:
        now = utc_now()
        async with session_pool() as session, session.begin():
            return await take_lease(session, POLLING_LEASE, name, now, now + lease)

    try:
        if settings.webhook_url:
            await bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=dp.resolve_used_update_types(),
                drop_pending_updates=False,
            )  # fmt: skip
            log.info("%s: serving updates at %s (listening on %s)", name, settings.webhook_url, listen)
            await stop.wait()
        else:
            while not stop.is_set():
                try:
                    polling = await hold_polling()
                except Exception as error:
                    log.warning("cannot reach the database for the polling lease: %s", error)
                    polling = False
                if not polling:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), beat)
                    continue
                log.info("%s polls Telegram for updates", name)
                await bot.delete_webhook(drop_pending_updates=False)
                poller = asyncio.create_task(
                    dp.start_polling(bot, handle_signals=False, close_bot_session=False), name="polling"
                )
                while polling and not stop.is_set() and not poller.done():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), beat)
                    try:
                        polling = await hold_polling()
                    except Exception as error:
                        log.warning("cannot renew the polling lease: %s", error)
                if not polling:
                    log.warning("%s lost the polling lease; another instance polls now", name)
                try:
                    await dp.stop_polling()
                except RuntimeError:  # a stop before the poller began: it must not begin after it
                    poller.cancel()
                await asyncio.wait([poller], timeout=15)
                polling = False
    finally:
        scheduler.shutdown(wait=False)
        background[1].cancel()  # the menus can wait for the next start
        sender.stopping = True  # claimed but unsent rows go back to the outbox; sends in flight finish
        stop.set()
        sender.wake.set()
        _, pending = await asyncio.wait(background[:1], timeout=15)
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            async with session_pool() as session, session.begin():
                await release_lease(session, POLLING_LEASE, name)
        with contextlib.suppress(Exception):
            await night.release()
        if runner is not None:
            await runner.cleanup()
        await bot.session.close()
        await sender.bot.session.close()
