"""The morning job: render each due employee's digest into the outbox on working days.

The scheduler fires the job every minute (and once at start-up, so a late start still sends today's
digests, never yesterday's). Each run enqueues the employees whose digest time (personal, or
``DIGEST_TIME``) has come and who have no digest for today yet; the outbox's unique key makes a
second run, or a second process, harmless. Sending is the outbox sender's job.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from aiogram.types import InlineKeyboardMarkup
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.keyboards import Open, button, markup
from bot.rules import Month, close_day
from bot.settings import Settings
from db import queries
from db.models import Employee
from db.queries import ledger
from db.queries.outbox import take_lease
from db.session import SessionPool
from jobs.digests import Morning, build_digest, collections_of, morning, prepare, store_findings
from jobs.month_end import month_end_statement
from jobs.outbox import Message, enqueue, replace, sender_name

log = logging.getLogger(__name__)


def digest_trigger(settings: Settings) -> CronTrigger:
    """Every minute, on the minute, in the office's zone: a digest goes out in the minute it is due."""
    return CronTrigger(second=0, timezone=settings.zone)


def digest_time(employee: Employee, settings: Settings) -> time:
    if employee.digest_time:
        hours, minutes = employee.digest_time.split(":")
        return time(int(hours), int(minutes))
    return settings.digest_time


def digest_markup(employee: Employee) -> InlineKeyboardMarkup | None:
    if employee.role == "manager":
        rows = [[button("📈 KPI", Open(view="k")), button("💸 Должники", Open(view="d"))],
                [button("📄 Договоры", Open(view="c")), button("⚙️ Настройки", Open(view="s"))]]  # fmt: skip
    else:
        rows = [[button("👥 Команда", Open(view="t")), button("💸 Должники", Open(view="d"))],
                [button("⚙️ Настройки", Open(view="s"))]]  # fmt: skip
    return markup(rows)


PREPARE_FROM = 10  # due digests from which every manager's figures are read at once, not one by one


@dataclass(frozen=True)
class Enqueued:
    day: date
    working_day: bool
    added: int = 0
    employees: int = 0
    keys: tuple[tuple[str, str, date], ...] = ()  # (employee, kind, day) of every message added or replaced


def month_close_day(month: Month, settings: Settings) -> date:
    """The day ``month`` closes: the ``MONTH_CLOSE_WORKDAY``-th working day of the next month."""
    return close_day(month, settings.month_close_workday, settings.calendar.is_working_day)


async def close_due_month(session: AsyncSession, today: date, settings: Settings, now_utc: datetime) -> Month | None:
    """Close the previous month when its close day has come and it was never closed nor reopened (a
    reopened month waits for an admin's ``kpibot close-month``). Returns the month closed, if any."""
    month = Month.of(today).shift(-1)
    if today < month_close_day(month, settings) or await queries.month_close_state(session, month) is not None:
        return None
    await queries.close_month(session, month, today, settings.kpi_tiers, now_utc, "morning job")
    log.info("closed %s", month)
    return month


async def statement_text(session: AsyncSession, manager_id: str, month: Month, today: date, settings: Settings) -> str:
    """The finished month's statement: frozen when the month is closed, else live and marked
    "предварительно" with the day it closes."""
    closed = await queries.closed_collections(session, [manager_id], month)
    if closed is not None:
        figure = closed[manager_id]
        return texts.statement(month, figure.base, figure.paid, figure.percent, figure.coefficient)
    live = (await queries.collections(session, [manager_id], month, today, settings.kpi_tiers))[manager_id].collection
    return texts.statement(
        month, live.base, live.paid, live.percent, live.coefficient, closes_on=month_close_day(month, settings)
    )


async def messages_for(
    session: AsyncSession, employee: Employee, context: Morning, settings: Settings, *, present: bool = True
) -> list[Message]:
    """Today's digest; on the month's first working day a manager's statement of the previous month
    (final once the month is closed, "предварительно" before); to an admin, the notice that the 1C
    data is late — only for the present (``present``), never for a replayed day, whose lateness
    nobody can act on."""
    today = context.today
    chat = employee.telegram_id or 0
    digest = await build_digest(session, employee, today, settings, context)
    messages = [Message(employee.id, "digest", today, chat, digest.text, digest_markup(employee))]
    if employee.role == "manager" and settings.calendar.is_first_working_day_of_month(today):
        text = await statement_text(session, employee.id, Month.of(today).shift(-1), today, settings)
        messages.append(Message(employee.id, "statement", today, chat, text))
    table = await month_end_statement(session, employee, today, settings)  # supervisors and admins
    if table is not None:
        messages.append(table)
    if employee.role == "admin" and context.stale and present:
        notice = texts.stale_notice(context.imported_at, settings.calendar.previous_working_day(today))
        messages.append(Message(employee.id, "stale", today, chat, notice))
    return messages


async def keep_for_today(session: AsyncSession, today: date, settings: Settings, now_utc: datetime) -> None:
    """What the screens and digests of ``today`` read, computed and stored once: the collection ledger
    brought to ``today`` (payments dated since its day, every contract on a new month) and ``today``'s
    discipline findings (when any calls, meetings or documents were ever imported)."""
    if await ledger.ledger_state(session) is not None or await queries.first_data_month(session) is not None:
        await ledger.keep_ledgers(session, today, now_utc)
    if await queries.has_discipline_data(session):
        await store_findings(session, today, settings, now_utc)


async def enqueue_digests(
    pool: SessionPool,
    settings: Settings,
    now: datetime,
    *,
    employee_id: str | None = None,
    any_time: bool = False,
    force: bool = False,
    close: bool = True,
) -> Enqueued:
    """Put today's digests (``now`` is local, aware) of the due employees into the outbox.

    ``any_time`` ignores the digest times (``kpibot digest --send``); ``employee_id`` picks one
    employee; ``force`` renders again and resends what was already delivered, and sends on a day off;
    ``close`` (off for a replayed date) closes the previous month first when its close day and
    ``DIGEST_TIME`` have come (so the imports of that morning still count), whoever is due.
    """
    today = now.date()
    if not force and not settings.calendar.is_working_day(today):
        return Enqueued(today, working_day=False)
    utc = now.astimezone(UTC).replace(tzinfo=None)
    async with pool() as session, session.begin():
        if close and now.time().replace(tzinfo=None) >= settings.digest_time:
            await close_due_month(session, today, settings, utc)  # at the digest time, even if nobody is due
        if force and employee_id is not None:
            employee = await queries.get_employee(session, employee_id)
            due = [employee] if employee is not None and employee.telegram_id else []
        elif force:
            due = [e for e in await queries.list_employees(session, active_only=True) if e.telegram_id]
        else:
            due = await queries.due_for_digest(session, today)
            if employee_id is not None:
                due = [e for e in due if e.id == employee_id]
        if not any_time:
            due = [e for e in due if digest_time(e, settings) <= now.time().replace(tzinfo=None)]
        if not due:
            return Enqueued(today, working_day=True)
        if close:  # the present, not a replay: keep what the screens read all day (a replay only reads)
            await keep_for_today(session, today, settings, utc)
        context = await morning(session, today, settings, now)
        if len(due) >= PREPARE_FROM:  # the morning's many digests: every manager's figures and discipline, once
            await prepare(session, context, due, settings)
        if not await queries.figures_recorded(session, today):  # for tomorrow's "since the previous digest"
            managers = [e.id for e in await queries.list_employees(session, active_only=True) if e.role == "manager"]
            await queries.record_figures(session, today, await collections_of(session, context, managers, settings))
        keys: list[tuple[str, str, date]] = []
        for employee in due:
            for message in await messages_for(session, employee, context, settings, present=close):
                if force:
                    await replace(session, message, utc)
                    keys.append(message.key)
                elif await enqueue(session, [message], utc):
                    keys.append(message.key)
    log.info("enqueued %s message(s) for %s employee(s) on %s", len(keys), len(due), today)
    return Enqueued(today, working_day=True, added=len(keys), employees=len(due), keys=tuple(keys))


MORNING_LEASE = "morning"


def morning_job(
    pool: SessionPool,
    settings: Settings,
    clock: Callable[[], datetime],
    wake: Callable[[], None],
    instance: str | None = None,
) -> Callable[[], Awaitable[None]]:
    """The scheduler's job: enqueue what is due now, wake the sender; never raise into the scheduler.

    Every instance schedules it; a run first takes the ``morning`` lease (for 50 s, less than the
    minute between runs), so of several instances on one database one renders and enqueues, the
    others skip that minute. The outbox's unique key stays the last line of defence."""

    holder = instance or sender_name()

    async def job() -> None:
        try:
            now = clock()
            utc = now.astimezone(UTC).replace(tzinfo=None)
            async with pool() as session, session.begin():
                mine = await take_lease(session, MORNING_LEASE, holder, utc, utc + timedelta(seconds=50))
            if not mine:
                log.debug("the morning job runs on another instance this minute")
                return
            result = await enqueue_digests(pool, settings, now)
        except Exception:
            log.exception("the morning job failed; the next run (in a minute) tries again")
            return
        if result.added:
            wake()

    return job
