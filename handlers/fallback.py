"""Last in line: free text or an unknown command gets a hint; an unknown button is answered."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.keyboards import NOOP


def setup() -> Router:
    router = Router(name="fallback")

    @router.callback_query(F.data == NOOP)
    async def noop(callback: CallbackQuery) -> None:
        await callback.answer()

    @router.callback_query()
    async def unknown_button(callback: CallbackQuery) -> None:
        await callback.answer(texts.STALE, show_alert=True)

    @router.message()
    async def hint(message: Message) -> None:
        await message.answer(texts.HINT)

    return router
