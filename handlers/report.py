"""/report [month] — "Расчёт оплат" as the 1C report, an XLSX document; the "выгрузить" button under
/debtors — the debtors as an XLSX document. Scoped like every screen: a manager gets their own part,
a supervisor their team, an admin everyone (``queries.managers_in_scope``, checked again on press).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts, workbooks
from bot.keyboards import Export, ExportKind
from bot.rules import Month, Role
from bot.settings import Settings
from db import queries
from db.models import Employee
from handlers.common import checked_manager, linked_router, past_month_and_scope, today_of


@dataclass(frozen=True)
class File:
    name: str
    content: bytes
    caption: str


def scope_title(viewer: Employee) -> str:
    if viewer.role == "manager":
        return viewer.name
    return f"Команда «{viewer.team}»" if viewer.role == "supervisor" else "Все команды"


async def report_file(
    session: AsyncSession, managers: Sequence[Employee], title: str, month: Month, today: date, settings: Settings
) -> File:
    """The report of ``managers`` for ``month`` as of ``today`` (the CLI builds the same file)."""
    report = await queries.report_of(session, managers, month, today, settings.kpi_tiers)
    total = queries.report_total(report, month, settings.kpi_tiers)
    content = await asyncio.to_thread(workbooks.collection_report, settings.company_name, month, today, report, total)
    contracts = sum(len(m.contracts) for m in report)
    return File(texts.report_file_name(month, today), content,
                texts.report_caption(title, total, len(report), contracts, today))  # fmt: skip


async def report_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    today = today_of(clock)
    month, managers = await past_month_and_scope(session, viewer, command.args or "", today)  # or answered refusals
    file = await report_file(session, managers, scope_title(viewer), month, today, settings)
    await message.answer_document(BufferedInputFile(file.content, file.name), caption=file.caption)


async def export_debtors(
    callback: CallbackQuery,
    callback_data: Export,
    bot: Bot,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
    callback_answer: CallbackAnswer,
) -> None:
    """The debtors of the presser's scope, or of one manager in it, as a new document message."""
    if callback_data.manager:
        manager = await checked_manager(session, viewer, callback_data.manager)  # or Refused, answered as one
        managers, title = [manager], texts.debtors_of(manager.name)
    else:
        managers = await queries.managers_in_scope(session, viewer)
        title = texts.OWN_DEBTORS if viewer.role == Role.MANAGER else texts.debtors_of(scope_title(viewer))
    today = today_of(clock)
    debtors = await queries.debtors_of(session, managers, today, settings.kpi_tiers)
    if not debtors:
        callback_answer.text, callback_answer.show_alert = texts.NO_DEBTORS_FILE, True
        return
    content = await asyncio.to_thread(workbooks.debtors_workbook, title, today, debtors)
    caption = texts.debtors_caption(title, len(debtors), sum(d.debt for d in debtors), today)
    await bot.send_document(callback.from_user.id, BufferedInputFile(content, texts.debtors_file_name(today)),
                            caption=caption)  # fmt: skip
    callback_answer.text = texts.FILE_SENT


def setup() -> Router:
    router = linked_router("report")
    router.message.register(report_command, Command("report"))
    router.callback_query.register(export_debtors, Export.filter(F.what == ExportKind.DEBTORS))
    return router
