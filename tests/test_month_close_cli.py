"""``kpibot close-month`` and the digest preview as an admin runs them: a real process, real databases."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import texts
from bot.cli import YEARS
from db.models import KpiSnapshot, MonthClose
from tests.factories import small_exports
from tests.test_cli import kpibot


async def counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        snapshots = (await conn.execute(select(func.count()).select_from(KpiSnapshot))).scalar_one()
        closes = (await conn.execute(select(func.count()).select_from(MonthClose))).scalar_one()
    return snapshots, closes


async def test_a_digest_preview_never_closes_a_month(tmp_path: Path, database_url: str, engine: AsyncEngine) -> None:
    env = {"DATABASE_URL": database_url}
    assert kpibot("import", str(small_exports(tmp_path / "exports")), cwd=tmp_path, env=env).returncode == 0
    for args in (["digest"], ["digest", "--date", "2019-03-01"]):  # today, and the first day of a month
        result = kpibot(*args, cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
    assert await counts(engine) == (0, 0)


async def test_close_month_closes_reopens_and_refuses_clearly(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    env = {"DATABASE_URL": database_url}
    assert kpibot("import", str(small_exports(tmp_path / "exports")), cwd=tmp_path, env=env).returncode == 0
    closed = kpibot("close-month", "2019-02", cwd=tmp_path, env=env)
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.startswith("2019-02 закрыт на ") and "цифры 2 менеджеров зафиксированы" in closed.stdout
    assert await counts(engine) == (2, 1)
    reopened = kpibot("close-month", "2019-02", "--reopen", cwd=tmp_path, env=env)
    assert reopened.returncode == 0 and reopened.stdout.startswith("2019-02 открыт снова")
    assert await counts(engine) == (0, 2)
    this_month = datetime.now(ZoneInfo("Europe/Moscow")).strftime("%Y-%m")
    for args, message, status in [
        (["2019-02", "--reopen"], f"kpibot: {texts.cli_month_not_closed('2019-02')}", 1),
        # a bad argument is status 2, as for every command (README); the years are the bot's
        (["2019-13"], f"kpibot: {texts.cli_bad_month('2019-13', 'нет такого месяца: «2019-13»', YEARS)}", 2),
        (["февраль"], f"kpibot: {texts.cli_bad_month('февраль', 'не месяц', YEARS)}", 2),
        (["0000-01"], f"kpibot: {texts.cli_bad_month('0000-01', 'нет такого месяца: «0000-01»', YEARS)}", 2),
        (["2101-01"], f"kpibot: {texts.cli_bad_month('2101-01', 'нет такого месяца: «2101-01»', YEARS)}", 2),
        ([this_month], f"kpibot: {texts.cli_month_not_finished(this_month)}", 1),
    ]:
        result = kpibot("close-month", *args, cwd=tmp_path, env=env)
        assert result.returncode == status and result.stderr.strip() == message and "Traceback" not in result.stderr
    assert await counts(engine) == (0, 2)


async def test_close_month_refuses_a_month_before_the_data(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    """Closing a month before the first contract froze nothing and said "цифры 0 менеджеров
    зафиксированы" with status 0, recording a close of a month nobody was billed in."""
    env = {"DATABASE_URL": database_url}
    assert kpibot("import", str(small_exports(tmp_path / "exports")), cwd=tmp_path, env=env).returncode == 0
    result = kpibot("close-month", "2010-01", cwd=tmp_path, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("kpibot: За январь 2010 данных нет: они начинаются с ")
    assert await counts(engine) == (0, 0)


def test_a_bad_month_close_workday_stops_start_up_naming_it(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}", "MONTH_CLOSE_WORKDAY": "0"}
    result = kpibot("close-month", "2019-02", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("kpibot: Настройка MONTH_CLOSE_WORKDAY: должно быть не меньше 1")
