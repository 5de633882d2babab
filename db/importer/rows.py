"""Rows: cells by canonical column, one builder per entity that validates each value and returns the row to
write, and the readers that turn a source's raw rows into cells by column."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from bot.clock import office_wall_time
from db.importer import values as v
from db.importer.report import Problem
from db.importer.sources import Source
from db.importer.vocabulary import (
    CDR_KEY_PREFIX,
    CDR_SHAPES,
    DIRECTIONS,
    DISPOSITIONS,
    INTERACTION_KINDS,
    REQUIRED,
    ROLE_WORDS,
    STATUSES,
    header_map,
    normalize,
)
from db.models import (
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
        "terms_from": row.get("terms_from", v.day),  # fee/manager in force from this day's month
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


def cdr_key(cells: dict[str, v.Cell]) -> str:
    """The key of one CDR record: a digest of every field it has, in its shape's order.

    Asterisk writes one record per leg, and the legs of a ring group (``Dial(SIP/101&SIP/102)``),
    a queue (``Local/…@from-queue``) or a transfer share ``uniqueid`` (and ``linkedid``), so no
    field is a key by itself; the whole record is unique per leg and the same on every re-import,
    and a record repeated in a rotated copy (``Master_20261127.csv``) has the same key, so it is one
    row. For the 16-field shape this is the key kpibot always used.
    """
    shape = CDR_SHAPES[len(cells)] if len(cells) in CDR_SHAPES else tuple(cells)
    raw = "\x1f".join(v.text(cells.get(name)) for name in shape)
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
    values["id"] = cdr_key(row.cells)
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


def map_header(source: Source, header: list[v.Cell], problems: list[Problem]) -> dict[int, str] | None:
    known = header_map(source.entity)
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header):
        column = known.get(normalize(v.text(cell)))
        if column is not None and column not in mapping.values():
            mapping[index] = column
    required = REQUIRED[source.entity]
    missing = [c for c in required if c not in mapping.values()]
    for column in missing:
        problems.append(Problem(source.label, 1, column, "", "required column is missing from the header"))
    return None if missing else mapping


def pbx_rows(source: Source, rows: Iterator[tuple[int, list[v.Cell]]], problems: list[Problem]
              ) -> Iterator[tuple[int, dict[str, v.Cell]]]:  # fmt: skip
    for line, cells in rows:
        shape = CDR_SHAPES.get(len(cells))
        if shape is None:
            problems.append(Problem(source.label, line, "(record)", f"{len(cells)} fields",
                                    "not an Asterisk CDR record (16 to 21 fields)"))  # fmt: skip
            continue
        yield line, dict(zip(shape, cells, strict=True))


def table_rows(source: Source, rows: Iterator[tuple[int, list[v.Cell]]], problems: list[Problem]
                ) -> Iterator[tuple[int, dict[str, v.Cell]]]:  # fmt: skip
    mapping: dict[int, str] | None = None
    for line, cells in rows:
        if mapping is None:
            mapping = map_header(source, cells, problems)
            if mapping is None:
                return
            continue
        yield line, {name: cells[i] if i < len(cells) else None for i, name in mapping.items()}
