"""Rows: cells by canonical column, one builder per entity that validates each value and returns the row to
write, and the readers that turn a source's raw rows into cells by column."""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from itertools import islice
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table

from bot.clock import office_wall_time
from db.importer import values as v
from db.importer.report import Problem, escape
from db.importer.sources import HEADER_SEARCH_ROWS, Source, encoding_name
from db.importer.vocabulary import (
    CDR_KEY_PREFIX,
    CDR_SHAPES,
    DIRECTIONS,
    DISPOSITIONS,
    HEADERS,
    INTERACTION_KINDS,
    REQUIRED,
    ROLE_WORDS,
    STATUSES,
    header_map,
    normalize,
)
from db.models import (
    Client,
    Contract,
    Document,
    Employee,
    Interaction,
    Payment,
    PbxCall,
)

# --------------------------------------------------------------------------------------------------
# Reading one row
# --------------------------------------------------------------------------------------------------

_EMPTY_1C_DATE = re.compile(r"(0?1\.0?1\.0001|0001-01-01)([ T]0?0:00(:00)?)?")


Memo = dict[tuple[str, Any], dict[str, Any]]  # per (column, parser): a cell's text → what it parsed to
_MEMO_LIMIT = 1 << 15  # entries per column; cleared when full, so memory stays flat


class Row:
    """The cells of one row by canonical column, collecting a problem for every bad value.

    ``memo`` (one per source, shared by its rows) remembers what each column's parser made of a
    cell's text: exports repeat the same dates, amounts, months, durations and words on thousands of
    rows, and a cell read once is not parsed again. Only values that parsed are kept, so a bad or
    empty cell is checked (and reported) on every row it is on."""

    __slots__ = ("bad", "cells", "key", "label", "line", "memo", "ok", "problems")

    def __init__(
        self, label: str, line: int, cells: dict[str, v.Cell], problems: list[Problem], memo: Memo | None = None
    ) -> None:
        self.label = label
        self.line = line
        self.cells = cells
        self.problems = problems
        self.ok = True
        self.bad: set[str] = set()  # the columns with a problem
        self.key: str | None = None  # a PBX record's cdr_key, when the reader computed it already
        self.memo = memo

    def problem(self, column: str, value: v.Cell, reason: str) -> None:
        self.ok = False
        self.bad.add(column)
        self.problems.append(Problem(self.label, self.line, column, v.text(value), reason))

    def get(self, column: str, parse: Callable[[v.Cell], Any] = v.text, *, required: bool = False) -> Any:
        cell = self.cells.get(column)
        seen: dict[str, Any] | None = None
        if type(cell) is str:
            if parse is v.text:  # the common case, without the general parser's checks
                cell = cell.strip()
                if cell:
                    return cell
            elif self.memo is not None:
                # one parser per column and source (a lambda made anew on each row has the same code)
                key = (column, getattr(parse, "__code__", parse))
                seen = self.memo.get(key)
                if seen is None:
                    seen = self.memo[key] = {}
                else:
                    found = seen.get(cell)
                    if found is not None:
                        return found
            raw = cell
            cell = cell.strip()
            if cell.startswith(("01.01.0001", "1.1.0001", "0001-01-01")) and _EMPTY_1C_DATE.fullmatch(cell):
                cell = ""  # how 1C writes an empty date
        if cell is None or cell == "":
            if required:
                self.problem(column, "", "required value is empty")
            return None
        try:
            value = parse(cell)
        except v.BadValue as error:
            self.problem(column, cell, str(error))
            return None
        if seen is not None and value is not None:
            if len(seen) >= _MEMO_LIMIT:
                seen.clear()
            seen[raw] = value
        return value


@dataclass
class Context:
    zone: ZoneInfo  # the office's: 1C's times are read in it, and the PBX's are converted to it
    known: dict[str, set[str]] = field(default_factory=dict)  # ids existing or imported, by entity
    extensions: dict[str, str] = field(default_factory=dict)  # phone_ext → employee id
    clients: dict[str, str] = field(default_factory=dict)  # client id → name, as imported now
    telegram_ids: dict[int, str] = field(default_factory=dict)  # telegram id → employee id
    pbx_zone: ZoneInfo | None = None  # the zone the PBX writes its times in (PBX_TIMEZONE); None: ``zone``


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
        "telegram_id": row.get("telegram_id", lambda c: v.integer(c, minimum=1, maximum=v.BIGINT_MAX)),
        "active": True if not v.text(row.cells.get("active")) else row.get("active", v.flag),
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
        "terms_from": row.get("terms_from", v.day),  # fee/manager in force from this day's month
    }
    client = row.get("client", required=True)
    if client is not None:
        fits(row, "client", client, Client.__table__.c.name)
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
        "amount": row.get("amount", v.signed_money, required=True),  # a refund is negative
        "period": paid_for.first_day() if paid_for else None,
    }
    _reference(row, ctx, "contract_id", values["contract_id"], "contracts", "contract")
    if values["amount"] == 0:
        row.problem("amount", row.cells.get("amount"), "a payment of zero (a refund is a negative amount)")
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


def cdr_key(cells: dict[str, v.Cell]) -> str:
    """The key of one CDR record: a digest of every field it has, in its shape's order.

    Asterisk writes one record per leg, and the legs of a ring group (``Dial(SIP/101&SIP/102)``),
    a queue (``Local/…@from-queue``) or a transfer share ``uniqueid`` (and ``linkedid``), so no
    field is a key by itself; the whole record is unique per leg and the same on every re-import,
    and a record repeated in a rotated copy (``Master_20261127.csv``) has the same key, so it is one
    row. For the 16-field shape this is the key kpibot always used.
    """
    shape = CDR_SHAPES[len(cells)] if len(cells) in CDR_SHAPES else tuple(cells)
    raw = "\x1f".join([c.strip() if type(c := cells.get(name)) is str else v.text(c) for name in shape])
    return CDR_KEY_PREFIX + hashlib.sha1(raw.encode()).hexdigest()[:32]


def pbx_row(row: Row, ctx: Context) -> dict[str, Any]:
    """One CDR record (one leg of a call). Times are read in the PBX's zone (``PBX_TIMEZONE``) and
    stored as the office's local time; the employee is found by extension in ``src``/``dst`` or in
    the channel names."""
    written_in = ctx.pbx_zone or ctx.zone

    def at(c: v.Cell) -> datetime:
        try:
            return office_wall_time(v.moment(c, written_in), written_in, ctx.zone)
        except OverflowError:  # 9999-12-31 23:00 UTC is past the calendar's end in Moscow
            raise v.BadValue("a date-time out of range after converting PBX_TIMEZONE to TIMEZONE") from None

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
        "uniqueid": (row.get("uniqueid") or "")[:150], "linkedid": (row.get("linkedid") or "")[:150],
        "lastapp": (row.get("lastapp") or "")[:80],
    }  # fmt: skip
    # A queue rings its agent through a Local channel pair: the second half (``Local/101@from-queue-…;2``)
    # is the PBX calling 101 on the caller's behalf, not 101 calling, so a Local channel names no caller.
    from_phone = "" if channel.lower().startswith("local/") else _channel_ext(channel)
    caller = ctx.extensions.get(src) or ctx.extensions.get(from_phone)
    callee = ctx.extensions.get(dst) or ctx.extensions.get(_channel_ext(dstchannel))
    if caller and callee:
        values["direction"], values["employee_id"] = "internal", callee
    elif callee:
        values["direction"], values["employee_id"] = "in", callee
    elif caller:
        values["direction"], values["employee_id"] = "out", caller
    else:
        values["direction"], values["employee_id"] = "external", None
    values["id"] = row.key or cdr_key(row.cells)
    return values


# --------------------------------------------------------------------------------------------------
# What both databases can hold
# --------------------------------------------------------------------------------------------------

_INT_RANGES = {"Integer": (-(2**31), 2**31 - 1), "BigInteger": (-(2**63), 2**63 - 1)}


def fits(row: Row, column: str, value: Any, target: ColumnElement[Any]) -> None:
    """Refuse a value the database column cannot hold, the same way on SQLite (which would store
    it) as on PostgreSQL (which would fail the whole transaction): text longer than the column's
    ``String`` length, a NUL character, a lone surrogate; a number beyond ``Integer``/``BigInteger``."""
    cell = row.cells.get(column, value)
    if isinstance(value, str):
        length = getattr(target.type, "length", None)
        if "\x00" in value:
            row.problem(column, cell, "contains a NUL character, which a database cannot store in text")
        elif length is not None and len(value) > length:
            row.problem(column, cell, f"too long: {len(value)} characters, at most {length}")
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                row.problem(column, cell, "not valid text (a lone surrogate)")
    elif isinstance(value, int) and not isinstance(value, bool):
        bounds = _INT_RANGES.get(type(target.type).__name__)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            row.problem(column, cell, f"too large (at most {bounds[1]})")


@dataclass(frozen=True)
class EntitySpec:
    """How an entity's rows are built and written. ``sources`` names, for a table column fed by a
    file column of another name, the file columns it comes from (default: the same name)."""

    table: Table
    build: Callable[[Row, Context], dict[str, Any]]
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def file_columns(self, column: str) -> tuple[str, ...]:
        return self.sources.get(column, (column,))

    def carried(self, file_columns: set[str]) -> set[str]:
        """The table columns a file with these (canonical) columns writes; the others are left as
        they are on existing rows (and take their defaults on new ones)."""
        return {
            c.name for c in self.table.columns
            if c.name == "id" or any(f in file_columns for f in self.file_columns(c.name))
        }  # fmt: skip

    def check(self, row: Row, values: dict[str, Any]) -> None:
        """Every value against what its column can hold (see :func:`fits`). A value that plainly
        fits (short ASCII-or-encodable text without NUL, an integer in range) is passed by a quick
        test; only a doubtful one goes through :func:`fits`, which names the problem."""
        limits = self._limits
        for name, value in values.items():
            if value is None:
                continue
            limit = limits.get(name)
            if limit is None:
                continue
            column, length, bounds, target = limit
            kind = type(value)
            if kind is str:
                if (
                    (length is None or len(value) <= length)
                    and "\x00" not in value
                    and (value.isascii() or _encodable(value))
                ):
                    continue
            elif kind is int:
                if bounds is None or bounds[0] <= value <= bounds[1]:
                    continue
            elif kind is not bool and isinstance(value, (str, int)):
                pass  # a subclass: the general check
            else:
                continue  # dates, times, booleans: the builders made them
            if column not in row.bad:
                fits(row, column, value, target)

    @cached_property
    def _limits(self) -> dict[str, tuple[str, int | None, tuple[int, int] | None, ColumnElement[Any]]]:
        """Per table column: the file column named in a problem, the text length, the integer range."""
        return {
            c.name: (self.file_columns(c.name)[0], getattr(c.type, "length", None),
                     _INT_RANGES.get(type(c.type).__name__), c)
            for c in self.table.columns
        }  # fmt: skip


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


SPECS: dict[str, EntitySpec] = {
    "employees": EntitySpec(Employee.__table__, employee_row),  # type: ignore[arg-type]
    "contracts": EntitySpec(Contract.__table__, contract_row),  # type: ignore[arg-type]
    "payments": EntitySpec(Payment.__table__, payment_row,  # type: ignore[arg-type]
                           {"paid_on": ("date",)}),
    "interactions": EntitySpec(Interaction.__table__, interaction_row,  # type: ignore[arg-type]
                               {"kind": ("type",), "client_name": ("client",)}),
    "documents": EntitySpec(Document.__table__, document_row,  # type: ignore[arg-type]
                            {"kind": ("type",), "doc_date": ("date",), "client_name": ("client",),
                             "original_received": ("original_received", "received_on")}),
    "pbx": EntitySpec(PbxCall.__table__, pbx_row),  # type: ignore[arg-type]
}  # fmt: skip


# --------------------------------------------------------------------------------------------------
# From raw rows to cells by column
# --------------------------------------------------------------------------------------------------

TOTALS_WORDS = ("итого", "всего", "total")


def _spelled(entity: str, column: str) -> str:
    aliases = HEADERS[entity].get(column, ())
    return f"{column} ({aliases[0].capitalize()})" if aliases else column


def pbx_rows(source: Source, rows: Iterator[tuple[int, list[v.Cell]]], problems: list[Problem]
              ) -> Iterator[tuple[int, dict[str, v.Cell]]]:  # fmt: skip
    for line, cells in rows:
        shape = CDR_SHAPES.get(len(cells))
        if shape is None:
            problems.append(Problem(source.label, line, "(record)", f"{len(cells)} fields",
                                    "not an Asterisk CDR record (16 to 21 fields)"))  # fmt: skip
            continue
        yield line, dict(zip(shape, cells, strict=True))


# data rows per chunk of a CSV file whose digest is remembered (``imported_chunks``, see Chunks)
CHUNK_ROWS = 200
_CELL, _RECORD = "\x1f", "\x1e"  # what joins a record's cells and a chunk's records for its digest


@dataclass(frozen=True)
class ChunkMark:
    """One chunk of an entity's last CSV file: its records as read, how many of them the import
    took as data rows (a totals row or a record refused is not one) and the digest of its cells."""

    records: int
    rows: int
    digest: str


class Chunks:
    """The data records of a CSV source cut into chunks of :data:`CHUNK_ROWS` consecutive records,
    each digested (BLAKE2b-128) over its cells as the CSV reader gives them, decoded — so not the
    bytes: quoting, line ends and the encoding do not count — together with the header's cells and
    ``shape`` (the separator, the time zones, the PBX extensions: see ``db.importer.run``).

    With the digests of the entity's last file (``stored``), a chunk whose digest is the stored
    one at the same position, and whose records were all data rows then, is **skipped**: none of
    its records is mapped to columns, built, hashed per row or looked up, and its rows count as
    present and unchanged (:attr:`skipped_rows`). Every other chunk's records pass on, with their
    true line numbers. A record inserted or removed shifts every later chunk: they all pass on.

    A skipped chunk's ids are not staged, so what the import does with ids seen (a repeated id, a
    PBX record read twice) is checked here: each record's id (a table's id cell trimmed, a PBX
    record's trimmed cells — what its key is made of) is kept as a 64-bit hash, and :meth:`overlap`
    says whether an id passed on is also one skipped, or a PBX record repeats among the skipped —
    then only a whole read is right (``db.importer.run`` does one). :attr:`marks` is every chunk of
    this file, to remember.
    """

    def __init__(self, shape: Callable[[], str], stored: list[ChunkMark] | None,
                 counted: Callable[[], int] | None = None, *, content_keyed: bool = False) -> None:  # fmt: skip
        self.shape = shape
        self.stored = stored
        self.counted = counted  # data rows taken so far downstream (None: every record is one)
        self.content_keyed = content_keyed
        self.marks: list[ChunkMark] = []
        self.skipped = 0  # chunks skipped
        self.skipped_rows = 0
        self.first_line: int | None = None  # the line of the first data record, skipped or not
        self.passed_keys = array("q")
        self.skipped_keys = array("q")
        self.unkeyed = False  # a separator inside a cell: digests would be ambiguous, nothing is skipped

    @staticmethod
    def _keys(rows: list[list[str]], id_index: int | None) -> Iterator[int]:
        """The hashes of the records' ids, trimmed as the row builders trim them (a PBX record's: of
        its trimmed cells joined, what :func:`cdr_key` digests); iterated without a Python frame
        per record (a CSV file's cells are text)."""
        if id_index is None:
            return map(hash, map(_CELL.join, map(partial(map, str.strip), rows)))
        if min(map(len, rows)) > id_index:
            return map(hash, map(str.strip, map(itemgetter(id_index), rows)))
        return (hash(cells[id_index].strip() if id_index < len(cells) else "") for cells in rows)

    def __call__(self, header: list[v.Cell], id_index: int | None,
                 records: Iterator[tuple[int, list[v.Cell]]]) -> Iterator[tuple[int, list[v.Cell]]]:  # fmt: skip
        """The records of ``records`` (the data records after ``header``) that are not skipped."""
        head = [str(c) for c in header]
        text = _CELL.join(head)
        if _RECORD in text or text.count(_CELL) != max(len(head) - 1, 0):
            self.unkeyed = True
        stored = self.stored if self.stored is not None and not self.unkeyed else None
        size = CHUNK_ROWS
        base: Any = None
        while buffer := list(islice(records, size)):
            if base is None:  # the shape once the file is being read: a Master.csv's separator is known only then
                base = hashlib.blake2b(f"{self.shape()}{_RECORD}{len(head)}{_RECORD}{text}{_RECORD}".encode(
                    "utf-8", "surrogatepass"), digest_size=16)  # fmt: skip
            yield from self._chunk(base, buffer, stored, id_index)
            if len(buffer) < size:
                break

    def _chunk(self, base: Any, buffer: list[tuple[int, list[v.Cell]]], stored: list[ChunkMark] | None,
               id_index: int | None) -> Iterator[tuple[int, list[v.Cell]]]:  # fmt: skip
        if self.first_line is None:
            self.first_line = buffer[0][0]
        rows: list[list[str]] = list(map(itemgetter(1), buffer))  # a CSV file's cells are text
        text = _RECORD.join(map(_CELL.join, rows))
        found = ""  # no digest: a cell holds a joining character, so the text could be another chunk's too
        if (
            not self.unkeyed
            and text.count(_RECORD) == len(rows) - 1
            and (text.count(_CELL) == sum(map(len, rows)) - len(rows))
        ):
            digest = base.copy()
            digest.update(text.encode("utf-8", "surrogatepass"))
            found = digest.hexdigest()
        index = len(self.marks)
        if found and stored is not None and index < len(stored):
            last = stored[index]
            if last.digest == found and last.records == last.rows == len(rows):
                self.marks.append(last)
                self.skipped += 1
                self.skipped_rows += last.rows
                self.skipped_keys.extend(self._keys(rows, id_index))
                return
        before = self.counted() if self.counted is not None else 0
        if stored is not None:
            self.passed_keys.extend(self._keys(rows, id_index))
        yield from buffer
        taken = self.counted() - before if self.counted is not None else len(rows)
        self.marks.append(ChunkMark(len(rows), taken, found))

    def overlap(self) -> bool:
        """Whether an id passed on is one a skipped chunk holds too (a repeated id, or an id that
        moved: only a whole read tells), or, for PBX records, a record repeats among the skipped
        (the whole read counts it once). Hashes, so a collision only costs a whole read."""
        if not self.skipped:
            return False
        if self.content_keyed:
            skipped = set(self.skipped_keys)
            if len(skipped) != len(self.skipped_keys):
                return True
            return not skipped.isdisjoint(self.passed_keys)
        if not self.passed_keys:
            return False
        small, large = sorted((self.passed_keys, self.skipped_keys), key=len)
        return not set(small).isdisjoint(large)


class TableReader:
    """The rows of a table with a header: finds the header, refuses an ambiguous one, skips title
    lines above it and totals rows, and yields each data row's cells by canonical column.

    The header is the first row, among the first :data:`HEADER_SEARCH_ROWS`, that names every
    required column (1C puts a report's title and period above it). ``columns`` is what the header
    carries once it is found; ``rows`` counts the data rows yielded; ``notes`` says what was skipped.
    """

    def __init__(self, source: Source, problems: list[Problem], notes: list[str]) -> None:
        self.source = source
        self.problems = problems
        self.notes = notes
        self.columns: set[str] = set()
        self.rows = 0
        self.known = header_map(source.entity)
        self.required = REQUIRED[source.entity]
        self.chunks: Chunks | None = None  # set: unchanged chunks of data records are skipped

    def _map(self, cells: list[v.Cell]) -> list[tuple[int, str]]:
        found = []
        for index, cell in enumerate(cells):
            column = self.known.get(normalize(v.text(cell)))
            if column is not None:
                found.append((index, column))
        return found

    def _score(self, found: list[tuple[int, str]]) -> int:
        names = {column for _, column in found}
        return sum(1 for column in self.required if column in names)

    def _no_header(self, searched: list[tuple[int, list[v.Cell]]]) -> None:
        label = self.source.label
        if not searched:
            what = "sheet" if self.source.path is not None and self.source.path.suffix.lower() == ".xlsx" else "file"
            self.problems.append(Problem(label, 1, "(file)", "", f"the {what} is empty: no header row, no data"))
            return
        scores = [(self._score(self._map(cells)), line, cells) for line, cells in searched]
        best, line, cells = max(scores, key=lambda s: (s[0], -s[1]))
        if best == 0:
            first_line, first = searched[0]
            shown = ";".join(v.text(c) for c in first)
            wanted = ", ".join(_spelled(self.source.entity, c) for c in self.required)
            where = f"lines {searched[0][0]}–{searched[-1][0]}" if len(searched) > 1 else f"line {first_line}"
            read_as = ""
            if self.source.encoding:
                read_as = (f"; the file was read as {encoding_name(self.source.encoding)}: if the text shown is "
                           "garbled, save it from Excel or 1C as UTF-8 or Windows-1251")  # fmt: skip
            self.problems.append(Problem(label, first_line, "(header)", shown,
                                         f"no header row found in {where}: none names {wanted}{read_as}"))  # fmt: skip
            return
        names = {column for _, column in self._map(cells)}
        for column in self.required:
            if column not in names:
                self.problems.append(Problem(label, line, column, "", "required column is missing from the header"))

    def _header(self, line: int, cells: list[v.Cell], found: list[tuple[int, str]]) -> dict[int, str] | None:
        mapping: dict[int, str] = {}
        first: dict[str, int] = {}
        ambiguous = False
        for index, column in found:
            if column in first:
                ambiguous = True
                shown = f"{v.text(cells[first[column]])} | {v.text(cells[index])}"
                self.problems.append(Problem(
                    self.source.label, line, column, shown,
                    f"header columns {first[column] + 1} and {index + 1} both mean {column}: keep one of them",
                ))  # fmt: skip
            else:
                first[column] = index
                mapping[index] = column
        return None if ambiguous else mapping

    def _totals(self, cells: dict[str, v.Cell], raw: list[v.Cell]) -> bool:
        """A totals row: its first filled cell starts with Итого/Всего, and no other id column is filled."""
        lead = raw[0] if raw else None
        if type(lead) is str and (lead := lead.strip()) and not lead.lower().startswith(TOTALS_WORDS):
            return False  # the usual row: a first cell filled with something else
        first = next((v.text(c) for c in raw if v.text(c)), "")
        if not first.lower().startswith(TOTALS_WORDS):
            return False
        return all(v.text(cells.get(c)) in ("", first) for c in cells if c == "id" or c.endswith("_id"))

    def __call__(self, rows: Iterator[tuple[int, list[v.Cell]]]) -> Iterator[tuple[int, dict[str, v.Cell]]]:
        searched: list[tuple[int, list[v.Cell]]] = []
        mapping: dict[int, str] | None = None
        header_line = width = 0
        for line, cells in rows:
            if len(searched) < HEADER_SEARCH_ROWS:
                found = self._map(cells)
                if self._score(found) == len(self.required):
                    mapping = self._header(line, cells, found)
                    if mapping is None:
                        return
                    header_line = line
                    width = len(cells)
                    break
                searched.append((line, cells))
                continue
            break
        if mapping is None:
            self._no_header(searched)
            return
        if searched:
            title = v.text(next((c for c in searched[0][1] if v.text(c)), ""))
            first, last = searched[0][0], header_line - 1
            lines = (
                f"строки {first}–{last} над заголовком (строка {header_line}) пропущены"
                if last > first
                else f"строка {first} над заголовком (строка {header_line}) пропущена"
            )
            self.notes.append(escape(f"{self.source.label}: {lines}: {title[:60]}"))
        self.columns = set(mapping.values())
        csv_file = self.source.path is not None and self.source.path.suffix.lower() != ".xlsx"
        names = list(mapping.values())
        indices = list(mapping)
        reach = max(indices) + 1
        if self.chunks is not None:
            ids = [i for i, name in mapping.items() if name == "id"]
            rows = self.chunks(cells, ids[0] if ids else None, rows)
        for line, cells in rows:
            if len(cells) >= reach:  # the usual row: every mapped cell is there
                by_column = dict(zip(names, [cells[i] for i in indices], strict=True))
            else:
                by_column = {name: cells[i] if i < len(cells) else None for i, name in mapping.items()}
            if self._totals(by_column, cells):
                self.notes.append(escape(f"{self.source.label}:{line}: totals row skipped: "
                                         f"{' '.join(v.text(c) for c in cells if v.text(c))[:60]}"))  # fmt: skip
                continue
            if csv_file and len(cells) > width and any(v.text(c) for c in cells[width:]):
                self.problems.append(Problem(
                    self.source.label, line, "(record)", f"{len(cells)} values",
                    f"more values than the header's {width} columns (a separator inside an unquoted value?)",
                ))  # fmt: skip
                continue
            self.rows += 1
            yield line, by_column
