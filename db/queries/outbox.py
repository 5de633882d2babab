"""The outbox's statements: enqueue, claim, the atomic start of a send, finish, leases.

Policy (pacing, retries, who is unreachable) lives in ``jobs/outbox.py``; this module only reads and
writes. Like every query it takes the session first and never commits. Times are naive UTC.

Row states: ``pending`` (due at ``not_before``) → ``claimed`` (held by ``claimed_by`` until
``claimed_until``, waiting for its send slot) → ``sending`` (a request is in flight) → ``sent`` or
``failed``, or back to ``pending`` for a retry. A ``claimed`` or ``sending`` row whose lease ran out
is due again: its holder died (leases are renewed every few seconds while the holder lives).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Employee, Lease, OutboxMessage
from db.queries import insert_ignoring_duplicates as _insert_ignoring_duplicates

HELD = ("claimed", "sending")


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.not_before <= now),
        and_(OutboxMessage.status.in_(HELD), OutboxMessage.claimed_until < now),
    )


async def insert_message(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert one row unless its (employee, kind, day) is there already; True when it was added."""
    result = await session.execute(_insert_ignoring_duplicates(session, OutboxMessage).values(values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def find_message(session: AsyncSession, employee_id: str, kind: str, day: date) -> OutboxMessage | None:
    statement = select(OutboxMessage).where(
        OutboxMessage.employee_id == employee_id, OutboxMessage.kind == kind, OutboxMessage.day == day
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def ids_of(session: AsyncSession, keys: Iterable[tuple[str, str, date]]) -> list[int]:
    """The row ids of these (employee, kind, day) keys."""
    ids = []
    for employee_id, kind, day in keys:
        row = await find_message(session, employee_id, kind, day)
        if row is not None:
            ids.append(row.id)
    return ids


async def undelivered_ids(session: AsyncSession, day: date, employee_id: str | None = None) -> list[int]:
    """Rows of ``day`` (of one employee, or everyone's) not yet sent or failed: what a killed
    ``digest --send`` left behind, or what is still on its way."""
    statement = select(OutboxMessage.id).where(OutboxMessage.day == day, OutboxMessage.status.in_(("pending", *HELD)))
    if employee_id is not None:
        statement = statement.where(OutboxMessage.employee_id == employee_id)
    return list((await session.execute(statement)).scalars())


async def claim(
    session: AsyncSession, holder: str, now: datetime, until: datetime, limit: int
) -> tuple[list[OutboxMessage], int]:
    """Hold up to ``limit`` due rows for ``holder`` until ``until``, oldest first; returns them and how
    many of them were ``sending`` when their holder died (their message may have arrived already).

    One statement: a materialized CTE with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (a plain
    ``IN (subquery)`` may run twice and hand out more than ``limit`` rows), under SQLite's single
    writer lock there. The same condition in the ``UPDATE`` re-checks each row after a wait.
    """
    # a cheap look first: an idle sender must not take SQLite's write lock every poll
    if (await session.execute(select(OutboxMessage.id).where(_due(now)).limit(1))).first() is None:
        return [], 0
    orphans = (
        await session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now)
        )
    ).scalar_one()
    candidates = (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    ids = (
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(select(candidates.c.id)), _due(now))
            .values(status="claimed", claimed_until=until, claimed_by=holder)
            .returning(OutboxMessage.id)
        )
    ).scalars()
    wanted = sorted(ids)
    if not wanted:
        return [], 0
    rows = (await session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(wanted)))).scalars()
    return sorted(rows, key=lambda row: (row.not_before, row.id)), min(orphans, len(wanted))


async def start_sending(session: AsyncSession, row_id: int, holder: str, until: datetime) -> bool:
    """The atomic check when a send starts: ``claimed`` → ``sending`` only if ``holder`` still holds
    the row. False: another sender took it over (this one must not send it)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == holder, OutboxMessage.status == "claimed")
        .values(status="sending", claimed_until=until, attempts=OutboxMessage.attempts + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def stored_error(error: str | None) -> str | None:
    """An error text as the ``error`` column keeps it: at most 500 characters, no NUL (which
    PostgreSQL's text refuses; Telegram's descriptions echo what was sent)."""
    return None if error is None else error.replace("\x00", "\ufffd")[:500]


async def finish(session: AsyncSession, row_id: int, holder: str, **values: Any) -> bool:
    """Record the outcome of ``holder``'s row (sent, failed, back to pending); the lease ends."""
    if "error" in values:
        values["error"] = stored_error(values["error"])
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == holder, OutboxMessage.status.in_(HELD))
        .values(claimed_until=None, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renew_rows(session: AsyncSession, holder: str, until: datetime) -> int:
    """The heartbeat: every row ``holder`` holds stays its own until ``until``."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claimed_by == holder, OutboxMessage.status.in_(HELD))
        .values(claimed_until=until)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release_claimed(session: AsyncSession, holder: str) -> int:
    """A graceful stop: the rows ``holder`` holds but has not started sending go back, untried."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claimed_by == holder, OutboxMessage.status == "claimed")
        .values(status="pending", claimed_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def defer_chat(session: AsyncSession, chat_id: int, until: datetime) -> None:
    """A chat's own flood control: its waiting rows are due no sooner than ``until``."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.chat_id == chat_id, OutboxMessage.status == "pending", OutboxMessage.not_before < until)
        .values(not_before=until)
    )


async def fail_waiting(session: AsyncSession, employee_id: str, error: str) -> None:
    """The employee cannot be reached: their waiting rows would only meet the same answer."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.employee_id == employee_id, OutboxMessage.status == "pending")
        .values(status="failed", error=stored_error(error))
    )


async def mark_unreachable(session: AsyncSession, employee_id: str, now: datetime) -> bool:
    """True when the employee was reachable until now (so the admins are told exactly once)."""
    result = await session.execute(
        update(Employee)
        .where(Employee.id == employee_id, Employee.unreachable_since.is_(None))
        .values(unreachable_since=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def employee(session: AsyncSession, employee_id: str) -> Employee | None:
    return await session.get(Employee, employee_id)


async def reachable_admins(session: AsyncSession) -> list[Employee]:
    statement = select(Employee).where(
        Employee.role == "admin",
        Employee.active.is_(True),
        Employee.telegram_id.is_not(None),
        Employee.unreachable_since.is_(None),
    )
    return list((await session.execute(statement)).scalars())


async def next_pending_at(session: AsyncSession) -> datetime | None:
    """When the earliest pending row is due."""
    statement = (
        select(OutboxMessage.not_before)
        .where(OutboxMessage.status == "pending")
        .order_by(OutboxMessage.not_before)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


@dataclass(frozen=True)
class RowState:
    id: int
    status: str
    not_before: datetime
    claimed_until: datetime | None
    claimed_by: str | None
    error: str | None


async def states(session: AsyncSession, ids: Sequence[int]) -> list[RowState]:
    found: list[RowState] = []
    for start in range(0, len(ids), 900):
        statement = select(
            OutboxMessage.id,
            OutboxMessage.status,
            OutboxMessage.not_before,
            OutboxMessage.claimed_until,
            OutboxMessage.claimed_by,
            OutboxMessage.error,
        ).where(OutboxMessage.id.in_(ids[start : start + 900]))
        found.extend(RowState(*row) for row in await session.execute(statement))
    return found


# --------------------------------------------------------------------------------------------------
# Leases: one holder per name
# --------------------------------------------------------------------------------------------------


async def take_lease(session: AsyncSession, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Take or renew lease ``name`` for ``holder`` until ``until``; False while another live process
    holds it. One conditional UPDATE: two processes racing for a free lease cannot both win."""
    await session.execute(_insert_ignoring_duplicates(session, Lease).values(name=name))
    result = await session.execute(
        update(Lease)
        .where(
            Lease.name == name,
            or_(Lease.holder == holder, Lease.holder.is_(None), Lease.expires_at.is_(None), Lease.expires_at < now),
        )
        .values(holder=holder, expires_at=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_lease(session: AsyncSession, name: str, holder: str) -> None:
    await session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder).values(holder=None, expires_at=None)
    )


async def lease_holder(session: AsyncSession, name: str, now: datetime) -> str | None:
    """Who holds ``name`` now (``None``: nobody alive)."""
    statement = select(Lease.holder).where(Lease.name == name, Lease.expires_at >= now)
    return (await session.execute(statement)).scalar_one_or_none()


async def pause_lease(session: AsyncSession, name: str, until: datetime) -> None:
    """Remember a pause (flood control for the whole bot) with the lease, for the next holder."""
    await session.execute(_insert_ignoring_duplicates(session, Lease).values(name=name))
    await session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.paused_until.is_(None), Lease.paused_until < until))
        .values(paused_until=until)
    )


async def paused_until(session: AsyncSession, name: str) -> datetime | None:
    return (await session.execute(select(Lease.paused_until).where(Lease.name == name))).scalar_one_or_none()


async def statuses_of_day(session: AsyncSession, day: date) -> dict[str, int]:
    """How many of ``day``'s outbox rows are in each status (``/status``'s delivery line)."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.day == day).group_by(OutboxMessage.status)
    )
    return {status: int(n) for status, n in rows.all()}
