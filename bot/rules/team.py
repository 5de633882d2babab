"""The team rules both the supervisor's digest and /team use: who is listed first, who is below the
first tier, and the team's total from its managers' totals. Pure: plain records in, plain records out."""

from __future__ import annotations

from bot.rules.collection import Collection, Tier, collection_of_totals
from bot.rules.months import Month


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
        key=lambda item: (item[2].percent is None, item[2].percent or 0, item[0], item[1]),
    )
