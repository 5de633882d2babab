"""Alembic environment: runs on the connection kpibot hands over (``db.migrate``), or, from the
``alembic`` command line at the repository root, on ``DATABASE_URL`` as kpibot's settings read it."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from db.models import Base

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_command_line() -> None:
    from bot.settings import load_settings
    from db.session import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or load_settings().database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
elif context.is_offline_mode():
    raise SystemExit("kpibot's migrations run online only: give DATABASE_URL")
else:
    asyncio.run(run_from_command_line())
