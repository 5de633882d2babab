"""/kpi [month] — the month's collection for the presser; a manager's KPI opened from /team."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.arguments import BadArgument, month_or_current, parse_month
from bot.keyboards import ManagerView, View
from bot.settings import Settings
from db.models import Employee
from handlers.common import linked_router, manager_in_scope, show, today_of
from handlers.screens import kpi_screen, team_screen


def setup() -> Router:
    router = linked_router("kpi")

    @router.message(Command("kpi"))
    async def kpi_command(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        today = today_of(clock)
        try:
            month = parse_month(command.args or "", today)
        except BadArgument as error:
            await message.answer(texts.bad_month(str(error)))
            return
        if viewer.role == "manager":
            screen = await kpi_screen(session, viewer, viewer, month, today, settings)
        else:  # a supervisor's or an admin's own KPI is their scope's
            screen = await team_screen(session, viewer, month, 0, today, settings)
        await message.answer(screen.text, reply_markup=screen.markup)

    @router.callback_query(ManagerView.filter(F.view == View.KPI))
    async def manager_kpi(
        callback: CallbackQuery,
        callback_data: ManagerView,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        manager = await manager_in_scope(callback, session, viewer, callback_data.manager)
        if manager is None:
            return
        today = today_of(clock)
        month = month_or_current(callback_data.month, today)
        await show(callback, await kpi_screen(session, viewer, manager, month, today, settings))

    return router
