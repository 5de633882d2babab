"""The pacer's departure guard: at most ``rate`` requests leave in any second *and a little more*, so
that a request held up on its way (a busy loop, the network) does not make a 31st arrival within one
of Telegram's seconds. Virtual time; bench/broadcast.py measures the real thing."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.outbox import DEPARTURE_GUARD, Pacer, Sender
from tests.test_outbox import VirtualTime


async def departures(pacer: Pacer, time: VirtualTime, chats: int) -> list[float]:
    left: list[float] = []

    async def send(chat: int) -> None:
        await pacer.wait(chat)
        left.append(time.seconds)

    await asyncio.gather(*(send(chat) for chat in range(chats)))
    return sorted(left)


def most_within(moments: list[float], span: float) -> int:
    return max(sum(1 for t in moments if start <= t < start + span - 1e-9) for start in moments)


async def test_thirty_a_second_leave_at_most_thirty_in_any_second_and_the_guard() -> None:
    time = VirtualTime()
    left = await departures(Pacer(30, time.monotonic, time.sleep, guard=DEPARTURE_GUARD), time, 300)
    assert most_within(left, 1.0 + DEPARTURE_GUARD) == 30
    # so a request may arrive up to the guard late and the next second still holds at most 30
    delayed = sorted(t + (DEPARTURE_GUARD - 1e-6 if n % 30 == 0 else 0.0) for n, t in enumerate(left))
    assert most_within(delayed, 1.0) <= 30
    # the guard costs its share of the rate, no more: 300 messages in 10 × 1.035 s
    assert left[-1] == pytest.approx(299 * (1.0 + DEPARTURE_GUARD) / 30)


async def test_without_the_guard_one_late_request_makes_a_31st_in_a_second() -> None:
    """What the guard is for: the pacer of SEND_RATE 30 with no guard, one request 10 ms late."""
    time = VirtualTime()
    left = await departures(Pacer(30, time.monotonic, time.sleep), time, 90)
    late = sorted(t + (0.01 if n == 30 else 0.0) for n, t in enumerate(left))
    assert most_within(late, 1.0) == 31


@given(st.floats(min_value=1.0, max_value=30.0), st.floats(min_value=0.0, max_value=0.1))
def test_any_rate_and_guard_keep_the_rate_over_the_guarded_second(rate: float, guard: float) -> None:
    time = VirtualTime()
    left = asyncio.run(departures(Pacer(rate, time.monotonic, time.sleep, guard=guard), time, 2 * int(rate) + 3))
    assert most_within(left, 1.0 + guard) <= max(int(rate), 1)


def test_the_sender_paces_with_the_guard_by_default() -> None:
    sender = Sender.__new__(Sender)
    Sender.__init__(sender, None, None, rate=30, lease_seconds=10, zone=None)  # type: ignore[arg-type]
    assert sender.pacer.window == pytest.approx(1.0 + DEPARTURE_GUARD)
