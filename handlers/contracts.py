"""/contracts [text] — the presser's active contracts, paged or searched; the contract card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keyboards import ContractCard, ManagerView, ScopeView, View
from db import queries
from db.models import Employee
from handlers.common import linked_router, manager_in_scope, show, today_of
from handlers.screens import Screen, contract_screen, contracts_screen


async def own_contracts(
    session: AsyncSession, viewer: Employee, page: int, query: str, clock: Callable[[], datetime]
) -> Screen:
    managers = await queries.managers_in_scope(session, viewer)
    title = "Ваши договоры" if viewer.role == "manager" else "Договоры команды"
    return await contracts_screen(
        session, managers, title, page, today_of(clock), query, {"view": View.CONTRACTS}, ScopeView
    )


def setup() -> Router:
    router = linked_router("contracts")

    @router.message(Command("contracts"))
    async def contracts_command(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        viewer: Employee,
        clock: Callable[[], datetime],
    ) -> None:
        query = (command.args or "").strip()[:100]
        screen = await own_contracts(session, viewer, 0, query, clock)
        await message.answer(screen.text, reply_markup=screen.markup)

    @router.callback_query(ScopeView.filter(F.view == View.CONTRACTS))
    async def own_page(
        callback: CallbackQuery,
        callback_data: ScopeView,
        session: AsyncSession,
        viewer: Employee,
        clock: Callable[[], datetime],
    ) -> None:
        await show(callback, await own_contracts(session, viewer, callback_data.page, "", clock))

    @router.callback_query(ManagerView.filter(F.view == View.CONTRACTS))
    async def manager_page(
        callback: CallbackQuery,
        callback_data: ManagerView,
        session: AsyncSession,
        viewer: Employee,
        clock: Callable[[], datetime],
    ) -> None:
        manager = await manager_in_scope(callback, session, viewer, callback_data.manager)
        if manager is None:
            return
        screen = await contracts_screen(
            session,
            [manager],
            f"Договоры: {manager.name}",
            callback_data.page,
            today_of(clock),
            "",
            {"view": View.CONTRACTS, "manager": manager.id},
            ManagerView,
        )
        await show(callback, screen)

    @router.callback_query(ContractCard.filter())
    async def card(
        callback: CallbackQuery,
        callback_data: ContractCard,
        session: AsyncSession,
        viewer: Employee,
        clock: Callable[[], datetime],
    ) -> None:
        info = await queries.get_contract(session, callback_data.contract)
        manager = await manager_in_scope(callback, session, viewer, info.manager_id if info else None)
        if info is None or manager is None:
            return
        await show(callback, await contract_screen(session, info, manager, viewer, today_of(clock)))

    return router
