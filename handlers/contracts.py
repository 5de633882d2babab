"""/contracts [text] — the presser's active contracts, paged or searched; the contract card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.keyboards import Back, ContractCard, ManagerView, ScopeView, View
from bot.rules import Role
from db import queries
from db.models import Employee
from handlers.common import ContractInScope, ManagerInScope, linked_router, show, today_of
from handlers.screens import Screen, contract_screen, contracts_screen


async def own_contracts(
    session: AsyncSession, viewer: Employee, page: int, typed: str, clock: Callable[[], datetime]
) -> Screen:
    """``typed``: what followed /contracts (a search, cut to ``texts.SEARCH_QUERY_LIMIT``)."""
    managers = await queries.managers_in_scope(session, viewer)
    title = texts.OWN_CONTRACTS if viewer.role == Role.MANAGER else texts.TEAM_CONTRACTS
    query = texts.search_query(typed)
    return await contracts_screen(
        session, managers, title, page, today_of(clock), query, {"view": View.CONTRACTS}, ScopeView,
        Back.CONTRACTS, cut=len(typed.strip()) > len(query),
    )  # fmt: skip


async def contracts_command(
    message: Message, command: CommandObject, session: AsyncSession, viewer: Employee, clock: Callable[[], datetime]
) -> None:
    screen = await own_contracts(session, viewer, 0, command.args or "", clock)
    await message.answer(screen.text, reply_markup=screen.markup)


async def own_page(
    callback: CallbackQuery,
    callback_data: ScopeView,
    session: AsyncSession,
    viewer: Employee,
    clock: Callable[[], datetime],
) -> None:
    await show(callback, await own_contracts(session, viewer, callback_data.page, "", clock))


async def manager_page(
    callback: CallbackQuery,
    callback_data: ManagerView,
    manager: Employee,
    session: AsyncSession,
    clock: Callable[[], datetime],
) -> None:
    screen = await contracts_screen(
        session,
        [manager],
        texts.contracts_of(manager.name),
        callback_data.page,
        today_of(clock),
        "",
        {"view": View.CONTRACTS, "manager": manager.id},
        ManagerView,
        Back.MANAGER_CONTRACTS,
    )
    await show(callback, screen)


async def card(
    callback: CallbackQuery,
    callback_data: ContractCard,
    contract: queries.ContractInfo,
    manager: Employee,
    session: AsyncSession,
    clock: Callable[[], datetime],
) -> None:
    screen = await contract_screen(session, contract, manager, today_of(clock), callback_data.back, callback_data.page)
    await show(callback, screen)


def setup() -> Router:
    router = linked_router("contracts")
    router.message.register(contracts_command, Command("contracts"))
    router.callback_query.register(own_page, ScopeView.filter(F.view == View.CONTRACTS))
    router.callback_query.register(manager_page, ManagerView.filter(F.view == View.CONTRACTS), ManagerInScope())
    router.callback_query.register(card, ContractCard.filter(), ContractInScope())
    return router
