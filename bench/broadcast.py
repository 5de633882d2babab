"""Broadcast benchmarks: the outbox sender against a fake Bot API that limits like Telegram.

    python -m bench.broadcast [--messages 1000] [--database-url postgresql+asyncpg://…]

Three figures, each as a ratio to Telegram's floor (messages / 30, the Bot API FAQ's "not more than
30 messages per second"; the ratio to messages / SEND_RATE is saved too): a plain broadcast, the
same under a 429 storm that refuses half of the chats once each (a 429 for that chat, 1 s), and on
PostgreSQL two instances sending together. A figure is met when it is within its target, nothing
arrived twice, no second saw more than 30 and the pace itself caused no 429.
Results go to ``bench/results/<date>-broadcast-<db>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_RATE = 30  # messages per second Telegram allows a bot
TARGETS = {"plain": 1.05, "storm": 1.5, "two_instances": 1.05}
DAY = date(2026, 11, 30)


@dataclass(frozen=True)
class Figure:
    messages: int
    seconds: float
    delivered: int
    repeated: int
    refused_429: int
    max_per_second: int

    send_rate: float
    # where the time went: from the start to the first accepted send, the sends themselves, and the
    # 429s the rate caused (not the storm's planned ones)
    first_send_s: float
    sending_s: float
    rate_429: int

    @property
    def floor(self) -> float:
        """Telegram's floor: the messages at 30 a second."""
        return self.messages / TELEGRAM_RATE

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor

    @property
    def ratio_to_send_rate(self) -> float:
        """The same against the rate the sender allows itself (SEND_RATE)."""
        return self.seconds / (self.messages / self.send_rate)


async def prepare(url: str, messages: int) -> None:
    from sqlalchemy import text

    from db.migrate import upgrade
    from db.models import Base, Employee
    from db.session import create_engine, create_session_pool
    from jobs.outbox import Message, enqueue

    engine = create_engine(url)
    await upgrade(engine)
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(text(f"DELETE FROM {table.name}"))
    pool = create_session_pool(engine)
    now = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    async with pool() as session, session.begin():
        people = [Employee(id=f"m{i:05d}", name=f"Менеджер {i}", role="manager", team="A", telegram_id=100000 + i)
                  for i in range(messages)]  # fmt: skip
        session.add_all(people)
        await session.flush()
        text_of = "<b>Доброе утро!</b>\n" + "Сбор за ноябрь: 87,50 % — KPI 0,2\n" * 12
        await enqueue(session, [Message(p.id, "digest", DAY, p.telegram_id or 0, text_of) for p in people], now)
    await engine.dispose()


def _serve_api(options: dict[str, Any], ready: Any, delivered: Any, done: Any, results: Any) -> None:
    """The child process: the fake Bot API until ``done``; the chats reached so far in ``delivered``;
    at the end, what it saw through ``results``."""
    sys.path.insert(0, str(ROOT))
    from tests.fake_bot_api import FakeBotApi

    async def serve() -> None:
        api = FakeBotApi(**options)
        ready.send(await api.start())
        while not done.is_set():
            delivered.value = len({p["chat_id"] for p in api.sent()})
            await asyncio.sleep(0.005)
        await api.stop()
        results.send({
            "chats": [p["chat_id"] for p in api.sent()],
            "refused_429": sum(1 for p in api.refused if p["error_code"] == 429),
            "rate_429": sum(1 for _, why in api.floods if why == "rate"),
            "max_per_second": api.max_per_second(),
            "first": min(api.accepted, default=0.0),
            "last": max(api.accepted, default=0.0),
        })  # fmt: skip

    asyncio.run(serve())


class RemoteApi:
    """The fake Bot API in a process of its own: Telegram is another machine, and its arrival times
    must not stall with the sender (on the sender's event loop, a 100 ms stall of the sender showed up
    as a burst of arrivals and 429s that a real network would not make)."""

    def __init__(self, **options: Any) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.ready, ready = context.Pipe()
        self.results, results = context.Pipe()
        self.delivered = context.Value("i", 0)
        self.done = context.Event()
        self.process = context.Process(target=_serve_api, args=(options, ready, self.delivered, self.done, results))

    def start(self) -> str:
        self.process.start()
        url: str = self.ready.recv()
        return url

    def stop(self) -> dict[str, Any]:
        self.done.set()
        seen: dict[str, Any] = self.results.recv()
        self.process.join()
        return seen


async def broadcast(url: str, messages: int, *, storm: bool, instances: int) -> Figure:
    from bot.app import create_bot
    from bot.settings import load_settings
    from db.session import create_engine, create_session_pool
    from jobs.outbox import Sender

    await prepare(url, messages)
    chats = {100000 + i for i in range(0, messages, 2)} if storm else set()
    remote = RemoteApi(rate=TELEGRAM_RATE, refuse_chats_once=chats, delay=0.05)
    api_url = remote.start()
    settings = load_settings(database_url=url, bot_token="42:BENCH", telegram_api_url=api_url, _env_file=None)
    engines = [create_engine(url) for _ in range(instances)]
    senders = [
        Sender(create_bot(settings), create_session_pool(engine), rate=settings.send_rate,
               lease_seconds=settings.outbox_lease_seconds, zone=settings.zone, name=f"bench:{n}")
        for n, engine in enumerate(engines)
    ]  # fmt: skip
    stop = asyncio.Event()
    start = time.monotonic()  # the clock of the fake API's arrival times
    running = [asyncio.create_task(sender.run(stop)) for sender in senders]
    try:
        while remote.delivered.value < messages:  # noqa: ASYNC110 - the fake API is another process
            await asyncio.sleep(0.01)
        seconds = time.monotonic() - start
    finally:
        stop.set()
        for sender in senders:
            sender.wake.set()
        await asyncio.gather(*running)
        for sender in senders:
            await sender.bot.session.close()
        for engine in engines:
            await engine.dispose()
        seen = remote.stop()
    chats_sent = seen["chats"]
    return Figure(
        messages=messages,
        seconds=seconds,
        delivered=len(set(chats_sent)),
        repeated=len(chats_sent) - len(set(chats_sent)),
        refused_429=seen["refused_429"],
        max_per_second=seen["max_per_second"],
        send_rate=settings.send_rate,
        first_send_s=seen["first"] - start,  # time.monotonic is one clock for the whole machine
        sending_s=seen["last"] - seen["first"],
        rate_429=seen["rate_429"],
    )


def main(argv: list[str] | None = None) -> int:
    import logging

    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url", help="PostgreSQL to use (it is emptied); default: a SQLite file")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(ROOT))
    from jobs.outbox import DEPARTURE_GUARD

    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{scratch}/broadcast.db"
        database = "postgresql" if url.startswith("postgresql") else "sqlite"
        runs: dict[str, Any] = {}
        scenarios = [("plain", False, 1), ("storm", True, 1)]
        if database == "postgresql":
            scenarios.append(("two_instances", False, 2))
        for name, storm, instances in scenarios:
            figure = asyncio.run(broadcast(url, args.messages, storm=storm, instances=instances))
            verdict = (figure.ratio <= TARGETS[name] and figure.repeated == 0
                       and figure.max_per_second <= TELEGRAM_RATE and figure.rate_429 == 0)  # fmt: skip
            runs[name] = {**figure.__dict__, "floor_s": figure.floor, "ratio": figure.ratio,
                          "ratio_to_send_rate": figure.ratio_to_send_rate,
                          "target": TARGETS[name], "verdict": "met" if verdict else "MISSED"}  # fmt: skip
            print(f"{name:<14} {figure.messages} messages in {figure.seconds:6.1f} s, floor {figure.floor:5.1f} s: "
                  f"{figure.ratio:.3f}× (target ≤ {TARGETS[name]}), repeated {figure.repeated}, "
                  f"429s {figure.refused_429} (rate {figure.rate_429}), first send {figure.first_send_s:.2f} s, "
                  f"peak {figure.max_per_second}/s — {runs[name]['verdict']}",
                  flush=True)  # fmt: skip
    if not args.no_save:
        results = Path(args.results)
        results.mkdir(parents=True, exist_ok=True)
        path = results / f"{date.today():%Y-%m-%d}-broadcast-{database}.json"
        payload = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "database": database,
                   "cores": os.cpu_count(), "python": platform.python_version(),
                   "send_rate": next(iter(runs.values()))["send_rate"], "departure_guard_s": DEPARTURE_GUARD,
                   "telegram_rate": TELEGRAM_RATE, "results": runs}  # fmt: skip
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"results: {path}")
    return 0 if all(run["verdict"] == "met" for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
