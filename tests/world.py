"""The demo company in a real database, linked to Telegram, behind the real Dispatcher and a
recording session: what the bot tests and the morning tests talk to."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot
from sqlalchemy import update

from bot.app import create_bot, create_dispatcher
from bot.settings import Settings
from db.models import Employee
from db.session import SessionPool
from handlers.middlewares import ThrottleMiddleware
from tests.telegram import Client, RecordingSession

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2019, 2, 25, 10, 0, tzinfo=MSK)
ARAKELYAN, IVANOV, SMIRNOVA, SUPERVISOR, ADMIN = "000000001", "000000002", "000000003", "000000010", "000000099"
TELEGRAM = {ARAKELYAN: 1001, IVANOV: 1002, SMIRNOVA: 1003, SUPERVISOR: 1010, ADMIN: 1099}


class World:
    def __init__(
        self, pool: SessionPool, settings: Settings, throttle: ThrottleMiddleware | None = None, now: datetime = NOW
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.session = RecordingSession()
        self.bot: Bot = create_bot(settings, session=self.session)
        self.dp = create_dispatcher(settings, pool, clock=lambda: now,
                                    throttle=throttle or ThrottleMiddleware(burst=1000))  # fmt: skip

    def user(self, telegram_id: int) -> Client:
        return Client(self.dp, self.bot, self.session, telegram_id)

    def employee(self, employee_id: str) -> Client:
        return self.user(TELEGRAM[employee_id])


async def link_all(pool: SessionPool) -> None:
    async with pool() as session, session.begin():
        for employee_id, telegram_id in TELEGRAM.items():
            await session.execute(update(Employee).where(Employee.id == employee_id).values(telegram_id=telegram_id))
