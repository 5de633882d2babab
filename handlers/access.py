"""The guard: anyone who is not a linked, active employee gets one short refusal and no data."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot import texts
from db.models import Employee
from handlers.common import Refused


def unlinked(_: object, viewer: Employee | None = None) -> bool:
    return viewer is None


async def refuse(_: Message | CallbackQuery) -> None:
    raise Refused(texts.NO_ACCESS)


def setup() -> Router:
    router = Router(name="access")
    router.message.register(refuse, unlinked)
    router.callback_query.register(refuse, unlinked)
    return router
