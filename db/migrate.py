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


class MigrationBrokeForeignKeys(RuntimeError):
    """A migration left rows whose references point nowhere (``PRAGMA foreign_key_check``)."""


async def _migrate(engine: AsyncEngine, run: Callable[[Connection], None]) -> None:
    """Run Alembic on one connection in one transaction. On SQLite, a migration that changes a
    column's type rebuilds the table (Alembic's batch mode: copy, drop, rename), and dropping a table
    that other tables reference fails while foreign keys are enforced; so they are switched off around
    the migration (SQLite's own recipe for ALTER TABLE, https://sqlite.org/lang_altertable.html) and
    checked afterwards before the transaction commits."""
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # outside a transaction: the PRAGMA is a no-op inside one
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            await connection.run_sync(run)
            if sqlite:
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    await connection.rollback()
                    raise MigrationBrokeForeignKeys(f"{len(broken)} rows lost their references, e.g. {broken[0]}")
            await connection.commit()
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _migrate(engine, lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _migrate(engine, lambda sync: command.downgrade(alembic_config(sync), revision))
