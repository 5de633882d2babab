"""/team [month] — supervisors and admins: one line per manager in scope, worst first, and the total."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.arguments import BadArgument, month_or_current, parse_month
from bot.keyboards import TeamView
from bot.rules import sees_team
from bot.settings import Settings
from db.models import Employee
from handlers.common import linked_router, show, today_of
from handlers.screens import person, team_screen


def setup() -> Router:
    router = linked_router("team")

    @router.message(Command("team"))
    async def team_command(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        if not sees_team(person(viewer)):
            await message.answer("Команда доступна руководителям. Ваши цифры — /kpi")
            return
        today = today_of(clock)
        try:
            month = parse_month(command.args or "", today)
        except BadArgument as error:
            await message.answer(texts.bad_month(str(error)).replace("/kpi", "/team"))
            return
        screen = await team_screen(session, viewer, month, 0, today, settings)
        await message.answer(screen.text, reply_markup=screen.markup)

    @router.callback_query(TeamView.filter())
    async def team_page(
        callback: CallbackQuery,
        callback_data: TeamView,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        if not sees_team(person(viewer)):
            await callback.answer(texts.NOT_YOURS, show_alert=True)
            return
        today = today_of(clock)
        month = month_or_current(callback_data.month, today)
        await show(callback, await team_screen(session, viewer, month, callback_data.page, today, settings))

    return router
