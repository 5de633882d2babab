"""The buttons under a digest: each opens its screen as a new message, so the digest itself stays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.types import CallbackQuery, InaccessibleMessage
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.keyboards import Open
from bot.rules import Month, sees_team
from bot.settings import Settings
from db.models import Employee
from handlers.common import linked_router, today_of
from handlers.contracts import own_contracts
from handlers.debtors import own_debtors
from handlers.preferences import preferences_screen
from handlers.screens import Screen, kpi_screen, person, team_screen


def setup() -> Router:
    router = linked_router("digest_buttons")

    @router.callback_query(Open.filter())
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
        if view == "k" and viewer.role == "manager":
            screen = await kpi_screen(session, viewer, viewer, Month.of(today), today, settings)
        elif view in {"k", "t"} and sees_team(person(viewer)):
            screen = await team_screen(session, viewer, Month.of(today), 0, today, settings)
        elif view == "d":
            screen = await own_debtors(session, viewer, 0, clock, settings)
        elif view == "c":
            screen = await own_contracts(session, viewer, 0, "", clock)
        elif view == "s":
            screen = preferences_screen(viewer, settings, clock)
        message = callback.message
        if screen is None or message is None or isinstance(message, InaccessibleMessage):
            await callback.answer(texts.STALE if screen is not None else texts.NOT_YOURS, show_alert=True)
            return
        await message.answer(screen.text, reply_markup=screen.markup)
        await callback.answer()

    return router
