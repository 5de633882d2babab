"""Middlewares on ``dp.update``: a per-user throttle, one database transaction per update, and the
viewer (the linked, active employee behind the update, or ``None``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User

from bot import texts
from db import queries
from db.session import SessionPool

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ThrottleMiddleware(BaseMiddleware):
    """A token bucket per Telegram user: ``burst`` updates at once, then ``rate`` per second.

    Over the limit an update is dropped before it reaches the database; a callback query is still
    answered (Telegram shows a spinner until it is), and a message gets one notice per streak.
    """

    def __init__(self, rate: float = 2.0, burst: int = 8, clock: Callable[[], float] = time.monotonic) -> None:
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
            await event.callback_query.answer(texts.TOO_FAST)
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
            return await handler(event, data)
