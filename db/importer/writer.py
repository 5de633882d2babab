"""The all-or-nothing write: rows staged in bulk in a temporary table per entity, repeated ids found
and rows counted and upserted there by one statement per source, ``--full`` removal of absent rows,
and the record of imported files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, delete, insert, select, text
from sqlalchemy import column as sql_column
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import TextualSelect

from db.importer.report import Counts, Problem
from db.importer.rows import SPECS, ChunkMark, Context
from db.importer.sources import Source
from db.importer.vocabulary import CDR_KEY_PREFIX
from db.models import Client, ImportedChunk, ImportedFile

# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


# Columns whose empty value in a file keeps what the database has: a Telegram account linked through
# an invitation must survive the next employees.csv without a telegram_id column.
KEEP_WHEN_EMPTY = {"employees": ("telegram_id",)}

# Entities keyed by a digest of the whole record: the same id twice is the same record, not a clash.
CONTENT_KEYED = frozenset({"pbx"})


async def known_ids(conn: AsyncConnection, table: Table) -> set[str]:
    return set((await conn.execute(select(table.c.id))).scalars())


async def driver_of(conn: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite's or asyncpg's) under ``conn``, for plain statements."""
    driver = (await conn.get_raw_connection()).driver_connection
    if driver is None:  # pragma: no cover - an open connection always has one
        raise RuntimeError("the database connection is closed")
    return driver


# the staged row's order in the import, its source, its line, whether its digest says it is unchanged
# (then only its id is staged) and its digest (see RowDigests)
_MARKS = ("_seq", "_src", "_line", "_same", "_digest")


_DATETIME_TEXT = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
_MEMO_LIMIT = 1 << 16
# rows a source adds beyond which, when they outnumber its table's, SQLite's indexes are rebuilt
# after the upsert instead of kept row by row (see Stage._drop_indexes)
REBUILD_INDEXES_FROM = 10_000


def _converter(process: Callable[[Any], Any], storage_format: str) -> Callable[[Any], Any]:
    """A SQLAlchemy bind processor made quick for a staged column: in a ``DATETIME`` column of
    SQLAlchemy's default text format a naive date-time is written as ``isoformat`` to the
    microsecond (the same text); anything else (dates, booleans) is processed once per distinct value."""
    memo: dict[Any, Any] = {}
    iso = storage_format == _DATETIME_TEXT

    def convert(value: Any) -> Any:
        if iso and type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        found = memo.get(value)
        if found is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            found = memo[value] = process(value)
        return found

    return convert


class Stage:
    """The rows an import read for one table, in a temporary table on the import's own connection.

    Rows go in by the driver's bulk path (``executemany`` of one prepared statement on SQLite,
    ``COPY`` through asyncpg's ``copy_records_to_table`` on PostgreSQL), no ORM object and no
    round trip per row; each carries ``_seq`` (its order in the import), ``_src`` (its source) and
    ``_line``. From there the database finds repeated ids, counts added/updated/unchanged rows and
    upserts a whole source in one ``INSERT … SELECT … ON CONFLICT`` — and ``--full`` finds the
    absent rows. Memory stays flat: Python holds one batch at a time.
    """

    def __init__(self, conn: AsyncConnection, table: Table, name: str | None = None, entity: str = "") -> None:
        self.conn = conn
        self.table = table
        self.entity = entity  # rows of an entity in DIGESTED get their digest recorded
        self.name = name or f"kpibot_stage_{table.name}"
        self.postgres = conn.dialect.name == "postgresql"
        self.columns = [c.name for c in table.columns]
        self.seq = 0
        self.analyzed = 0  # the seq the statistics were taken at
        self.created = False
        self.indexed = False
        # per column: its name, the value a new row gets when the file lacks it, and on SQLite the
        # processor turning a value into what SQLAlchemy stores (dates as its text, booleans as 0/1)
        self.plan: list[tuple[str, Any, Any]] = []
        for column in table.columns:
            default = column.default
            value = getattr(default, "arg", None) if default is not None and default.is_scalar else None
            processor = None if self.postgres else column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            self.plan.append((column.name, value, processor))
        # on SQLite, by position in a staged record: what turns each value into what SQLAlchemy stores
        self.converters = [
            (len(_MARKS) + i, _converter(p, getattr(column.type.dialect_impl(conn.dialect), "_storage_format", "")))
            for i, (column, (_, _, p)) in enumerate(zip(table.columns, self.plan, strict=True))
            if p is not None
        ]

    async def create(self) -> None:
        if self.created:
            return
        seq = "CAST(0 AS BIGINT)" if self.postgres else "0"
        await self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.name}")
        await self.conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {self.name} AS SELECT {seq} AS _seq, 0 AS _src, 0 AS _line, 0 AS _same, "
            f"CAST(NULL AS VARCHAR(40)) AS _digest, "
            f"{', '.join(self.columns)} FROM {self.table.name} WHERE 1 = 0"
        )
        self.created = True
        self.indexed = False

    async def _index(self) -> None:
        """The index by id, made once the first source is staged (built sorted in one pass, where
        rows added to an index already there in file order — a PBX record's id is a digest — touch a
        page each once it outgrows the cache); later sources' rows are added to it."""
        if self.created and not self.indexed:
            await self.conn.exec_driver_sql(f"CREATE INDEX {self.name}_id ON {self.name} (id, _seq)")
            self.indexed = True

    async def drop(self) -> None:
        if self.created:
            await self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.name}")
            self.created = False

    async def add(self, src: int, rows: list[tuple[int, dict[str, Any], bool, str | None]]) -> None:
        """Stage ``(line, values, same, digest)`` rows of source ``src``; a missing column is staged as
        its default (a new row gets it; an existing row keeps its own, see :meth:`write`). A row
        ``same`` (its digest unchanged since it was written) is staged by its id alone."""
        if not rows:
            return
        await self.create()
        records = []
        same_records = []  # (seq, src, line, id): the other columns stay NULL
        names = [(c, default) for c, default, _ in self.plan]
        converted = self.converters
        seq = self.seq
        for line, values, same, digest in rows:
            seq += 1
            if same:
                same_records.append((seq, src, line, values["id"]))
                continue
            get = values.get
            cells = [seq, src, line, 0, digest, *[get(c, default) for c, default in names]]
            for i, convert in converted:
                x = cells[i]
                if x is not None:
                    cells[i] = convert(x)
            records.append(cells)
        self.seq = seq
        driver = await driver_of(self.conn)
        columns = self.columns
        if self.postgres:
            if records:
                await driver.copy_records_to_table(self.name, records=records, columns=[*_MARKS, *columns])
            if same_records:
                await driver.copy_records_to_table(
                    self.name, records=[(*r, 1) for r in same_records], columns=["_seq", "_src", "_line", "id", "_same"]
                )
            return
        if records:
            marks = ", ".join("?" * (len(columns) + len(_MARKS)))
            await driver.executemany(f"INSERT INTO {self.name} VALUES ({marks})", records)
        if same_records:
            await driver.executemany(
                f"INSERT INTO {self.name} (_seq, _src, _line, id, _same) VALUES (?, ?, ?, ?, 1)", same_records
            )

    async def meets_table(self, src: int) -> bool:
        """Whether an id staged from source ``src`` is in the table already."""
        if not self.created:
            return False
        found = await self.conn.exec_driver_sql(
            f"SELECT 1 FROM {self.name} s WHERE s._src = {int(src)} AND EXISTS "
            f"(SELECT 1 FROM {self.table.name} t WHERE t.id = s.id) LIMIT 1"
        )
        return found.first() is not None

    async def forget(self, src: int) -> None:
        """Unstage every row of source ``src`` (to read it again)."""
        if self.created:
            await self.conn.exec_driver_sql(f"DELETE FROM {self.name} WHERE _src = {int(src)}")

    async def _analyze(self) -> None:
        """Index the staged rows (:meth:`_index`); and PostgreSQL's autovacuum never sees a temporary
        table: without statistics the planner takes a staged source for a few rows and joins it by
        nested loops."""
        await self._index()
        if self.postgres and self.analyzed != self.seq:
            await self.conn.exec_driver_sql(f"ANALYZE {self.name}")
            self.analyzed = self.seq

    async def repeated(self, src: int) -> list[tuple[int, str]]:
        """``(line, id)`` of the rows of source ``src`` whose id came earlier in the import."""
        if not self.created:
            return []
        await self._analyze()
        many = await self.conn.exec_driver_sql(f"SELECT id FROM {self.name} GROUP BY id HAVING count(*) > 1 LIMIT 1")
        if many.first() is None:  # the usual case: one pass over the index
            return []
        rows = await self.conn.exec_driver_sql(
            f"SELECT s._line, s.id FROM {self.name} s WHERE s._src = {int(src)} AND EXISTS "
            f"(SELECT 1 FROM {self.name} e WHERE e.id = s.id AND e._seq < s._seq) ORDER BY s._seq"
        )
        return [(int(record[0]), str(record[1])) for record in rows.all()]  # type: ignore[misc]

    def _rows_of(self, src: int, once: bool) -> str:
        where = f"_src = {int(src)}"
        if once and self.postgres:  # a content-keyed id repeated is the same record: its first copy
            # (not "_seq IN (SELECT min(_seq) …)": PostgreSQL ran that semi-join for over 12 minutes
            # on 500,000 staged PBX records)
            return f"(SELECT DISTINCT ON (id) * FROM {self.name} WHERE {where} ORDER BY id, _seq)"
        if once:
            where += f" AND _seq IN (SELECT min(_seq) FROM {self.name} WHERE {where} GROUP BY id)"
        return f"(SELECT * FROM {self.name} WHERE {where})"

    async def write(
        self,
        src: int,
        carried: list[str],
        counts: Counts,
        keep_when_empty: tuple[str, ...] = (),
        *,
        once: bool = False,
    ) -> None:
        """Upsert the staged rows of source ``src`` in one statement and count them: a new id is
        added (every column: the ``carried`` ones and the defaults of the rest), an existing row is
        updated only in its ``carried`` columns and only if one of them differs, an equal row is left
        untouched. A ``keep_when_empty`` column empty in the file keeps what the row has."""
        if not self.created:
            return
        await self._analyze()
        table = self.table.name
        compared = [c for c in self.columns if c in carried and c != "id"]
        distinct = "IS DISTINCT FROM" if self.postgres else "IS NOT"

        def incoming(c: str, new: str, old: str) -> str:
            return f"COALESCE({new}.{c}, {old}.{c})" if c in keep_when_empty else f"{new}.{c}"

        def differs(new: str, old: str) -> str:
            return " OR ".join(f"{old}.{c} {distinct} {incoming(c, new, old)}" for c in compared) or "1 = 0"

        if once:  # the usual source repeats no record: no per-id choice of its first copy is needed
            repeats = await self.conn.exec_driver_sql(
                f"SELECT id FROM {self.name} WHERE _src = {int(src)} GROUP BY id HAVING count(*) > 1 LIMIT 1"
            )
            once = repeats.first() is not None
        rows = self._rows_of(src, once)
        result = await self.conn.exec_driver_sql(
            f"SELECT count(*), coalesce(sum(s._same), 0), count(t.id), coalesce(sum(CASE WHEN t.id IS NOT NULL "
            f"AND ({differs('s', 't')}) THEN 1 ELSE 0 END), 0) FROM {rows} s "
            f"LEFT JOIN {table} t ON t.id = s.id AND s._same = 0"
        )
        total, same, matched, changed = (int(n) for n in result.one())
        counts.added += total - same - matched
        counts.updated += changed
        counts.unchanged += same + matched - changed
        if self.entity in DIGESTED and total > same:
            await self.conn.exec_driver_sql(
                f"INSERT INTO {RowDigests.TABLE} (entity, id, digest) SELECT '{self.entity}', id, _digest "
                f"FROM {rows} s WHERE s._same = 0 AND s._digest IS NOT NULL ORDER BY s.id "
                f"ON CONFLICT (entity, id) DO UPDATE SET digest = excluded.digest"
            )
        if total == same + matched and not changed:
            return  # every row already there as it is
        listed = ", ".join(self.columns)
        if compared:
            assignments = ", ".join(f"{c} = {incoming(c, 'excluded', table)}" for c in compared)
            action = f"DO UPDATE SET {assignments} WHERE {differs('excluded', table)}"
        else:
            action = "DO NOTHING"
        rebuilt = await self._drop_indexes(total - same - matched)
        await self.conn.exec_driver_sql(
            # in key order: a b-tree filled in order touches each page once, where ids in file order (a
            # PBX record's is a digest, random) touch a page per row once the index outgrows the cache
            f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {rows} s WHERE s._same = 0 ORDER BY s.id "
            f"ON CONFLICT (id) {action}"
        )
        for statement in rebuilt:
            await self.conn.exec_driver_sql(statement)

    async def _drop_indexes(self, added: int) -> list[str]:
        """On SQLite, when a source adds more rows than its table holds (a first import), drop the
        table's secondary indexes before the upsert and return the statements that make them again:
        an index built from the finished table is sorted once, where a row at a time in file order
        (calls by their time, by manager) touches a page of each index per row once the index
        outgrows SQLite's cache. Inside the import's transaction, like the rows: a failed import
        keeps them. Unique indexes stay (they check the rows as they go in)."""
        if self.postgres or added < REBUILD_INDEXES_FROM:
            return []
        table = self.table.name
        present = (await self.conn.exec_driver_sql(f"SELECT max(rowid) FROM {table}")).scalar() or 0
        if added <= present:  # max(rowid) is at least the number of rows
            return []
        found = await self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        )
        rebuilt = []
        for record in found.all():
            name, statement = str(record[0]), str(record[1])  # type: ignore[misc]
            if statement.lstrip().upper().startswith("CREATE UNIQUE"):
                continue
            await self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
            rebuilt.append(statement)
        return rebuilt

    async def absent(self) -> list[str]:
        """Ids in the table that this import did not stage."""
        table = self.table.name
        await self._index()
        if self.created:  # an anti-join: NOT IN (subquery) is a nested loop on PostgreSQL past work_mem
            query = f"SELECT id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {self.name} s WHERE s.id = t.id)"
        else:
            query = f"SELECT id FROM {table}"
        rows = await self.conn.exec_driver_sql(f"{query} ORDER BY id")
        return [row_id for (row_id,) in rows]

    async def drop_legacy_pbx_keys(self, src: int) -> None:
        """Before migration 0006 a PBX row with a ``uniqueid`` was keyed by it; its leg is now written
        under its digest key (``rows.cdr_key``), so the old row goes (migration 0006 filled its
        ``uniqueid``)."""
        if not self.created:
            return
        await self._analyze()
        await self.conn.exec_driver_sql(
            f"DELETE FROM {self.table.name} WHERE id NOT LIKE '{CDR_KEY_PREFIX}%' AND uniqueid <> '' AND uniqueid IN "
            f"(SELECT uniqueid FROM {self.name} WHERE _src = {int(src)} AND uniqueid <> '')"
        )


# Entities whose rows are skipped on re-import while their digest is unchanged: the large ones, which
# only the importer writes (employees are small and the bot links their Telegram accounts).
DIGESTED = frozenset({"contracts", "payments", "interactions", "documents", "pbx"})
DIGEST_VERSION = "1"  # raise it when a row builder changes what it makes of the same cells


class RowDigests:
    """A digest per imported row, of its cells as read and of what shaped its values (the header's
    columns, the time zones, for PBX records the extensions): a re-import builds and checks only the
    rows whose digest is new or changed; the others are staged by id, counted unchanged and left as
    they are. Kept in ``import_row_digests`` in the import's transaction, so all-or-nothing holds;
    a digest counts only while its row exists (a row removed since is read again)."""

    TABLE = "import_row_digests"

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    @staticmethod
    def start(fingerprint: str) -> Any:
        """The hash every digest of a source starts from: copy it, add the row's cells."""
        return hashlib.blake2b(f"{DIGEST_VERSION}\x1e{fingerprint}\x1e".encode(), digest_size=16)

    async def unchanged(self, entity: str, rows: list[tuple[str, str]]) -> set[str]:
        """The ids among ``(id, digest)`` whose row exists and was last written from that digest."""
        if not rows:
            return set()
        table = SPECS[entity].table.name
        driver = await driver_of(self.conn)
        ids = [row_id for row_id, _ in rows]
        if self.postgres:
            found = await driver.fetch(
                f"SELECT d.id, d.digest FROM {self.TABLE} d JOIN {table} t ON t.id = d.id "
                "WHERE d.entity = $1 AND d.id = ANY($2::varchar[])",
                entity,
                ids,
            )
        else:
            marks = ", ".join("?" * len(ids))
            cursor = await driver.execute(
                f"SELECT d.id, d.digest FROM {self.TABLE} d JOIN {table} t ON t.id = d.id "
                f"WHERE d.entity = ? AND d.id IN ({marks})",
                (entity, *ids),
            )
            found = await cursor.fetchall()
        stored = {record[0]: record[1] for record in found}
        return {row_id for row_id, digest in rows if stored.get(row_id) == digest}


class Staging:
    """Every table's :class:`Stage` of one import."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.stages: dict[str, Stage] = {}
        self.digests = RowDigests(conn)
        # the contracts whose ledger this import may change: contracts written or removed, and the
        # contracts of payments written (before and after the change) or removed. A superset: a row
        # built and found equal counts too; a row skipped by its digest does not.
        self.touched_contracts: set[str] = set()

    def __getitem__(self, entity: str) -> Stage:
        if entity not in self.stages:
            table = Client.__table__ if entity == "clients" else SPECS[entity].table
            self.stages[entity] = Stage(self.conn, table, entity=entity)  # type: ignore[arg-type]
        return self.stages[entity]

    def written_ids(self, entity: str) -> TextualSelect | None:
        """A subquery of the ids of ``entity``'s rows this import staged in full (built, not skipped
        as unchanged by their digest); ``None`` when it staged none."""
        stage = self.stages.get(entity)
        if stage is None or not stage.created:
            return None
        return text(f"SELECT id FROM {stage.name} WHERE _same = 0").columns(sql_column("id", String))

    async def touch(self, entity: str, src: int) -> None:
        """Add to :attr:`touched_contracts` what source ``src`` of contracts or payments is about to
        write (read from its stage before the upsert, so a payment moved between contracts names
        both)."""
        stage = self[entity]
        if not stage.created:
            return
        if entity == "contracts":
            query = f"SELECT DISTINCT id FROM {stage.name} WHERE _src = {int(src)} AND _same = 0"
        else:
            query = (
                f"SELECT DISTINCT contract_id FROM {stage.name} WHERE _src = {int(src)} AND _same = 0 UNION "
                f"SELECT DISTINCT t.contract_id FROM {stage.name} s JOIN payments t ON t.id = s.id "
                f"WHERE s._src = {int(src)} AND s._same = 0 AND t.contract_id <> s.contract_id"
            )
        self.touched_contracts.update(row_id for (row_id,) in await self.conn.exec_driver_sql(query) if row_id)

    async def finish(self) -> None:
        for stage in self.stages.values():
            await stage.drop()


async def write_source(
    staging: Staging, entity: str, src: int, carried: list[str], ctx: Context, counts: Counts
) -> None:
    """Write one source's staged rows (its checks all passed): contracts' clients first, PBX rows
    under a legacy key replaced."""
    stage = staging[entity]
    if entity == "pbx":
        await stage.drop_legacy_pbx_keys(src)
    if entity == "contracts" and ctx.clients:
        clients = staging["clients"]
        names = list(ctx.clients.items())
        for start in range(0, len(names), 5000):
            await clients.add(src, [(0, {"id": k, "name": n}, False, None) for k, n in names[start : start + 5000]])
        ctx.clients.clear()
        await clients.write(src, ["id", "name"], Counts(), once=True)
    if entity in ("contracts", "payments"):
        await staging.touch(entity, src)
    await stage.write(src, carried, counts, KEEP_WHEN_EMPTY.get(entity, ()), once=entity in CONTENT_KEYED)


async def remove_absent(
    conn: AsyncConnection, entity: str, staging: Staging, counts: Counts, problems: list[Problem]
) -> None:
    table = SPECS[entity].table
    absent = await staging[entity].absent()
    for start in range(0, len(absent), 500):
        chunk = absent[start : start + 500]
        try:
            async with conn.begin_nested():
                statement = delete(table).where(table.c.id.in_(chunk))
                if entity == "payments":
                    removed = await conn.execute(statement.returning(table.c.contract_id))
                    staging.touched_contracts.update(removed.scalars())
                else:
                    await conn.execute(statement)
        except IntegrityError:
            problems.append(Problem(
                f"--full {entity}", 0, "id", chunk[0],
                f"{len(absent)} {entity} absent from the files are still referenced by other data; "
                "give the files that reference them with --full too (or mark employees inactive)",
            ))  # fmt: skip
            return
        if entity == "contracts":
            staging.touched_contracts.update(chunk)
        counts.removed += len(chunk)


async def remove_ids(
    conn: AsyncConnection, entity: str, ids: Collection[str], counts: Counts, touched: set[str] | None = None
) -> None:
    """Remove these rows of a leaf entity (payments, interactions, documents: nothing references
    them), e.g. 1C documents since unposted or marked for deletion; ids not present are ignored.
    The contracts of payments removed are added to ``touched``."""
    table = SPECS[entity].table
    chosen = sorted(set(ids))
    for start in range(0, len(chosen), 500):
        statement = delete(table).where(table.c.id.in_(chosen[start : start + 500]))
        if entity == "payments":
            removed = list((await conn.execute(statement.returning(table.c.contract_id))).scalars())
            if touched is not None:
                touched.update(removed)
            counts.removed += len(removed)
        else:
            result = await conn.execute(statement)
            counts.removed += result.rowcount or 0


@dataclass
class FileMark:
    """What is remembered of an entity's last file (``imported_files``): its SHA-256 and, for a CSV
    file, its length, the bytes before its first data row and how it was read (see
    ``db.importer.run``), and the digests of its chunks of data rows (``imported_chunks``, see
    ``rows.Chunks``; ``None``: none)."""

    sha256: str
    size: int | None = None
    head_size: int | None = None
    shape: str | None = None
    chunks: list[ChunkMark] | None = None


async def remember_files(
    conn: AsyncConnection,
    sources: list[Source],
    marks: dict[str, FileMark],
    counts: dict[str, Counts],
    skipped: list[str],
    now: datetime,
) -> None:
    """The entity's last file, so that the same bytes next time are skipped (and a file that only
    grew is read from where this one ended); an entity imported from several files (or sheets) is
    never skipped."""
    for entity in sorted({s.entity for s in sources}):
        source = next(s for s in sources if s.entity == entity)
        if source.label in skipped:
            continue  # it stays the entity's last file
        await conn.execute(delete(ImportedFile).where(ImportedFile.entity == entity))
        await conn.execute(delete(ImportedChunk).where(ImportedChunk.entity == entity))
        if entity in marks:
            c = counts[entity]
            rows = c.added + c.updated + c.unchanged
            mark = marks[entity]
            await conn.execute(
                insert(ImportedFile).values(
                    entity=entity, label=source.label, sha256=mark.sha256, rows=rows, imported_at=now,
                    size=mark.size, head_size=mark.head_size, shape=mark.shape,
                )
            )  # fmt: skip
            chunks = [
                {"entity": entity, "chunk": n, "records": m.records, "rows": m.rows, "digest": m.digest}
                for n, m in enumerate(mark.chunks or [])
            ]
            for start in range(0, len(chunks), 5000):
                await conn.execute(insert(ImportedChunk), chunks[start : start + 5000])
