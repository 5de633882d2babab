"""What the feature routers share: the linked-employee filter, the scope filters that inject the
checked subject, the refusal every router raises, and editing a message in place.

Scope is checked by filters (aiogram's "context addition from filter"): ``ManagerInScope`` and
``ContractInScope`` return ``{"manager": …}`` / ``{"contract": …, "manager": …}`` for a handler to use,
or raise :class:`Refused`, which the callback-answer middleware turns into the alert. The decision
itself is ``bot.rules.can_view``, the same rule as the SQL filter of ``db.queries.managers_in_scope``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, InaccessibleMessage, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.arguments import BadArgument, parse_month
from bot.keyboards import ContractCard, ManagerView, owner_tag
from bot.rules import Month, can_view, sees_team
from db import queries
from db.models import Employee
from handlers.screens import Screen


class Refused(Exception):
    """A polite refusal the person reads (``text``): shown as an alert on a button press, as a reply to a
    message. Raised by filters and handlers; answered in one place (``handlers/errors.py`` and
    ``handlers.middlewares.CallbackAnswers``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def linked(_: Any, viewer: Employee | None = None) -> bool:
    """Router filter: only linked, active employees get past it."""
    return viewer is not None


def linked_router(name: str) -> Router:
    """A feature router that only linked, active employees reach (the guard answered the rest)."""
    router = Router(name=name)
    router.message.filter(linked)
    router.callback_query.filter(linked)
    return router


def today_of(clock: Callable[[], datetime]) -> date:
    return clock().date()


class TeamViewer(Filter):
    """Supervisors and admins only; anyone else is refused (they keep /kpi for their own numbers)."""

    async def __call__(self, event: Message | CallbackQuery, viewer: Employee) -> bool:
        if not sees_team(queries.person_of(viewer)):
            raise Refused(texts.TEAM_ONLY if isinstance(event, Message) else texts.NOT_YOURS)
        return True


class ManagerInScope(Filter):
    """For ``ManagerView`` buttons: injects ``manager`` if the presser may see them now."""

    async def __call__(
        self, callback: CallbackQuery, callback_data: ManagerView, session: AsyncSession, viewer: Employee
    ) -> dict[str, Any]:
        return {"manager": await checked_manager(session, viewer, callback_data.manager)}


async def checked_manager(session: AsyncSession, viewer: Employee, manager_id: str) -> Employee:
    """The employee ``manager_id`` if ``viewer`` may see them now, else ``Refused``."""
    manager = await queries.get_employee(session, manager_id)
    if manager is None or not can_view(queries.person_of(viewer), queries.person_of(manager)):
        raise Refused(texts.NOT_YOURS)
    return manager


class ContractInScope(Filter):
    """For ``ContractCard`` buttons: injects ``contract`` and its ``manager`` if the presser may see
    them now. A contract 1C has since moved to a manager out of the presser's scope is refused with
    "передан другому менеджеру" (the button remembers its owner at drawing time); a forged one with
    "нет доступа"."""

    async def __call__(
        self, callback: CallbackQuery, callback_data: ContractCard, session: AsyncSession, viewer: Employee
    ) -> dict[str, Any]:
        contract = await queries.get_contract(session, callback_data.contract)
        if contract is None:
            raise Refused(texts.STALE)
        manager = await queries.get_employee(session, contract.manager_id)
        if manager is None or not can_view(queries.person_of(viewer), queries.person_of(manager)):
            moved = bool(callback_data.owner) and callback_data.owner != owner_tag(contract.manager_id)
            raise Refused(texts.CONTRACT_MOVED if moved else texts.NOT_YOURS)
        return {"contract": contract, "manager": manager}


async def named_manager(session: AsyncSession, viewer: Employee, name: str) -> Employee:
    """The one manager in ``viewer``'s scope that ``name`` names (id, or part of the name, ё = е);
    an unknown or ambiguous name is refused with the list of matches (or of whom one may ask)."""
    managers = await queries.managers_in_scope(session, viewer)
    matches = queries.matching_employees(managers, name)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise Refused(texts.no_such_manager(name, [m.name for m in managers]))
    raise Refused(texts.several_managers(name, [m.name for m in matches]))


async def show(callback: CallbackQuery, screen: Screen) -> None:
    """Edit the pressed message in place (the middleware answers the callback)."""
    message = callback.message
    if message is None or isinstance(message, InaccessibleMessage):
        raise Refused(texts.STALE)
    try:
        await message.edit_text(screen.text, reply_markup=screen.markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in str(error):
            raise


async def past_month_and_scope(
    session: AsyncSession, viewer: Employee, argument: str, today: date
) -> tuple[Month, list[Employee]]:
    """For /report and /chart: the month the argument names (the current one by default; a month to
    come is a ``BadArgument``) and the managers in ``viewer``'s scope (none: ``Refused``)."""
    month = parse_month(argument, today)
    if month > Month.of(today):
        raise BadArgument(texts.month_not_begun(month))
    managers = await queries.managers_in_scope(session, viewer)
    if not managers:
        raise Refused(texts.NO_MANAGERS)
    return month, managers
