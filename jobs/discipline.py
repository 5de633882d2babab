"""Discipline findings: computed once per day by the rules (``bot.rules.discipline``) for every
manager and stored, so the digest, /calls, /team and the week's trend read them without
recomputing history. A day's findings cover its period: from the previous working day's start to
the day's start. If an import lands after a day was computed, the day is computed again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules import Finding, Period, Rule, counts_by_rule, day_period, discipline, every_day
from bot.settings import Settings
from db import queries
from db.models import FindingRow, FindingRun
from db.queries import insert_ignoring_duplicates

WEEK = 5  # working days: a rule broken on each of them is escalated


def period_of(day: date, settings: Settings) -> Period:
    previous = settings.calendar.previous_working_day(day) or day - timedelta(days=1)
    return day_period(previous, day)


def as_finding(row: FindingRow) -> Finding:
    return Finding(Rule(row.rule), row.manager_id, row.subject_id, row.at, row.client, row.contact, row.value,
                   row.source, row.escalate)  # fmt: skip


async def ensure_findings(session: AsyncSession, day: date, settings: Settings, now: datetime) -> None:
    """Compute and store ``day``'s findings unless they are stored and no import came since.
    ``now`` is local (aware or naive)."""
    run = await queries.finding_run(session, day)
    last_import = await queries.last_import_at(session)
    if run is not None and (last_import is None or last_import <= run.computed_at):
        return
    local_now = now.replace(tzinfo=None) if now.tzinfo is None else now.astimezone(settings.zone).replace(tzinfo=None)
    period = period_of(day, settings)
    activities = await queries.activities_since(session, period.start)
    calls = await queries.phone_calls_between(session, period.start, local_now)
    papers = await queries.papers_without_originals(session)
    managers = {e.id for e in await queries.list_employees(session) if e.role == "manager"}
    findings = [
        f for f in discipline(activities, calls, papers, period, day, local_now, settings.thresholds)
        if f.manager_id in managers
    ]  # fmt: skip
    utc_now = datetime.now(UTC).replace(tzinfo=None)
    if run is not None:
        await session.execute(delete(FindingRow).where(FindingRow.day == day))
        run.computed_at = utc_now
    else:
        await session.execute(insert_ignoring_duplicates(session, FindingRun).values(day=day, computed_at=utc_now))
    rows = [
        {"manager_id": f.manager_id, "day": day, "rule": f.rule.value, "subject_id": f.subject_id[:160], "at": f.at,
         "client": f.client[:300], "contact": f.contact[:300], "value": f.value, "source": f.source,
         "escalate": f.escalate}
        for f in findings
    ]  # fmt: skip
    for start in range(0, len(rows), 500):
        await session.execute(insert_ignoring_duplicates(session, FindingRow), rows[start : start + 500])


@dataclass(frozen=True)
class Discipline:
    """One manager's discipline as the digest and /team show it."""

    counts: dict[Rule, int]  # the day's non-zero counts
    total: int  # the day's findings
    week: int  # the findings of the last 7 days' digests (event rules; originals are a state)
    previous_week: int  # of the 7 days before
    every_day: set[Rule]  # rules broken on each of the last WEEK working days
    originals_overdue: list[Finding]  # originals past ORIGINALS_ESCALATE_DAYS


async def discipline_of(
    session: AsyncSession, manager_ids: Sequence[str], day: date, settings: Settings
) -> dict[str, Discipline]:
    """From the stored findings (``ensure_findings`` first)."""
    rows = await queries.findings_between(session, manager_ids, day - timedelta(days=13), day)
    week_days = [day]
    while len(week_days) < WEEK:
        earlier = settings.calendar.previous_working_day(week_days[-1])
        if earlier is None:
            break
        week_days.append(earlier)
    result = {}
    for manager_id in manager_ids:
        own = [r for r in rows if r.manager_id == manager_id]
        today = [as_finding(r) for r in own if r.day == day]
        events = [r for r in own if r.rule != Rule.ORIGINALS.value]
        week = {(r.rule, r.subject_id) for r in events if r.day > day - timedelta(days=7)}
        before = {(r.rule, r.subject_id) for r in events if r.day <= day - timedelta(days=7)} - week
        by_day = [{Rule(r.rule) for r in own if r.day == d} for d in week_days]
        counts = counts_by_rule(today)
        result[manager_id] = Discipline(
            counts=counts,
            total=sum(counts.values()),
            week=len(week),
            previous_week=len(before),
            every_day=every_day(by_day) if len(week_days) == WEEK else set(),
            originals_overdue=[f for f in today if f.rule == Rule.ORIGINALS and f.escalate],
        )
    return result
