"""/report, /chart and the file buttons through the real Dispatcher and the recording session: the
document and the pictures as Telegram receives them, the captions, and scope on every press."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot import charts, texts
from bot.keyboards import ChartView, Export, ExportKind, ManagerView, View
from db.models import Employee, ImportRun
from tests.telegram import answers_of, files_of, texts_of
from tests.world import ADMIN, ARAKELYAN, IVANOV, SMIRNOVA, SUPERVISOR, World

HEADER_ROW = 4


def manager_rows(content: bytes) -> list[str]:
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    return [
        str(row[0].value)
        for row in sheet.iter_rows(min_row=HEADER_ROW + 1)
        if sheet.row_dimensions[row[0].row].outline_level == 0
    ]


async def test_report_is_sent_as_an_xlsx_document_with_a_caption(world: World) -> None:
    sent = await world.employee(SUPERVISOR).send("/report")
    (document,) = files_of(sent)
    assert document.chat_id == 1010
    assert document.document.filename == "raschet-oplat-2019-02-na-25.02.2019.xlsx"
    assert manager_rows(document.document.data) == [
        "Аракелян Наринэ 90,53 %", "Иванов Пётр 79,37 %", "Смирнова Ольга 67,53 %", "Итого 84,03 %",
    ]  # fmt: skip
    assert "Команда «Сопровождение»</b>: расчёт оплат за февраль 2019 на 25.02.2019" in document.caption
    assert "3 менеджера" in document.caption and "сбор <b>84,03 %</b>" in document.caption


async def test_a_managers_report_carries_only_their_own_row(world: World) -> None:
    (document,) = files_of(await world.employee(IVANOV).send("/report 2019-02"))
    rows = manager_rows(document.document.data)
    assert rows == ["Иванов Пётр 79,37 %", "Итого 79,37 %"]
    assert not any("Аракелян" in row or "Смирнова" in row for row in rows)


async def test_report_for_a_named_month_and_a_bad_one(world: World) -> None:
    (document,) = files_of(await world.employee(ARAKELYAN).send("/report январь"))
    assert document.document.filename.startswith("raschet-oplat-2019-01")
    sent = await world.employee(ARAKELYAN).send("/report тринадцатый")
    assert files_of(sent) == []
    (answer,) = texts_of(sent)
    assert "Не понял: «тринадцатый» — не месяц" in answer and "/report 2019-02" in answer


async def test_chart_sends_the_curve_to_a_manager_and_bars_as_well_to_a_supervisor(world: World) -> None:
    (curve,) = files_of(await world.employee(ARAKELYAN).send("/chart"), "SendPhoto")
    picture = Image.open(BytesIO(curve.photo.data))
    assert picture.format == "PNG" and picture.size == (charts.WIDTH_PX, charts.HEIGHT_PX)
    assert "На 25.02.2019 собрано <b>90,53 %</b> — KPI <b>0,2</b>." in curve.caption
    assert "Месяцем раньше к 25-му числу было" in curve.caption
    assert texts.utf16_len(curve.caption) <= texts.MAX_CAPTION

    team = files_of(await world.employee(SUPERVISOR).send("/chart"), "SendPhoto")
    assert [p.photo.filename for p in team] == ["curve-2019-02.png", "bars-2019-02.png"]
    bars = Image.open(BytesIO(team[1].photo.data))
    assert bars.size == (charts.WIDTH_PX, charts.team_bars_height(3))
    assert "сбор 84,03 %, худшие сверху" in team[1].caption
    assert "Ниже 75 %: 1 из 3 — Смирнова Ольга (67,53 %)." in team[1].caption
    assert "85 % и выше: 1 из 3." in team[1].caption
    assert "собрано <b>84,03 %</b>" in team[0].caption


async def test_a_chart_is_drawn_once_per_day_and_import(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    real = charts.collection_curve_png

    def counting(title: str, *args: Any) -> bytes:
        drawn.append(title)
        return real(title, *args)

    monkeypatch.setattr(charts, "collection_curve_png", counting)
    manager = world.employee(ARAKELYAN)
    first = files_of(await manager.send("/chart"), "SendPhoto")[0]
    again = files_of(await manager.send("/chart"), "SendPhoto")[0]
    assert len(drawn) == 1
    assert again.photo.data == first.photo.data and again.caption == first.caption
    async with world.pool() as session, session.begin():  # a new import: the data may have changed
        session.add(ImportRun(finished_at=datetime(2019, 2, 25, 6, 45), files="payments.csv", summary=""))
    await manager.send("/chart")
    assert len(drawn) == 2


async def test_chart_button_under_kpi_sends_that_managers_curve_and_is_answered(world: World) -> None:
    supervisor = world.employee(SUPERVISOR)
    kpi = await supervisor.press(ManagerView(view=View.KPI, manager=IVANOV).pack())
    sent = await supervisor.click(kpi, "📈 График")
    (photo,) = files_of(sent, "SendPhoto")
    assert photo.chat_id == 1010 and "Иванов Пётр</b>, февраль 2019" in photo.caption
    assert len(answers_of(sent)) == 1
    gap = re.search(r"не хватает <b>([^<]+)</b>", texts_of(kpi)[0])  # the /kpi screen's gap to 85 %
    assert gap is not None and f"До 85 % не хватает {gap.group(1)}." in photo.caption


async def test_chart_button_under_a_managers_own_kpi(world: World) -> None:
    manager = world.employee(ARAKELYAN)
    kpi = await manager.send("/kpi")
    sent = await manager.click(kpi, "📈 График")
    assert len(files_of(sent, "SendPhoto")) == 1 and len(answers_of(sent)) == 1


async def test_forged_chart_and_export_buttons_for_someone_else_show_nothing(world: World) -> None:
    async with world.pool() as session, session.begin():
        session.add(Employee(id="m-b", name="Чужой Менеджер", role="manager", team="Другая", active=True))
    for who, data in [
        (ARAKELYAN, ChartView(manager=SMIRNOVA)),
        (ARAKELYAN, Export(what=ExportKind.DEBTORS, manager=IVANOV)),
        (SUPERVISOR, ChartView(manager="m-b")),
        (SUPERVISOR, Export(what=ExportKind.DEBTORS, manager="m-b")),
    ]:
        sent = await world.employee(who).press(data.pack())
        assert [a.text for a in answers_of(sent)] == [texts.NOT_YOURS]
        assert files_of(sent) == [] and files_of(sent, "SendPhoto") == [] and texts_of(sent) == []


async def test_export_button_under_debtors_sends_the_debtors_file(world: World) -> None:
    manager = world.employee(ARAKELYAN)
    screen = await manager.send("/debtors")
    sent = await manager.click(screen, "📥 Выгрузить")
    (document,) = files_of(sent)
    assert document.document.filename == "dolzhniki-2019-02-25.xlsx"
    assert [a.text for a in answers_of(sent)] == [texts.FILE_SENT]
    sheet = load_workbook(BytesIO(document.document.data)).active
    assert sheet is not None
    assert [c.value for c in sheet[HEADER_ROW]] == ["Клиент", "Договоры", "Менеджер", "Долг", "Долг с", "Дней",
                                                    "Последняя оплата"]  # fmt: skip
    managers = {sheet.cell(row, 3).value for row in range(HEADER_ROW + 1, sheet.max_row)}
    assert managers == {"Аракелян Наринэ"}
    assert "Ваши должники</b> на 25.02.2019" in document.caption


async def test_a_supervisor_exports_one_managers_debtors_from_their_debtors_screen(world: World) -> None:
    supervisor = world.employee(SUPERVISOR)
    screen = await supervisor.press(ManagerView(view=View.DEBTORS, manager=SMIRNOVA).pack())
    sent = await supervisor.click(screen, "📥 Выгрузить")
    (document,) = files_of(sent)
    sheet = load_workbook(BytesIO(document.document.data)).active
    assert sheet is not None
    assert {sheet.cell(row, 3).value for row in range(HEADER_ROW + 1, sheet.max_row)} == {"Смирнова Ольга"}


async def test_help_lists_report_and_chart(world: World) -> None:
    help_text = texts_of(await world.employee(ADMIN).send("/help"))[0]
    assert "/report" in help_text and "/chart" in help_text


async def test_a_month_not_begun_and_an_empty_team_get_a_helpful_answer(world: World) -> None:
    for command in ("/report 2019-04", "/chart апрель 2019"):
        sent = await world.employee(ARAKELYAN).send(command)
        assert files_of(sent) == [] and files_of(sent, "SendPhoto") == []
        (answer,) = texts_of(sent)
        assert "апрель 2019 ещё не начался" in answer
    async with world.pool() as session, session.begin():
        session.add(Employee(id="s-empty", name="Пустая Команда", role="supervisor", team="Никого", active=True,
                             telegram_id=4242))  # fmt: skip
    for command in ("/report", "/chart"):
        assert texts_of(await world.user(4242).send(command)) == [texts.NO_MANAGERS]
