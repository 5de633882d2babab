"""Plain rows into a table by the driver's own bulk path: ``executemany`` of one prepared statement
on SQLite, ``COPY`` (asyncpg's ``copy_records_to_table``) on PostgreSQL, inside the caller's
transaction. No ORM object and no per-row SQLAlchemy parameter work: what the ledger writes for
100,000 contracts (2.4 million month rows) goes in as tuples."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

_MEMO_LIMIT = 1 << 16


async def insert_rows(conn: AsyncConnection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (tuples in ``columns``' order) into ``table``. On SQLite each value goes
    through its column's SQLAlchemy bind processor (a date as SQLAlchemy's text), remembered per
    distinct value; PostgreSQL's COPY takes the Python values as they are."""
    if not rows:
        return
    driver = (await conn.get_raw_connection()).driver_connection
    if driver is None:  # pragma: no cover - an open connection always has one
        raise RuntimeError("the database connection is closed")
    if conn.dialect.name == "postgresql":
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))
        return
    processors = [table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for name in columns]
    converted: list[tuple[int, Any, dict[Any, Any]]] = [(i, p, {}) for i, p in enumerate(processors) if p is not None]
    if converted:  # column by column: only the columns with a processor are walked in Python
        by_column: list[Any] = list(zip(*rows, strict=True))
        for i, process, memo in converted:
            by_column[i] = _processed(by_column[i], process, memo)
        rows = list(zip(*by_column, strict=True))
    marks = ", ".join("?" * len(columns))
    await driver.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)


def _processed(values: Sequence[Any], process: Any, memo: dict[Any, Any]) -> list[Any]:
    """``values`` through ``process``, each distinct value processed once (``None`` left as it is)."""
    result: list[Any] = []
    append, get = result.append, memo.get
    for value in values:
        if value is None:
            append(None)
            continue
        found = get(value)
        if found is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            found = memo[value] = process(value)
        append(found)
    return result
