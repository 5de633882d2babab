"""``kpibot report`` as a user runs it: a real process on the demo database and on a real server."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.factories import small_exports
from tests.test_cli import kpibot


def manager_rows(path: Path) -> list[list[object]]:
    sheet = load_workbook(BytesIO(path.read_bytes())).active
    assert sheet is not None
    return [[c.value for c in row][:4] for row in sheet.iter_rows(min_row=5)
            if sheet.row_dimensions[row[0].row].outline_level == 0]  # fmt: skip


def test_report_of_the_demo_matches_the_source(tmp_path: Path) -> None:
    assert kpibot("demo", cwd=tmp_path).returncode == 0
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kpibot-demo.db'}", "COMPANY_NAME": "ООО  «Софт-Сервис»"}
    result = kpibot("report", "--month", "2019-02", "-o", "report.xlsx", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("report.xlsx: Все команды: расчёт оплат за февраль 2019 на ")
    rows = manager_rows(tmp_path / "report.xlsx")
    assert rows[0] == ["Аракелян Наринэ 90,53 %", None, 263492, 238539]
    assert rows[-1] == ["Итого 84,03 %", None, 454292, 381739]
    sheet = load_workbook(tmp_path / "report.xlsx").active
    assert sheet is not None and sheet["A1"].value == "ООО «Софт-Сервис»: расчёт оплат за регулярное сопровождение"


def test_report_for_one_team_on_a_date_with_the_default_name(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    assert kpibot("import", str(small_exports(tmp_path / "exports")), cwd=tmp_path, env=env).returncode == 0
    result = kpibot("report", "--date", "2019-02-25", "--team", "a", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "raschet-oplat-2019-02-na-25.02.2019.xlsx"
    assert result.stdout.startswith(f"{written.name}: Команда «A»: расчёт оплат за февраль 2019")
    # the digest of the same day prints 51,56 % for m1 (tests/test_cli.py)
    assert manager_rows(written) == [["Аракелян Наринэ 51,56 %", None, 5818.5, 3000], ["Итого 51,56 %", None, 5818.5,
                                                                                       3000]]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["report", "--month", "2019-13"], "аргумент --month: нет такого месяца: «2019-13»; нужен месяц ГГГГ-ММ", 2),
        (["report", "--month", "февраль"], "аргумент --month: «февраль»: не месяц; нужен месяц ГГГГ-ММ", 2),
        (["report", "--team", "Нет такой"], "kpibot: в команде «Нет такой» нет активных менеджеров; команды: «A», «B»",
         1),
        (["report", "--date", "2019-02-25", "--month", "2019-03"], "kpibot: месяц 2019-03 на 25.02.2019 ещё не начался",
         1),
        (["report", "--date", "2019-02-25", "-o", "no/such/folder/r.xlsx"], "не удалось записать no/such/folder",
         1),
    ],
)  # fmt: skip
def test_bad_report_arguments_get_one_clear_line(tmp_path: Path, args: list[str], message: str, status: int) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"}
    assert kpibot("import", str(small_exports(tmp_path / "exports")), cwd=tmp_path, env=env).returncode == 0
    result = kpibot(*args, cwd=tmp_path, env=env)
    assert result.returncode == status
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 3
