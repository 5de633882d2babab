"""The collection rules (KPI1), on hand-made cases at their boundaries and as properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules import (
    DEFAULT_TIERS,
    ContractTerms,
    Month,
    PaymentRecord,
    Tier,
    allocate,
    amount_to_reach,
    collection_for,
    collection_percent,
    parse_tiers,
    plan_to_reach,
    reached_tier,
    reaches,
)

RUB = 100  # kopecks


def terms(fee_rub: int, start: Month = Month(2019, 1), months: int | None = None, closed_on: date | None = None,
          cid: str = "c1") -> ContractTerms:  # fmt: skip
    return ContractTerms(cid, "m1", fee_rub * RUB, start, months, closed_on)


def pay(amount_rub: int, on: date, period: Month | None = None, pid: str = "p", cid: str = "c1") -> PaymentRecord:
    return PaymentRecord(pid, cid, on, amount_rub * RUB, period)


# --- the source example -----------------------------------------------------------------------------


def test_source_example_arakelyan_is_90_53_percent_and_kpi_0_2() -> None:
    base, paid = 263_492 * RUB, 238_539 * RUB
    assert collection_percent(paid, base) == Decimal("90.53")
    tier = reached_tier(paid, base, DEFAULT_TIERS)
    assert tier is not None and tier.coefficient == Decimal("0.2")


# --- percent and tiers at their boundaries -------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "base", "coefficient"),
    [
        (8500, 10000, Decimal("0.2")),  # 85,00 %
        (8499, 10000, Decimal("0.1")),  # 84,99 %
        (7500, 10000, Decimal("0.1")),  # 75,00 %
        (7499, 10000, Decimal("0")),  # 74,99 %
        (10000, 10000, Decimal("0.2")),  # 100 %
        (0, 10000, Decimal("0")),
    ],
)
def test_tier_thresholds_are_inclusive(paid: int, base: int, coefficient: Decimal) -> None:
    tier = reached_tier(paid, base, DEFAULT_TIERS)
    assert (tier.coefficient if tier else Decimal("0")) == coefficient


def test_percent_is_rounded_half_up_to_hundredths() -> None:
    assert collection_percent(849950, 1000000) == Decimal("85.00")  # 84,995 % shows as 85,00 %
    assert collection_percent(849949, 1000000) == Decimal("84.99")
    assert collection_percent(1, 3) == Decimal("33.33")
    assert collection_percent(2, 3) == Decimal("66.67")


def test_tier_follows_the_shown_percent_so_they_never_disagree() -> None:
    # 84,995 % is shown as 85,00 %, and earns what 85,00 % earns
    assert reaches(849950, 1000000, Decimal("85"))
    assert not reaches(849949, 1000000, Decimal("85"))


def test_no_base_means_no_percent_and_no_coefficient() -> None:
    assert collection_percent(0, 0) is None
    assert reached_tier(0, 0, DEFAULT_TIERS) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("75:0.1,85:0.2", DEFAULT_TIERS),
        (" 75 : 0.1 , ", (Tier(Decimal("75"), Decimal("0.1")),)),
        ("50:0.05,75:0.1,85:0.2", (Tier(Decimal(50), Decimal("0.05")), *DEFAULT_TIERS)),
    ],
)
def test_parse_tiers_accepts_percent_colon_coefficient(text: str, expected: tuple[Tier, ...]) -> None:
    assert parse_tiers(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "at least one tier"),
        ("75", "percent:coefficient"),
        ("abc:0.1", "percent:coefficient"),
        ("85:0.2,75:0.1", "ascending"),
        ("75:0.2,85:0.1", "smaller coefficient"),
        ("120:0.1", "at most 100"),
        ("75:-1", "zero or positive"),
    ],
)
def test_parse_tiers_rejects_nonsense_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_tiers(text)


# --- activity and allocation -------------------------------------------------------------------------


def test_contract_is_active_from_start_for_its_months_and_until_closed() -> None:
    contract = terms(1000, Month(2019, 1), months=3)
    assert [contract.is_active(Month(2019, m)) for m in range(1, 6)] == [True, True, True, False, False]
    assert not contract.is_active(Month(2018, 12))
    closed = terms(1000, Month(2019, 1), closed_on=date(2019, 2, 10))
    assert closed.is_active(Month(2019, 2))  # closed during February: February is still billed
    assert not closed.is_active(Month(2019, 3))


def test_payment_with_period_counts_for_that_month() -> None:
    ledger = allocate(terms(1000), [pay(1000, date(2019, 3, 5), Month(2019, 2))], Month(2019, 3))
    assert ledger.paid(Month(2019, 2)) == 1000 * RUB
    assert ledger.paid(Month(2019, 1)) == 0


def test_payment_without_period_closes_the_oldest_unpaid_month_first() -> None:
    ledger = allocate(terms(1000), [pay(1000, date(2019, 2, 5))], Month(2019, 2))
    assert ledger.paid(Month(2019, 1)) == 1000 * RUB  # January's debt, not February
    assert ledger.paid(Month(2019, 2)) == 0


def test_prepayment_flows_into_later_months() -> None:
    ledger = allocate(terms(1000), [pay(3500, date(2019, 1, 10))], Month(2019, 3))
    assert [ledger.paid(Month(2019, m)) for m in (1, 2, 3)] == [1000 * RUB] * 3
    assert ledger.credit == 500 * RUB  # April's half, beyond the horizon


def test_period_payment_reserves_its_month_before_pooled_payments_fill_the_rest() -> None:
    payments = [pay(1000, date(2019, 1, 5), pid="a"), pay(1000, date(2019, 2, 5), Month(2019, 1), pid="b")]
    ledger = allocate(terms(1000), payments, Month(2019, 2))
    assert ledger.paid(Month(2019, 1)) == 1000 * RUB
    assert ledger.paid(Month(2019, 2)) == 1000 * RUB


def test_overpaying_a_named_period_is_not_counted_twice() -> None:
    ledger = allocate(terms(1000), [pay(1500, date(2019, 1, 5), Month(2019, 1))], Month(2019, 1))
    assert ledger.allocated[Month(2019, 1)] == 1500 * RUB
    assert ledger.paid(Month(2019, 1)) == 1000 * RUB


def test_money_after_a_finished_contract_is_credit() -> None:
    ledger = allocate(terms(1000, months=2), [pay(2500, date(2019, 1, 5))], Month(2019, 6))
    assert ledger.paid(Month(2019, 1)) == ledger.paid(Month(2019, 2)) == 1000 * RUB
    assert ledger.credit == 500 * RUB


def test_debt_is_unpaid_base_before_the_current_month_with_its_age() -> None:
    contract = terms(1000, Month(2018, 12))
    payments = [pay(1000, date(2018, 12, 5))]  # December paid, January unpaid
    collection, positions = collection_for(Month(2019, 2), date(2019, 2, 25), [contract], payments, DEFAULT_TIERS)
    (position,) = positions
    assert position.debt == 1000 * RUB
    assert position.oldest_unpaid == Month(2019, 1)
    assert position.debt_age_days == 55  # 1 January → 25 February
    assert position.awaiting == 1000 * RUB  # February, shown apart from the debt
    assert collection.debt == 1000 * RUB and collection.debtors == 1


def test_closed_contract_keeps_its_debt() -> None:
    contract = terms(1000, Month(2018, 11), closed_on=date(2018, 12, 20))
    collection, _ = collection_for(Month(2019, 2), date(2019, 2, 1), [contract], [], DEFAULT_TIERS)
    assert collection.debt == 2000 * RUB  # November and December
    assert collection.base == 0


# --- gap to the next tier and the plan ----------------------------------------------------------------


def test_gap_is_the_least_amount_that_reaches_the_threshold() -> None:
    base, paid = 263_492 * RUB, 200_000 * RUB
    gap = amount_to_reach(paid, base, Decimal("85"))
    assert reaches(paid + gap, base, Decimal("85"))
    assert not reaches(paid + gap - 1, base, Decimal("85"))


def test_plan_takes_the_fewest_contracts_largest_first() -> None:
    ids, covered = plan_to_reach(5000, [("a", 1000), ("b", 4000), ("c", 3000), ("d", 2500)])
    assert ids == ("b", "a") or ids == ("b", "c")
    assert covered
    assert plan_to_reach(5000, [("a", 1000), ("b", 4000), ("c", 3000)]) == (("b", "c"), True)


def test_plan_says_when_awaiting_payments_cannot_close_the_gap() -> None:
    assert plan_to_reach(9000, [("a", 1000), ("b", 2000)]) == (("b", "a"), False)


def test_summary_has_a_plan_for_the_next_tier_only() -> None:
    contracts = [terms(1000, cid=f"c{i}") for i in range(10)]
    payments = [pay(1000, date(2019, 1, 5), pid=f"p{i}", cid=f"c{i}") for i in range(8)]
    collection, _ = collection_for(Month(2019, 1), date(2019, 1, 20), contracts, payments, DEFAULT_TIERS)
    assert collection.percent == Decimal("80.00") and collection.coefficient == Decimal("0.1")
    assert collection.next_step is not None
    assert collection.next_step.tier.threshold == Decimal("85")
    # 84,995 % is shown as 85,00 %, so 499,50 ₽ is enough (not 500 ₽)
    assert collection.next_step.gap == 49950
    assert collection.next_step.client_ids == ("c8",)
    assert collection.next_step.covered


# --- properties --------------------------------------------------------------------------------------

months = st.integers(min_value=0, max_value=23).map(lambda i: Month(2018, 1).shift(i))
fees = st.integers(min_value=0, max_value=50_000 * RUB)


@st.composite
def contract_with_payments(draw: st.DrawFn) -> tuple[ContractTerms, list[PaymentRecord]]:
    start = draw(months)
    length = draw(st.none() | st.integers(min_value=1, max_value=24))
    closed = draw(st.none() | st.dates(min_value=date(2018, 1, 1), max_value=date(2020, 12, 31)))
    contract = ContractTerms("c", "m", draw(fees), start, length, closed)
    payments = [
        PaymentRecord(f"p{i}", "c", draw(st.dates(date(2018, 1, 1), date(2020, 12, 31))),
                      draw(st.integers(min_value=1, max_value=200_000 * RUB)), draw(st.none() | months))
        for i in range(draw(st.integers(min_value=0, max_value=12)))
    ]  # fmt: skip
    return contract, payments


@settings(max_examples=300, deadline=None)
@given(contract_with_payments(), months)
def test_allocation_conserves_money(case: tuple[ContractTerms, list[PaymentRecord]], horizon: Month) -> None:
    contract, payments = case
    ledger = allocate(contract, payments, horizon)
    assert sum(ledger.allocated.values()) + ledger.credit == sum(p.amount for p in payments)
    assert ledger.credit >= 0


@settings(max_examples=300, deadline=None)
@given(contract_with_payments(), months, st.randoms(use_true_random=False))
def test_payment_order_does_not_change_the_result(
    case: tuple[ContractTerms, list[PaymentRecord]], horizon: Month, rnd: object
) -> None:
    contract, payments = case
    shuffled = payments[:]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert allocate(contract, payments, horizon).allocated == allocate(contract, shuffled, horizon).allocated


@settings(max_examples=300, deadline=None)
@given(st.lists(contract_with_payments(), min_size=1, max_size=5), months)
def test_paid_never_exceeds_base_and_percent_stays_within_0_and_100(
    cases: list[tuple[ContractTerms, list[PaymentRecord]]], month: Month
) -> None:
    contracts = [ContractTerms(f"c{i}", "m", c.monthly_fee, c.start, c.months, c.closed_on) for i, (c, _) in
                 enumerate(cases)]  # fmt: skip
    payments = [PaymentRecord(f"{i}-{p.id}", f"c{i}", p.paid_on, p.amount, p.period)
                for i, (_, ps) in enumerate(cases) for p in ps]  # fmt: skip
    collection, positions = collection_for(month, date(2019, 6, 15), contracts, payments, DEFAULT_TIERS)
    for position in positions:
        assert 0 <= position.paid <= position.base
    assert 0 <= collection.paid <= collection.base
    if collection.percent is not None:
        assert Decimal(0) <= collection.percent <= Decimal(100)


@settings(max_examples=500, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**10),
    st.data(),
    st.decimals(min_value=1, max_value=100, places=2),
)
def test_gap_is_minimal_for_any_base_and_threshold(base: int, data: st.DataObject, threshold: Decimal) -> None:
    paid = data.draw(st.integers(min_value=0, max_value=base))
    gap = amount_to_reach(paid, base, threshold)
    if gap > 0:
        assert reaches(paid + gap, base, threshold)
        assert not reaches(paid + gap - 1, base, threshold)
    else:
        assert reaches(paid, base, threshold)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10**12), st.data())
def test_percent_is_exact_rounding_of_the_true_ratio(base: int, data: st.DataObject) -> None:
    from fractions import Fraction

    paid = data.draw(st.integers(min_value=0, max_value=base))
    shown = collection_percent(paid, base)
    assert shown is not None
    exact = Fraction(paid * 100, base)
    assert abs(Fraction(shown) - exact) <= Fraction(1, 200)  # within half a hundredth
    assert shown == shown.quantize(Decimal("0.01"))
