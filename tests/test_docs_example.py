"""The worked example of docs/collection.md, number by number."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from bot import texts
from bot.rules import DEFAULT_TIERS, ContractTerms, Month, PaymentRecord, collection_for

DOC = Path(__file__).parents[1] / "docs" / "collection.md"


def example():  # type: ignore[no-untyped-def]
    contracts = [
        ContractTerms("Д-1", "x", 300000, Month(2018, 11)),
        ContractTerms("Д-2", "x", 250000, Month(2019, 1)),
        ContractTerms("Д-3", "x", 1200000, Month(2019, 1)),
        ContractTerms("Д-4", "x", 180000, Month(2018, 12), months=3),
    ]
    payments = [
        PaymentRecord("1", "Д-1", date(2018, 11, 5), 300000),
        PaymentRecord("2", "Д-1", date(2018, 12, 5), 300000),
        PaymentRecord("3", "Д-1", date(2019, 2, 10), 300000),
        PaymentRecord("4", "Д-2", date(2019, 1, 15), 750000),
        PaymentRecord("5", "Д-3", date(2019, 2, 20), 1200000, Month(2019, 2)),
        PaymentRecord("6", "Д-4", date(2018, 12, 5), 180000),
        PaymentRecord("7", "Д-4", date(2019, 2, 5), 100000),
    ]
    return collection_for(Month(2019, 2), date(2019, 2, 25), contracts, payments, DEFAULT_TIERS)


def test_worked_example_numbers() -> None:
    collection, positions = example()
    by_id = {p.contract_id: p for p in positions}
    assert (collection.base, collection.paid, collection.awaiting) == (1930000, 1450000, 480000)
    assert collection.percent == Decimal("75.13") and collection.coefficient == Decimal("0.1")
    assert (collection.debt, collection.debtors) == (1280000, 2)
    assert by_id["Д-1"].awaiting == 300000 and by_id["Д-1"].debt == 0
    assert by_id["Д-3"].debt == 1200000 and by_id["Д-3"].debt_age_days == 55
    assert by_id["Д-4"].debt == 80000 and by_id["Д-4"].awaiting == 180000
    assert collection.next_step is not None
    assert collection.next_step.gap == 190404
    assert collection.next_step.client_ids == ("Д-1",)


def test_worked_example_text_is_what_the_doc_shows() -> None:
    collection, _ = example()
    doc = DOC.read_text(encoding="utf-8")
    for line in [*texts.collection_lines(collection)[:1], *texts.collection_lines(collection)[2:4],
                 texts.gap_lines(collection, {"Д-1": "x"}, {"Д-1": 300000})[0]]:  # fmt: skip
        assert texts.html_to_plain(line) in doc


# --- the examples added with issue 11 (terms history, renewal, refunds, debtors, month close) -----------


def test_fee_change_example() -> None:
    from dataclasses import replace

    contract = ContractTerms("E1", "36", 1000000, Month(2026, 6), 12, client_id="cE1")
    paid = [PaymentRecord(f"p{m}", "E1", date(2026, m, 5), 1000000, Month(2026, m)) for m in range(6, 12)]
    changed = replace(contract, fee_changes=((Month(2026, 11), 1200000),))
    november, _ = collection_for(Month(2026, 11), date(2026, 11, 29), [changed], paid, DEFAULT_TIERS)
    assert november.percent == Decimal("83.33") and november.coefficient == Decimal("0.1")
    assert (november.awaiting, november.debt) == (200000, 0)
    in_december = replace(contract, fee_changes=((Month(2026, 12), 1200000),))
    still, _ = collection_for(Month(2026, 11), date(2026, 11, 29), [in_december], paid, DEFAULT_TIERS)
    assert still.percent == Decimal("100.00")
    doc = DOC.read_text(encoding="utf-8")
    assert "**83,33 % → KPI 0,1**, awaiting 2 000 ₽, **debt 0 ₽**" in doc


def test_renewal_example() -> None:
    old = ContractTerms("D1", "35", 1000000, Month(2026, 6), 12, date(2026, 11, 15), client_id="cD")
    new = ContractTerms("D2", "35", 1200000, Month(2026, 11), 12, client_id="cD")
    payments = [PaymentRecord(f"p{m}", "D1", date(2026, m, 5), 1000000, Month(2026, m)) for m in range(6, 11)]
    payments.append(PaymentRecord("p11", "D2", date(2026, 11, 16), 1200000))
    november, _ = collection_for(Month(2026, 11), date(2026, 11, 29), [old, new], payments, DEFAULT_TIERS)
    assert (november.base, november.paid, november.awaiting) == (1200000, 1200000, 0)
    assert november.percent == Decimal("100.00")
    doc = DOC.read_text(encoding="utf-8")
    assert "base **12 000 ₽**, paid **12 000 ₽**, **100 %**, nothing awaited" in doc


def test_refunds_example() -> None:
    from bot.rules import allocate

    contract = ContractTerms("c", "m", 100000, Month(2026, 9))
    paid = PaymentRecord("p", "c", date(2026, 9, 5), 350000)
    ledger = allocate(contract, [paid, PaymentRecord("r", "c", date(2026, 11, 10), -200000)], Month(2026, 11))
    assert ledger.allocated == {Month(2026, 9): 100000, Month(2026, 10): 50000, Month(2026, 11): 0}
    assert sum(ledger.allocated.values()) + ledger.credit == 150000
    named = allocate(contract, [paid, PaymentRecord("r", "c", date(2026, 11, 10), -100000, Month(2026, 10))],
                     Month(2026, 11))  # fmt: skip
    assert named.allocated == {Month(2026, 9): 100000, Month(2026, 10): 0, Month(2026, 11): 100000}


def test_debtors_example() -> None:
    contracts = [ContractTerms("K1", "31", 1000000, Month(2026, 9), 12, client_id="c1"),
                 ContractTerms("K2", "31", 500000, Month(2026, 9), 12, client_id="c1")]  # fmt: skip
    payments = [PaymentRecord("1", "K1", date(2026, 9, 5), 1000000, Month(2026, 9)),
                PaymentRecord("2", "K2", date(2026, 9, 5), 500000, Month(2026, 9))]  # fmt: skip
    collection, _ = collection_for(Month(2026, 11), date(2026, 11, 29), contracts, payments, DEFAULT_TIERS)
    doc = DOC.read_text(encoding="utf-8")
    debt_line = texts.html_to_plain(texts.collection_lines(collection)[3])
    plan_line = texts.html_to_plain(texts.gap_lines(collection, {"c1": "ООО «Альфа»"}, {"c1": 1500000})[1])
    assert debt_line == "Долг: 15 000 ₽, 1 должник" and f'"{debt_line}"' in doc
    assert plan_line == "Это закроет: ООО «Альфа» (15 000 ₽)." and plan_line in doc


def test_month_close_example() -> None:
    from bot.rules import close_day
    from bot.workdays import WorkCalendar

    calendar = WorkCalendar("ru")
    assert close_day(Month(2026, 11), 3, calendar.is_working_day) == date(2026, 12, 3)
    assert close_day(Month(2026, 12), 3, calendar.is_working_day) == date(2027, 1, 13)
    doc = " ".join(DOC.read_text(encoding="utf-8").split())
    assert "November 2026 closes on Thursday 3 December 2026" in doc
    assert "on Wednesday 13 January 2027" in doc
