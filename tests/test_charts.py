"""Pictures, captions and buttons of issue 14 as plain functions: sizes, Telegram's limits, the cache."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot import charts, texts
from bot.keyboards import MAX_CALLBACK_BYTES, ChartView, chart_button, export_debtors_button
from bot.rules import DEFAULT_TIERS, Collection, Month

FEBRUARY = Month(2019, 2)
THRESHOLDS = [t.threshold for t in DEFAULT_TIERS]


def curve(month: Month, values: list[str | None]) -> charts.Curve:
    days = tuple(month.first_day() + timedelta(days=n) for n in range(len(values)))
    return charts.Curve(texts.month_name(month), days, tuple(Decimal(v) if v else None for v in values))


def test_the_curve_is_a_png_of_the_promised_size_even_without_a_base() -> None:
    png = charts.collection_curve_png("Петров", curve(FEBRUARY, ["10", "55.5", "90.53"]), None, 28, THRESHOLDS)
    assert Image.open(BytesIO(png)).size == (charts.WIDTH_PX, charts.HEIGHT_PX)
    empty = charts.collection_curve_png("Нет базы", curve(FEBRUARY, [None] * 3), curve(Month(2019, 1), [None]), 28, [])
    assert Image.open(BytesIO(empty)).format == "PNG"


def test_a_large_teams_bars_show_the_worst_forty_within_telegrams_photo_limits() -> None:
    managers = [(f"Менеджер с очень длинной фамилией {n}", Decimal(n % 100)) for n in range(500)]
    picture = Image.open(BytesIO(charts.team_bars_png("Все команды", managers, THRESHOLDS)))
    width, height = picture.size
    assert (width, height) == (charts.WIDTH_PX, charts.team_bars_height(500)) == (800, 110 + 22 * charts.MAX_BARS)
    assert width + height <= 10000 and height / width <= 20  # what sendPhoto accepts


def test_the_cache_keeps_the_most_recently_used() -> None:
    cache = charts.PictureCache(size=2)
    cache.put("a", (b"1", "a"))
    cache.put("b", (b"2", "b"))
    assert cache.get("a") == (b"1", "a")
    cache.put("c", (b"3", "c"))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=200)
percents = st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(names, percents), max_size=300), names)
def test_captions_always_fit_1024_utf16_units(managers: list[tuple[str, Decimal | None]], title: str) -> None:
    caption = texts.team_chart_caption(title, FEBRUARY, managers, THRESHOLDS, Decimal("50"))
    assert texts.utf16_len(caption) <= texts.MAX_CAPTION
    total = Collection(FEBRUARY, 10**12, 10**11, 0, 0, 0, Decimal("10"), Decimal("0"), None)
    curve_text = texts.curve_caption(title, FEBRUARY, date(2019, 2, 25), Decimal("84.03"), Decimal("0.1"),
                                     Decimal("85"), 438649, Month(2019, 1), None)  # fmt: skip
    report_text = texts.report_caption(title, total, 3, 100, date(2019, 2, 25))
    for text in (
        texts.team_statement(
            title, total, len(managers), texts.month_state_note(None, date(2019, 3, 5), date(2019, 3, 1))
        ),
        report_text,
        curve_text,
    ):
        assert texts.utf16_len(text) <= texts.MAX_CAPTION


def test_a_caption_counts_emoji_as_two_units_and_marks_the_cut() -> None:
    assert texts.utf16_len("📈a") == 3
    cut = texts.caption("📈" * 600)
    assert texts.utf16_len(cut) <= 1024 and cut.endswith("…")
    lines = texts.caption("\n".join(["строка"] * 300))
    assert lines.endswith("\n…") and texts.utf16_len(lines) <= 1024


def test_chart_and_export_buttons_fit_64_bytes_or_are_left_out() -> None:
    longest = ChartView(manager="Ж" * 24, month="2019-12")
    assert len(longest.pack().encode()) <= MAX_CALLBACK_BYTES
    assert chart_button("Ж" * 24, "2019-12") is not None
    assert chart_button("Ж" * 40, "2019-12") is None  # an unusually long 1C id: no broken button
    assert export_debtors_button("Ж" * 28) is not None and export_debtors_button("Ж" * 40) is None


def test_names_from_the_data_are_drawn_as_text_never_as_math() -> None:
    hostile = [(r"ООО $\frac{1}{0}$ «Доллар»", Decimal("50")), ("$", None), (r"\\$x^{$", Decimal("99"))]
    png = charts.team_bars_png(r"Команда $\unknowncommand$", hostile, THRESHOLDS)
    assert Image.open(BytesIO(png)).format == "PNG"
    one = charts.collection_curve_png("$$ x $$", curve(FEBRUARY, ["1"]), None, 28, THRESHOLDS)
    assert Image.open(BytesIO(one)).format == "PNG"
