"""Dates and months a person may type that the calendar cannot hold: a helpful answer through the
real Dispatcher, never "Что-то пошло не так" (found trying the merged bot as a user would)."""

from __future__ import annotations

import logging

import pytest

from bot import texts
from tests.telegram import texts_of
from tests.world import ARAKELYAN, SUPERVISOR, World


@pytest.mark.parametrize(
    ("who", "command", "answer"),
    [
        (ARAKELYAN, "/kpi февраль 0000", "нет такого месяца: «февраль 0000»"),
        (ARAKELYAN, "/report февраль 0000", "нет такого месяца: «февраль 0000»"),
        (ARAKELYAN, "/chart февраль 0000", "нет такого месяца: «февраль 0000»"),
        (SUPERVISOR, "/team февраль 0000", "нет такого месяца: «февраль 0000»"),
        (ARAKELYAN, "/calls февраль 0000", "нет такого месяца: «февраль 0000»"),
        (ARAKELYAN, "/calls 9999-12-31", "«9999-12-31»: год вне 2000–2100"),
        (ARAKELYAN, "/calls 31.12.9999", "«31.12.9999»: год вне 2000–2100"),
        (ARAKELYAN, "/calls 01.01.0001", "«01.01.0001»: год вне 2000–2100"),  # was shown as 01.01.2001
    ],
)
async def test_an_impossible_date_is_a_bad_argument_not_a_failure(
    world: World, caplog: pytest.LogCaptureFixture, who: str, command: str, answer: str
) -> None:
    with caplog.at_level(logging.WARNING):
        replies = texts_of(await world.employee(who).send(command))
    assert len(replies) == 1 and answer in replies[0], replies
    assert texts.SOMETHING_WRONG not in replies[0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
