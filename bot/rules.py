"""The business rules of kpibot: collection (KPI1), tiers, allocation, debt, the plan to the next tier.

This module is pure: plain dataclasses in, plain dataclasses out, no I/O, no aiogram, no SQLAlchemy.
Handlers, jobs and the CLI all call it; it is the file to read first. Every amount of money is an
``int`` number of kopecks, every percent a ``Decimal``; there is no float anywhere.

The collection rules are explained with a worked example in ``docs/collection.md``, the discipline
checks (calls, meetings, follow-ups, missed calls, signed originals) in ``docs/discipline.md``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cache

Kopecks = int


# --------------------------------------------------------------------------------------------------
# Months
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month, ordered and countable (``Month(2019, 2) - Month(2018, 12) == 2``)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls.from_index(day.year * 12 + day.month - 1)

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Month:
        """The month, shared: the rules look months up in dicts millions of times, and a shared
        object is found by identity before any comparison."""
        month = _MONTHS.get(index)
        if month is None:
            month = _MONTHS.setdefault(index, cls(index // 12, index % 12 + 1))
        return month

    def shift(self, months: int) -> Month:
        return Month.from_index(self.index + months)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __sub__(self, other: Month) -> int:
        return self.index - other.index

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


_MONTHS: dict[int, Month] = {}


def months_between(first: Month, last: Month) -> list[Month]:
    """All months from ``first`` to ``last`` inclusive (empty when ``last`` is before ``first``)."""
    return [Month.from_index(i) for i in range(first.index, last.index + 1)]


# --------------------------------------------------------------------------------------------------
# Tiers (KPI coefficients)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class Tier:
    """Reaching ``threshold`` percent (inclusive) earns ``coefficient``."""

    threshold: Decimal
    coefficient: Decimal


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier(Decimal("75"), Decimal("0.1")),
    Tier(Decimal("85"), Decimal("0.2")),
)


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """Parse ``"75:0.1,85:0.2"`` (percent:coefficient, comma separated, ascending).

    Raises ``ValueError`` with a readable reason on anything else.
    """
    tiers: list[Tier] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        threshold_text, sep, coefficient_text = item.partition(":")
        if not sep:
            raise ValueError(f"'{item}' is not percent:coefficient (e.g. 75:0.1)")
        try:
            threshold = Decimal(threshold_text.strip())
            coefficient = Decimal(coefficient_text.strip())
        except ArithmeticError:
            raise ValueError(f"'{item}' is not percent:coefficient (e.g. 75:0.1)") from None
        if not threshold.is_finite() or not 0 < threshold <= 100:
            raise ValueError(f"threshold {threshold_text.strip()} must be above 0 and at most 100")
        if not coefficient.is_finite() or coefficient < 0:
            raise ValueError(f"coefficient {coefficient_text.strip()} must be zero or positive")
        tiers.append(Tier(threshold, coefficient))
    if not tiers:
        raise ValueError("at least one tier is needed, e.g. 75:0.1,85:0.2")
    for lower, upper in itertools.pairwise(tiers):
        if upper.threshold <= lower.threshold:
            raise ValueError("thresholds must be strictly ascending")
        if upper.coefficient < lower.coefficient:
            raise ValueError("a higher threshold cannot pay a smaller coefficient")
    return tuple(tiers)


def percent_hundredths(paid: Kopecks, base: Kopecks) -> int:
    """``paid / base`` in hundredths of a percent, rounded half up: 238 539 / 263 492 → 9053.

    Integer arithmetic only: ``floor((paid * 10000 + base / 2) / base)``.
    """
    if base <= 0:
        raise ValueError("no base")
    return (paid * 20000 + base) // (2 * base)


def collection_percent(paid: Kopecks, base: Kopecks) -> Decimal | None:
    """The collection percent, rounded half up to two decimals as 1C's report shows it
    (``90,53 %``); ``None`` when there is no base."""
    if base <= 0:
        return None
    return Decimal(percent_hundredths(paid, base)) / 100


@cache
def _threshold_hundredths(threshold: Decimal) -> int:
    """The smallest whole number of hundredths that is at least ``threshold`` percent."""
    return math.ceil(Fraction(threshold) * 100)


def reaches(paid: Kopecks, base: Kopecks, threshold: Decimal) -> bool:
    """Whether the shown (rounded) percent is at least ``threshold``: 85,00 % reaches 85, 84,99 % does
    not. The tier is decided on the very percent people see, so the two can never disagree."""
    if base <= 0:
        return False
    return percent_hundredths(paid, base) >= _threshold_hundredths(threshold)


def reached_tier(paid: Kopecks, base: Kopecks, tiers: Sequence[Tier]) -> Tier | None:
    """The highest tier reached, or ``None`` below the first one."""
    best: Tier | None = None
    for tier in tiers:
        if reaches(paid, base, tier.threshold):
            best = tier
    return best


def amount_to_reach(paid: Kopecks, base: Kopecks, threshold: Decimal) -> Kopecks:
    """The smallest amount that, paid for this month, lifts the shown percent to ``threshold``.

    ``percent_hundredths(p) >= T``  ⇔  ``p * 20000 + base >= 2 * T * base``
    ⇔  ``p >= base * (2T - 1) / 20000``, so the least such ``p`` is that bound rounded up.
    """
    target = _threshold_hundredths(threshold)
    least = -((-base * (2 * target - 1)) // 20000)  # ceiling division
    return max(0, least - paid)


# --------------------------------------------------------------------------------------------------
# Contracts, payments and allocation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """What the collection rules need of a contract."""

    id: str
    manager_id: str
    monthly_fee: Kopecks
    start: Month
    months: int | None = None  # None: open-ended, runs until closed
    closed_on: date | None = None

    def is_active(self, month: Month) -> bool:
        """Active when ``start <= month <= start + months - 1`` and not closed before ``month``."""
        if month < self.start:
            return False
        if self.months is not None and month > self.start.shift(self.months - 1):
            return False
        return not (self.closed_on is not None and self.closed_on < month.first_day())

    def last_month(self) -> Month | None:
        """The last active month, or ``None`` for an open-ended contract that is not closed."""
        candidates: list[Month] = []
        if self.months is not None:
            candidates.append(self.start.shift(self.months - 1))
        if self.closed_on is not None:
            candidates.append(Month.of(self.closed_on))
        return min(candidates) if candidates else None


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: str
    contract_id: str
    paid_on: date
    amount: Kopecks
    period: Month | None = None


@dataclass(slots=True)
class ContractLedger:
    """Where a contract's money went, month by month.

    ``allocated[m]`` is what was allocated to month ``m`` (it may exceed the fee when a payment names
    its period and overpays it); ``credit`` is money left after every active month up to the horizon
    (or the contract's end) was paid in full. ``allocated`` plus ``credit`` always equals the sum of
    the payments.
    """

    terms: ContractTerms
    allocated: dict[Month, Kopecks] = field(default_factory=dict)
    credit: Kopecks = 0

    def base(self, month: Month) -> Kopecks:
        return self.terms.monthly_fee if self.terms.is_active(month) else 0

    def paid(self, month: Month) -> Kopecks:
        return min(self.base(month), self.allocated.get(month, 0))

    def unpaid(self, month: Month) -> Kopecks:
        return self.base(month) - self.paid(month)

    def unpaid_months_before(self, month: Month) -> list[Month]:
        """Active months before ``month`` that are not fully paid, oldest first."""
        return [m for m, _ in self._unpaid_before(month)]

    def debt_before(self, month: Month) -> Kopecks:
        return sum(unpaid for _, unpaid in self._unpaid_before(month))

    def _unpaid_before(self, month: Month) -> list[tuple[Month, Kopecks]]:
        # every month from the start to the contract's last month is active (see ``is_active``)
        last = month.index - 1
        end = self.terms.last_month()
        if end is not None and end.index < last:
            last = end.index
        fee, allocated = self.terms.monthly_fee, self.allocated
        owed = []
        for index in range(self.terms.start.index, last + 1):
            m = Month.from_index(index)
            unpaid = fee - min(fee, allocated.get(m, 0))
            if unpaid > 0:
                owed.append((m, unpaid))
        return owed


def allocate(terms: ContractTerms, payments: Iterable[PaymentRecord], horizon: Month) -> ContractLedger:
    """Allocate a contract's payments to its months.

    1. A payment with a period counts for that month.
    2. The payments without a period are pooled and fill the active months oldest first, each up to
       its unpaid base (so a debt is closed before the current month, and a prepayment flows into
       later months), up to the contract's last month or ``horizon``, whichever comes first.
    3. What is left is ``credit``: prepaid beyond the horizon, or overpaid after the contract's end.
       No figure up to the horizon depends on how that credit would later be spread.

    Pooling makes the result independent of the order of the payments.
    """
    ledger = ContractLedger(terms)
    pool = 0
    for payment in payments:
        if payment.contract_id != terms.id:
            raise ValueError(f"payment {payment.id} is not for contract {terms.id}")
        if payment.period is not None:
            ledger.allocated[payment.period] = ledger.allocated.get(payment.period, 0) + payment.amount
        else:
            pool += payment.amount
    fee = terms.monthly_fee
    last = terms.last_month()
    if last is None or last > horizon:
        last = horizon
    for month in months_between(terms.start, last):  # all active: ``last`` is within the contract
        if pool <= 0 or fee <= 0:
            break
        room = fee - min(fee, ledger.allocated.get(month, 0))
        take = min(room, pool)
        if take > 0:
            ledger.allocated[month] = ledger.allocated.get(month, 0) + take
            pool -= take
    ledger.credit = pool
    return ledger


# --------------------------------------------------------------------------------------------------
# A manager's month
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractPosition:
    """One contract seen from month ``month`` on day ``today``."""

    contract_id: str
    base: Kopecks  # the fee billed in the month (0 when not active in it)
    paid: Kopecks  # allocated to the month, at most the base
    awaiting: Kopecks  # unpaid base of the month when the month is the current one (else 0)
    debt: Kopecks  # unpaid base of the months before the current one
    oldest_unpaid: Month | None  # the oldest month making up the debt
    debt_age_days: int  # days from the first day of that month to today (0 without debt)


def position(ledger: ContractLedger, month: Month, today: date) -> ContractPosition:
    current = Month.of(today)
    owed = ledger._unpaid_before(current)
    oldest = owed[0][0] if owed else None
    return ContractPosition(
        contract_id=ledger.terms.id,
        base=ledger.base(month),
        paid=ledger.paid(month),
        awaiting=ledger.unpaid(month) if month == current else 0,
        debt=sum(unpaid for _, unpaid in owed),
        oldest_unpaid=oldest,
        debt_age_days=(today - oldest.first_day()).days if oldest else 0,
    )


@dataclass(frozen=True, slots=True)
class GapPlan:
    """The amount that lifts the percent to the next tier and the contracts that cover it."""

    tier: Tier
    gap: Kopecks
    contract_ids: tuple[str, ...]  # the fewest awaiting contracts covering the gap, largest first
    covered: bool  # False when all awaiting payments together do not reach the gap


@dataclass(frozen=True, slots=True)
class Collection:
    """KPI1 for one manager (or a team) and one month."""

    month: Month
    base: Kopecks
    paid: Kopecks
    awaiting: Kopecks
    debt: Kopecks
    debtors: int
    percent: Decimal | None
    coefficient: Decimal
    next_step: GapPlan | None


def plan_to_reach(
    gap: Kopecks, awaiting: Iterable[tuple[str, Kopecks]], limit: int | None = None
) -> tuple[tuple[str, ...], bool]:
    """The fewest contracts whose awaiting amounts cover ``gap``.

    Taking the largest amounts first is optimal for the count: the k largest amounts are the
    largest sum any k contracts can make. Ties are broken by contract id, so the plan is stable.
    Returns the chosen ids (cut to ``limit`` when given) and whether they cover the gap.
    """
    chosen: list[str] = []
    covered = 0
    for contract_id, amount in sorted(awaiting, key=lambda item: (-item[1], item[0])):
        if covered >= gap:
            break
        if amount <= 0:
            continue
        chosen.append(contract_id)
        covered += amount
    ok = covered >= gap
    if limit is not None:
        chosen = chosen[:limit]
    return tuple(chosen), ok


def summarize(month: Month, positions: Sequence[ContractPosition], tiers: Sequence[Tier]) -> Collection:
    """Aggregate contract positions into the month's collection, tier and plan to the next tier."""
    base = sum(p.base for p in positions)
    paid = sum(p.paid for p in positions)
    tier = reached_tier(paid, base, tiers)
    upcoming = [t for t in tiers if not reaches(paid, base, t.threshold)]
    next_step: GapPlan | None = None
    if upcoming and base > 0:
        target = upcoming[0]
        gap = amount_to_reach(paid, base, target.threshold)
        ids, covered = plan_to_reach(gap, ((p.contract_id, p.awaiting) for p in positions))
        next_step = GapPlan(target, gap, ids, covered)
    return Collection(
        month=month,
        base=base,
        paid=paid,
        awaiting=sum(p.awaiting for p in positions),
        debt=sum(p.debt for p in positions),
        debtors=sum(1 for p in positions if p.debt > 0),
        percent=collection_percent(paid, base),
        coefficient=tier.coefficient if tier else Decimal("0"),
        next_step=next_step,
    )


def collection_of_totals(
    month: Month, base: Kopecks, paid: Kopecks, awaiting: Kopecks, debt: Kopecks, debtors: int, tiers: Sequence[Tier]
) -> Collection:
    """A collection rebuilt from stored totals (no plan to the next tier: that needs the contracts).
    Percent and tier come from the same rules as ``summarize``, so the two always agree."""
    tier = reached_tier(paid, base, tiers)
    return Collection(month, base, paid, awaiting, debt, debtors, collection_percent(paid, base),
                      tier.coefficient if tier else Decimal("0"), None)  # fmt: skip


def collection_for(
    month: Month,
    today: date,
    contracts: Iterable[ContractTerms],
    payments: Iterable[PaymentRecord],
    tiers: Sequence[Tier],
) -> tuple[Collection, list[ContractPosition]]:
    """The whole rule in one call: allocate each contract's payments, position them, summarize."""
    by_contract: dict[str, list[PaymentRecord]] = {}
    for payment in payments:
        by_contract.setdefault(payment.contract_id, []).append(payment)
    horizon = max(month, Month.of(today))
    positions = [position(allocate(terms, by_contract.get(terms.id, ()), horizon), month, today) for terms in contracts]
    return summarize(month, positions, tiers), positions


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
