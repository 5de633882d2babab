"""Helpers shared by the feature routers: editing a message in place, and scope checks on use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InaccessibleMessage
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.rules import can_view
from db import queries
from db.models import Employee
from handlers.screens import Screen, person


def linked(_: Any, viewer: Employee | None = None) -> bool:
    """Router filter: only linked, active employees get past it."""
    return viewer is not None


def linked_router(name: str) -> Router:
    """A feature router that only linked, active employees reach (the guard answered the rest)."""
    router = Router(name=name)
    router.message.filter(linked)
    router.callback_query.filter(linked)
    return router


def today_of(clock: Callable[[], datetime]) -> date:
    return clock().date()


async def show(callback: CallbackQuery, screen: Screen) -> None:
    """Edit the pressed message in place and answer the callback (always exactly once)."""
    message = callback.message
    if message is None or isinstance(message, InaccessibleMessage):
        await callback.answer(texts.STALE, show_alert=True)
        return
    try:
        await message.edit_text(screen.text, reply_markup=screen.markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in str(error):
            raise
    await callback.answer()


async def manager_in_scope(
    callback: CallbackQuery, session: AsyncSession, viewer: Employee, manager_id: str | None
) -> Employee | None:
    """The manager, if ``viewer`` may see them now (checked when the button is pressed).

    Otherwise the callback is answered with the polite refusal here, so no caller can forget to
    answer it, and ``None`` is returned.
    """
    manager = await queries.get_employee(session, manager_id) if manager_id is not None else None
    if manager is None or not can_view(person(viewer), person(manager)):
        await callback.answer(texts.NOT_YOURS, show_alert=True)
        return None
    return manager
