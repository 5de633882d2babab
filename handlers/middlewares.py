"""Middlewares on ``dp.update``, outermost first: the reply scope (replies wait out a 429, see
``RetryReplies``); a per-user throttle; the callback answer; one database transaction per update and
the viewer (the linked, active employee behind the update, or ``None``).

The order matters: the callback is answered outside the transaction, after it committed or rolled
back, so a failed answer (the query is too old) can never undo work the person already sees."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import Response
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, TelegramObject, Update, User
from aiogram.utils.callback_answer import CallbackAnswer

from bot import texts
from db import queries
from db.session import SessionPool

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
REPLYING: ContextVar[bool] = ContextVar("replying", default=False)  # inside the handling of an update
MAX_REPLY_WAIT = 10  # seconds a reply may wait for Telegram's flood control
# aiogram checks every Bot API answer with ``Response[method.__returning__]``; pydantic keeps such
# parameterized models only weakly, so without a strong reference each request rebuilds the model
# class (about 10 ms of schema building per reply, measured with cProfile in bench/). One per type.
RESPONSE_MODELS: dict[Any, Any] = {}


class ReplyScope(BaseMiddleware):
    """Marks what is sent while an update is handled as a reply to a person (see ``RetryReplies``)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        token = REPLYING.set(True)
        try:
            return await handler(event, data)
        finally:
            REPLYING.reset(token)


class RetryReplies(BaseRequestMiddleware):
    """A reply refused with 429 is sent again after ``retry_after`` (once, up to ``MAX_REPLY_WAIT``
    seconds), as the digests are, so a reply is not lost to flood control. Only replies: the outbox
    sender, outside any update, keeps its own pacing and sees every 429 itself."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in RESPONSE_MODELS:
            RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            if not REPLYING.get() or error.retry_after > MAX_REPLY_WAIT:
                raise
            log.info("reply %s waits %s s for flood control", type(method).__name__, error.retry_after)
            await asyncio.sleep(error.retry_after)
            return await make_request(bot, method)


async def answer_callback(query: CallbackQuery, text: str | None = None, show_alert: bool | None = None) -> bool:
    """Answer ``query``; a failure (the query is too old, its id invalid, the network) is logged and
    swallowed: the answer only stops a spinner, it is never worth failing the update for."""
    try:
        await query.answer(text, show_alert=show_alert)
        return True
    except (TelegramAPIError, OSError, TimeoutError) as error:
        log.info("callback query %s was not answered: %s", query.id, error)
        return False


class CallbackAnswers(BaseMiddleware):
    """Every callback query answered exactly once, by infrastructure (the idea of aiogram's
    ``CallbackAnswerMiddleware``): handlers put a text into the injected ``callback_answer`` or raise
    ``Refused``; a failing handler gets "что-то пошло не так". The answer goes out as soon as the
    update's transaction is over; if it fails, the work stays done and the error handler does not
    answer the dead query again (the error handler never answers callbacks)."""

    def __init__(self, refusal: tuple[type[Exception], ...], text_of: Callable[[Exception], str]) -> None:
        self.refusal = refusal
        self.text_of = text_of

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        query = event.callback_query if isinstance(event, Update) else None
        if query is None:
            return await handler(event, data)
        answer = data["callback_answer"] = CallbackAnswer(answered=False)
        try:
            result = await handler(event, data)
        except self.refusal as refusal:
            await answer_callback(query, self.text_of(refusal), show_alert=True)
            raise
        except Exception:
            await answer_callback(query, texts.SOMETHING_WRONG, show_alert=True)
            raise
        if not answer.disabled:
            await answer_callback(query, answer.text, show_alert=answer.show_alert)
        return result


class ThrottleMiddleware(BaseMiddleware):
    """A token bucket per Telegram user: ``burst`` updates at once, then ``rate`` per second. The
    default follows Telegram's pace for one chat (about one message a second, short bursts allowed),
    so every reply we let through can also be delivered.

    Over the limit an update is dropped before it reaches the database; a callback query is still
    answered (Telegram shows a spinner until it is), and a message gets one notice per streak.
    """

    def __init__(self, rate: float = 1.0, burst: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.buckets: dict[int, tuple[float, float]] = {}
        self.warned: set[int] = set()

    def allow(self, user_id: int) -> bool:
        now = self.clock()
        tokens, last = self.buckets.get(user_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self.buckets[user_id] = (tokens, now)
            return False
        self.buckets[user_id] = (tokens - 1, now)
        if len(self.buckets) > 10000:  # forget the idle ones
            cutoff = now - self.burst / self.rate
            self.buckets = {u: b for u, b in self.buckets.items() if b[1] > cutoff}
        return True

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or self.allow(user.id):
            self.warned.discard(user.id if user else 0)
            return await handler(event, data)
        log.info("throttled update from user %s", user.id)
        if isinstance(event, Update) and event.callback_query is not None:
            await answer_callback(event.callback_query, texts.TOO_FAST)
        elif isinstance(event, Update) and event.message is not None and user.id not in self.warned:
            self.warned.add(user.id)
            await event.message.answer(texts.TOO_FAST)
        return None


class DatabaseMiddleware(BaseMiddleware):
    """One session and one transaction per update: committed on success, rolled back on error."""

    def __init__(self, pool: SessionPool) -> None:
        self.pool = pool

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.pool() as session, session.begin():
            data["session"] = session
            user: User | None = data.get("event_from_user")
            viewer = await queries.employee_by_telegram(session, user.id) if user else None
            if viewer is not None and viewer.unreachable_since is not None:
                viewer.unreachable_since = None  # they wrote to the bot: it is no longer blocked
            data["viewer"] = viewer if viewer is not None and viewer.active else None
            data["viewer_role"] = data["viewer"].role if data["viewer"] is not None else None  # for error handlers
            return await handler(event, data)
