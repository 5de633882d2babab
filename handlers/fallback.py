"""Last in line: free text or an unknown command gets a hint; an unknown button is answered."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.keyboards import NOOP
from handlers.common import Refused


async def noop(_: CallbackQuery) -> None:
    """The page counter between ◀ and ▶: the middleware's empty answer is all it needs."""


async def unknown_button(_: CallbackQuery) -> None:
    raise Refused(texts.STALE)


async def hint(message: Message) -> None:
    await message.answer(texts.HINT)


def setup() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(noop, F.data == NOOP)
    router.callback_query.register(unknown_button)
    router.message.register(hint)
    return router
