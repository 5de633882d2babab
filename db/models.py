"""SQLAlchemy models. Portable: every type and constraint works on SQLite and PostgreSQL.

Money is an integer number of kopecks (BigInteger), never a float. Times that come from 1C and the
PBX are local wall-clock times in ``TIMEZONE`` stored without a zone; times kpibot makes itself
(imports, sending) are UTC, also stored without a zone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


ROLES = ("manager", "supervisor", "admin")


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)  # as long as 1C holds it: screens fit it to Telegram's limits
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(200), default="")
    phone_ext: Mapped[str | None] = mapped_column(String(32), index=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable_since: Mapped[datetime | None] = mapped_column(DateTime)  # blocked the bot (403), UTC
    digest_time: Mapped[str | None] = mapped_column(String(5))  # personal HH:MM; None: DIGEST_TIME
    paused_until: Mapped[date | None] = mapped_column(Date)  # no digests up to and including this day


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)  # 1C's full names run to hundreds of characters


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(100), default="")
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    manager_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), index=True)
    start: Mapped[date] = mapped_column(Date, index=True)  # the first month with data: min(start)
    months: Mapped[int | None] = mapped_column(Integer)
    monthly_fee: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None] = mapped_column(Date)
    terms_from: Mapped[date | None] = mapped_column(Date)  # the export's "effective from" of fee/manager


class ContractTermsRow(Base):
    """A contract's fee and manager from ``from_month`` on: the history kept after each import, so a
    change applies from the month it arrived in (or the export's ``terms_from``) and finished months
    keep the terms they had. No foreign keys: the history outlives a contract removed by ``--full``
    (``refresh_contract_terms`` drops it then) and a manager who left."""

    __tablename__ = "contract_terms"
    __table_args__ = (
        UniqueConstraint("contract_id", "from_month"),
        Index("ix_contract_terms_manager_id", "manager_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    from_month: Mapped[date] = mapped_column(Date)  # the first day of the month the terms apply from
    monthly_fee: Mapped[int] = mapped_column(BigInteger)
    manager_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # UTC: the import that brought them


class MonthClose(Base):
    """Closing and reopening a month, every action kept: the latest row of a month is its state."""

    __tablename__ = "month_closes"
    __table_args__ = (Index("ix_month_closes_month", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    action: Mapped[str] = mapped_column(String(8))  # close | reopen
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    by: Mapped[str] = mapped_column(String(200))  # "morning job", "kpibot close-month", ...


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date, index=True)  # the ledger's "paid since it was kept" check
    amount: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[date | None] = mapped_column(Date)  # the first day of the month paid for


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_manager_planned", "manager_id", "planned_at"),
        Index("ix_interactions_planned_at", "planned_at"),
        Index("ix_interactions_done_at", "done_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # call | meeting
    direction: Mapped[str | None] = mapped_column(String(8))  # in | out
    manager_id: Mapped[str] = mapped_column(ForeignKey("employees.id"))
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    client_name: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(Text, default="")
    planned_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # planned | done | cancelled
    next_at: Mapped[datetime | None] = mapped_column(DateTime)
    subject: Mapped[str] = mapped_column(String(500), default="")


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), default="")
    number: Mapped[str] = mapped_column(String(100), default="")
    doc_date: Mapped[date] = mapped_column(Date)
    client_id: Mapped[str | None] = mapped_column(String(64))
    client_name: Mapped[str] = mapped_column(Text, default="")
    manager_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), index=True)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    original_received: Mapped[bool] = mapped_column(Boolean, default=False)
    received_on: Mapped[date | None] = mapped_column(Date)


class PbxCall(Base):
    __tablename__ = "pbx_calls"
    __table_args__ = (
        Index("ix_pbx_calls_employee_started", "employee_id", "started_at"),
        Index("ix_pbx_calls_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_s: Mapped[int] = mapped_column(Integer)
    billsec: Mapped[int] = mapped_column(Integer)
    disposition: Mapped[str] = mapped_column(String(32))
    src: Mapped[str] = mapped_column(String(80), default="")
    dst: Mapped[str] = mapped_column(String(80), default="")
    clid: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(200), default="")
    dstchannel: Mapped[str] = mapped_column(String(200), default="")
    direction: Mapped[str] = mapped_column(String(8))  # in | out | internal | external
    employee_id: Mapped[str | None] = mapped_column(ForeignKey("employees.id"))
    # The legs of one call share ``uniqueid`` (ring groups, transfers) or ``linkedid`` (queues'
    # Local channels, newer shapes); ``lastapp`` tells a person (Dial, Queue with an agent) from an
    # application (VoiceMail, Playback, an IVR). Empty when the shape does not carry them.
    uniqueid: Mapped[str] = mapped_column(String(150), default="", server_default="")
    linkedid: Mapped[str] = mapped_column(String(150), default="", server_default="")
    lastapp: Mapped[str] = mapped_column(String(80), default="", server_default="")


class Invite(Base):
    __tablename__ = "invites"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_by: Mapped[int | None] = mapped_column(BigInteger)


class OutboxMessage(Base):
    """One message to one employee: a digest, a statement or a notice. Unique per kind and day."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("employee_id", "kind", "day"),
        Index("ix_outbox_status_not_before", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"))
    kind: Mapped[str] = mapped_column(String(80))  # digest | statement | stale | blocked:<employee id>
    day: Mapped[date] = mapped_column(Date)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    markup: Mapped[str | None] = mapped_column(Text)  # reply_markup JSON
    # pending | claimed (held by a sender, waiting for its slot) | sending (a request in flight) | sent | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)  # lease of a claimed/sending row, UTC
    claimed_by: Mapped[str | None] = mapped_column(String(80), index=True)  # host:pid of the sender holding it
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(500))
    document_name: Mapped[str | None] = mapped_column(String(200))  # a file sent with the text as its caption
    document: Mapped[bytes | None] = mapped_column(LargeBinary)  # the file's bytes (an XLSX of some 10 KB)


class Lease(Base):
    """A role only one process may hold at a time: ``outbox`` (the one sender, which therefore owns
    the whole bot's send rate), ``polling`` (the one getUpdates loop), ``morning`` (one enqueue run).
    The holder renews ``expires_at`` every few seconds; a dead holder's lease lapses and another
    process takes it. ``paused_until``: a flood-control pause that outlives a change of holder."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC
    paused_until: Mapped[datetime | None] = mapped_column(DateTime)  # UTC


class DailyFigure(Base):
    """A manager's collection as the morning digest saw it: the change since the previous digest and
    "whose percent fell" are read from here, never recomputed from history."""

    __tablename__ = "kpi_daily"
    __table_args__ = (UniqueConstraint("manager_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manager_id: Mapped[str] = mapped_column(ForeignKey("employees.id"))
    day: Mapped[date] = mapped_column(Date)
    base: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger)
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))


class FindingRow(Base):
    """A discipline finding (``bot.rules.Finding``) as reported in the digest of ``day``."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("manager_id", "day", "rule", "subject_id"),
        Index("ix_findings_day_manager", "day", "manager_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manager_id: Mapped[str] = mapped_column(ForeignKey("employees.id"))
    day: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(DateTime)  # local time of what happened
    client: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(8), default="1c")
    escalate: Mapped[bool] = mapped_column(Boolean, default=False)


class FindingRun(Base):
    """The days whose findings were computed (a day with no findings is still a computed day)."""

    __tablename__ = "finding_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    # what the run was computed with, so an import can recompute it without the settings (local times)
    period_start: Mapped[datetime | None] = mapped_column(DateTime)
    as_of: Mapped[datetime | None] = mapped_column(DateTime)
    limits: Mapped[str | None] = mapped_column(Text)  # bot.rules.Thresholds as JSON


class LedgerMonthRow(Base):
    """One contract month of the collection ledger (``bot.rules.ledger_months``): what the rules
    allocate, kept by ``db.queries.ledger`` for the contracts each import touched, as of
    ``LedgerState.as_of``. Kopecks. No foreign key: a contract removed by ``--full`` takes its rows
    with it in the same import."""

    __tablename__ = "ledger_months"

    contract_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    base: Mapped[int] = mapped_column(BigInteger)
    allocated: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger)
    unpaid: Mapped[int] = mapped_column(BigInteger)
    written: Mapped[int] = mapped_column(Integer)  # the ledger write (``LedgerState.writes``) that wrote it


class LedgerContractRow(Base):
    """A contract's ledger beyond its months: the credit (prepaid beyond the horizon, or overpaid; may
    be negative after refunds), its client (renewals recompute a client's contracts together) and how
    many payments it counts (a removed payment shows as a different count)."""

    __tablename__ = "ledger_contracts"
    __table_args__ = (  # a team's debtors: only the owing contracts' entries are read
        Index("ix_ledger_contracts_owing", "manager_id", "client_id", sqlite_where=text("debt > 0"),
              postgresql_where=text("debt > 0")),
    )  # fmt: skip

    contract_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    manager_id: Mapped[str] = mapped_column(String(64), index=True)  # in force in the ledger's month
    credit: Mapped[int] = mapped_column(BigInteger)
    payments: Mapped[int] = mapped_column(Integer)
    written: Mapped[int] = mapped_column(Integer)
    # the contract's position in the ledger's own month (kopecks): what the current month's screens
    # read without aggregating the months; debt and its oldest month count the months before it
    base: Mapped[int] = mapped_column(BigInteger, server_default="0")
    paid: Mapped[int] = mapped_column(BigInteger, server_default="0")
    debt: Mapped[int] = mapped_column(BigInteger, server_default="0")
    oldest_unpaid: Mapped[date | None] = mapped_column(Date)


class LedgerManagerRow(Base):
    """A manager's totals in the ledger's own month, summed from ``ledger_contracts`` whenever the
    ledger is written (``/team`` reads one row per manager instead of adding up their contracts):
    base, paid and debt in kopecks, and the clients with debt (counted once)."""

    __tablename__ = "ledger_managers"

    manager_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    base: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger)
    debt: Mapped[int] = mapped_column(BigInteger)
    debtors: Mapped[int] = mapped_column(Integer)


class LedgerState(Base):
    """The one row saying which day the ledger is kept for: payments dated up to ``as_of`` counted,
    allocated up to its month. ``writes`` counts the ledger writes (each stamps the rows it wrote)."""

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    as_of: Mapped[date] = mapped_column(Date)  # the office's local date
    writes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    # the clients with debt in the ledger's month across every manager, counted once (an admin's /team)
    debtors: Mapped[int | None] = mapped_column(Integer)


class CollectionCache(Base):
    """A manager's month totals as of one day and one import: /team and the team views read these
    instead of recomputing every contract; a newer import or another day makes them stale."""

    __tablename__ = "collection_cache"
    __table_args__ = (UniqueConstraint("manager_id", "month", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manager_id: Mapped[str] = mapped_column(ForeignKey("employees.id"))
    month: Mapped[str] = mapped_column(String(7))
    day: Mapped[date] = mapped_column(Date)
    imported_at: Mapped[datetime | None] = mapped_column(DateTime)  # the import the totals were computed from
    base: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger)
    awaiting: Mapped[int] = mapped_column(BigInteger)
    debt: Mapped[int] = mapped_column(BigInteger)
    debtors: Mapped[int] = mapped_column(Integer)


class ImportedFile(Base):
    """The last file imported for each entity, by content: the same bytes again are skipped, and a
    CSV file that only grew by appending is read from where the last one ended."""

    __tablename__ = "imported_files"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    label: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)  # rows the file holds (added + updated + unchanged)
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    # for a CSV file, so that a file that grew only by appending is read from where this one ended
    # (db/importer/run.py, docs/import.md "A nightly export that appended rows"): its length in
    # bytes, the bytes before its first data row (title lines and header; None: no data row), and
    # a digest of how it was read (encoding, separator, time zones, PBX extensions)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    head_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    shape: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ImportedChunk(Base):
    """A digest of one chunk of consecutive data rows of an entity's last CSV file (the cells as
    read, with the header and how the file was read), so that a re-import of a rewritten file skips
    the chunks that did not change (``db/importer/rows.py``, ``Chunks``; docs/import.md). Only the
    importer writes it; it belongs to the entity's :class:`ImportedFile`."""

    __tablename__ = "imported_chunks"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: the first data rows
    records: Mapped[int] = mapped_column(Integer)  # records the chunk holds as read
    rows: Mapped[int] = mapped_column(Integer)  # of them, data rows the import took (not totals rows)
    digest: Mapped[str] = mapped_column(String(32))  # BLAKE2b-128, hex


class ImportRowDigest(Base):
    """A digest of one imported row as it was read (its cells and what shaped its values: header,
    time zones, PBX extensions), so a re-import reads an unchanged row without building it again
    (``db/importer/writer.py``, ``RowDigests``). Only the importer writes it."""

    __tablename__ = "import_row_digests"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    digest: Mapped[str] = mapped_column(String(40))


class KpiSnapshot(Base):
    """A finished month's KPI per manager, frozen so that late payments never rewrite it."""

    __tablename__ = "kpi_snapshots"
    __table_args__ = (UniqueConstraint("manager_id", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manager_id: Mapped[str] = mapped_column(ForeignKey("employees.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    base: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger)
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    coefficient: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    frozen_at: Mapped[datetime] = mapped_column(DateTime)
    debt: Mapped[int | None] = mapped_column(BigInteger)  # the month-end debt as of the close
    debtors: Mapped[int | None] = mapped_column(Integer)  # clients with that debt


class ImportRun(Base):
    """One successful ``kpibot import``: when the 1C data was last refreshed."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finished_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    files: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)


class ImportAttempt(Base):
    """One import attempt, successful or not, by where it came from (``source``: ``folder`` for the
    watched folder, ``upload`` for a file sent in Telegram, later ``odata``); what ``/status`` shows
    and how the night's failure is told once. Times are UTC, naive."""

    __tablename__ = "import_attempts"
    __table_args__ = (Index("ix_import_attempts_source_started_at", "source", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    files: Mapped[str] = mapped_column(Text)  # JSON list of file labels
    rows: Mapped[int] = mapped_column(Integer)  # rows read (added + updated + unchanged + removed)
    problems: Mapped[int] = mapped_column(Integer)
    first_problems: Mapped[str] = mapped_column(Text)  # the first problem lines, one per line
