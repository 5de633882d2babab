"""/debtors [name] — clients with debt, largest first, then this month's awaited payments; paged. A
supervisor or an admin may name one manager (``/debtors Иванов``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.keyboards import Back, ManagerView, ScopeView, View
from bot.rules import Role, sees_team
from bot.settings import Settings
from db import queries
from db.models import Employee
from handlers.common import ManagerInScope, linked_router, named_manager, show, today_of
from handlers.screens import Screen, debtors_screen


async def own_debtors(
    session: AsyncSession, viewer: Employee, page: int, clock: Callable[[], datetime], settings: Settings
) -> Screen:
    managers = await queries.managers_in_scope(session, viewer)
    departed = await queries.departed_in_scope(session, viewer)  # their contracts: "без менеджера"
    title = texts.OWN_DEBTORS if viewer.role == Role.MANAGER else texts.TEAM_DEBTORS
    return await debtors_screen(
        session,
        managers,
        title,
        page,
        today_of(clock),
        settings,
        {"view": View.DEBTORS},
        ScopeView,
        Back.DEBTORS,
        departed,
    )


async def managers_debtors(
    session: AsyncSession, manager: Employee, page: int, clock: Callable[[], datetime], settings: Settings
) -> Screen:
    return await debtors_screen(
        session,
        [manager],
        texts.debtors_of(manager.name),
        page,
        today_of(clock),
        settings,
        {"view": View.DEBTORS, "manager": manager.id},
        ManagerView,
        Back.MANAGER_DEBTORS,
    )


async def debtors_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    name = (command.args or "").strip()
    if name and sees_team(queries.person_of(viewer)):
        screen = await managers_debtors(session, await named_manager(session, viewer, name), 0, clock, settings)
    else:
        screen = await own_debtors(session, viewer, 0, clock, settings)
    await message.answer(screen.text, reply_markup=screen.markup)


async def own_page(
    callback: CallbackQuery,
    callback_data: ScopeView,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    await show(callback, await own_debtors(session, viewer, callback_data.page, clock, settings))


async def manager_page(
    callback: CallbackQuery,
    callback_data: ManagerView,
    manager: Employee,
    session: AsyncSession,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    await show(callback, await managers_debtors(session, manager, callback_data.page, clock, settings))


def setup() -> Router:
    router = linked_router("debtors")
    router.message.register(debtors_command, Command("debtors"))
    router.callback_query.register(own_page, ScopeView.filter(F.view == View.DEBTORS))
    router.callback_query.register(manager_page, ManagerView.filter(F.view == View.DEBTORS), ManagerInScope())
    return router
