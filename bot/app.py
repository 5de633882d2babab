"""Wiring: the Bot, the Dispatcher with its middlewares and routers, and the polling entry point.

``create_dispatcher`` is the one wiring function: production and the tests both call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

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


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
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


async def run_bot(settings: Settings, session_pool: SessionPool) -> None:
    """Long polling until SIGINT/SIGTERM, with the morning job and the outbox sender alongside.

    The scheduler only enqueues (every minute, and once right at start-up, so a late start still
    sends today's digests); the sender drains the outbox under Telegram's limits. Both start and stop
    with the dispatcher.
    """
    import asyncio

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from db import queries
    from handlers.commands import set_default_commands
    from jobs.morning import digest_trigger, morning_job
    from jobs.outbox import Sender

    bot = create_bot(settings)
    clock = system_clock(settings)
    sender = Sender(bot, session_pool, rate=settings.send_rate, lease_seconds=settings.outbox_lease_seconds,
                    zone=settings.zone)  # fmt: skip
    dp = create_dispatcher(settings, session_pool, clock=clock, sender=sender)
    scheduler = AsyncIOScheduler(timezone=settings.zone)
    stop = asyncio.Event()
    background: list[asyncio.Task[None]] = []

    async def on_startup() -> None:
        async with session_pool() as session:
            linked = [(e.telegram_id, e.role) for e in await queries.list_employees(session, active_only=True)
                      if e.telegram_id]  # fmt: skip
        background.append(asyncio.create_task(set_default_commands(bot, linked, sender.pacer.wait), name="menus"))
        background.append(asyncio.create_task(sender.run(stop), name="outbox-sender"))
        scheduler.add_job(
            morning_job(session_pool, settings, clock, sender.wake.set),
            digest_trigger(settings),
            id="morning",
            next_run_time=clock(),  # at once: a late start still sends today's digests
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        if settings.import_dir is not None:  # the watched folder: every minute, the night's run at IMPORT_TIME
            from jobs.imports import imports_job

            scheduler.add_job(imports_job(session_pool, settings, clock, sender.wake.set), digest_trigger(settings),
                              id="imports", next_run_time=clock(), coalesce=True, max_instances=1,
                              misfire_grace_time=None)  # fmt: skip
        scheduler.start()
        log.info("the morning job and the outbox sender are running (digests at %s)", settings.digest_time)

    async def on_shutdown() -> None:
        scheduler.shutdown(wait=False)
        background[0].cancel()  # the menus can wait for the next start
        sender.stopping = True  # claimed but unsent rows go back to the outbox; sends in flight finish
        stop.set()
        sender.wake.set()
        _, pending = await asyncio.wait(background[1:], timeout=15)
        for task in pending:
            task.cancel()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    try:
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
    finally:
        await bot.session.close()
