"""The buttons under a digest: each opens its screen as a new message, so the digest itself stays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.types import CallbackQuery, InaccessibleMessage
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.keyboards import Open, OpenScreen
from bot.rules import Month, Role, sees_team
from bot.settings import Settings
from db import queries
from db.models import Employee
from handlers.common import Refused, linked_router, today_of
from handlers.contracts import own_contracts
from handlers.debtors import own_debtors
from handlers.preferences import preferences_screen
from handlers.screens import Screen, kpi_screen, team_screen


async def open_screen(
    callback: CallbackQuery,
    callback_data: Open,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    today = today_of(clock)
    view = callback_data.view
    screen: Screen | None = None
    if view == OpenScreen.KPI and viewer.role == Role.MANAGER:
        screen = await kpi_screen(session, viewer, viewer, Month.of(today), today, settings)
    elif view in {OpenScreen.KPI, OpenScreen.TEAM} and sees_team(queries.person_of(viewer)):
        screen = await team_screen(session, viewer, Month.of(today), 0, today, settings)
    elif view == OpenScreen.DEBTORS:
        screen = await own_debtors(session, viewer, 0, clock, settings)
    elif view == OpenScreen.CONTRACTS:
        screen = await own_contracts(session, viewer, 0, "", clock)
    elif view == OpenScreen.SETTINGS:
        screen = preferences_screen(viewer, settings, clock)
    if screen is None:
        raise Refused(texts.NOT_YOURS)
    message = callback.message
    if message is None or isinstance(message, InaccessibleMessage):
        raise Refused(texts.STALE)
    await message.answer(screen.text, reply_markup=screen.markup)


def setup() -> Router:
    router = linked_router("digest_buttons")
    router.callback_query.register(open_screen, Open.filter(F.view.in_(set(OpenScreen))))
    return router
