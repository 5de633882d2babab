"""/start (with an invitation token or without) and /help. Open to everyone: this is how people link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from db import queries
from db.models import Employee
from handlers.commands import set_commands_for


async def start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    viewer: Employee | None,
    bot: Bot,
    clock: Callable[[], datetime],
) -> None:
    token = (command.args or "").strip()
    if token and message.from_user is not None:
        now = clock().astimezone(UTC).replace(tzinfo=None)
        result, employee = await queries.redeem_invite(session, token[:200], message.from_user.id, now)
        if result is not queries.Redeemed.LINKED or employee is None:
            await message.answer(texts.INVITE_RESULTS[result.value])
            return
        viewer = employee
        await set_commands_for(bot, message.chat.id, employee.role)
    if viewer is None:
        await message.answer(texts.NO_ACCESS)
        return
    await message.answer(texts.start_text(viewer.name, viewer.role))


async def help_command(message: Message, viewer: Employee | None) -> None:
    await message.answer(texts.help_text(viewer.role) if viewer else texts.NO_ACCESS)


def setup() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    return router
