"""An admin sends a CSV, XLSX, ``Master.csv`` or a zip of them: the same all-or-nothing import as
``kpibot import``, answered with the per-entity summary or the first problem lines (the full list as
a file when there are more). A document from anyone else is refused before it is downloaded.

Telegram lets a bot download files up to 20 MB (``getFile``); a bigger one is explained, not tried.
A zip is unpacked with the standard ``zipfile`` into a temporary folder, flat, with caps against zip
bombs (members, unpacked bytes, compression ratio, counted as the bytes come out, not as the archive
claims) and no path leaving the folder; file names a Windows zip wrote in CP866 are read as such.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, Message

from bot import texts
from bot.rules import Role
from bot.settings import Settings
from db.attempts import run_import
from db.models import Employee
from db.session import SessionPool
from handlers.common import Refused, linked

MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API's getFile limit
ACCEPTED = {".csv", ".xlsx", ".zip"}
MAX_MEMBERS = 50
MAX_UNPACKED = 256 * 1024 * 1024  # bytes, all members together
MAX_RATIO = 100  # unpacked / packed, per member: CSV compresses some 5 to 15 times
SHOWN_PROBLEMS = 10  # problem lines in the answer; the rest go in problems.txt
CHUNK = 1024 * 1024


class BadArchive(Exception):
    """A zip that is not unpacked; the message says why, in Russian, for the admin."""


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as it was written: a zip without the UTF-8 flag (Windows' "send to zip")
    holds CP866 bytes that ``zipfile`` decoded as CP437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("cp866")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def unzip(archive: Path, into: Path) -> list[Path]:
    """The files of ``archive`` written flat into ``into``; :class:`BadArchive` for anything unsafe."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise BadArchive("это не zip-архив") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise BadArchive(f"в нём {len(members)} файлов, больше {MAX_MEMBERS}")
        written: list[Path] = []
        total = 0
        for info in members:
            name = member_name(info)
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise BadArchive(f"путь {name} ведёт за пределы архива")
            if not parts or parts[0] == "__MACOSX" or parts[-1].startswith("."):
                continue
            target = into / parts[-1]
            if target.exists():
                raise BadArchive(f"два файла с именем {parts[-1]}")
            packed = max(info.compress_size, 1)
            try:
                with zf.open(info) as source, target.open("wb") as out:
                    size = 0
                    while chunk := source.read(CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if total > MAX_UNPACKED or size > MAX_RATIO * packed + CHUNK:
                            raise BadArchive(f"распакованный {parts[-1]} слишком велик (защита от zip-бомб)")
                        out.write(chunk)
            except RuntimeError:  # encrypted
                raise BadArchive(f"{parts[-1]} зашифрован паролем") from None
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
                raise BadArchive(f"{parts[-1]} повреждён") from None
            written.append(target)
        if not written:
            raise BadArchive("в нём нет файлов")
        return written


async def upload(
    message: Message,
    bot: Bot,
    viewer: Employee,
    settings: Settings,
    session_pool: SessionPool,
    clock: Callable[[], datetime],
) -> None:
    if viewer.role != Role.ADMIN:
        raise Refused(texts.UPLOAD_ADMIN_ONLY)  # before anything is downloaded
    document = message.document
    assert document is not None  # the filter
    name = PurePosixPath((document.file_name or "").replace("\\", "/")).name
    if Path(name).suffix.lower() not in ACCEPTED:
        raise Refused(texts.UPLOAD_KIND)
    if document.file_size is not None and document.file_size > MAX_DOWNLOAD:
        raise Refused(texts.UPLOAD_TOO_BIG)
    with tempfile.TemporaryDirectory(prefix="kpibot-upload-") as temporary:
        folder = Path(temporary)
        received = folder / "received" / name
        received.parent.mkdir()
        try:
            await bot.download(document, destination=received)
        except TelegramBadRequest as error:
            if "too big" in str(error).lower():
                raise Refused(texts.UPLOAD_TOO_BIG) from None
            raise
        if received.suffix.lower() == ".zip":
            unpacked = folder / "unpacked"
            unpacked.mkdir()
            try:
                paths = unzip(received, unpacked)
            except BadArchive as error:
                raise Refused(texts.bad_zip(str(error))) from None
        else:
            paths = [received]
        now_utc = clock().astimezone(UTC).replace(tzinfo=None)
        attempt = await run_import(
            session_pool, "upload", paths, now_utc, zone=settings.zone, pbx_zone=settings.pbx_zone
        )
    if attempt.report is not None:
        counts = {e: (c.added, c.updated, c.unchanged, c.removed) for e, c in attempt.report.counts.items()}
        await message.answer(texts.import_summary(counts, attempt.report.skipped))
    elif len(attempt.problems) > SHOWN_PROBLEMS:
        content = ("\n".join(attempt.problems) + "\n").encode("utf-8")
        await message.answer_document(
            BufferedInputFile(content, texts.PROBLEMS_FILE),
            caption=texts.upload_failed(attempt.problems, SHOWN_PROBLEMS, attached=True),
        )
    else:
        await message.answer(texts.upload_failed(attempt.problems, SHOWN_PROBLEMS, attached=False))


def setup() -> Router:
    router = Router(name="upload")
    router.message.filter(linked)
    router.message.register(upload, F.document)
    return router
