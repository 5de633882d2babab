"""Bot API answers are checked against a parameterized pydantic model, ``Response[T]``; pydantic keeps
those only weakly, so without ``RESPONSE_MODELS`` every reply rebuilt the model class (about 10 ms a
reply, found with cProfile in bench/ under issue 15)."""

from __future__ import annotations

import gc

from aiogram.methods import Response
from aiogram.types import Message

from bot.app import create_bot
from bot.settings import load_settings
from handlers.middlewares import RESPONSE_MODELS
from tests.telegram import RecordingSession


async def test_a_reply_reuses_the_response_model_of_its_type() -> None:
    session = RecordingSession()
    bot = create_bot(load_settings(database_url="sqlite+aiosqlite://", bot_token="42:TEST", _env_file=None), session)
    await bot.send_message(1, "первый")
    model = RESPONSE_MODELS[Message]
    gc.collect()  # nothing but the pin keeps the class alive between replies
    await bot.send_message(1, "второй")
    assert Response[Message] is model
    assert [type(m).__name__ for m in session.requests] == ["SendMessage", "SendMessage"]
