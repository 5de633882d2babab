"""The month-end table for payroll: on the first working day of a month, supervisors and admins get
the finished month per manager of their scope (percent, KPI coefficient, base, paid, debt) as an XLSX
file attached to the statement, through the outbox like every morning message.
"""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts, workbooks
from bot.clock import maybe_local_of_utc
from bot.rules import Month, close_day
from bot.settings import Settings
from db import queries
from db.models import Employee
from jobs.digests import worst_first
from jobs.outbox import Message


async def month_end_statement(
    session: AsyncSession, employee: Employee, today: date, settings: Settings
) -> Message | None:
    """The previous month's table for ``employee`` (a supervisor or an admin) on ``today``, or ``None``
    when ``today`` is not the month's first working day, or the scope has no managers.

    Managers' totals come from the frozen snapshots once the month is closed (``MONTH_CLOSE_WORKDAY``
    or ``kpibot close-month``), live before that, and the caption then says "предварительно"; the
    debt is as of ``today``; rows worst first, as in the digest.
    """
    if employee.role not in {"supervisor", "admin"} or not settings.calendar.is_first_working_day_of_month(today):
        return None
    month = Month.of(today).shift(-1)
    managers = await queries.managers_in_scope(session, employee)
    if not managers:
        return None
    report = await queries.report_of(session, managers, month, today, settings.kpi_tiers)
    by_id = {m.manager_id: m for m in report}
    ordered = [by_id[mid] for _, mid, _ in worst_first({m.manager_id: m.collection for m in report},
                                                         {m.manager_id: m.name for m in report})]  # fmt: skip
    total = queries.report_total(ordered, month, settings.kpi_tiers)
    title = f"команда «{employee.team}»" if employee.role == "supervisor" else "все команды"
    content = await asyncio.to_thread(workbooks.month_end_table, settings.company_name, month, today, ordered, total)
    state = await queries.month_close_state(session, month)
    closed = maybe_local_of_utc(state.at, settings.zone) if state is not None and state.action == "close" else None
    closes_on = None if closed else close_day(month, settings.month_close_workday, settings.calendar.is_working_day)
    note = texts.month_state_note(closed.date() if closed else None, closes_on, today)
    text = texts.team_statement(title, total, len(ordered), note)
    document = (texts.month_end_file_name(month), content)
    return Message(employee.id, "statement", today, employee.telegram_id or 0, text, document=document)
