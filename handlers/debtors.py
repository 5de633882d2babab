"""/debtors — clients with debt, largest first, then this month's awaited payments; paged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keyboards import ManagerView, ScopeView, View
from bot.settings import Settings
from db import queries
from db.models import Employee
from handlers.common import linked_router, manager_in_scope, show, today_of
from handlers.screens import Screen, debtors_screen


async def own_debtors(
    session: AsyncSession, viewer: Employee, page: int, clock: Callable[[], datetime], settings: Settings
) -> Screen:
    managers = await queries.managers_in_scope(session, viewer)
    departed = await queries.departed_in_scope(session, viewer)  # their contracts: "без менеджера"
    title = "Ваши должники" if viewer.role == "manager" else "Должники команды"
    return await debtors_screen(
        session, managers, title, page, today_of(clock), settings, {"view": View.DEBTORS}, ScopeView, departed
    )


def setup() -> Router:
    router = linked_router("debtors")

    @router.message(Command("debtors"))
    async def debtors_command(
        message: Message, session: AsyncSession, viewer: Employee, settings: Settings, clock: Callable[[], datetime]
    ) -> None:
        screen = await own_debtors(session, viewer, 0, clock, settings)
        await message.answer(screen.text, reply_markup=screen.markup)

    @router.callback_query(ScopeView.filter(F.view == View.DEBTORS))
    async def own_page(
        callback: CallbackQuery,
        callback_data: ScopeView,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        await show(callback, await own_debtors(session, viewer, callback_data.page, clock, settings))

    @router.callback_query(ManagerView.filter(F.view == View.DEBTORS))
    async def manager_page(
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
        screen = await debtors_screen(
            session,
            [manager],
            f"Должники: {manager.name}",
            callback_data.page,
            today_of(clock),
            settings,
            {"view": View.DEBTORS, "manager": manager.id},
            ManagerView,
        )
        await show(callback, screen)

    return router
