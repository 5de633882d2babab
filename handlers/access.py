"""The guard: anyone who is not a linked, active employee gets one short refusal and no data."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot import texts
from db.models import Employee


def unlinked(_: object, viewer: Employee | None = None) -> bool:
    return viewer is None


def setup() -> Router:
    router = Router(name="access")

    @router.message(unlinked)
    async def refuse_message(message: Message) -> None:
        await message.answer(texts.NO_ACCESS)

    @router.callback_query(unlinked)
    async def refuse_callback(callback: CallbackQuery) -> None:
        await callback.answer(texts.NO_ACCESS, show_alert=True)

    return router
