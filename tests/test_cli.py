"""The ``kpibot`` command as a user runs it: a real process, real files, real databases."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot import texts
from tests.factories import PAYMENTS_HEADER, small_exports, write_csv

KPIBOT = str(Path(sys.executable).with_name("kpibot"))


def kpibot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: val for k, val in os.environ.items() if not k.startswith(("DATABASE_URL", "KPI_", "BOT_"))}
    full_env.update(env or {})
    return subprocess.run([KPIBOT, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)


def test_demo_prints_the_source_example_without_token_or_network(tmp_path: Path) -> None:
    result = kpibot("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    block = result.stdout.split("══ Аракелян Наринэ")[1].split("\n══ ")[0]
    assert "Сбор за февраль 2019: 90,53 % — KPI 0,2" in block
    assert "База 263 492 ₽ · оплачено 238 539 ₽ · ждём 24 953 ₽" in block
    assert "Traceback" not in result.stderr
    assert (tmp_path / "kpibot-demo.db").exists()
    assert (tmp_path / "demo-exports" / "contracts.csv").read_bytes().decode("cp1251").startswith("Код;Номер;")


def test_python_dash_m_bot_is_the_same_command(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0
    assert "import" in result.stdout and "demo" in result.stdout


def test_import_then_employees_then_digest(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    folder = small_exports(tmp_path / "exports")
    imported = kpibot("import", str(folder), cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    assert re.search(r"^сотрудники\s+4\s+0\s+0\s+0$", imported.stdout, re.M)
    again = kpibot("import", str(folder), cwd=tmp_path, env=env)
    assert re.search(r"^оплаты\s+0\s+0\s+3\s+0$", again.stdout, re.M)
    employees = kpibot("employees", cwd=tmp_path, env=env)
    assert texts.cli_linked(0, 4) in employees.stdout
    digest = kpibot("digest", "--date", "2019-02-25", "--employee", "m1", cwd=tmp_path, env=env)
    assert digest.returncode == 0, digest.stderr
    assert "Аракелян Наринэ" in digest.stdout
    # c1 paid January only (February awaited); c2 paid February naming the period, January is a debt:
    # 3 000 of 5 818,50 ₽ → 51,56 %
    assert "Сбор за февраль 2019: 51,56 % — KPI 0" in digest.stdout
    assert "Долг: 3 000 ₽, 1 должник" in digest.stdout
    assert "ждём 2 818,50 ₽" in digest.stdout


def test_a_second_import_of_the_same_folder_does_not_say_it_loaded_the_files_it_skipped(
    tmp_path: Path, database_url: str
) -> None:
    """It printed "загружено 6 файлов: …" and then "не изменились …, не читались: " the same six."""
    env = {"DATABASE_URL": database_url}
    folder = small_exports(tmp_path / "exports")
    first = kpibot("import", str(folder), cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    files = first.stdout.strip().splitlines()[-1].split(": ", 1)[1].split(", ")
    assert first.stdout.strip().splitlines()[-1] == texts.cli_imported(files)
    again = kpibot("import", str(folder), cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == texts.cli_skipped(files)
    assert "загружено" not in again.stdout


def test_bad_import_exits_1_names_file_and_line_and_keeps_data(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    folder = small_exports(tmp_path / "exports")
    assert kpibot("import", str(folder), cwd=tmp_path, env=env).returncode == 0
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [["p9", "c1", "05.03.2019", "сто рублей", ""]])
    result = kpibot("import", str(folder), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "payments.csv:2: amount: сто рублей: not an amount of money" in result.stderr
    assert result.stderr.strip().endswith(f"kpibot: {texts.cli_problems_found(1)}")
    assert "Traceback" not in result.stderr
    digest = kpibot("digest", "--date", "2019-02-25", "--employee", "m1", cwd=tmp_path, env=env)
    assert "51,56 %" in digest.stdout


YEARS_2000_2100 = "нужна дата ГГГГ-ММ-ДД, год с 2000 по 2100"  # the bot's years (bot/arguments.py)


@pytest.mark.parametrize(
    ("args", "env", "message", "status"),
    [
        (["employees"], {"KPI_TIERS": "abc"}, "kpibot: Настройка KPI_TIERS:", 2),
        (["employees"], {"TIMEZONE": "Nowhere/City"}, "kpibot: Настройка TIMEZONE: неизвестный часовой пояс", 2),
        (["digest", "--employee", "nobody"], {}, "kpibot: нет сотрудника с id nobody", 1),
        (["digest", "--date", "25.02.2019"], {}, "«25.02.2019»: не дата; нужна дата ГГГГ-ММ-ДД", 2),
        (["digest", "--date", "2019-02-29"], {}, "в 2019 году нет 29 февраля", 2),
        (["digest", "--date", "2999-01-01"], {}, f"«2999-01-01»: год вне 2000–2100; {YEARS_2000_2100}", 2),
        (["digest", "--date", "2100-12-31"], {}, texts.future_day(date(2100, 12, 31)), 1),
        (["digest", "--send", "--date", "2100-12-31"], {}, "31.12.2100 ещё не наступило", 1),
        (["import", "missing-folder"], {}, "missing-folder: нет такого файла или папки", 1),
        (["employees"], {"DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}, "не открывается база данных",
         1),
        (["outbox"], {"DATABASE_URL": "sqlite+aiosqlite:///none.db"}, "kpibot: базы данных нет (none.db)", 1),
        # a date or month argparse accepts but the calendar code cannot hold: refused as an argument
        (["digest", "--date", "0001-01-01"], {}, f"«0001-01-01»: год вне 2000–2100; {YEARS_2000_2100}", 2),
        (["report", "--date", "0001-01-01"], {}, f"«0001-01-01»: год вне 2000–2100; {YEARS_2000_2100}", 2),
        (["report", "--month", "0000-01"], {}, "нет такого месяца: «0000-01»; нужен месяц ГГГГ-ММ, год с 2000 по 2100",
         2),
    ],
)  # fmt: skip
def test_errors_are_one_clear_line_never_a_traceback(
    tmp_path: Path, sqlite_template: Path, args: list[str], env: dict[str, str], message: str, status: int
) -> None:
    shutil.copy(sqlite_template, tmp_path / "k.db")  # a database, empty: the command's own error shows
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}", **env}
    result = kpibot(*args, cwd=tmp_path, env=env)
    assert result.returncode == status
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "none.db").exists()  # a command that reads finds no database: none is made


def test_a_database_password_never_reaches_the_terminal(tmp_path: Path) -> None:
    """The URL is named so the user sees which database failed, with its password masked."""
    env = {"DATABASE_URL": "postgresql+asyncpg://kpibot:s3cret-pw@127.0.0.1:1/none"}
    result = kpibot("employees", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "не открывается база данных (postgresql+asyncpg://kpibot:***@127.0.0.1:1/none)" in result.stderr
    assert "s3cret-pw" not in result.stderr


def test_output_cut_short_by_a_pipe_is_not_an_error(tmp_path: Path) -> None:
    """``kpibot digest | head -1``: the reader went away; the rest is dropped without a complaint."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"}
    assert kpibot("import", str(small_exports(tmp_path / "exports")), cwd=tmp_path, env=env).returncode == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write fails with EPIPE
    full_env = {k: val for k, val in os.environ.items() if not k.startswith(("DATABASE_URL", "KPI_", "BOT_"))}
    try:
        result = subprocess.run(
            [KPIBOT, "digest", "--date", "2019-02-25"],
            cwd=tmp_path,
            env={**full_env, **env},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 1
