"""Talking to the real Dispatcher without a network.

``RecordingSession`` is an aiogram session that records every Bot API request and answers it the way
the Bot API would: through aiogram's own ``check_response`` on a JSON body, so a queued
``{"ok": false, "error_code": 403}`` becomes a real ``TelegramForbiddenError``. Responses are queued
per method and served first in, first out; unqueued calls get a plausible default result.

Every request is checked against Telegram's own limits first (``telegram_violation``): a text over
4,096 UTF-16 units after entity parsing, a caption over 1,024, markup Telegram cannot parse, callback
data over 64 bytes, an empty button label. A request that breaks one is answered as Telegram answers it
(400 Bad Request) and kept in ``violations``, so a test sees both what the person saw and why.

``Client`` is a person in a private chat: ``send("/kpi")``, ``click(button)``, ``send_document(name,
bytes)``; ids and dates increase; every button press must be answered exactly once. A document sent
is kept in ``files`` by its file id: ``getFile`` answers its ``file_path`` and the download streams its
bytes as the Bot API's file URL would (``downloads`` records what was fetched).
"""

from __future__ import annotations

import html
import json
from collections import defaultdict, deque
from collections.abc import AsyncGenerator
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)

from bot import texts
from bot.keyboards import MAX_CALLBACK_BYTES

BOT_USER = {"id": 42, "is_bot": True, "first_name": "KPI", "username": "kpi_test_bot"}
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
                 "tg-spoiler", "tg-emoji", "blockquote"}  # fmt: skip
MAX_CAPTION = 1024


class _TelegramHtml(HTMLParser):
    """What Telegram's HTML parse mode does with a text: the plain text it keeps, and what it refuses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.plain: list[str] = []
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"unsupported start tag <{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unexpected end tag </{tag}>")

    def handle_data(self, data: str) -> None:
        self.plain.append(data)


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parsed(text: str) -> tuple[str, list[str]]:
    """The text Telegram shows for an HTML-mode ``text``, and the parse errors it would answer."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    errors = parser.errors + [f"unclosed <{tag}>" for tag in parser.open]
    return html.unescape("".join(parser.plain)), errors


def telegram_violation(method: Any) -> str | None:
    """Why Telegram would refuse ``method`` (``None``: it would not)."""
    for field, limit in (("text", texts.MAX_MESSAGE), ("caption", MAX_CAPTION)):
        value = getattr(method, field, None)
        if not isinstance(value, str):
            continue
        plain, errors = parsed(value)
        if errors:
            return f"can't parse entities: {errors[0]}"
        if field == "text" and not plain.strip():
            return "message text is empty"
        if utf16(plain) > limit:
            return f"message is too long ({field} of {utf16(plain)} UTF-16 units)"
    markup = getattr(method, "reply_markup", None)
    if isinstance(markup, InlineKeyboardMarkup):
        buttons = [b for row in markup.inline_keyboard for b in row]
        if len(buttons) > 100:
            return "too many buttons"
        for b in buttons:
            if not b.text.strip():
                return "text buttons are unallowed in the inline keyboard"
            if b.callback_data is None or not 1 <= len(b.callback_data.encode()) <= MAX_CALLBACK_BYTES:
                return "BUTTON_DATA_INVALID"
    answer_text = getattr(method, "text", None) if type(method).__name__ == "AnswerCallbackQuery" else None
    if answer_text is not None and utf16(answer_text) > 200:
        return "MESSAGE_TOO_LONG (callback answer)"
    return None


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.queued: dict[str, deque[tuple[int, dict[str, Any]] | Exception]] = defaultdict(deque)
        self.next_message_id = 1000
        self.violations: list[tuple[str, str]] = []  # (method, what Telegram would have refused)
        self.files: dict[str, bytes] = {}  # file_id -> content of the documents people sent
        self.downloads: list[str] = []  # file URLs fetched

    def queue_error(self, method: str, code: int, description: str, retry_after: int | None = None) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.queued[method].append((code, body))

    def queue_exception(self, method: str, error: Exception) -> None:
        """The next ``method`` call raises ``error`` (a network failure, a timeout)."""
        self.queued[method].append(error)

    def _default(self, method: TelegramMethod[Any]) -> Any:
        name = type(method).__name__
        if name in {"SendMessage", "EditMessageText"}:
            self.next_message_id += 1
            message_id = getattr(method, "message_id", None) or self.next_message_id
            markup = getattr(method, "reply_markup", None)
            return {
                "message_id": message_id,
                "date": int(datetime(2019, 2, 25, 7).timestamp()),
                "chat": {"id": method.chat_id, "type": "private"},  # type: ignore[attr-defined]
                "text": method.text,  # type: ignore[attr-defined]
                **({"reply_markup": markup.model_dump(exclude_none=True)} if markup is not None else {}),
            }
        if name in {"SendDocument", "SendPhoto"}:  # a file message: the caption, no text
            self.next_message_id += 1
            caption = getattr(method, "caption", None)
            attached = (
                {"document": {"file_id": f"doc{self.next_message_id}", "file_unique_id": f"u{self.next_message_id}",
                              "file_name": method.document.filename}}  # type: ignore[attr-defined]
                if name == "SendDocument"
                else {"photo": [{"file_id": f"ph{self.next_message_id}", "file_unique_id": f"u{self.next_message_id}",
                                 "width": 800, "height": 450}]}
            )  # fmt: skip
            return {
                "message_id": self.next_message_id,
                "date": int(datetime(2019, 2, 25, 7).timestamp()),
                "chat": {"id": method.chat_id, "type": "private"},  # type: ignore[attr-defined]
                **({"caption": caption} if caption is not None else {}),
                **attached,
            }
        if name == "GetFile":
            file_id = method.file_id  # type: ignore[attr-defined]
            content = self.files[file_id]
            return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(content),
                    "file_path": f"documents/{file_id}"}  # fmt: skip
        if name == "GetMe":
            return BOT_USER
        if name == "GetUpdates":
            return []
        return True

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        self.requests.append(method)
        name = type(method).__name__
        problem = telegram_violation(method)
        if problem is not None:
            self.violations.append((name, problem))
            status, body = 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"}
        elif self.queued[name]:
            queued = self.queued[name].popleft()
            if isinstance(queued, Exception):
                raise queued
            status, body = queued
        else:
            status, body = 200, {"ok": True, "result": self._default(method)}
        response = self.check_response(
            bot=bot, method=method, status_code=status, content=json.dumps(body, default=str)
        )
        return response.result  # type: ignore[return-value]

    async def stream_content(
        self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,  # noqa: ASYNC109
        chunk_size: int = 65536, raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # fmt: skip
        """A file URL (``…/file/bot<token>/documents/<file id>``) streamed in chunks."""
        self.downloads.append(url)
        content = self.files[url.rsplit("/", 1)[-1]]
        for start in range(0, len(content), chunk_size):
            yield content[start : start + chunk_size]

    async def close(self) -> None:
        pass

    def of(self, name: str) -> list[Any]:
        return [r for r in self.requests if type(r).__name__ == name]


def check_telegram_rules(method: Any) -> None:
    """What Telegram enforces on every message we send or edit."""
    problem = telegram_violation(method)
    assert problem is None, f"{type(method).__name__}: {problem}"


class Client:
    """One Telegram user in a private chat with the bot."""

    counter = 0

    def __init__(self, dp: Dispatcher, bot: Bot, session: RecordingSession, user_id: int, name: str = "Тест"):
        self.dp, self.bot, self.session = dp, bot, session
        self.user = User(id=user_id, is_bot=False, first_name=name)
        self.chat = Chat(id=user_id, type="private")

    @classmethod
    def _next(cls) -> int:
        cls.counter += 1
        return cls.counter

    async def _feed(self, update: Update) -> list[Any]:
        before = len(self.session.requests)
        await self.dp.feed_update(self.bot, update)
        sent = self.session.requests[before:]
        for method in sent:
            check_telegram_rules(method)
        return sent

    async def send(self, text: str) -> list[Any]:
        n = self._next()
        message = Message(message_id=n, date=datetime(2019, 2, 25, 7), chat=self.chat, from_user=self.user, text=text)
        return await self._feed(Update(update_id=n, message=message))

    async def send_document(self, name: str, content: bytes, *, size: int | None = None) -> list[Any]:
        """Send ``content`` as a document named ``name`` (``size``: the size Telegram reports, to
        play a file over the 20 MB download limit without making one)."""
        n = self._next()
        file_id = f"upload{n}"
        self.session.files[file_id] = content
        document = Document(file_id=file_id, file_unique_id=f"u-{file_id}", file_name=name,
                            file_size=len(content) if size is None else size)  # fmt: skip
        message = Message(message_id=n, date=datetime(2019, 2, 25, 7), chat=self.chat, from_user=self.user,
                          document=document)  # fmt: skip
        return await self._feed(Update(update_id=n, message=message))

    async def press(self, data: str, message_id: int = 1, text: str = "…") -> list[Any]:
        n = self._next()
        message = Message(message_id=message_id, date=datetime(2019, 2, 25, 7), chat=self.chat, text=text)
        callback = CallbackQuery(id=str(n), from_user=self.user, chat_instance="ci", data=data, message=message)
        sent = await self._feed(Update(update_id=n, callback_query=callback))
        answers = [a for a in answers_of(sent) if a.callback_query_id == str(n)]
        assert len(answers) == 1, f"callback {data!r} answered {len(answers)} times"
        return sent

    async def click(self, sent: list[Any], label: str) -> list[Any]:
        """Press the button labelled ``label`` in the last message of ``sent``."""
        for method in reversed(sent):
            markup = getattr(method, "reply_markup", None)
            if isinstance(markup, InlineKeyboardMarkup):
                for button in (b for row in markup.inline_keyboard for b in row):
                    if button.text == label:
                        return await self.press(_data(button), getattr(method, "message_id", None) or 1)
        raise AssertionError(f"no button {label!r}")


def _data(button: InlineKeyboardButton) -> str:
    assert button.callback_data is not None
    return button.callback_data


def files_of(sent: list[Any], method: str = "SendDocument") -> list[Any]:
    """The ``sendDocument`` (or ``sendPhoto``) requests among ``sent``."""
    return [m for m in sent if type(m).__name__ == method]


def texts_of(sent: list[Any]) -> list[str]:
    return [m.text for m in sent if type(m).__name__ in {"SendMessage", "EditMessageText"}]


def answers_of(sent: list[Any]) -> list[Any]:
    return [m for m in sent if type(m).__name__ == "AnswerCallbackQuery"]
