"""/settings — one's own digest time and a pause (a vacation). Everyone edits only their own row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.arguments import SETTINGS_EXAMPLES, BadArgument, parse_pause, parse_time
from bot.keyboards import Preference, button, markup
from bot.settings import Settings
from db.models import Employee
from handlers.common import linked_router, show, today_of
from handlers.screens import Screen

TIMES = ("07:30", "08:00", "08:30", "09:00", "09:30", "10:00")
PAUSE_WORDS = {"пауза", "pause", "отпуск"}
RESUME_WORDS = {"возобновить", "resume", "снять", "продолжить"}
DEFAULT_WORDS = {"по умолчанию", "default", "общее"}


def preferences_screen(viewer: Employee, settings: Settings, clock: Callable[[], datetime]) -> Screen:
    today = today_of(clock)
    default = settings.digest_time.strftime("%H:%M")
    text = texts.settings_view(default, viewer.digest_time, viewer.paused_until, today)
    chosen = viewer.digest_time or default
    times = [button(("✓ " if t == chosen else "") + t, Preference(action="t", value=t.replace(":", ""))) for t in TIMES]
    paused = viewer.paused_until is not None and viewer.paused_until >= today
    rows = [times[:3], times[3:]]
    if viewer.digest_time:
        rows.append([button(f"Общее время ({default})", Preference(action="d"))])
    if paused:
        rows.append([button("▶️ Возобновить сводки", Preference(action="r"))])
    else:
        rows.append([button("⏸ Пауза на неделю", Preference(action="p", value="7")),
                     button("⏸ На две недели", Preference(action="p", value="14"))])  # fmt: skip
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


def setup() -> Router:
    router = linked_router("preferences")

    @router.message(Command("settings"))
    async def settings_command(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        if command.args and command.args.strip():
            try:
                apply(viewer, command.args, clock)
            except BadArgument as error:
                await message.answer(texts.bad_settings(str(error), SETTINGS_EXAMPLES))
                return
            await session.flush()
        screen = preferences_screen(viewer, settings, clock)
        await message.answer(screen.text, reply_markup=screen.markup)

    @router.callback_query(Preference.filter())
    async def settings_button(
        callback: CallbackQuery,
        callback_data: Preference,
        session: AsyncSession,
        viewer: Employee,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        today = today_of(clock)
        try:
            if callback_data.action == "t":
                viewer.digest_time = parse_time(callback_data.value)
            elif callback_data.action == "d":
                viewer.digest_time = None
            elif callback_data.action == "p" and callback_data.value.isdigit() and 0 < int(callback_data.value) <= 60:
                viewer.paused_until = today + timedelta(days=int(callback_data.value) - 1)
            elif callback_data.action == "r":
                viewer.paused_until = None
            else:
                raise BadArgument(callback_data.action)
        except BadArgument:
            await callback.answer(texts.STALE, show_alert=True)
            return
        await session.flush()
        await show(callback, preferences_screen(viewer, settings, clock))

    return router
