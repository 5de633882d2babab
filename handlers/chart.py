"""/chart [month] and the "📈 График" button under /kpi and /team — the month's collection as pictures.

Everyone gets the collection curve of their scope by day against the tier lines and the previous
month; supervisors and admins also get their managers' percents as bars, worst first. Each picture
is drawn off the event loop and kept per scope, month, day and import (``PictureCache``), and sent
with ``sendPhoto`` and a caption that states its numbers in words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts, texts
from bot.arguments import month_or_current
from bot.keyboards import ChartView
from bot.rules import Month, collection_percent, summarize
from bot.rules.access import sees_team
from bot.rules.team import worst_first
from bot.settings import Settings
from db import queries
from db.models import Employee
from handlers.common import checked_manager, linked_router, past_month_and_scope, today_of
from handlers.report import scope_title
from handlers.screens import person

Picture = tuple[bytes, str]  # PNG, caption


def last_day_of(month: Month) -> date:
    return month.shift(1).first_day() - timedelta(days=1)


async def curve_of(session: AsyncSession, manager_ids: Sequence[str], month: Month, until: date) -> charts.Curve:
    """The percent collected by the end of each day of ``month`` up to ``until`` (the rules' percent)."""
    paid = await queries.paid_by_day(session, manager_ids, month, min(until, last_day_of(month)))
    percents = tuple(collection_percent(amount, paid.base) for amount in paid.paid)
    return charts.Curve(texts.month_name(month), tuple(paid.days), percents)


async def curve_picture(
    session: AsyncSession, manager_ids: Sequence[str], title: str, month: Month, today: date, settings: Settings
) -> Picture:
    """This month's curve up to ``today`` (a finished month: to its end) against the previous month's.
    The caption's percent, coefficient and gap to the next tier are the digest's (``summarize`` over
    the scope's contracts); the gap only for the current month."""
    tiers = settings.kpi_tiers
    current = await curve_of(session, manager_ids, month, today)
    previous_month = month.shift(-1)
    previous = await curve_of(session, manager_ids, previous_month, last_day_of(previous_month))
    day = current.days[-1]
    figures = await queries.collections(session, manager_ids, month, today, tiers)
    collection = summarize(month, [p for figure in figures.values() for p in figure.positions], tiers)
    step = collection.next_step if month == Month.of(today) else None
    same_day = previous.percents[min(day.day, len(previous.days)) - 1]
    caption = texts.curve_caption(title, month, day, collection.percent, collection.coefficient,
                                  step.tier.threshold if step else None, step.gap if step else 0,
                                  previous_month, same_day)  # fmt: skip
    png = await asyncio.to_thread(
        charts.collection_curve_png, f"{title} — {texts.month_name(month)}", current, previous,
        last_day_of(month).day, [t.threshold for t in tiers],
    )  # fmt: skip
    return png, caption


async def bars_picture(
    session: AsyncSession, managers: Sequence[Employee], title: str, month: Month, today: date, settings: Settings
) -> Picture:
    """The managers' percents of ``month`` (a finished month's frozen ones where frozen), worst first."""
    tiers = settings.kpi_tiers
    report = await queries.report_of(session, managers, month, today, tiers)
    names = {m.manager_id: m.name for m in report}
    ordered = [(name, c.percent) for name, _, c in worst_first({m.manager_id: m.collection for m in report}, names)]
    total = queries.report_total(report, month, tiers)
    thresholds = [t.threshold for t in tiers]
    caption = texts.team_chart_caption(title, month, ordered, thresholds, total.percent)
    png = await asyncio.to_thread(charts.team_bars_png, f"{title} — {texts.month_name(month)}", ordered, thresholds)
    return png, caption


async def send_charts(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    managers: Sequence[Employee],
    title: str,
    month: Month,
    today: date,
    settings: Settings,
    pictures: charts.PictureCache,
    *,
    bars: bool,
) -> None:
    imported_at = await queries.last_import_at(session)
    scope = tuple(sorted(m.id for m in managers))
    kinds = ("curve", "bars") if bars else ("curve",)
    for kind in kinds:
        key = (kind, scope, title, str(month), today, imported_at, settings.kpi_tiers)
        cached = pictures.get(key)
        if cached is None:
            if kind == "curve":
                png, caption = await curve_picture(session, [m.id for m in managers], title, month, today, settings)
            else:
                png, caption = await bars_picture(session, managers, title, month, today, settings)
            pictures.put(key, (png, caption))
        else:
            png, caption = cached
        await bot.send_photo(chat_id, BufferedInputFile(png, f"{kind}-{month}.png"), caption=caption)


async def chart_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
    pictures: charts.PictureCache,
) -> None:
    today = today_of(clock)
    month, managers = await past_month_and_scope(session, viewer, command.args or "", today)  # or answered refusals
    await send_charts(bot, message.chat.id, session, managers, scope_title(viewer), month, today, settings, pictures,
                      bars=sees_team(person(viewer)))  # fmt: skip


async def chart_button(
    callback: CallbackQuery,
    callback_data: ChartView,
    bot: Bot,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
    pictures: charts.PictureCache,
) -> None:
    """One manager's curve (checked against the presser's scope now), or the presser's whole scope."""
    today = today_of(clock)
    month = min(month_or_current(callback_data.month, today), Month.of(today))
    if callback_data.manager:
        manager = await checked_manager(session, viewer, callback_data.manager)  # or Refused, answered as one
        managers, title, bars = [manager], manager.name, False
    else:
        managers, title = await queries.managers_in_scope(session, viewer), scope_title(viewer)
        bars = sees_team(person(viewer))
    if managers:
        await send_charts(bot, callback.from_user.id, session, managers, title, month, today, settings, pictures,
                          bars=bars)  # fmt: skip


def setup() -> Router:
    router = linked_router("chart")
    pictures = charts.PictureCache()

    async def with_pictures(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        data["pictures"] = pictures  # one cache per dispatcher: every test starts empty
        return await handler(event, data)

    router.message.middleware(with_pictures)
    router.callback_query.middleware(with_pictures)
    router.message.register(chart_command, Command("chart"))
    router.callback_query.register(chart_button, ChartView.filter())
    return router
