"""The team rules both the supervisor's digest and /team use: who is listed first, who is below the
first tier, and the team's total from its managers' totals. Pure: plain records in, plain records out."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from bot.rules.collection import Collection, Tier, collection_of_totals, percent_hundredths
from bot.rules.months import Kopecks, Month


def below_first_tier(collection: Collection, tiers: tuple[Tier, ...]) -> bool:
    return collection.base > 0 and collection.coefficient == 0 and bool(tiers)


def totals_of_team(month: Month, members: list[Collection], tiers: tuple[Tier, ...]) -> Collection:
    """The team's collection from its managers' totals (equal to ``team_total`` without the plan)."""
    return collection_of_totals(
        month,
        sum(c.base for c in members),
        sum(c.paid for c in members),
        sum(c.awaiting for c in members),
        sum(c.debt for c in members),
        sum(c.debtors for c in members),
        tiers,
    )


def worst_first(collections: dict[str, Collection], names: dict[str, str]) -> list[tuple[str, str, Collection]]:
    """(name, manager id, collection), lowest percent first, managers without base last, ties by name
    then id. The digest and /team both order by this, so they always list managers alike."""
    return sorted(
        ((names[mid], mid, collection) for mid, collection in collections.items()),
        key=lambda item: _worst_first_key(item[2].percent, item[0], item[1]),
    )


def _worst_first_key(percent: Decimal | int | None, name: str, manager_id: str) -> tuple[bool, Decimal | int, str, str]:
    return percent is None, percent or 0, name, manager_id


def worst_first_of_totals(
    totals: Mapping[str, tuple[Kopecks, Kopecks]], names: dict[str, str]
) -> list[tuple[str, str]]:
    """:func:`worst_first` from each manager's ``(paid, base)`` alone: (name, manager id) in the same
    order, without building a collection per manager (an admin's /team orders a thousand managers and
    shows twenty). The percent compared is the shown one in hundredths (``percent_hundredths``), which
    orders exactly as the shown ``Decimal`` does; a test holds the two orders equal."""
    return [
        (name, mid)
        for name, mid, _ in sorted(
            (
                (names[mid], mid, percent_hundredths(paid, base) if base > 0 else None)
                for mid, (paid, base) in totals.items()
            ),
            key=lambda item: _worst_first_key(item[2], item[0], item[1]),
        )
    ]
