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
