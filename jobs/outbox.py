"""The outbox: every message the bot sends on its own (digests, statements, notices) is a row first.

A row is unique per (employee, kind, day), so enqueueing twice is harmless. docs/delivery.md states
the guarantees; in short:

- **One sender at a time.** Of all processes on one database, the one holding the ``outbox`` lease
  sends (``db.queries.outbox.take_lease``); so the bot's whole send rate (``SEND_RATE``) lives in one
  pacer, whatever the number of instances. The holder renews the lease and the leases of its rows
  every ``OUTBOX_LEASE_SECONDS / 3`` (the heartbeat); a dead holder's lease and rows are taken over
  after ``OUTBOX_LEASE_SECONDS``.
- **A row is sent only by the process that holds it.** A sender claims a few rows (what it sends in
  well under a second), and a send starts with one atomic ``UPDATE … SET status='sending' WHERE
  claimed_by = me AND status = 'claimed'``; a process that lost a row (its lease ran out and another
  process took it) finds nothing to update and does not send.
- **The one duplicate:** a row is ``sending`` only while its request is in flight. If the process
  dies then, Telegram may have delivered the message, and the next holder sends it again: at most
  ``CONCURRENCY`` messages, each at most once more, per crash.

Failures: a 429 pauses that chat for ``retry_after``; ``FLOOD_RUN`` 429s in a row for several chats
mean flood control for the whole bot and pause every send, including slots already handed out.
Network and server errors retry with exponential backoff (up to ``MAX_ATTEMPTS``); 403 (blocked,
deactivated) and 400 "chat not found" mark the employee unreachable, fail their rows and tell the
admins once; any other 400 fails the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import os
import socket
import time
from collections import deque
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

from bot import texts
from db.models import OutboxMessage
from db.queries import outbox as store
from db.session import SessionPool

log = logging.getLogger(__name__)

CONCURRENCY = 8  # requests in flight at once; Telegram answers in ~50-300 ms, so 8 keep 30/s busy
CLAIM = 2 * CONCURRENCY  # rows claimed at once: well under a second of sending at 28/s
MAX_WAITING = 256  # claimed rows held while their chat's previous message is less than a second old
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
# Departures are counted over a second and this much more: a request that left on time may reach
# Telegram a few milliseconds late (a busy event loop, the network) while the next second's first one
# does not, and at SEND_RATE 30 with no margin that pair alone is a 429 (bench/broadcast.py measured
# 90 in 1,000 sends). 35 ms a second costs 3.4 % of the rate (docs/delivery.md, "Pacing").
DEPARTURE_GUARD = 0.035
MAX_ATTEMPTS = 20  # network/server failures before a row is given up as failed
MAX_BACKOFF = 300.0
POLL_SECONDS = 2.0
FLOOD_RUN = CONCURRENCY  # so many 429s in a row, for several chats: flood control for the whole bot
LEASE = "outbox"
UNREACHABLE = "unreachable: "  # the error prefix of a row that failed because the person cannot be reached

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

    @property
    def key(self) -> tuple[str, str, date]:
        return self.employee_id, self.kind, self.day

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


async def enqueue(session: Any, messages: Sequence[Message], now: datetime) -> int:
    """Add the messages that are not in the outbox yet; returns how many were added."""
    added = 0
    for message in messages:  # one by one: each insert says whether it added the row
        added += await store.insert_message(session, message.values(now))
    return added


async def replace(session: Any, message: Message, now: datetime) -> None:
    """``--force``: put the message in the outbox again, re-rendered, even if it was delivered."""
    existing = await store.find_message(session, message.employee_id, message.kind, message.day)
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
    share a slot. ``pause`` pushes every later slot back and voids slots already handed out inside
    the pause (``epoch`` tells a waiter); ``pause_chat`` does the same for one chat."""

    def __init__(
        self,
        rate: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        *,
        guard: float = 0.0,
    ) -> None:
        self.window = 1.0 + guard  # at most ``per_second`` departures in any such span
        self.gap = self.window / rate
        self.per_second = max(int(rate), 1)
        self.departures: deque[float] = deque()
        self.chat_left: dict[int, float] = {}  # when the last message to each chat really left
        self.monotonic = monotonic
        self.sleep = sleep
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.epoch = 0
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
        """Wait for a slot; a slot that a pause voided meanwhile is exchanged for a later one."""
        while True:
            epoch = self.epoch
            slot = self.reserve(chat_id)
            delay = slot - self.monotonic()
            if delay > 0:
                await self.sleep(delay)
            if self.epoch == epoch or slot >= self.paused_until:
                await self.depart(chat_id)
                return

    async def depart(self, chat_id: int) -> None:
        """The last check before a request goes: at most ``rate`` departures in any second and one a
        ``CHAT_INTERVAL`` to a chat, counted when they really leave (a process that woke late must not
        send its overdue slots at once)."""
        while (wait := self.chat_left.get(chat_id, -1e9) + CHAT_INTERVAL - self.monotonic()) > 1e-9:
            await self.sleep(wait)
        while True:
            now = self.monotonic()
            while self.departures and self.departures[0] <= now - self.window + 1e-9:  # (never spin on rounding)
                self.departures.popleft()
            if len(self.departures) < self.per_second:
                self.departures.append(now)
                self.chat_left[chat_id] = now
                if len(self.chat_left) > 10000:
                    self.chat_left = {c: t for c, t in self.chat_left.items() if t > now - CHAT_INTERVAL}
                return
            await self.sleep(max(self.departures[0] + self.window - now, 1e-6))

    def pause(self, seconds: float) -> None:
        until = self.monotonic() + seconds
        if until > self.paused_until:
            self.paused_until = until
            self.epoch += 1
        self.next_slot = max(self.next_slot, until)

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        self.chat_next[chat_id] = max(self.chat_next.get(chat_id, 0.0), self.monotonic() + seconds)

    def refund(self) -> None:
        """A request Telegram refused for one chat did not use the bot's rate: the next slot moves
        back by one gap, never into the past."""
        self.next_slot = max(self.next_slot - self.gap, self.monotonic())
        if self.departures:  # the latest: the refused request itself, or one as young (its answer is quick)
            self.departures.pop()


# --------------------------------------------------------------------------------------------------
# The sender
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    lost: int = 0  # taken over by another sender before this one started sending

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.unreachable + other.unreachable,
            self.lost + other.lost,
        )

    @classmethod
    def of(cls, results: Sequence[str]) -> Outcome:
        return cls(*(results.count(kind) for kind in ("sent", "retry", "failed", "unreachable", "lost")))


def unreachable_reason(error: Exception) -> str | None:
    """Why Telegram says the person cannot be reached, or ``None`` when it does not say so:
    403 (blocked the bot, deactivated their account, …) and 400 "chat not found"."""
    if isinstance(error, TelegramForbiddenError):
        return error.message
    if isinstance(error, TelegramBadRequest) and "chat not found" in error.message.lower():
        return error.message
    return None


class FloodWatch:
    """Tells a 429 for one chat from flood control for the whole bot (Telegram's answer is the same):
    when the last ``FLOOD_RUN`` requests that came back were all refused, for more than one chat, it
    is the bot. A 429 storm that hits many chats once each, between successes, stays per chat."""

    def __init__(self) -> None:
        self.recent: deque[int | None] = deque(maxlen=FLOOD_RUN)  # the refused chat, or None: delivered

    def refused(self, chat_id: int) -> bool:
        """Record a 429; True when it is flood control for the whole bot."""
        self.recent.append(chat_id)
        whole_bot = len(self.recent) == FLOOD_RUN and None not in self.recent and len(set(self.recent)) > 1
        if whole_bot:
            self.recent.clear()
        return whole_bot

    def delivered(self) -> None:
        self.recent.append(None)


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
        self.beat_every = max(lease_seconds / 3, 0.2)
        self.zone = zone
        self.clock = clock
        self.pacer = pacer or Pacer(rate, guard=DEPARTURE_GUARD)
        self.name = name or sender_name()
        self.wake = asyncio.Event()
        self.stopping = False
        self.leading = False
        self.last_beat_at = -1e9  # pacer time (monotonic) of the last heartbeat
        self.flood = FloodWatch()
        self.unreachable_chats: set[int] = set()  # seen by this sender: the rest of its rows skip them

    # --- leadership and the heartbeat -----------------------------------------------------------

    async def lead(self) -> bool:
        """Take or renew the ``outbox`` lease and the leases of the rows held; False while another
        live process sends. A new holder inherits a flood-control pause still running."""
        now = self.clock()
        self.last_beat_at = self.pacer.monotonic()  # first: waiters arriving meanwhile need not beat too
        async with self.pool() as session, session.begin():
            leading = await store.take_lease(session, LEASE, self.name, now, now + self.lease)
            if leading:
                await store.renew_rows(session, self.name, now + self.lease)
                if not self.leading:
                    paused = await store.paused_until(session, LEASE)
                    if paused is not None and paused > now:
                        self.pacer.pause((paused - now).total_seconds())
            else:  # lost it (a stall longer than the lease): the waiting rows go back
                await store.release_claimed(session, self.name)
        if self.leading != leading:
            log.info("outbox sender %s %s", self.name, "leads" if leading else "stands by: another process sends")
        self.leading = leading
        return leading

    async def beat_if_due(self) -> None:
        if self.pacer.monotonic() - self.last_beat_at >= self.beat_every:
            await self.lead()

    async def heartbeat(self, stop: asyncio.Event) -> None:
        """Renew the leases every ``beat_every`` seconds of real time, while requests are in flight too."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.beat_every)
            if stop.is_set():
                break
            try:
                await self.lead()
            except Exception as error:  # the database is away: the leases lapse, another process takes over
                log.warning("outbox heartbeat failed: %s: %s", type(error).__name__, error)

    async def resign(self) -> None:
        """A graceful stop: give back the rows not yet being sent, and the lease."""
        async with self.pool() as session, session.begin():
            await store.release_claimed(session, self.name)
            await store.release_lease(session, LEASE, self.name)
        self.leading = False

    # --- claiming and sending -------------------------------------------------------------------

    async def claim(self, limit: int) -> list[OutboxMessage]:
        """Take up to ``limit`` due rows under a lease; other senders skip them."""
        now = self.clock()
        async with self.pool() as session, session.begin():
            rows, orphans = await store.claim(session, self.name, now, now + self.lease, limit)
        if orphans:
            log.warning("%s row(s) were in flight when their sender died: they may arrive twice", orphans)
        return rows

    async def drain(self) -> Outcome:
        """If this process leads: send everything due now until nothing is due (or stopping).

        ``CONCURRENCY`` workers take rows from a small local queue that is refilled (claimed) while
        the others' requests are in flight, so the pacer's slots never wait for the database.
        """
        if not await self.lead():
            return Outcome()
        queue: deque[OutboxMessage] = deque()
        later: list[tuple[float, int, OutboxMessage]] = []  # rows waiting for their chat's pace, held
        order = itertools.count()
        refill = asyncio.Lock()
        results: list[str] = []

        async def next_row() -> tuple[OutboxMessage, bool] | None:
            """The next row and whether it may wait for its chat (it waited its turn already)."""
            async with refill:
                while True:
                    # new chats first, so that the last chat's second message is not what ends the run;
                    # rows waiting for their chat's pace are held, so their number is capped
                    ready = bool(later) and later[0][0] <= self.pacer.monotonic()
                    if ready and len(later) >= MAX_WAITING:
                        return heapq.heappop(later)[2], True
                    if queue:
                        return queue.popleft(), False
                    if self.stopping or not self.leading:
                        return None
                    await self.beat_if_due()
                    claimed = await self.claim(CLAIM) if self.leading else []
                    if claimed:
                        queue.extend(claimed)
                        continue
                    # nothing new to send: the slot of the chat that is free soonest is the next one
                    return (heapq.heappop(later)[2], True) if later else None

        async def worker() -> None:
            while (taken := await next_row()) is not None:
                row, waited = taken
                delay = self.pacer.chat_delay(row.chat_id)
                if delay > 0 and not waited and not self.stopping:  # the chat just got a message: others first
                    heapq.heappush(later, (self.pacer.monotonic() + delay, next(order), row))
                    continue
                results.append(await self.send_one(row))

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        for _, _, row in later:  # stopping or no longer leading: what is still held goes back
            await self._record(row, status="pending")
        return Outcome.of(results)

    async def send_batch(self, rows: list[OutboxMessage]) -> Outcome:
        gate = asyncio.Semaphore(CONCURRENCY)
        results: list[str] = []

        async def one(row: OutboxMessage) -> None:
            async with gate:
                results.append(await self.send_one(row))

        await asyncio.gather(*(one(row) for row in rows))
        return Outcome.of(results)

    async def wait_slot(self, chat_id: int) -> None:
        """The pacer's wait, renewing the leases during a long one (a flood-control pause)."""
        pacer = self.pacer
        while True:
            epoch = pacer.epoch
            slot = pacer.reserve(chat_id)
            while (delay := slot - pacer.monotonic()) > 0:
                if delay <= self.beat_every:
                    await pacer.sleep(delay)
                    continue
                # a long wait: wake at the next heartbeat (the same moment for every waiter) and renew
                beat_at = self.last_beat_at + self.beat_every
                await pacer.sleep(max(min(slot, beat_at) - pacer.monotonic(), 0.0))
                await self.beat_if_due()
            if pacer.epoch == epoch or slot >= pacer.paused_until:
                await pacer.depart(chat_id)
                return

    async def send_one(self, row: OutboxMessage) -> str:
        """Send one held row to Telegram and record what happened: ``sent``, ``retry`` (back to
        pending), ``failed``, ``unreachable`` or ``lost`` (another sender holds it now)."""
        if self.stopping:
            await self._record(row, status="pending")
            return "retry"
        if row.chat_id in self.unreachable_chats:
            await self._record(row, status="failed", error=f"{UNREACHABLE}not sent, unreachable since earlier")
            return "unreachable"
        await self.wait_slot(row.chat_id)
        async with self.pool() as session, session.begin():
            if not await store.start_sending(session, row.id, self.name, self.clock() + self.lease):
                log.info("outbox %s: taken over by another sender; not sent here", row.id)
                return "lost"
        attempts = row.attempts + 1
        markup = InlineKeyboardMarkup.model_validate(json.loads(row.markup)) if row.markup else None
        try:
            message = await self._deliver(row, markup)
        except TelegramRetryAfter as error:
            return await self._flood(row, error)
        except (TelegramForbiddenError, TelegramBadRequest) as error:
            reason = unreachable_reason(error)
            if reason is not None:
                await self._unreachable(row, reason)
                return "unreachable"
            log.error("outbox %s to %s rejected: %s", row.id, row.employee_id, error.message)
            await self._record(row, status="failed", error=f"{type(error).__name__}: {error.message}")
            return "failed"
        except TelegramNotFound as error:
            await self._record(row, status="failed", error=f"{type(error).__name__}: {error.message}")
            return "failed"
        except Exception as error:  # network, server (5xx), timeouts: back off and try again
            log.warning("outbox %s: %s: %s", row.id, type(error).__name__, error)
            if attempts >= MAX_ATTEMPTS:
                reason = f"gave up after {attempts} attempts: {type(error).__name__}: {error}"
                await self._record(row, status="failed", error=reason)
                return "failed"
            await self._retry(row, min(2.0**attempts, MAX_BACKOFF), f"{type(error).__name__}: {error}")
            return "retry"
        self.flood.delivered()
        await self._record(row, status="sent", telegram_message_id=message.message_id, sent_at=self.clock(), error=None)
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

    async def _flood(self, row: OutboxMessage, error: TelegramRetryAfter) -> str:
        seconds = float(error.retry_after)
        until = self.clock() + timedelta(seconds=seconds)
        if self.flood.refused(row.chat_id):
            log.warning("outbox %s: flood control for the whole bot, every send waits %s s", row.id, seconds)
            self.pacer.pause(seconds)
            async with self.pool() as session, session.begin():
                await store.pause_lease(session, LEASE, until)
        else:
            log.info("outbox %s: chat %s is sent too much, it waits %s s", row.id, row.chat_id, seconds)
            self.pacer.pause_chat(row.chat_id, seconds)
            self.pacer.refund()
        async with self.pool() as session, session.begin():
            await store.finish(session, row.id, self.name, status="pending", not_before=until,
                               error=f"429: {error.message}"[:500])  # fmt: skip
            await store.defer_chat(session, row.chat_id, until)
        return "retry"

    async def _record(self, row: OutboxMessage, **values: Any) -> None:
        if "error" in values and values["error"] is not None:
            values["error"] = values["error"][:500]
        async with self.pool() as session, session.begin():
            await store.finish(session, row.id, self.name, **values)

    async def _retry(self, row: OutboxMessage, seconds: float, error: str) -> None:
        await self._record(row, status="pending", not_before=self.clock() + timedelta(seconds=seconds), error=error)

    async def next_due_in(self) -> float | None:
        """Seconds until the earliest pending row is due (``None``: nothing pending)."""
        async with self.pool() as session:
            soonest = await store.next_pending_at(session)
        return None if soonest is None else max((soonest - self.clock()).total_seconds(), 0.0)

    async def _unreachable(self, row: OutboxMessage, description: str) -> None:
        """Fail the row and the employee's waiting ones; the first time, mark the employee
        unreachable and tell the admins."""
        now = self.clock()
        self.unreachable_chats.add(row.chat_id)
        async with self.pool() as session, session.begin():
            await store.finish(session, row.id, self.name, status="failed", error=f"{UNREACHABLE}{description}"[:500])
            await store.fail_waiting(session, row.employee_id, f"{UNREACHABLE}not sent: {description}")
            if not await store.mark_unreachable(session, row.employee_id, now):
                return  # already known: the admins were told then
            employee = await store.employee(session, row.employee_id)
            log.warning("employee %s cannot be reached (%s); telling the admins", row.employee_id, description)
            today = now.replace(tzinfo=UTC).astimezone(self.zone).date()
            name = employee.name if employee is not None else row.employee_id
            notice = texts.unreachable_notice(name, row.employee_id, description)
            notices = [
                Message(admin.id, f"blocked:{row.employee_id}"[:80], today, admin.telegram_id or 0, notice)
                for admin in await store.reachable_admins(session)
            ]
            await enqueue(session, notices, now)
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then sleep until woken (something was enqueued) or the next poll; until ``stop``.
        A standing-by process polls for the lease as often, so it takes over within seconds."""
        beating = asyncio.create_task(self.heartbeat(stop), name="outbox-heartbeat")
        try:
            while not stop.is_set():
                try:
                    await self.drain()
                except Exception:  # the database went away for a moment: keep the loop alive
                    log.exception("the outbox sender failed; trying again in %s s", POLL_SECONDS)
                self.wake.clear()
                timeout = POLL_SECONDS
                with contextlib.suppress(Exception):
                    soonest = await self.next_due_in() if self.leading else None
                    if soonest is not None:
                        timeout = min(max(soonest, 0.05), POLL_SECONDS)
                waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            self.stopping = True
            beating.cancel()
            with contextlib.suppress(Exception):
                await self.resign()


# --------------------------------------------------------------------------------------------------
# ``digest --send``: wait for our own rows
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What became of a set of rows. ``sent + unreachable + failed + pending == total``."""

    total: int
    sent: int
    unreachable: int
    failed: int
    pending: int
    sender: str | None = None  # the live process that holds the rows still pending, when another one

    @property
    def complete(self) -> bool:
        """Every reachable person got their message: nothing failed otherwise, nothing pending."""
        return self.failed == 0 and self.pending == 0


async def deliver(sender: Sender, ids: Sequence[int], patience: float = 60.0) -> Delivery:
    """Send rows ``ids`` (or wait while the live sender, perhaps ``kpibot run``, sends them) until each
    is sent or failed, or what is left is due later than ``patience`` seconds from now (a long backoff,
    a long flood-control pause). Takes over from a dead sender within ``OUTBOX_LEASE_SECONDS``."""
    stop = asyncio.Event()
    beating = asyncio.create_task(sender.heartbeat(stop), name="outbox-heartbeat")
    try:
        while True:
            await sender.drain()
            async with sender.pool() as session:
                found = await store.states(session, ids)
                holder = await store.lease_holder(session, LEASE, sender.clock())
            waiting = [row for row in found if row.status not in ("sent", "failed")]
            now = sender.clock()
            # a pending row is due at not_before; a held one by the time its holder answers or dies
            soonest = min((row.not_before if row.status == "pending" else now for row in waiting), default=None)
            if soonest is None or soonest > now + timedelta(seconds=patience):
                failed = [row for row in found if row.status == "failed"]
                unreachable = sum((row.error or "").startswith(UNREACHABLE) for row in failed)
                return Delivery(
                    total=len(ids),
                    sent=sum(row.status == "sent" for row in found),
                    unreachable=unreachable,
                    failed=len(failed) - unreachable,
                    pending=len(waiting) + len(ids) - len(found),
                    sender=holder if holder != sender.name else None,
                )
            await asyncio.sleep(min(max((soonest - now).total_seconds(), 0.05), 0.5))
    finally:
        stop.set()
        beating.cancel()
        with contextlib.suppress(Exception):
            await sender.resign()
