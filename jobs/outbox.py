"""The outbox: every message the bot sends on its own (digests, statements, notices) is a row first.

A row is unique per (employee, kind, day), so enqueueing twice is harmless. The sender claims due
rows with a lease (``status='sending'``, ``claimed_until``), sends them under Telegram's limits and
records the result. Claiming is one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``:
PostgreSQL skips rows another process holds, SQLite runs the statement under its single writer lock.

Exactly once, and the one exception: a row is marked sent in the transaction after Telegram
accepted it. If the process dies between Telegram's answer and that commit, the row's lease expires
(``OUTBOX_LEASE_SECONDS``) and it is sent again, so the messages in flight at a kill -9 (at most
``CONCURRENCY``) can arrive twice; every other row arrives exactly once.

Failures: 429 puts the row back after ``retry_after`` and pauses all sending that long; network and
server errors retry with exponential backoff (up to ``MAX_ATTEMPTS``); 403 (the user blocked the
bot) fails the row, marks the employee unreachable and tells the admins once; 400 fails the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from db.models import Employee, OutboxMessage
from db.queries import insert_ignoring_duplicates
from db.session import SessionPool

log = logging.getLogger(__name__)

CONCURRENCY = 8  # requests in flight at once; Telegram answers in ~50-300 ms, so 8 keep 30/s busy
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
MAX_ATTEMPTS = 20  # network/server failures before a row is given up as failed
MAX_BACKOFF = 300.0
POLL_SECONDS = 2.0

Clock = Callable[[], datetime]  # naive UTC
Sleep = Callable[[float], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def sender_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


@dataclass(frozen=True)
class Message:
    employee_id: str
    kind: str
    day: date
    chat_id: int
    text: str
    markup: InlineKeyboardMarkup | None = None
    document: tuple[str, bytes] | None = None  # (file name, bytes): sent with ``text`` as its caption

    def values(self, now: datetime) -> dict[str, Any]:
        return {
            "employee_id": self.employee_id,
            "kind": self.kind,
            "day": self.day,
            "chat_id": self.chat_id,
            "text": self.text,
            "markup": self.markup.model_dump_json(exclude_none=True) if self.markup is not None else None,
            "document_name": self.document[0] if self.document is not None else None,
            "document": self.document[1] if self.document is not None else None,
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }


async def enqueue(session: AsyncSession, messages: Sequence[Message], now: datetime) -> int:
    """Add the messages that are not in the outbox yet; returns how many were added."""
    if not messages:
        return 0
    added = 0
    for message in messages:  # one by one: rowcount then counts exactly the rows added
        result = await session.execute(insert_ignoring_duplicates(session, OutboxMessage).values(message.values(now)))
        added += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return added


async def replace(session: AsyncSession, message: Message, now: datetime) -> None:
    """``--force``: put the message in the outbox again, re-rendered, even if it was delivered."""
    existing = (
        await session.execute(
            select(OutboxMessage).where(
                OutboxMessage.employee_id == message.employee_id,
                OutboxMessage.kind == message.kind,
                OutboxMessage.day == message.day,
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        await enqueue(session, [message], now)
        return
    values = message.values(now)
    for name in ("chat_id", "text", "markup", "document_name", "document", "status", "attempts", "not_before"):
        setattr(existing, name, values[name])
    existing.claimed_until = None
    existing.claimed_by = None
    existing.error = None


# --------------------------------------------------------------------------------------------------
# Pacing: ≤ rate messages per second overall, ≥ CHAT_INTERVAL between two to one chat
# --------------------------------------------------------------------------------------------------


class Pacer:
    """Hands out send times. Reservations are made without awaiting, so concurrent senders never
    share a slot; ``pause`` pushes every later slot back (Telegram's 429 is for the whole bot)."""

    def __init__(
        self, rate: float, monotonic: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.gap = 1.0 / rate
        self.monotonic = monotonic
        self.sleep = sleep
        self.next_slot = 0.0
        self.chat_next: dict[int, float] = {}

    def reserve(self, chat_id: int) -> float:
        now = self.monotonic()
        slot = max(now, self.next_slot, self.chat_next.get(chat_id, 0.0))
        self.next_slot = slot + self.gap
        self.chat_next[chat_id] = slot + CHAT_INTERVAL
        if len(self.chat_next) > 10000:
            self.chat_next = {c: t for c, t in self.chat_next.items() if t > now}
        return slot

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until ``chat_id`` may get its next message (0 when it may now)."""
        return max(self.chat_next.get(chat_id, 0.0) - self.monotonic(), 0.0)

    async def wait(self, chat_id: int) -> None:
        delay = self.reserve(chat_id) - self.monotonic()
        if delay > 0:
            await self.sleep(delay)

    def pause(self, seconds: float) -> None:
        self.next_slot = max(self.next_slot, self.monotonic() + seconds)


# --------------------------------------------------------------------------------------------------
# The sender
# --------------------------------------------------------------------------------------------------


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.not_before <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


@dataclass(frozen=True)
class Outcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Sender:
    def __init__(
        self,
        bot: Bot,
        pool: SessionPool,
        *,
        rate: float,
        lease_seconds: int,
        zone: Any,
        clock: Clock = utc_now,
        pacer: Pacer | None = None,
        name: str | None = None,
    ) -> None:
        self.bot = bot
        self.pool = pool
        self.lease = timedelta(seconds=lease_seconds)
        self.zone = zone
        self.clock = clock
        self.pacer = pacer or Pacer(rate)
        self.name = name or sender_name()
        self.wake = asyncio.Event()
        self.stopping = False
        self.blocked_chats: set[int] = set()  # 403 seen by this sender: the rest of the batch skips them

    async def claim(self, limit: int) -> list[OutboxMessage]:
        """Take up to ``limit`` due rows under a lease; other senders skip them."""
        now = self.clock()
        async with self.pool() as session, session.begin():
            # a cheap look first: an idle sender must not take SQLite's write lock every poll
            if (await session.execute(select(OutboxMessage.id).where(_due(now)).limit(1))).first() is None:
                return []
            # a materialized CTE: PostgreSQL may run a plain IN (subquery) more than once, and then
            # LIMIT … SKIP LOCKED would hand out more rows than asked
            candidates = (
                select(OutboxMessage.id)
                .where(_due(now))
                .order_by(OutboxMessage.not_before, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .cte("candidates")
                .prefix_with("MATERIALIZED")
            )
            claimed = (
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(select(candidates.c.id)), _due(now))
                    .values(
                        status="sending",
                        claimed_until=now + self.lease,
                        claimed_by=self.name,
                        attempts=OutboxMessage.attempts + 1,
                    )
                    .returning(OutboxMessage.id)
                )
            ).scalars()
            ids = sorted(claimed)
            if not ids:
                return []
            rows = (await session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).scalars()
            return sorted(rows, key=lambda row: row.id)

    async def drain(self, *, only_ids: set[int] | None = None) -> Outcome:
        """Send everything due now, batch after batch, until nothing is due (or stopping)."""
        total = Outcome()
        while not self.stopping:
            rows = await self.claim(CONCURRENCY * 4)
            if not rows:
                break
            outcome = await self.send_batch(rows)
            total = Outcome(total.sent + outcome.sent, total.retried + outcome.retried, total.failed + outcome.failed)
        return total

    async def send_batch(self, rows: list[OutboxMessage]) -> Outcome:
        gate = asyncio.Semaphore(CONCURRENCY)
        results: list[str] = []

        async def one(row: OutboxMessage) -> None:
            async with gate:
                results.append(await self.send_one(row))

        await asyncio.gather(*(one(row) for row in rows))
        return Outcome(results.count("sent"), results.count("retry"), results.count("failed"))

    async def send_one(self, row: OutboxMessage) -> str:
        if self.stopping:
            await self._release(row)
            return "retry"
        if row.chat_id in self.blocked_chats:
            await self._fail(row, "403: not sent, the user has blocked the bot")
            return "failed"
        chat_delay = self.pacer.chat_delay(row.chat_id)
        if chat_delay > 0:  # this chat just got a message: let the others go first, not block the line
            await self._release(row, chat_delay)
            return "deferred"
        await self.pacer.wait(row.chat_id)
        markup = InlineKeyboardMarkup.model_validate(json.loads(row.markup)) if row.markup else None
        try:
            message = await self._deliver(row, markup)
        except TelegramRetryAfter as error:
            self.pacer.pause(error.retry_after)
            log.warning("outbox %s: flood control, retry in %s s", row.id, error.retry_after)
            await self._retry(row, float(error.retry_after), f"429: {error.message}")
            return "retry"
        except TelegramForbiddenError as error:
            await self._blocked(row, error.message)
            return "failed"
        except (TelegramBadRequest, TelegramNotFound) as error:
            log.error("outbox %s to %s rejected: %s", row.id, row.employee_id, error.message)
            await self._fail(row, f"{type(error).__name__}: {error.message}")
            return "failed"
        except Exception as error:  # network, server (5xx), timeouts: back off and try again
            log.warning("outbox %s: %s: %s", row.id, type(error).__name__, error)
            if row.attempts >= MAX_ATTEMPTS:
                await self._fail(row, f"gave up after {row.attempts} attempts: {type(error).__name__}: {error}")
                return "failed"
            await self._retry(row, min(2.0**row.attempts, MAX_BACKOFF), f"{type(error).__name__}: {error}")
            return "retry"
        await self._finish(row, status="sent", telegram_message_id=message.message_id, sent_at=self.clock(), error=None)
        return "sent"

    async def _deliver(self, row: OutboxMessage, markup: InlineKeyboardMarkup | None) -> Any:
        """A text row is one sendMessage. A row with a document is one sendDocument with the text as
        its caption when the text fits a caption (``texts.MAX_CAPTION`` UTF-16 units), else the text
        as a message and the file after it (a retry after the file failed sends the text again)."""
        if row.document is None:
            return await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
        file = BufferedInputFile(row.document, filename=row.document_name or "document.xlsx")
        if texts.utf16_len(row.text) <= texts.MAX_CAPTION:
            return await self.bot.send_document(row.chat_id, file, caption=row.text, reply_markup=markup)
        await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
        return await self.bot.send_document(row.chat_id, file)

    async def _finish(self, row: OutboxMessage, **values: Any) -> None:
        async with self.pool() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == self.name)
                .values(claimed_until=None, **values)
            )

    async def _retry(self, row: OutboxMessage, seconds: float, error: str) -> None:
        not_before = self.clock() + timedelta(seconds=seconds)
        await self._finish(row, status="pending", not_before=not_before, error=error[:500])

    async def _release(self, row: OutboxMessage, delay: float = 0.0) -> None:
        """Give a claimed row back untried (it does not count as an attempt)."""
        values: dict[str, Any] = {"status": "pending", "claimed_until": None, "attempts": OutboxMessage.attempts - 1}
        if delay:
            values["not_before"] = self.clock() + timedelta(seconds=delay)
        async with self.pool() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == self.name)
                .values(**values)
            )

    async def next_due_in(self) -> float | None:
        """Seconds until the earliest pending row is due (``None``: nothing pending)."""
        async with self.pool() as session:
            soonest = (
                await session.execute(
                    select(OutboxMessage.not_before)
                    .where(OutboxMessage.status == "pending")
                    .order_by(OutboxMessage.not_before)
                    .limit(1)
                )
            ).scalar_one_or_none()
        return None if soonest is None else max((soonest - self.clock()).total_seconds(), 0.0)

    async def _fail(self, row: OutboxMessage, error: str) -> None:
        await self._finish(row, status="failed", error=error[:500])

    async def _blocked(self, row: OutboxMessage, description: str) -> None:
        """403: fail the row; the first time, mark the employee unreachable and tell the admins."""
        now = self.clock()
        self.blocked_chats.add(row.chat_id)
        async with self.pool() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == self.name)
                .values(status="failed", claimed_until=None, error=f"403: {description}"[:500])
            )
            await session.execute(  # the employee's other waiting messages would only meet the same 403
                update(OutboxMessage)
                .where(OutboxMessage.employee_id == row.employee_id, OutboxMessage.status == "pending")
                .values(status="failed", error="403: not sent, the user has blocked the bot")
            )
            marked = await session.execute(
                update(Employee)
                .where(Employee.id == row.employee_id, Employee.unreachable_since.is_(None))
                .values(unreachable_since=now)
            )
            if not marked.rowcount:  # type: ignore[attr-defined]
                return  # already known: the admins were told then
            employee = await session.get(Employee, row.employee_id)
            log.warning("employee %s blocked the bot; telling the admins", row.employee_id)
            admins = (
                await session.execute(
                    select(Employee).where(
                        Employee.role == "admin",
                        Employee.active.is_(True),
                        Employee.telegram_id.is_not(None),
                        Employee.unreachable_since.is_(None),
                    )
                )
            ).scalars()
            today = now.replace(tzinfo=UTC).astimezone(self.zone).date()
            name = employee.name if employee is not None else row.employee_id
            notices = [
                Message(admin.id, f"blocked:{row.employee_id}"[:80], today, admin.telegram_id or 0,
                        texts.blocked_notice(name, row.employee_id))
                for admin in admins
            ]  # fmt: skip
            await enqueue(session, notices, now)
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then sleep until woken (something was enqueued) or the next poll; until ``stop``."""
        while not stop.is_set():
            try:
                await self.drain()
            except Exception:  # the database went away for a moment: keep the loop alive
                log.exception("the outbox sender failed; trying again in %s s", POLL_SECONDS)
            self.wake.clear()
            timeout = POLL_SECONDS
            with contextlib.suppress(Exception):
                soonest = await self.next_due_in()
                if soonest is not None:
                    timeout = min(max(soonest, 0.05), POLL_SECONDS)
            waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        self.stopping = True


async def drain_day(sender: Sender, day: date, patience: float = 60.0) -> tuple[Outcome, int]:
    """Send ``day``'s rows now; wait for retries due within ``patience`` seconds (a 429, a network
    hiccup); returns the outcome and how many rows are left pending for ``kpibot run``."""
    total = Outcome()
    while True:
        outcome = await sender.drain()
        total = Outcome(total.sent + outcome.sent, total.retried + outcome.retried, total.failed + outcome.failed)
        async with sender.pool() as session:
            rows = await session.execute(
                select(OutboxMessage.status, OutboxMessage.not_before, OutboxMessage.claimed_until).where(
                    OutboxMessage.day == day, OutboxMessage.status.in_(("pending", "sending"))
                )
            )
            # a pending row is due at not_before; a row another sender holds, when its lease ends
            waiting = [(claimed if status == "sending" and claimed else due) for status, due, claimed in rows]
        if not waiting:
            return total, 0
        now = sender.clock()
        soonest = min(waiting)
        if soonest > now + timedelta(seconds=patience):
            return total, len(waiting)
        await asyncio.sleep(max((soonest - now).total_seconds(), 0.05))
