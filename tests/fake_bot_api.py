"""A small fake Bot API server on 127.0.0.1 for end-to-end tests of ``kpibot run``.

It speaks the Bot API's HTTP protocol the way aiogram uses it (``POST /bot<token>/<method>`` with
form fields, JSON replies ``{"ok": ..., "result": ...}``), hands out queued updates through long
polling ``getUpdates`` and records every other call. A document a person sends
(``push_document``) is served as the Bot API serves files: ``getFile`` gives its ``file_path`` and
``GET /file/bot<token>/<file_path>`` its bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiohttp import web

BOT_USER = {"id": 42, "is_bot": True, "first_name": "KPI", "username": "kpi_test_bot"}


class FakeBotApi:
    """``rate``: sendMessage calls allowed per second overall (sliding window), like Telegram's flood
    control, and one per ``chat_interval`` per chat; over it the call gets 429 with ``retry_after``.
    ``refuse_first``: so many first sendMessage calls get 429 anyway. ``blocked``: chats answering
    403. ``delay``: seconds each sendMessage takes; the message counts as delivered when it arrives
    (as in Telegram, which delivers before it answers), so a client killed meanwhile never learns.
    ``refuse_chats_once``: the first sendMessage to each of these chats gets a 429 for that chat
    (``chat_retry_after`` seconds), which does not count against the bot's rate. Two ``getUpdates``
    at once get 409 Conflict, as Telegram answers two instances polling with one token."""

    def __init__(
        self,
        *,
        rate: int | None = None,
        chat_interval: float = 0.8,
        refuse_first: int = 0,
        blocked: set[int] | None = None,
        delay: float = 0.0,
        refuse_chats_once: set[int] | None = None,
        chat_retry_after: int = 1,
    ) -> None:
        self.rate = rate
        self.chat_interval = chat_interval
        self.refuse_first = refuse_first
        self.blocked = blocked or set()
        self.delay = delay
        self.refuse_chats_once = set(refuse_chats_once or ())
        self.chat_retry_after = chat_retry_after
        self.polling = 0  # getUpdates requests in progress
        self.confirmed = 0  # the highest offset asked for
        self.conflicts = 0  # 409s: a getUpdates while another was in progress
        self.accepted: list[float] = []  # when each sendMessage was accepted (monotonic)
        self.recent: list[float] = []
        self.last_to_chat: dict[int, float] = {}
        self.refused: list[dict[str, Any]] = []  # 429 and 403 answers
        self.floods: list[tuple[int, str]] = []  # each flood-control 429: the chat, and why (first, chat, rate)
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.next_update_id = 1
        self.files: dict[str, bytes] = {}  # file_id -> the bytes of a document a person sent
        self.downloads: list[str] = []  # file paths fetched
        self.next_message_id = 100
        self.new_update = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def push_message(self, user_id: int, text: str) -> None:
        self.updates.append(self.message_update(user_id, text))
        self.new_update.set()

    def message_update(self, user_id: int, text: str) -> dict[str, Any]:
        """A private message from ``user_id`` as an Update (also what a webhook POST carries)."""
        update_id = self.next_update_id
        self.next_update_id += 1
        return ({
            "update_id": update_id,
            "message": {
                "message_id": update_id, "date": int(time.time()), "text": text,
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "Тест"},
                **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                   if text.startswith("/") else {}),
            },
        })  # fmt: skip

    def max_per_second(self) -> int:
        """The most sendMessage calls accepted within any one second."""
        moments = sorted(self.accepted)
        return max((sum(1 for t in moments if start <= t < start + 1.0) for start in moments), default=0)

    def push_document(self, user_id: int, file_name: str, content: bytes) -> None:
        update_id = self.next_update_id
        self.next_update_id += 1
        file_id = f"doc{update_id}"
        self.files[file_id] = content
        self.updates.append({
            "update_id": update_id,
            "message": {
                "message_id": update_id, "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "Тест"},
                "document": {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name,
                             "file_size": len(content)},
            },
        })  # fmt: skip
        self.new_update.set()

    async def download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.downloads.append(path)
        return web.Response(body=self.files[path.rsplit("/", 1)[-1]])

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def wait_for(self, count: int, method: str = "sendMessage", seconds: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while len(self.sent(method)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.sent(method))} of {count} {method} calls arrived: {self.calls}")
            await asyncio.sleep(0.05)
        return self.sent(method)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {k: v for k, v in form.items() if isinstance(v, str)}
            files = {k: (v.filename, v.file.read()) for k, v in form.items() if isinstance(v, web.FileField)}
            if files:  # sendDocument / sendPhoto: the uploads by field name, as (file name, bytes)
                params["files"] = files
        if method == "getUpdates":
            self.calls.append((method, params))
            if self.polling:
                self.conflicts += 1
                return web.json_response({"ok": False, "error_code": 409, "description": "Conflict: terminated by "
                                          "other getUpdates request; make sure that only one bot instance is running"},
                                         status=409)  # fmt: skip
            self.polling += 1
            try:
                return await self.get_updates(params)
            finally:
                self.polling -= 1
        if method == "sendMessage":
            refusal = self.refusal(params)
            if refusal is not None:
                self.refused.append({**params, "error_code": refusal["error_code"]})
                return web.json_response(refusal, status=refusal["error_code"])  # aiogram reads the status
        self.calls.append((method, params))
        if method == "sendMessage" and self.delay:
            await asyncio.sleep(self.delay)
        result = self.reply(method, params)
        return web.json_response({"ok": True, "result": result})

    def refusal(self, params: dict[str, Any]) -> dict[str, Any] | None:
        chat = int(params["chat_id"])
        if chat in self.blocked:
            return {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        if chat in self.refuse_chats_once:
            self.refuse_chats_once.discard(chat)
            return {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after "
                    f"{self.chat_retry_after}", "parameters": {"retry_after": self.chat_retry_after}}  # fmt: skip
        now = time.monotonic()
        self.recent = [t for t in self.recent if t > now - 1.0]
        flood = self.refuse_first > 0
        if self.rate is not None and len(self.recent) >= self.rate:
            flood = True
        chat_flood = self.rate is not None and now - self.last_to_chat.get(chat, -10.0) < self.chat_interval
        flood = flood or chat_flood
        if flood:
            self.floods.append((chat, "first" if self.refuse_first else "chat" if chat_flood else "rate"))
            self.refuse_first = max(self.refuse_first - 1, 0)
            return {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1}}  # fmt: skip
        self.recent.append(now)
        self.accepted.append(now)
        self.last_to_chat[chat] = now
        return None

    def reply(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getFile":
            file_id = params["file_id"]
            return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(self.files[file_id]),
                    "file_path": f"documents/{file_id}"}  # fmt: skip
        if method in {"sendDocument", "sendPhoto"}:
            self.next_message_id += 1
            return {
                "message_id": self.next_message_id,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                **({"caption": params["caption"]} if "caption" in params else {}),
            }
        if method in {"sendMessage", "editMessageText"}:
            self.next_message_id += 1
            return {
                "message_id": int(params.get("message_id") or self.next_message_id),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        return True

    async def get_updates(self, params: dict[str, Any]) -> web.Response:
        # as in Telegram: an update is confirmed (never given out again) once getUpdates asked for a later one
        self.confirmed = max(self.confirmed, int(params.get("offset") or 0))
        offset = self.confirmed
        wait = min(float(params.get("timeout") or 0), 0.5)
        pending = [u for u in self.updates if u["update_id"] >= offset]
        if not pending and wait > 0:
            self.new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_update.wait(), wait)
            pending = [u for u in self.updates if u["update_id"] >= offset]
        return web.json_response({"ok": True, "result": json.loads(json.dumps(pending))})
