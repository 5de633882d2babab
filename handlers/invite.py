"""/invite <employee id or part of the name> — admins get a one-time link for an employee."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.rules import Role
from db import queries
from db.models import Employee
from handlers.common import Refused, linked


def invite_link(username: str, token: str) -> str:
    return f"https://t.me/{username}?start={token}"


async def invite_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    viewer: Employee,
    bot: Bot,
    clock: Callable[[], datetime],
) -> None:
    if viewer.role != Role.ADMIN:
        raise Refused(texts.INVITES_ADMIN_ONLY)
    query = (command.args or "").strip()
    if not query:
        raise Refused(texts.INVITE_WHOM)
    matches = queries.matching_employees(await queries.list_employees(session, active_only=True), query)
    if not matches:
        raise Refused(texts.employee_not_found(query))
    if len(matches) > 1:
        raise Refused(texts.several_employees([(e.id, e.name) for e in matches]))
    employee = matches[0]
    now = clock().astimezone(UTC).replace(tzinfo=None)
    invite = await queries.create_invite(session, employee.id, now)
    me = await bot.me()
    expires = invite.expires_at.replace(tzinfo=UTC).astimezone(clock().tzinfo)
    await message.answer(texts.invite_text(employee.name, invite_link(me.username or "", invite.token), expires))


def setup() -> Router:
    router = Router(name="invite")
    router.message.filter(linked)
    router.message.register(invite_command, Command("invite"))
    return router
