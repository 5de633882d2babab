"""The collection rules added for issue 11 and issue 10's refunds: terms with history, renewals,
refunds, the as-of day and debtors as clients — examples at the boundaries, then properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules import (
    DEFAULT_TIERS,
    ContractTerms,
    Month,
    PaymentRecord,
    allocate,
    apply_renewals,
    collection_for,
    keep_ledger,
    known_on,
    ledger_months,
    month_first_day,
    position,
)

RUB = 100
NOV, DEC = Month(2026, 11), Month(2026, 12)


def pay(rub: int, day: date, period: Month | None = None, pid: str = "p", cid: str = "c") -> PaymentRecord:
    return PaymentRecord(pid, cid, day, rub * RUB, period)


# --- terms with history ---------------------------------------------------------------------------------


def test_the_fee_in_force_is_the_latest_change_up_to_the_month() -> None:
    contract = ContractTerms("c", "m", 1000 * RUB, Month(2026, 6), fee_changes=((Month(2026, 9), 1200 * RUB),
                                                                                (NOV, 1500 * RUB)))  # fmt: skip
    assert [contract.fee(Month(2026, m)) // RUB for m in (5, 6, 8, 9, 10, 11, 12)] == [1000, 1000, 1000, 1200,
                                                                                          1200, 1500, 1500]  # fmt: skip


def test_a_pool_fills_each_month_up_to_its_own_fee() -> None:
    contract = ContractTerms("c", "m", 1000 * RUB, Month(2026, 10), fee_changes=((NOV, 1500 * RUB),))
    ledger = allocate(contract, [pay(2000, date(2026, 11, 5))], NOV)
    assert ledger.allocated == {Month(2026, 10): 1000 * RUB, NOV: 1000 * RUB}
    assert ledger.unpaid(NOV) == 500 * RUB and ledger.credit == 0


# --- renewals --------------------------------------------------------------------------------------------


def test_a_renewal_in_the_same_month_leaves_that_month_to_the_successor() -> None:
    old = ContractTerms("D1", "m", 1000 * RUB, Month(2026, 6), 12, date(2026, 11, 15), client_id="cD")
    new = ContractTerms("D2", "m", 1200 * RUB, NOV, 12, client_id="cD")
    renewed_old, renewed_new = apply_renewals([old, new], [("D1", "cD", old.start), ("D2", "cD", NOV)])
    assert renewed_old.unbilled == NOV and not renewed_old.is_active(NOV)
    assert renewed_old.last_month() == Month(2026, 10)
    assert renewed_new == new
    collection, _ = collection_for(NOV, date(2026, 11, 29), [old, new], [pay(1200, date(2026, 11, 16), cid="D2")],
                                   DEFAULT_TIERS)  # fmt: skip
    assert (collection.base, collection.paid, collection.awaiting) == (1200 * RUB, 1200 * RUB, 0)


def test_no_renewal_across_clients_or_months() -> None:
    old = ContractTerms("D1", "m", 1000 * RUB, Month(2026, 6), None, date(2026, 11, 15), client_id="cD")
    other_client = [("D2", "cE", NOV)]
    next_month = [("D2", "cD", DEC)]
    assert apply_renewals([old], other_client)[0].unbilled is None
    assert apply_renewals([old], next_month)[0].unbilled is None
    assert apply_renewals([old], [("D1", "cD", NOV)])[0].unbilled is None  # itself is no successor


# --- refunds ---------------------------------------------------------------------------------------------


def test_a_refund_naming_its_month_takes_back_that_month() -> None:
    contract = ContractTerms("c", "m", 1000 * RUB, Month(2026, 9))
    payments = [pay(3000, date(2026, 9, 5)), pay(-1000, date(2026, 11, 10), Month(2026, 10), pid="r")]
    ledger = allocate(contract, payments, NOV)
    assert ledger.allocated == {Month(2026, 9): 1000 * RUB, Month(2026, 10): 0, NOV: 1000 * RUB}


def test_a_refund_without_a_period_takes_the_credit_then_the_newest_months() -> None:
    contract = ContractTerms("c", "m", 1000 * RUB, Month(2026, 9))
    payments = [pay(3500, date(2026, 9, 5)), pay(-2000, date(2026, 11, 10), pid="r")]
    ledger = allocate(contract, payments, NOV)
    # 3 500 filled September–November and left 500 of credit; the refund takes the 500, then 1 500 of
    # November and October, newest first
    assert ledger.allocated == {Month(2026, 9): 1000 * RUB, Month(2026, 10): 500 * RUB, NOV: 0}
    assert ledger.credit == 0


def test_a_refund_larger_than_its_month_takes_the_rest_from_the_newest_months() -> None:
    contract = ContractTerms("c", "m", 1000 * RUB, Month(2026, 9))
    payments = [pay(2000, date(2026, 9, 5)), pay(-1500, date(2026, 11, 10), Month(2026, 9), pid="r")]
    ledger = allocate(contract, payments, NOV)
    assert ledger.allocated == {Month(2026, 9): 0, Month(2026, 10): 500 * RUB}


def test_a_refund_of_more_than_was_paid_leaves_a_negative_credit_and_no_negative_month() -> None:
    contract = ContractTerms("c", "m", 1000 * RUB, NOV)
    ledger = allocate(contract, [pay(500, date(2026, 11, 5)), pay(-800, date(2026, 11, 6), pid="r")], NOV)
    assert ledger.allocated == {NOV: 0} and ledger.credit == -300 * RUB


# --- as of a day -----------------------------------------------------------------------------------------


def test_a_payment_counts_from_its_own_date_on() -> None:
    contract = ContractTerms("c", "m", 1000 * RUB, NOV)
    payments = [pay(1000, date(2026, 12, 1), NOV)]
    on_30th, _ = collection_for(NOV, date(2026, 11, 30), [contract], payments, DEFAULT_TIERS)
    on_1st, _ = collection_for(NOV, date(2026, 12, 1), [contract], payments, DEFAULT_TIERS)
    assert (on_30th.paid, on_1st.paid) == (0, 1000 * RUB)
    assert known_on(payments, date(2026, 11, 30)) == []


def test_a_finished_month_shows_its_own_month_end_debt() -> None:
    contract = ContractTerms("c", "m", 1000 * RUB, Month(2026, 9))
    payments = [pay(1000, date(2026, 9, 5), Month(2026, 9))]  # October and November unpaid
    october, _ = collection_for(Month(2026, 10), date(2026, 12, 15), [contract], payments, DEFAULT_TIERS)
    current, _ = collection_for(DEC, date(2026, 12, 15), [contract], payments, DEFAULT_TIERS)
    assert (october.debt, october.awaiting) == (1000 * RUB, 0)  # October's own, never today's 2 000
    assert current.debt == 2000 * RUB


# --- the ledger as it is stored ------------------------------------------------------------------------


def test_keep_ledger_stores_the_documented_refund_example() -> None:
    """docs/collection.md, "Where the ledger is kept": 3 500 ₽ then −2 000 ₽, both without period, on a
    1 000 ₽ contract from September 2026, kept for November 2026."""
    terms = ContractTerms("c", "m", 1000 * RUB, Month(2026, 9), client_id="k")
    kept = keep_ledger(terms, [(3500 * RUB, None), (-2000 * RUB, None)], NOV)
    sep, oct_ = Month(2026, 9).index, Month(2026, 10).index
    assert kept.months == [
        (sep, 1000 * RUB, 1000 * RUB, 1000 * RUB, 0),
        (oct_, 1000 * RUB, 500 * RUB, 500 * RUB, 500 * RUB),
        (NOV.index, 1000 * RUB, 0, 0, 1000 * RUB),
    ]
    assert (kept.credit, kept.base, kept.paid, kept.debt, kept.oldest_unpaid) == (0, 1000 * RUB, 0, 500 * RUB, oct_)
    assert month_first_day(oct_) == date(2026, 10, 1)


def test_keep_ledger_stores_a_named_period_outside_the_contract_with_no_base() -> None:
    terms = ContractTerms("c", "m", 1000 * RUB, Month(2026, 9), months=2, client_id="k")
    kept = keep_ledger(terms, [(700 * RUB, DEC.index), (2500 * RUB, None)], NOV)
    assert kept.months == [
        (Month(2026, 9).index, 1000 * RUB, 1000 * RUB, 1000 * RUB, 0),
        (Month(2026, 10).index, 1000 * RUB, 1000 * RUB, 1000 * RUB, 0),
        (DEC.index, 0, 700 * RUB, 0, 0),
    ]
    assert (kept.credit, kept.base, kept.paid, kept.debt, kept.oldest_unpaid) == (500 * RUB, 0, 0, 0, None)


# --- properties ------------------------------------------------------------------------------------------

months = st.integers(min_value=0, max_value=23).map(lambda i: Month(2025, 1).shift(i))
days = st.dates(date(2025, 1, 1), date(2026, 12, 31))
fees = st.integers(min_value=0, max_value=50_000 * RUB)


@st.composite
def contract_and_payments(draw: st.DrawFn, refunds: bool = True) -> tuple[ContractTerms, list[PaymentRecord]]:
    start = draw(months)
    length = draw(st.none() | st.integers(min_value=1, max_value=24))
    closed = draw(st.none() | days)
    if closed is not None and closed < start.first_day():
        closed = None
    changes = tuple(sorted({m: draw(fees) for m in draw(st.lists(months, max_size=3))}.items()))
    contract = ContractTerms("c", "m", draw(fees), start, length, closed, client_id="k", fee_changes=changes)
    low = -100_000 * RUB if refunds else 1
    payments = [
        PaymentRecord(f"p{i}", "c", draw(days), draw(st.integers(min_value=low, max_value=200_000 * RUB)),
                      draw(st.none() | months))
        for i in range(draw(st.integers(min_value=0, max_value=12)))
    ]  # fmt: skip
    return contract, [p for p in payments if p.amount != 0]


@settings(max_examples=400, deadline=None)
@given(contract_and_payments(), months)
def test_refunds_conserve_money_and_no_month_goes_below_zero(
    case: tuple[ContractTerms, list[PaymentRecord]], horizon: Month
) -> None:
    contract, payments = case
    ledger = allocate(contract, payments, horizon)
    assert sum(ledger.allocated.values()) + ledger.credit == sum(p.amount for p in payments)
    assert all(amount >= 0 for amount in ledger.allocated.values())
    if ledger.credit < 0:  # only when the refunds exceed everything: nothing is left anywhere
        assert not any(ledger.allocated.values())


@settings(max_examples=300, deadline=None)
@given(contract_and_payments(), months, days)
def test_percent_is_never_negative_nor_above_100_with_refunds(
    case: tuple[ContractTerms, list[PaymentRecord]], month: Month, today: date
) -> None:
    contract, payments = case
    collection, positions = collection_for(month, today, [contract], payments, DEFAULT_TIERS)
    assert all(0 <= p.paid <= p.base and p.debt >= 0 and p.awaiting >= 0 for p in positions)
    if collection.percent is not None:
        assert Decimal(0) <= collection.percent <= Decimal(100)


@settings(max_examples=300, deadline=None)
@given(contract_and_payments(), months, fees, days)
def test_a_fee_change_never_changes_a_finished_month(
    case: tuple[ContractTerms, list[PaymentRecord]], change: Month, fee: int, today: date
) -> None:
    contract, payments = case
    later = (*((m, f) for m, f in contract.fee_changes if m < change), (change, fee))
    changed = replace(contract, fee_changes=later)
    horizon = max(change, Month.of(today))
    before, after = allocate(contract, payments, horizon), allocate(changed, payments, horizon)
    for month in (m for m in before.allocated.keys() | after.allocated.keys() if m < change):
        assert before.allocated.get(month, 0) == after.allocated.get(month, 0)
    for finished in (Month.of(d) for d in (contract.start.first_day(), today)):
        if finished < change:
            assert (before.base(finished), before.paid(finished)) == (after.base(finished), after.paid(finished))
    assert before.debt_before(change) == after.debt_before(change)


@settings(max_examples=300, deadline=None)
@given(st.lists(contract_and_payments(), min_size=1, max_size=4), days, st.lists(st.tuples(
    st.integers(min_value=1, max_value=400), st.integers(min_value=-50_000 * RUB, max_value=50_000 * RUB),
    st.none() | months), max_size=6))  # fmt: skip
def test_a_replay_of_day_d_is_unchanged_by_payments_dated_after_d(
    cases: list[tuple[ContractTerms, list[PaymentRecord]]],
    day: date,
    later: list[tuple[int, int, Month | None]],
) -> None:
    contracts = [replace(c, id=f"c{i}", client_id=f"k{i % 2}") for i, (c, _) in enumerate(cases)]
    payments = [replace(p, id=f"{i}-{p.id}", contract_id=f"c{i}") for i, (_, ps) in enumerate(cases) for p in ps]
    future = [PaymentRecord(f"f{n}", f"c{n % len(contracts)}", day + timedelta(days=after), amount, period)
              for n, (after, amount, period) in enumerate(later) if amount]  # fmt: skip
    for month in (Month.of(day), Month.of(day).shift(-1)):
        assert collection_for(month, day, contracts, payments, DEFAULT_TIERS) == collection_for(
            month, day, contracts, payments + future, DEFAULT_TIERS
        )


@settings(max_examples=200, deadline=None)
@given(st.lists(contract_and_payments(refunds=False), min_size=1, max_size=5), days)
def test_debtors_are_distinct_clients_and_the_plan_names_each_client_once(
    cases: list[tuple[ContractTerms, list[PaymentRecord]]], day: date
) -> None:
    contracts = [replace(c, id=f"c{i}", client_id=f"k{i % 2}") for i, (c, _) in enumerate(cases)]
    payments = [replace(p, id=f"{i}-{p.id}", contract_id=f"c{i}") for i, (_, ps) in enumerate(cases) for p in ps]
    collection, positions = collection_for(Month.of(day), day, contracts, payments, DEFAULT_TIERS)
    assert collection.debtors == len({p.client_id for p in positions if p.debt > 0}) <= 2
    if collection.next_step is not None:
        ids = collection.next_step.client_ids
        assert len(ids) == len(set(ids)) and set(ids) <= {"k0", "k1"}


@settings(max_examples=600, deadline=None)
@given(contract_and_payments(), st.integers(min_value=-3, max_value=28).map(lambda i: Month(2025, 1).shift(i)),
       st.booleans(), st.booleans())  # fmt: skip
def test_keep_ledger_is_allocate_then_ledger_months_and_the_horizon_position(
    case: tuple[ContractTerms, list[PaymentRecord]], horizon: Month, renewed: bool, zero: bool
) -> None:
    """The fast path the ledger is stored by gives exactly what the plain rules give: the same rows,
    the same credit, the same position in the horizon month (renewals and empty payments included)."""
    contract, payments = case
    if renewed and contract.closed_on is not None and Month.of(contract.closed_on) >= contract.start:
        contract = replace(contract, unbilled=Month.of(contract.closed_on))
    if zero:
        payments = [*payments, PaymentRecord("z", "c", date(2025, 1, 1), 0, horizon.shift(1))]
    ledger = allocate(contract, payments, horizon)
    kept = keep_ledger(contract, [(p.amount, p.period.index if p.period else None) for p in payments], horizon)
    plain = [(m.month.index, m.base, m.allocated, m.paid, m.unpaid) for m in ledger_months(ledger, horizon)]
    assert kept.months == plain
    assert kept.credit == ledger.credit
    seen = position(ledger, horizon, horizon.first_day())
    assert (kept.base, kept.paid, kept.debt) == (seen.base, seen.paid, seen.debt)
    assert kept.oldest_unpaid == (seen.oldest_unpaid.index if seen.oldest_unpaid else None)
    assert all(month_first_day(index) == Month.from_index(index).first_day() for index, *_ in kept.months)
