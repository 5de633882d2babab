"""/team [month] — supervisors and admins: one line per manager in scope, worst first, and the total."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.arguments import month_or_current, parse_month
from bot.keyboards import TeamView
from bot.settings import Settings
from db.models import Employee
from handlers.common import TeamViewer, linked_router, show, today_of
from handlers.screens import team_screen


async def team_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    today = today_of(clock)
    month = parse_month(command.args or "", today)
    screen = await team_screen(session, viewer, month, 0, today, settings)
    await message.answer(screen.text, reply_markup=screen.markup)


async def team_page(
    callback: CallbackQuery,
    callback_data: TeamView,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    today = today_of(clock)
    month = month_or_current(callback_data.month, today)
    await show(callback, await team_screen(session, viewer, month, callback_data.page, today, settings))


def setup() -> Router:
    router = linked_router("team")
    router.message.register(team_command, Command("team"), TeamViewer())
    router.callback_query.register(team_page, TeamView.filter(), TeamViewer())
    return router
