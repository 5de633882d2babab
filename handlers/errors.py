"""The error handlers: a refusal or an unreadable argument is answered with its text; anything else is
logged with the update id and the person is told something went wrong. Callback queries are never
answered here: ``CallbackAnswers`` already answered each of them exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Message

from bot import texts
from bot.arguments import BadArgument
from bot.rules import Role
from handlers.common import Refused

log = logging.getLogger(__name__)
MAX_RETRY_WAIT = 30  # seconds: longer than this, the reply is not worth holding the update for


async def reply(event: ErrorEvent, text: str) -> None:
    """Answer the message behind ``event`` (callbacks are answered by the middleware), honouring one
    ``retry_after`` so the answer is not itself lost to a 429; never raises."""
    message = event.update.message
    if message is None:
        return
    for _ in range(2):
        try:
            await message.answer(text)
            return
        except TelegramRetryAfter as error:
            if error.retry_after > MAX_RETRY_WAIT:
                break
            await asyncio.sleep(error.retry_after)
        except (TelegramAPIError, OSError, TimeoutError) as error:
            log.warning("could not answer update %s: %s", event.update.update_id, error)
            return
    log.warning("could not answer update %s: flood control", event.update.update_id)


async def on_refused(event: ErrorEvent) -> bool:
    assert isinstance(event.exception, Refused)
    await reply(event, event.exception.text)
    return True


def command_of(message: Message | None) -> str:
    """``/kpi@kpi_bot abc`` → ``kpi``."""
    words = (message.text or "").split() if message is not None else []
    return words[0].lstrip("/").split("@")[0].lower() if words and words[0].startswith("/") else ""


async def on_bad_argument(event: ErrorEvent, clock: Callable[[], datetime], viewer_role: str | None = None) -> bool:
    """What was wrong, and how to write this command's argument (this year's dates in the examples)."""
    error = event.exception
    assert isinstance(error, BadArgument)
    team = viewer_role in {Role.SUPERVISOR, Role.ADMIN}
    examples = texts.examples_for(command_of(event.update.message), clock().date(), team=team)
    await reply(event, texts.bad_argument(error.reason, examples))
    return True


async def on_error(event: ErrorEvent) -> bool:
    """Log with the update id; tell the user something went wrong; keep serving."""
    log.error("update %s failed: %r", event.update.update_id, event.exception, exc_info=event.exception)
    await reply(event, texts.SOMETHING_WRONG)
    return True


def setup() -> Router:
    router = Router(name="errors")
    router.errors.register(on_refused, ExceptionTypeFilter(Refused))
    router.errors.register(on_bad_argument, ExceptionTypeFilter(BadArgument))
    router.errors.register(on_error)
    return router
