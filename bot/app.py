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
from aiogram.types import ErrorEvent

from bot import texts
from bot.settings import Settings
from db.session import SessionPool
from handlers import access, contracts, debtors, fallback, invite, kpi, start, team
from handlers.middlewares import DatabaseMiddleware, ThrottleMiddleware

log = logging.getLogger(__name__)


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = AiohttpSession()
        if settings.telegram_api_url:
            session.api = TelegramAPIServer.from_base(settings.telegram_api_url)
    return Bot(settings.token(), session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def system_clock(settings: Settings) -> Callable[[], datetime]:
    zone = settings.zone
    return lambda: datetime.now(zone)


async def on_error(event: ErrorEvent) -> bool:
    """Log with the update id; tell the user something went wrong; keep polling."""
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception, exc_info=event.exception)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.SOMETHING_WRONG, show_alert=True)
        elif update.message is not None:
            await update.message.answer(texts.SOMETHING_WRONG)
    except Exception:  # the error report must never raise on its own
        log.exception("could not tell the user about the failure of update %s", update.update_id)
    return True


def create_dispatcher(
    settings: Settings,
    session_pool: SessionPool,
    *,
    clock: Callable[[], datetime] | None = None,
    throttle: ThrottleMiddleware | None = None,
    **extra: Any,
) -> Dispatcher:
    dp = Dispatcher(settings=settings, clock=clock or system_clock(settings), **extra)
    dp.update.outer_middleware(throttle or ThrottleMiddleware())
    dp.update.outer_middleware(DatabaseMiddleware(session_pool))
    dp.errors.register(on_error)
    dp.include_routers(
        start.setup(),
        access.setup(),
        kpi.setup(),
        debtors.setup(),
        contracts.setup(),
        team.setup(),
        invite.setup(),
        fallback.setup(),
    )
    return dp


async def run_bot(settings: Settings, session_pool: SessionPool) -> None:
    """Long polling until SIGINT/SIGTERM; the command menus are set on the way up."""
    from db import queries
    from handlers.commands import set_default_commands

    bot = create_bot(settings)
    dp = create_dispatcher(settings, session_pool)
    async with session_pool() as session:
        linked = [(e.telegram_id, e.role) for e in await queries.list_employees(session, active_only=True)
                  if e.telegram_id]  # fmt: skip
    try:
        await set_default_commands(bot, linked)
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
    finally:
        await bot.session.close()
