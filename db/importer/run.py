"""``kpibot import``: 1C exports and the PBX's Master.csv into the database, all or nothing.

Every file is read row by row and written in batches inside one transaction. Every problem in every
file is collected as ``file:line: column: value: reason``; if there is even one, the transaction is
rolled back and nothing is written, so the previous data stays intact. Rows are upserted by id: a
re-import of the same files reports every row unchanged and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row as SqlRow
from sqlalchemy import select

from bot.rules import Month
from db.importer import rows as rows_module
from db.importer import values as v
from db.importer.report import Counts, ImportFailed, ImportReport, Problem, Progress, escape
from db.importer.rows import (
    SPECS,
    ChunkMark,
    Chunks,
    Context,
    Memo,
    Row,
    TableReader,
    cdr_key,
    pbx_rows,
)
from db.importer.sources import (
    Resume,
    Source,
    SourceError,
    appended_rows,
    csv_dialect,
    detect_encoding,
    discover,
    line_breaks,
    line_start,
)
from db.importer.vocabulary import ENTITIES
from db.importer.writer import (
    CONTENT_KEYED,
    DIGEST_VERSION,
    DIGESTED,
    FileMark,
    RowDigests,
    Staging,
    known_ids,
    remember_files,
    remove_absent,
    remove_ids,
    write_source,
)
from db.models import (
    Employee,
    ImportedChunk,
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
    resumed: bool = False,
    chunks: Chunks | None = None,
) -> tuple[int, int | None]:
    """Read one source, check every row and stage it; once the whole source is read, report its
    repeated ids and, while no problem is known, write it in one statement. The number of data rows
    read and the physical line of the first (``None``: none).

    ``resumed``: the source reads only what was appended to its file (:class:`Resume`); an id it
    stages that the table holds already (the older part of the file, or another file) raises
    :class:`_ReadWhole`, since only reading every row tells a repeated id from an update.

    A row of a :data:`DIGESTED` entity whose digest (:class:`RowDigests`) matches the one it was
    last written from is neither built nor checked again: it is staged by id and counted unchanged.

    ``chunks``: the source's data records go through it (:class:`Chunks`), which skips a chunk that
    did not change since the entity's last file — not even mapped to columns; its rows count as read
    and unchanged. If a skipped chunk holds an id also read (:meth:`Chunks.overlap`), raise
    :class:`_ReadWhole`: only a whole read tells a repeated id from one that moved.
    """
    entity = source.entity
    spec = SPECS[entity]
    stage = staging[entity]
    digests = staging.digests if entity in DIGESTED else None
    batch: list[tuple[int, dict[str, Any], bool, str | None]] = []
    waiting: list[tuple[int, dict[str, v.Cell], str, str]] = []  # (line, cells, id, digest) to look up
    raw_rows = source.rows(progress.update if progress else None)
    table = TableReader(source, problems, notes) if entity != "pbx" else None
    if chunks is not None and table is not None:
        table.chunks = chunks
        chunks.counted = lambda: table.rows
    carried: set[str] | None = None
    narrowed = False
    base: Any = None  # the digest every row's starts from, once the header is known
    known = ctx.known.get(entity)
    memo: Memo = {}  # what each column's cells parsed to, for this source (see Row)
    read = 0
    first: int | None = None

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
        if table is not None:
            reader = table(raw_rows)
        else:
            reader = pbx_rows(source, chunks([], None, raw_rows) if chunks is not None else raw_rows, problems)
        for line, cells in reader:
            read += 1
            if read == 1:  # the header is known once the first row is read
                first = line
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
    if chunks is not None and chunks.skipped:
        if chunks.overlap():
            raise _ReadWhole
        counts.unchanged += chunks.skipped_rows
        read += chunks.skipped_rows
        if chunks.first_line is not None and (first is None or chunks.first_line < first):
            first = chunks.first_line
    if resumed and entity not in CONTENT_KEYED and await stage.meets_table(src):
        raise _ReadWhole
    if entity not in CONTENT_KEYED:  # a PBX record repeated is the same record
        for line, row_id in await stage.repeated(src):
            problems.append(Problem(source.label, line, "id", row_id, DUPLICATE))
    if not problems:
        written = sorted(carried) if carried is not None else [c.name for c in spec.table.columns]
        await write_source(staging, entity, src, written, ctx, counts)
    return read, first


class _ReadWhole(Exception):
    """A resumed source staged an id the table holds already, or a skipped chunk holds an id read
    too: read the whole file instead."""


@dataclass(frozen=True)
class _Prefix:
    """The first ``size`` bytes of a file as found now: their SHA-256, their physical lines, and
    whether they end at a line break (not a CR whose LF comes after them)."""

    sha256: str
    lines: int
    at_line_break: bool


def _file_digests(path: Path, prefix: int | None) -> tuple[str, int, _Prefix | None]:
    """The SHA-256 and length of the file and, when ``prefix`` is given and the file is longer,
    what its first ``prefix`` bytes are (one pass over the file)."""
    digest = hashlib.sha256()
    found = None
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(0)
        if prefix is not None and 0 < prefix < size:
            left, lines, previous = prefix, 0, b""
            while left:
                block = handle.read(min(1 << 20, left))
                left -= len(block)
                digest.update(block)
                lines += line_breaks(block) - (previous == b"\r" and block.startswith(b"\n"))
                previous = block[-1:]
            following = handle.read(1)
            ended = previous == b"\n" or (previous == b"\r" and following != b"\n")
            found = _Prefix(digest.hexdigest(), lines, ended)
            digest.update(following)
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest(), size, found


def _shape(entity: str, encoding: str, delimiter: str, ctx: Context) -> str:
    """A digest of what, besides its bytes, decides how a file's rows read: the encoding and
    separator it is read with, the time zones, for PBX records which employee each extension is."""
    parts = [DIGEST_VERSION, entity, encoding, delimiter, *_settings_read_by(entity, ctx)]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def _settings_read_by(entity: str, ctx: Context) -> list[str]:
    """The settings a file's rows are read with: the time zones and, for PBX records, which employee
    each extension is (part of :func:`_shape` and :func:`_chunk_shape`)."""
    parts = [str(ctx.zone), str(ctx.pbx_zone)]
    if entity == "pbx":
        parts.append(";".join(f"{ext}={employee}" for ext, employee in sorted(ctx.extensions.items())))
    return parts


def _resume(source: Source, last: SqlRow[Any] | None, prefix: _Prefix | None, ctx: Context) -> Resume | None:
    """Where to resume reading ``source`` when its file is its entity's last imported file with
    rows appended (see docs/import.md), else ``None``: same name, a CSV file, longer, its first
    ``last.size`` bytes hash to the last file's SHA-256 and end at a line break, the last file had
    a data row, and it reads with the same encoding, separator, time zones and extensions."""
    if last is None or prefix is None or last.head_size is None or last.shape is None or source.path is None:
        return None
    if prefix.sha256 != last.sha256 or not prefix.at_line_break:
        return None
    try:
        if source.entity == "pbx":
            encoding, delimiter = detect_encoding(source.path), ","
        else:
            encoding, delimiter = csv_dialect(source.path, source.entity)
    except SourceError:  # a byte that does not decode: the whole read names its line
        return None
    if encoding.replace("_", "-").startswith("utf-16") or _shape(source.entity, encoding, delimiter, ctx) != last.shape:
        return None
    return Resume(head=last.head_size, offset=last.size, line=prefix.lines + 1)


def _chunk_shape(entity: str, delimiter: str, ctx: Context) -> str:
    """What, besides its cells and the header's, decides what a chunk of a file's rows imports as
    (:class:`Chunks`): the separator, the time zones and, for PBX records, which employee each
    extension is. Not the encoding: the cells are compared decoded."""
    return "\x1e".join([DIGEST_VERSION, entity, delimiter, *_settings_read_by(entity, ctx)])


async def _stored_chunks(conn: Any, entity: str) -> list[ChunkMark]:
    """The chunks of the entity's last CSV file, in order (empty: none remembered)."""
    found = await conn.execute(
        select(ImportedChunk.records, ImportedChunk.rows, ImportedChunk.digest, ImportedChunk.chunk)
        .where(ImportedChunk.entity == entity)
        .order_by(ImportedChunk.chunk)
    )
    marks: list[ChunkMark] = []
    for records, rows, digest, index in found:
        if index != len(marks):  # a gap: only the chunks before it are known
            break
        marks.append(ChunkMark(records, rows, digest))
    return marks


def fingerprint(source: Source, cells: dict[str, v.Cell], ctx: Context) -> str:
    """What shapes a source's values besides a row's cells: its columns in order, the zones, and for
    PBX records which employee each extension is."""
    parts = [source.entity, ",".join(cells), str(ctx.zone), str(ctx.pbx_zone)]
    if source.entity == "pbx":
        parts.append(";".join(f"{ext}={employee}" for ext, employee in sorted(ctx.extensions.items())))
    return "\x1e".join(parts)


def _new_chunks(entity: str, source: Source, ctx: Context, stored: list[ChunkMark] | None) -> Chunks:
    return Chunks(lambda: _chunk_shape(entity, source.delimiter, ctx), stored, content_keyed=entity in CONTENT_KEYED)


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
    its entity's last imported file is not read again, and of a CSV file that only grew by appending
    only the appended part is read (unless ``reread`` or ``--full``; docs/import.md).
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
        marks: dict[str, FileMark] = {}  # what is remembered of each entity's file
        skipped: list[str] = []
        notes: list[str] = []
        data_rows = dict.fromkeys(given, 0)
        for src, source in enumerate(sources):
            entity = source.entity
            if entity == "pbx" and not ctx.extensions:
                rows = await conn.execute(
                    select(Employee.id, Employee.phone_ext).where(Employee.phone_ext.is_not(None))
                )
                ctx.extensions = {ext: employee for employee, ext in rows if ext}
            resume: Resume | None = None
            last: SqlRow[Any] | None = None
            chunks: Chunks | None = None
            if source.path is not None and per_entity[entity] == 1:
                last = (await conn.execute(select(ImportedFile).where(ImportedFile.entity == entity))).first()
                fresh = last is not None and not reread and entity not in full and last.label == source.label
                csv_file = source.path.suffix.lower() != ".xlsx"
                sha256, size, prefix = _file_digests(
                    source.path, last.size if fresh and csv_file and last is not None else None
                )
                marks[entity] = FileMark(sha256, size if csv_file else None)
                if fresh and last is not None and last.sha256 == sha256:
                    counts[entity].unchanged += last.rows
                    skipped.append(source.label)
                    continue
                resume = _resume(source, last, prefix, ctx) if fresh and csv_file else None
                if csv_file and entity in DIGESTED:
                    stored = await _stored_chunks(conn, entity) if fresh else None
                    if resume is not None:  # the old part's chunks stay, but a last one short of full may grow
                        kept = stored or []
                        full_last = bool(kept) and kept[-1].records == rows_module.CHUNK_ROWS
                        marks[entity].chunks = kept if full_last else kept[:-1]
                    else:
                        chunks = _new_chunks(entity, source, ctx, stored)
            bar = progress(source) if progress else None
            whole_reader = source.rows
            problems_before, notes_before = len(problems), len(notes)
            try:
                if resume is not None and last is not None:
                    source.rows = appended_rows(source, resume)
                    counts[entity].unchanged += last.rows
                    marks[entity].head_size = resume.head
                try:
                    read, first = await _import_source(
                        staging, src, source, ctx, counts[entity], problems, notes, bar, resumed=resume is not None,
                        chunks=chunks,
                    )  # fmt: skip
                except _ReadWhole:  # an id read is in the table or a skipped chunk already: read it all
                    del problems[problems_before:], notes[notes_before:]
                    source.notes.clear()
                    await staging[entity].forget(src)
                    counts[entity] = Counts()
                    source.rows, resume = whole_reader, None
                    if chunks is not None:
                        chunks = _new_chunks(entity, source, ctx, None)
                    read, first = await _import_source(
                        staging, src, source, ctx, counts[entity], problems, notes, bar, chunks=chunks
                    )
                if chunks is not None:
                    marks[entity].chunks = chunks.marks
                data_rows[entity] += read
            finally:
                if bar is not None:
                    bar.close()
            if entity in marks and source.path is not None and resume is None:
                marks[entity].head_size = line_start(source.path, first) if first is not None else None
            if entity in marks and source.encoding:  # a CSV file, read
                marks[entity].shape = _shape(entity, source.encoding, source.delimiter, ctx)
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
        await remember_files(conn, sources, marks, counts, skipped, now)
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
