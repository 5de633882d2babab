"""The outbox sender against a recording session that answers like the Bot API: 429, 403, 400 and
network failures on chosen calls; leases after a crash; two senders on one database. Time is
virtual: the pacer's sleeps advance a counter, never the real clock."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage
from sqlalchemy import select

from bot.app import create_bot
from bot.settings import Settings
from db.models import Employee, OutboxMessage
from db.queries import outbox as queries_outbox
from db.session import SessionPool
from jobs import outbox
from jobs.outbox import CHAT_INTERVAL, CONCURRENCY, Message, Pacer, Sender, enqueue
from tests.telegram import RecordingSession

DAY = date(2024, 6, 18)
START = datetime(2024, 6, 18, 6, 0)  # 09:00 in Moscow, naive UTC
MSK = ZoneInfo("Europe/Moscow")


class VirtualTime:
    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    async def sleep(self, delay: float) -> None:
        """Wake at ``now + delay``: let the others run first (asyncio resumes in FIFO order, which is
        the order of the pacer's slots), then move the clock, never backwards."""
        target = self.seconds + max(delay, 0.0)
        await asyncio.sleep(0)
        self.seconds = max(self.seconds, target)

    def utc(self) -> datetime:
        return START + timedelta(seconds=self.seconds)


class TimedSession(RecordingSession):
    """Records when (in virtual seconds) each request was made: for a message, the slot the pacer gave
    it (the database round trips before the request take no virtual time, but other tasks may move
    the virtual clock meanwhile)."""

    def __init__(self, time: VirtualTime) -> None:
        super().__init__()
        self.time = time
        self.at: list[tuple[float, object]] = []
        self.granted: dict[int, list[float]] = {}

    async def make_request(self, bot, method, timeout=None):  # type: ignore[no-untyped-def]  # noqa: ASYNC109
        slots = self.granted.get(int(method.chat_id), []) if isinstance(method, SendMessage) else []
        self.at.append((slots.pop(0) if slots else self.time.seconds, method))
        return await super().make_request(bot, method, timeout)


def make_sender(pool: SessionPool, settings: Settings, time: VirtualTime, name: str = "test:1",
                rate: float = 28.0, lease: int = 120) -> tuple[Sender, TimedSession]:  # fmt: skip
    session = TimedSession(time)
    sender = Sender(
        create_bot(settings, session=session),
        pool,
        rate=rate,
        lease_seconds=lease,
        zone=MSK,
        clock=time.utc,
        pacer=Pacer(rate, time.monotonic, time.sleep),
        name=name,
    )
    reserve, wait_slot = sender.pacer.reserve, sender.wait_slot
    reserved: dict[object, float] = {}

    def remember(chat_id: int) -> float:
        reserved[asyncio.current_task()] = slot = reserve(chat_id)
        return slot

    async def granted(chat_id: int) -> None:  # the slot a message goes out in: the last one its wait got
        await wait_slot(chat_id)
        session.granted.setdefault(chat_id, []).append(reserved.pop(asyncio.current_task()))

    sender.pacer.reserve = remember  # type: ignore[method-assign]
    sender.wait_slot = granted  # type: ignore[method-assign]
    return sender, session


async def add_people(pool: SessionPool, managers: int) -> list[Employee]:
    people = [
        Employee(id=f"e{i:03d}", name=f"Менеджер {i:03d}", role="manager", team="A", telegram_id=5000 + i)
        for i in range(managers)
    ]
    people.append(Employee(id="adm", name="Соколов Андрей", role="admin", team="", telegram_id=9000))
    people.append(Employee(id="adm2", name="Орлова Анна", role="admin", team="", telegram_id=9001))
    async with pool() as session, session.begin():
        session.add_all(people)
    return people


def digest(employee: Employee, kind: str = "digest", day: date = DAY) -> Message:
    return Message(employee.id, kind, day, employee.telegram_id or 0, f"Доброе утро, {employee.name}!")


async def put(pool: SessionPool, messages: list[Message]) -> int:
    async with pool() as session, session.begin():
        return await enqueue(session, messages, START)


async def rows(pool: SessionPool) -> list[OutboxMessage]:
    async with pool() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


def sends(session: TimedSession) -> list[SendMessage]:
    return [m for _, m in session.at if isinstance(m, SendMessage)]


# --- pacing ---------------------------------------------------------------------------------------------


def test_pacer_spaces_all_sends_by_the_rate_and_one_chat_by_a_second() -> None:
    time = VirtualTime()
    pacer = Pacer(30, time.monotonic, time.sleep)
    slots = [pacer.reserve(chat) for chat in range(60)]
    assert slots == pytest.approx([i / 30 for i in range(60)])
    again = pacer.reserve(0)  # chat 0 had slot 0; the next global slot is 2.0 s
    assert again == pytest.approx(2.0)
    assert pacer.reserve(0) == pytest.approx(2.0 + CHAT_INTERVAL)
    pacer.pause(10)
    assert pacer.reserve(99) == pytest.approx(10.0)


async def test_a_pause_voids_the_slots_already_handed_out() -> None:
    time = VirtualTime()
    pacer = Pacer(28, time.monotonic, time.sleep)
    done: dict[int, float] = {}

    async def send(chat: int) -> None:
        await pacer.wait(chat)
        done[chat] = time.seconds

    waiters = [asyncio.ensure_future(send(chat)) for chat in range(10)]
    await asyncio.sleep(0)  # every waiter has its slot: 0, 1/28, 2/28 …
    pacer.pause(7)
    await asyncio.gather(*waiters)
    assert done[0] == 0.0  # its slot was now: it had gone before the pause
    assert all(moment >= 7.0 for chat, moment in done.items() if chat)
    assert sorted(done.values())[-1] == pytest.approx(7.0 + 8 / 28)  # then at the rate again


async def test_a_late_wake_up_does_not_send_the_overdue_slots_at_once() -> None:
    time = VirtualTime()
    pacer = Pacer(28, time.monotonic, time.sleep)
    for chat in range(28):  # a second's worth went out on time
        await pacer.wait(chat)
    time.seconds = 5.0  # the process stalled (a long GC, a busy machine) with 40 more slots handed out
    pacer.next_slot = 1.0
    left: list[float] = []

    async def send(chat: int) -> None:
        await pacer.wait(chat)
        left.append(time.seconds)

    await asyncio.gather(*(send(100 + n) for n in range(40)))
    assert max(sum(1 for t in left if start <= t < start + 1 - 1e-9) for start in left) <= 28


# --- delivery -------------------------------------------------------------------------------------------


async def test_each_message_is_sent_once_and_recorded(pool: SessionPool, settings: Settings) -> None:
    people = await add_people(pool, 3)
    assert await put(pool, [digest(p) for p in people]) == 5
    assert await put(pool, [digest(p) for p in people]) == 0  # the unique key: enqueueing again adds nothing
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    outcome = await sender.drain()
    assert (outcome.sent, outcome.retried, outcome.failed) == (5, 0, 0)
    assert sorted(m.chat_id for m in sends(session)) == sorted(p.telegram_id for p in people)
    assert all(
        m.text.startswith("Доброе утро, Менеджер") or "Соколов" in m.text or "Орлова" in m.text for m in sends(session)
    )
    stored = await rows(pool)
    assert {r.status for r in stored} == {"sent"}
    assert all(r.telegram_message_id and r.sent_at and r.claimed_until is None for r in stored)
    assert (await sender.drain()).sent == 0 and len(sends(session)) == 5


async def test_sends_stay_under_telegrams_limits(pool: SessionPool, settings: Settings) -> None:
    people = await add_people(pool, 40)
    messages = [digest(p, kind) for p in people for kind in ("digest", "statement")]
    await put(pool, messages)
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time, rate=28)
    assert (await sender.drain()).sent == len(messages)
    moments = sorted(t for t, m in session.at if isinstance(m, SendMessage))
    window = [sum(1 for t in moments if start <= t < start + 1 - 1e-9) for start in moments]
    assert max(window) <= 28
    by_chat: dict[int, list[float]] = {}
    for t, m in session.at:
        if isinstance(m, SendMessage):
            by_chat.setdefault(int(m.chat_id), []).append(t)
    for chat_moments in by_chat.values():
        assert len(chat_moments) == 2 and chat_moments[1] - chat_moments[0] >= CHAT_INTERVAL - 1e-9
    # 84 messages at 28/s take 3 s: the floor, not more
    assert moments[-1] == pytest.approx((len(messages) - 1) / 28, abs=0.05)


async def test_a_429_for_one_chat_pauses_that_chat_only(pool: SessionPool, settings: Settings) -> None:
    people = await add_people(pool, 4)
    await put(pool, [digest(p) for p in people])
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    session.queue_error("SendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    outcome = await sender.drain()
    assert (outcome.sent, outcome.retried) == (5, 1)
    sent = sends(session)
    refused_chat = sent[0].chat_id
    others = [t for t, m in session.at if isinstance(m, SendMessage) and m.chat_id != refused_chat]
    assert max(others) < 1.0  # nobody else waited for that chat's pause
    (row,) = [r for r in await rows(pool) if r.chat_id == refused_chat]
    assert row.status == "pending" and "429" in (row.error or "")
    assert START + timedelta(seconds=7) <= row.not_before < START + timedelta(seconds=8)
    await time.sleep(7)
    assert (await sender.drain()).sent == 1
    assert [m.chat_id for m in sends(session)].count(refused_chat) == 2  # refused once, then delivered once
    assert {r.status for r in await rows(pool)} == {"sent"}


async def test_a_run_of_429s_for_several_chats_pauses_everyone_including_slots_already_handed_out(
    pool: SessionPool, settings: Settings
) -> None:
    people = await add_people(pool, 20)
    await put(pool, [digest(p) for p in people])
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    for _ in range(CONCURRENCY):  # flood control for the whole bot: every request is refused for 7 s
        session.queue_error("SendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    outcome = await sender.drain()
    assert outcome.retried == CONCURRENCY and outcome.sent == 22  # the refused went again after the pause
    assert sender.pacer.paused_until >= 7.0  # the whole bot paused, not only the refused chats
    moments = [t for t, m in session.at if isinstance(m, SendMessage)]
    last_refused = max(moments[:CONCURRENCY])
    assert all(t <= last_refused + CONCURRENCY / 28 or t >= 7.0 for t in moments[CONCURRENCY:])
    async with pool() as db:  # the pause is kept for a process that takes over the sending
        assert await queries_outbox.paused_until(db, "outbox") >= START + timedelta(seconds=7)
    chats = [m.chat_id for m in sends(session)]
    assert len(chats) == 22 + CONCURRENCY and len(set(chats)) == 22
    assert {r.status for r in await rows(pool)} == {"sent"}


def test_a_storm_that_hits_chats_once_between_successes_stays_per_chat() -> None:
    watch = outbox.FloodWatch()
    pattern = [True, True, False, True, True, True, False, True, True, True, True, True, True, True, False]
    flagged = []
    for chat, refused in enumerate(pattern):
        if refused:
            flagged.append(watch.refused(chat))
        else:
            watch.delivered()
    assert not any(flagged)
    assert [watch.refused(100 + n) for n in range(CONCURRENCY)][-1]  # a whole window refused: the bot


async def test_403_marks_the_employee_unreachable_and_tells_the_admins_once(
    pool: SessionPool, settings: Settings
) -> None:
    people = await add_people(pool, 2)
    blocked = people[0]
    await put(pool, [digest(blocked), digest(blocked, "statement"), digest(people[1])])
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    session.queue_error("SendMessage", 403, "Forbidden: bot was blocked by the user")
    await sender.drain()
    assert [m.chat_id for m in sends(session)].count(blocked.telegram_id) == 1  # the statement was not tried
    stored = await rows(pool)
    by_key = {(r.employee_id, r.kind): r for r in stored}
    assert by_key[(blocked.id, "digest")].status == "failed"
    assert by_key[(blocked.id, "statement")].status == "failed"
    assert "blocked by the user" in (by_key[(blocked.id, "digest")].error or "")
    notices = [r for r in stored if r.kind == f"blocked:{blocked.id}"]
    assert sorted(r.employee_id for r in notices) == ["adm", "adm2"]  # each admin once, not once per row
    assert all(r.status == "sent" and blocked.name in r.text for r in notices)
    async with pool() as db:
        assert (await db.get(Employee, blocked.id)).unreachable_since >= START  # type: ignore[union-attr,operator]
    # a later 403 for the same person tells nobody again
    await put(pool, [digest(blocked, day=date(2024, 6, 19))])
    session.queue_error("SendMessage", 403, "Forbidden: bot was blocked by the user")
    await sender.drain()
    assert len([r for r in await rows(pool) if r.kind.startswith("blocked:")]) == 2


async def test_network_errors_back_off_then_deliver(pool: SessionPool, settings: Settings) -> None:
    people = await add_people(pool, 0)
    await put(pool, [digest(people[0])])
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    for _ in range(3):
        session.queue_exception("SendMessage", TelegramNetworkError(SendMessage(chat_id=1, text="x"), "timeout"))
    waits = []
    for _ in range(3):
        assert (await sender.drain()).retried == 1
        (row,) = await rows(pool)
        assert row.status == "pending" and "timeout" in (row.error or "")
        waits.append((row.not_before - time.utc()).total_seconds())
        await time.sleep(waits[-1])
    assert waits == [2.0, 4.0, 8.0]  # exponential backoff
    assert (await sender.drain()).sent == 1
    (row,) = await rows(pool)
    assert row.status == "sent" and row.attempts == 4 and row.error is None


async def test_a_row_is_given_up_after_max_attempts(pool: SessionPool, settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 2)
    people = await add_people(pool, 0)
    await put(pool, [digest(people[0])])
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    for _ in range(2):
        session.queue_exception("SendMessage", TelegramNetworkError(SendMessage(chat_id=1, text="x"), "reset"))
    await sender.drain()
    await time.sleep(60)
    assert (await sender.drain()).failed == 1
    (row,) = await rows(pool)
    assert row.status == "failed" and "gave up after 2 attempts" in (row.error or "")


@pytest.mark.parametrize(
    ("code", "description"),
    [(400, "Bad Request: chat not found"), (403, "Forbidden: user is deactivated"),
     (403, "Forbidden: bot was blocked by the user")],
)  # fmt: skip
async def test_chat_not_found_and_deactivated_mark_the_employee_unreachable_like_a_block(
    pool: SessionPool, settings: Settings, code: int, description: str
) -> None:
    people = await add_people(pool, 1)
    await put(pool, [digest(people[0])])
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    session.queue_error("SendMessage", code, description)
    outcome = await sender.drain()
    assert (outcome.sent, outcome.unreachable, outcome.failed) == (2, 1, 0)  # the admins' two notices went out
    stored = {r.employee_id: r for r in await rows(pool) if r.kind == "digest"}
    assert stored["e000"].status == "failed" and (stored["e000"].error or "").startswith(outbox.UNREACHABLE)
    notices = [m.text for m in sends(session) if m.text.startswith("🚫") and "Менеджер 000" in m.text]
    assert len(notices) == 2 and all("сводки" in text.lower() and "больше не доставляются" in text for text in notices)
    async with pool() as db:
        assert (await db.get(Employee, "e000")).unreachable_since is not None  # type: ignore[union-attr]


async def test_400_fails_the_row_and_goes_on(pool: SessionPool, settings: Settings) -> None:
    people = await add_people(pool, 1)
    await put(pool, [digest(p) for p in people])
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    session.queue_error("SendMessage", 400, "Bad Request: message is too long")
    outcome = await sender.drain()
    assert (outcome.sent, outcome.failed) == (2, 1)
    failed = [r for r in await rows(pool) if r.status == "failed"]
    assert len(failed) == 1 and "message is too long" in (failed[0].error or "")
    async with pool() as db:
        assert all(e.unreachable_since is None for e in (await db.execute(select(Employee))).scalars())


async def test_an_error_text_with_a_nul_and_a_newline_is_stored_on_both_databases(
    pool: SessionPool, settings: Settings
) -> None:
    """Telegram's description echoes what was sent: PostgreSQL's text refuses a NUL, so the sender's
    update would fail and the row stay held; it is stored with U+FFFD instead, cut to 500."""
    people = await add_people(pool, 1)
    await put(pool, [digest(p) for p in people])
    sender, session = make_sender(pool, settings, VirtualTime())
    session.queue_error("SendMessage", 400, "Bad Request: can't parse entities:\nbad \x00 byte" + "x" * 600)
    outcome = await sender.drain()
    assert outcome.failed == 1
    (failed,) = [r for r in await rows(pool) if r.status == "failed"]
    assert failed.error is not None and "\x00" not in failed.error and "bad \ufffd byte" in failed.error
    assert len(failed.error) == 500 and failed.claimed_until is None


# --- crashes and two processes --------------------------------------------------------------------------


async def test_a_dead_senders_rows_are_taken_over_after_the_lease_and_go_out_once(
    pool: SessionPool, settings: Settings
) -> None:
    people = await add_people(pool, 3)
    await put(pool, [digest(p) for p in people])
    time = VirtualTime()
    dead, dead_session = make_sender(pool, settings, time, name="host:111", lease=6)
    assert await dead.lead()
    claimed = await dead.claim(2)  # ... and the process is killed before sending
    assert len(claimed) == 2 and not dead_session.requests
    alive, session = make_sender(pool, settings, time, name="host:222", lease=6)
    assert (await alive.drain()).sent == 0  # the dead process still leads for a few seconds
    await time.sleep(5)
    assert (await alive.drain()).sent == 0
    await time.sleep(1.5)  # its lease (6 s, no heartbeat since) ran out
    assert (await alive.drain()).sent == 5
    assert sorted(m.chat_id for m in sends(session)) == sorted(p.telegram_id for p in people)
    assert {r.status for r in await rows(pool)} == {"sent"}
    assert all(r.attempts == 1 for r in await rows(pool))  # claimed and never sent: not an attempt


async def test_a_sender_that_lost_its_rows_never_sends_them(pool: SessionPool, settings: Settings) -> None:
    """A process frozen longer than the lease (a stalled VM, a stopped container) wakes up holding
    rows another process has taken over and sent: the atomic start of each send stops it."""
    people = await add_people(pool, 3)
    await put(pool, [digest(p) for p in people])
    time = VirtualTime()
    frozen, frozen_session = make_sender(pool, settings, time, name="host:1", lease=6)
    assert await frozen.lead()
    held = await frozen.claim(10)
    await time.sleep(7)
    other, session = make_sender(pool, settings, time, name="host:2", lease=6)
    assert (await other.drain()).sent == 5
    outcome = await frozen.send_batch(held)  # it wakes up and carries on where it was
    assert outcome.lost == 5 and outcome.sent == 0 and not frozen_session.requests
    assert len(sends(session)) == 5 and {r.status for r in await rows(pool)} == {"sent"}


def real_sender(pool: SessionPool, settings: Settings, name: str, lease: int) -> tuple[Sender, RecordingSession]:
    """A sender on the real clock (for the races virtual time cannot stage: database round trips)."""
    session = RecordingSession()
    return Sender(create_bot(settings, session=session), pool, rate=28, lease_seconds=lease, zone=MSK,
                  name=name), session  # fmt: skip


def real_sends(session: RecordingSession) -> list[SendMessage]:
    return [m for m in session.requests if isinstance(m, SendMessage)]


async def test_a_429_longer_than_the_lease_with_two_senders_sends_nothing_twice(
    pool: SessionPool, settings: Settings
) -> None:
    """Real time, a few seconds: the whole bot is paused for 3 s, three leases of 1 s, while another
    process tries to send every 20 ms."""
    people = await add_people(pool, 30)
    await put(pool, [digest(p) for p in people])
    first, session_a = real_sender(pool, settings, "host:1", lease=1)
    second, session_b = real_sender(pool, settings, "host:2", lease=1)
    for _ in range(CONCURRENCY):  # flood control for the whole bot
        session_a.queue_error("SendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    first_done = asyncio.Event()
    tries = 0

    async def first_sends() -> outbox.Outcome:
        try:
            return await first.drain()
        finally:
            first_done.set()

    async def second_tries_meanwhile() -> int:
        nonlocal tries
        sent = 0
        while not first_done.is_set():
            await asyncio.sleep(0.02)
            tries += 1
            sent += (await second.drain()).sent
        return sent

    started = asyncio.get_running_loop().time()
    outcome, by_second = await asyncio.gather(first_sends(), second_tries_meanwhile())
    assert asyncio.get_running_loop().time() - started >= 3.0 and tries > 20
    assert outcome.retried == CONCURRENCY and by_second == 0  # the paused sender kept its leases
    chats = [m.chat_id for m in real_sends(session_a) + real_sends(session_b)]
    assert len(chats) == 32 + CONCURRENCY and len(set(chats)) == 32  # the refusals, then each exactly once
    assert {r.status for r in await rows(pool)} == {"sent"}


async def test_two_senders_on_one_database_never_send_a_row_twice(pool: SessionPool, settings: Settings) -> None:
    people = await add_people(pool, 60)
    await put(pool, [digest(p) for p in people])
    time_a, time_b = VirtualTime(), VirtualTime()
    first, session_a = make_sender(pool, settings, time_a, name="host:1")
    second, session_b = make_sender(pool, settings, time_b, name="host:2")
    a, b = await asyncio.gather(first.drain(), second.drain())
    assert sorted((a.sent, b.sent)) == [0, 62]  # one sender at a time: the bot's rate is in one pacer
    chats = [m.chat_id for m in sends(session_a) + sends(session_b)]
    assert len(chats) == len(set(chats)) == 62
    assert {r.status for r in await rows(pool)} == {"sent"}


async def test_stopping_gives_claimed_rows_back(pool: SessionPool, settings: Settings) -> None:
    people = await add_people(pool, 2)
    await put(pool, [digest(p) for p in people])
    time = VirtualTime()
    sender, session = make_sender(pool, settings, time)
    claimed = await sender.claim(10)
    sender.stopping = True
    outcome = await sender.send_batch(claimed)
    assert outcome.sent == 0 and not session.requests
    stored = await rows(pool)
    assert {r.status for r in stored} == {"pending"} and all(r.attempts == 0 for r in stored)
