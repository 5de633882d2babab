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

from bot.rules import Month
from db.importer import values as v
from db.importer.report import Counts, ImportFailed, ImportReport, Problem, Progress, escape
from db.importer.rows import SPECS, Context, Memo, Row, TableReader, cdr_key, pbx_rows
from db.importer.sources import Source, SourceError, discover
from db.importer.vocabulary import ENTITIES
from db.importer.writer import (
    CONTENT_KEYED,
    DIGESTED,
    RowDigests,
    Staging,
    file_digest,
    known_ids,
    remember_files,
    remove_absent,
    remove_ids,
    write_source,
)
from db.models import (
    Employee,
    ImportedFile,
    ImportRun,
)
from db.queries import refresh_contract_terms
from db.queries.after_import import after_import
from db.session import SessionPool

BATCH = 5000  # rows staged per bulk statement
MAX_PRINTED_PROBLEMS = 200
FULL_ENTITIES = tuple(SPECS)
DUPLICATE = "duplicate id: this id appears earlier in the import"


async def _import_source(
    staging: Staging,
    src: int,
    source: Source,
    ctx: Context,
    counts: Counts,
    problems: list[Problem],
    notes: list[str],
    progress: Progress | None,
) -> int:
    """Read one source, check every row and stage it; once the whole source is read, report its
    repeated ids and, while no problem is known, write it in one statement. The number of data rows
    read.

    A row of a :data:`DIGESTED` entity whose digest (:class:`RowDigests`) matches the one it was
    last written from is neither built nor checked again: it is staged by id and counted unchanged.
    """
    entity = source.entity
    spec = SPECS[entity]
    stage = staging[entity]
    digests = staging.digests if entity in DIGESTED else None
    batch: list[tuple[int, dict[str, Any], bool, str | None]] = []
    waiting: list[tuple[int, dict[str, v.Cell], str, str]] = []  # (line, cells, id, digest) to look up
    raw_rows = source.rows(progress.update if progress else None)
    table = TableReader(source, problems, notes) if entity != "pbx" else None
    carried: set[str] | None = None
    narrowed = False
    base: Any = None  # the digest every row's starts from, once the header is known
    known = ctx.known.get(entity)
    memo: Memo = {}  # what each column's cells parsed to, for this source (see Row)
    read = 0

    def build(line: int, cells: dict[str, v.Cell], digest: str | None, key: str | None = None) -> None:
        row = Row(source.label, line, cells, problems, memo)
        row.key = key
        values = spec.build(row, ctx)
        spec.check(row, values)
        if narrowed:
            values = {k: value for k, value in values.items() if k in carried_columns}
        row_id = values.get("id")
        if row_id is None or "id" in row.bad:
            return
        if known is not None:
            known.add(row_id)
        # once anything is wrong nothing is written: only the id is kept, to report repeats
        batch.append((line, values, False, digest) if not problems else (line, {"id": row_id}, False, None))

    async def settle() -> None:
        assert digests is not None
        same = await digests.unchanged(entity, [(row_id, digest) for _, _, row_id, digest in waiting])
        for line, cells, row_id, digest in waiting:
            if row_id in same:
                batch.append((line, {"id": row_id}, True, None))
                if known is not None:
                    known.add(row_id)
            else:
                build(line, cells, digest, row_id if table is None else None)
        waiting.clear()

    carried_columns: set[str] = set()
    try:
        reader = table(raw_rows) if table is not None else pbx_rows(source, raw_rows, problems)
        for line, cells in reader:
            read += 1
            if read == 1:  # the header is known once the first row is read
                if table is not None:
                    carried = carried_columns = spec.carried(table.columns)
                    narrowed = not carried.issuperset(c.name for c in spec.table.columns if c.name != "id")
                if digests is not None:
                    base = RowDigests.start(fingerprint(source, cells, ctx))
            if base is not None:
                row_id = cdr_key(cells) if table is None else v.text(cells.get("id"))
                if row_id:
                    hashed = base.copy()
                    if table is None:  # a PBX record's id is a digest of all its cells already
                        hashed.update(row_id.encode())
                    else:
                        hashed.update("\x1f".join([c if type(c) is str else v.text(c) for c in cells.values()]
                                                   ).encode("utf-8", "surrogatepass"))  # fmt: skip
                    waiting.append((line, cells, row_id, hashed.hexdigest()))
                    if len(waiting) >= BATCH:
                        await settle()
                else:
                    build(line, cells, None)
            else:
                build(line, cells, None)
            if len(batch) >= BATCH:
                await stage.add(src, batch)
                batch = []
    except SourceError as error:
        problems.append(Problem(source.label, error.line, "(file)", error.value, error.reason))
    if waiting:
        await settle()
    await stage.add(src, batch)
    if entity not in CONTENT_KEYED:  # a PBX record repeated is the same record
        for line, row_id in await stage.repeated(src):
            problems.append(Problem(source.label, line, "id", row_id, DUPLICATE))
    if not problems:
        written = sorted(carried) if carried is not None else [c.name for c in spec.table.columns]
        await write_source(staging, entity, src, written, ctx, counts)
    return read


def fingerprint(source: Source, cells: dict[str, v.Cell], ctx: Context) -> str:
    """What shapes a source's values besides a row's cells: its columns in order, the zones, and for
    PBX records which employee each extension is."""
    parts = [source.entity, ",".join(cells), str(ctx.zone), str(ctx.pbx_zone)]
    if source.entity == "pbx":
        parts.append(";".join(f"{ext}={employee}" for ext, employee in sorted(ctx.extensions.items())))
    return "\x1e".join(parts)


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
        kind = "папке" if paths and all(p.is_dir() for p in paths) else "указанных путях"
        raise ImportFailed([escape(f"{where}: в {kind} нет файлов выгрузки (ожидаются выгрузки CSV или XLSX с именами "
                                   f"{', '.join(n + '.csv' for n in ENTITIES[:-1])} или Master.csv)")])  # fmt: skip
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
        staging = Staging(conn)
        per_entity = {e: sum(1 for s in sources if s.entity == e) for e in given}
        digests: dict[str, str] = {}
        skipped: list[str] = []
        notes: list[str] = []
        data_rows = dict.fromkeys(given, 0)
        for src, source in enumerate(sources):
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
                    staging, src, source, ctx, counts[source.entity], problems, notes, bar
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
                    await remove_absent(conn, entity, staging, counts[entity], problems)
                    if problems:
                        break
        for entity, ids in (withdrawn or {}).items():
            if not problems and ids:
                await remove_ids(conn, entity, ids, counts.setdefault(entity, Counts()), staging.touched_contracts)
        if problems:
            await session.rollback()
            order = {source.label: n for n, source in enumerate(sources)}  # file by file, line by line
            problems.sort(key=lambda p: (order.get(p.label, len(order)), p.line))
            raise ImportFailed([str(p) for p in problems])
        await remember_files(conn, sources, digests, counts, skipped, now)
        changed = counts.get("contracts")
        if changed is not None and (changed.added or changed.updated or changed.removed):
            # a fee or manager change applies from the office's month of this import
            await refresh_contract_terms(session, Month.of(now.replace(tzinfo=UTC).astimezone(zone).date()), now)
        # the one hook every import passes: ledgers and finding runs of what this import touched
        # (what it touched is read from its staging tables, so they are dropped only after)
        await after_import(session, counts, now.replace(tzinfo=UTC).astimezone(zone).date(), now, staging)
        await staging.finish()
        files = [s.label for s in sources]
        summary = {entity: c.as_dict() for entity, c in counts.items()}
        session.add(ImportRun(finished_at=now, files=json.dumps(files, ensure_ascii=False),
                              summary=json.dumps(summary)))  # fmt: skip
    return ImportReport(counts=counts, files=files, finished_at=now, skipped=skipped, notes=notes)
