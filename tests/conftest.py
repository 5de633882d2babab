"""Shared fixtures: real databases, built settings, demo exports.

Database tests run on a real SQLite file and, when ``KPIBOT_TEST_POSTGRES_URL`` names a server
(``.ci/run`` starts one), on real PostgreSQL too. ``KPIBOT_REQUIRE_POSTGRES=1`` turns a missing
server into a failure instead of a skip, so CI cannot pass without it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings, load_settings
from db.migrate import upgrade
from db.models import Base
from db.session import SessionPool, create_engine, create_session_pool
from tests.world import MSK, World, link_all

POSTGRES_URL = os.environ.get("KPIBOT_TEST_POSTGRES_URL", "").strip()
REQUIRE_POSTGRES = os.environ.get("KPIBOT_REQUIRE_POSTGRES") == "1"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env or environment settings."""
    for name in list(os.environ):
        if name in {f.upper() for f in Settings.model_fields}:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KPIBOT_ENV_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # platformdirs' folders on Linux
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await engine.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("KPIBOT_REQUIRE_POSTGRES=1 but KPIBOT_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need KPIBOT_TEST_POSTGRES_URL (.ci/run sets it)")

    async def build() -> None:
        engine = create_engine(POSTGRES_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(build())
    return POSTGRES_URL


async def truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a fresh SQLite file, or the emptied PostgreSQL test database."""
    if request.param == "sqlite":
        target = tmp_path / "kpibot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite+aiosqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_migrated")

        async def empty() -> None:
            engine = create_engine(url)
            await truncate_all(engine)
            await engine.dispose()

        asyncio.run(empty())
        yield url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "kpibot.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def pool(engine: AsyncEngine) -> SessionPool:
    return create_session_pool(engine)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(bot_token="42:TEST", database_url=database_url)


@pytest.fixture(scope="session")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bot.demo import write_exports

    folder = tmp_path_factory.mktemp("demo-exports")
    write_exports(folder)
    return folder


@pytest.fixture
async def world(pool: SessionPool, settings: Settings, demo_exports: Path) -> World:
    """The demo data imported (as of the demo morning) and every demo employee linked."""
    from bot.demo import DEMO_IMPORTED_AT_UTC
    from db.importer import import_paths

    await import_paths(pool, [demo_exports], zone=MSK, now=DEMO_IMPORTED_AT_UTC)
    await link_all(pool)
    return World(pool, settings)
