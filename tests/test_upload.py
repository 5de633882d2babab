"""Uploads in Telegram through the real Dispatcher and the recording session (getFile and the file
download as the Bot API serves them): an admin's CSV, XLSX-free zip and broken files; a manager's file
refused unread; the 20 MB limit; /status. On both databases, on the demo company."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from bot import texts
from db.models import ImportAttempt, Payment
from handlers.upload import MAX_DOWNLOAD
from tests.telegram import files_of, texts_of
from tests.world import ADMIN, ARAKELYAN, World

NEW_PAYMENT = "ПП-9999-001;Д-0001;20.02.2019 0:00:00;1000,00;\r\n"


def payments_with(demo_exports: Path, extra: str = NEW_PAYMENT, bad_amounts: int = 0) -> bytes:
    """The demo payments.csv (CP1251, as 1C writes it) with a row added and the first ``bad_amounts``
    amounts spoilt."""
    lines = (demo_exports / "payments.csv").read_bytes().decode("cp1251").splitlines()
    for n in range(1, bad_amounts + 1):
        fields = lines[n].split(";")
        fields[3] = "много"
        lines[n] = ";".join(fields)
    return ("\r\n".join(lines) + "\r\n" + extra).encode("cp1251")


async def payments(world: World) -> int:
    async with world.pool() as session:
        return int((await session.execute(select(func.count()).select_from(Payment))).scalar_one())


class Cp866Name(zipfile.ZipInfo):
    """A member as Windows' "send to compressed folder" writes it: CP866 bytes, no UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's own name
        return self.filename.encode("cp866"), self.flag_bits & ~0x800


def zipped(members: dict[str, bytes], utf8_names: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name) if utf8_names else Cp866Name(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    raw = buffer.getvalue()
    if not utf8_names:  # as read back, zipfile decodes those bytes as CP437
        assert zipfile.ZipFile(io.BytesIO(raw)).namelist()[0] != next(iter(members))
    return raw


async def test_an_admin_uploads_a_csv_and_gets_the_summary(world: World, demo_exports: Path) -> None:
    before = await payments(world)
    sent = await world.employee(ADMIN).send_document("payments.csv", payments_with(demo_exports))
    (answer,) = texts_of(sent)
    assert answer.startswith("✅ <b>Данные загружены</b>")
    assert "оплаты: новых 1, изменено 0, без изменений" in answer
    assert await payments(world) == before + 1
    (get_file,) = world.session.of("GetFile")
    assert world.session.downloads == [f"https://api.telegram.org/file/bot42:TEST/documents/{get_file.file_id}"]
    async with world.pool() as session:
        (attempt,) = (await session.execute(select(ImportAttempt))).scalars().all()
    assert attempt.source == "upload" and attempt.ok and attempt.files == '["payments.csv"]'


async def test_a_broken_upload_imports_nothing_and_names_the_problems(world: World, demo_exports: Path) -> None:
    before = await payments(world)
    sent = await world.employee(ADMIN).send_document("payments.csv", payments_with(demo_exports, bad_amounts=1))
    (answer,) = texts_of(sent)
    assert "❌ <b>Не загружено</b>: замечаний 1, ничего не изменилось." in answer
    assert "payments.csv:2" in answer and "много" in answer
    assert await payments(world) == before


async def test_many_problems_come_as_a_file_with_the_first_lines_in_the_caption(
    world: World, demo_exports: Path
) -> None:
    sent = await world.employee(ADMIN).send_document("payments.csv", payments_with(demo_exports, bad_amounts=25))
    (document,) = files_of(sent)
    assert document.document.filename == texts.PROBLEMS_FILE
    lines = document.document.data.decode("utf-8").splitlines()
    assert len(lines) == 25 and lines[0].startswith("payments.csv:2")
    assert "замечаний 25" in document.caption and "…и ещё 15" in document.caption


async def test_a_managers_file_is_refused_unread(world: World, demo_exports: Path) -> None:
    before = await payments(world)
    sent = await world.employee(ARAKELYAN).send_document("payments.csv", payments_with(demo_exports))
    assert texts_of(sent) == [texts.UPLOAD_ADMIN_ONLY]
    assert world.session.of("GetFile") == [] and world.session.downloads == []
    assert await payments(world) == before


async def test_the_20_mb_limit_is_explained(world: World) -> None:
    admin = world.employee(ADMIN)
    sent = await admin.send_document("payments.csv", b"x", size=MAX_DOWNLOAD + 1)
    assert texts_of(sent) == [texts.UPLOAD_TOO_BIG] and world.session.of("GetFile") == []
    world.session.queue_error("GetFile", 400, "Bad Request: file is too big")  # size unknown beforehand
    sent = await admin.send_document("payments.csv", b"x", size=None)
    assert texts_of(sent)[-1] == texts.UPLOAD_TOO_BIG


async def test_a_file_of_another_kind_is_refused(world: World) -> None:
    sent = await world.employee(ADMIN).send_document("photo.pdf", b"%PDF-1.4")
    assert texts_of(sent) == [texts.UPLOAD_KIND] and world.session.of("GetFile") == []


async def test_a_zip_of_exports_imports_like_a_folder(world: World, demo_exports: Path) -> None:
    """Windows names its members in CP866: "Оплаты.csv" is still the payments."""
    before = await payments(world)
    members = {
        "выгрузка/Оплаты.csv": payments_with(demo_exports),
        "выгрузка/employees.csv": (demo_exports / "employees.csv").read_bytes(),
    }
    archive = zipped(members, utf8_names=False)
    sent = await world.employee(ADMIN).send_document("night.zip", archive)
    (answer,) = texts_of(sent)
    assert "оплаты: новых 1" in answer and "сотрудники:" in answer
    assert await payments(world) == before + 1


async def test_unsafe_zips_are_refused_and_write_nothing(world: World, demo_exports: Path, tmp_path: Path) -> None:
    before = await payments(world)
    admin = world.employee(ADMIN)
    cases = {
        "traversal": (zipped({"../payments.csv": payments_with(demo_exports)}), "за пределы архива"),
        "absolute": (zipped({"/etc/payments.csv": payments_with(demo_exports)}), "за пределы архива"),
        "bomb": (zipped({"payments.csv": b"0" * (8 * 1024 * 1024)}), "защита от zip-бомб"),
        "not a zip": (b"PK but not really", "это не zip-архив"),
        "twice": (zipped({"a/payments.csv": b"1", "b/payments.csv": b"2"}), "два файла с именем payments.csv"),
    }
    for name, (content, reason) in cases.items():
        sent = await admin.send_document(f"{name}.zip", content)
        (answer,) = texts_of(sent)
        assert answer.startswith("Архив не загружен") and reason in answer, (name, answer)
    assert await payments(world) == before
    assert not (tmp_path.parent / "payments.csv").exists()


async def test_status_shows_the_last_import_per_source_and_todays_delivery(world: World, demo_exports: Path) -> None:
    admin = world.employee(ADMIN)
    await admin.send_document("payments.csv", payments_with(demo_exports, bad_amounts=1))
    (answer,) = texts_of(await admin.send("/status"))
    assert "❌ файл в Telegram: 25.02 10:00, строк 0, замечаний 1" in answer
    assert "payments.csv:2" in answer
    assert "Папка выгрузки (IMPORT_DIR) и 1С по OData (ODATA_URL) не заданы" in answer
    assert "<b>Доставка сегодня</b>: отправлено 0, в очереди 0, не доставлено 0" in answer
    await admin.send_document("payments.csv", payments_with(demo_exports))
    (answer,) = texts_of(await admin.send("/status"))
    assert "✅ файл в Telegram: 25.02 10:00, строк" in answer and "замечаний" not in answer
    assert texts_of(await world.employee(ARAKELYAN).send("/status")) == [texts.STATUS_ADMIN_ONLY]
