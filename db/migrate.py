"""Apply Alembic migrations programmatically; every ``kpibot`` command calls :func:`upgrade`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _migrate(engine, lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _migrate(engine, lambda sync: command.downgrade(alembic_config(sync), revision))


async def _migrate(engine: AsyncEngine, run: Callable[[Connection], None]) -> None:
    """Run ``run`` in one transaction. On SQLite with foreign keys off: a batch migration rebuilds a
    table (copy, DROP, rename), and dropping ``employees`` while ``contracts`` reference it fails
    with "FOREIGN KEY constraint failed" in a database that has data (SQLite's "Making Other
    Kinds Of Table Schema Changes", step 1). The keys are checked before the commit instead."""
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a no-op inside a transaction: set before it begins
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            async with connection.begin():
                await connection.run_sync(run)
                if sqlite:
                    dangling = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).first()
                    if dangling is not None:
                        raise RuntimeError(f"a migration left a dangling reference in table {dangling[0]}")
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()
