"""The command menus (setMyCommands): the default for everyone, and one per linked chat by role.
Failures are logged and never stop the bot."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot import texts

log = logging.getLogger(__name__)


def menu(role: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=what[:256]) for name, what in texts.commands_for(role)]


async def set_commands_for(bot: Bot, chat_id: int, role: str) -> bool:
    try:
        await bot.set_my_commands(menu(role), scope=BotCommandScopeChat(chat_id=chat_id))
        return True
    except (TelegramAPIError, OSError, TimeoutError) as error:
        log.warning("setMyCommands for chat %s failed: %s", chat_id, error)
        return False


async def set_default_commands(bot: Bot, linked: list[tuple[int, str]]) -> None:
    try:
        await bot.set_my_commands(
            [BotCommand(command="start", description="начать"), BotCommand(command="help", description="команды")],
            scope=BotCommandScopeDefault(),
        )
    except (TelegramAPIError, OSError, TimeoutError) as error:
        log.warning("setMyCommands (default) failed: %s", error)
    for chat_id, role in linked:
        await set_commands_for(bot, chat_id, role)
