"""/invite <employee id or part of the name> — admins get a one-time link for an employee."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from db import queries
from db.models import Employee
from handlers.common import linked


def invite_link(username: str, token: str) -> str:
    return f"https://t.me/{username}?start={token}"


def setup() -> Router:
    router = Router(name="invite")
    router.message.filter(linked)

    @router.message(Command("invite"))
    async def invite_command(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        viewer: Employee,
        bot: Bot,
        clock: Callable[[], datetime],
    ) -> None:
        if viewer.role != "admin":
            await message.answer("Приглашения выдаёт администратор.")
            return
        query = (command.args or "").strip()
        if not query:
            await message.answer("Кого пригласить? Например: /invite 000000002 или /invite Иванов")
            return
        matches = queries.matching_employees(await queries.list_employees(session, active_only=True), query)
        if not matches:
            await message.answer(f"Сотрудник «{texts.q(query)}» не найден.")
            return
        if len(matches) > 1:
            names = "\n".join(f"{texts.q(e.id)} — {texts.q(e.name)}" for e in matches[:20])
            await message.answer(f"Нашлось несколько, уточните (можно по коду):\n{names}")
            return
        employee = matches[0]
        now = clock().astimezone(UTC).replace(tzinfo=None)
        invite = await queries.create_invite(session, employee.id, now)
        me = await bot.me()
        expires = invite.expires_at.replace(tzinfo=UTC).astimezone(clock().tzinfo)
        await message.answer(texts.invite_text(employee.name, invite_link(me.username or "", invite.token), expires))

    return router
