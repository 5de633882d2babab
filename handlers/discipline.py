"""/calls [period] — discipline findings of the presser's scope, grouped by rule; /docs — documents
waiting for their signed originals. Both paged; scope is resolved again on every page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.arguments import CALLS_EXAMPLES, BadArgument, calls_period, calls_period_of_code
from bot.keyboards import CallsView, DocsView
from bot.settings import Settings
from db.models import Employee
from handlers.common import linked_router, show, today_of
from handlers.screens import calls_screen, docs_screen


def setup() -> Router:
    router = linked_router("discipline")

    @router.message(Command("calls"))
    async def calls_command(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        today = today_of(clock)
        try:
            period = calls_period(command.args or "", today)
        except BadArgument as error:
            await message.answer(texts.bad_settings(str(error), CALLS_EXAMPLES))
            return
        screen = await calls_screen(session, viewer, period, 0, today, clock(), settings)
        await message.answer(screen.text, reply_markup=screen.markup)

    @router.callback_query(CallsView.filter())
    async def calls_page(
        callback: CallbackQuery,
        callback_data: CallsView,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        today = today_of(clock)
        period = calls_period_of_code(callback_data.period, today)
        await show(callback, await calls_screen(session, viewer, period, callback_data.page, today, clock(), settings))

    @router.message(Command("docs"))
    async def docs_command(
        message: Message, session: AsyncSession, viewer: Employee, settings: Settings, clock: Callable[[], datetime]
    ) -> None:
        screen = await docs_screen(session, viewer, 0, today_of(clock), settings)
        await message.answer(screen.text, reply_markup=screen.markup)

    @router.callback_query(DocsView.filter())
    async def docs_page(
        callback: CallbackQuery,
        callback_data: DocsView,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        await show(callback, await docs_screen(session, viewer, callback_data.page, today_of(clock), settings))

    return router
