"""Who may see what. Pure: decided on plain values, checked on every use (commands and callbacks).

- a manager sees their own data;
- a supervisor sees the managers of their team (and themself);
- an admin sees everyone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    id: str
    role: str
    team: str
    active: bool = True


def can_view(viewer: Person, subject: Person) -> bool:
    """May ``viewer`` see ``subject``'s numbers, clients and contracts?"""
    if not viewer.active:
        return False
    if viewer.role == "admin":
        return True
    if viewer.id == subject.id:
        return True
    if viewer.role == "supervisor":
        return subject.role == "manager" and bool(viewer.team) and subject.team == viewer.team
    return False


def sees_team(viewer: Person) -> bool:
    return viewer.active and viewer.role in {"supervisor", "admin"}
