"""``kpibot import``: 1C exports and the PBX's Master.csv into the database, all or nothing.

Every file is read row by row and written in batches inside one transaction. Every problem in every
file is collected as ``file:line: column: value: reason``; if there is even one, the transaction is
rolled back and nothing is written, so the previous data stays intact. Rows are upserted by id: a
re-import of the same files reports every row unchanged and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.rules import Month
from db.importer.report import Counts, ImportFailed, ImportReport, Problem, Progress, escape
from db.importer.rows import SPECS, Context, Row, TableReader, pbx_rows
from db.importer.sources import Source, SourceError, discover
from db.importer.vocabulary import ENTITIES
from db.importer.writer import SeenIds, file_digest, flush, known_ids, remember_files, remove_absent, remove_ids
from db.models import (
    Employee,
    ImportedFile,
    ImportRun,
)
from db.queries import refresh_contract_terms
from db.session import SessionPool

BATCH = 1000
MAX_PRINTED_PROBLEMS = 200
FULL_ENTITIES = tuple(SPECS)


async def _import_source(
    conn: AsyncConnection,
    source: Source,
    ctx: Context,
    seen: SeenIds,
    counts: Counts,
    problems: list[Problem],
    notes: list[str],
    progress: Progress | None,
) -> int:
    """Read one source, check every row, write its rows while no problem is known; the number of
    data rows read."""
    spec = SPECS[source.entity]
    batch: list[dict[str, Any]] = []
    pending: list[tuple[str, Row]] = []
    raw_rows = source.rows(progress.update if progress else None)
    table = TableReader(source, problems, notes) if source.entity != "pbx" else None
    carried: set[str] | None = None
    read = 0
    try:
        reader = table(raw_rows) if table is not None else pbx_rows(source, raw_rows, problems)
        for line, cells in reader:
            read += 1
            row = Row(source.label, line, cells, problems)
            values = spec.build(row, ctx)
            spec.check(row, values)
            if table is not None:
                if carried is None:  # the header is known once the first row is read
                    carried = spec.carried(table.columns)
                values = {k: value for k, value in values.items() if k in carried}
            row_id = values.get("id")
            if row_id is not None and "id" not in row.bad:
                pending.append((row_id, row))
                if source.entity in ctx.known:
                    ctx.known[source.entity].add(row_id)
            if not problems:
                batch.append(values)
            if len(pending) >= BATCH:
                await seen.check(source.entity, pending)
                pending = []
                if not problems:  # keep reading to report every problem, but write nothing more
                    await flush(conn, source.entity, batch, ctx, counts)
                batch = []
    except SourceError as error:
        problems.append(Problem(source.label, error.line, "(file)", error.value, error.reason))
    if pending:
        await seen.check(source.entity, pending)
    if not problems:
        await flush(conn, source.entity, batch, ctx, counts)
    return read


async def import_paths(
    pool: SessionPool,
    paths: Iterable[Path],
    *,
    zone: ZoneInfo,
    now: datetime,
    pbx_zone: ZoneInfo | None = None,
    full: Iterable[str] = (),
    progress: Callable[[Source], Progress | None] | None = None,
    reread: bool = False,
) -> ImportReport:
    """Import files and folders in one transaction; raise :class:`ImportFailed` on any problem.

    ``now`` (UTC, naive) is recorded as the time the 1C data was refreshed. ``zone`` is the office's
    (1C's times are local to it); ``pbx_zone`` the zone the PBX writes its CDR times in
    (``PBX_TIMEZONE``, default ``zone``), converted to ``zone`` on import. A file byte-identical to
    its entity's last imported file is not read again (unless ``reread`` or ``--full``).
    """
    paths = list(paths)
    sources, file_problems = discover(paths)
    if file_problems:
        raise ImportFailed([escape(p) for p in file_problems])
    if not sources:
        where = ", ".join(str(p) for p in paths) or "(no paths given)"
        kind = "folder" if paths and all(p.is_dir() for p in paths) else "paths"
        raise ImportFailed([escape(f"{where}: no export files in the {kind} (expected CSV or XLSX exports named "
                                   f"{', '.join(n + '.csv' for n in ENTITIES[:-1])}, or Master.csv)")])  # fmt: skip
    return await import_sources(
        pool, sources, zone=zone, now=now, pbx_zone=pbx_zone, full=full, progress=progress, reread=reread
    )


async def import_sources(
    pool: SessionPool,
    sources: list[Source],
    *,
    zone: ZoneInfo,
    now: datetime,
    pbx_zone: ZoneInfo | None = None,
    full: Iterable[str] = (),
    progress: Callable[[Source], Progress | None] | None = None,
    reread: bool = False,
    withdrawn: Mapping[str, Collection[str]] | None = None,
) -> ImportReport:
    """Import sources already found (files, or 1C OData entity sets: ``db.importer.odata``) in one
    transaction, checked by the same row builders; see :func:`import_paths`. ``sources`` are in
    :data:`ENTITIES` order (employees before the contracts that name them). ``withdrawn``: ids of
    payments, interactions or documents to remove in the same transaction (1C documents since
    unposted or marked for deletion)."""
    full = tuple(dict.fromkeys(full))
    unknown_full = [e for e in full if e not in FULL_ENTITIES]
    if unknown_full:
        raise ImportFailed([f"--full {e}: unknown entity (one of: {', '.join(FULL_ENTITIES)})" for e in unknown_full])
    given = {s.entity for s in sources}
    absent = [e for e in full if e not in given]
    if absent:
        raise ImportFailed(
            [f"--full {e}: no {e} file among the given paths, refusing to remove every row" for e in absent]
        )

    problems: list[Problem] = []
    counts = {s.entity: Counts() for s in sources}
    async with pool() as session, session.begin():
        conn = await session.connection()
        if conn.dialect.name == "sqlite":
            # SQLite's write lock first: a transaction that reads and later writes fails at once
            # ("database is locked", SQLITE_BUSY_SNAPSHOT, no busy wait) when another connection
            # committed in between, as kpibot run's lease renewals do every second; BEGIN IMMEDIATE
            # waits for the lock (busy_timeout) instead
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        ctx = Context(zone=zone, pbx_zone=pbx_zone)
        for entity in ("employees", "contracts"):
            ctx.known[entity] = await known_ids(conn, SPECS[entity].table)
        linked = await conn.execute(select(Employee.telegram_id, Employee.id).where(Employee.telegram_id.is_not(None)))
        ctx.telegram_ids = {telegram_id: employee for telegram_id, employee in linked if telegram_id is not None}
        if conn.dialect.name == "postgresql":
            # the tables fill up during this transaction: a generic plan cached for the prepared
            # "id IN (…)" lookups while a table was empty would scan it for every later batch
            await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        seen = SeenIds(conn)
        await seen.start()
        per_entity = {e: sum(1 for s in sources if s.entity == e) for e in given}
        digests: dict[str, str] = {}
        skipped: list[str] = []
        notes: list[str] = []
        data_rows = dict.fromkeys(given, 0)
        for source in sources:
            if source.path is not None and per_entity[source.entity] == 1:
                digests[source.entity] = file_digest(source.path)
                last = (await conn.execute(select(ImportedFile).where(ImportedFile.entity == source.entity))).first()
                if (
                    last is not None
                    and not reread
                    and source.entity not in full
                    and (last.label, last.sha256) == (source.label, digests[source.entity])
                ):
                    counts[source.entity].unchanged += last.rows
                    skipped.append(source.label)
                    continue
            if source.entity == "pbx" and not ctx.extensions:
                rows = await conn.execute(
                    select(Employee.id, Employee.phone_ext).where(Employee.phone_ext.is_not(None))
                )
                ctx.extensions = {ext: employee for employee, ext in rows if ext}
            bar = progress(source) if progress else None
            try:
                data_rows[source.entity] += await _import_source(
                    conn, source, ctx, seen, counts[source.entity], problems, notes, bar
                )
            finally:
                if bar is not None:
                    bar.close()
            notes.extend(source.notes)  # e.g. Master.csv's last line, still being written
        for entity in full:
            if not data_rows[entity] and not problems:
                label = next(s.label for s in sources if s.entity == entity)
                problems.append(Problem(
                    label, 1, "(file)", "",
                    f"no data rows: --full {entity} refuses to remove every row on the strength of an empty file",
                ))  # fmt: skip
        if not problems:
            for entity in reversed(ENTITIES):
                if entity in full:
                    await remove_absent(conn, entity, seen, counts[entity], problems)
                    if problems:
                        break
        for entity, ids in (withdrawn or {}).items():
            if not problems and ids:
                await remove_ids(conn, entity, ids, counts.setdefault(entity, Counts()))
        if problems:
            await session.rollback()
            order = {source.label: n for n, source in enumerate(sources)}  # file by file, line by line
            problems.sort(key=lambda p: (order.get(p.label, len(order)), p.line))
            raise ImportFailed([str(p) for p in problems])
        await seen.finish()
        await remember_files(conn, sources, digests, counts, skipped, now)
        changed = counts.get("contracts")
        if changed is not None and (changed.added or changed.updated or changed.removed):
            # a fee or manager change applies from the office's month of this import
            await refresh_contract_terms(session, Month.of(now.replace(tzinfo=UTC).astimezone(zone).date()), now)
        files = [s.label for s in sources]
        summary = {entity: c.as_dict() for entity, c in counts.items()}
        session.add(ImportRun(finished_at=now, files=json.dumps(files, ensure_ascii=False),
                              summary=json.dumps(summary)))  # fmt: skip
    return ImportReport(counts=counts, files=files, finished_at=now, skipped=skipped, notes=notes)
