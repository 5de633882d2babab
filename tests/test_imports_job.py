"""The watched folder (``IMPORT_DIR``) on a fake clock: half-written files wait until they settle, the
night's import is all or nothing, a failed or missing night import tells the admins once. On both
databases, on the demo company."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.settings import Settings, load_settings
from db.models import ImportAttempt, OutboxMessage, Payment
from db.session import SessionPool
from jobs.imports import SettleWatch, import_folder, imports_job
from tests.world import ADMIN, MSK, World

NIGHT = datetime(2019, 2, 26, 7, 30, tzinfo=MSK)  # a Tuesday, IMPORT_TIME


def folder_settings(settings: Settings, folder: Path, settle: int = 60) -> Settings:
    return load_settings(
        bot_token="42:TEST", database_url=settings.database_url, import_dir=str(folder), import_settle_seconds=settle
    )


def touch(path: Path, moment: datetime) -> None:
    os.utime(path, (moment.timestamp(), moment.timestamp()))


async def count(pool: SessionPool, what: object, *where: object) -> int:
    async with pool() as session:
        return int((await session.execute(select(func.count()).select_from(what).where(*where))).scalar_one())  # type: ignore[arg-type]


async def notices(pool: SessionPool) -> list[OutboxMessage]:
    async with pool() as session:
        return list((await session.execute(select(OutboxMessage).where(OutboxMessage.kind == "import"))).scalars())


def test_a_file_counts_once_still_for_the_settle_time(tmp_path: Path) -> None:
    """size and mtime both watched; any change restarts the wait; a file that vanishes is forgotten."""
    watch = SettleWatch(timedelta(seconds=60))
    file = tmp_path / "payments.csv"
    t0 = datetime(2019, 2, 26, 3, 0, tzinfo=MSK)
    file.write_bytes(b"x" * 10)
    touch(file, t0)
    assert watch.look(tmp_path, t0)[1] is False
    assert watch.look(tmp_path, t0 + timedelta(seconds=59))[1] is False
    assert watch.look(tmp_path, t0 + timedelta(seconds=60))[1] is True
    touch(file, t0 + timedelta(seconds=61))  # rewritten with the same size: mtime moved
    assert watch.look(tmp_path, t0 + timedelta(seconds=61))[1] is False
    assert watch.look(tmp_path, t0 + timedelta(seconds=120))[1] is False
    assert watch.look(tmp_path, t0 + timedelta(seconds=121))[1] is True
    file.unlink()
    files, settled = watch.look(tmp_path, t0 + timedelta(seconds=122))
    assert files == frozenset() and settled and not watch.seen


async def test_half_written_files_wait_and_then_import_once(world: World, tmp_path: Path, demo_exports: Path) -> None:
    """A payments.csv copied in two pieces over a share is not read half-way; once still for
    IMPORT_SETTLE_SECONDS the folder is imported, and an unchanged folder is not imported again."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    settings = folder_settings(world.settings, folder)
    watch = SettleWatch(timedelta(seconds=60))
    t0 = NIGHT - timedelta(hours=4)
    whole = (demo_exports / "payments.csv").read_bytes()
    target = folder / "payments.csv"
    target.write_bytes(whole[: len(whole) // 2])  # cut in the middle of a line: importing it would fail
    touch(target, t0)
    assert await import_folder(world.pool, settings, watch, t0) is None
    target.write_bytes(whole)
    touch(target, t0 + timedelta(seconds=40))
    assert await import_folder(world.pool, settings, watch, t0 + timedelta(seconds=50)) is None
    assert await import_folder(world.pool, settings, watch, t0 + timedelta(seconds=109)) is None  # seen changed at +50
    attempt = await import_folder(world.pool, settings, watch, t0 + timedelta(seconds=110))
    assert attempt is not None and attempt.ok, attempt
    assert attempt.files == ["payments.csv"] and attempt.rows > 0
    assert await import_folder(world.pool, settings, watch, t0 + timedelta(seconds=170)) is None
    assert await count(world.pool, ImportAttempt) == 1
    assert await notices(world.pool) == []


async def test_a_failed_night_import_keeps_the_data_and_tells_the_admins_once(
    world: World, tmp_path: Path, demo_exports: Path
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    settings = folder_settings(world.settings, folder)
    payments = await count(world.pool, Payment)
    text = (demo_exports / "payments.csv").read_bytes().decode("cp1251")
    lines = text.split("\n")
    fields = lines[1].split(";")
    fields[3] = "три тысячи"  # the amount of the first payment
    bad = "\n".join([lines[0], ";".join(fields), *lines[2:]])
    (folder / "payments.csv").write_bytes(bad.encode("cp1251"))
    touch(folder / "payments.csv", NIGHT - timedelta(hours=3))
    watch = SettleWatch(timedelta(seconds=60))
    assert await import_folder(world.pool, settings, watch, NIGHT - timedelta(minutes=2)) is None  # first look
    attempt = await import_folder(world.pool, settings, watch, NIGHT - timedelta(minutes=1))
    assert attempt is not None and not attempt.ok and "три тысячи" in attempt.problems[0]
    assert await notices(world.pool) == []  # before IMPORT_TIME a failure waits for the night's run
    night = await import_folder(world.pool, settings, watch, NIGHT)
    assert night is not None and not night.ok
    assert await count(world.pool, Payment) == payments  # nothing written
    (notice,) = await notices(world.pool)
    assert notice.employee_id == ADMIN and "Ночная загрузка данных не прошла" in notice.text
    assert "три тысячи" in notice.text and "payments.csv:2" in notice.text
    # the next minutes read nothing again; a restart (a new watch) tries once more; told once
    for minute in range(1, 3):
        assert await import_folder(world.pool, settings, watch, NIGHT + timedelta(minutes=minute)) is None
    await import_folder(world.pool, settings, SettleWatch(timedelta(0)), NIGHT + timedelta(minutes=3))
    assert len(await notices(world.pool)) == 1
    async with world.pool() as session:
        recorded = (await session.execute(select(ImportAttempt).order_by(ImportAttempt.id))).scalars().all()
    assert [a.ok for a in recorded] == [False, False, False]
    assert (
        recorded[-1].source == "folder" and recorded[-1].problems == 1 and "три тысячи" in recorded[-1].first_problems
    )


@pytest.mark.parametrize("empty", [True, False])
async def test_a_missing_night_export_tells_the_admins_once(
    world: World, tmp_path: Path, demo_exports: Path, empty: bool
) -> None:
    """Nothing in the folder, or only yesterday's files: the admins hear it once, before the digests."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    if not empty:
        shutil.copy(demo_exports / "employees.csv", folder)
        touch(folder / "employees.csv", NIGHT - timedelta(days=2))
    settings = folder_settings(world.settings, folder, settle=0)
    job_watch = SettleWatch(timedelta(0))
    for minute in range(3):
        await import_folder(world.pool, settings, job_watch, NIGHT + timedelta(minutes=minute))
    (notice,) = await notices(world.pool)
    assert "Ночная выгрузка не пришла" in notice.text and "новых файлов в ней нет" in notice.text
    if empty:  # the attempt /status shows reads in the admin's language too
        async with world.pool() as session:
            (attempt,) = (await session.execute(select(ImportAttempt))).scalars().all()
        assert not attempt.ok and attempt.first_problems == "(папка): в папке выгрузки нет файлов выгрузки"


async def test_a_night_on_a_day_off_tells_nobody(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    settings = folder_settings(world.settings, folder, settle=0)
    saturday = NIGHT + timedelta(days=4)
    await import_folder(world.pool, settings, SettleWatch(timedelta(0)), saturday)
    assert await notices(world.pool) == []


async def test_the_job_never_raises_and_wakes_the_sender(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    settings = folder_settings(world.settings, folder, settle=0)
    woken: list[bool] = []
    job = imports_job(world.pool, settings, lambda: NIGHT, lambda: woken.append(True))
    folder.rmdir()  # the share went away under the job
    await job()
    assert woken == [True]


def test_import_dir_must_be_a_folder_and_import_time_before_the_digests(tmp_path: Path) -> None:
    from bot.settings import ConfigError

    with pytest.raises(ConfigError, match=r"Настройка IMPORT_DIR: .*nowhere — не папка"):
        load_settings(import_dir=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"^Настройки: IMPORT_TIME должна быть раньше DIGEST_TIME"):
        load_settings(import_dir=str(tmp_path), import_time="09:30")
    with pytest.raises(ConfigError, match=r"Настройка IMPORT_TIME: '7\.30' — не время"):
        load_settings(import_time="7.30")
    assert texts.SOURCE_NAMES["folder"]


def test_the_next_night_run_skips_days_off(tmp_path: Path) -> None:
    settings = load_settings(import_dir=str(tmp_path))
    friday = datetime(2019, 3, 1, 7, 29, tzinfo=MSK)
    assert settings.next_import_at(friday) == datetime(2019, 3, 1, 7, 30, tzinfo=MSK)
    assert settings.next_import_at(friday.replace(minute=30)) == datetime(2019, 3, 4, 7, 30, tzinfo=MSK)
    assert settings.next_import_at(datetime(2019, 3, 7, 8, 0, tzinfo=MSK)) == datetime(
        2019, 3, 11, 7, 30, tzinfo=MSK
    )  # 8 March off
    assert load_settings().next_import_at(friday) is None  # no IMPORT_DIR: no night run


async def test_kpibot_import_is_recorded_too(tmp_path: Path, sqlite_url: str, demo_exports: Path) -> None:
    """/status shows a hand-run import as its own source, failed or not."""
    from db.session import create_engine, create_session_pool
    from tests.test_cli import kpibot

    env = {"DATABASE_URL": sqlite_url}
    assert kpibot("import", str(demo_exports / "employees.csv"), cwd=tmp_path, env=env).returncode == 0
    (tmp_path / "payments.csv").write_text("Номер;Код договора;Дата;Сумма\nП1;Д-0001;05.02.2019;много\n", "cp1251")
    assert kpibot("import", str(tmp_path / "payments.csv"), cwd=tmp_path, env=env).returncode == 1
    engine = create_engine(sqlite_url)
    try:
        async with create_session_pool(engine)() as session:
            attempts = (await session.execute(select(ImportAttempt).order_by(ImportAttempt.id))).scalars().all()
    finally:
        await engine.dispose()
    assert [(a.source, a.ok, a.files) for a in attempts] == [
        ("cli", True, '["employees.csv"]'),
        ("cli", False, '["payments.csv"]'),
    ]
    assert attempts[0].rows > 0 and attempts[1].problems >= 1 and "много" in attempts[1].first_problems
