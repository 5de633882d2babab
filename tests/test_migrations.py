"""Migrations: the stairway (up, down, up) and the models agree with the migrated schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import downgrade, upgrade
from db.models import Base


async def test_stairway_up_down_up(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await upgrade(engine)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= set(tables)


async def test_models_match_the_migrations(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
        )
    assert diff == []


async def test_0006_keeps_old_pbx_rows_and_fills_their_uniqueid(engine: AsyncEngine) -> None:
    """Rows keyed by ``uniqueid`` (or ``uniqueid#sequence``) before 0006 keep their data and get their
    ``uniqueid``, so the rules group them and the next import replaces them by their legs."""
    await upgrade(engine)
    await downgrade(engine, "0004")
    async with engine.begin() as conn:
        for key in ("1550819700.26", "1550819700.27#3", "cdr-0123456789abcdef0123456789abcdef"):
            await conn.execute(
                text(
                    "INSERT INTO pbx_calls (id, started_at, duration_s, billsec, disposition, src, dst, clid, channel,"
                    " dstchannel, direction) VALUES (:id, '2019-02-22 10:15:00', 9, 0, 'NO ANSWER', '79161234567',"
                    " '101', '', 'SIP/trunk-1', 'SIP/101-1', 'in')"
                ),
                {"id": key},
            )
    await upgrade(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, uniqueid, linkedid, lastapp FROM pbx_calls ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [
        ("1550819700.26", "1550819700.26", "", ""),
        ("1550819700.27#3", "1550819700.27", "", ""),
        ("cdr-0123456789abcdef0123456789abcdef", "", "", ""),
    ]


def revisions_oldest_first() -> list[str]:
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_stairway_one_revision_at_a_time(engine: AsyncEngine) -> None:
    """Every migration up, down and up again, one at a time (bomzheg/aiogram_template's stairway):
    a downgrade that forgets what its upgrade made, or cannot run, fails here on both databases."""
    revisions = revisions_oldest_first()
    assert revisions[0] == "0001" and len(revisions) >= 5
    await downgrade(engine, "base")  # the fixture's database comes migrated
    previous = "base"
    for revision in revisions:
        await upgrade(engine, revision)
        after_up = await table_names(engine)
        await downgrade(engine, previous)
        await upgrade(engine, revision)
        assert await table_names(engine) == after_up, revision
        previous = revision


def test_the_alembic_command_line_works_from_the_repository_root(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    alembic = str(Path(sys.executable).with_name("alembic"))
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}"}
    for command in (["upgrade", "head"], ["check"]):
        result = subprocess.run([alembic, *command], cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr
