"""Collection (KPI1): tiers, allocation of payments to months, debt, a manager's month, the plan to the
next tier.

Pure: plain dataclasses in, plain dataclasses out, no I/O, no aiogram, no SQLAlchemy. Every amount of
money is an ``int`` number of kopecks, every percent a ``Decimal``; there is no float anywhere. The
rules are explained with a worked example in ``docs/collection.md``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import TypeVar

from bot.rules.months import Kopecks, Month, months_between

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
    """What the collection rules need of a contract.

    ``monthly_fee`` is the fee from the start; ``fee_changes`` are the later terms, ``(from month,
    fee)`` in ascending months, each in force from its month on (finished months keep the fee they
    had: ``docs/collection.md``, "Contract terms with history"). ``client_id`` groups contracts into
    debtors and renewals (``None``: the contract is its own client). ``unbilled`` is the month a
    renewal leaves unbilled (see :func:`apply_renewals`).
    """

    id: str
    manager_id: str
    monthly_fee: Kopecks
    start: Month
    months: int | None = None  # None: open-ended, runs until closed
    closed_on: date | None = None
    client_id: str | None = None
    fee_changes: tuple[tuple[Month, Kopecks], ...] = ()
    unbilled: Month | None = None

    @property
    def client(self) -> str:
        """The client the contract is counted under (its own id when the client is unknown)."""
        return self.client_id if self.client_id is not None else self.id

    def fee(self, month: Month) -> Kopecks:
        """The monthly fee in force in ``month`` (whether or not the contract is active in it)."""
        fee = self.monthly_fee
        for since, value in self.fee_changes:
            if since > month:
                break
            fee = value
        return fee

    def is_active(self, month: Month) -> bool:
        """Billed in ``month``: ``start <= month <= start + months - 1``, not closed before ``month``,
        and not the month a renewal leaves unbilled."""
        if month < self.start:
            return False
        if self.months is not None and month > self.start.shift(self.months - 1):
            return False
        if self.closed_on is not None and self.closed_on < month.first_day():
            return False
        return month != self.unbilled

    def last_month(self) -> Month | None:
        """The last billed month, or ``None`` for an open-ended contract that is not closed. (It may
        come before ``start`` when a renewal leaves the only month unbilled.)"""
        candidates: list[Month] = []
        if self.months is not None:
            candidates.append(self.start.shift(self.months - 1))
        if self.closed_on is not None:
            candidates.append(Month.of(self.closed_on))
        if not candidates:
            return None
        last = min(candidates)
        return last.shift(-1) if last == self.unbilled else last


def apply_renewals(contracts: Iterable[ContractTerms], starts: Iterable[tuple[str, str, Month]]) -> list[ContractTerms]:
    """A renewal: a contract that closes in a month in which another contract of the same client starts
    is not billed for that month (the one in force at the month's end bills it). ``starts`` is
    ``(contract id, client id, start month)`` of every contract of those clients, whoever manages it.

    Closed on 15.11 with the successor from 16.11, or both on 16.11: November is billed once, by the
    successor. Closed on 30.11 with the successor from 01.12: nothing to leave out.
    """
    starting: dict[tuple[str, Month], set[str]] = {}
    for contract_id, client_id, start in starts:
        starting.setdefault((client_id, start), set()).add(contract_id)
    renewed: list[ContractTerms] = []
    for terms in contracts:
        if terms.closed_on is not None and terms.client_id is not None:
            closing = Month.of(terms.closed_on)
            successors = starting.get((terms.client_id, closing), set()) - {terms.id}
            if successors and closing >= terms.start:
                terms = replace(terms, unbilled=closing)
        renewed.append(terms)
    return renewed


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """A payment as 1C exports it; a negative ``amount`` is a refund ("возврат", "сторно")."""

    id: str
    contract_id: str
    paid_on: date
    amount: Kopecks
    period: Month | None = None


@dataclass(slots=True)
class ContractLedger:
    """Where a contract's money went, month by month.

    ``allocated[m]`` is what was allocated to month ``m``, never below zero (it may exceed the fee when
    a payment names its period and overpays it); ``credit`` is money left after every active month up
    to the horizon (or the contract's end) was paid in full, negative only when refunds exceed every
    payment. ``allocated`` plus ``credit`` always equals the sum of the payments.
    """

    terms: ContractTerms
    allocated: dict[Month, Kopecks] = field(default_factory=dict)
    credit: Kopecks = 0

    def base(self, month: Month) -> Kopecks:
        return self.terms.fee(month) if self.terms.is_active(month) else 0

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
        terms, allocated = self.terms, self.allocated
        fixed = None if terms.fee_changes else terms.monthly_fee
        owed = []
        for index in range(terms.start.index, last + 1):
            m = Month.from_index(index)
            fee = fixed if fixed is not None else terms.fee(m)
            unpaid = fee - min(fee, allocated.get(m, 0))
            if unpaid > 0:
                owed.append((m, unpaid))
        return owed


MonthKey = TypeVar("MonthKey", Month, int)


def _take_back_refunds(
    allocated: dict[MonthKey, Kopecks], pool: Kopecks, refunds: Sequence[tuple[Kopecks, MonthKey | None]]
) -> Kopecks:
    """Rule 4 of :func:`allocate`: ``refunds`` as ``(negative amount in kopecks, period or None)``
    take back, in place, what their period was ``allocated``; what they cannot take there, and every
    refund without a period, comes out of ``pool`` (the credit) first and then out of the months
    newest first; what is still left makes the credit negative. Returns the credit. The months are
    :class:`Month` keys or month indexes (:func:`keep_ledger`)."""
    left = 0  # what the refunds still have to take back
    for amount, period in refunds:
        due = -amount
        if period is not None:
            take = min(due, allocated.get(period, 0))
            if take:
                allocated[period] -= take
            due -= take
        left += due
    if left:
        take = min(left, max(pool, 0))
        pool -= take
        left -= take
        for month in sorted(allocated, reverse=True):
            if left <= 0:
                break
            take = min(left, allocated[month])
            allocated[month] -= take
            left -= take
        pool -= left
    return pool


def allocate(terms: ContractTerms, payments: Iterable[PaymentRecord], horizon: Month) -> ContractLedger:
    """Allocate a contract's payments to its months (``docs/collection.md``, rules 3 and 4).

    1. A payment with a period counts for that month.
    2. The payments without a period are pooled and fill the active months oldest first, each up to
       its unpaid base (so a debt is closed before the current month, and a prepayment flows into
       later months), up to the contract's last month or ``horizon``, whichever comes first.
    3. What is left is ``credit``: prepaid beyond the horizon, or overpaid after the contract's end.
       No figure up to the horizon depends on how that credit would later be spread.
    4. Refunds (negative amounts) come after: one naming a period takes back what that month was
       allocated; what it cannot take there, and every refund without a period, comes out of the
       credit first and then out of the months newest first. No month goes below zero; a refund
       larger than everything paid leaves a negative credit, so money is always conserved.

    Pooling makes the result independent of the order of the payments.
    """
    ledger = ContractLedger(terms)
    allocated = ledger.allocated
    pool = 0
    refunds: list[PaymentRecord] = []
    for payment in payments:
        if payment.contract_id != terms.id:
            raise ValueError(f"payment {payment.id} is not for contract {terms.id}")
        if payment.amount < 0:
            refunds.append(payment)
        elif payment.period is not None:
            allocated[payment.period] = allocated.get(payment.period, 0) + payment.amount
        else:
            pool += payment.amount
    last = terms.last_month()
    if last is None or last > horizon:
        last = horizon
    for month in months_between(terms.start, last):  # all billed: ``last`` is within the contract
        if pool <= 0:
            break
        fee = terms.fee(month)
        room = fee - min(fee, allocated.get(month, 0))
        take = min(room, pool)
        if take > 0:
            allocated[month] = allocated.get(month, 0) + take
            pool -= take
    ledger.credit = _take_back_refunds(allocated, pool, [(r.amount, r.period) for r in refunds])
    return ledger


@dataclass(frozen=True, slots=True)
class LedgerMonth:
    """One month of a contract's ledger as it is stored (``ledger_months``): the fee billed (``base``,
    0 when not active), what was allocated (``allocated``, may exceed the base), what counts as paid
    (``paid = min(base, allocated)``) and what is still owed (``unpaid = base - paid``). Kopecks."""

    month: Month
    base: Kopecks
    allocated: Kopecks
    paid: Kopecks

    @property
    def unpaid(self) -> Kopecks:
        return self.base - self.paid


def ledger_months(ledger: ContractLedger, horizon: Month) -> list[LedgerMonth]:
    """The months of ``ledger`` (allocated up to ``horizon``) worth storing, oldest first: every billed
    month from the start up to the contract's last month or ``horizon``, whichever comes first, and
    every other month some money is allocated to. Together with ``ledger.credit`` they are the whole
    ledger: :func:`position` of any month up to ``horizon`` can be read from them
    (``docs/collection.md``, "Where the ledger is kept")."""
    terms, allocated = ledger.terms, ledger.allocated
    last = terms.last_month()
    end = horizon if last is None or last > horizon else last
    fixed = None if terms.fee_changes else terms.monthly_fee
    rows: dict[int, LedgerMonth] = {}
    for index in range(terms.start.index, end.index + 1):  # billed: every month up to the last one
        m = Month.from_index(index)
        base = fixed if fixed is not None else terms.fee(m)
        given = allocated.get(m, 0)
        rows[index] = LedgerMonth(m, base, given, min(base, given))
    for m, amount in allocated.items():  # money allocated outside the billed months (a named period)
        if amount and m.index not in rows:
            rows[m.index] = LedgerMonth(m, ledger.base(m), amount, ledger.paid(m))
    return [rows[index] for index in sorted(rows)]


@dataclass(frozen=True, slots=True)
class KeptLedger:
    """A contract's ledger as it is stored, built by :func:`keep_ledger` in one pass.

    ``months``: the rows of :func:`ledger_months` as ``(month index, base, allocated, paid, unpaid)``
    (kopecks; ``Month.index``, so ``Month.from_index`` gives the month), oldest first. ``credit``: as
    :func:`allocate` leaves it. ``base``, ``paid``, ``debt`` and ``oldest_unpaid`` (a month index):
    the contract's :func:`position` in the horizon month as of a day of it (the debt is what the
    months before the horizon still owe)."""

    months: list[tuple[int, Kopecks, Kopecks, Kopecks, Kopecks]]
    credit: Kopecks
    base: Kopecks
    paid: Kopecks
    debt: Kopecks
    oldest_unpaid: int | None


def keep_ledger(terms: ContractTerms, payments: Iterable[tuple[Kopecks, int | None]], horizon: Month) -> KeptLedger:
    """:func:`allocate` then :func:`ledger_months` and the horizon's :func:`position`, the same figures
    (a property test holds them equal) computed for storing many contracts: ``payments`` are the
    contract's ``(amount, period's month index or None)``, already the ones dated up to the ledger's
    day; months are ``Month.index`` ints inside, fees are walked once over the billed months, and the
    rows, the credit and the position come out of one allocation (``docs/collection.md``, "Where the
    ledger is kept")."""
    start, top = terms.start.index, horizon.index
    last = terms.last_month()
    end = top if last is None or last.index > top else last.index
    count = end - start + 1 if end >= start else 0
    if terms.fee_changes:  # the fee of each billed month, walking the changes once
        fees: list[Kopecks] = []
        changes = [(since.index, fee) for since, fee in terms.fee_changes]
        fee, at, n = terms.monthly_fee, 0, len(changes)
        for index in range(start, start + count):
            while at < n and changes[at][0] <= index:
                fee = changes[at][1]
                at += 1
            fees.append(fee)
    else:
        fees = [terms.monthly_fee] * count
    allocated: dict[int, Kopecks] = {}
    pool = 0
    refunds: list[tuple[Kopecks, int | None]] = []
    for amount, period in payments:  # rule 1: a named period first; the rest pooled
        if amount < 0:
            refunds.append((amount, period))
        elif period is not None:
            allocated[period] = allocated.get(period, 0) + amount
        else:
            pool += amount
    if pool > 0:  # rule 2: the pool fills the billed months oldest first
        for offset in range(count):
            index = start + offset
            fee, given = fees[offset], allocated.get(index, 0)
            if given < fee:
                take = fee - given if fee - given < pool else pool
                allocated[index] = given + take
                pool -= take
                if pool <= 0:
                    break
    if refunds:  # rule 4, as :func:`allocate` takes them
        pool = _take_back_refunds(allocated, pool, refunds)
    rows: list[tuple[int, Kopecks, Kopecks, Kopecks, Kopecks]] = []
    base = paid = debt = 0
    oldest: int | None = None
    for offset in range(count):  # every billed month; all of them before or at the horizon
        index = start + offset
        fee, given = fees[offset], allocated.get(index, 0)
        got = given if given < fee else fee
        rows.append((index, fee, given, got, fee - got))
        if index == top:
            base, paid = fee, got
        elif got < fee:
            debt += fee - got
            if oldest is None:
                oldest = index
    outside = [index for index, amount in allocated.items() if amount and not start <= index <= end]
    if outside:  # money on months outside the billed ones (a named period): rare, read by the rules
        for index in outside:
            month, amount = Month.from_index(index), allocated[index]
            fee = terms.fee(month) if terms.is_active(month) else 0
            got = min(fee, amount)
            rows.append((index, fee, amount, got, fee - got))
            if index == top:
                base, paid = base + fee, paid + got
            elif index < top and got < fee:
                debt += fee - got
                oldest = index if oldest is None or index < oldest else oldest
        rows.sort()
    return KeptLedger(rows, pool, base, paid, debt, oldest)


def position_of_months(
    contract_id: str, client_id: str, months: Iterable[LedgerMonth], month: Month, today: date
) -> ContractPosition:
    """:func:`position` read from stored :func:`ledger_months` instead of a ledger: the same figures
    (a property test holds them equal), the way the SQL aggregation in ``db.queries.ledger`` reads
    them."""
    current = Month.of(today)
    bound = month if month < current else current.shift(-1)
    base = paid = unpaid_in_month = debt = 0
    oldest: Month | None = None
    for row in months:
        if row.month == month:
            base, paid, unpaid_in_month = row.base, row.paid, row.unpaid
        if row.month <= bound and row.unpaid > 0:
            debt += row.unpaid
            oldest = row.month if oldest is None or row.month < oldest else oldest
    return ContractPosition(
        contract_id=contract_id,
        base=base,
        paid=paid,
        awaiting=unpaid_in_month if month == current else 0,
        debt=debt,
        oldest_unpaid=oldest,
        debt_age_days=(today - oldest.first_day()).days if oldest else 0,
        client_id=client_id,
    )


# --------------------------------------------------------------------------------------------------
# A manager's month
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractPosition:
    """One contract seen from month ``month`` as of day ``today``."""

    contract_id: str
    base: Kopecks  # the fee billed in the month (0 when not active in it)
    paid: Kopecks  # allocated to the month, at most the base
    awaiting: Kopecks  # unpaid base of the month when the month is the current one (else 0)
    debt: Kopecks  # unpaid base of the months before the current one; of a finished month: up to its end
    oldest_unpaid: Month | None  # the oldest month making up the debt
    debt_age_days: int  # days from the first day of that month to today (0 without debt)
    client_id: str = ""  # the client the contract is counted under (``ContractTerms.client``)


def position(ledger: ContractLedger, month: Month, today: date) -> ContractPosition:
    """The contract in ``month`` as of ``today``. For the current month the unpaid base of the month is
    awaited and the debt is what earlier months still owe; for a finished month nothing is awaited and
    the debt is what the months up to its end still owe (that month's debt, never today's)."""
    current = Month.of(today)
    if month < current:
        owed = ledger._unpaid_before(month.shift(1))
        awaiting = 0
    else:
        owed = ledger._unpaid_before(current)
        awaiting = ledger.unpaid(month) if month == current else 0
    oldest = owed[0][0] if owed else None
    return ContractPosition(
        contract_id=ledger.terms.id,
        base=ledger.base(month),
        paid=ledger.paid(month),
        awaiting=awaiting,
        debt=sum(unpaid for _, unpaid in owed),
        oldest_unpaid=oldest,
        debt_age_days=(today - oldest.first_day()).days if oldest else 0,
        client_id=ledger.terms.client,
    )


@dataclass(frozen=True, slots=True)
class GapPlan:
    """The amount that lifts the percent to the next tier and the clients whose payments cover it."""

    tier: Tier
    gap: Kopecks
    client_ids: tuple[str, ...]  # the fewest clients whose awaited payments cover the gap, largest first
    covered: bool  # False when all awaiting payments together do not reach the gap


@dataclass(frozen=True, slots=True)
class Collection:
    """KPI1 for one manager (or a team) and one month."""

    month: Month
    base: Kopecks
    paid: Kopecks
    awaiting: Kopecks
    debt: Kopecks
    debtors: int  # clients with debt (a client with two unpaid contracts is one debtor)
    percent: Decimal | None
    coefficient: Decimal
    next_step: GapPlan | None


def plan_to_reach(
    gap: Kopecks, awaiting: Iterable[tuple[str, Kopecks]], limit: int | None = None
) -> tuple[tuple[str, ...], bool]:
    """The fewest entries (clients) whose awaiting amounts cover ``gap``.

    Taking the largest amounts first is optimal for the count: the k largest amounts are the
    largest sum any k entries can make. Ties are broken by id, so the plan is stable.
    Returns the chosen ids (cut to ``limit`` when given) and whether they cover the gap.
    """
    chosen: list[str] = []
    covered = 0
    for key, amount in sorted(awaiting, key=lambda item: (-item[1], item[0])):
        if covered >= gap:
            break
        if amount <= 0:
            continue
        chosen.append(key)
        covered += amount
    ok = covered >= gap
    if limit is not None:
        chosen = chosen[:limit]
    return tuple(chosen), ok


def awaiting_by_client(positions: Iterable[ContractPosition]) -> dict[str, Kopecks]:
    """The month's unpaid fees summed per client (kopecks), clients with nothing awaited left out."""
    sums: dict[str, Kopecks] = {}
    for p in positions:
        if p.awaiting > 0:
            sums[p.client_id] = sums.get(p.client_id, 0) + p.awaiting
    return sums


def debt_by_client(positions: Iterable[ContractPosition]) -> dict[str, Kopecks]:
    """The debt summed per client (kopecks), clients without debt left out."""
    sums: dict[str, Kopecks] = {}
    for p in positions:
        if p.debt > 0:
            sums[p.client_id] = sums.get(p.client_id, 0) + p.debt
    return sums


def summarize(month: Month, positions: Sequence[ContractPosition], tiers: Sequence[Tier]) -> Collection:
    """Aggregate contract positions into the month's collection, tier and plan to the next tier.
    Debtors and the plan count clients, not contracts."""
    return collection_of_totals(
        month,
        sum(p.base for p in positions),
        sum(p.paid for p in positions),
        sum(p.awaiting for p in positions),
        sum(p.debt for p in positions),
        len(debt_by_client(positions)),
        tiers,
        awaiting_clients=awaiting_by_client(positions),
    )


def collection_of_totals(
    month: Month,
    base: Kopecks,
    paid: Kopecks,
    awaiting: Kopecks,
    debt: Kopecks,
    debtors: int,
    tiers: Sequence[Tier],
    *,
    awaiting_clients: Mapping[str, Kopecks] | None = None,
) -> Collection:
    """A collection rebuilt from stored totals. The plan to the next tier needs each client's awaited
    payments (``awaiting_clients``, as :func:`awaiting_by_client` sums them); without them there is
    no plan. :func:`summarize` is this over its positions' sums, so the two always agree."""
    tier = reached_tier(paid, base, tiers)
    next_step: GapPlan | None = None
    if awaiting_clients is not None and base > 0:
        upcoming = [t for t in tiers if not reaches(paid, base, t.threshold)]
        if upcoming:
            target = upcoming[0]
            gap = amount_to_reach(paid, base, target.threshold)
            ids, covered = plan_to_reach(gap, awaiting_clients.items())
            next_step = GapPlan(target, gap, ids, covered)
    return Collection(month, base, paid, awaiting, debt, debtors, collection_percent(paid, base),
                      tier.coefficient if tier else Decimal("0"), next_step)  # fmt: skip


def known_on(payments: Iterable[PaymentRecord], today: date) -> list[PaymentRecord]:
    """The payments dated up to ``today`` inclusive: what a day's figures may see (a replay of a past
    day never sees money that arrived after it)."""
    return [p for p in payments if p.paid_on <= today]


def collection_for(
    month: Month,
    today: date,
    contracts: Iterable[ContractTerms],
    payments: Iterable[PaymentRecord],
    tiers: Sequence[Tier],
) -> tuple[Collection, list[ContractPosition]]:
    """The whole rule in one call, as of ``today`` (local date): keep the payments dated up to
    ``today``, apply renewals among ``contracts``, allocate each contract's payments, position them,
    summarize."""
    contracts = list(contracts)
    contracts = apply_renewals(contracts, [(c.id, c.client, c.start) for c in contracts])
    by_contract: dict[str, list[PaymentRecord]] = {}
    for payment in payments:
        if payment.paid_on <= today:
            by_contract.setdefault(payment.contract_id, []).append(payment)
    horizon = max(month, Month.of(today))
    positions = [position(allocate(terms, by_contract.get(terms.id, ()), horizon), month, today) for terms in contracts]
    return summarize(month, positions, tiers), positions
