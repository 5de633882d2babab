"""Formatting and Telegram's rules: Russian numbers, HTML escaping, 4096 characters."""

from __future__ import annotations

import html
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def test_team_digest_renders_only_the_lines_that_fit_and_counts_the_rest() -> None:
    """An admin's digest over a thousand managers: the lines left out are counted, never rendered,
    and the message is the one every line rendered up front makes."""
    members = [(f"Менеджер {i}", _collection(i % 100), i % 3 == 0, "") for i in range(1000)]
    total = summarize(Month(2019, 2), [], DEFAULT_TIERS)
    rendered: list[str] = []

    def line(member: tuple[str, Collection, bool, str]) -> str:
        rendered.append(member[0])
        return texts.team_line(*member)

    lazy = texts.Rendered(members, line)
    eager = [texts.team_line(*m) for m in members]
    assert texts.fit("head", lazy, "tail") == texts.fit("head", eager, "tail")
    shown = texts.team_digest("Соколов Андрей", "Все команды", total, members, None)
    assert 0 < len(rendered) < 100 and len(lazy) == 1000
    assert f"… и ещё {1000 - len(rendered) + 1}, полный список — /team" in texts.fit("head", eager, "tail")
    assert "… и ещё" in shown and len(shown) <= texts.MAX_MESSAGE


# --- message budgets in UTF-16 units ------------------------------------------------------------------------


def test_names_are_shortened_by_their_escaped_utf16_length() -> None:
    assert texts.q("ООО «Рога & Копыта»", 16) == "ООО «Рога &amp;…"  # 16 units: the entity is whole
    assert texts.q("😀😀😀 & <b>", 7) == "😀😀😀…"  # an emoji is 2 units and never cut in half
    assert texts.q("ООО «Рога & Копыта»") == "ООО «Рога &amp; Копыта»"  # short names stay whole
    assert texts.q("строка\nвторая") == "строка вторая"  # a name is one line
    assert texts.shorten("Аракелян Наринэ Ашотовна", 12) == "Аракелян На…"


@given(st.text(), st.integers(min_value=2, max_value=300))
def test_a_shortened_name_fits_and_is_the_start_of_the_name(name: str, limit: int) -> None:
    shown = texts.q(name, limit)
    assert texts.utf16_len(shown) <= limit
    plain = html.unescape(shown)
    one_line = " ".join(name.split()) if ("\n" in name or "\r" in name) else name
    assert plain == one_line or (plain.endswith("…") and one_line.startswith(plain[:-1].rstrip()))


@given(st.lists(st.text(alphabet="Ж😀&<a\n ", max_size=400), max_size=60), st.integers(100, 4096))
def test_fit_keeps_the_whole_message_within_the_limit(rows: list[str], limit: int) -> None:
    head, tail = "<b>Заголовок</b>\n", "<i>данные 1С на 25.02 07:30</i>"
    text = texts.fit(head, [texts.q(r) for r in rows], tail, limit)
    assert texts.utf16_len(text) <= limit


@given(st.lists(st.integers(0, 900), max_size=40), st.integers(1, 12))
def test_pages_are_cut_by_count_and_by_size(sizes: list[int], per_page: int) -> None:
    pages = texts.pages_by_size(sizes, per_page, 1000)
    assert [n for page in pages for n in page] == list(range(len(sizes)))
    for page in pages:
        assert len(page) <= per_page
        assert len(page) == 1 or sum(sizes[n] + 1 for n in page) <= 1000


@given(st.text(alphabet="Жa😀&<> \n", max_size=300), st.integers(2, 300))
def test_a_rows_size_bound_is_never_below_what_is_shown(value: str, limit: int) -> None:
    assert texts.utf16_len(texts.q(value, limit)) <= texts.shown_size(value, limit)


def test_a_caption_is_cut_by_whole_lines() -> None:
    text = "\n".join(f"Строка {n} 😀" for n in range(200))
    caption = texts.caption(text)
    assert texts.utf16_len(caption) <= texts.MAX_CAPTION and caption.endswith("\n…")
    assert text.startswith(caption[:-2])


@pytest.mark.parametrize("first", ["0", "-0", "0.00", "-0.00"])
def test_a_remembered_percent_is_the_text_of_its_own_value_whatever_came_first(first: str) -> None:
    """The formatted percents and coefficients are remembered; Decimal("-0") equals Decimal("0")
    (and hashes alike), so remembering by the Decimal gave whichever was formatted first."""
    texts.percent(Decimal(first))
    texts.coefficient(Decimal(first))
    assert texts.percent(Decimal("-0.00")) == "-0,00 %" and texts.percent(Decimal("0.00")) == "0,00 %"
    assert texts.percent(Decimal("-0")) == "-0,00 %" and texts.percent(Decimal("0")) == "0,00 %"
    assert texts.coefficient(Decimal("-0")) == "-0" and texts.coefficient(Decimal("0")) == "0"
