"""Moved to ``bot.rules.access`` (the scope rule is a rule). This name stays for code written against
the old path while the branches merge; import from ``bot.rules`` in new code."""

from bot.rules.access import NOBODY, Person, Role, Scope, can_view, scope_of, sees_team

__all__ = ["NOBODY", "Person", "Role", "Scope", "can_view", "scope_of", "sees_team"]
