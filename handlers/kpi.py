"""/kpi [name] [month] — the month's collection for the presser; for supervisors and admins, their
scope's, or one manager's by name (``/kpi Иванов``, ``/kpi Иванов январь``); a manager's KPI opened
from /team."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.arguments import month_or_current, name_and_rest, parse_month
from bot.keyboards import ManagerView, View
from bot.rules import sees_team
from bot.settings import Settings
from db import queries
from db.models import Employee
from handlers.common import ManagerInScope, linked_router, named_manager, show, today_of
from handlers.screens import kpi_screen, team_screen


async def kpi_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    today = today_of(clock)
    if not sees_team(queries.person_of(viewer)):
        screen = await kpi_screen(session, viewer, viewer, parse_month(command.args or "", today), today, settings)
    else:
        name, month = name_and_rest(command.args or "", lambda text: parse_month(text, today))
        if name:
            manager = await named_manager(session, viewer, name)
            screen = await kpi_screen(session, viewer, manager, month, today, settings)
        else:  # a supervisor's or an admin's own KPI is their scope's
            screen = await team_screen(session, viewer, month, 0, today, settings)
    await message.answer(screen.text, reply_markup=screen.markup)


async def manager_kpi(
    callback: CallbackQuery,
    callback_data: ManagerView,
    manager: Employee,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    today = today_of(clock)
    month = month_or_current(callback_data.month, today)
    await show(callback, await kpi_screen(session, viewer, manager, month, today, settings))


def setup() -> Router:
    router = linked_router("kpi")
    router.message.register(kpi_command, Command("kpi"))
    router.callback_query.register(manager_kpi, ManagerView.filter(F.view == View.KPI), ManagerInScope())
    return router
