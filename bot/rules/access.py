"""Who may see whom: the one scope rule. Pure: decided on plain values.

The rule (issue 11, "one scope rule"):

- an inactive employee sees nobody, not even themself;
- everyone else sees themself;
- an admin sees everyone;
- a supervisor also sees the managers of their own team; a supervisor without a team (``team == ""``)
  sees only themself (never the managers who have no team either);
- a manager sees only themself.

:func:`scope_of` states the rule once, as a :class:`Scope`. Both uses read that one value: the button
check (:func:`can_view`, via :meth:`Scope.includes`) and the SQL filter (``db.queries.managers_in_scope``
turns the same ``Scope`` fields into a ``WHERE`` clause). A property test over random org charts holds
the two equal (``tests/test_access_and_arguments.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """An employee's role as 1C exports it (after the importer's vocabulary)."""

    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Person:
    id: str
    role: str
    team: str
    active: bool = True


@dataclass(frozen=True)
class Scope:
    """Whom one viewer sees: ``viewer_id`` (themself; ``None`` for nobody at all), everyone, or also
    the managers of ``team`` (never the empty team)."""

    viewer_id: str | None
    everyone: bool = False
    team: str | None = None

    def includes(self, subject: Person) -> bool:
        if self.viewer_id is None:
            return False
        if self.everyone or subject.id == self.viewer_id:
            return True
        return self.team is not None and subject.role == Role.MANAGER and subject.team == self.team


NOBODY = Scope(viewer_id=None)


def scope_of(viewer: Person) -> Scope:
    """The one decision of who ``viewer`` may see (see the module docstring for the rule)."""
    if not viewer.active:
        return NOBODY
    if viewer.role == Role.ADMIN:
        return Scope(viewer.id, everyone=True)
    if viewer.role == Role.SUPERVISOR and viewer.team:
        return Scope(viewer.id, team=viewer.team)
    return Scope(viewer.id)


def can_view(viewer: Person, subject: Person) -> bool:
    """May ``viewer`` see ``subject``'s numbers, clients and contracts? (Checked on every button press.)"""
    return scope_of(viewer).includes(subject)


def sees_team(viewer: Person) -> bool:
    """Supervisors and admins get the team screens (/team, a name after /kpi)."""
    return viewer.active and viewer.role in {Role.SUPERVISOR, Role.ADMIN}
