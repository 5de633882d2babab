"""Formatting and Telegram's rules: Russian numbers, HTML escaping, 4096 characters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot import texts
from bot.rules import DEFAULT_TIERS, Collection, Month, Rule, summarize


def test_money_is_russian_with_kopecks_only_when_there_are_any() -> None:
    assert texts.money(26349200) == "263 492 ₽"
    assert texts.money(281850) == "2 818,50 ₽"
    assert texts.money(0) == "0 ₽"
    assert texts.money(123456789) == "1 234 567,89 ₽"


def test_percent_and_coefficient() -> None:
    assert texts.percent(Decimal("90.53")) == "90,53 %"
    assert texts.percent(Decimal("100.00")) == "100,00 %"
    assert texts.percent(None) == "—"
    assert texts.coefficient(Decimal("0.2")) == "0,2"
    assert texts.coefficient(Decimal("0")) == "0"
    assert texts.threshold(Decimal("85")) == "85 %"
    assert texts.threshold(Decimal("84.5")) == "84,5 %"


def test_month_names_and_plurals() -> None:
    assert texts.month_name(Month(2019, 2)) == "февраль 2019"
    assert [texts.plural(n, "должник", "должника", "должников") for n in (1, 2, 5, 11, 21, 22, 112)] == [
        "должник", "должника", "должников", "должников", "должник", "должника", "должников"]  # fmt: skip


def test_greeting_uses_the_name_after_the_surname() -> None:
    assert texts.first_name("Аракелян Наринэ") == "Наринэ"
    assert texts.first_name("Кузнецова Марина Сергеевна") == "Марина Сергеевна"
    assert texts.first_name("Админ") == "Админ"


def _collection(percent_paid: int) -> Collection:
    return Collection(Month(2019, 2), 10000, percent_paid * 100, 0, 0, 0, Decimal(percent_paid), Decimal("0.1"), None)


def test_escaping_is_exactly_aiograms() -> None:
    from aiogram import html

    for value in ["ООО «Рога & Копыта» <b>", "<script>&amp;", "a\"b'c", "плain"]:
        assert texts.q(value) == html.quote(value)


def test_hostile_names_are_escaped_in_digests() -> None:
    name = "ООО «Рога & Копыта» <b>"
    text = texts.manager_digest(name, _collection(80), {}, {}, datetime(2019, 2, 25, 7, 30))
    assert "&lt;b&gt;" in text and "&amp;" in text
    assert "<b>Доброе утро" in text


def test_team_digest_of_a_thousand_managers_fits_in_one_message() -> None:
    members = [(f"Менеджер {i} <i>", _collection(i % 100), True, "замечаний 3, за неделю 12 ↑") for i in range(1000)]
    total = summarize(Month(2019, 2), [], DEFAULT_TIERS)
    escalations = texts.escalations_block([texts.every_day_item(f"Менеджер {i}", list(Rule)) for i in range(1000)])
    assert escalations is not None and escalations.count("\n") == 9  # capped
    text = texts.team_digest("Соколов Андрей", "Все команды", total, members, None, ["<b>Внимание</b>", escalations])
    assert len(text) <= texts.MAX_MESSAGE
    assert "… и ещё" in text and "полный список — /team" in text
    assert text.endswith("<i>данные 1С ещё не загружались</i>")
    assert "&lt;i&gt;" in text
