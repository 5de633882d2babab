"""The command menus (setMyCommands): the default for everyone, and one per linked chat by role.
Failures are logged and never stop the bot."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

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


async def set_default_commands(
    bot: Bot, linked: list[tuple[int, str]], pace: Callable[[int], Awaitable[None]] | None = None
) -> None:
    """The default menu, then each linked chat's; ``pace(chat_id)`` waits for the sender's rate limit,
    so a thousand menus at start-up never crowd out the digests."""
    try:
        await bot.set_my_commands(
            [BotCommand(command=name, description=what) for name, what in texts.DEFAULT_COMMANDS],
            scope=BotCommandScopeDefault(),
        )
    except (TelegramAPIError, OSError, TimeoutError) as error:
        log.warning("setMyCommands (default) failed: %s", error)
    for chat_id, role in linked:
        if pace is not None:
            await pace(chat_id)
        await set_commands_for(bot, chat_id, role)
