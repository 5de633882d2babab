"""``kpibot import``: 1C exports and the PBX's Master.csv into the database, all or nothing.

Every file is read row by row and written in batches inside one transaction. Every problem in every
file is collected as ``file:line: column: value: reason``; if there is even one, the transaction is
rolled back and nothing is written, so the previous data stays intact. Rows are upserted by id: a
re-import of the same files reports every row unchanged and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Column, MetaData, String, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db import values as v
from db.models import (
    Client,
    Contract,
    Document,
    Employee,
    ImportedFile,
    ImportRun,
    Interaction,
    Payment,
    PbxCall,
)
from db.session import SessionPool
from db.sources import CDR_SHAPES, ENTITIES, Source, SourceError, discover, normalize

BATCH = 1000
MAX_PRINTED_PROBLEMS = 200


# --------------------------------------------------------------------------------------------------
# Problems and results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    label: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        value = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        return f"{self.label}:{self.line}: {self.column}: {value}: {self.reason}"


class ImportFailed(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


@dataclass
class ImportReport:
    counts: dict[str, Counts]
    files: list[str]
    finished_at: datetime
    skipped: list[str] = field(default_factory=list)  # byte-identical to the entity's last import


class Progress(Protocol):
    def update(self, n: int) -> Any: ...
    def close(self) -> Any: ...


# --------------------------------------------------------------------------------------------------
# Columns: the English names and the headers a 1C export carries
# --------------------------------------------------------------------------------------------------

HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "employees": {
        "id": ("код", "идентификатор", "табельный номер"),
        "name": ("сотрудник", "фио", "имя", "наименование", "менеджер"),
        "role": ("роль",),
        "team": ("отдел", "команда", "подразделение", "группа"),
        "phone_ext": ("внутренний номер", "добавочный", "внутренний"),
        "telegram_id": ("telegram", "telegram id", "телеграм", "ид телеграм"),
        "active": ("активен", "действует", "работает"),
    },
    "contracts": {
        "id": ("код", "код договора", "идентификатор"),
        "number": ("номер", "номер договора"),
        "client_id": ("код контрагента", "код клиента"),
        "client": ("контрагент", "клиент"),
        "manager_id": ("код менеджера", "код ответственного"),
        "start": ("дата начала", "начало", "начало действия"),
        "months": ("срок мес", "срок", "месяцев", "срок действия мес"),
        "monthly_fee": ("сумма в месяц", "ежемесячная плата", "абонентская плата", "стоимость в месяц"),
        "title": ("наименование", "описание", "вид сопровождения"),
        "closed_on": ("дата закрытия", "дата расторжения", "закрыт"),
    },
    "payments": {
        "id": ("код", "номер", "идентификатор", "номер документа"),
        "contract_id": ("код договора", "договор"),
        "date": ("дата", "дата оплаты"),
        "amount": ("сумма", "сумма оплаты"),
        "period": ("период", "период оплаты", "за период"),
    },
    "interactions": {
        "id": ("код", "номер", "идентификатор"),
        "type": ("вид", "тип", "вид взаимодействия"),
        "direction": ("направление",),
        "manager_id": ("код менеджера", "код ответственного"),
        "client_id": ("код контрагента", "код клиента"),
        "client": ("контрагент", "клиент"),
        "contact": ("контактное лицо", "контакт"),
        "planned_at": ("запланировано", "дата начала", "план", "дата план"),
        "done_at": ("выполнено", "дата выполнения", "факт"),
        "duration_s": ("длительность сек", "длительность", "продолжительность сек"),
        "status": ("состояние", "статус"),
        "next_at": ("следующий контакт", "дата следующего контакта", "перезвонить"),
        "subject": ("тема", "предмет", "описание"),
    },
    "documents": {
        "id": ("код", "идентификатор"),
        "type": ("вид", "вид документа", "тип"),
        "number": ("номер", "номер документа"),
        "date": ("дата", "дата документа"),
        "client_id": ("код контрагента", "код клиента"),
        "client": ("контрагент", "клиент"),
        "manager_id": ("код менеджера", "код ответственного"),
        "amount": ("сумма", "сумма документа"),
        "original_received": ("оригинал получен", "получен оригинал", "оригинал"),
        "received_on": ("дата получения", "дата получения оригинала"),
    },
}

ROLE_WORDS = {
    "manager": "manager", "менеджер": "manager",
    "supervisor": "supervisor", "руководитель": "supervisor", "руководитель отдела": "supervisor",
    "admin": "admin", "администратор": "admin",
}  # fmt: skip
INTERACTION_KINDS = {"call": "call", "звонок": "call", "телефонный звонок": "call",
                     "meeting": "meeting", "встреча": "meeting"}  # fmt: skip
DIRECTIONS = {"in": "in", "входящий": "in", "входящая": "in", "incoming": "in",
              "out": "out", "исходящий": "out", "исходящая": "out", "outgoing": "out"}  # fmt: skip
STATUSES = {
    "planned": "planned", "запланировано": "planned", "запланирован": "planned", "запланирована": "planned",
    "done": "done", "выполнено": "done", "выполнен": "done", "выполнена": "done", "состоялось": "done",
    "cancelled": "cancelled", "canceled": "cancelled", "отменено": "cancelled", "отменен": "cancelled",
    "отменена": "cancelled",
}  # fmt: skip
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")


def header_map(entity: str) -> dict[str, str]:
    """Normalized header → canonical column, for both the English and the Russian names."""
    mapping: dict[str, str] = {}
    for column, aliases in HEADERS[entity].items():
        for alias in (column, *aliases):
            mapping.setdefault(normalize(alias), column)
    return mapping


# --------------------------------------------------------------------------------------------------
# Reading one row
# --------------------------------------------------------------------------------------------------

_MISSING = object()


class Row:
    """The cells of one row by canonical column, collecting a problem for every bad value."""

    def __init__(self, label: str, line: int, cells: dict[str, v.Cell], problems: list[Problem]):
        self.label = label
        self.line = line
        self.cells = cells
        self.problems = problems
        self.ok = True

    def problem(self, column: str, value: v.Cell, reason: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.label, self.line, column, v.text(value), reason))

    def get(self, column: str, parse: Callable[[v.Cell], Any] = v.text, *, required: bool = False) -> Any:
        cell = self.cells.get(column)
        if isinstance(cell, str):
            cell = cell.strip()
            if cell and parse is v.text:  # the common case, without the general parser's checks
                return cell
        if cell is None or cell == "":
            if required:
                self.problem(column, "", "required value is empty")
            return None
        try:
            return parse(cell)
        except v.BadValue as error:
            self.problem(column, cell, str(error))
            return None


@dataclass
class Context:
    zone: ZoneInfo
    known: dict[str, set[str]] = field(default_factory=dict)  # ids existing or imported, by entity
    extensions: dict[str, str] = field(default_factory=dict)  # phone_ext → employee id
    clients: dict[str, str] = field(default_factory=dict)  # client id → name, as imported now
    telegram_ids: dict[int, str] = field(default_factory=dict)  # telegram id → employee id


def _reference(row: Row, ctx: Context, column: str, value: str | None, entity: str, what: str) -> None:
    if value is not None and value not in ctx.known[entity]:
        row.problem(column, value, f"unknown {what}")


def employee_row(row: Row, ctx: Context) -> dict[str, Any]:
    values = {
        "id": row.get("id", required=True),
        "name": row.get("name", required=True),
        "role": row.get("role", lambda c: v.choice(c, ROLE_WORDS), required=True),
        "team": row.get("team") or "",
        "phone_ext": row.get("phone_ext"),
        "telegram_id": row.get("telegram_id", lambda c: v.integer(c, minimum=1)),
        "active": True if row.cells.get("active") in (None, "") else row.get("active", v.flag),
    }
    telegram_id = values["telegram_id"]
    if telegram_id is not None:
        owner = ctx.telegram_ids.setdefault(telegram_id, values["id"])
        if owner != values["id"]:
            row.problem("telegram_id", telegram_id, f"already belongs to employee {owner}")
    return values


def contract_row(row: Row, ctx: Context) -> dict[str, Any]:
    values = {
        "id": row.get("id", required=True),
        "number": row.get("number") or "",
        "client_id": row.get("client_id", required=True),
        "manager_id": row.get("manager_id", required=True),
        "start": row.get("start", v.day, required=True),
        "months": row.get("months", lambda c: v.integer(c, minimum=1)),
        "monthly_fee": row.get("monthly_fee", v.money, required=True),
        "title": row.get("title") or "",
        "closed_on": row.get("closed_on", v.day),
    }
    client = row.get("client", required=True)
    _reference(row, ctx, "manager_id", values["manager_id"], "employees", "manager")
    if values["start"] and values["closed_on"] and values["closed_on"] < values["start"]:
        row.problem("closed_on", row.cells.get("closed_on"), "closed before the contract started")
    if row.ok:
        ctx.clients[values["client_id"]] = client
    return values


def payment_row(row: Row, ctx: Context) -> dict[str, Any]:
    paid_for = row.get("period", v.period)
    values = {
        "id": row.get("id", required=True),
        "contract_id": row.get("contract_id", required=True),
        "paid_on": row.get("date", v.day, required=True),
        "amount": row.get("amount", v.money, required=True),
        "period": paid_for.first_day() if paid_for else None,
    }
    _reference(row, ctx, "contract_id", values["contract_id"], "contracts", "contract")
    if values["amount"] == 0:
        row.problem("amount", row.cells.get("amount"), "a payment of zero")
    return values


def interaction_row(row: Row, ctx: Context) -> dict[str, Any]:
    def at(c: v.Cell) -> datetime:
        return v.moment(c, ctx.zone)

    values = {
        "id": row.get("id", required=True),
        "kind": row.get("type", lambda c: v.choice(c, INTERACTION_KINDS), required=True),
        "direction": row.get("direction", lambda c: v.choice(c, DIRECTIONS)),
        "manager_id": row.get("manager_id", required=True),
        "client_id": row.get("client_id"),
        "client_name": row.get("client") or "",
        "contact": row.get("contact") or "",
        "planned_at": row.get("planned_at", at),
        "done_at": row.get("done_at", at),
        "duration_s": row.get("duration_s", lambda c: v.integer(c, minimum=0)),
        "status": row.get("status", lambda c: v.choice(c, STATUSES), required=True),
        "next_at": row.get("next_at", at),
        "subject": row.get("subject") or "",
    }
    _reference(row, ctx, "manager_id", values["manager_id"], "employees", "manager")
    if row.ok and values["planned_at"] is None and values["done_at"] is None:
        row.problem("planned_at", "", "neither planned_at nor done_at is given")
    return values


def document_row(row: Row, ctx: Context) -> dict[str, Any]:
    values = {
        "id": row.get("id", required=True),
        "kind": row.get("type") or "",
        "number": row.get("number") or "",
        "doc_date": row.get("date", v.day, required=True),
        "client_id": row.get("client_id"),
        "client_name": row.get("client") or "",
        "manager_id": row.get("manager_id", required=True),
        "amount": row.get("amount", v.money),
        "original_received": row.get("original_received", v.flag) or False,
        "received_on": row.get("received_on", v.day),
    }
    if values["received_on"] is not None and not row.cells.get("original_received"):
        values["original_received"] = True
    _reference(row, ctx, "manager_id", values["manager_id"], "employees", "manager")
    return values


_CHANNEL_EXT = re.compile(r"^[A-Za-z0-9_]+/(?:[^@/-]*@)?([0-9]{2,6})(?:[-@;]|$)")


def _channel_ext(channel: str) -> str:
    found = _CHANNEL_EXT.match(channel)
    return found.group(1) if found else ""


def pbx_row(row: Row, ctx: Context) -> dict[str, Any]:
    def at(c: v.Cell) -> datetime:
        return v.moment(c, ctx.zone)

    src, dst = row.get("src") or "", row.get("dst") or ""
    channel, dstchannel = row.get("channel") or "", row.get("dstchannel") or ""
    values: dict[str, Any] = {
        "started_at": row.get("start", at, required=True),
        "answered_at": row.get("answer", at),
        "ended_at": row.get("end", at),
        "duration_s": row.get("duration", lambda c: v.integer(c, minimum=0), required=True),
        "billsec": row.get("billsec", lambda c: v.integer(c, minimum=0), required=True),
        "disposition": row.get("disposition", lambda c: v.choice(c, {d.lower(): d for d in DISPOSITIONS}),
                               required=True),
        "src": src, "dst": dst, "clid": row.get("clid") or "", "channel": channel, "dstchannel": dstchannel,
    }  # fmt: skip
    caller = ctx.extensions.get(src) or ctx.extensions.get(_channel_ext(channel))
    callee = ctx.extensions.get(dst) or ctx.extensions.get(_channel_ext(dstchannel))
    if caller and callee:
        values["direction"], values["employee_id"] = "internal", callee
    elif callee:
        values["direction"], values["employee_id"] = "in", callee
    elif caller:
        values["direction"], values["employee_id"] = "out", caller
    else:
        values["direction"], values["employee_id"] = "external", None
    uniqueid = row.get("uniqueid")
    if uniqueid:
        sequence = row.get("sequence")
        values["id"] = f"{uniqueid}#{sequence}" if sequence else uniqueid
    else:  # the 16-column shape has no id: a stable digest of the record stands in
        raw = "\x1f".join(v.text(row.cells.get(name)) for name in CDR_SHAPES[16])
        values["id"] = "cdr-" + hashlib.sha1(raw.encode()).hexdigest()[:32]
    return values


@dataclass(frozen=True)
class EntitySpec:
    table: Table
    build: Callable[[Row, Context], dict[str, Any]]


SPECS: dict[str, EntitySpec] = {
    "employees": EntitySpec(Employee.__table__, employee_row),  # type: ignore[arg-type]
    "contracts": EntitySpec(Contract.__table__, contract_row),  # type: ignore[arg-type]
    "payments": EntitySpec(Payment.__table__, payment_row),  # type: ignore[arg-type]
    "interactions": EntitySpec(Interaction.__table__, interaction_row),  # type: ignore[arg-type]
    "documents": EntitySpec(Document.__table__, document_row),  # type: ignore[arg-type]
    "pbx": EntitySpec(PbxCall.__table__, pbx_row),  # type: ignore[arg-type]
}
FULL_ENTITIES = tuple(SPECS)


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


# Columns whose empty value in a file keeps what the database has: a Telegram account linked through
# an invitation must survive the next employees.csv without a telegram_id column.
KEEP_WHEN_EMPTY = {"employees": ("telegram_id",)}


async def _upsert(
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
            if full[column] is None and old is not None:
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


async def _known_ids(conn: AsyncConnection, table: Table) -> set[str]:
    return set((await conn.execute(select(table.c.id))).scalars())


def _map_header(source: Source, header: list[v.Cell], problems: list[Problem]) -> dict[int, str] | None:
    known = header_map(source.entity)
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header):
        column = known.get(normalize(v.text(cell)))
        if column is not None and column not in mapping.values():
            mapping[index] = column
    required = _REQUIRED[source.entity]
    missing = [c for c in required if c not in mapping.values()]
    for column in missing:
        problems.append(Problem(source.label, 1, column, "", "required column is missing from the header"))
    return None if missing else mapping


_REQUIRED = {
    "employees": ("id", "name", "role"),
    "contracts": ("id", "client_id", "client", "manager_id", "start", "monthly_fee"),
    "payments": ("id", "contract_id", "date", "amount"),
    "interactions": ("id", "type", "manager_id", "status"),
    "documents": ("id", "date", "manager_id"),
}


def _pbx_rows(source: Source, rows: Iterator[tuple[int, list[v.Cell]]], problems: list[Problem]
              ) -> Iterator[tuple[int, dict[str, v.Cell]]]:  # fmt: skip
    for line, cells in rows:
        shape = CDR_SHAPES.get(len(cells))
        if shape is None:
            problems.append(Problem(source.label, line, "(record)", f"{len(cells)} fields",
                                    "not an Asterisk CDR record (16 to 21 fields)"))  # fmt: skip
            continue
        yield line, dict(zip(shape, cells, strict=True))


def _table_rows(source: Source, rows: Iterator[tuple[int, list[v.Cell]]], problems: list[Problem]
                ) -> Iterator[tuple[int, dict[str, v.Cell]]]:  # fmt: skip
    mapping: dict[int, str] | None = None
    for line, cells in rows:
        if mapping is None:
            mapping = _map_header(source, cells, problems)
            if mapping is None:
                return
            continue
        yield line, {name: cells[i] if i < len(cells) else None for i, name in mapping.items()}


SEEN = Table(  # a temporary table per import: duplicate ids are found without holding every id in memory
    "kpibot_import_seen",
    MetaData(),
    Column("entity", String(16), primary_key=True),
    Column("id", String(200), primary_key=True),
)


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
        """Record the ids; a row whose id came earlier in the import gets a problem."""
        first: dict[str, Row] = {}
        for row_id, row in pending:
            if row_id in first:
                row.problem("id", row_id, "duplicate id: this id appears earlier in the import")
            else:
                first[row_id] = row
        ids = list(first)
        driver = (await self.conn.get_raw_connection()).driver_connection  # aiosqlite or asyncpg, directly
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
        for row_id in repeated:
            first[row_id].problem("id", row_id, "duplicate id: this id appears earlier in the import")

    async def absent(self, entity: str, table: Table) -> list[str]:
        """Ids in ``table`` that this import did not read."""
        seen = select(SEEN.c.id).where(SEEN.c.entity == entity)
        rows = await self.conn.execute(select(table.c.id).where(table.c.id.not_in(seen)).order_by(table.c.id))
        return list(rows.scalars())


async def _import_source(
    conn: AsyncConnection,
    source: Source,
    ctx: Context,
    seen: SeenIds,
    counts: Counts,
    problems: list[Problem],
    progress: Progress | None,
) -> None:
    spec = SPECS[source.entity]
    batch: list[dict[str, Any]] = []
    pending: list[tuple[str, Row]] = []
    raw_rows = source.rows(progress.update if progress else None)
    reader = _pbx_rows if source.entity == "pbx" else _table_rows
    try:
        for line, cells in reader(source, raw_rows, problems):
            row = Row(source.label, line, cells, problems)
            values = spec.build(row, ctx)
            row_id = values.get("id")
            if row_id is not None:
                pending.append((row_id, row))
                if source.entity in ctx.known:
                    ctx.known[source.entity].add(row_id)
            if not problems:
                batch.append(values)
            if len(pending) >= BATCH:
                await seen.check(source.entity, pending)
                pending = []
                if not problems:  # keep reading to report every problem, but write nothing more
                    await _flush(conn, source.entity, batch, ctx, counts)
                batch = []
    except SourceError as error:
        problems.append(Problem(source.label, error.line, "(file)", "", error.reason))
    if pending:
        await seen.check(source.entity, pending)
    if not problems:
        await _flush(conn, source.entity, batch, ctx, counts)


async def _flush(conn: AsyncConnection, entity: str, batch: list[dict[str, Any]], ctx: Context, counts: Counts) -> None:
    if entity == "contracts":
        clients = {row["client_id"]: ctx.clients[row["client_id"]] for row in batch}
        await _upsert(conn, Client.__table__, [{"id": k, "name": n} for k, n in clients.items()],  # type: ignore[arg-type]
                      Counts())  # fmt: skip
    await _upsert(conn, SPECS[entity].table, batch, counts, KEEP_WHEN_EMPTY.get(entity, ()))


async def _remove_absent(
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


async def import_paths(
    pool: SessionPool,
    paths: Iterable[Path],
    *,
    zone: ZoneInfo,
    now: datetime,
    full: Iterable[str] = (),
    progress: Callable[[Source], Progress | None] | None = None,
    reread: bool = False,
) -> ImportReport:
    """Import files and folders in one transaction; raise :class:`ImportFailed` on any problem.

    ``now`` (UTC, naive) is recorded as the time the 1C data was refreshed. A file byte-identical to
    its entity's last imported file is not read again (unless ``reread`` or ``--full``).
    """
    full = tuple(dict.fromkeys(full))
    sources, file_problems = discover(list(paths))
    if file_problems:
        raise ImportFailed(file_problems)
    if not sources:
        raise ImportFailed(["no export files found (employees.csv, contracts.csv, payments.csv, ...)"])
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
        ctx = Context(zone=zone)
        for entity in ("employees", "contracts"):
            ctx.known[entity] = await _known_ids(conn, SPECS[entity].table)
        linked = await conn.execute(select(Employee.telegram_id, Employee.id).where(Employee.telegram_id.is_not(None)))
        ctx.telegram_ids = {telegram_id: employee for telegram_id, employee in linked}
        if conn.dialect.name == "postgresql":
            # the tables fill up during this transaction: a generic plan cached for the prepared
            # "id IN (…)" lookups while a table was empty would scan it for every later batch
            await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        seen = SeenIds(conn)
        await seen.start()
        per_entity = {e: sum(1 for s in sources if s.entity == e) for e in given}
        digests: dict[str, str] = {}
        skipped: list[str] = []
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
                await _import_source(conn, source, ctx, seen, counts[source.entity], problems, bar)
            finally:
                if bar is not None:
                    bar.close()
        if not problems:
            for entity in reversed(ENTITIES):
                if entity in full:
                    await _remove_absent(conn, entity, seen, counts[entity], problems)
                    if problems:
                        break
        if problems:
            await session.rollback()
            order = {source.label: n for n, source in enumerate(sources)}  # file by file, line by line
            problems.sort(key=lambda p: (order.get(p.label, len(order)), p.line))
            raise ImportFailed([str(p) for p in problems])
        await seen.finish()
        await _remember_files(conn, sources, digests, counts, skipped, now)
        files = [s.label for s in sources]
        summary = {entity: c.as_dict() for entity, c in counts.items()}
        session.add(ImportRun(finished_at=now, files=json.dumps(files, ensure_ascii=False),
                              summary=json.dumps(summary)))  # fmt: skip
    return ImportReport(counts=counts, files=files, finished_at=now, skipped=skipped)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def _remember_files(
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
