"""Discipline: control built into the system (calls, meetings, follow-ups, missed calls, signed
originals). Pure; the rules and a worked example are in ``docs/discipline.md``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.rules.months import Kopecks

# --------------------------------------------------------------------------------------------------
# Discipline: control built into the system
# --------------------------------------------------------------------------------------------------
#
# Every time here is naive local time (the office's TIMEZONE), as 1C and the PBX write it.


class Rule(StrEnum):
    NOT_DONE = "not_done"  # planned call or meeting, its time passed, neither done nor cancelled
    DURATION = "duration"  # a done call shorter than CALL_MIN_SECONDS or longer than CALL_MAX_SECONDS
    NO_CONTACT = "no_contact"  # a done call or meeting without a contact person
    NO_FOLLOW_UP = "no_follow_up"  # a done call with a client and nothing planned after it
    MISSED = "missed"  # an incoming PBX call not answered and not returned within CALLBACK_HOURS
    ORIGINALS = "originals"  # a document whose signed original has not come back


RULE_ORDER = tuple(Rule)
MISSED_DISPOSITIONS = frozenset({"NO ANSWER", "BUSY", "FAILED"})


@dataclass(frozen=True, slots=True)
class Thresholds:
    call_min_seconds: int = 20
    call_max_seconds: int = 1800
    callback_hours: int = 4
    originals_grace_days: int = 5
    originals_escalate_days: int = 30


@dataclass(frozen=True, slots=True)
class Activity:
    """A call or a meeting from 1C."""

    id: str
    kind: str  # call | meeting
    manager_id: str
    client_id: str | None
    client: str
    contact: str
    planned_at: datetime | None
    done_at: datetime | None
    duration_s: int | None
    status: str  # planned | done | cancelled
    next_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PhoneCall:
    """A PBX record of one of the managers' extensions (internal calls are left out)."""

    id: str
    employee_id: str
    direction: str  # in | out
    started_at: datetime
    disposition: str  # ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION
    billsec: int
    number: str  # the other party: src of an incoming call, dst of an outgoing one


@dataclass(frozen=True, slots=True)
class Paper:
    """A document whose signed original should come back."""

    id: str
    manager_id: str
    client: str
    kind: str
    number: str
    doc_date: date
    amount: Kopecks | None
    received: bool


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    manager_id: str
    subject_id: str  # the interaction's, PBX record's or document's id
    at: datetime  # when it happened (planned time, call time, document date)
    client: str = ""
    contact: str = ""
    value: int = 0  # seconds of a call, hours without a callback, days without the original
    source: str = "1c"  # 1c | pbx
    escalate: bool = False  # goes to the supervisor as well


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in local time."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def day_period(first: date, last_exclusive: date) -> Period:
    return Period(datetime.combine(first, datetime.min.time()), datetime.combine(last_exclusive, datetime.min.time()))


def phone_key(number: str) -> str:
    """The number to match calls by: digits only, the last ten (``+7 912…`` = ``8912…`` = ``912…``)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits[-10:]


def not_done(activities: Iterable[Activity], period: Period) -> list[Finding]:
    """Rule 1: planned in the period (so before today), still neither done nor cancelled."""
    return [
        Finding(Rule.NOT_DONE, a.manager_id, a.id, a.planned_at, a.client, a.contact)
        for a in activities
        if a.status == "planned" and a.planned_at is not None and a.planned_at in period
    ]


def abnormal_durations(
    activities: Iterable[Activity], calls: Iterable[PhoneCall], period: Period, limits: Thresholds
) -> list[Finding]:
    """Rule 2: done calls shorter than the minimum or longer than the maximum.

    A manager's PBX records, when there are any in the period, are the measured truth: their billed
    seconds are checked (an answered call hung up after 3 s is exactly this rule's case) and the
    durations typed into 1C are not, so one conversation is never counted twice.
    """

    def abnormal(seconds: int) -> bool:
        return seconds < limits.call_min_seconds or seconds > limits.call_max_seconds

    findings = []
    measured: set[str] = set()
    for call in calls:
        if call.started_at not in period:
            continue
        measured.add(call.employee_id)
        if call.disposition == "ANSWERED" and abnormal(call.billsec):
            findings.append(Finding(Rule.DURATION, call.employee_id, call.id, call.started_at, call.number,
                                    value=call.billsec, source="pbx"))  # fmt: skip
    for a in activities:
        if (
            a.kind == "call"
            and a.status == "done"
            and a.done_at is not None
            and a.done_at in period
            and a.manager_id not in measured
            and a.duration_s is not None
            and abnormal(a.duration_s)
        ):
            findings.append(Finding(Rule.DURATION, a.manager_id, a.id, a.done_at, a.client, a.contact, a.duration_s))
    return findings


def no_contact(activities: Iterable[Activity], period: Period) -> list[Finding]:
    """Rule 3: a done call or meeting with no contact person."""
    return [
        Finding(Rule.NO_CONTACT, a.manager_id, a.id, a.done_at, a.client)
        for a in activities
        if a.status == "done" and a.done_at is not None and a.done_at in period and not a.contact.strip()
    ]


def _client_key(a: Activity) -> str:
    return a.client_id or a.client.strip().casefold()


def no_follow_up(activities: Sequence[Activity], period: Period) -> list[Finding]:
    """Rule 4: a done call with a client, with no ``next_at`` and no later interaction with that
    client (planned or done, by anyone): nothing was planned after it."""
    later: dict[str, datetime] = {}  # the latest planned or done moment per client
    for a in activities:
        if a.status == "cancelled" or not _client_key(a):
            continue
        for moment in (a.planned_at, a.done_at):
            if moment is not None and moment > later.get(_client_key(a), datetime.min):
                later[_client_key(a)] = moment
    return [
        Finding(Rule.NO_FOLLOW_UP, a.manager_id, a.id, a.done_at, a.client, a.contact)
        for a in activities
        if a.kind == "call"
        and a.status == "done"
        and a.done_at is not None
        and a.done_at in period
        and _client_key(a)
        and a.next_at is None
        and later.get(_client_key(a), datetime.min) <= a.done_at
    ]


def missed_not_returned(calls: Sequence[PhoneCall], period: Period, now: datetime, hours: int) -> list[Finding]:
    """Rule 5: an incoming call to a manager that was not answered, and no answered call with the
    same number, in either direction, within ``hours`` after it (``hours`` inclusive). A call whose
    window is still open at ``now`` is not judged yet."""
    window = timedelta(hours=hours)
    answered: dict[str, list[datetime]] = {}
    for call in calls:
        if call.disposition == "ANSWERED" and call.billsec > 0 and phone_key(call.number):
            answered.setdefault(phone_key(call.number), []).append(call.started_at)
    findings = []
    for call in calls:
        key = phone_key(call.number)
        if call.direction != "in" or call.disposition not in MISSED_DISPOSITIONS or call.started_at not in period:
            continue
        if not key or call.started_at + window > now:
            continue
        returned = any(call.started_at < t <= call.started_at + window for t in answered.get(key, []))
        if not returned:
            findings.append(Finding(Rule.MISSED, call.employee_id, call.id, call.started_at, call.number,
                                    value=hours, source="pbx"))  # fmt: skip
    return findings


def originals_missing(papers: Iterable[Paper], today: date, limits: Thresholds) -> list[Finding]:
    """Rule 6: the signed original is not back and the document is more than ``originals_grace_days``
    old (day 5 is still fine, day 6 is a finding); more than ``originals_escalate_days`` old it goes
    to the supervisor too. Oldest first."""
    findings = []
    for paper in papers:
        age = (today - paper.doc_date).days
        if not paper.received and age > limits.originals_grace_days:
            dated = datetime.combine(paper.doc_date, datetime.min.time())
            escalate = age > limits.originals_escalate_days
            findings.append(Finding(Rule.ORIGINALS, paper.manager_id, paper.id, dated, paper.client, value=age,
                                    escalate=escalate))  # fmt: skip
    return sorted(findings, key=lambda f: (f.at, f.subject_id))


def discipline(
    activities: Sequence[Activity],
    calls: Sequence[PhoneCall],
    papers: Iterable[Paper],
    period: Period,
    today: date,
    now: datetime,
    limits: Thresholds,
) -> list[Finding]:
    """Every rule's findings for ``period``. ``activities`` should hold every interaction of the
    clients concerned up to ``now`` (rule 4 looks for later ones), ``calls`` every PBX record up to
    ``now`` (rule 5 looks for callbacks)."""
    return [
        *not_done(activities, period),
        *abnormal_durations(activities, calls, period, limits),
        *no_contact(activities, period),
        *no_follow_up(activities, period),
        *missed_not_returned(calls, period, now, limits.callback_hours),
        *originals_missing(papers, today, limits),
    ]


def counts_by_rule(findings: Iterable[Finding]) -> dict[Rule, int]:
    """Non-zero counts, in the rules' order."""
    counts = {rule: 0 for rule in RULE_ORDER}
    for finding in findings:
        counts[finding.rule] += 1
    return {rule: n for rule, n in counts.items() if n}


def every_day(days_with_rule: Sequence[set[Rule]]) -> set[Rule]:
    """The rules broken on each of the given days (a week of working days): the escalation."""
    if not days_with_rule:
        return set()
    common = set(days_with_rule[0])
    for rules in days_with_rule[1:]:
        common &= rules
    return common
