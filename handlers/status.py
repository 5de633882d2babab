"""/status (admins): the last import attempt of each source (the folder, the OData sync, uploads,
``kpibot import``: time, rows, problems, the first problem), the next night run of each configured
source (``IMPORT_DIR``, ``ODATA_URL``), and today's delivery so far (the outbox by status)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.rules import Role
from bot.settings import Settings
from db.attempts import last_attempts
from db.models import Employee
from db.queries import outbox as outbox_store
from handlers.common import Refused, linked


async def status_command(
    message: Message, session: AsyncSession, viewer: Employee, settings: Settings, clock: Callable[[], datetime]
) -> None:
    if viewer.role != Role.ADMIN:
        raise Refused(texts.STATUS_ADMIN_ONLY)
    now = clock()
    attempts = [
        (a.source, a.started_at.replace(tzinfo=UTC).astimezone(now.tzinfo), a.ok, a.rows, a.problems,
         a.first_problems.split("\n", 1)[0])
        for a in await last_attempts(session)
    ]  # fmt: skip
    delivery = await outbox_store.statuses_of_day(session, now.date())
    night = settings.next_import_at(now)
    next_runs = [(source, night) for source in settings.night_sources if night is not None]
    await message.answer(
        texts.status_text(attempts, next_runs, delivery, settings.import_dir is not None, bool(settings.odata_url))
    )


def setup() -> Router:
    router = Router(name="status")
    router.message.filter(linked)
    router.message.register(status_command, Command("status"))
    return router
