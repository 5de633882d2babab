"""The all-or-nothing write: upserts by id in batches, duplicate ids found in a temporary table,
``--full`` removal of absent rows, and the record of imported files."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.importer.report import Counts, Problem
from db.importer.rows import SPECS, Context, Row
from db.importer.sources import Source
from db.importer.vocabulary import CDR_KEY_PREFIX
from db.models import (
    Client,
    ImportedFile,
    PbxCall,
)

# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


# Columns whose empty value in a file keeps what the database has: a Telegram account linked through
# an invitation must survive the next employees.csv without a telegram_id column.
KEEP_WHEN_EMPTY = {"employees": ("telegram_id",)}

# Entities keyed by a digest of the whole record: the same id twice is the same record, not a clash.
CONTENT_KEYED = frozenset({"pbx"})


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: list[dict[str, Any]],
    counts: Counts,
    keep_when_empty: tuple[str, ...] = (),
) -> None:
    """Insert new ids, update changed rows, leave equal rows untouched; count each.

    Only the columns an import provides are compared and written (``rows[0]``'s keys), so columns
    kpibot maintains itself (``unreachable_since``) are never reset by an import.
    """
    if not rows:
        return
    columns = ["id", *(c for c in rows[0] if c != "id")]
    key = table.c.id
    existing: dict[Any, tuple[Any, ...]] = {}
    ids = [r["id"] for r in rows]
    result = await conn.execute(select(*(table.c[c] for c in columns)).where(key.in_(ids)))
    for record in result:
        existing[record[0]] = tuple(record)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for values in rows:
        full = {c: values.get(c) for c in columns}
        old = existing.get(values["id"])
        for column in keep_when_empty:
            if column in full and full[column] is None and old is not None:
                full[column] = old[columns.index(column)]
        if old is None:
            inserts.append(full)
        elif old != tuple(full[c] for c in columns):
            updates.append({"b_id": values["id"], **{c: full[c] for c in columns if c != "id"}})
        else:
            counts.unchanged += 1
    if inserts:
        await conn.execute(insert(table), inserts)
        counts.added += len(inserts)
    if updates:
        statement = (
            update(table).where(key == bindparam("b_id")).values({c: bindparam(c) for c in columns if c != "id"})
        )
        await conn.execute(statement, updates)
        counts.updated += len(updates)


async def known_ids(conn: AsyncConnection, table: Table) -> set[str]:
    return set((await conn.execute(select(table.c.id))).scalars())


SEEN = Table(  # a temporary table per import: duplicate ids are found without holding every id in memory
    "kpibot_import_seen",
    MetaData(),
    Column("entity", String(16), primary_key=True),
    Column("id", String(200), primary_key=True),
)


async def driver_of(conn: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite's or asyncpg's) under ``conn``, for plain statements."""
    driver = (await conn.get_raw_connection()).driver_connection
    if driver is None:  # pragma: no cover - an open connection always has one
        raise RuntimeError("the database connection is closed")
    return driver


class SeenIds:
    """The ids read so far in this import, per entity, in a temporary table on the import's own
    connection, so memory stays flat however long the file is."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"  # plain driver SQL: this runs once per row

    async def start(self) -> None:
        await self.conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS kpibot_import_seen "
            "(entity VARCHAR(16) NOT NULL, id VARCHAR(200) NOT NULL, PRIMARY KEY (entity, id))"
        )
        await self.conn.exec_driver_sql("DELETE FROM kpibot_import_seen")

    async def finish(self) -> None:
        await self.conn.exec_driver_sql("DROP TABLE IF EXISTS kpibot_import_seen")

    async def check(self, entity: str, pending: list[tuple[str, Row]]) -> None:
        """Record the ids; a row whose id came earlier in the import gets a problem, except a PBX
        record: its id is a digest of the whole record, so a repeat is the same record (``Master.csv``
        beside its rotated copy), one row that ``flush`` writes once."""
        repeat_is_same_row = entity in CONTENT_KEYED
        first: dict[str, Row] = {}
        for row_id, row in pending:
            if row_id in first:
                if not repeat_is_same_row:
                    row.problem("id", row_id, "duplicate id: this id appears earlier in the import")
            else:
                first[row_id] = row
        ids = list(first)
        driver = await driver_of(self.conn)  # aiosqlite or asyncpg, directly
        if self.conn.dialect.name == "postgresql":
            # one statement, the primary key decides: what it does not return was seen before
            inserted = await driver.fetch(
                "INSERT INTO kpibot_import_seen (entity, id) SELECT $1, unnest($2::varchar[]) "
                "ON CONFLICT DO NOTHING RETURNING id",
                entity,
                ids,
            )
            new = {record[0] for record in inserted}
            repeated = [i for i in ids if i not in new]
        else:
            marks = ", ".join("?" * len(ids))
            cursor = await driver.execute(
                f"SELECT id FROM kpibot_import_seen WHERE entity = ? AND id IN ({marks})", (entity, *ids)
            )
            repeated = [record[0] for record in await cursor.fetchall()]
            await driver.executemany(
                "INSERT OR IGNORE INTO kpibot_import_seen (entity, id) VALUES (?, ?)", [(entity, i) for i in ids]
            )
        if repeat_is_same_row:
            return
        for row_id in repeated:
            first[row_id].problem("id", row_id, "duplicate id: this id appears earlier in the import")

    async def absent(self, entity: str, table: Table) -> list[str]:
        """Ids in ``table`` that this import did not read."""
        seen = select(SEEN.c.id).where(SEEN.c.entity == entity)
        rows = await self.conn.execute(select(table.c.id).where(table.c.id.not_in(seen)).order_by(table.c.id))
        return list(rows.scalars())


async def flush(conn: AsyncConnection, entity: str, batch: list[dict[str, Any]], ctx: Context, counts: Counts) -> None:
    if entity in CONTENT_KEYED:
        batch = list({row["id"]: row for row in batch}.values())  # a repeated record is one row
    if entity == "pbx":
        await _drop_legacy_pbx_keys(conn, batch)
    if entity == "contracts":
        clients = {row["client_id"]: ctx.clients[row["client_id"]] for row in batch}
        await upsert(conn, Client.__table__, [{"id": k, "name": n} for k, n in clients.items()],  # type: ignore[arg-type]
                      Counts())  # fmt: skip
    await upsert(conn, SPECS[entity].table, batch, counts, KEEP_WHEN_EMPTY.get(entity, ()))


async def _drop_legacy_pbx_keys(conn: AsyncConnection, batch: list[dict[str, Any]]) -> None:
    """Before migration 0006 a PBX row with a ``uniqueid`` was keyed by it; its leg is now written
    under its digest key (``rows.cdr_key``), so the old row goes (migration 0006 filled its
    ``uniqueid``)."""
    uniqueids = sorted({row["uniqueid"] for row in batch if row.get("uniqueid")})
    for start in range(0, len(uniqueids), 500):
        chunk = uniqueids[start : start + 500]
        await conn.execute(
            delete(PbxCall).where(PbxCall.uniqueid.in_(chunk), PbxCall.id.not_like(f"{CDR_KEY_PREFIX}%"))
        )


async def remove_absent(
    conn: AsyncConnection, entity: str, seen: SeenIds, counts: Counts, problems: list[Problem]
) -> None:
    table = SPECS[entity].table
    absent = await seen.absent(entity, table)
    for start in range(0, len(absent), 500):
        chunk = absent[start : start + 500]
        try:
            async with conn.begin_nested():
                await conn.execute(delete(table).where(table.c.id.in_(chunk)))
        except IntegrityError:
            problems.append(Problem(
                f"--full {entity}", 0, "id", chunk[0],
                f"{len(absent)} {entity} absent from the files are still referenced by other data; "
                "give the files that reference them with --full too (or mark employees inactive)",
            ))  # fmt: skip
            return
        counts.removed += len(chunk)


async def remove_ids(conn: AsyncConnection, entity: str, ids: Collection[str], counts: Counts) -> None:
    """Remove these rows of a leaf entity (payments, interactions, documents: nothing references
    them), e.g. 1C documents since unposted or marked for deletion; ids not present are ignored."""
    table = SPECS[entity].table
    chosen = sorted(set(ids))
    for start in range(0, len(chosen), 500):
        result = await conn.execute(delete(table).where(table.c.id.in_(chosen[start : start + 500])))
        counts.removed += result.rowcount or 0


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def remember_files(
    conn: AsyncConnection,
    sources: list[Source],
    digests: dict[str, str],
    counts: dict[str, Counts],
    skipped: list[str],
    now: datetime,
) -> None:
    """The entity's last file, so that the same bytes next time are skipped; an entity imported from
    several files (or sheets) is never skipped."""
    for entity in sorted({s.entity for s in sources}):
        source = next(s for s in sources if s.entity == entity)
        if source.label in skipped:
            continue  # it stays the entity's last file
        await conn.execute(delete(ImportedFile).where(ImportedFile.entity == entity))
        if entity in digests:
            c = counts[entity]
            rows = c.added + c.updated + c.unchanged
            await conn.execute(
                insert(ImportedFile).values(
                    entity=entity, label=source.label, sha256=digests[entity], rows=rows, imported_at=now
                )
            )
