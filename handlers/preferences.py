"""/settings — one's own digest time and a pause (a vacation). Everyone edits only their own row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.arguments import BadArgument, parse_pause, parse_time
from bot.keyboards import Action, Preference, button, markup
from bot.settings import Settings
from db.models import Employee
from handlers.common import linked_router, show, today_of
from handlers.screens import Screen

TIMES = ("07:30", "08:00", "08:30", "09:00", "09:30", "10:00")
PAUSE_WORDS = {"пауза", "pause", "отпуск"}
RESUME_WORDS = {"возобновить", "resume", "снять", "продолжить"}
DEFAULT_WORDS = {"по умолчанию", "default", "общее"}
MAX_BUTTON_PAUSE_DAYS = 60


def preferences_screen(viewer: Employee, settings: Settings, clock: Callable[[], datetime]) -> Screen:
    today = today_of(clock)
    default = settings.digest_time.strftime("%H:%M")
    text = texts.settings_view(default, viewer.digest_time, viewer.paused_until, today)
    chosen = viewer.digest_time or default
    times = [button(("✓ " if t == chosen else "") + t, Preference(action=Action.TIME, value=t.replace(":", "")))
             for t in TIMES]  # fmt: skip
    paused = viewer.paused_until is not None and viewer.paused_until >= today
    rows = [times[:3], times[3:]]
    if viewer.digest_time:
        rows.append([button(texts.default_time_button(default), Preference(action=Action.DEFAULT_TIME))])
    if paused:
        rows.append([button(texts.RESUME_BUTTON, Preference(action=Action.RESUME))])
    else:
        rows.append([button(texts.PAUSE_WEEK_BUTTON, Preference(action=Action.PAUSE, value="7")),
                     button(texts.PAUSE_TWO_WEEKS_BUTTON, Preference(action=Action.PAUSE, value="14"))])  # fmt: skip
    return Screen(text, markup(rows))


def apply(viewer: Employee, words: str, clock: Callable[[], datetime]) -> None:
    """Change ``viewer``'s preferences as typed after /settings; raises BadArgument."""
    today = today_of(clock)
    first, _, rest = words.strip().partition(" ")
    if words.strip().lower() in DEFAULT_WORDS:
        viewer.digest_time = None
    elif first.lower() in PAUSE_WORDS:
        viewer.paused_until = parse_pause(rest, today)
    elif first.lower() in RESUME_WORDS:
        viewer.paused_until = None
    else:
        viewer.digest_time = parse_time(words)


async def settings_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    viewer: Employee,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    if command.args and command.args.strip():
        apply(viewer, command.args, clock)
        await session.flush()
    screen = preferences_screen(viewer, settings, clock)
    await message.answer(screen.text, reply_markup=screen.markup)


async def choose_time(
    callback: CallbackQuery, callback_data: Preference, session: AsyncSession, viewer: Employee,
    settings: Settings, clock: Callable[[], datetime],
) -> None:  # fmt: skip
    viewer.digest_time = parse_time(callback_data.value)
    await session.flush()
    await show(callback, preferences_screen(viewer, settings, clock))


async def default_time(
    callback: CallbackQuery, session: AsyncSession, viewer: Employee, settings: Settings,
    clock: Callable[[], datetime],
) -> None:  # fmt: skip
    viewer.digest_time = None
    await session.flush()
    await show(callback, preferences_screen(viewer, settings, clock))


async def pause(
    callback: CallbackQuery, callback_data: Preference, session: AsyncSession, viewer: Employee,
    settings: Settings, clock: Callable[[], datetime],
) -> None:  # fmt: skip
    value = callback_data.value
    if not value.isdigit() or not 0 < int(value) <= MAX_BUTTON_PAUSE_DAYS:
        raise BadArgument(value)  # our own button data: an old or forged button
    viewer.paused_until = today_of(clock) + timedelta(days=int(value) - 1)
    await session.flush()
    await show(callback, preferences_screen(viewer, settings, clock))


async def resume(
    callback: CallbackQuery, session: AsyncSession, viewer: Employee, settings: Settings,
    clock: Callable[[], datetime],
) -> None:  # fmt: skip
    viewer.paused_until = None
    await session.flush()
    await show(callback, preferences_screen(viewer, settings, clock))


def setup() -> Router:
    router = linked_router("preferences")
    router.message.register(settings_command, Command("settings"))
    router.callback_query.register(choose_time, Preference.filter(F.action == Action.TIME))
    router.callback_query.register(default_time, Preference.filter(F.action == Action.DEFAULT_TIME))
    router.callback_query.register(pause, Preference.filter(F.action == Action.PAUSE))
    router.callback_query.register(resume, Preference.filter(F.action == Action.RESUME))
    return router
