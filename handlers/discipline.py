"""/calls [name] [period] — discipline findings of the presser's scope (or of one named manager, for
supervisors and admins: ``/calls Иванов неделя``), grouped by rule; /docs — documents waiting for
their signed originals. Both paged; scope is resolved again on every page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.arguments import calls_period, calls_period_of_code, name_and_rest
from bot.keyboards import CallsView, DocsView
from bot.rules import sees_team
from bot.settings import Settings
from db import queries
from db.models import Employee
from handlers.common import checked_manager, linked_router, named_manager, show, today_of
from handlers.screens import calls_screen, docs_screen


async def calls_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    today = today_of(clock)
    manager = None
    if sees_team(queries.person_of(viewer)):
        name, period = name_and_rest(command.args or "", lambda text: calls_period(text, today))
        if name:
            manager = await named_manager(session, viewer, name)
    else:
        period = calls_period(command.args or "", today)
    screen = await calls_screen(session, viewer, period, 0, today, clock(), settings, manager)
    await message.answer(screen.text, reply_markup=screen.markup)


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
    manager = await checked_manager(session, viewer, callback_data.manager) if callback_data.manager else None
    screen = await calls_screen(session, viewer, period, callback_data.page, today, clock(), settings, manager)
    await show(callback, screen)


async def docs_command(
    message: Message, session: AsyncSession, viewer: Employee, settings: Settings, clock: Callable[[], datetime]
) -> None:
    screen = await docs_screen(session, viewer, 0, today_of(clock), settings)
    await message.answer(screen.text, reply_markup=screen.markup)


async def docs_page(
    callback: CallbackQuery,
    callback_data: DocsView,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    await show(callback, await docs_screen(session, viewer, callback_data.page, today_of(clock), settings))


def setup() -> Router:
    router = linked_router("discipline")
    router.message.register(calls_command, Command("calls"))
    router.callback_query.register(calls_page, CallsView.filter())
    router.message.register(docs_command, Command("docs"))
    router.callback_query.register(docs_page, DocsView.filter())
    return router
