"""The business rules of kpibot, one module per domain. Pure: plain dataclasses in, plain dataclasses out,
no I/O, no aiogram, no SQLAlchemy. Every amount of money is an ``int`` number of kopecks, every percent a
``Decimal``; there is no float anywhere. This is the package to read first.

- ``months``: the billing month.
- ``collection``: KPI1, tiers, allocation, debt, the plan to the next tier (``docs/collection.md``).
- ``access``: who may see whom (``Role``, ``Scope``, ``scope_of``, ``can_view``).
- ``team``: worst first, below the first tier, the team's total.
- ``discipline``: the control checks on calls, meetings and documents (``docs/discipline.md``).

Importing from ``bot.rules`` keeps working for every public name.
"""

from __future__ import annotations

from bot.rules.access import NOBODY, Person, Role, Scope, can_view, scope_of, sees_team
from bot.rules.collection import (
    DEFAULT_TIERS,
    Collection,
    ContractLedger,
    ContractPosition,
    ContractTerms,
    GapPlan,
    PaymentRecord,
    Tier,
    allocate,
    amount_to_reach,
    collection_for,
    collection_of_totals,
    collection_percent,
    parse_tiers,
    percent_hundredths,
    plan_to_reach,
    position,
    reached_tier,
    reaches,
    summarize,
)
from bot.rules.discipline import (
    MISSED_DISPOSITIONS,
    RULE_ORDER,
    Activity,
    Finding,
    Paper,
    Period,
    PhoneCall,
    Rule,
    Thresholds,
    abnormal_durations,
    counts_by_rule,
    day_period,
    discipline,
    every_day,
    missed_not_returned,
    no_contact,
    no_follow_up,
    not_done,
    originals_missing,
    phone_key,
)
from bot.rules.months import (
    Kopecks,
    Month,
    months_between,
)
from bot.rules.team import below_first_tier, totals_of_team, worst_first

__all__ = [
    "DEFAULT_TIERS",
    "MISSED_DISPOSITIONS",
    "NOBODY",
    "RULE_ORDER",
    "Activity",
    "Collection",
    "ContractLedger",
    "ContractPosition",
    "ContractTerms",
    "Finding",
    "GapPlan",
    "Kopecks",
    "Month",
    "Paper",
    "PaymentRecord",
    "Period",
    "Person",
    "PhoneCall",
    "Role",
    "Rule",
    "Scope",
    "Thresholds",
    "Tier",
    "abnormal_durations",
    "allocate",
    "amount_to_reach",
    "below_first_tier",
    "can_view",
    "collection_for",
    "collection_of_totals",
    "collection_percent",
    "counts_by_rule",
    "day_period",
    "discipline",
    "every_day",
    "missed_not_returned",
    "months_between",
    "no_contact",
    "no_follow_up",
    "not_done",
    "originals_missing",
    "parse_tiers",
    "percent_hundredths",
    "phone_key",
    "plan_to_reach",
    "position",
    "reached_tier",
    "reaches",
    "scope_of",
    "sees_team",
    "summarize",
    "totals_of_team",
    "worst_first",
]
